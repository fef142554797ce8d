"""Parity of a bundle against the PyTorch reference on the same inputs, at three levels.

- each program against its eager module (``method_parity``);
- the reference loop over the programs against the eager model: tokens and audio
  (``pipeline_parity``);
- the native core, what apps ship (libmobilespeech through ``native_binding``), against the
  reference loop over the same programs, ids, prompt and seed: the same samples
  (``native_parity``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from mobilespeech_model.audio import condition_prompt
from mobilespeech_model.bundle import Bundle
from mobilespeech_model.eager import EagerBackend
from mobilespeech_model.executorch_backend import ExecuTorchBackend
from mobilespeech_model.nn import MobileSpeech
from mobilespeech_model.nn.mel_codec import MelCodec
from mobilespeech_model.nn.mobilespeech import decode_mel_chunk
from mobilespeech_model.reference import ReferenceSynthesizer, Timings
from mobilespeech_model.schedule import decode_windows, window_tokens

from .programs import program_specs

FP32_ATOL = 1e-4  # max abs difference allowed per float output for the fp32 variant
# quantized mel decoders: mean |log-mel difference| on identical tokens (0.1 = about 10 % in
# amplitude, under 1 dB); the vocoder turns tiny mel errors into phase changes, so the
# waveform SNR is reported but not the gate there
QUANT_MEL_ATOL = 0.1
# the native core and the reference loop run the same programs on the same inputs: the audio
# may differ only by float summation order in the loop's own few lines (mel matching)
NATIVE_ATOL = 1e-4
PARITY_TEXT = "The quick brown fox jumps over the lazy dog, and then it rests."


def snr_db(ref: np.ndarray, test: np.ndarray) -> float:
    n = min(ref.size, test.size)
    ref, test = ref[:n].astype(np.float64), test[:n].astype(np.float64)
    noise = float(np.sum((ref - test) ** 2))
    if noise == 0.0:
        return math.inf
    return 10.0 * math.log10(max(float(np.sum(ref**2)), 1e-20) / noise)


def _compare(a: torch.Tensor, b: torch.Tensor) -> dict[str, Any]:
    if a.dtype.is_floating_point:
        return {"max_abs_diff": float((a.float() - b.float()).abs().max()) if a.numel() else 0.0}
    return {"mismatches": int((a != b).sum()), "elements": int(a.numel())}


def method_parity(model: MobileSpeech, backend: ExecuTorchBackend) -> dict[str, Any]:
    """Each method on the export example inputs and on a second, longer size."""
    out: dict[str, Any] = {}
    method_for = {
        "encode": "encode",
        "memory": "memory",
        "text_and_durations": "text_and_durations",
        "step": "step",
        "decode": "decode",
        "vocode": "vocode",
    }
    for spec in program_specs(model):
        for m in spec.methods:
            with torch.no_grad():
                ref = m.module(*m.inputs)
            ref_list = list(ref) if isinstance(ref, tuple) else [ref]
            got = backend._run(method_for[m.name], [x.contiguous() for x in m.inputs])
            out[m.name] = [_compare(r, g) for r, g in zip(ref_list, got, strict=True)]
    return out


def pipeline_parity(
    model: MobileSpeech,
    bundle: Bundle,
    backend: ExecuTorchBackend,
    prompt: np.ndarray,
    prompt_rate: int,
    seed: int = 0,
) -> dict[str, Any]:
    """Same text, prompt and seed through both backends: token agreement and waveform SNR."""
    eager = ReferenceSynthesizer(EagerBackend(model, bundle.symbols))
    pte = ReferenceSynthesizer(backend)
    ids = eager.encode_text(PARITY_TEXT)[0]
    toks = {}
    for name, syn in (("eager", eager), ("pte", pte)):
        p_tokens, memory = syn._prompt(prompt, prompt_rate)
        toks[name] = syn._generate(
            ids, p_tokens, memory, seed, tuple(model.cfg.schedule.steps), 1.0, Timings()
        )
    a, b = toks["eager"], toks["pte"]
    n = min(a.shape[1], b.shape[1])
    same_len = a.shape[1] == b.shape[1]
    layer_agree = [float((a[j, :n] == b[j, :n]).mean()) for j in range(a.shape[0])]
    wav_eager = np.concatenate(list(eager._decode(a, Timings())))
    wav_pte_same = np.concatenate(list(pte._decode(a, Timings())))
    wav_pte = np.concatenate(list(pte._decode(b, Timings())))
    out = {
        "frames_eager": int(a.shape[1]),
        "frames_pte": int(b.shape[1]),
        "same_length": same_len,
        "layer_token_agreement": layer_agree,
        "decoder_snr_db_same_tokens": snr_db(wav_eager, wav_pte_same),
        "pipeline_snr_db": snr_db(wav_eager, wav_pte),
    }
    if isinstance(model.codec, MelCodec):
        out["decoder_mel_abs_diff_same_tokens"] = _mel_abs_diff(model, backend, a)
    out["native"] = native_parity(bundle, pte, ids, prompt, prompt_rate, seed)
    return out


def native_parity(bundle: Bundle, reference: ReferenceSynthesizer, ids: list[int],
                  prompt: np.ndarray, prompt_rate: int, seed: int) -> dict[str, Any]:
    """The native core against the reference loop over the same programs: same phoneme ids
    (the text frontends are compared by tests), the same conditioned prompt at the bundle's
    rate (so neither side resamples), the same seed. Needs libmobilespeech
    (scripts/build_native.sh; the set-up builds it)."""
    from mobilespeech_runtime.native_binding import NativeSynthesizer

    cond = condition_prompt(prompt, prompt_rate, bundle.sample_rate, reference.config.audio)
    ref = reference.synthesize_phonemes([ids], cond.samples, cond.sample_rate, seed=seed).samples
    with NativeSynthesizer(bundle.root) as core:
        got = core.synthesize_phonemes([ids], cond.samples, cond.sample_rate, seed=seed)
    n = min(ref.size, got.size)
    return {
        "samples_reference": int(ref.size),
        "samples_native": int(got.size),
        "max_abs_diff": float(np.max(np.abs(ref[:n] - got[:n]))) if n else 0.0,
        "snr_db": snr_db(ref, got),
    }


def _mel_abs_diff(model: MobileSpeech, backend: ExecuTorchBackend, tokens: np.ndarray) -> float:
    """Mean |log-mel difference| between the eager decoder and decoder.pte, window by window."""
    c = model.cfg.codec
    diffs = []
    for win in decode_windows(tokens.shape[1], c.decode_chunk_frames):
        window, keep = window_tokens(tokens, win, c.decode_chunk_frames, c.decode_context_frames)
        w, k = torch.from_numpy(window), torch.from_numpy(keep)
        with torch.no_grad():
            ref = decode_mel_chunk(model.codec, w, k)
        got = backend._run("decode", [w, k])[0]
        diffs.append(float((ref - got).abs().mean()))
    return float(np.mean(diffs))


# the same gate as `python -m export.vocoder swap` (export/vocoder.py)
MAX_VOCODER_MEL_L1 = 0.1


def check(variant: str, report: dict[str, Any]) -> list[str]:
    """Failures against the bounds: fp32 must match tightly; quantized ones by tokens/SNR."""
    failures = []
    if variant == "fp32":
        for method, outs in report["methods"].items():
            for i, o in enumerate(outs):
                if o.get("max_abs_diff", 0.0) > FP32_ATOL:
                    failures.append(
                        f"{method} output {i}: max abs diff {o['max_abs_diff']:.2e} "
                        f"> {FP32_ATOL:.0e}"
                    )
        if report["pipeline"]["layer_token_agreement"][0] < 0.99:
            failures.append("fp32 layer-1 token agreement below 0.99")
    # A quantized mel decoder's small mel errors reach the waveform through the vocoder's
    # phase, so waveform SNR understates how close it is; its floor is lower (the evaluation's
    # WER / similarity is the quality gate for quantized variants).
    pipe = report["pipeline"]
    if variant != "fp32" and report.get("mel_codec"):
        if pipe["decoder_mel_abs_diff_same_tokens"] > QUANT_MEL_ATOL:
            failures.append(
                f"decoder log-mel differs by {pipe['decoder_mel_abs_diff_same_tokens']:.3f} "
                f"on identical tokens (> {QUANT_MEL_ATOL})"
            )
    elif pipe["decoder_snr_db_same_tokens"] < 30.0:
        failures.append("decoder SNR on identical tokens below 30 dB")
    nat = pipe.get("native")
    if nat is not None and (nat["samples_native"] != nat["samples_reference"]
                            or nat["max_abs_diff"] > NATIVE_ATOL):
        failures.append(
            f"the native core differs from the reference loop over the same programs: "
            f"{nat['samples_native']} vs {nat['samples_reference']} samples, max abs diff "
            f"{nat['max_abs_diff']:.2e} (> {NATIVE_ATOL:.0e})"
        )
    voc = report.get("vocoder")  # a distilled student: its program against the eager student
    if voc and voc["mel_l1"] > MAX_VOCODER_MEL_L1:
        failures.append(
            f"vocoder.pte's audio differs from the student's by log-mel {voc['mel_l1']:.3f} "
            f"(> {MAX_VOCODER_MEL_L1})"
        )
    return failures
