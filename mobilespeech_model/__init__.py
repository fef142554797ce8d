"""The PyTorch side of MobileSpeech: the one model definition, the eager reference loop, g2p-en.

Export, training, benchmarks and tests import this package; the shipped runtime
(``mobilespeech_runtime``, a binding over the C++ core) never does. Imports run one way:
benchmarks -> export, training -> mobilespeech_model -> mobilespeech_runtime -> the C core.

    from mobilespeech_model import ReferenceSynthesizer

    ref = ReferenceSynthesizer.from_checkpoint("runs/tts/model.pt", num_threads=2)
    result = ref.synthesize("Hello there.", "voice.wav", seed=0)

Submodules are imported on first use, so ``import mobilespeech_model`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .reference import ReferenceSynthesizer

__all__ = ["ReferenceSynthesizer"]


def __getattr__(name: str) -> Any:
    if name == "ReferenceSynthesizer":
        from .reference import ReferenceSynthesizer

        globals()[name] = ReferenceSynthesizer
        return ReferenceSynthesizer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
