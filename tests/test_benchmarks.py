"""Benchmarks: FLOP counts (analytic vs torch's flop counter), the fixed-length calibration,
the target check, and a fast smoke run of ``python -m benchmarks`` on the tiny bundle that
checks the JSON schema. Speed figures themselves come from benchmarks/, never from a test."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from benchmarks import SCHEMA, flops
from benchmarks.ar_baseline import ARDecoder
from mobilespeech_model.config import preset, tiny_config


@pytest.mark.parametrize("t,s,n_ph", [(24, 16, 8), (130, 40, 30)])
def test_analytic_flops_match_flop_counter(t: int, s: int, n_ph: int) -> None:
    c = flops.counted_flops(tiny_config(), t, s, n_ph)
    assert c["smd_step_counted"] > 0
    assert c["smd_step_analytic"] == c["smd_step_counted"]
    assert c["text_analytic"] == c["text_counted"]
    assert c["decoder_chunk_analytic"] == c["decoder_chunk_counted"]


def test_ar_forward_flops_match_flop_counter() -> None:
    from torch.utils.flop_counter import FlopCounterMode

    cfg = tiny_config()
    model = ARDecoder(cfg, 64).eval().requires_grad_(False)
    caches = model._caches()
    with torch.inference_mode():
        model._forward(torch.randn(10, cfg.model.d_model), caches, 0)  # prefill 10 positions
        fc = FlopCounterMode(display=False)
        with fc:
            h = model._forward(torch.randn(1, cfg.model.d_model), caches, 10)
            model.head(h)
    assert fc.get_total_flops() == flops.ar_frame_flops(cfg, 10)


def test_per_utterance_consistency() -> None:
    cfg = preset("small")
    u = flops.per_utterance(cfg, 10.0, 150, 100)
    frames = round(10.0 * cfg.codec.frame_rate)  # 431 at the mel codec's 43 Hz
    assert u["frames"] == frames and u["sentences"] == 1
    assert u["smd_passes"] == sum(cfg.schedule.steps)
    assert u["smd_flops"] == u["smd_passes"] * u["smd_step_flops"]["total"]
    assert u["pipeline_flops"] == u["smd_flops"] + u["text_flops"] + u["decoder_flops"]
    parts = {k: v for k, v in u["smd_step_flops"].items() if k != "total"}
    assert sum(parts.values()) == u["smd_step_flops"]["total"]
    assert 0 < u["cross_kv_share_of_step"] < 0.05
    # 25 s is past max_frames (1000): two equal sentences, twice the passes
    long = flops.per_utterance(cfg, 25.0, 150, 100)
    assert long["sentences"] == 2 and long["smd_passes"] == 2 * sum(cfg.schedule.steps)
    # the AR decoder runs one forward per frame
    assert u["ar_forward_passes"] == frames


def test_calibration_hits_the_frame_count(tiny_bundle: Path) -> None:
    from benchmarks.worker import calibrate
    from mobilespeech_model.reference import ReferenceSynthesizer

    synth = ReferenceSynthesizer.from_bundle(tiny_bundle, 1)
    for frames in (50, 120):
        cal = calibrate(synth, frames)
        assert cal["frames"] == frames
        assert 0.25 <= cal["length_scale"] <= 4.0
        assert cal["ids"][-1] == synth.backend.symbols.id("<sil>")


def test_targets_and_ratios() -> None:
    from benchmarks.report import markdown, targets

    def cfg(kind: str, rtf: float, smd: float, **kw: object) -> dict:
        e = {
            "seconds_target": 10.0,
            "frames": 500,
            "rtf": {"median": rtf, "min": rtf, "max": rtf},
            "stages_rtf": {"smd": smd, "text": 0.0, "decoder": 0.0, "frontend": 0.0},
            "first_audio_ms": {"median": 150.0},
        }
        return {"kind": kind, "threads": 2, "ok": True, "lengths": [e], **kw}

    res = {
        "configs": [
            cfg("pte", 0.04, 0.03, variant="8da4w", bundle_name="b"),
            cfg("eager", 0.16, 0.12, variant="fp32"),
            cfg("ar", 0.50, 0.50, ar_mode="frame"),
        ],
        "settings": {"threads": [2], "lengths": [10.0], "repeats": 1, "warmup": 0},
        "bundles": {"b": {"program_bytes": 1_000_000}},
        "machine": {"cpu_model": "x", "logical_cpus": 2, "load_average": [0, 0, 0]},
        "versions": {},
        "git": {},
        "created": "now",
    }
    t = targets(res)
    assert t["evaluated"] and t["rtf_ok"] and t["first_audio_ok"]
    assert t["vs_eager"] == pytest.approx(4.0) and t["vs_eager_ok"]
    assert t["vs_ar_generation"] == pytest.approx(0.5 / 0.03)
    assert t["vs_ar_pipeline"] == pytest.approx((0.04 - 0.03 + 0.5) / 0.04) and t["vs_ar_ok"]
    res["targets"] = t
    assert "x vs eager" in markdown(res)


def test_benchmark_smoke_run(tiny_bundle: Path, tmp_path: Path) -> None:
    """One length, one repeat, one thread: every measurement kind and the JSON schema."""
    from benchmarks.__main__ import main

    out = tmp_path / "results"
    rc = main(
        [
            "--bundle",
            str(tiny_bundle),
            "--variants",
            "fp32",
            "--threads",
            "1",
            "--lengths",
            "1",
            "--repeats",
            "1",
            "--warmup",
            "0",
            "--no-frontend",
            "--matmul-seconds",
            "0.1",
            "--out-dir",
            str(out),
            "--tag",
            "smoke",
            "--timeout",
            "600",
        ]
    )
    res = json.loads((out / "smoke.json").read_text())
    assert rc == 0, [c.get("error") for c in res["configs"]]
    assert res["schema"] == SCHEMA
    for key in (
        "created",
        "machine",
        "versions",
        "git",
        "settings",
        "bundles",
        "configs",
        "flops",
        "matmul_peak_gflops",
        "targets",
    ):
        assert key in res, key
    assert res["machine"]["cpu_model"] and res["machine"]["logical_cpus"] >= 1
    assert {"torch", "executorch"} <= set(res["versions"])
    assert "commit" in res["git"]
    ((name, binfo),) = res["bundles"].items()
    assert binfo["variant"] == "fp32" and binfo["program_bytes"] > 0
    kinds = {c["kind"] for c in res["configs"]}
    assert {"pte", "eager", "ar"} <= kinds
    cli_built = (Path(__file__).resolve().parent.parent / "build/native/mobilespeech_cli").is_file()
    assert ("cli" in kinds) == cli_built or any("C CLI" in n for n in res["notes"])
    for c in res["configs"]:
        assert c["ok"] and c["threads"] == 1
        (e,) = c["lengths"]
        assert e["seconds_target"] == 1.0
        assert {"median", "min", "max"} <= set(e["rtf"]) and e["rtf"]["median"] > 0
        assert e["peak_rss_mib"] > 0
        if c["kind"] in ("pte", "eager", "cli"):
            assert e["frames"] == 50  # the calibrated length, whatever the model predicts
            assert set(e["stages_rtf"]) >= {"frontend", "prompt", "text", "smd", "decoder"}
            assert e["first_audio_ms"]["median"] > 0
            assert e["smd_calls"] == sum(tiny_config().schedule.steps)
    pte = next(c for c in res["configs"] if c["kind"] == "pte")
    assert pte["load_s"] > 0 and pte["rss_mib"]["after_load"] > 0
    assert "1" in pte["inputs"] and pte["inputs"]["1"]["symbols"]
    # FLOPs: analytic == counted; passes and totals consistent with the config
    f = res["flops"]["tiny"]
    chk = f["flop_counter_check"]
    assert chk["smd_step_rel_diff"] == 0 and chk["decoder_chunk_rel_diff"] == 0
    (u,) = f["per_utterance"]
    assert u["smd_passes"] == f["smd_passes_per_sentence"] == sum(tiny_config().schedule.steps)
    assert u["smd_flops"] == u["smd_passes"] * u["smd_step_flops"]["total"]
    assert math.isclose(u["smd_gflops_per_audio_second"], u["smd_flops"] / 1.0 / 1e9)
    assert res["matmul_peak_gflops"]["1"]["square_2048"] > 0
    md = (out / "smoke.md").read_text()
    assert "| config | thr | length s |" in md and "FLOP-limit RTF" in md
    for p in res.get("plots", []):
        assert Path(p).is_file()


def test_stage_profile_tables_add_up() -> None:
    """benchmarks.stages: per-stage shares of the wall time, 'other' the remainder, one row per
    runtime x text, and the side-by-side header per bundle (synthetic timings: no model run)."""
    from benchmarks import stages

    def py_run(wall: float) -> dict:
        return {"wall_s": wall, "audio_s": 3.0, "frontend": 0.01, "prompt": 0.0, "text": 0.02,
                "smd": 0.15, "decoder": 0.01, "vocoder": 0.01, "first_audio": 0.1,
                "smd_calls": 14, "frames": 130}  # fmt: skip

    py = {"texts": {"readme": {"cold": {**py_run(0.3), "prompt": 0.05},
                               "runs": [py_run(0.21), py_run(0.22), py_run(0.25)]}},
          "peak_rss_mib": 600.0}  # fmt: skip
    cli = {"texts": {"readme": {"stages_s": {"frontend": 0.0, "prompt": 0.0, "text": 0.02,
                                             "smd": 0.15, "decoder": 0.01, "vocoder": 0.01},
                                "rtf": {"median": 0.07}, "audio_s": 3.0,
                                "first_audio_ms": {"median": 100.0}, "smd_calls": 14,
                                "frames": 130, "peak_rss_mib": 90.0}}}  # fmt: skip
    rows = stages.summarize(py, cli)
    p, c = rows["python/readme"], rows["c/readme"]
    assert abs(p["wall"] - 220.0) < 1e-6 and abs(p["other"] - 20.0) < 1e-6  # median run
    assert abs(sum(p[k] for k in (*stages.STAGES, "other")) - p["wall"]) < 1e-6
    assert abs(c["wall"] - 210.0) < 1e-6 and c["first_audio_ms"] == 100.0
    assert p["cold_prompt_ms"] == 50.0 and p["peak_rss_mib"] == 600.0
    res = {"when": "now", "machine": "test", "load": [0], "load_end": [0], "repeats": 3,
           "peers": {}, "bundles": {"demo": {
               "overlap": {"vocoder": "vocos", "chunk": 64, "context": 10,
                           "window_over_kept": 84 / 64, "guidance": 2.0, "smd_passes": 2,
                           "steps": [8, 2]},
               "bundle_mb": 29.2, "vocoder_mb": 3.6,
               "vocoder_alone": {"1": {"rtf": 0.005}, "2": {"rtf": 0.004}},
               "threads": {"1": rows}}}}  # fmt: skip
    md = stages.markdown(res)
    assert "| demo | vocos | 29.2 | 3.6 | 0.0050 / 0.0040 |" in md
    assert "| demo | python/readme | 1 | 3.00 |" in md and "| demo | c/readme | 1 |" in md
