"""MobileSpeech: on-device zero-shot TTS with a parallel Speech Mask Decoder over codec tokens.

    from mobilespeech_runtime import Synthesizer

    synth = Synthesizer.from_bundle("models/demo", num_threads=2)
    result = synth.synthesize("Hello there.", "voice.wav", seed=0)

``Synthesizer`` and ``SynthesisResult`` are imported on first use, so ``import
mobilespeech_runtime`` (and the CLI's argument checks) stay cheap: no torch until needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import BundleError, ConfigError, InvalidAudioError, InvalidTextError, MobileSpeechError

if TYPE_CHECKING:
    from .synthesizer import SynthesisResult, Synthesizer

__version__ = "0.1.0"

__all__ = [
    "BundleError",
    "ConfigError",
    "InvalidAudioError",
    "InvalidTextError",
    "MobileSpeechError",
    "SynthesisResult",
    "Synthesizer",
    "__version__",
]

_LAZY = {"Synthesizer": "synthesizer", "SynthesisResult": "synthesizer"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
