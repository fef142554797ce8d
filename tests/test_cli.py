from pathlib import Path

import soundfile as sf

from mobilespeech_runtime.cli import main


def test_synth_untrained_tiny_says_it_is_noise(tmp_path: Path, prompt_wav: Path, capsys) -> None:
    out = tmp_path / "o.wav"
    rc = main(
        [
            "synth",
            "--untrained-tiny",
            "--text",
            "Hello world.",
            "--prompt",
            str(prompt_wav),
            "--out",
            str(out),
            "--seed",
            "1",
            "--threads",
            "2",
        ]
    )
    cap = capsys.readouterr()
    assert rc == 0
    assert "noise" in cap.err
    assert "RTF" in cap.out
    data, sr = sf.read(out)
    assert sr == 16000 and data.size > 0


def test_synth_from_checkpoint_and_info(
    tmp_path: Path, tiny_checkpoint: Path, prompt_wav: Path, capsys
) -> None:
    out = tmp_path / "o.wav"
    assert (
        main(
            [
                "synth",
                "--checkpoint",
                str(tiny_checkpoint),
                "--text",
                "One. Two.",
                "--prompt",
                str(prompt_wav),
                "--out",
                str(out),
                "--steps",
                "2,1",
            ]
        )
        == 0
    )
    assert out.is_file()
    assert main(["info", "--checkpoint", str(tiny_checkpoint)]) == 0
    assert '"sample_rate": 16000' in capsys.readouterr().out


def test_errors_exit_2_with_a_message(
    tmp_path: Path, tiny_checkpoint: Path, prompt_wav: Path, capsys
) -> None:
    out = tmp_path / "o.wav"
    rc = main(
        [
            "synth",
            "--checkpoint",
            str(tiny_checkpoint),
            "--text",
            "   ",
            "--prompt",
            str(prompt_wav),
            "--out",
            str(out),
        ]
    )
    assert rc == 2 and "error:" in capsys.readouterr().err
    rc = main(
        [
            "synth",
            "--checkpoint",
            str(tiny_checkpoint),
            "--text",
            "Hi.",
            "--prompt",
            str(tmp_path / "nope.wav"),
            "--out",
            str(out),
        ]
    )
    assert rc == 2 and "not found" in capsys.readouterr().err
    rc = main(["synth", "--bundle", str(tmp_path / "nobundle"), "--text", "Hi.", "--out", str(out)])
    assert rc == 2 and "no model bundle" in capsys.readouterr().err
    assert not out.exists()
