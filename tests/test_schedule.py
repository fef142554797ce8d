import math

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mobilespeech_model import rng
from mobilespeech_model.nn.schedule import unmask_step
from mobilespeech_model.schedule import decode_windows, plan, regulate_durations, window_tokens


def test_plan_counts_are_length_independent() -> None:
    for t in (5, 50, 500):
        p = plan(t, (8, 2, 1, 1), 1.0)
        assert len(p) == 12
        assert [s.layer for s in p] == [0] * 8 + [1] * 2 + [2, 3]


def test_plan_follows_cosine_and_ends_greedy() -> None:
    p = plan(100, (4, 1), 2.0)
    assert [s.n_masked_after for s in p[:4]] == [
        math.ceil(math.cos(math.pi / 2 * k / 4) * 100) for k in (1, 2, 3)
    ] + [0]
    assert p[3].temperature == 0.0 and p[4].temperature == 0.0
    assert p[0].temperature == 1.5


@settings(max_examples=40, deadline=None)
@given(
    t=st.integers(1, 60),
    v=st.integers(2, 16),
    steps=st.integers(1, 8),
    seed=st.integers(0, 99),
    temp=st.sampled_from([0.0, 1.0]),
)
def test_unmask_step_fills_exactly_the_planned_positions(
    t: int, v: int, steps: int, seed: int, temp: float
) -> None:
    gen = torch.Generator().manual_seed(seed)
    cur = torch.full((1, t), v)
    # a few positions are already fixed (e.g. by an earlier step): they must never change
    fixed = torch.rand(1, t, generator=gen) < 0.2
    cur[fixed] = torch.randint(0, v, (int(fixed.sum()),), generator=gen)
    masked_before = int((cur == v).sum())
    for s in plan(masked_before, (steps,), temp):
        logits = torch.randn(1, t, v, generator=gen)
        noise = torch.from_numpy(rng.uniform(seed, 0, s.step, t * (v + 1))).view(1, t, v + 1)
        new = unmask_step(
            logits, cur, noise, torch.tensor([s.temperature]), torch.tensor([s.n_masked_after]), v
        )
        assert int((new == v).sum()) == s.n_masked_after
        kept = cur != v
        assert torch.equal(new[kept], cur[kept])  # never re-masks or changes a decided token
        assert int(new.max()) <= v
        cur = new
    assert int((cur == v).sum()) == 0


def test_unmask_step_keeps_the_most_confident() -> None:
    logits = torch.full((1, 4, 3), -10.0)
    conf = [5.0, 1.0, 9.0, 3.0]
    for i, c in enumerate(conf):
        logits[0, i, 1] = c
    cur = torch.full((1, 4), 3)
    new = unmask_step(
        logits, cur, torch.full((1, 4, 4), 0.5), torch.tensor([0.0]), torch.tensor([2]), 3
    )
    assert new.tolist() == [[1, 3, 1, 3]]


def test_regulate_durations_bounds() -> None:
    f, scaled = regulate_durations(np.array([0, 0, 0]), 10)
    assert f.sum() == 1 and not scaled
    f, scaled = regulate_durations(np.array([30, 30, 40]), 50)
    assert scaled and 1 <= f.sum() <= 50


def test_decode_windows_cover_every_frame_once() -> None:
    tokens = np.arange(2 * 23).reshape(2, 23)
    wins = decode_windows(23, 10)
    assert [(w.start, w.frames) for w in wins] == [(0, 10), (10, 10), (20, 3)]
    window, keep = window_tokens(tokens, wins[2], 10, 4)
    assert window.shape == (1, 2, 18) and keep.shape == (1, 18)
    assert keep[0].tolist() == [1.0] * 7 + [0.0] * 11
    assert window[0, 0, :7].tolist() == tokens[0, 16:23].tolist()
