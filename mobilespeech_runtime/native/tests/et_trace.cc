// Test-only LD_PRELOAD library: records every ExecuTorch program call that libmobilespeech makes
// (method name, input and output tensors) so that two runs -- the x86-64 build and the ARM64
// build under qemu -- can be compared call by call (tests/test_arm64.py). It changes nothing in
// the runtime: it interposes executorch::extension::Module::execute(name, inputs), the exported
// (and, being virtual, vtable-referenced by symbol) function of the wheel's libexecutorch.so,
// forwards to the real one and appends one record to $MS_TRACE_FILE.
//
//   MS_TRACE_FILE=calls.bin LD_PRELOAD=build/native/libmobilespeech_et_trace.so
//       build/native/mobilespeech_cli --bundle models/demo --text "Hi." --out hi.wav
//   qemu-aarch64-static -L /usr/aarch64-linux-gnu -E MS_TRACE_FILE=calls.bin
//       -E LD_PRELOAD=$PWD/build/native-aarch64/libmobilespeech_et_trace.so
//       build/native-aarch64/mobilespeech_cli ...     (each one command line)
//
// Record (little-endian): "MSTR", u32 name length, name bytes, u32 n_inputs, u32 n_outputs,
// u32 status (0 = ok, else the ExecuTorch error), then each value: u32 kind (0 tensor, 1 int,
// 2 double, 3 bool, 4 other); a tensor is i32 dtype (c10::ScalarType), u32 ndim, i64 sizes[ndim],
// u64 nbytes, data; an int is i64, a double f64, a bool u8.
//
// The replacement is a free function with the member function's symbol name (an asm label):
// with the Itanium C++ ABI, on x86-64 and AArch64 alike, a member function and a free function
// taking the object pointer first are called the same way (a returned class that is not trivially
// copyable goes through the hidden result pointer in both cases).

#include <dlfcn.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include <executorch/runtime/core/evalue.h>
#include <executorch/runtime/core/result.h>

namespace {

using executorch::runtime::EValue;
using ExecResult = executorch::runtime::Result<std::vector<EValue>>;
using RealFn = ExecResult (*)(void*, const std::string&, const std::vector<EValue>&);

constexpr const char kSymbol[] =
    "_ZN10executorch9extension6module6Module7executeERKNSt7__cxx1112basic_stringIcSt11char_"
    "traitsIcESaIcEEERKSt6vectorINS_7runtime6EValueESaISD_EE";

std::mutex g_mu;
FILE* g_out = nullptr;
bool g_opened = false;

void Put(const void* p, size_t n) {
  if (n && std::fwrite(p, 1, n, g_out) != n) {
    std::fprintf(stderr, "et_trace: write failed\n");
    std::abort();
  }
}
void PutU32(uint32_t v) { Put(&v, sizeof v); }

void PutValue(const EValue& v) {
  if (v.isTensor()) {
    const auto& t = v.toTensor();
    PutU32(0);
    int32_t dtype = static_cast<int32_t>(t.scalar_type());
    Put(&dtype, sizeof dtype);
    PutU32(static_cast<uint32_t>(t.dim()));
    for (ssize_t i = 0; i < t.dim(); ++i) {
      int64_t s = t.size(i);
      Put(&s, sizeof s);
    }
    uint64_t nbytes = t.nbytes();
    Put(&nbytes, sizeof nbytes);
    Put(t.const_data_ptr(), static_cast<size_t>(nbytes));
  } else if (v.isInt()) {
    PutU32(1);
    int64_t x = v.toInt();
    Put(&x, sizeof x);
  } else if (v.isDouble()) {
    PutU32(2);
    double x = v.toDouble();
    Put(&x, sizeof x);
  } else if (v.isBool()) {
    PutU32(3);
    uint8_t x = v.toBool() ? 1 : 0;
    Put(&x, sizeof x);
  } else {
    PutU32(4);
  }
}

}  // namespace

__attribute__((visibility("default"))) ExecResult ms_trace_execute(
    void* self, const std::string& method, const std::vector<EValue>& inputs) __asm__(
    "_ZN10executorch9extension6module6Module7executeERKNSt7__cxx1112basic_stringIcSt11char_"
    "traitsIcESaIcEEERKSt6vectorINS_7runtime6EValueESaISD_EE");

ExecResult ms_trace_execute(void* self, const std::string& method,
                            const std::vector<EValue>& inputs) {
  static RealFn real = reinterpret_cast<RealFn>(dlsym(RTLD_NEXT, kSymbol));
  if (!real) {
    std::fprintf(stderr, "et_trace: the real Module::execute was not found: %s\n", dlerror());
    std::abort();
  }
  ExecResult r = real(self, method, inputs);
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_opened) {
    g_opened = true;
    const char* path = std::getenv("MS_TRACE_FILE");
    if (path && *path) {
      g_out = std::fopen(path, "wb");
      if (!g_out) std::fprintf(stderr, "et_trace: cannot write %s\n", path);
    }
  }
  if (!g_out) return r;
  Put("MSTR", 4);
  PutU32(static_cast<uint32_t>(method.size()));
  Put(method.data(), method.size());
  PutU32(static_cast<uint32_t>(inputs.size()));
  PutU32(r.ok() ? static_cast<uint32_t>(r->size()) : 0u);
  PutU32(r.ok() ? 0u : static_cast<uint32_t>(r.error()));
  for (const EValue& v : inputs) PutValue(v);
  if (r.ok()) {
    for (const EValue& v : *r) PutValue(v);
  }
  std::fflush(g_out);
  return r;
}
