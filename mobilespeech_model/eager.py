"""The eager PyTorch backend: the reference the exported programs are checked against."""

from __future__ import annotations

from pathlib import Path

import torch

from .config import MobileSpeechConfig
from .frontend import DEFAULT_SYMBOLS, SymbolTable
from .nn import MobileSpeech
from .nn.mobilespeech import decode_mel_chunk


class EagerBackend:
    """Runs the same five program calls as the .pte bundle, in PyTorch."""

    def __init__(
        self,
        model: MobileSpeech,
        symbols: SymbolTable = DEFAULT_SYMBOLS,
        num_threads: int | None = None,
    ) -> None:
        if num_threads:
            torch.set_num_threads(num_threads)
        self.model = model.eval()
        self.config: MobileSpeechConfig = model.cfg
        self.symbols = symbols

    @classmethod
    def from_checkpoint(cls, path: Path, num_threads: int | None = None) -> EagerBackend:
        model, extra = MobileSpeech.load(path)
        symbols = SymbolTable.from_list(extra["symbols"]) if "symbols" in extra else DEFAULT_SYMBOLS
        return cls(model, symbols, num_threads)

    @torch.no_grad()
    def encode_prompt(self, wav: torch.Tensor) -> torch.Tensor:
        return self.model.codec.encode(wav)

    @torch.no_grad()
    def text_and_durations(
        self, phonemes: torch.Tensor, prompt: torch.Tensor, length_scale: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.text_and_durations(phonemes, prompt, length_scale)

    @torch.no_grad()
    def prompt_memory(self, prompt: torch.Tensor) -> torch.Tensor:
        return self.model.prompt_encoder(prompt)

    @torch.no_grad()
    def smd_step(
        self,
        tokens: torch.Tensor,
        layer: torch.Tensor,
        text: torch.Tensor,
        index: torch.Tensor,
        memory: torch.Tensor,
        noise: torch.Tensor,
        temperature: torch.Tensor,
        n_masked_after: torch.Tensor,
    ) -> torch.Tensor:
        return self.model.smd_step(
            tokens, layer, text, index, memory, noise, temperature, n_masked_after
        )

    @torch.no_grad()
    def decode_chunk(self, tokens: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        return self.model.decode_chunk(tokens, keep)

    @torch.no_grad()
    def decode_mel(self, tokens: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        return decode_mel_chunk(self.model.codec, tokens, keep)

    @torch.no_grad()
    def vocode(self, mel: torch.Tensor) -> torch.Tensor:
        return self.model.codec.vocoder(mel).squeeze(1)
