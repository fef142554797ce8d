import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from synthetic import voice_like

from mobilespeech_model.config import tiny_config
from mobilespeech_runtime.cli import main

REPO = Path(__file__).resolve().parent.parent


def test_reference_cli_untrained_tiny_says_it_is_noise(tmp_path: Path, prompt_wav: Path,
                                                      capsys) -> None:
    """--untrained-tiny moved with the PyTorch reference to ``python -m mobilespeech_model.cli``."""
    from mobilespeech_model.cli import main as reference_main

    out = tmp_path / "o.wav"
    rc = reference_main(["synth", "--untrained-tiny", "--text", "Hello world.", "--prompt",
                         str(prompt_wav), "--out", str(out), "--seed", "1", "--threads", "2"])
    cap = capsys.readouterr()
    assert rc == 0
    assert "noise" in cap.err
    assert "RTF" in cap.out
    data, sr = sf.read(out)
    assert sr == tiny_config().codec.sample_rate and data.size > 0


def test_reference_cli_synth_from_checkpoint_and_info(
    tmp_path: Path, tiny_checkpoint: Path, prompt_wav: Path, capsys
) -> None:
    from mobilespeech_model.cli import main as reference_main

    out = tmp_path / "o.wav"
    assert reference_main(["synth", "--checkpoint", str(tiny_checkpoint), "--text", "One. Two.",
                           "--prompt", str(prompt_wav), "--out", str(out), "--steps", "2,1"]) == 0
    assert out.is_file()
    assert reference_main(["info", "--checkpoint", str(tiny_checkpoint)]) == 0
    assert f'"sample_rate": {tiny_config().codec.sample_rate}' in capsys.readouterr().out


@pytest.mark.parametrize("flags", [["--checkpoint", "{ckpt}"], ["--untrained-tiny"],
                                   ["--backend", "eager"]])
def test_moved_flags_name_their_replacement(tmp_path: Path, tiny_checkpoint: Path,
                                            flags: list[str], capsys) -> None:
    """The runtime runs bundles only; the flags of the PyTorch reference fail with usage
    status 2 and a message naming the command that has them now."""
    argv = ["synth", "--text", "Hi.", "--out", str(tmp_path / "o.wav")]
    argv += [f.replace("{ckpt}", str(tiny_checkpoint)) for f in flags]
    assert main(argv) == 2
    assert "python -m mobilespeech_model.cli synth" in capsys.readouterr().err
    assert not (tmp_path / "o.wav").exists()


def test_errors_exit_with_the_documented_status(
    tmp_path: Path, tiny_bundle: Path, prompt_wav: Path, capsys
) -> None:
    out = tmp_path / "o.wav"
    rc = main(["synth", "--bundle", str(tiny_bundle), "--text", "   ", "--prompt",
               str(prompt_wav), "--out", str(out)])
    assert rc == 3 and "error:" in capsys.readouterr().err  # bad text
    rc = main(["synth", "--bundle", str(tiny_bundle), "--text", "Hi.", "--prompt",
               str(tmp_path / "nope.wav"), "--out", str(out)])
    assert rc == 5 and "not found" in capsys.readouterr().err  # a file's (I/O) error
    rc = main(["synth", "--bundle", str(tmp_path / "nobundle"), "--text", "Hi.", "--out", str(out)])
    assert rc == 4 and "no model bundle" in capsys.readouterr().err  # bad bundle
    assert not out.exists()


@pytest.mark.parametrize(
    "args, fragment, status",
    [
        (["--text", ""], "empty", 3),
        (["--text", "Hi\udcff"], "UTF-8", 3),
        (["--text", "a " * 1001], "characters", 3),
        (["--text", "\U0001f600 !!!"], "nothing to pronounce", 3),
        (["--text-file", "/dev/zero"], "not a regular file", 5),
        (["--text", "Hi.", "--out", "{tmp}"], "directory", 2),
        (["--text", "Hi.", "--out", "{tmp}/x.txt"], ".wav", 2),
        (["--text", "Hi.", "--out", "{tmp}/file.wav/x.wav"], "not a directory", 5),
        (["--text", "Hi.", "--out", "/proc/x.wav"], "cannot write", 5),
        (["--text", "Hi.", "--prompt", "{tmp}/voice.wav", "--out", "{tmp}/voice.wav"],
         "overwrite", 2),
        (["--text", "Hi.", "--prompt", "{tmp}/rate1.wav"], "Hz", 3),
        (["--text", "Hi.", "--prompt", "{tmp}/short.wav"], "at least", 3),
        (["--text", "Hi.", "--steps", "1,1,1,1,1,1,1,1,1"], "steps", 2),
    ],
)
def test_bad_input_is_reported_before_any_heavy_import(
    tmp_path: Path, args: list[str], fragment: str, status: int
) -> None:
    """Validation errors: the documented status, our one line on stderr, and neither torch nor
    ExecuTorch imported (that is what keeps the answer well under a second)."""
    sf.write(tmp_path / "voice.wav", voice_like(), 16000)
    sf.write(tmp_path / "rate1.wav", voice_like(0.01, 16000), 16000)
    data = bytearray((tmp_path / "rate1.wav").read_bytes())
    data[24:28] = (1).to_bytes(4, "little")  # the header now declares 1 Hz
    (tmp_path / "rate1.wav").write_bytes(bytes(data))
    (tmp_path / "file.wav").write_bytes(b"x")
    sf.write(tmp_path / "short.wav", voice_like(0.2, 16000), 16000)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "o.wav")]
    code = (
        "import sys; from mobilespeech_runtime.cli import main; rc = main(sys.argv[1:]); "
        "heavy = [m for m in ('torch', 'executorch', 'torchao', 'g2p_en') if m in sys.modules]; "
        "print('HEAVY', heavy); sys.exit(rc)"
    )
    r = subprocess.run([sys.executable, "-c", code, "synth", *argv], capture_output=True,
                       text=True, errors="replace", timeout=60, cwd=tmp_path)
    assert r.returncode == status, r.stderr
    assert "HEAVY []" in r.stdout
    assert r.stderr.startswith("error:") and fragment.lower() in r.stderr.lower(), r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o.wav").exists()


def _resynth_cases(tmp_path: Path, rate: int, seconds: float) -> Path:
    path = tmp_path / "in.wav"
    sf.write(path, voice_like(seconds, rate), rate, subtype="FLOAT")
    return path


def test_resynth_end_to_end_through_both_clis(tiny_bundle: Path, tmp_path: Path) -> None:
    """mobilespeech resynth and mobilespeech_cli --resynth: the codec alone, the input's
    duration, tokens/s and bits/s printed, the same audio from both (same input rate)."""
    from test_native import _build

    from mobilespeech_runtime import Synthesizer

    py = Synthesizer.from_bundle(tiny_bundle, num_threads=1)
    rate, hop = py.sample_rate, py.hop_length
    window_s = py.limits["max_prompt_frames"] * hop / rate
    src = _resynth_cases(tmp_path, rate, 1.3 * window_s)  # longer than the encoder window
    out_py, out_c = tmp_path / "py.wav", tmp_path / "c.wav"
    r = subprocess.run(
        [sys.executable, "-m", "mobilespeech_runtime.cli", "resynth", "--bundle", str(tiny_bundle),
         "--in", str(src), "--out", str(out_py), "--threads", "1"],
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # quiet: nothing but our own lines
    bits = py.n_codebooks * np.log2(py.codebook_size) * py.frame_rate
    assert f"{bits:.0f} bits/s" in r.stdout and "tokens/s" in r.stdout
    cli = _build(sanitize=False) / "mobilespeech_cli"
    rc = subprocess.run([str(cli), "--bundle", str(tiny_bundle), "--resynth", str(src), "--out",
                         str(out_c), "--float32", "--threads", "1"],
                        capture_output=True, text=True, timeout=600)
    assert rc.returncode == 0, rc.stderr
    assert f"{bits:.0f} bits/s" in rc.stdout and "tokens/s" in rc.stdout
    a, sa = sf.read(out_py, dtype="float32")
    b, sb = sf.read(out_c, dtype="float32")
    n_in = sf.info(str(src)).frames
    assert sa == sb == rate and a.size == b.size == n_in
    np.testing.assert_allclose(a, b, atol=2 / 32768)  # 16-bit vs float output
    assert np.sqrt(np.mean(b**2)) > 1e-4  # not silence
    # errors: the documented status with a message, nothing written, the input never overwritten
    for args, status in ((["--in", str(tmp_path / "nope.wav")], 5),
                         (["--in", str(src), "--out", str(src)], 2)):
        argv = ["resynth", "--bundle", str(tiny_bundle), *args]
        if "--out" not in args:
            argv += ["--out", str(tmp_path / "e.wav")]
        assert main(argv) == status
    bad = subprocess.run([str(cli), "--bundle", str(tiny_bundle), "--resynth", str(src), "--out",
                          str(src)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "overwrite" in bad.stderr
    assert sf.info(str(src)).frames == n_in
