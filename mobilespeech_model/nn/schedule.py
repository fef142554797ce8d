"""The traceable per-step unmasking update (MaskGIT cosine re-masking on confidence).

``unmask_step`` is baked into the SMD program by export: no data-dependent Python control
flow. The step plan itself is plain Python in ``mobilespeech_model.schedule``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..schedule import Step, plan

__all__ = ["Step", "gumbel", "plan", "unmask_step"]


def gumbel(uniform: Tensor) -> Tensor:
    u = torch.clamp(uniform, 1e-6, 1.0 - 1e-6)
    return -torch.log(-torch.log(u))


def unmask_step(
    logits: Tensor,
    current: Tensor,
    noise: Tensor,
    temperature: Tensor,
    n_masked_after: Tensor,
    mask_id: int,
) -> Tensor:
    """One MaskGIT step on one codec layer.

    logits [B,T,V]; current [B,T] (mask_id where masked); noise [B,T,V+1] uniform in (0,1)
    (V slots sample tokens, the last perturbs confidence); temperature [1]; n_masked_after [1].
    Masked positions get a sampled token; then the ``n_masked_after`` least confident of the
    positions that were masked are masked again. Positions already fixed never change.
    """
    v = logits.shape[-1]
    g = gumbel(noise)
    logp = torch.log_softmax(logits, dim=-1)
    sampled = torch.argmax(logp + temperature * g[:, :, :v], dim=-1)
    conf = torch.gather(logp, -1, sampled.unsqueeze(-1)).squeeze(-1)
    conf = conf + temperature * g[:, :, v]
    masked = current == mask_id
    conf = torch.where(masked, conf, torch.full_like(conf, 1e9))
    candidate = torch.where(masked, sampled, current)
    # Unique sort keys (ties broken by position) so every backend ranks identically; a float32
    # gap between distinct confidences is >> 1e-10 * T, so the index term only breaks ties.
    idx = torch.cumsum(torch.ones_like(conf, dtype=torch.float64), dim=-1)
    key = conf.to(torch.float64) + idx * 1e-10
    # A full ascending topk (k = T) is the sort: ExecuTorch's portable kernels have topk, not sort.
    _, order = torch.topk(key, key.shape[-1], dim=-1, largest=False, sorted=True)
    in_first_n = (idx - 1.0) < n_masked_after.to(torch.float64)  # sorted slot < n
    remask = torch.zeros_like(in_first_n).scatter(-1, order, in_first_n)
    return torch.where(remask, torch.full_like(candidate, mask_id), candidate)
