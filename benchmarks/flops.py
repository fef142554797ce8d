"""FLOP counts from the config (analytic), cross-checked with torch.utils.flop_counter.

Only matrix-like work is counted (linear layers, batched matmuls, convolutions), as
``torch.utils.flop_counter.FlopCounterMode`` counts it: 2 FLOPs per multiply-add, biases,
norms, activations, softmax, gathers and the sampling glue not counted (they are O(T*D) or
O(T*V) against O(T*D^2) and O(T^2*D)). A matmul [m,k]x[k,n] is 2*m*k*n FLOPs.

Shapes: T target frames, S prompt frames, L phonemes, D d_model, F = ffn_mult * D,
K conv kernel, N codebooks, V codebook size.
"""

from __future__ import annotations

import math
from typing import Any

from mobilespeech_model.config import MobileSpeechConfig


def block_flops(t: int, d: int, f: int, k: int, s: int | None = None) -> dict[str, int]:
    """One Conformer block (macaron FFNs, self-attention, conv module, optional cross-attention
    to an S-frame memory) on T positions, split by component."""
    out = {
        "ffn": 2 * (2 * t * d * f + 2 * t * f * d),  # ff1 + ff2 (up and down each)
        "self_attn_proj": 4 * 2 * t * d * d,  # q, k, v, o
        "self_attn_scores": 2 * 2 * t * t * d,  # q k^T and attn v over all heads
        "conv": 2 * t * d * 2 * d + 2 * t * d * k + 2 * t * d * d,  # pw1 (GLU), depthwise, pw2
    }
    if s is not None:
        out["cross_attn_q_o"] = 2 * 2 * t * d * d
        out["cross_attn_kv"] = 2 * 2 * s * d * d  # memory projections: constant across steps
        out["cross_attn_scores"] = 2 * 2 * t * s * d
    return out


def smd_step_flops(cfg: MobileSpeechConfig, t: int, s: int) -> dict[str, int]:
    """One unmasking step over T frames with an S-frame prompt: one SMD forward pass, two
    (a batch of 2) with text guidance, three with prompt guidance apart."""
    m, c = cfg.model, cfg.codec
    d, f = m.d_model, m.d_model * m.ffn_mult
    passes = cfg.schedule.smd_passes
    blk = block_flops(t, d, f, m.conv_kernel, s)
    out = {k: v * m.smd_layers * passes for k, v in blk.items()}
    out["head"] = passes * 2 * t * d * c.n_codebooks * c.codebook_size  # all N layers' logits
    out["total"] = sum(out.values())
    return out


def text_program_flops(cfg: MobileSpeechConfig, n_phonemes: int, s: int) -> int:
    """text.pte: text encoder over L, duration extractor over S (+ K-query pooling),
    duration predictor over K + L."""
    m = cfg.model
    d, f, k, kq = m.d_model, m.d_model * m.ffn_mult, m.conv_kernel, m.duration_tokens

    def stack(n: int, t: int) -> int:
        return n * sum(block_flops(t, d, f, k).values())

    pool = 2 * kq * d * d * 2 + 2 * s * d * d * 2 + 2 * 2 * kq * s * d  # q,o + k,v + scores
    return (
        stack(m.text_layers, n_phonemes)
        + stack(m.duration_layers, s)
        + pool
        + stack(m.duration_layers, kq + n_phonemes)
        + 2 * n_phonemes * d  # output projection to one log-duration
    )


def prompt_memory_flops(cfg: MobileSpeechConfig, s: int) -> int:
    m = cfg.model
    d, f = m.d_model, m.d_model * m.ffn_mult
    return m.prompt_layers * sum(block_flops(s, d, f, m.conv_kernel).values())


def decoder_window_frames(cfg: MobileSpeechConfig) -> int:
    return cfg.codec.decode_chunk_frames + 2 * cfg.codec.decode_context_frames


def decoder_chunk_flops(cfg: MobileSpeechConfig) -> int:
    """decoder.pte, one fixed window of chunk + 2 * context frames (Vocos decoder)."""
    c = cfg.codec
    if c.kind != "encodec" or c.decoder != "vocos":
        return 0  # SEANet decoder, mel decoder + vocoder: counted by the flop counter only
    w = decoder_window_frames(cfg)
    vd, inter, kv = c.vocos_dim, c.vocos_intermediate, c.vocos_kernel
    n_fft = c.n_fft
    bins = n_fft // 2 + 1
    embed = 2 * w * vd * c.dimension * kv
    blocks = c.vocos_layers * (2 * w * vd * kv + 2 * w * vd * inter + 2 * w * inter * vd)
    head = 2 * w * vd * 2 * bins + 2 * w * 2 * bins * n_fft
    return embed + blocks + head


def ar_frame_flops(cfg: MobileSpeechConfig, context: int, per: str = "frame") -> int:
    """One autoregressive decoder forward for one new position with a KV cache of ``context``
    positions (same d_model / layers as the SMD; self-attention + FFN blocks)."""
    m, c = cfg.model, cfg.codec
    d, f = m.d_model, m.d_model * m.ffn_mult
    layer = 4 * 2 * d * d + 2 * 2 * d * f + 2 * 2 * (context + 1) * d
    head = 2 * d * (c.n_codebooks * c.codebook_size if per == "frame" else c.codebook_size)
    return m.smd_layers * layer + head


def per_utterance(
    cfg: MobileSpeechConfig, seconds: float, prompt_frames: int, n_phonemes: int | None = None
) -> dict[str, Any]:
    """FLOPs and forward passes for one utterance of ``seconds`` (one sentence if it fits)."""
    fr = cfg.codec.frame_rate
    frames = int(round(seconds * fr))
    sentences = max(1, math.ceil(frames / cfg.model.max_frames))
    t = math.ceil(frames / sentences)
    passes = sum(cfg.schedule.steps) * sentences
    step = smd_step_flops(cfg, t, prompt_frames)
    smd = step["total"] * passes
    n_ph = n_phonemes if n_phonemes is not None else max(2, round(t / 5))
    text = text_program_flops(cfg, n_ph, prompt_frames) * sentences
    windows = sum(math.ceil(t / cfg.codec.decode_chunk_frames) for _ in range(sentences))
    dec = decoder_chunk_flops(cfg) * windows
    prefix = prompt_frames + n_ph
    ar = sum(ar_frame_flops(cfg, prefix + i) for i in range(frames))
    return {
        "seconds": seconds,
        "frames": frames,
        "sentences": sentences,
        "smd_passes": passes,
        "smd_passes_per_audio_second": passes / seconds,
        "smd_step_flops": step,
        "smd_flops": smd,
        "text_flops": text,
        "decoder_windows": windows,
        "decoder_flops": dec,
        "pipeline_flops": smd + text + dec,
        "smd_gflops_per_audio_second": smd / seconds / 1e9,
        "pipeline_gflops_per_audio_second": (smd + text + dec) / seconds / 1e9,
        "ar_forward_passes": frames,
        "ar_flops": ar,
        "ar_gflops_per_audio_second": ar / seconds / 1e9,
        "cross_kv_share_of_step": step["cross_attn_kv"] / step["total"],
        "head_share_of_step": step["head"] / step["total"],
        "head_unused_share_of_step": step["head"] * (1 - 1 / cfg.codec.n_codebooks) / step["total"],
    }


def counted_flops(cfg: MobileSpeechConfig, t: int, s: int, n_phonemes: int) -> dict[str, Any]:
    """torch.utils.flop_counter on one eager SMD step, one text call and one decoder window,
    next to the analytic numbers (random weights: FLOPs do not depend on them)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from mobilespeech_model.nn import MobileSpeech

    torch.manual_seed(0)
    model = MobileSpeech(cfg).eval().requires_grad_(False)
    n, v, d = cfg.codec.n_codebooks, cfg.codec.codebook_size, cfg.model.d_model
    tokens = torch.full((1, n, t), v, dtype=torch.long)
    text = torch.randn(1, n_phonemes, d)
    index = torch.randint(0, n_phonemes, (1, t))
    memory = torch.randn(1, s, d)
    noise = torch.rand(1, t, v + 1)
    prompt = torch.randint(0, v, (1, n, s))
    w = decoder_window_frames(cfg)
    out: dict[str, Any] = {"T": t, "S": s, "L": n_phonemes}
    with torch.no_grad():
        fc = FlopCounterMode(display=False)
        with fc:
            model.smd_step(
                tokens,
                torch.tensor([0]),
                text,
                index,
                memory,
                noise,
                torch.tensor([1.0]),
                torch.tensor([t // 2]),
            )
        out["smd_step_counted"] = fc.get_total_flops()
        fc = FlopCounterMode(display=False)
        with fc:
            model.text_and_durations(
                torch.randint(4, 60, (1, n_phonemes)), prompt, torch.tensor([1.0])
            )
        out["text_counted"] = fc.get_total_flops()
        fc = FlopCounterMode(display=False)
        with fc:
            model.decode_chunk(torch.randint(0, v, (1, n, w)), torch.ones(1, w))
        out["decoder_chunk_counted"] = fc.get_total_flops()
    out["smd_step_analytic"] = smd_step_flops(cfg, t, s)["total"]
    out["text_analytic"] = text_program_flops(cfg, n_phonemes, s)
    out["decoder_chunk_analytic"] = decoder_chunk_flops(cfg)
    for k in ("smd_step", "text", "decoder_chunk"):
        a, c = out[f"{k}_analytic"], out[f"{k}_counted"]
        out[f"{k}_rel_diff"] = abs(a - c) / max(c, 1)
    return out
