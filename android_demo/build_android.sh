#!/usr/bin/env bash
# Cross-compile libmobilespeech for Android (arm64-v8a, API 26+) with the NDK against ExecuTorch
# 1.5.1 built from source, and stage what the Gradle project needs:
#
#   sdk/prebuilt/arm64-v8a/libmobilespeech.so   linked by sdk/src/main/cpp/CMakeLists.txt
#   app/src/main/assets/bundle/                 the model bundle (MS_BUNDLE, default models/demo)
#   build/android/mobilespeech_cli              the CLI, for adb push + on-device benchmarks
#
#   export ANDROID_NDK=$HOME/Android/Sdk/ndk/27.2.12479018    # NDK r27c (r27 or newer)
#   bash android_demo/build_android.sh
#   cd android_demo && ./gradlew :app:installDebug              # see README.md for the wrapper
#   (or ./gradlew :sdk:assembleRelease: the SDK alone, as an AAR with both .so files)
#
# ExecuTorch: EXECUTORCH_SRC=<checkout of v1.5.1 with submodules>, or the script clones it into
# build/android/executorch. Prebuilt alternative: ExecuTorch publishes an Android AAR
# (org.pytorch:executorch-android) whose libexecutorch.so is its Java/JNI library; it does not
# ship the C++ headers and static libraries this C ABI links, so this script builds from source.
#
# Needs Linux or macOS, CMake >= 3.28 (pip install 'cmake>=3.28'), Ninja or make, git, python3
# (ExecuTorch generates kernel registration code at configure time; pip install pyyaml if asked).
# NOT run in this repository's CI: no NDK there (see README.md, "What was verified").
#
# The same CMake project and toolchain-file pattern as the ARM64 Linux build that CI does run
# (scripts/build_native.sh --arch aarch64, mobilespeech_runtime/native/cmake/aarch64-linux-gnu.cmake):
# a toolchain file for the target, and the target's ExecuTorch given as both CMAKE_PREFIX_PATH
# and CMAKE_FIND_ROOT_PATH. What differs: bionic + libc++ (c++_shared) instead of glibc +
# libstdc++, and ExecuTorch built from source as static libraries instead of the PyPI wheel's
# shared ones (mobilespeech_runtime/native/README.md has the table).
#
# Environment: ANDROID_NDK (or ANDROID_NDK_HOME), EXECUTORCH_SRC, EXECUTORCH_TAG (v1.5.1),
# ANDROID_ABI (arm64-v8a), ANDROID_PLATFORM (android-26), MS_BUNDLE, JOBS.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
OUT="$ROOT/build/android"
NDK="${ANDROID_NDK:-${ANDROID_NDK_HOME:-}}"
ABI="${ANDROID_ABI:-arm64-v8a}"
PLATFORM="${ANDROID_PLATFORM:-android-26}"
ET_TAG="${EXECUTORCH_TAG:-v1.5.1}"
ET="${EXECUTORCH_SRC:-$OUT/executorch}"
BUNDLE="${MS_BUNDLE:-$ROOT/models/demo}"
JOBS="${JOBS:-$(nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 4)}"

die() { echo "error: $*" >&2; exit 1; }
[[ -n "$NDK" && -f "$NDK/build/cmake/android.toolchain.cmake" ]] \
  || die "set ANDROID_NDK to an NDK r27+ folder (Android Studio: SDK Manager > SDK Tools > NDK)"
NDK_REV="$(sed -n 's/^Pkg.Revision *= *\([0-9]*\).*/\1/p' "$NDK/source.properties" 2>/dev/null || true)"
[[ -z "$NDK_REV" || "$NDK_REV" -ge 27 ]] || die "NDK r$NDK_REV is too old: r27 or newer is needed"
CMAKE="${CMAKE:-$(command -v cmake || true)}"
[[ -n "$CMAKE" ]] || die "cmake not found (pip install 'cmake>=3.28')"
command -v git >/dev/null || die "git not found"
GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)

TOOLCHAIN=(
  -DCMAKE_TOOLCHAIN_FILE="$NDK/build/cmake/android.toolchain.cmake"
  -DANDROID_ABI="$ABI" -DANDROID_PLATFORM="$PLATFORM" -DANDROID_STL=c++_shared
  # 16 KB pages (Android 15+; Google Play requires it for new apps). NDK r28+ does it by default.
  -DANDROID_SUPPORT_FLEXIBLE_PAGE_SIZES=ON
  -DCMAKE_SHARED_LINKER_FLAGS="-Wl,-z,max-page-size=16384"
  -DCMAKE_BUILD_TYPE=Release
)

mkdir -p "$OUT"
if [[ ! -f "$ET/CMakeLists.txt" ]]; then
  echo "== cloning ExecuTorch $ET_TAG into $ET"
  git clone --branch "$ET_TAG" --depth 1 https://github.com/pytorch/executorch.git "$ET"
  git -C "$ET" submodule update --init --recursive --depth 1
fi

# ---- 1. ExecuTorch, static libraries, installed into $OUT/et-$ABI/install -------------------
# The components libmobilespeech links (mobilespeech_runtime/native/CMakeLists.txt): Module /
# tensor / data loader / flat tensor extensions, XNNPACK, optimized + quantized kernels,
# threadpool. The Java/JNI layer, LLM and devtools parts of ExecuTorch's Android preset are off.
ET_BUILD="$OUT/et-$ABI"
ET_INSTALL="$ET_BUILD/install"
echo "== ExecuTorch ($ET_TAG) for $ABI"
"$CMAKE" -S "$ET" -B "$ET_BUILD" "${GEN[@]}" "${TOOLCHAIN[@]}" \
  -DCMAKE_INSTALL_PREFIX="$ET_INSTALL" \
  -DEXECUTORCH_PAL_DEFAULT=android \
  -DEXECUTORCH_BUILD_XNNPACK=ON \
  -DEXECUTORCH_BUILD_KERNELS_OPTIMIZED=ON \
  -DEXECUTORCH_BUILD_KERNELS_QUANTIZED=ON \
  -DEXECUTORCH_BUILD_EXTENSION_MODULE=ON \
  -DEXECUTORCH_BUILD_EXTENSION_DATA_LOADER=ON \
  -DEXECUTORCH_BUILD_EXTENSION_FLAT_TENSOR=ON \
  -DEXECUTORCH_BUILD_EXTENSION_NAMED_DATA_MAP=ON \
  -DEXECUTORCH_BUILD_EXTENSION_TENSOR=ON \
  -DEXECUTORCH_BUILD_PTHREADPOOL=ON \
  -DEXECUTORCH_BUILD_CPUINFO=ON \
  -DEXECUTORCH_BUILD_ANDROID_JNI=OFF \
  -DEXECUTORCH_BUILD_EXTENSION_LLM=OFF \
  -DEXECUTORCH_BUILD_EXTENSION_LLM_RUNNER=OFF \
  -DEXECUTORCH_BUILD_EXTENSION_TRAINING=OFF \
  -DEXECUTORCH_BUILD_KERNELS_LLM=OFF \
  -DEXECUTORCH_BUILD_DEVTOOLS=OFF \
  -DEXECUTORCH_BUILD_EXECUTOR_RUNNER=OFF \
  -DEXECUTORCH_BUILD_TESTS=OFF \
  -DEXECUTORCH_ENABLE_LOGGING=ON \
  -DEXECUTORCH_LOG_LEVEL=Info \
  -DBUILD_TESTING=OFF
"$CMAKE" --build "$ET_BUILD" -j "$JOBS" --target install

# ---- 2. libmobilespeech + mobilespeech_cli ---------------------------------------------------
# (the pattern of scripts/build_native.sh --arch aarch64: toolchain file + ExecuTorch as prefix
# path and find root)
MS_BUILD="$OUT/ms-$ABI"
echo "== libmobilespeech for $ABI"
"$CMAKE" -S "$ROOT/mobilespeech_runtime/native" -B "$MS_BUILD" "${GEN[@]}" "${TOOLCHAIN[@]}" \
  -DCMAKE_PREFIX_PATH="$ET_INSTALL" -DCMAKE_FIND_ROOT_PATH="$ET_INSTALL" \
  -DMS_BUILD_SHARED=ON -DMS_BUILD_CLI=ON -DMS_BUILD_TESTS=OFF
"$CMAKE" --build "$MS_BUILD" -j "$JOBS"

# ---- 3. stage for Gradle ---------------------------------------------------------------------
PREBUILT="$HERE/sdk/prebuilt/$ABI"
mkdir -p "$PREBUILT"
# The soname is libmobilespeech.so.0 on Linux builds; Android's loader wants the plain name.
SO="$(find "$MS_BUILD" -maxdepth 1 -name 'libmobilespeech.so*' -type f | head -n 1)"
[[ -n "$SO" ]] || die "libmobilespeech.so was not built"
STRIP="$(ls "$NDK"/toolchains/llvm/prebuilt/*/bin/llvm-strip | head -n 1)"
cp "$SO" "$PREBUILT/libmobilespeech.so"
"$STRIP" --strip-unneeded "$PREBUILT/libmobilespeech.so"
READELF="$(ls "$NDK"/toolchains/llvm/prebuilt/*/bin/llvm-readelf | head -n 1)"
SONAME="$("$READELF" -d "$PREBUILT/libmobilespeech.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
[[ "$SONAME" == "libmobilespeech.so" ]] || echo "warning: SONAME is '$SONAME', not libmobilespeech.so:" \
  "the app's loader looks the dependency up by SONAME (see README.md, known issues)" >&2
cp "$MS_BUILD/mobilespeech_cli" "$OUT/mobilespeech_cli" 2>/dev/null || true

if [[ -f "$BUNDLE/manifest.json" ]]; then
  rm -rf "$HERE/app/src/main/assets/bundle"
  mkdir -p "$HERE/app/src/main/assets/bundle"
  cp "$BUNDLE"/* "$HERE/app/src/main/assets/bundle/"
  echo "bundle: $BUNDLE -> app/src/main/assets/bundle"
else
  echo "note: no bundle at $BUNDLE (set MS_BUNDLE); the app then looks for one pushed with adb"
fi
echo "built: $PREBUILT/libmobilespeech.so"
echo "next:  cd android_demo && ./gradlew :app:installDebug"
