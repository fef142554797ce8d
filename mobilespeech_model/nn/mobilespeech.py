"""The MobileSpeech model: the one definition that training, export and the eager backend use."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mobilespeech_runtime.errors import BundleError

from ..config import MobileSpeechConfig
from .codec import Codec, make_codec
from .layers import lengths_to_keep
from .masking import build_masks, masked_cross_entropy, sample_layers
from .mel_codec import MelCodec
from .schedule import unmask_step
from .smd import PromptEncoder, SpeechMaskDecoder
from .text import (
    DurationExtractor,
    DurationPredictor,
    TextEncoder,
    durations_from_log,
    length_regulate,
)

CHECKPOINT_FORMAT = 1


@dataclass
class Batch:
    """A padded training batch. durations sum to token_lens per utterance."""

    phonemes: Tensor  # [B, L] int64, 0 = pad
    phoneme_lens: Tensor  # [B]
    durations: Tensor  # [B, L] frames per phoneme
    tokens: Tensor  # [B, N, T] codec tokens
    token_lens: Tensor  # [B]
    # TrainConfig.prompt_other: another utterance of the same speaker as the prompt; a row
    # with length 0 takes a prefix of its own utterance instead. None: prefixes only.
    other_tokens: Tensor | None = None  # [B, N, To]
    other_lens: Tensor | None = None  # [B]


def text_and_durations(
    text_encoder: TextEncoder,
    extractor: DurationExtractor,
    predictor: DurationPredictor,
    phonemes: Tensor,
    prompt: Tensor,
    length_scale: Tensor,
) -> tuple[Tensor, Tensor]:
    """phonemes [1, L], prompt tokens [1, N, Tp] -> (text states [1, L, D], frames [1, L])."""
    text = text_encoder(phonemes)
    log_dur = predictor(extractor(prompt), text)
    return text, durations_from_log(log_dur, length_scale)


# The inputs of one SMD step, in the order of ``smd_step``, of smd.pte's "step" method and of
# the manifest (export/programs.py names them from here; the native core reads them from the
# manifest's program section and checks them, native/src/bundle.cc).
SMD_STEP_INPUTS = (
    "tokens", "layer", "text", "index", "memory", "noise", "temperature", "n_masked_after",
)


def smd_step(
    smd: SpeechMaskDecoder,
    tokens: Tensor,
    layer: Tensor,
    text: Tensor,
    index: Tensor,
    memory: Tensor,
    noise: Tensor,
    temperature: Tensor,
    n_masked_after: Tensor,
    guidance: float = 0.0,
    drop_prompt: bool = False,
    prompt_guidance: float = 0.0,
) -> Tensor:
    """One schedule step: tokens [1, N, T] -> tokens with layer ``layer`` partly filled.

    ``guidance`` > 0 adds text guidance (classifier-free style): the step also runs with the
    text frames zeroed and sharpens toward what the text adds,
    ``logp + guidance * (logp - logp_without_text)``. With ``drop_prompt`` that second pass
    also has the prompt memory zeroed, so the step sharpens toward the voice too (for models
    trained with ``prompt_dropout``). It doubles the SMD's work per step; both are constants
    of the exported program (the schedule's ``guidance`` and ``guidance_drops_prompt``).

    ``prompt_guidance`` > 0 weighs the voice apart from the text (compositional guidance): one
    batch-3 pass (full, text zeroed, text and prompt zeroed) and
    ``logp + guidance * (logp - no_text) + prompt_guidance * (no_text - neither)``, so
    ``drop_prompt`` is the case of equal weights. It triples the SMD's work per step."""
    frames = length_regulate(text, index)
    if prompt_guidance > 0.0:
        zero_frames, zero_memory = torch.zeros_like(frames), torch.zeros_like(memory)
        three = smd(
            tokens.expand(3, -1, -1),
            torch.cat([frames, zero_frames, zero_frames], 0),
            layer,
            torch.cat([memory, memory, zero_memory], 0),
        )
        logp = torch.log_softmax(three, dim=-1)
        cond, no_text, neither = logp[0:1], logp[1:2], logp[2:3]
        logits = cond + guidance * (cond - no_text) + prompt_guidance * (no_text - neither)
    elif guidance > 0.0:
        # one batch-2 pass (a module called twice in one graph breaks export's weight passes)
        memories = (
            torch.cat([memory, torch.zeros_like(memory)], 0)
            if drop_prompt
            else memory.expand(2, -1, -1)
        )
        both = smd(
            tokens.expand(2, -1, -1),
            torch.cat([frames, torch.zeros_like(frames)], 0),
            layer,
            memories,
        )
        logp = torch.log_softmax(both, dim=-1)
        cond, uncond = logp[0:1], logp[1:2]
        logits = cond + guidance * (cond - uncond)
    else:
        logits = smd(tokens, frames, layer, memory)
    n = tokens.shape[1]
    current = torch.index_select(tokens, 1, layer).squeeze(1)
    new = unmask_step(logits, current, noise, temperature, n_masked_after, smd.mask_id)
    onehot = (torch.arange(n, device=tokens.device) == layer).view(1, n, 1)
    return torch.where(onehot, new.unsqueeze(1), tokens)


def decode_chunk(codec: Codec, tokens: Tensor, keep: Tensor, table: Tensor | None = None) -> Tensor:
    """Fixed-size decoder window: tokens [1, N, W], keep [1, W] -> waveform [1, W * hop].

    Frames outside the utterance (keep = 0) get a zero latent, as zero padding would."""
    latent = codec.tokens_to_latent(tokens, table) * keep.unsqueeze(1)
    return codec.decode_latent(latent).squeeze(1)


def decode_mel_chunk(
    codec: MelCodec, tokens: Tensor, keep: Tensor, table: Tensor | None = None
) -> Tensor:
    """Mel codec window: tokens [1, N, W], keep [1, W] -> log-mel [1, n_mels, W * stride].

    Frames outside the utterance get the log-mel of silence, so the vocoder window that reads
    them hears silence rather than whatever a zero latent decodes to."""
    latent = codec.tokens_to_latent(tokens, table) * keep.unsqueeze(1)
    mel = codec.decode_mel(latent)
    s = codec.cfg.token_stride
    inside = keep.unsqueeze(-1).expand(-1, -1, s).contiguous().view(1, 1, -1)
    return mel * inside + codec.silence_log_mel * (1.0 - inside)


class MobileSpeech(nn.Module):
    """Codec + text encoder + duration extractor/predictor + prompt encoder + SMD."""

    def __init__(self, cfg: MobileSpeechConfig) -> None:
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.codec = make_codec(cfg.codec)
        self.text_encoder = TextEncoder(cfg)
        self.duration_extractor = DurationExtractor(cfg)
        self.duration_predictor = DurationPredictor(cfg)
        self.prompt_encoder = PromptEncoder(cfg)
        self.smd = SpeechMaskDecoder(cfg)

    @property
    def mask_id(self) -> int:
        return self.cfg.codec.codebook_size

    def tts_parameters(self) -> list[nn.Parameter]:
        """Everything but the codec (which is trained first and then frozen)."""
        return [p for n, p in self.named_parameters() if not n.startswith("codec.")]

    # ---- the pieces export traces (each delegates to a function of the submodules it needs,
    # so an exported program holds only its own weights) -----------------------------------
    def text_and_durations(
        self, phonemes: Tensor, prompt: Tensor, length_scale: Tensor
    ) -> tuple[Tensor, Tensor]:
        return text_and_durations(
            self.text_encoder,
            self.duration_extractor,
            self.duration_predictor,
            phonemes,
            prompt,
            length_scale,
        )

    def smd_step(
        self,
        tokens: Tensor,
        layer: Tensor,
        text: Tensor,
        index: Tensor,
        memory: Tensor,
        noise: Tensor,
        temperature: Tensor,
        n_masked_after: Tensor,
    ) -> Tensor:
        return smd_step(
            self.smd,
            tokens,
            layer,
            text,
            index,
            memory,
            noise,
            temperature,
            n_masked_after,
            self.cfg.schedule.guidance,
            self.cfg.schedule.guidance_drops_prompt,
            self.cfg.schedule.prompt_guidance,
        )

    def decode_chunk(self, tokens: Tensor, keep: Tensor) -> Tensor:
        """Waveform for one decoder window (the mel codec runs its vocoder after the mel)."""
        if isinstance(self.codec, MelCodec):
            return self.codec.vocoder(decode_mel_chunk(self.codec, tokens, keep)).squeeze(1)
        return decode_chunk(self.codec, tokens, keep)

    # ---- training -------------------------------------------------------------------------
    def loss(self, batch: Batch, gen: torch.Generator) -> dict[str, Tensor]:
        """SMD masked CE on a target continuation + duration MSE; the prompt is a random
        prefix of the same utterance (paper, "Training"), or, for the rows ``batch.other_*``
        fills (``TrainConfig.prompt_other``), another utterance of the speaker."""
        tc = self.cfg.train
        b = batch.tokens.shape[0]
        text_keep = lengths_to_keep(batch.phoneme_lens, batch.phonemes.shape[1])
        text = self.text_encoder(batch.phonemes, text_keep)

        frac = tc.prompt_min_frac + torch.rand(b, generator=gen) * (
            tc.prompt_max_frac - tc.prompt_min_frac
        )
        p_lens = torch.clamp((batch.token_lens.float() * frac).long(), min=1)
        # rows prompted by another utterance: all of it (up to max_prompt_frames) as the
        # prompt, all of this one as the target (start 0)
        other = torch.zeros(b, dtype=torch.bool)
        if batch.other_lens is not None:
            other = batch.other_lens > 0
            cap = self.cfg.model.max_prompt_frames
            p_lens = torch.where(other, torch.clamp(batch.other_lens, max=cap), p_lens)
        start = torch.where(other, torch.zeros_like(p_lens), p_lens)
        t_lens = batch.token_lens - start
        n = batch.tokens.shape[1]
        prompt = torch.zeros(b, n, int(p_lens.max()), dtype=torch.long)
        target = torch.zeros(b, n, int(t_lens.max()), dtype=torch.long)
        index = torch.zeros(b, int(t_lens.max()), dtype=torch.long)
        for i in range(b):
            pl, tl, st = int(p_lens[i]), int(t_lens[i]), int(start[i])
            if bool(other[i]):
                assert batch.other_tokens is not None
                prompt[i, :, :pl] = batch.other_tokens[i, :, :pl]
            else:
                prompt[i, :, :pl] = batch.tokens[i, :, :pl]
            target[i, :, :tl] = batch.tokens[i, :, st : st + tl]
            full = torch.repeat_interleave(
                torch.arange(batch.phonemes.shape[1]), batch.durations[i]
            )
            index[i, :tl] = full[st : st + tl]
        p_keep = lengths_to_keep(p_lens, prompt.shape[2])
        t_keep = lengths_to_keep(t_lens, target.shape[2])

        dur_tokens = self.duration_extractor(prompt, p_keep)
        log_dur = self.duration_predictor(dur_tokens, text, text_keep)
        dur_target = torch.log1p(batch.durations.float())
        dur_loss = F.mse_loss(log_dur[text_keep], dur_target[text_keep])

        memory = self.prompt_encoder(prompt, p_keep)
        layers = sample_layers(tc.layer_weights, b, gen)
        m = build_masks(target, t_lens, layers, tc.alpha, self.mask_id, gen)
        frames = length_regulate(text, index)
        if tc.text_dropout > 0 or tc.prompt_dropout > 0:
            # the unconditional passes of guidance: text frames zeroed (text_dropout), or text
            # frames and prompt memory zeroed (prompt_dropout); one draw, disjoint shares
            u = torch.rand(b, generator=gen)
            drop_both = u < tc.prompt_dropout
            drop_text = u < tc.prompt_dropout + tc.text_dropout
            frames = frames * (~drop_text).to(frames.dtype).view(b, 1, 1)
            memory = memory * (~drop_both).to(memory.dtype).view(b, 1, 1)
        logits = self.smd(m.inputs, frames, m.layer, memory, t_keep, p_keep)
        smd_loss, acc = masked_cross_entropy(logits, target, m)
        total = smd_loss + tc.duration_loss_weight * dur_loss
        return {
            "loss": total,
            "smd": smd_loss.detach(),
            "dur": dur_loss.detach(),
            "acc": acc.detach(),
        }

    # ---- checkpoints ------------------------------------------------------------------------
    def save(self, path: Path, extra: dict[str, Any] | None = None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        torch.save(
            {
                "format": CHECKPOINT_FORMAT,
                "config": self.cfg.to_dict(),
                "state_dict": self.state_dict(),
                "extra": extra or {},
            },
            tmp,
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> tuple[MobileSpeech, dict[str, Any]]:
        path = Path(path)
        if not path.is_file():
            raise BundleError(f"checkpoint not found: {path}")
        try:
            ckpt = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as e:  # noqa: BLE001 - any unpickling failure is a corrupt file
            raise BundleError(f"cannot read checkpoint {path}: {e}") from e
        if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
            raise BundleError(
                f"{path} is not a MobileSpeech checkpoint (format {CHECKPOINT_FORMAT})"
            )
        model = cls(MobileSpeechConfig.from_dict(ckpt["config"]))
        model.load_state_dict(ckpt["state_dict"])
        model.eval()
        return model, ckpt.get("extra", {})


def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
