"""mel_match.py: the loud-frame spectrum and the offset (the C++ twin is checked in
test_native.py against the same runtime)."""

from __future__ import annotations

import numpy as np
import pytest

from mobilespeech_model.config import MobileSpeechConfig, tiny_config
from mobilespeech_model.mel_match import loud_mean, mel_offset
from mobilespeech_runtime.errors import ConfigError


def test_loud_mean_averages_the_loudest_frames() -> None:
    mel = np.array([[0.0, 10.0, 2.0, 8.0], [0.0, 2.0, 4.0, 6.0]], np.float32)
    # frame loudness 0, 6, 3, 7: the loudest half is frames 1 and 3
    np.testing.assert_allclose(loud_mean(mel, 0.5), [9.0, 4.0])
    np.testing.assert_allclose(loud_mean(mel, 1.0), mel.mean(1))
    np.testing.assert_allclose(loud_mean(mel, 0.01), [8.0, 6.0])  # at least one frame
    assert loud_mean(mel, 0.5).dtype == np.float64


def test_loud_mean_ties_keep_frame_order() -> None:
    mel = np.ones((3, 5), np.float32)
    mel[:, 2] = 2.0  # frames 0, 1, 3, 4 tie: the stable sort keeps the later ones last
    np.testing.assert_allclose(loud_mean(mel, 0.4), [1.5] * 3)
    with pytest.raises(ValueError):
        loud_mean(np.zeros((80, 0), np.float32), 0.7)


def test_offset_moves_the_sentence_toward_the_prompt() -> None:
    prompt, sentence = np.array([1.0, -2.0]), np.array([0.0, 0.0])
    off = mel_offset(prompt, sentence, 0.5)
    assert off.dtype == np.float32
    np.testing.assert_allclose(off, [0.5, -1.0])
    np.testing.assert_allclose(loud_mean(np.zeros((2, 4)) + off[:, None], 1.0), off)


def test_config_bounds_and_old_configs() -> None:
    cfg = MobileSpeechConfig()
    assert cfg.schedule.mel_match == 0.0  # configs and manifests without the field: off
    d = cfg.to_dict()
    del d["schedule"]["mel_match"], d["schedule"]["mel_match_loud"]
    assert MobileSpeechConfig.from_dict(d).schedule.mel_match == 0.0
    for field, value in (("mel_match", 2.5), ("mel_match", -0.1), ("mel_match_loud", 0.0),
                         ("mel_match_loud", 1.5)):
        bad = cfg.to_dict()
        bad["schedule"][field] = value
        with pytest.raises(ConfigError, match=field):
            MobileSpeechConfig.from_dict(bad)
    enc = tiny_config().to_dict()  # EnCodec-kind codec: no mel to match
    enc["schedule"]["mel_match"] = 1.0
    with pytest.raises(ConfigError, match="mel codec"):
        MobileSpeechConfig.from_dict(enc)
