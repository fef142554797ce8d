"""MobileSpeech: on-device zero-shot TTS with a parallel Speech Mask Decoder over codec tokens."""

from .errors import BundleError, ConfigError, InvalidAudioError, InvalidTextError, MobileSpeechError

__version__ = "0.1.0"

__all__ = [
    "BundleError",
    "ConfigError",
    "InvalidAudioError",
    "InvalidTextError",
    "MobileSpeechError",
    "__version__",
]
