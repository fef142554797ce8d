"""torch.export -> (torchao quantization) -> XNNPACK lowering -> .pte, with op accounting."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .programs import MethodSpec, ProgramSpec

VARIANTS = ("fp32", "8da8w", "8da4w")
# Ops that may stay outside XNNPACK: gathers, index bookkeeping, the sampling glue (argmax,
# topk-as-sort, scatter/where) and shape ops. Anything else left portable is a regression.
TRIVIAL_PORTABLE = {
    "getitem",
    "aten.embedding.default",
    "aten.gather.default",
    "aten.index_select.default",
    "aten.argmax.default",
    "aten.topk.default",
    "aten.scatter.src",
    "aten.where.self",
    "aten.full_like.default",
    "aten.eq.Scalar",
    "aten.eq.Tensor",
    "aten.lt.Tensor",
    "aten.cumsum.default",
    "aten.arange.start_step",
    "aten.sym_size.int",
    "sym_size.int",
    "aten.unsqueeze_copy.default",
    "aten.squeeze_copy.dims",
    "aten.view_copy.default",
    "aten.expand_copy.default",
    "aten.select_copy.int",
    "aten.slice_copy.Tensor",
    "aten.split_with_sizes_copy.default",
    "dim_order_ops._to_dim_order_copy.default",
    "aten._log_softmax.default",
    "aten.add.Tensor",
    "aten.sub.Tensor",
    "aten.mul.Tensor",
    "aten.sum.dim_IntList",
    "aten.round.default",
    "aten.clamp.default",
    "aten.exp.default",
    "aten.log.default",
    "aten.neg.default",
    "aten.sin.default",
    "aten.cos.default",
    "aten.permute_copy.default",
    "aten.cat.default",
    "aten.repeat_interleave.self_int",
}


@dataclass
class LoweredProgram:
    buffer: bytes
    delegated: int  # calls into XNNPACK delegate blobs
    portable: dict[str, int] = field(default_factory=dict)  # ops left outside, per method+op

    @property
    def portable_total(self) -> int:
        return sum(self.portable.values())

    def non_trivial(self) -> dict[str, int]:
        return {
            k: v for k, v in self.portable.items() if k.split(":", 1)[1] not in TRIVIAL_PORTABLE
        }


def quant_config(variant: str) -> Any:
    """torchao config for a variant's linear layers (None for fp32)."""
    if variant == "fp32":
        return None
    from torchao.quantization import Int8DynamicActivationIntxWeightConfig
    from torchao.quantization.granularity import PerAxis, PerGroup

    if variant == "8da8w":
        return Int8DynamicActivationIntxWeightConfig(
            weight_dtype=torch.int8, weight_granularity=PerAxis(0)
        )
    if variant == "8da4w":
        return Int8DynamicActivationIntxWeightConfig(
            weight_dtype=torch.int4, weight_granularity=PerGroup(32)
        )
    raise ValueError(f"unknown variant {variant!r}; choose from {VARIANTS}")


def _linear_filter(module: nn.Module, _fqn: str) -> bool:
    """Linear layers the variant quantizes; a layer marked ``keep_fp32`` (the vocoder head
    that writes waveform samples, where 4/8-bit weights are audible) stays fp32."""
    keep = getattr(module, "keep_fp32", False)
    return isinstance(module, nn.Linear) and module.in_features % 32 == 0 and not keep


def quantize_module(module: nn.Module, variant: str) -> nn.Module:
    cfg = quant_config(variant)
    if cfg is None:
        return module
    from torchao.quantization import quantize_

    module = copy.deepcopy(module)
    quantize_(module, cfg, filter_fn=_linear_filter)
    return module


def export_method(spec: MethodSpec, variant: str) -> torch.export.ExportedProgram:
    module = quantize_module(spec.module, variant) if spec.quantize else spec.module
    module.eval()
    dyn = spec.dynamic
    with torch.no_grad():
        return torch.export.export(module, spec.inputs, dynamic_shapes=dyn, strict=False)


def _op_name(target: Any) -> str:
    """'aten.add.Tensor' for edge ops, the function name for Python builtins (getitem)."""
    text = str(target)
    if text.startswith("<EdgeOpOverload: "):
        return text[len("<EdgeOpOverload: ") : text.index(">")]
    return getattr(target, "__name__", text)


def lower_program(spec: ProgramSpec, variant: str, constants: dict[str, Any]) -> LoweredProgram:
    """Export every method of one program, lower to XNNPACK and serialize to bytes."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import ExecutorchBackendConfig, to_edge_transform_and_lower

    eps = {m.name: export_method(m, variant) for m in spec.methods}
    edge = to_edge_transform_and_lower(
        eps, partitioner=[XnnpackPartitioner()], constant_methods=constants
    )
    delegated, portable = 0, Counter()
    for name in eps:
        gm = edge.exported_program(name).graph_module
        for node in gm.graph.nodes:
            if node.op != "call_function":
                continue
            op = _op_name(node.target)
            if "executorch_call_delegate" in op:
                delegated += 1
            else:
                portable[f"{name}:{op}"] += 1
    et = edge.to_executorch(ExecutorchBackendConfig(extract_delegate_segments=True))
    return LoweredProgram(bytes(et.buffer), delegated, dict(portable))
