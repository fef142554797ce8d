import torch

from mobilespeech_model.config import base_config, small_config, tiny_config
from mobilespeech_model.nn import Batch, MobileSpeech
from mobilespeech_model.nn.codec import prepare_for_export
from mobilespeech_model.nn.layers import LayerNorm
from mobilespeech_model.nn.text import durations_from_log, frame_index, length_regulate


def _batch(cfg, gen: torch.Generator) -> Batch:
    b, lmax = 3, 12
    lens = torch.tensor([12, 9, 6])
    tl = torch.tensor([80, 60, 40])
    ph = torch.randint(4, 70, (b, lmax), generator=gen)
    dur = torch.zeros(b, lmax, dtype=torch.long)
    for i in range(b):
        ph[i, lens[i] :] = 0
        dur[i, : lens[i]] = tl[i] // lens[i]
        dur[i, lens[i] - 1] += tl[i] - dur[i].sum()
    toks = torch.randint(0, cfg.codec.codebook_size, (b, cfg.codec.n_codebooks, 80), generator=gen)
    return Batch(ph, lens, dur, toks, tl)


def test_parameter_counts_grow_with_preset() -> None:
    counts = [
        sum(p.numel() for p in MobileSpeech(f()).parameters())
        for f in (tiny_config, small_config, base_config)
    ]
    assert counts[0] < 300_000 < counts[1] < 20_000_000 < counts[2] < 400_000_000


def test_codec_round_trip_shapes(tiny_model: MobileSpeech) -> None:
    c = tiny_model.codec
    wav = torch.randn(2, 1, 16000) * 0.1
    tokens = c.encode(wav)
    assert tokens.shape == (2, 2, 50) and tokens.dtype == torch.long
    assert int(tokens.max()) < 64
    assert c.decode(tokens).shape == (2, 1, 16000)


def test_module_shapes(tiny_model: MobileSpeech) -> None:
    m = tiny_model
    d = m.cfg.model.d_model
    ph = torch.randint(4, 70, (1, 7))
    prompt = torch.randint(0, 64, (1, 2, 30))
    text, frames = m.text_and_durations(ph, prompt, torch.tensor([1.0]))
    assert text.shape == (1, 7, d) and frames.shape == (1, 7) and frames.dtype == torch.long
    assert m.duration_extractor(prompt).shape == (1, m.cfg.model.duration_tokens, d)
    memory = m.prompt_encoder(prompt)
    assert memory.shape == (1, 30, d)
    idx = frame_index(torch.tensor([2, 0, 3, 1, 1, 2, 1]))
    assert idx.tolist() == [0, 0, 2, 2, 2, 3, 4, 5, 5, 6]
    fr = length_regulate(text, idx.unsqueeze(0))
    assert fr.shape == (1, 10, d) and torch.equal(fr[0, 2], text[0, 2])
    tokens = torch.full((1, 2, 10), 64)
    logits = m.smd(tokens, fr, torch.tensor([1]), memory)
    assert logits.shape == (1, 10, 64)
    wav = m.decode_chunk(torch.randint(0, 64, (1, 2, 20)), torch.ones(1, 20))
    assert wav.shape == (1, 20 * 320)


def test_durations_from_log() -> None:
    out = durations_from_log(torch.log1p(torch.tensor([0.0, 2.0, 5.4])), 1.0)
    assert out.tolist() == [0, 2, 5]
    assert durations_from_log(torch.log1p(torch.tensor([4.0])), 2.0).tolist() == [8]


def test_smd_step_is_deterministic(tiny_model: MobileSpeech) -> None:
    gen = torch.Generator().manual_seed(1)
    args = (
        torch.full((1, 2, 12), 64),
        torch.tensor([0]),
        torch.randn(1, 5, 32, generator=gen),
        torch.randint(0, 5, (1, 12), generator=gen),
        torch.randn(1, 9, 32, generator=gen),
        torch.rand(1, 12, 65, generator=gen),
        torch.tensor([1.0]),
        torch.tensor([6]),
    )
    a = tiny_model.smd_step(*args)
    b = tiny_model.smd_step(*args)
    assert torch.equal(a, b)
    assert int((a[0, 0] == 64).sum()) == 6 and bool((a[0, 1] == 64).all())


def _step_args(memory_scale: float) -> tuple[torch.Tensor, ...]:
    """smd_step's inputs after the SMD: 2 layers x 40 frames all masked, 10 left after."""
    gen = torch.Generator().manual_seed(2)
    return (
        torch.full((1, 2, 40), 64),
        torch.tensor([0]),
        torch.randn(1, 5, 32, generator=gen) * 3,
        torch.randint(0, 5, (1, 40), generator=gen),
        torch.randn(1, 9, 32, generator=gen) * memory_scale,
        torch.rand(1, 40, 65, generator=gen),
        torch.tensor([0.0]),
        torch.tensor([10]),
    )


def test_text_guidance_changes_the_step_and_off_is_the_plain_step(
    tiny_model: MobileSpeech,
) -> None:
    """guidance 0 is the plain step; > 0 mixes in a pass without text, still a valid step."""
    from mobilespeech_model.nn.mobilespeech import smd_step

    args = _step_args(memory_scale=1.0)
    plain = tiny_model.smd_step(*args)
    assert torch.equal(smd_step(tiny_model.smd, *args, guidance=0.0), plain)
    guided = smd_step(tiny_model.smd, *args, guidance=3.0)
    assert int((guided[0, 0] == 64).sum()) == 10 and bool((guided[0, 1] == 64).all())
    assert not torch.equal(guided, plain)
    assert torch.equal(guided, smd_step(tiny_model.smd, *args, guidance=3.0))


def test_guidance_that_drops_the_prompt_contrasts_a_voiceless_pass(
    tiny_model: MobileSpeech,
) -> None:
    """drop_prompt zeroes the prompt memory in guidance's second pass: another step than text
    guidance alone, still a valid one; without guidance it changes nothing."""
    from mobilespeech_model.nn.mobilespeech import smd_step

    args = _step_args(memory_scale=3.0)
    text_only = smd_step(tiny_model.smd, *args, guidance=3.0)
    both = smd_step(tiny_model.smd, *args, guidance=3.0, drop_prompt=True)
    assert int((both[0, 0] == 64).sum()) == 10 and bool((both[0, 1] == 64).all())
    assert not torch.equal(both, text_only)
    plain = smd_step(tiny_model.smd, *args)
    assert torch.equal(smd_step(tiny_model.smd, *args, drop_prompt=True), plain)


def test_prompt_guidance_weighs_the_voice_apart_from_the_text(tiny_model: MobileSpeech) -> None:
    """Compositional guidance: equal text and prompt weights are guidance that drops the prompt
    (the no-text pass cancels), a prompt weight alone is another valid step, and both are
    read from the schedule by the model's own step."""
    from mobilespeech_model.nn.mobilespeech import smd_step

    args = _step_args(memory_scale=3.0)
    tied = smd_step(tiny_model.smd, *args, guidance=3.0, drop_prompt=True)
    assert torch.equal(smd_step(tiny_model.smd, *args, guidance=3.0, prompt_guidance=3.0), tied)
    voice = smd_step(tiny_model.smd, *args, prompt_guidance=3.0)
    assert int((voice[0, 0] == 64).sum()) == 10 and bool((voice[0, 1] == 64).all())
    assert not torch.equal(voice, smd_step(tiny_model.smd, *args))
    apart = smd_step(tiny_model.smd, *args, guidance=3.0, prompt_guidance=1.0)
    assert not torch.equal(apart, tied)
    tiny_model.cfg.schedule.guidance, tiny_model.cfg.schedule.prompt_guidance = 3.0, 1.0
    try:
        assert torch.equal(tiny_model.smd_step(*args), apart)
    finally:
        tiny_model.cfg.schedule.guidance, tiny_model.cfg.schedule.prompt_guidance = 0.0, 0.0


def test_training_steps_make_the_loss_fall() -> None:
    torch.manual_seed(0)
    cfg = tiny_config()
    cfg.model.dropout = 0.0
    model = MobileSpeech(cfg)
    gen = torch.Generator().manual_seed(0)
    batch = _batch(cfg, gen)
    opt = torch.optim.Adam(model.tts_parameters(), lr=3e-3)
    losses = []
    for step in range(40):
        out = model.loss(batch, torch.Generator().manual_seed(step % 4))
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
        losses.append(float(out["loss"]))
    assert sum(losses[-5:]) / 5 < 0.7 * sum(losses[:5]) / 5


def test_layernorm_matches_torch() -> None:
    x = torch.randn(2, 7, 16)
    ln = LayerNorm(16)
    ref = torch.nn.functional.layer_norm(x, (16,), ln.weight, ln.bias)
    assert torch.allclose(ln(x), ref, atol=1e-5)


def test_prepare_for_export_keeps_outputs(tiny_model: MobileSpeech) -> None:
    m = MobileSpeech(tiny_config())
    m.load_state_dict(tiny_model.state_dict())
    wav = torch.randn(1, 1, 3200) * 0.1
    before = m.codec.latent(wav)
    prepare_for_export(m)
    assert torch.allclose(before, m.codec.latent(wav), atol=1e-5)
    assert not any(isinstance(x, torch.nn.ELU) for x in m.modules())


def test_checkpoint_round_trip(tiny_model: MobileSpeech, tmp_path) -> None:
    path = tmp_path / "m.pt"
    tiny_model.save(path, extra={"x": 1})
    loaded, extra = MobileSpeech.load(path)
    assert extra == {"x": 1}
    for (k, a), (_, b) in zip(
        tiny_model.state_dict().items(), loaded.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), k


def test_text_dropout_hides_the_text_from_the_smd() -> None:
    """With every utterance's text dropped the SMD loss no longer depends on the phonemes (the
    condition text guidance's second pass runs in); without dropout it does."""
    import dataclasses

    import pytest

    from mobilespeech_runtime.errors import ConfigError

    torch.manual_seed(0)
    cfg = tiny_config()
    cfg.model.dropout = 0.0
    model = MobileSpeech(cfg).eval()
    batch = _batch(cfg, torch.Generator().manual_seed(0))
    other = dataclasses.replace(batch, phonemes=(batch.phonemes + 1) % cfg.model.n_symbols)

    def smd(b: Batch) -> float:
        return float(model.loss(b, torch.Generator().manual_seed(3))["smd"])

    assert smd(batch) != smd(other)
    cfg.train.text_dropout = 0.999999
    assert smd(batch) == smd(other)
    cfg.train.text_dropout = 1.0
    with pytest.raises(ConfigError, match="text_dropout"):
        cfg.validate()


def test_prompt_dropout_hides_text_and_voice_from_the_smd() -> None:
    """With every utterance's prompt dropped the SMD sees neither the phonemes nor the prompt
    memory (the condition guidance with guidance_drops_prompt contrasts against)."""
    import dataclasses

    import pytest

    from mobilespeech_runtime.errors import ConfigError

    torch.manual_seed(0)
    cfg = tiny_config()
    cfg.model.dropout = 0.0
    model = MobileSpeech(cfg).eval()
    batch = _batch(cfg, torch.Generator().manual_seed(0))
    other = dataclasses.replace(batch, phonemes=(batch.phonemes + 1) % cfg.model.n_symbols)

    def smd(b: Batch) -> float:
        return float(model.loss(b, torch.Generator().manual_seed(3))["smd"])

    base = smd(batch)
    with torch.no_grad():
        model.prompt_encoder.stack.blocks[0].ff1.up.weight.mul_(3.0)  # another memory
    assert smd(batch) != base  # the prompt memory matters
    cfg.train.prompt_dropout = 0.999999
    dropped = smd(batch)
    assert dropped == smd(other)  # no text
    with torch.no_grad():
        model.prompt_encoder.stack.blocks[0].ff1.up.weight.mul_(0.5)
    assert smd(batch) == dropped  # no voice
    cfg.train.text_dropout = 0.5
    with pytest.raises(ConfigError, match="prompt_dropout"):
        cfg.validate()
