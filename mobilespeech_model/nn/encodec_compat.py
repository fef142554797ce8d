"""Import the ``encodec`` package without torchaudio.

``encodec`` imports torchaudio only for its audio-file helpers (``encodec.utils.convert_audio``,
``save_audio``), which we never call: audio I/O goes through soundfile and soxr. PyPI's newest
torchaudio is a CUDA build that fails to import beside the CPU torch pinned here, so when the
real torchaudio cannot be imported we register a minimal stand-in module whose functions raise
a clear error if anything ever calls them. This is the only place that does this.
"""

from __future__ import annotations

import importlib
import sys
import types


def _standin() -> types.ModuleType:
    mod = types.ModuleType("torchaudio")

    def _unavailable(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(
            "torchaudio is not installed; MobileSpeech uses soundfile/soxr for audio"
        )

    mod.load = _unavailable  # type: ignore[attr-defined]
    mod.save = _unavailable  # type: ignore[attr-defined]
    functional = types.ModuleType("torchaudio.functional")
    functional.resample = _unavailable  # type: ignore[attr-defined]
    transforms = types.ModuleType("torchaudio.transforms")
    transforms.Spectrogram = _unavailable  # type: ignore[attr-defined]
    mod.functional = functional  # type: ignore[attr-defined]
    mod.transforms = transforms  # type: ignore[attr-defined]
    mod.__mobilespeech_standin__ = True  # type: ignore[attr-defined]
    return mod


def import_encodec() -> types.ModuleType:
    """Return the ``encodec`` module, installing the torchaudio stand-in if needed."""
    if "encodec" in sys.modules:
        return sys.modules["encodec"]
    try:
        importlib.import_module("torchaudio")
    except Exception:  # noqa: BLE001 - any import failure (missing or CUDA-only build)
        sa = _standin()
        sys.modules["torchaudio"] = sa
        sys.modules["torchaudio.functional"] = sa.functional  # type: ignore[attr-defined]
        sys.modules["torchaudio.transforms"] = sa.transforms  # type: ignore[attr-defined]
    return importlib.import_module("encodec")
