"""The PyTorch reference model (imports torch; the executorch runtime path never imports this)."""

from .codec import Codec, prepare_for_export
from .mobilespeech import Batch, MobileSpeech

__all__ = ["Batch", "Codec", "MobileSpeech", "prepare_for_export"]
