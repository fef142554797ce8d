"""Both command-line tools run as a user runs them (issue 26): subprocesses on the tiny bundle,
checking the exit code (README "Errors and exit codes"), the message, the time to fail, and
what is left on disk: no partial file, an older output intact, the bundle intact.

The full disk is /dev/full (through a symlink named .wav); the file-size limit is
``RLIMIT_FSIZE`` set in the child (``ulimit -f``).
"""

from __future__ import annotations

import ctypes as C
import hashlib
import os
import re
import resource
import shutil
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from synthetic import voice_like

REPO = Path(__file__).resolve().parent.parent
TOOLS = ("python", "c")


@pytest.fixture(scope="module")
def cli_c() -> Path:
    from test_native import _build

    return _build(sanitize=False) / "mobilespeech_cli"


@pytest.fixture(scope="module")
def bundle(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy: a failure here cannot break the session's bundle."""
    dest = tmp_path_factory.mktemp("user_bundle") / "bundle"
    shutil.copytree(tiny_bundle, dest)
    return dest


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run(tool: str, cli_c: Path, args: list[str], fsize: int | None = None,
        timeout: float = 120, pass_fds: tuple[int, ...] = ()) -> tuple[int, str, float]:
    """One command: (exit code, stderr, seconds). ``args`` are the options both tools share."""
    cmd = ([sys.executable, "-m", "mobilespeech_runtime.cli", "synth"] if tool == "python"
           else [str(cli_c)]) + args
    limit: Callable[[], None] | None = None
    if fsize is not None:
        def limit() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout,
                       cwd=REPO, env=env, preexec_fn=limit, pass_fds=pass_fds)
    return r.returncode, r.stderr, time.perf_counter() - t0


def _one_error(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [ln for ln in stderr.splitlines() if ln.startswith("error")]
    assert lines, stderr
    return lines[0]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture()
def voice(tmp_path: Path) -> Path:
    path = tmp_path / "voice.wav"
    sf.write(path, voice_like(2.0, 16000), 16000, subtype="PCM_16")
    return path


# ---- data loss -------------------------------------------------------------------------------
@pytest.mark.parametrize("tool", TOOLS)
def test_bundle_files_cannot_be_overwritten(tool: str, cli_c: Path, bundle: Path,
                                            tmp_path: Path) -> None:
    before = _digest(bundle)
    link = tmp_path / "link.wav"
    link.symlink_to(bundle / "default_prompt.wav")
    hard = tmp_path / "hard.wav"
    os.link(bundle / "default_prompt.wav", hard)
    for out in (bundle / "default_prompt.wav", bundle / "new.wav", link, hard):
        rc, err, _ = run(tool, cli_c, ["--bundle", str(bundle), "--text", "Hi.", "--out", str(out)])
        assert rc == 2, err
        assert "inside the model bundle" in _one_error(err)
    assert _digest(bundle) == before
    assert not (bundle / "new.wav").exists()


@pytest.mark.parametrize("tool", TOOLS)
def test_inputs_cannot_be_overwritten(tool: str, cli_c: Path, bundle: Path, voice: Path,
                                      tmp_path: Path) -> None:
    text = tmp_path / "text.wav"  # a text file with a .wav name
    text.write_text("Hello.")
    data = voice.read_bytes()
    for args in (["--text", "Hi.", "--prompt", str(voice), "--out", str(voice)],
                 ["--text-file", str(text), "--out", str(text)]):
        rc, err, _ = run(tool, cli_c, ["--bundle", str(bundle), *args])
        assert rc == 2 and "input of this run" in _one_error(err), err
    assert voice.read_bytes() == data and text.read_text() == "Hello."


@pytest.mark.parametrize("tool", TOOLS)
def test_file_size_limit_keeps_the_old_output(tool: str, cli_c: Path, bundle: Path,
                                              tmp_path: Path) -> None:
    out = tmp_path / "out.wav"
    old = b"RIFF an older, good output"
    out.write_bytes(old)
    rc, err, _ = run(tool, cli_c, ["--bundle", str(bundle), "--text", "Hello there, world.",
                                   "--out", str(out)], fsize=4096)
    assert rc == 5, err
    assert "File too large" in _one_error(err)
    assert out.read_bytes() == old
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("tool", TOOLS)
def test_full_disk_is_named(tool: str, cli_c: Path, bundle: Path, tmp_path: Path) -> None:
    full = tmp_path / "full.wav"
    full.symlink_to("/dev/full")
    rc, err, _ = run(tool, cli_c, ["--bundle", str(bundle), "--text", "Hello.", "--out",
                                   str(full)])
    assert rc == 5, err
    assert "No space left on device" in _one_error(err)
    assert Path("/dev/full").is_char_device() and full.is_symlink()


@pytest.mark.parametrize("tool", TOOLS)
def test_success_replaces_the_output_atomically(tool: str, cli_c: Path, bundle: Path,
                                                tmp_path: Path) -> None:
    out = tmp_path / "out.wav"
    out.write_bytes(b"old")
    os.chmod(out, 0o640)
    link = tmp_path / "via_link.wav"
    link.symlink_to(out)
    rc, err, _ = run(tool, cli_c, ["--bundle", str(bundle), "--text", "Hello.", "--out",
                                   str(link), "--threads", "0"])
    assert rc == 0, err
    assert link.is_symlink() and sf.info(str(out)).frames > 0
    assert out.stat().st_mode & 0o777 == 0o640
    assert _leftovers(tmp_path) == []


# ---- faults named ----------------------------------------------------------------------------
def _huge_header(path: Path, data_bytes: int) -> None:
    """A 16-bit mono 16 kHz WAV whose header declares `data_bytes` (sparse: no disk used)."""
    header = b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16) + b"data" + struct.pack("<I", data_bytes)
    with open(path, "wb") as f:
        f.write(header)
        f.truncate(len(header) + data_bytes)


def _run_peak(cmd: list[str], tmp_path: Path) -> tuple[int, str, float, float]:
    """(exit code, stderr, seconds, peak RSS MiB). Through /usr/bin/time, whose own child starts
    small: the peak RSS a child of pytest reports would include pytest's (it survives exec)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    report = tmp_path / "rss.txt"
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(report), *cmd],
                       capture_output=True, text=True, errors="replace", cwd=REPO, env=env,
                       timeout=60)
    seconds = time.perf_counter() - t0
    return r.returncode, r.stderr, seconds, int(report.read_text().split()[-1]) / 1024


@pytest.mark.parametrize("tool", TOOLS)
def test_huge_prompt_refused_from_its_header(tool: str, cli_c: Path, bundle: Path,
                                             tmp_path: Path) -> None:
    big = tmp_path / "big.wav"
    _huge_header(big, 900 << 20)  # 900 MB: 29,491 s
    cmd = ([sys.executable, "-m", "mobilespeech_runtime.cli", "synth"] if tool == "python"
           else [str(cli_c)])
    if not Path("/usr/bin/time").is_file():
        pytest.skip("needs /usr/bin/time for the peak memory")
    rc, err, seconds, peak = _run_peak(cmd + ["--bundle", str(bundle), "--text", "Hi.",
                                              "--prompt", str(big), "--out",
                                              str(tmp_path / "o.wav")], tmp_path)
    assert rc == 3, err
    assert "declares 29491 s" in _one_error(err)
    assert seconds < 5 and peak < 300, (seconds, peak)


@pytest.mark.parametrize("tool", TOOLS)
def test_non_regular_prompts(tool: str, cli_c: Path, bundle: Path, voice: Path,
                             tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.wav"
    os.mkfifo(fifo)
    out = tmp_path / "o.wav"
    for prompt, fragment in ((fifo, "pipe with no data"), ("/dev/zero", "not a regular file"),
                             (tmp_path, "directory")):
        rc, err, seconds = run(tool, cli_c, ["--bundle", str(bundle), "--text", "Hi.",
                                             "--prompt", str(prompt), "--out", str(out)],
                               timeout=30)
        assert rc == 5 and fragment in _one_error(err), err
        assert seconds < 10
    # a pipe with a writer (as <(cat voice.wav)) is read
    r, w = os.pipe()
    data = voice.read_bytes()
    writer = threading.Thread(target=lambda: (os.write(w, data), os.close(w)))
    writer.start()
    try:
        rc, err, _ = run(tool, cli_c, ["--bundle", str(bundle), "--text", "Hi.", "--prompt",
                                       f"/dev/fd/{r}", "--out", str(out)], pass_fds=(r,))
    finally:
        writer.join()
        os.close(r)
    assert rc == 0, err
    assert sf.info(str(out)).frames > 0


@pytest.mark.parametrize("tool", TOOLS)
def test_bad_prompt_content_and_text_fail_fast(tool: str, cli_c: Path, bundle: Path,
                                               tmp_path: Path) -> None:
    silent, short = tmp_path / "silent.wav", tmp_path / "short.wav"
    sf.write(silent, np.zeros(32000, np.float32), 16000)
    sf.write(short, np.full(1, 0.5, np.float32), 16000)
    out = tmp_path / "o.wav"
    for args, fragment in ((["--text", "Hi.", "--prompt", str(silent)], "silent"),
                           (["--text", "Hi.", "--prompt", str(short)], "at least"),
                           (["--text", "\U0001f600 !!! ..."], "nothing to pronounce")):
        rc, err, seconds = run(tool, cli_c, ["--bundle", str(bundle), *args, "--out", str(out)])
        assert rc == 3 and fragment in _one_error(err), err
        assert seconds < 10
    assert not out.exists()


@pytest.mark.parametrize("tool", TOOLS)
def test_the_two_tools_agree_on_exit_codes(tool: str, cli_c: Path, bundle: Path,
                                           tmp_path: Path) -> None:
    out = str(tmp_path / "o.wav")
    cases = [
        (["--bundle", str(tmp_path / "none"), "--text", "Hi.", "--out", out], 4,
         "bundle folder not found"),
        (["--bundle", str(bundle), "--text", "Hi.", "--out", str(tmp_path / "no" / "o.wav")], 5,
         "does not exist"),
        (["--bundle", str(bundle), "--text-file", str(tmp_path), "--out", out], 5, "directory"),
        (["--bundle", str(bundle), "--text", "Hi.", "--steps", "-1,1", "--out", out], 2, "steps"),
        (["--bundle", str(bundle), "--text", "Hi.", "--threads", "999", "--out", out], 2,
         "threads"),
        (["--bundle", str(bundle), "--text", "Hi.", "--out", str(tmp_path / "o.txt")], 2,
         ".wav"),
    ]
    for args, status, fragment in cases:
        rc, err, _ = run(tool, cli_c, args)
        assert rc == status, (args, err)
        assert fragment in err, (args, err)
        assert "Traceback" not in err
    assert not Path(out).exists()


# ---- text read right ---------------------------------------------------------------------------
def test_normalize_prints_the_words_said() -> None:
    cases = {
        "On 12/03/2026 we met.": "on december third twenty twenty six we met.",
        "It was 2026-12-03.": "it was december third twenty twenty six.",
        "Henry VIII and Louis XIV.": "henry the eighth and louis the fourteenth.",
        "Chapter IV of World War II.": "chapter four of world war two.",
        "EUR 5.50 or 3 GBP.": "five euros fifty cents or three pounds.",
        "It costs \u00a52,000.": "it costs two thousand yen.",
        "A zero\u200bwidth soft\u00adhyphen.": "a zerowidth softhyphen.",
    }
    for text, said in cases.items():
        r = subprocess.run([sys.executable, "-m", "mobilespeech_runtime.cli", "normalize",
                            "--text", text], capture_output=True, text=True, timeout=120,
                           cwd=REPO)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == said, (text, r.stdout)
    r = subprocess.run([sys.executable, "-m", "mobilespeech_runtime.cli", "normalize", "--text",
                        "\U0001f600"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode == 3 and "nothing to pronounce" in r.stderr


# ---- the API and the C ABI ---------------------------------------------------------------------
def test_api_close_numpy_steps_and_bad_paths(bundle: Path) -> None:
    from mobilespeech_runtime import Synthesizer
    from mobilespeech_runtime.errors import ConfigError

    with pytest.raises(ConfigError, match="folder path"):
        Synthesizer.from_bundle(None)  # type: ignore[arg-type]
    with Synthesizer.from_bundle(bundle, num_threads=1) as s:
        steps = np.ones(s.n_codebooks, dtype=np.int64)
        assert s.synthesize("Hi.", seed=1, steps=steps).samples.size > 0
    with pytest.raises(ConfigError, match="closed"):
        s.synthesize("Hi.")
    s.close()  # twice is harmless


def test_c_handle_after_destroy_and_busy(bundle: Path) -> None:
    from test_native import CHUNKS, _build

    from mobilespeech_runtime import native_binding as nb

    _build(sanitize=False)
    lib = nb.load_library()
    opts = nb.SynthOptions()
    lib.ms_synth_options_init(C.byref(opts))
    opts.bundle_dir = str(bundle).encode()
    st = C.c_int(-1)
    h = lib.ms_synth_create(C.byref(opts), C.byref(st))
    assert h, lib.ms_last_error(None)

    # busy: a second thread's call while the first synthesizes
    ids = (C.c_int32 * sum(len(c) for c in CHUNKS))(*[i for c in CHUNKS for i in c])
    lengths = (C.c_size_t * len(CHUNKS))(*[len(c) for c in CHUNKS])
    out, n_out = C.POINTER(C.c_float)(), C.c_size_t()
    status: list[int] = []

    def speak() -> None:
        status.append(lib.ms_synth_speak_phonemes(h, ids, lengths, len(CHUNKS), None, 0, 0, 0,
                                                  None, C.byref(out), C.byref(n_out)))

    t = threading.Thread(target=speak)
    t.start()
    seen = set()
    lim = nb.Limits()
    while t.is_alive():
        lim.struct_size = C.sizeof(nb.Limits)
        seen.add(lib.ms_synth_limits(h, C.byref(lim)))
    t.join()
    assert status == [nb.MS_OK]
    lib.ms_free_audio(out)
    assert 10 in seen, seen  # MS_ERR_BUSY
    assert lib.ms_status_string(10) == b"MS_ERR_BUSY"

    # use after destroy, destroy twice
    lib.ms_synth_destroy(h)
    assert lib.ms_synth_start(h, b"Hi.", None, 0, 0, 0, None) == nb.MS_ERR_INVALID_ARGUMENT
    assert b"not a live handle" in lib.ms_last_error(None)
    assert lib.ms_synth_sample_rate(h) == 0 and lib.ms_synth_symbol(h, 0) is None
    lib.ms_synth_destroy(h)


# ---- progress --------------------------------------------------------------------------------
THREE = "The first sentence is here. A second one follows it. And the third ends."


def _run_on_tty(cmd: list[str], timeout: float = 120) -> tuple[int, str, str]:
    """``cmd`` with its stderr on a pseudo-terminal: (exit code, stdout, what the terminal got)."""
    import pty
    import select

    master, slave = pty.openpty()
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO), COLUMNS="100")
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL,
                         cwd=REPO, env=env)
    os.close(slave)
    got = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                got += data
            elif p.poll() is not None:
                break
        out = p.stdout.read().decode() if p.stdout else ""
        rc = p.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
    return rc, out, got.decode(errors="replace")


def test_python_progress_bar_on_a_terminal_only(bundle: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.wav"
    cmd = [sys.executable, "-m", "mobilespeech_runtime.cli", "synth", "--bundle", str(bundle),
           "--text", THREE, "--out", str(out), "--threads", "1"]
    rc, stdout, tty = _run_on_tty(cmd)
    assert rc == 0, tty
    assert "Traceback" not in tty, tty
    # the tqdm bar: sentences of the total, and the seconds of audio so far
    assert "0/3 sentences" in tty and "3/3 sentences" in tty, tty
    assert re.search(r"[1-9][0-9.]* s of audio", tty), tty
    assert f"wrote {out}" in stdout
    # --quiet: nothing on the terminal, nothing on stdout
    rc, stdout, tty = _run_on_tty(cmd + ["--quiet"])
    assert rc == 0 and tty.strip() == "" and stdout == "", (tty, stdout)
    assert sf.info(out).frames > 0
    # not a terminal: no bar
    rc, err, _ = run("python", Path(), ["--bundle", str(bundle), "--text", THREE,
                                        "--out", str(out), "--threads", "1"])
    assert rc == 0, err
    assert "sentence" not in err and "\r" not in err, err


def _progress_lines(text: str) -> list[tuple[int, float]]:
    found = re.findall(r"progress: sentence (\d+), ([0-9.]+) s of audio", text)
    return [(int(k), float(s)) for k, s in found]


def test_c_progress_lines(cli_c: Path, bundle: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.wav"
    args = ["--bundle", str(bundle), "--text", THREE, "--out", str(out), "--threads", "1"]
    rc, err, _ = run("c", cli_c, args + ["--progress"])
    assert rc == 0, err
    lines = [ln for ln in err.splitlines() if ln.startswith("progress:")]
    steps = _progress_lines(err)
    assert len(steps) == len(lines) >= 3, err  # one line per chunk, each of the same form
    assert [k for k, _ in steps] == sorted(k for k, _ in steps)  # in order
    assert {k for k, _ in steps} == {1, 2, 3}, err
    seconds = [s for _, s in steps]
    assert seconds == sorted(seconds) and seconds[0] > 0
    info = sf.info(out)
    assert seconds[-1] == pytest.approx(info.frames / info.samplerate, abs=0.01)
    # without --progress: none
    rc, err, _ = run("c", cli_c, args)
    assert rc == 0 and "progress" not in err, err
    # on a terminal: one line updated in place, ended by a newline
    rc, _, tty = _run_on_tty([str(cli_c)] + args + ["--progress", "--quiet"])
    assert rc == 0, tty
    assert "\rprogress: sentence 3, " in tty and tty.endswith("\n"), repr(tty)
    assert _progress_lines(tty)[-1][1] == pytest.approx(seconds[-1], abs=0.01)


# ---- MS_ERR_BUSY through the Python binding ---------------------------------------------------
def test_busy_handle_is_a_named_python_error(bundle: Path) -> None:
    from test_native import CHUNKS, _build

    from mobilespeech_runtime import native_binding as nb
    from mobilespeech_runtime.errors import MobileSpeechError

    _build(sanitize=False)
    assert nb.status_string(nb.MS_ERR_BUSY) == "MS_ERR_BUSY"
    err = nb._error(nb.MS_ERR_BUSY, "")
    assert isinstance(err, nb.NativeBusyError) and isinstance(err, MobileSpeechError)
    assert str(err) == "MS_ERR_BUSY" and err.status == nb.MS_ERR_BUSY

    with nb.NativeSynthesizer(bundle, num_threads=1) as syn:
        done: list[int] = []
        t = threading.Thread(target=lambda: done.append(syn.synthesize_phonemes(CHUNKS).size))
        t.start()
        busy: list[nb.NativeBusyError] = []
        while t.is_alive():
            try:
                syn.timings()
            except nb.NativeBusyError as e:
                busy.append(e)
        t.join()
        assert done and done[0] > 0
        assert busy, "no call overlapped the synthesis"
        assert "another thread is using this handle" in str(busy[0])
        assert busy[0].status == nb.MS_ERR_BUSY
        syn.timings()  # the handle is fine afterwards


# ---- out of memory inside ExecuTorch ---------------------------------------------------------
def test_c_out_of_memory_is_named_not_a_bad_bundle(cli_c: Path, bundle: Path,
                                                    tmp_path: Path) -> None:
    """Under an address-space limit ExecuTorch fails with AccessFailed (0x22: the program's
    mmap), Internal (0x1: XNNPACK's allocations) or MemoryAllocationFailed (0x21), and the text
    frontend with bad_alloc: every one is MS_ERR_NO_MEMORY, exit code 6, never "bad bundle" (4),
    which would send a user to re-download the model."""
    out = tmp_path / "out.wav"
    args = [str(cli_c), "--bundle", str(bundle), "--text", THREE, "--out", str(out),
            "--threads", "1", "--no-checksums"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    seen: list[tuple[int, int, str]] = []
    for mib in [*range(16, 68, 4), 1024]:
        def limit(mib: int = mib) -> None:
            resource.setrlimit(resource.RLIMIT_AS, (mib << 20, mib << 20))
        r = subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=120,
                           env=env, preexec_fn=limit)
        last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
        seen.append((mib, r.returncode, last))
    assert seen[-1][1] == 0, seen  # 1 GiB is plenty: the sweep reaches success
    # the smallest limits stop the dynamic loader before main (exit 127): not ours
    failed = [s for s in seen if s[1] != 0 and "error while loading shared libraries" not in s[2]]
    assert failed, seen  # and some limit is too small for the model
    for _mib, rc, last in failed:
        assert rc == 6 and "out of memory" in last and "MS_ERR_NO_MEMORY" in last, seen
    assert not list(tmp_path.glob("*.tmp")), seen
