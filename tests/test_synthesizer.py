"""The eager backend end to end on the tiny model: determinism, streaming, bad input."""

from pathlib import Path

import numpy as np
import pytest
from synthetic import voice_like

from mobilespeech_model.reference import ReferenceSynthesizer
from mobilespeech_runtime.errors import ConfigError, InvalidAudioError, InvalidTextError

TEXT = "Hello there. The quick brown fox, at 3 pm, jumps over the lazy dog."


@pytest.fixture(scope="module")
def synth(tiny_checkpoint: Path, prompt_wav: Path) -> ReferenceSynthesizer:
    return ReferenceSynthesizer.from_checkpoint(
        tiny_checkpoint, num_threads=2, default_prompt=prompt_wav
    )


def test_same_seed_same_audio_and_other_seed_differs(synth: ReferenceSynthesizer) -> None:
    a = synth.synthesize(TEXT, seed=5)
    b = synth.synthesize(TEXT, seed=5)
    c = synth.synthesize(TEXT, seed=6)
    assert a.samples.dtype == np.float32 and a.sample_rate == 16000
    assert np.array_equal(a.samples, b.samples)
    assert a.samples.size == c.samples.size  # durations do not depend on the seed
    assert not np.array_equal(a.samples, c.samples)
    assert a.timings.smd_calls == 2 * 5  # two sentences x sum(schedule (4, 1))


def test_stream_concatenates_to_synthesize(synth: ReferenceSynthesizer) -> None:
    chunks = list(synth.stream(TEXT, seed=1))
    whole = synth.synthesize(TEXT, seed=1).samples
    assert len(chunks) >= 2
    assert np.array_equal(np.concatenate(chunks), whole)
    assert synth.last_timings.first_audio is not None


def test_prompt_as_array_any_rate(synth: ReferenceSynthesizer) -> None:
    x = voice_like(2.0, 22050)
    r = synth.synthesize("Testing.", np.stack([x, x], 1), prompt_sample_rate=22050)
    assert r.samples.size > 0
    with pytest.raises(InvalidAudioError, match="prompt_sample_rate"):
        synth.synthesize("Testing.", x)


def test_bad_inputs_raise_package_errors(synth: ReferenceSynthesizer) -> None:
    with pytest.raises(InvalidTextError):
        synth.synthesize("")
    with pytest.raises(InvalidTextError):
        synth.synthesize("🙂🙂🙂")
    with pytest.raises(InvalidTextError, match="2000"):
        synth.synthesize("word " * 1000)
    with pytest.raises(InvalidAudioError, match="silent"):
        synth.synthesize("Hello.", np.zeros(32000, np.float32), prompt_sample_rate=16000)
    with pytest.raises(ConfigError):
        synth.synthesize("Hello.", steps=(1, 2, 3))
    with pytest.raises(ConfigError):
        synth.synthesize("Hello.", steps=(0, 1))
    with pytest.raises(ConfigError):
        synth.synthesize("Hello.", length_scale=0.0)


def test_steps_override_changes_pass_count(synth: ReferenceSynthesizer) -> None:
    r = synth.synthesize("Hello.", steps=(2, 2))
    assert r.timings.smd_calls == 4
