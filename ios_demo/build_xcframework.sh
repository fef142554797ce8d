#!/usr/bin/env bash
# Build MobileSpeech.xcframework for the iOS demo: libmobilespeech (the C ABI) plus the
# ExecuTorch 1.5.1 static libraries it needs, merged into one static library per platform
# (device arm64, simulator arm64 [+ x86_64]), with mobilespeech.h and the CMobileSpeech module map
# as its headers. Swift then does `import CMobileSpeech` (see MobileSpeechKit/MobileSpeech.swift).
#
#   bash ios_demo/build_xcframework.sh                      # clones ExecuTorch v1.5.1 if needed
#   EXECUTORCH_SRC=~/src/executorch bash ios_demo/build_xcframework.sh
#
# Needs macOS with Xcode 15+ (xcodebuild, libtool, lipo), CMake >= 3.28, git, python3 (ExecuTorch
# generates kernel registration code at configure time; `pip install pyyaml` if it asks).
# Output: ios_demo/build/MobileSpeech.xcframework (what project.yml links).
# NOT run in this repository's CI: there is no macOS / Xcode there (see README.md).
#
# Environment:
#   EXECUTORCH_SRC   an ExecuTorch checkout at v1.5.1 with submodules (default: clone into
#                    ios_demo/build/executorch)
#   EXECUTORCH_TAG   tag to clone (default v1.5.1: the bundles are exported with executorch 1.5.1
#                    and a .pte must be run by the runtime version that wrote it)
#   IOS_DEPLOYMENT   minimum iOS (default 17.0)
#   SIM_ARCHS        "arm64" (default), or "arm64 x86_64" to also run on Intel Macs' simulators
#   JOBS             parallel jobs (default: number of cores)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
OUT="$HERE/build"
ET_TAG="${EXECUTORCH_TAG:-v1.5.1}"
ET="${EXECUTORCH_SRC:-$OUT/executorch}"
DEPLOY="${IOS_DEPLOYMENT:-17.0}"
SIM_ARCHS="${SIM_ARCHS:-arm64}"
JOBS="${JOBS:-$(sysctl -n hw.ncpu 2>/dev/null || echo 4)}"

die() { echo "error: $*" >&2; exit 1; }
[[ "$(uname)" == "Darwin" ]] || die "this script needs macOS with Xcode (xcodebuild); see ios_demo/README.md"
command -v xcodebuild >/dev/null || die "xcodebuild not found: install Xcode 15+ and run xcode-select"
command -v cmake >/dev/null || die "cmake not found (brew install cmake, or pip install 'cmake>=3.28')"
command -v git >/dev/null || die "git not found"

mkdir -p "$OUT"
if [[ ! -f "$ET/CMakeLists.txt" ]]; then
  echo "== cloning ExecuTorch $ET_TAG into $ET"
  git clone --branch "$ET_TAG" --depth 1 https://github.com/pytorch/executorch.git "$ET"
  git -C "$ET" submodule update --init --recursive --depth 1
fi
TOOLCHAIN="$ET/third-party/ios-cmake/ios.toolchain.cmake"
[[ -f "$TOOLCHAIN" ]] || die "$TOOLCHAIN missing: run 'git submodule update --init --recursive' in $ET"

# ExecuTorch components libmobilespeech uses (mobilespeech_runtime/native/CMakeLists.txt): the
# Module / tensor / data loader / flat tensor extensions, XNNPACK, optimized + quantized kernels,
# the threadpool. No Core ML / MPS / LLM / ObjC parts.
ET_FLAGS=(
  -DCMAKE_BUILD_TYPE=Release
  -DEXECUTORCH_BUILD_XNNPACK=ON
  -DEXECUTORCH_BUILD_KERNELS_OPTIMIZED=ON
  -DEXECUTORCH_BUILD_KERNELS_QUANTIZED=ON
  -DEXECUTORCH_BUILD_EXTENSION_MODULE=ON
  -DEXECUTORCH_BUILD_EXTENSION_DATA_LOADER=ON
  -DEXECUTORCH_BUILD_EXTENSION_FLAT_TENSOR=ON
  -DEXECUTORCH_BUILD_EXTENSION_NAMED_DATA_MAP=ON
  -DEXECUTORCH_BUILD_EXTENSION_TENSOR=ON
  -DEXECUTORCH_BUILD_PTHREADPOOL=ON
  -DEXECUTORCH_BUILD_CPUINFO=ON
  -DEXECUTORCH_BUILD_COREML=OFF
  -DEXECUTORCH_BUILD_MPS=OFF
  -DEXECUTORCH_BUILD_EXTENSION_APPLE=OFF
  -DEXECUTORCH_BUILD_EXTENSION_LLM=OFF
  -DEXECUTORCH_BUILD_KERNELS_LLM=OFF
  -DEXECUTORCH_BUILD_DEVTOOLS=OFF
  -DEXECUTORCH_BUILD_EXECUTOR_RUNNER=OFF
  -DEXECUTORCH_BUILD_TESTS=OFF
  -DEXECUTORCH_ENABLE_LOGGING=OFF
  -DBUILD_TESTING=OFF
)

# build_platform NAME PLATFORM ARCHS  ->  $OUT/NAME/libmobilespeech_all.a
build_platform() {
  local name="$1" platform="$2" archs="$3"
  local et_build="$OUT/et-$name" et_install="$OUT/et-$name/install" ms_build="$OUT/ms-$name"
  echo "== ExecuTorch for $name ($platform, $archs)"
  cmake -S "$ET" -B "$et_build" \
    -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" -DPLATFORM="$platform" -DDEPLOYMENT_TARGET="$DEPLOY" \
    -DARCHS="$archs" -DENABLE_BITCODE=OFF -DENABLE_ARC=OFF \
    -DCMAKE_INSTALL_PREFIX="$et_install" "${ET_FLAGS[@]}"
  cmake --build "$et_build" -j "$JOBS" --target install --config Release

  echo "== libmobilespeech for $name"
  cmake -S "$ROOT/mobilespeech_runtime/native" -B "$ms_build" \
    -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" -DPLATFORM="$platform" -DDEPLOYMENT_TARGET="$DEPLOY" \
    -DARCHS="$archs" -DENABLE_BITCODE=OFF \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$et_install" \
    -DCMAKE_FIND_ROOT_PATH="$et_install" \
    -DMS_BUILD_SHARED=OFF -DMS_BUILD_CLI=OFF -DMS_BUILD_TESTS=OFF
  cmake --build "$ms_build" -j "$JOBS" --config Release

  # One static library: libmobilespeech + its helper archives + every ExecuTorch archive
  # installed (kernels and backends register themselves from static initializers: the app links
  # with -all_load, see project.yml).
  mkdir -p "$OUT/$name"
  local libs=()
  while IFS= read -r f; do libs+=("$f"); done < <(find "$ms_build" -name '*.a' | sort)
  while IFS= read -r f; do libs+=("$f"); done < <(find "$et_install/lib" -name '*.a' | sort)
  [[ ${#libs[@]} -gt 0 ]] || die "no static libraries found for $name"
  libtool -static -no_warning_for_no_symbols -o "$OUT/$name/libmobilespeech_all.a" "${libs[@]}"
}

rm -rf "$OUT/ios-device" "$OUT/ios-simulator" "$OUT/MobileSpeech.xcframework" "$OUT/headers"
build_platform ios-device OS64 arm64
sim_libs=()
for arch in $SIM_ARCHS; do
  case "$arch" in
    arm64) build_platform ios-sim-arm64 SIMULATORARM64 arm64 ;;
    x86_64) build_platform ios-sim-x86_64 SIMULATOR64 x86_64 ;;
    *) die "unknown simulator arch $arch (arm64, x86_64)" ;;
  esac
  sim_libs+=("$OUT/ios-sim-$arch/libmobilespeech_all.a")
done
mkdir -p "$OUT/ios-simulator"
lipo -create "${sim_libs[@]}" -output "$OUT/ios-simulator/libmobilespeech_all.a"

mkdir -p "$OUT/headers"
cp "$ROOT/mobilespeech_runtime/native/include/mobilespeech.h" "$OUT/headers/"
cp "$HERE/CMobileSpeech/module.modulemap" "$OUT/headers/"

xcodebuild -create-xcframework \
  -library "$OUT/ios-device/libmobilespeech_all.a" -headers "$OUT/headers" \
  -library "$OUT/ios-simulator/libmobilespeech_all.a" -headers "$OUT/headers" \
  -output "$OUT/MobileSpeech.xcframework"
echo "built: $OUT/MobileSpeech.xcframework"
echo "next:  copy a bundle to ios_demo/Resources/bundle, then 'cd ios_demo && xcodegen generate'"
