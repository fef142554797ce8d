# CMake toolchain file: ARM64 (aarch64) Linux with glibc, Debian's cross compiler.
#
#   apt-get install g++-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static
#   cmake -S mobilespeech_runtime/native -B build/native-aarch64 \
#     -DCMAKE_TOOLCHAIN_FILE=mobilespeech_runtime/native/cmake/aarch64-linux-gnu.cmake \
#     -DCMAKE_PREFIX_PATH=<aarch64 executorch>  -DCMAKE_FIND_ROOT_PATH=<aarch64 executorch>
#
# scripts/build_native.sh --arch aarch64 does exactly this, with the executorch==1.5.1
# manylinux_2_28_aarch64 wheel unpacked under .cache/aarch64/ as <aarch64 executorch>.
#
# The same pattern as the Android build (android_demo/build_android.sh): a toolchain file picks
# the compiler and the target's system root, and the ExecuTorch package for the target is both
# the prefix path and a find root, so nothing of the host's (x86) ExecuTorch can be picked up.
#
# Variables (cache or environment): MS_CROSS_TRIPLE (aarch64-linux-gnu), MS_CROSS_SYSROOT
# (/usr/<triple>, Debian's multiarch-less cross root, the folder qemu-aarch64 -L takes).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

if(NOT MS_CROSS_TRIPLE)
  if(DEFINED ENV{MS_CROSS_TRIPLE})
    set(MS_CROSS_TRIPLE "$ENV{MS_CROSS_TRIPLE}")
  else()
    set(MS_CROSS_TRIPLE aarch64-linux-gnu)
  endif()
endif()
if(NOT MS_CROSS_SYSROOT)
  if(DEFINED ENV{MS_CROSS_SYSROOT})
    set(MS_CROSS_SYSROOT "$ENV{MS_CROSS_SYSROOT}")
  else()
    set(MS_CROSS_SYSROOT /usr/${MS_CROSS_TRIPLE})
  endif()
endif()
# try_compile projects re-read this file: hand them the same choices.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES MS_CROSS_TRIPLE MS_CROSS_SYSROOT)

find_program(_ms_cross_cc ${MS_CROSS_TRIPLE}-gcc)
find_program(_ms_cross_cxx ${MS_CROSS_TRIPLE}-g++)
if(NOT _ms_cross_cc OR NOT _ms_cross_cxx)
  message(FATAL_ERROR "${MS_CROSS_TRIPLE}-gcc / -g++ not found: "
                      "apt-get install g++-${MS_CROSS_TRIPLE} libc6-dev-arm64-cross")
endif()
set(CMAKE_C_COMPILER ${_ms_cross_cc})
set(CMAKE_CXX_COMPILER ${_ms_cross_cxx})

# Debian's cross toolchain finds its own headers and libraries (no --sysroot needed); the root is
# for find_* and for the loader under qemu.
list(APPEND CMAKE_FIND_ROOT_PATH ${MS_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Run target programs (try_run, ctest) under user-mode emulation when it is installed.
find_program(_ms_qemu NAMES qemu-aarch64-static qemu-aarch64)
if(_ms_qemu)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${_ms_qemu} -L ${MS_CROSS_SYSROOT})
endif()
