import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mobilespeech_model.nn.masking import build_masks, mask_count, sample_layers


@settings(max_examples=60, deadline=None)
@given(
    b=st.integers(1, 4),
    n=st.integers(1, 4),
    t=st.integers(1, 40),
    seed=st.integers(0, 10_000),
    alpha=st.sampled_from([0.0, 0.5, 1.0]),
)
def test_each_mask_case_hides_exactly_what_it_should(
    b: int, n: int, t: int, seed: int, alpha: float
) -> None:
    gen = torch.Generator().manual_seed(seed)
    v = 8
    tokens = torch.randint(0, v, (b, n, t), generator=gen)
    lengths = torch.randint(1, t + 1, (b,), generator=gen)
    layers = torch.randint(0, n, (b,), generator=gen)
    m = build_masks(tokens, lengths, layers, alpha, v, gen)
    for i in range(b):
        j, length = int(layers[i]), int(lengths[i])
        hidden = m.inputs[i] == v
        # layers below j are given in full (within the length)
        assert not hidden[:j, :length].any()
        assert torch.equal(m.inputs[i, :j, :length], tokens[i, :j, :length])
        # layers above j are hidden completely
        assert hidden[j + 1 :].all()
        # padding is hidden and never scored
        assert hidden[:, length:].all()
        assert not m.loss_mask[i, length:].any()
        # the loss is on exactly the hidden positions of layer j
        assert torch.equal(m.loss_mask[i, :length], hidden[j, :length])
        k = int(m.loss_mask[i].sum())
        assert 1 <= k <= length
        # visible positions of layer j keep their tokens
        vis = ~hidden[j, :length]
        assert torch.equal(m.inputs[i, j, :length][vis], tokens[i, j, :length][vis])
        if alpha == 0.0 and j == 0:
            assert k == length  # case A: first layer fully masked


def test_alpha_one_never_fully_masks_long_first_layers() -> None:
    gen = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, 8, (64, 2, 200), generator=gen)
    m = build_masks(tokens, torch.full((64,), 200), torch.zeros(64, dtype=torch.long), 1.0, 8, gen)
    assert (m.loss_mask.sum(1) < 200).float().mean() > 0.9


def test_mask_count_and_layer_weights() -> None:
    assert mask_count(0.0, 10) == 1 and mask_count(1.0, 10) == 10 and mask_count(0.31, 10) == 4
    assert mask_count(math.cos(math.pi / 2), 5) == 1
    gen = torch.Generator().manual_seed(0)
    layers = sample_layers((0.55, 0.2, 0.15, 0.1), 20000, gen)
    freq = torch.bincount(layers, minlength=4).float() / 20000
    assert abs(float(freq[0]) - 0.55) < 0.02 and abs(float(freq[3]) - 0.1) < 0.02
