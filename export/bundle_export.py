"""Checkpoint (or config + random init) -> bundle folder: .pte programs, manifest, assets, parity.

python -m export --checkpoint runs/tts/model.pt --prompt voice.wav --out models/demo --variant 8da4w
python -m export --checkpoint runs/tts/model.pt --prompt voice.wav --out dist/ --variant all
python -m export --preset tiny --random-init --prompt voice.wav --out /tmp/tiny --variant fp32
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from mobilespeech_model.audio import load_prompt, write_wav
from mobilespeech_model.bundle import FORMAT, MANIFEST, SCHEMA_VERSION, Bundle, sha256_file
from mobilespeech_model.config import preset
from mobilespeech_model.executorch_backend import ExecuTorchBackend
from mobilespeech_model.frontend import DEFAULT_SYMBOLS, SymbolTable
from mobilespeech_model.nn import MobileSpeech, prepare_for_export
from mobilespeech_model.nn.text import half_token_tables
from mobilespeech_runtime.errors import MobileSpeechError

from . import parity
from .frontend_assets import write_frontend_assets
from .lower import VARIANTS, LoweredProgram, lower_program
from .programs import constant_metadata, io_spec, program_specs
from .vocoder import BUILT_FROM_TEACHER, VOCODER_FILE

DEFAULT_CACHE = Path(".cache") / "export"


def code_digest() -> str:
    """Hash of the model and export sources: a code change invalidates cached programs."""
    import mobilespeech_model

    pkg = Path(mobilespeech_model.__file__).parent
    here = Path(__file__).parent
    files = [*sorted((pkg / "nn").glob("*.py")), pkg / "config.py", pkg / "schedule.py",
             here / "programs.py", here / "lower.py"]
    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def model_digest(model: MobileSpeech) -> str:
    """Content hash of config + weights: the export cache key (with variant and code version)."""
    h = hashlib.sha256(json.dumps(model.cfg.to_dict(), sort_keys=True).encode())
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def load_model(
    checkpoint: Path | None, preset_name: str | None, seed: int, vocoder: str | None = None
) -> tuple[MobileSpeech, SymbolTable]:
    """The model to export; ``vocoder`` ("hifigan" or a student checkpoint path) replaces the
    mel codec's vocoder."""
    if checkpoint:
        model, extra = MobileSpeech.load(checkpoint)
        symbols = SymbolTable.from_list(extra["symbols"]) if "symbols" in extra else DEFAULT_SYMBOLS
    elif not preset_name:
        raise MobileSpeechError("give --checkpoint, or --preset with --random-init")
    else:
        torch.manual_seed(seed)
        model, symbols = MobileSpeech(preset(preset_name)).eval(), DEFAULT_SYMBOLS
    if vocoder:
        if model.cfg.codec.kind != "mel":
            raise MobileSpeechError("--vocoder applies to the mel codec only")
        if vocoder == "hifigan":
            model.codec.use_vocoder(None)
        else:
            from mobilespeech_model.nn.hifigan import load_student

            model.codec.use_vocoder(load_student(Path(vocoder)))
    return model, symbols


def export_bundle(
    model: MobileSpeech,
    symbols: SymbolTable,
    out: Path,
    variant: str,
    prompt_wav: Path,
    cache_dir: Path | None = DEFAULT_CACHE,
    include_checkpoint: bool = False,
    run_parity: bool = True,
    name: str | None = None,
) -> dict[str, Any]:
    """Write one variant's bundle into ``out`` and return its manifest."""
    t_start = time.time()
    cfg = model.cfg
    out.mkdir(parents=True, exist_ok=True)
    export_model = MobileSpeech(cfg)  # a fresh copy: deepcopy breaks on weight-normed convs
    export_model.load_state_dict(model.state_dict())
    export_model = prepare_for_export(export_model.eval())
    if variant != "fp32":  # quantized variants: token tables in fp16 (TokenSumEmbedding)
        half_token_tables(export_model)
    digest = model_digest(model)
    code = code_digest()
    constants = constant_metadata(cfg, SCHEMA_VERSION)
    programs: dict[str, Any] = {}
    specs = program_specs(export_model)
    for spec in tqdm(specs, desc=f"export {variant}", unit="program"):
        cached = None
        if cache_dir is not None:
            cached = Path(cache_dir) / f"{digest[:16]}-{variant}-{code}" / spec.file
        t0 = time.time()
        if cached is not None and cached.is_file() and cached.with_suffix(".json").is_file():
            shutil.copyfile(cached, out / spec.file)
            stats = json.loads(cached.with_suffix(".json").read_text())
            stats["cached"] = True
        else:
            lowered: LoweredProgram = lower_program(spec, variant, constants)
            (out / spec.file).write_bytes(lowered.buffer)
            stats = {
                "delegated_calls": lowered.delegated,
                "portable_ops": lowered.portable_total,
                "portable_op_counts": lowered.portable,
                "non_trivial_portable": lowered.non_trivial(),
                "lower_seconds": round(time.time() - t0, 1),
                "cached": False,
            }
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(out / spec.file, cached)
                cached.with_suffix(".json").write_text(json.dumps(stats))
        params = sum(p.numel() for m in spec.methods for p in m.module.parameters())
        programs[spec.file] = {
            "methods": {
                m.name: {
                    "inputs": io_spec(m.input_names, m.inputs, m.dynamic),
                    "outputs": list(m.output_names),
                    "quantized": m.quantize and variant != "fp32",
                }
                for m in spec.methods
            },
            "dims": {k: list(v) for k, v in spec.dims.items()},
            "parameters": params,
            "bytes": (out / spec.file).stat().st_size,
            **stats,
        }
        tqdm.write(
            f"  {spec.file}: {programs[spec.file]['bytes'] / 1e6:.2f} MB, {params:,} params, "
            f"{stats['delegated_calls']} XNNPACK calls, {stats['portable_ops']} portable ops"
            f"{' (cached)' if stats['cached'] else ''}"
        )

    prompt = load_prompt(prompt_wav, cfg.codec.sample_rate, cfg.audio)
    write_wav(out / "default_prompt.wav", prompt.samples, cfg.codec.sample_rate)
    extra_files = ["default_prompt.wav"]
    # On-device text frontend assets (lexicon, g2p-en's OOV model as g2p.pte, text folding)
    frontend = write_frontend_assets(out, symbols)
    extra_files += list(frontend["files"])
    if include_checkpoint:
        model.save(out / "model.pt", extra={"symbols": symbols.to_list()})
        extra_files.append("model.pt")

    from importlib.metadata import version

    manifest: dict[str, Any] = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "name": name or f"{cfg.name}-{variant}",
        "variant": variant,
        "model_digest": digest,
        "config": cfg.to_dict(),
        "symbols": symbols.to_list(),
        "constants": constants,
        "programs": programs,
        "default_prompt": "default_prompt.wav",
        "frontend": frontend,
        "checkpoint": "model.pt" if include_checkpoint else None,
        "limits": {
            "max_chars": cfg.frontend.max_chars,
            "max_phonemes": cfg.model.max_phonemes,
            "max_frames": cfg.model.max_frames,
            "max_prompt_frames": cfg.model.max_prompt_frames,
            "min_prompt_seconds": cfg.audio.min_prompt_seconds,
            "max_prompt_seconds": cfg.audio.max_prompt_seconds,
        },
        "versions": {
            "torch": torch.__version__,
            "executorch": version("executorch"),
            "python": platform.python_version(),
        },
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    _write_manifest(out, manifest, list(programs) + extra_files)
    if run_parity:
        bundle = Bundle.open(out)
        backend = ExecuTorchBackend(bundle)
        report = {
            "variant": variant,
            "mel_codec": cfg.codec.kind == "mel",
            "methods": parity.method_parity(export_model, backend),
            "pipeline": parity.pipeline_parity(
                model, bundle, backend, prompt.samples, prompt.sample_rate
            ),
        }
        if cfg.codec.kind == "mel" and cfg.codec.vocoder.kind == "vocos":
            from .vocoder import bundle_mels, vocoder_parity

            report["vocoder"] = vocoder_parity(
                export_model.codec.vocoder, out / VOCODER_FILE, bundle_mels(out)
            )
        report["failures"] = parity.check(variant, report)
        (out / "parity.json").write_text(json.dumps(report, indent=1))
        manifest["parity"] = {
            "failures": report["failures"],
            "layer1_token_agreement": report["pipeline"]["layer_token_agreement"][0],
            "decoder_snr_db": report["pipeline"]["decoder_snr_db_same_tokens"],
        }
        _write_manifest(out, manifest, list(programs) + extra_files + ["parity.json"])
    manifest["export_seconds"] = round(time.time() - t_start, 1)
    return manifest


def _write_manifest(out: Path, manifest: dict[str, Any], files: list[str]) -> None:
    manifest["files"] = {
        f: {"bytes": (out / f).stat().st_size, "sha256": sha256_file(out / f)} for f in files
    }
    codec = manifest["config"]["codec"]
    if VOCODER_FILE in manifest["files"] and codec["vocoder"]["kind"] == "hifigan":
        # a pure function of the pinned wheel: python -m export.vocoder can rebuild it
        manifest["files"][VOCODER_FILE]["built_from"] = BUILT_FROM_TEACHER
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, default=_json_default))
    tmp.replace(out / MANIFEST)


def _json_default(o: Any) -> Any:
    if isinstance(o, float | np.floating):
        return float(o)
    return str(o)


def add_model_source_args(ap: argparse.ArgumentParser) -> None:
    """Where the model comes from and where the bundle goes (shared with export.release)."""
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", type=Path)
    src.add_argument("--preset", choices=["tiny", "tiny-mel", "small", "base"])
    ap.add_argument("--random-init", action="store_true", help="with --preset: untrained weights")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--prompt", type=Path, required=True, help="default prompt voice (wav)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument(
        "--vocoder",
        help="mel codec only: 'hifigan' (the pinned teacher) or a student checkpoint path "
        "(training.distill_vocoder); default: the checkpoint's own",
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_source_args(ap)
    ap.add_argument("--variant", default="8da4w", choices=[*VARIANTS, "all"])
    ap.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument(
        "--include-checkpoint",
        action="store_true",
        help="also copy the PyTorch checkpoint (enables the eager backend on a bundle)",
    )
    ap.add_argument("--no-parity", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    if args.preset and not args.random_init:
        ap.error("--preset needs --random-init (an untrained model); use --checkpoint otherwise")
    torch.set_num_threads(args.threads)
    try:
        model, symbols = load_model(args.checkpoint, args.preset, args.seed, args.vocoder)
        variants = VARIANTS if args.variant == "all" else (args.variant,)
        failed = False
        for v in variants:
            out = args.out / v if args.variant == "all" else args.out
            m = export_bundle(
                model,
                symbols,
                out,
                v,
                args.prompt,
                None if args.no_cache else args.cache_dir,
                args.include_checkpoint,
                not args.no_parity,
            )
            size = sum(p["bytes"] for p in m["programs"].values())
            print(f"{out}: {v}, {size / 1e6:.2f} MB of programs, {m['export_seconds']} s")
            if m.get("parity", {}).get("failures"):
                failed = True
                print(f"PARITY FAILED for {v}: {m['parity']['failures']}", file=sys.stderr)
        return 1 if failed else 0
    except MobileSpeechError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
