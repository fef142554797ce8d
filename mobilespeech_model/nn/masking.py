"""Training masks for the SMD (paper, "Training"): layer choice, the three mask cases, CE loss.

Case A (layer 0, probability 1 - alpha): the whole first layer is masked, so the model learns
to produce layer 1 from text and prompt alone. Case B (layer 0, probability alpha): part of it
is masked. Case C (layer j > 0): layers < j given, layer j partly masked, layers > j masked.
The masked fraction follows the cosine schedule ratio = cos(u), u ~ U(0, pi/2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass
class MaskedTargets:
    inputs: Tensor  # [B, N, T] tokens with mask_id where hidden
    layer: Tensor  # [B] codec layer being trained
    loss_mask: Tensor  # [B, T] True where layer `layer` is masked (and the frame is real)


def sample_layers(weights: tuple[float, ...], batch: int, gen: torch.Generator) -> Tensor:
    """Pick a codec layer per sample, favouring the lower layers that carry the content."""
    w = torch.tensor(weights, dtype=torch.float32)
    return torch.multinomial(w / w.sum(), batch, replacement=True, generator=gen)


def mask_count(ratio: float, length: int) -> int:
    """Positions hidden for a cosine ratio: at least one, at most all."""
    return min(length, max(1, math.ceil(ratio * length)))


def build_masks(
    tokens: Tensor,
    lengths: Tensor,
    layers: Tensor,
    alpha: float,
    mask_id: int,
    gen: torch.Generator,
) -> MaskedTargets:
    """Apply the three mask cases per sample; padding frames are masked and never scored."""
    b, n, t = tokens.shape
    inputs = tokens.clone()
    loss_mask = torch.zeros(b, t, dtype=torch.bool)
    for i in range(b):
        j, length = int(layers[i]), int(lengths[i])
        inputs[i, j + 1 :, :] = mask_id
        inputs[i, :, length:] = mask_id
        fully = j == 0 and float(torch.rand((), generator=gen)) >= alpha
        if fully:
            k = length
        else:
            u = float(torch.rand((), generator=gen)) * math.pi / 2
            k = mask_count(math.cos(u), length)
        pos = torch.randperm(length, generator=gen)[:k]
        inputs[i, j, pos] = mask_id
        loss_mask[i, pos] = True
    return MaskedTargets(inputs=inputs, layer=layers.clone(), loss_mask=loss_mask)


def masked_cross_entropy(logits: Tensor, tokens: Tensor, m: MaskedTargets) -> tuple[Tensor, Tensor]:
    """CE on the masked positions of the chosen layer only; returns (loss, accuracy)."""
    target = torch.gather(tokens, 1, m.layer.view(-1, 1, 1).expand(-1, 1, tokens.shape[2]))
    target = target.squeeze(1)
    sel = m.loss_mask
    loss = F.cross_entropy(logits[sel], target[sel])
    acc = (logits[sel].argmax(-1) == target[sel]).float().mean()
    return loss, acc
