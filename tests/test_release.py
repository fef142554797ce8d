"""Release export: checks (parity, delegation against the committed baseline), outputs
(release.json, SUMMARY.md, SHA256SUMS) and exit codes.

The fast tests reuse the session's tiny bundle in place of a fresh export (the release logic
is what they test); the slow one runs ``python -m export.release`` for real, every variant.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from export import release

REPO = Path(__file__).resolve().parent.parent


def _stats() -> dict[str, Any]:
    return {
        "smd.pte": {"delegated_calls": 6, "non_trivial_portable": {}},
        "prompt.pte": {"delegated_calls": 7, "non_trivial_portable": {"encode:aten.mm.default": 2}},
    }


def test_committed_baseline_covers_the_presets() -> None:
    base = json.loads(release.BASELINE.read_text())
    for config in ("tiny", "small"):
        for v in release.ALL_VARIANTS:
            progs = base["configs"][config][v]
            assert set(progs) == {"prompt.pte", "text.pte", "smd.pte", "decoder.pte"}
            for p in progs.values():
                assert p["delegated_calls"] >= 1
                assert isinstance(p["non_trivial_portable"], dict)


def test_delegation_check() -> None:
    baseline = {"configs": {"tiny": {"fp32": _stats()}}}
    same = release.check_delegation("tiny", "fp32", _stats(), baseline)
    assert same["regressions"] == [] and same["notes"] == []

    worse = copy.deepcopy(_stats())
    worse["smd.pte"]["delegated_calls"] = 9
    worse["smd.pte"]["non_trivial_portable"]["step:aten.native_layer_norm.default"] = 4
    worse["prompt.pte"]["non_trivial_portable"]["encode:aten.mm.default"] = 3
    r = release.check_delegation("tiny", "fp32", worse, baseline)
    assert len(r["regressions"]) == 3
    assert any("more pieces" in x for x in r["regressions"])
    assert any("new non-delegated op step:aten.native_layer_norm" in x for x in r["regressions"])

    better = copy.deepcopy(_stats())
    better["prompt.pte"]["non_trivial_portable"] = {}
    r = release.check_delegation("tiny", "fp32", better, baseline)
    assert r["regressions"] == [] and any("no longer outside" in n for n in r["notes"])

    missing = copy.deepcopy(_stats())
    del missing["smd.pte"]
    assert release.check_delegation("tiny", "fp32", missing, baseline)["regressions"]

    # a config without counts: only op kinds some baseline config knows are accepted
    r = release.check_delegation("base", "fp32", _stats(), baseline)
    assert r["regressions"] == [] and "op-kind check only" in r["notes"][0]
    r = release.check_delegation("base", "fp32", worse, baseline)
    assert len(r["regressions"]) == 1 and "native_layer_norm" in r["regressions"][0]


def test_sha256sums_format(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.pte").write_bytes(b"program")
    (tmp_path / "release.json").write_text("{}")
    path = release.write_sha256sums(tmp_path)
    lines = path.read_text().splitlines()
    assert lines == [
        f"{hashlib.sha256(b'program').hexdigest()}  a/x.pte",
        f"{hashlib.sha256(b'{}').hexdigest()}  release.json",
    ]


def _fake_export(src: Path, parity_failures: list[str] | None = None):  # noqa: ANN202
    """An export_bundle stand-in that copies an already exported bundle."""

    def export_bundle(
        model,
        symbols,
        out,
        variant,
        prompt_wav,
        cache_dir=None,  # noqa: ANN001, ANN202
        include_checkpoint=False,
        run_parity=True,
        name=None,
    ):
        shutil.copytree(src, out, dirs_exist_ok=True)
        if parity_failures is not None:
            p = json.loads((out / "parity.json").read_text())
            p["failures"] = parity_failures
            (out / "parity.json").write_text(json.dumps(p))
        m = json.loads((out / "manifest.json").read_text())
        assert m["variant"] == variant
        return m

    return export_bundle


def _verify_sums(out: Path) -> None:
    lines = (out / "SHA256SUMS").read_text().splitlines()
    listed = {line.split("  ", 1)[1] for line in lines}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert listed == on_disk - {"SHA256SUMS"}
    for line in lines:
        digest, rel = line.split("  ", 1)
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == digest


def _args(prompt: Path, out: Path, *extra: str) -> list[str]:
    return [
        "--preset",
        "tiny",
        "--random-init",
        "--variants",
        "fp32",
        "--prompt",
        str(prompt),
        "--out",
        str(out),
        "--threads",
        "1",
        *extra,
    ]


def test_release_from_tiny_bundle(
    tiny_bundle: Path, prompt_wav: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("export.bundle_export.export_bundle", _fake_export(tiny_bundle))
    out = tmp_path / "rel"
    rc = release.main(
        _args(
            prompt_wav, out, "--bench-threads", "1", "--bench-lengths", "1", "--bench-repeats", "1"
        )
    )
    rel = json.loads((out / "release.json").read_text())
    assert rc == 0, rel["regressions"]
    assert rel["format"] == "mobilespeech-release" and rel["status"] == "ok"
    assert rel["source"] == {"preset": "tiny", "random_init": True, "seed": 0}
    v = rel["variants"]["fp32"]
    assert v["parity"]["failures"] == [] and v["delegation"]["regressions"] == []
    assert v["program_bytes"] > 0 and "fp32/smd.pte" in v["files"]
    bench = rel["benchmark"]
    assert bench["ok"], bench
    (b,) = bench["per_variant"]["fp32"]["python"]
    assert b["seconds"] == 1.0 and b["threads"] == 1 and b["rtf_median"] > 0
    assert (out / bench["results"]).is_file()
    summary = (out / "SUMMARY.md").read_text()
    assert "| fp32 |" in summary and "OK" in summary
    _verify_sums(out)


def test_release_fails_loudly_on_parity(
    tiny_bundle: Path,
    prompt_wav: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(
        "export.bundle_export.export_bundle",
        _fake_export(tiny_bundle, ["decode output 0: max abs diff 1e-2"]),
    )
    out = tmp_path / "rel"
    assert release.main(_args(prompt_wav, out, "--skip-bench")) == 1
    assert "PARITY FAILURE fp32" in capsys.readouterr().err
    rel = json.loads((out / "release.json").read_text())
    assert rel["status"] == "failed" and "PARITY" in rel["regressions"][0]
    assert "FAILED" in (out / "SUMMARY.md").read_text()
    _verify_sums(out)  # a failed release is still inspectable


def test_release_fails_on_delegation_regression(
    tiny_bundle: Path, prompt_wav: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("export.bundle_export.export_bundle", _fake_export(tiny_bundle))
    base = json.loads(release.BASELINE.read_text())
    base["configs"]["tiny"]["fp32"]["smd.pte"]["delegated_calls"] = 1  # pretend it was better
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(base))
    out = tmp_path / "rel"
    assert release.main(_args(prompt_wav, out, "--skip-bench", "--baseline", str(path))) == 1
    rel = json.loads((out / "release.json").read_text())
    assert any("DELEGATION" in r and "smd.pte" in r for r in rel["regressions"])

    # --update-baseline records the current numbers instead (and then passes)
    assert (
        release.main(
            _args(
                prompt_wav,
                tmp_path / "rel2",
                "--skip-bench",
                "--baseline",
                str(path),
                "--update-baseline",
            )
        )
        == 0
    )
    assert (
        json.loads(path.read_text())["configs"]["tiny"]["fp32"]["smd.pte"]["delegated_calls"] >= 1
    )
    assert (
        release.main(_args(prompt_wav, tmp_path / "rel3", "--skip-bench", "--baseline", str(path)))
        == 0
    )


def test_release_refuses_bad_arguments(prompt_wav: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as e:
        release.main(["--preset", "tiny", "--prompt", str(prompt_wav), "--out", str(tmp_path)])
    assert e.value.code == 2  # --preset without --random-init
    with pytest.raises(SystemExit):
        release.main(_args(prompt_wav, tmp_path, "--variants", "int3"))


@pytest.mark.slow
def test_release_end_to_end(prompt_wav: Path, tmp_path: Path) -> None:
    """The real command: every variant exported (export cache permitting), parity, baseline,
    a short benchmark, checksums."""
    out = tmp_path / "rel"
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "export.release",
            "--preset",
            "tiny",
            "--random-init",
            "--prompt",
            str(prompt_wav),
            "--out",
            str(out),
            "--threads",
            "1",
            "--cache-dir",
            str(REPO / ".cache" / "export"),
            "--bench-threads",
            "1",
            "--bench-lengths",
            "1",
            "--bench-repeats",
            "1",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    rel = json.loads((out / "release.json").read_text())
    assert set(rel["variants"]) == {"fp32", "8da8w", "8da4w"}
    for v in rel["variants"]:
        assert (out / v / "manifest.json").is_file() and (out / v / "parity.json").is_file()
        assert set(rel["benchmark"]["per_variant"][v]) >= {"python"}
    sizes = {v: r["program_bytes"] for v, r in rel["variants"].items()}
    assert sizes["8da4w"] < sizes["fp32"]
    _verify_sums(out)
