// ExecuTorch's process-wide CPU thread pool (used by XNNPACK and the optimized kernels).
// The executorch 1.5.1 wheel ships libexecutorch_threadpool.so but not its header; when the real
// header is available (a source build for Android/iOS) it is used, else these declarations,
// which match extension/threadpool/threadpool.h of executorch 1.5.1 (the symbols are checked at
// link time).
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__has_include)
#if __has_include(<executorch/extension/threadpool/threadpool.h>)
#include <executorch/extension/threadpool/threadpool.h>
#define MS_HAVE_ET_THREADPOOL_HEADER 1
#endif
#endif

#ifndef MS_HAVE_ET_THREADPOOL_HEADER
namespace executorch {
namespace extension {
namespace threadpool {
class ThreadPool {
 public:
  size_t get_thread_count() const;
  bool _unsafe_reset_threadpool(uint32_t num_threads);
};
ThreadPool* get_threadpool();
}  // namespace threadpool
}  // namespace extension
}  // namespace executorch
#endif
