"""Move SMD training to a lent GPU and back within the device's transfer limits.

A lent GPU machine takes at most 64 MiB of working tree and returns at most 16 MiB per file,
while a prepared corpus holds every utterance's mel (only ``align`` reads it) and a model
checkpoint is 46 MB for the demo (15 MB of it the frozen codec, which ``prepared.pt`` already
holds). So what travels is:

- ``prepared.pt`` without the mels (phonemes, durations, codec tokens, the codec once);
- the *TTS weights*: every trained tensor except the codec's, in float16 (the demo's: 15.5 MB),
  as the warm start there and as the result back.

    # here: tokenize + align as usual, then pack the run (and the model to start from)
    python -m training.gpu_pack pack --prepared runs/ft/prepared.pt --init runs/demo.pt \
        --to .cache/gpu_tts
    # there (training/gpu_train_tts.sh): train --init .cache/gpu_tts/init_tts.pt, then
    python -m training.gpu_pack weights --model .cache/gpu_tts/model.pt --to $OUT/tts_weights.pt
    # back here: a full checkpoint for export, or for more CPU training (train --init)
    python -m training.gpu_pack unpack --prepared runs/ft/prepared.pt \
        --weights tts_weights.pt --to runs/ft/gpu_model.pt

Float16 rounds the weights (relative error ~5e-4); the optimizer state does not travel, so a
continued run restarts Adam's moments (its warm-up covers that).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch

from mobilespeech_model.config import MobileSpeechConfig
from mobilespeech_model.nn import MobileSpeech
from mobilespeech_runtime.errors import MobileSpeechError

from .common import load_state, save_state

WEIGHTS_FORMAT = "mobilespeech-tts-weights-1"
DEVICE_LIMIT_MIB = 64.0  # the working tree that travels to the device
RETURN_LIMIT_MIB = 16.0  # one file back from $OUT
PREPARED_NAME, INIT_NAME = "prepared.pt", "init_tts.pt"


def _mib(path: Path) -> float:
    return path.stat().st_size / 2**20


def tts_weights(model: MobileSpeech) -> dict[str, Any]:
    """The model's trained tensors (all but the codec's), floats in float16."""
    sd = {
        k: (v.half() if v.is_floating_point() else v).clone()
        for k, v in model.state_dict().items()
        if not k.startswith("codec.")
    }
    return {"format": WEIGHTS_FORMAT, "config": model.cfg.to_dict(), "state_dict": sd}


def is_tts_weights(path: Path) -> bool:
    state = load_state(path)
    return isinstance(state, dict) and state.get("format") == WEIGHTS_FORMAT


def load_tts_weights(model: MobileSpeech, path: Path) -> None:
    """Put TTS weights into ``model`` (whose codec comes from the prepared corpus)."""
    state = load_state(path)
    if not isinstance(state, dict) or state.get("format") != WEIGHTS_FORMAT:
        raise MobileSpeechError(f"{path} is not a TTS weights file ({WEIGHTS_FORMAT})")
    if MobileSpeechConfig.from_dict(state["config"]).model != model.cfg.model:
        raise MobileSpeechError(f"{path}: its model config differs from the prepared corpus's")
    mine = model.state_dict()
    want = {k for k in mine if not k.startswith("codec.")}
    got = set(state["state_dict"])
    if got != want:
        raise MobileSpeechError(
            f"{path}: tensors differ from the model's ({len(want - got)} missing, "
            f"{len(got - want)} unexpected)"
        )
    model.load_state_dict(
        {**mine, **{k: v.to(mine[k].dtype) for k, v in state["state_dict"].items()}}
    )


def pack(prepared: Path, to: Path, init: Path | None = None) -> dict[str, float]:
    """Write ``to/prepared.pt`` (no mels) and, from ``init``, ``to/init_tts.pt``; refuse a
    pack that would not travel."""
    data = load_state(prepared)
    if data is None:
        raise MobileSpeechError(f"{prepared} not found: run train_tts prepare and align first")
    if not data["items"] or "durations" not in data["items"][0]:
        raise MobileSpeechError(f"{prepared} has no durations: run train_tts align first")
    slim = {**data, "items": [{k: v for k, v in it.items() if k != "mel"} for it in data["items"]]}
    to.mkdir(parents=True, exist_ok=True)
    save_state(to / PREPARED_NAME, slim)
    sizes = {PREPARED_NAME: _mib(to / PREPARED_NAME)}
    if init is not None:
        model, _ = MobileSpeech.load(init)
        cfg = MobileSpeechConfig.from_dict(data["config"])
        if model.cfg.model != cfg.model:
            raise MobileSpeechError(f"{init}: its model config differs from {prepared}'s")
        codec = model.codec.state_dict()
        if any(not torch.equal(codec[k], v) for k, v in data["codec"].items()):
            raise MobileSpeechError(
                f"{init}: its codec is not the one {prepared} was tokenized with"
            )
        save_state(to / INIT_NAME, tts_weights(model))
        sizes[INIT_NAME] = _mib(to / INIT_NAME)
    total = sum(sizes.values())
    if total > DEVICE_LIMIT_MIB - 1:
        raise MobileSpeechError(
            f"the pack is {total:.1f} MiB, over the device's {DEVICE_LIMIT_MIB:.0f} MiB (with "
            f"the repo): prepare fewer utterances (e.g. train --max-per-speaker's subset)"
        )
    return sizes


def export_weights(model_path: Path, to: Path) -> float:
    """A trained checkpoint's TTS weights, small enough to come back from the device."""
    model, _ = MobileSpeech.load(model_path)
    save_state(to, tts_weights(model))
    size = _mib(to)
    if size > RETURN_LIMIT_MIB:
        raise MobileSpeechError(f"{to} is {size:.1f} MiB, over the {RETURN_LIMIT_MIB:.0f} MiB "
                                f"a file may have to come back from the device")
    return size


def unpack(prepared: Path, weights: Path, to: Path) -> None:
    """A full model checkpoint: the prepared corpus's config and codec + the TTS weights."""
    data = load_state(prepared)
    if data is None:
        raise MobileSpeechError(f"{prepared} not found")
    model = MobileSpeech(MobileSpeechConfig.from_dict(data["config"]))
    model.codec.load_state_dict(data["codec"])
    load_tts_weights(model, weights)
    model.eval()
    model.save(to, extra={"symbols": data["symbols"], "from": str(weights)})


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack", help="a prepared corpus (+ warm start) that travels")
    p.add_argument("--prepared", type=Path, required=True)
    p.add_argument("--to", type=Path, required=True)
    p.add_argument("--init", type=Path, help="model checkpoint to warm-start from")
    w = sub.add_parser("weights", help="a checkpoint's TTS weights, to bring back")
    w.add_argument("--model", type=Path, required=True)
    w.add_argument("--to", type=Path, required=True)
    u = sub.add_parser("unpack", help="TTS weights + a prepared corpus's codec -> checkpoint")
    u.add_argument("--prepared", type=Path, required=True)
    u.add_argument("--weights", type=Path, required=True)
    u.add_argument("--to", type=Path, required=True)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "pack":
            sizes = pack(args.prepared, args.to, args.init)
            print(", ".join(f"{k} {v:.1f} MiB" for k, v in sizes.items()) + f" in {args.to}")
        elif args.cmd == "weights":
            print(f"{args.to}: {export_weights(args.model, args.to):.1f} MiB")
        else:
            unpack(args.prepared, args.weights, args.to)
            print(f"wrote {args.to}")
    except MobileSpeechError as e:
        raise SystemExit(f"error: {e}") from e


if __name__ == "__main__":
    main()
