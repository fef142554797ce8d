import numpy as np
import pytest
import soundfile as sf
from synthetic import voice_like

from mobilespeech_model.audio import condition_prompt, load_prompt, read_audio
from mobilespeech_model.config import AudioConfig
from mobilespeech_runtime.errors import InvalidAudioError

CFG = AudioConfig(min_prompt_seconds=1.0, max_prompt_seconds=3.0)


def test_stereo_other_rate_is_converted(tmp_path) -> None:
    x = voice_like(2.0, 44100)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([x, 0.5 * x], axis=1), 44100)
    p = load_prompt(path, 16000, CFG)
    assert p.samples.ndim == 1 and p.sample_rate == 16000
    assert abs(p.samples.size - 32000) <= 2
    # a real resampler keeps a 140 Hz tone's energy where it was
    spec = np.abs(np.fft.rfft(p.samples[:16000]))
    assert 120 < np.argmax(spec) < 160


def test_silent_short_long_and_broken_prompts(tmp_path) -> None:
    with pytest.raises(InvalidAudioError, match="silent"):
        condition_prompt(np.zeros(32000, np.float32), 16000, 16000, CFG)
    with pytest.raises(InvalidAudioError, match="at least"):
        condition_prompt(voice_like(0.5), 16000, 16000, CFG)
    with pytest.raises(InvalidAudioError, match="empty"):
        condition_prompt(np.zeros(0, np.float32), 16000, 16000, CFG)
    bad = voice_like(2.0)
    bad[10] = np.nan
    with pytest.raises(InvalidAudioError, match="NaN"):
        condition_prompt(bad, 16000, 16000, CFG)
    with pytest.warns(UserWarning, match="first 3 s"):
        p = condition_prompt(voice_like(5.0), 16000, 16000, CFG)
    assert p.trimmed and p.samples.size == 48000
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(InvalidAudioError, match="cannot read"):
        read_audio(junk)
    with pytest.raises(InvalidAudioError, match="not found"):
        load_prompt(tmp_path / "missing.wav", 16000, CFG)
    with pytest.raises(InvalidAudioError):
        condition_prompt(voice_like(2.0), 0, 16000, CFG)


def test_loud_prompt_is_scaled_not_clipped() -> None:
    p = condition_prompt(voice_like(2.0) * 10, 16000, 16000, CFG)
    assert np.max(np.abs(p.samples)) <= 1.0 + 1e-6
