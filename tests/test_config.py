import pytest

from mobilespeech_model.config import MobileSpeechConfig, preset, small_config, tiny_config
from mobilespeech_runtime.errors import ConfigError


@pytest.mark.parametrize("name", ["tiny", "tiny-mel", "small", "base"])
def test_presets_validate_and_round_trip(name: str) -> None:
    cfg = preset(name)
    again = MobileSpeechConfig.from_dict(cfg.to_dict())
    assert again == cfg


def test_unknown_preset_and_fields_are_rejected() -> None:
    with pytest.raises(ConfigError):
        preset("huge")
    d = tiny_config().to_dict()
    d["model"]["bogus"] = 1
    with pytest.raises(ConfigError, match="bogus"):
        MobileSpeechConfig.from_dict(d)


def test_schedule_must_cover_every_codec_layer() -> None:
    d = small_config().to_dict()
    d["schedule"]["steps"] = [8, 2]
    with pytest.raises(ConfigError, match="schedule"):
        MobileSpeechConfig.from_dict(d)
    d["schedule"]["steps"] = [8, 0, 1, 1]
    with pytest.raises(ConfigError):
        MobileSpeechConfig.from_dict(d)


def test_decoder_context_must_cover_receptive_field() -> None:
    d = tiny_config().to_dict()  # the Vocos decoder of the EnCodec-family codec
    d["codec"]["decode_context_frames"] = 2
    with pytest.raises(ConfigError, match="receptive"):
        MobileSpeechConfig.from_dict(d)


def test_codec_derived_sizes() -> None:
    c = tiny_config().codec  # EnCodec family: hop = prod(ratios)
    assert c.kind == "encodec" and c.hop_length == 320
    assert c.frame_rate == 50.0
    assert c.n_fft == 640
    m = small_config().codec  # mel codec: hop = mel hop x token stride, at HiFi-GAN's rate
    assert m.kind == "mel" and m.sample_rate == 22050 and m.hop_length == 512
    assert abs(m.frame_rate - 22050 / 512) < 1e-12
    assert abs(m.bits_per_second - 6 * 10 * 22050 / 512) < 1e-9


@pytest.mark.parametrize(
    "field,value",
    [
        ("guidance", -1.0),
        ("guidance", float("nan")),
        ("guidance", 11.0),
        ("prompt_guidance", -0.5),
        ("prompt_guidance", float("nan")),
        ("temperature", float("nan")),
    ],
)
def test_schedule_weights_must_be_sane(field: str, value: float) -> None:
    d = small_config().to_dict()
    d["schedule"][field] = value
    with pytest.raises(ConfigError, match=field):
        MobileSpeechConfig.from_dict(d)


def test_prompt_guidance_and_a_tied_prompt_weight_are_one_choice() -> None:
    d = small_config().to_dict()
    d["schedule"].update(guidance=2.0, guidance_drops_prompt=True, prompt_guidance=1.0)
    with pytest.raises(ConfigError, match="set one"):
        MobileSpeechConfig.from_dict(d)
    d["schedule"]["guidance_drops_prompt"] = False
    assert MobileSpeechConfig.from_dict(d).schedule.smd_passes == 3


def test_configs_without_guidance_read_as_off() -> None:
    """Manifests and checkpoints written before text guidance existed keep their behaviour."""
    d = small_config().to_dict()
    del d["schedule"]["guidance"]
    del d["schedule"]["guidance_drops_prompt"]
    del d["schedule"]["prompt_guidance"]
    del d["train"]["prompt_dropout"]
    cfg = MobileSpeechConfig.from_dict(d)
    assert cfg.schedule.guidance == 0.0 and cfg.schedule.guidance_drops_prompt is False
    assert cfg.schedule.prompt_guidance == 0.0 and cfg.schedule.smd_passes == 1
    assert cfg.train.prompt_dropout == 0.0


@pytest.mark.parametrize("value", [-0.1, 1.0, float("nan")])
def test_prompt_dropout_must_be_a_probability(value: float) -> None:
    d = small_config().to_dict()
    d["train"]["prompt_dropout"] = value
    with pytest.raises(ConfigError, match="prompt_dropout"):
        MobileSpeechConfig.from_dict(d)
