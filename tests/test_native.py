"""The C ABI (libmobilespeech) against the Python ExecuTorch runtime, its error paths, threads,
the CLI, and a fuzz run under ASan + UBSan + LeakSanitizer.

The native build is made once per session by ``scripts/build_native.sh`` (incremental; the ASan
build only for the fuzz test). Tests skip only when cmake or a C++ compiler is missing.
"""

from __future__ import annotations

import ctypes as C
import json
import os
import shutil
import subprocess
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

from mobilespeech_runtime.errors import (
    BundleError,
    ConfigError,
    InvalidAudioError,
    InvalidTextError,
)

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "build" / "native"
BUILD_ASAN = REPO / "build" / "native-asan"
SCRIPT = REPO / "scripts" / "build_native.sh"

# Two phoneme chunks: the first predicts more frames than the tiny model's max_frames (400), so
# the duration compression path runs; the second spans several decoder windows.
_RNG = np.random.default_rng(0)
CHUNKS = [[int(i) for i in _RNG.integers(4, 73, 120)] + [1],
          [int(i) for i in _RNG.integers(4, 73, 30)] + [1]]
SHORT = [[20, 31, 44, 1], [12, 40, 1]]


def _toolchain_missing() -> str | None:
    cmake = REPO / ".venv" / "bin" / "cmake"
    if not cmake.exists() and shutil.which("cmake") is None:
        return "cmake is not installed (pip install 'cmake>=3.28')"
    if not any(shutil.which(c) for c in ("c++", "g++", "clang++")):
        return "no C++ compiler"
    return None


def _build(sanitize: bool) -> Path:
    reason = _toolchain_missing()
    if reason:
        pytest.skip(f"native build unavailable: {reason}")
    args = [str(SCRIPT)] + (["--sanitize"] if sanitize else [])
    r = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        pytest.fail(f"scripts/build_native.sh failed:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    return BUILD_ASAN if sanitize else BUILD


@pytest.fixture(scope="session")
def native_build() -> Path:
    if os.environ.get("MOBILESPEECH_NATIVE_LIB"):
        return Path(os.environ["MOBILESPEECH_NATIVE_LIB"]).parent
    return _build(sanitize=False)


@pytest.fixture(scope="session")
def nb(native_build: Path):  # noqa: ANN201 - the binding module
    from mobilespeech_runtime import native_binding

    native_binding.load_library()
    return native_binding


@pytest.fixture(scope="session")
def lib(nb):  # noqa: ANN001, ANN201
    return nb.load_library()


@pytest.fixture()
def synth(nb, tiny_bundle: Path):  # noqa: ANN001, ANN201
    s = nb.NativeSynthesizer(tiny_bundle, num_threads=2)
    yield s
    s.close()


def _python_synth(bundle: Path, chunks: list[list[int]]):  # noqa: ANN202
    from mobilespeech_model.reference import ReferenceSynthesizer

    py = ReferenceSynthesizer.from_bundle(bundle, num_threads=2)
    py.encode_text = lambda _text: chunks  # the same phoneme ids as start_phonemes
    return py


def _voice(seconds: float = 2.0, rate: int = 16000) -> np.ndarray:
    from synthetic import voice_like

    return voice_like(seconds, rate)


# ---- parity with the Python runtime ---------------------------------------------------------
def test_mel_codec_bundle_matches_python_runtime(nb, tiny_mel_bundle: Path) -> None:  # noqa: ANN001
    """The mel codec's two decoding programs (decoder.pte -> log-mel -> vocoder.pte) at its own
    rate and hop, read from the manifest: C and Python give the same audio."""
    py = _python_synth(tiny_mel_bundle, CHUNKS)
    assert py.sample_rate == 22050 and py.config.codec.kind == "mel"
    ref = py.synthesize("unused", None, seed=3)
    with nb.NativeSynthesizer(tiny_mel_bundle, num_threads=2) as s:
        out = s.synthesize_phonemes(CHUNKS, None, seed=3)
        t = s.timings()
        assert s.limits["sample_rate"] == 22050
    assert t["frames"] == ref.timings.frames
    assert ref.samples.size == ref.timings.frames * py.config.codec.hop_length
    np.testing.assert_allclose(out, ref.samples, atol=1e-5, rtol=0)


def _with_schedule(bundle: Path, dest: Path, **fields: float) -> Path:
    """A copy of ``bundle`` whose manifest sets runtime-only schedule fields (mel_match)."""
    shutil.copytree(bundle, dest)
    m = json.loads((dest / "manifest.json").read_text())
    m["config"]["schedule"].update(fields)
    (dest / "manifest.json").write_text(json.dumps(m))
    return dest


def test_mel_match_matches_python_runtime(nb, tiny_mel_bundle: Path, tmp_path: Path) -> None:  # noqa: ANN001
    """Prompt spectrum matching (schedule.mel_match): the C runtime decodes the prompt's and
    the sentence's mels, shifts and vocodes them exactly as synthesizer.py does."""
    matched = _with_schedule(tiny_mel_bundle, tmp_path / "mm", mel_match=1.0, mel_match_loud=0.5)
    py = _python_synth(matched, CHUNKS)
    assert py.mel_match and py.info()["mel_match"] == 1.0
    ref = py.synthesize("unused", None, seed=3)
    plain = _python_synth(tiny_mel_bundle, CHUNKS).synthesize("unused", None, seed=3)
    assert ref.samples.shape == plain.samples.shape
    assert np.abs(ref.samples - plain.samples).max() > 1e-3  # the offset is applied
    assert np.array_equal(np.concatenate(list(py.stream("unused", None, seed=3))), ref.samples)
    with nb.NativeSynthesizer(matched, num_threads=2) as s:
        out = s.synthesize_phonemes(CHUNKS, None, seed=3)
        again = s.synthesize_phonemes(CHUNKS, None, seed=3)  # cached prompt spectrum
    np.testing.assert_allclose(out, ref.samples, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(out, again)


@pytest.mark.parametrize("field, value", [("mel_match", 2.5), ("mel_match", -1.0),
                                          ("mel_match_loud", 0.0), ("mel_match", "1")])
def test_bad_mel_match_fields_are_refused(nb, tiny_mel_bundle: Path, tmp_path: Path,  # noqa: ANN001
                                          field: str, value: object) -> None:
    bad = _with_schedule(tiny_mel_bundle, tmp_path / "bad", **{field: value})
    with pytest.raises(BundleError, match=field):
        nb.NativeSynthesizer(bad)
    from mobilespeech_model.bundle import Bundle

    with pytest.raises((BundleError, ConfigError), match=field):
        Bundle.open(bad)


def test_mel_match_needs_the_mel_codec(nb, tiny_bundle: Path, tmp_path: Path) -> None:  # noqa: ANN001
    bad = _with_schedule(tiny_bundle, tmp_path / "bad", mel_match=1.0)
    with pytest.raises(BundleError, match="mel codec"):
        nb.NativeSynthesizer(bad)
    from mobilespeech_model.bundle import Bundle

    with pytest.raises((BundleError, ConfigError), match="mel codec"):
        Bundle.open(bad)


@pytest.mark.parametrize("case", ["default_prompt", "array_prompt", "stereo_options",
                                  "nine_channels"])
def test_matches_python_runtime(nb, tiny_bundle: Path, case: str) -> None:  # noqa: ANN001
    voice = _voice()
    prompt, rate, kw = {
        "default_prompt": (None, None, {}),
        "array_prompt": (voice, 16000, {"seed": 5}),
        "stereo_options": (np.stack([voice, 0.5 * voice], 1), 16000,
                           {"seed": 2**64 - 3, "steps": (2, 1), "length_scale": 0.8}),
        # numpy averages >= 8 channels with a pairwise sum; the native mix reproduces it
        "nine_channels": (np.stack([voice * (0.3 + 0.17 * k) for k in range(9)], 1), 16000,
                          {"seed": 4}),
    }[case]
    py = _python_synth(tiny_bundle, CHUNKS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = py.synthesize("unused", prompt, prompt_sample_rate=rate, **kw)
    chunk = py.config.codec.decode_chunk_frames
    assert ref.timings.frames > 2 * chunk, "the test utterance should span several windows"
    with nb.NativeSynthesizer(tiny_bundle, num_threads=2) as s:
        out = s.synthesize_phonemes(CHUNKS, prompt, prompt_sample_rate=rate, **kw)
        t = s.timings()
    assert out.shape == ref.samples.shape
    assert t["frames"] == ref.timings.frames and t["smd_calls"] == ref.timings.smd_calls
    np.testing.assert_allclose(out, ref.samples, atol=1e-5, rtol=0)


@pytest.fixture(scope="session")
def tiny_bundle_with_frontend(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny bundle plus the C++ text frontend's assets (lexicon, g2p.pte, fold table)."""
    assets = pytest.importorskip("export.frontend_assets")
    from mobilespeech_model.bundle import sha256_file
    from mobilespeech_model.frontend import SymbolTable

    root = tmp_path_factory.mktemp("fe") / "bundle"
    shutil.copytree(tiny_bundle, root)
    m = json.loads((root / "manifest.json").read_text())
    section = assets.write_frontend_assets(root, SymbolTable.from_list(m["symbols"]))
    m["frontend"] = section
    for f in section["files"]:
        m["files"][f] = {"bytes": (root / f).stat().st_size, "sha256": sha256_file(root / f)}
    (root / "manifest.json").write_text(json.dumps(m, indent=1))
    return root


@pytest.mark.parametrize("text", ["Hello there. How are you today?",
                                  "Dr. Smith paid $5.20 on March 3rd, 2021!"])
def test_text_matches_python_runtime(nb, tiny_bundle_with_frontend: Path,  # noqa: ANN001
                                     text: str) -> None:
    from mobilespeech_model.reference import ReferenceSynthesizer

    with nb.NativeSynthesizer(tiny_bundle_with_frontend, num_threads=2) as s:
        if not s.has_text_frontend:
            pytest.skip("this build has no C++ text frontend")
        out = s.synthesize(text, seed=3)
    py = ReferenceSynthesizer.from_bundle(tiny_bundle_with_frontend, num_threads=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = py.synthesize(text, seed=3).samples
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, atol=1e-5, rtol=0)


def test_text_to_phonemes_gives_the_ids_synthesis_uses(nb, tiny_bundle_with_frontend: Path,  # noqa: ANN001
                                                        prompt_wav: Path) -> None:
    """ms_synth_text_to_phonemes is the serving frontend: its ids are what synthesis speaks
    (the same audio, bit for bit), the Python frontend reads the same text alike, and it
    refuses what ms_synth_start refuses, with the same errors."""
    from mobilespeech_model.reference import ReferenceSynthesizer

    text = "Dr. Smith paid $5.20 on March 3rd, 2021! How are you today?"
    with nb.NativeSynthesizer(tiny_bundle_with_frontend, num_threads=2) as s:
        if not s.has_text_frontend:
            pytest.skip("this build has no C++ text frontend")
        chunks = s.text_to_phonemes(text)
        assert len(chunks) >= 2 and all(0 <= i < len(s.symbols) for c in chunks for i in c)
        assert chunks == s.text_to_phonemes(text)
        np.testing.assert_array_equal(s.synthesize(text, prompt_wav, seed=5),
                                      s.synthesize_phonemes(chunks, prompt_wav, seed=5))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            py = ReferenceSynthesizer.from_bundle(tiny_bundle_with_frontend, num_threads=2)
            assert chunks == py.encode_text(text)  # the Python frontend reads it alike
        # a synthesis in progress is left alone
        s.start_phonemes(SHORT, seed=1)
        assert s.text_to_phonemes("Hello.")
        assert s.next_chunk() is not None
        with pytest.warns(UserWarning, match="skipped"):
            assert s.text_to_phonemes("Hello <b>you</b>.") == s.text_to_phonemes("Hello you.")
        for bad, kind, fragment in [("   ", InvalidTextError, "empty"),
                                    ("a" * (s.limits["max_chars"] + 1), InvalidTextError, "limit"),
                                    ("\U0001f600", InvalidTextError, "nothing to pronounce"),
                                    ("a\x00b", InvalidTextError, "NUL"),
                                    (None, InvalidTextError, "string")]:
            with pytest.raises(kind, match=fragment):
                s.text_to_phonemes(bad)  # type: ignore[arg-type]
            with pytest.raises(kind, match=fragment):
                s.start(bad)  # type: ignore[arg-type]


def test_manifest_leading_pause_reaches_the_core_frontend(nb, tiny_bundle_with_frontend: Path,  # noqa: ANN001
                                                        tmp_path: Path) -> None:
    """config.frontend.leading_pause (a model trained with a <sil> before each chunk): the
    core's ids are the plain ones with that <sil> first, as the Python frontend's; a
    non-boolean value is a malformed manifest."""
    from mobilespeech_model.reference import ReferenceSynthesizer

    text = "It runs. It runs on your phone."
    with nb.NativeSynthesizer(tiny_bundle_with_frontend, num_threads=1) as s:
        if not s.has_text_frontend:
            pytest.skip("this build has no C++ text frontend")
        plain, sil = s.text_to_phonemes(text), s.symbols.index("<sil>")
    root = _copy(tiny_bundle_with_frontend, tmp_path / "lead")
    _edit_manifest(root, lambda m: m["config"]["frontend"].update(leading_pause=True))
    with nb.NativeSynthesizer(root, num_threads=1) as s:
        lead = s.text_to_phonemes(text)
    assert lead == [[sil, *c] for c in plain]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ReferenceSynthesizer.from_bundle(root, num_threads=1).encode_text(text) == lead
    _edit_manifest(root, lambda m: m["config"]["frontend"].update(leading_pause="yes"))
    with pytest.raises(BundleError, match="leading_pause"):
        nb.NativeSynthesizer(root, num_threads=1)


@pytest.fixture()
def bundle_without_frontend(tiny_bundle: Path, tmp_path: Path) -> Path:
    """The tiny bundle with no "frontend" section in its manifest (phoneme ids only)."""
    root = _copy(tiny_bundle, tmp_path / "nofe")
    _edit_manifest(root, lambda m: m.pop("frontend", None))
    return root


def test_text_to_phonemes_without_a_frontend(nb, lib, bundle_without_frontend: Path) -> None:  # noqa: ANN001
    with nb.NativeSynthesizer(bundle_without_frontend, num_threads=2) as synth:
        assert not synth.has_text_frontend
        with pytest.raises(BundleError, match="frontend"):
            synth.text_to_phonemes("Hello there.")
        _text_to_phonemes_bad_args(nb, lib, synth)


def _text_to_phonemes_bad_args(nb, lib, synth) -> None:  # noqa: ANN001
    ids, lengths = C.POINTER(C.c_int32)(), C.POINTER(C.c_size_t)()
    n, nc = C.c_size_t(5), C.c_size_t(5)
    assert lib.ms_synth_text_to_phonemes(None, b"Hi", C.byref(ids), C.byref(n), C.byref(lengths),
                                         C.byref(nc), None) == nb.MS_ERR_INVALID_ARGUMENT
    assert not ids and not lengths and n.value == 0 and nc.value == 0
    assert lib.ms_synth_text_to_phonemes(synth.handle, None, C.byref(ids), C.byref(n),
                                         C.byref(lengths), C.byref(nc), None) == \
        nb.MS_ERR_INVALID_ARGUMENT
    assert lib.ms_synth_text_to_phonemes(synth.handle, b"Hi", None, C.byref(n), C.byref(lengths),
                                         C.byref(nc), None) == nb.MS_ERR_INVALID_ARGUMENT
    lib.ms_free_phonemes(None, None)


def test_normalize_text(nb, lib, tiny_bundle_with_frontend: Path,  # noqa: ANN001
                        bundle_without_frontend: Path) -> None:
    """ms_normalize_text: the words said, from the bundle's normalizer assets alone (the
    Python frontend's normalize agrees)."""
    from mobilespeech_model.frontend import Frontend

    text = "On 12/03/2026 Henry VIII paid EUR 5.50. NASA and XYZ <b>agreed</b>!"
    said = nb.normalize_text(text, tiny_bundle_with_frontend)
    assert said.startswith("on ") and "henry the eighth" in said and "<b>" not in said
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert said == " ".join(Frontend().normalize(text))
    assert nb.normalize_text("  \n ", tiny_bundle_with_frontend) == ""
    assert nb.normalize_text("Hello.") == "hello."  # the default (demo) bundle
    with pytest.raises(BundleError, match="frontend"):
        nb.normalize_text("Hello.", bundle_without_frontend)
    with pytest.raises(BundleError, match="manifest"):
        nb.normalize_text("Hello.", bundle_without_frontend / "nonexistent")
    with pytest.raises(InvalidTextError, match="limit"):
        nb.normalize_text("a" * 2001, tiny_bundle_with_frontend)
    with pytest.raises(InvalidTextError, match="UTF-8"):
        nb.normalize_text("\udcff", tiny_bundle_with_frontend)
    out = C.c_void_p(1)
    bundle = str(tiny_bundle_with_frontend).encode()
    assert lib.ms_normalize_text(bundle, b"\xc0\xaf", C.byref(out)) == nb.MS_ERR_INVALID_TEXT
    assert out.value is None and b"UTF-8" in lib.ms_last_error(None)
    assert lib.ms_normalize_text(None, b"x", C.byref(out)) == nb.MS_ERR_INVALID_ARGUMENT
    assert lib.ms_normalize_text(bundle, None, C.byref(out)) == nb.MS_ERR_INVALID_ARGUMENT
    assert lib.ms_normalize_text(bundle, b"x", None) == nb.MS_ERR_INVALID_ARGUMENT
    lib.ms_free_string(None)


def test_quantized_bundle_loads_and_matches(nb, tiny_bundle_8da4w: Path) -> None:  # noqa: ANN001
    py = _python_synth(tiny_bundle_8da4w, SHORT)
    ref = py.synthesize("unused", seed=3).samples
    with nb.NativeSynthesizer(tiny_bundle_8da4w, num_threads=2) as s:
        out = s.synthesize_phonemes(SHORT, seed=3)
    assert out.shape == ref.shape and out.size > 0
    np.testing.assert_allclose(out, ref, atol=1e-5, rtol=0)


def test_streaming_concatenates_to_speak(synth, nb) -> None:  # noqa: ANN001
    whole = synth.synthesize_phonemes(CHUNKS, seed=11)
    synth.start_phonemes(CHUNKS, seed=11)
    pieces, ends, sentences = [], 0, set()
    while (item := synth.next_chunk()) is not None:
        samples, sentence, flags = item
        pieces.append(samples)
        sentences.add(sentence)
        ends += bool(flags & nb.MS_CHUNK_END_OF_SENTENCE)
        assert np.all(np.abs(samples) <= 1.0)
    assert synth.next_chunk() is None  # MS_DONE again until the next start
    assert len(pieces) > 2 and ends == len(CHUNKS) and sentences == {0, 1}
    np.testing.assert_array_equal(np.concatenate(pieces), whole)
    assert 0 < synth.timings()["first_audio_s"] < synth.timings()["audio_s"] * 100


def test_resampled_prompt(synth) -> None:  # noqa: ANN001
    voice = _voice(2.5, 44100)
    out = synth.synthesize_phonemes(SHORT, voice, prompt_sample_rate=44100, seed=1)
    assert out.size > 0 and np.all(np.isfinite(out))


def test_limits_and_symbols(synth, tiny_bundle: Path, nb) -> None:  # noqa: ANN001
    m = json.loads((tiny_bundle / "manifest.json").read_text())
    assert synth.sample_rate == m["config"]["codec"]["sample_rate"]
    assert synth.symbols == m["symbols"]
    lim = synth.limits
    assert lim["max_frames"] == m["limits"]["max_frames"]
    assert lim["max_phonemes"] == m["limits"]["max_phonemes"]
    assert lim["n_codebooks"] == m["config"]["codec"]["n_codebooks"]
    assert lim["num_threads"] == 2
    assert "executorch 1.5" in nb.version()


def test_request_limits_come_from_the_library(nb, lib) -> None:  # noqa: ANN001
    """One table of request limits (native/src/request_limits.h): limits.py reads it through
    ms_get_request_limits, and checks.py's names are those values, not copies."""
    import dataclasses

    from mobilespeech_runtime import checks
    from mobilespeech_runtime.limits import request_limits

    raw = nb.RequestLimitsStruct()
    assert lib.ms_get_request_limits(C.byref(raw)) == nb.MS_ERR_INVALID_ARGUMENT  # size unset
    assert lib.ms_get_request_limits(None) == nb.MS_ERR_INVALID_ARGUMENT
    raw.struct_size = C.sizeof(raw)
    assert lib.ms_get_request_limits(C.byref(raw)) == nb.MS_OK
    lim = request_limits()
    assert [f.name for f in dataclasses.fields(lim)] == [n for n, _ in raw._fields_[1:]]
    assert dataclasses.asdict(lim) == {n: getattr(raw, n) for n, _ in raw._fields_[1:]}
    assert (lim.max_steps_per_layer, lim.min_length_scale, lim.max_length_scale) == (64, 0.25, 4)
    assert (lim.max_threads, lim.max_channels, lim.phonemes_per_char) == (256, 64, 1.5)
    assert (lim.min_sample_rate, lim.max_sample_rate) == (1000, 768000)
    assert (lim.max_input_seconds, lim.max_input_frames) == (300, 1 << 24)
    assert (checks.MAX_THREADS, checks.MAX_STEPS_PER_LAYER) == (256, 64)
    assert (checks.PHONEMES_PER_CHAR, checks.MAX_PIPE_BYTES) == (1.5, lim.max_pipe_bytes)
    assert checks.max_request_phonemes(2000) == 3000
    with pytest.raises(ConfigError, match=r"0\.\.256"):
        checks.check_threads(257)
    with pytest.raises(ConfigError, match=r"\[0\.25, 4\]"):
        checks.check_length_scale(4.5)
    with pytest.raises(AttributeError):
        checks.NO_SUCH_LIMIT  # noqa: B018


# ---- error paths ------------------------------------------------------------------------------
def _copy(bundle: Path, dst: Path) -> Path:
    shutil.copytree(bundle, dst)
    return dst


def _swap(a: Path, b: Path) -> None:
    tmp = a.with_suffix(".tmp")
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)


def _edit_manifest(root: Path, fn) -> None:  # noqa: ANN001
    p = root / "manifest.json"
    m = json.loads(p.read_text())
    fn(m)
    p.write_text(json.dumps(m))


def _damage(kind: str, root: Path) -> str:
    """Damages a bundle copy; returns a fragment the error message must contain."""
    if kind == "missing_dir":
        shutil.rmtree(root)
        return "not found"
    if kind == "missing_manifest":
        (root / "manifest.json").unlink()
        return "manifest.json is missing"
    if kind == "not_json":
        (root / "manifest.json").write_text("{not json")
        return "not valid JSON"
    if kind == "wrong_format":
        _edit_manifest(root, lambda m: m.update(format="something-else"))
        return "'format'"
    if kind == "schema_version":
        _edit_manifest(root, lambda m: m.update(schema_version=2))
        return "schema_version"
    if kind == "missing_program":
        (root / "smd.pte").unlink()
        return "smd.pte"
    if kind == "truncated":
        data = (root / "decoder.pte").read_bytes()
        (root / "decoder.pte").write_bytes(data[: len(data) // 2])
        return "decoder.pte is"
    if kind == "tampered":
        data = bytearray((root / "text.pte").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (root / "text.pte").write_bytes(bytes(data))
        return "text.pte fails its sha256"
    if kind == "swapped_files":
        _swap(root / "prompt.pte", root / "smd.pte")
        return "prompt.pte"
    if kind == "swapped_consistent":  # checksums updated too: the program checks catch it
        _swap(root / "prompt.pte", root / "smd.pte")

        def fix(m: dict) -> None:
            f = m["files"]
            f["prompt.pte"], f["smd.pte"] = f["smd.pte"], f["prompt.pte"]
        _edit_manifest(root, fix)
        return "lacks method"
    if kind == "mismatched_programs":  # a manifest that does not describe these programs
        def bump(m: dict) -> None:
            m["config"]["model"]["max_frames"] += 1
            m["constants"]["max_frames"] += 1
        _edit_manifest(root, bump)
        return "max_frames"
    if kind == "outside_file":
        _edit_manifest(root, lambda m: m["files"].update({"../escape": {"bytes": 1, "sha256": ""}}))
        return "outside the bundle"
    raise AssertionError(kind)


DAMAGE = ["missing_dir", "missing_manifest", "not_json", "wrong_format", "schema_version",
          "missing_program", "truncated", "tampered", "swapped_files", "swapped_consistent",
          "mismatched_programs", "outside_file"]


@pytest.mark.parametrize("kind", DAMAGE)
def test_damaged_bundles(nb, tiny_bundle: Path, tmp_path: Path, kind: str) -> None:  # noqa: ANN001
    root = _copy(tiny_bundle, tmp_path / "b")
    fragment = _damage(kind, root)
    with pytest.raises(BundleError) as e:
        nb.NativeSynthesizer(root, num_threads=2)
    assert e.value.status == nb.MS_ERR_MODEL
    assert fragment in str(e.value), str(e.value)


def test_null_pointers_and_struct_sizes(lib, nb, tiny_bundle: Path) -> None:  # noqa: ANN001
    st = C.c_int(-1)
    assert lib.ms_synth_create(None, C.byref(st)) is None
    assert st.value == nb.MS_ERR_INVALID_ARGUMENT and b"NULL" in lib.ms_last_error(None)
    assert lib.ms_synth_create(None, None) is None  # err may be NULL
    assert lib.ms_synth_options_init(None) == nb.MS_ERR_INVALID_ARGUMENT

    # options: wrong struct_size, bundle_dir NULL, out-of-range values
    buf = (C.c_uint8 * 4096)()
    opts = nb.SynthOptions.from_buffer(buf)
    for size, tail, ok in [(0, 0, False), (3, 0, False), (C.sizeof(nb.SynthOptions) - 8, 0, False),
                           (4097, 0, False), (C.sizeof(nb.SynthOptions) + 16, 0, True),
                           (C.sizeof(nb.SynthOptions) + 16, 1, False)]:
        lib.ms_synth_options_init(C.byref(opts))
        opts.bundle_dir = str(tiny_bundle).encode()
        opts.struct_size = size
        buf[C.sizeof(nb.SynthOptions) + 4] = tail
        h = lib.ms_synth_create(C.byref(opts), C.byref(st))
        assert (h is not None) == ok, (size, tail, lib.ms_last_error(None))
        if h:
            lib.ms_synth_destroy(h)
        else:
            assert st.value == nb.MS_ERR_INVALID_ARGUMENT
    buf[C.sizeof(nb.SynthOptions) + 4] = 0
    lib.ms_synth_options_init(C.byref(opts))
    assert lib.ms_synth_create(C.byref(opts), C.byref(st)) is None  # bundle_dir NULL
    assert b"bundle_dir" in lib.ms_last_error(None)
    for field, value in [("num_threads", -1), ("length_scale", 9.0), ("n_steps", 3)]:
        lib.ms_synth_options_init(C.byref(opts))
        opts.bundle_dir = str(tiny_bundle).encode()
        setattr(opts, field, value)
        assert lib.ms_synth_create(C.byref(opts), C.byref(st)) is None
        assert st.value == nb.MS_ERR_INVALID_ARGUMENT

    # calls with a NULL handle
    chunk = nb.AudioChunk()
    assert lib.ms_synth_next(None, C.byref(chunk)) == nb.MS_ERR_INVALID_ARGUMENT
    assert lib.ms_synth_start(None, b"hi", None, 0, 0, 0, None) == nb.MS_ERR_INVALID_ARGUMENT
    assert lib.ms_synth_cancel(None) == nb.MS_ERR_INVALID_ARGUMENT
    assert lib.ms_synth_sample_rate(None) == 0
    assert lib.ms_synth_symbol(None, 0) is None
    lib.ms_synth_destroy(None)
    lib.ms_free_audio(None)
    assert lib.ms_status_string(12345) == b"MS_UNKNOWN_STATUS"

    with nb.NativeSynthesizer(tiny_bundle) as s:
        h = s.handle
        assert lib.ms_synth_next(h, None) == nb.MS_ERR_INVALID_ARGUMENT
        assert lib.ms_synth_start(h, None, None, 0, 0, 0, None) == nb.MS_ERR_INVALID_ARGUMENT
        assert b"text is NULL" in lib.ms_last_error(h)
        ids = (C.c_int32 * 2)(5, 6)
        lengths = (C.c_size_t * 1)(2)
        assert lib.ms_synth_start_phonemes(h, None, lengths, 1, None, 0, 0, 0, None) == \
            nb.MS_ERR_INVALID_ARGUMENT
        assert lib.ms_synth_start_phonemes(h, ids, None, 1, None, 0, 0, 0, None) == \
            nb.MS_ERR_INVALID_ARGUMENT
        assert lib.ms_synth_start_phonemes(h, ids, lengths, 1, None, 100, 16000, 1, None) == \
            nb.MS_ERR_INVALID_ARGUMENT  # prompt NULL with frames
        out, n = C.POINTER(C.c_float)(), C.c_size_t(7)
        assert lib.ms_synth_speak_phonemes(h, ids, lengths, 1, None, 0, 0, 0, None, None,
                                           C.byref(n)) == nb.MS_ERR_INVALID_ARGUMENT
        assert n.value == 0
        assert lib.ms_synth_speak_phonemes(h, ids, lengths, 1, None, 0, 0, 0, None, C.byref(out),
                                           C.byref(n)) == nb.MS_OK
        assert n.value > 0
        lib.ms_free_audio(out)
        # start options with a wrong struct_size
        so = nb.StartOptions()
        so.struct_size = 1
        assert lib.ms_synth_start_phonemes(h, ids, lengths, 1, None, 0, 0, 0, C.byref(so)) == \
            nb.MS_ERR_INVALID_ARGUMENT
        assert b"struct_size" in lib.ms_last_error(h)
        lim = nb.Limits()
        assert lib.ms_synth_limits(h, C.byref(lim)) == nb.MS_ERR_INVALID_ARGUMENT  # size unset
        assert lib.ms_synth_limits(h, None) == nb.MS_ERR_INVALID_ARGUMENT
        lim.struct_size = 16  # an older, smaller ms_limits: filled up to its size
        assert lib.ms_synth_limits(h, C.byref(lim)) == nb.MS_OK
        assert lim.sample_rate == s.sample_rate and lim.max_chars == 0


def test_bad_prompts(synth, nb) -> None:  # noqa: ANN001
    voice = _voice()
    cases = [
        (voice, 0, "sample rate"), (voice, -16000, "sample rate"), (voice, 100, "sample rate"),
        (np.zeros(32000, np.float32), 16000, "silent"),
        (voice[:8000], 16000, "at least"),
        (np.where(np.arange(voice.size) == 5, np.nan, voice).astype(np.float32), 16000, "NaN"),
        (np.zeros(0, np.float32), 16000, "empty"),
        (np.zeros((32000, 0), np.float32), 16000, "channels"),
    ]
    for prompt, rate, fragment in cases:
        with pytest.raises(InvalidAudioError, match=fragment) as e:
            synth.start_phonemes(SHORT, prompt, prompt_sample_rate=rate)
        assert e.value.status == nb.MS_ERR_INVALID_AUDIO
    # A too-long prompt is trimmed, and the chunks say so.
    long = np.tile(voice, 6)  # 12 s > max_prompt_seconds
    synth.start_phonemes(SHORT, long, prompt_sample_rate=16000)
    _, _, flags = synth.next_chunk()
    assert flags & nb.MS_CHUNK_PROMPT_TRIMMED


def test_bad_text_and_options(synth, nb) -> None:  # noqa: ANN001
    n_sym = len(synth.symbols)
    too_long = [[5] * (synth.limits["max_phonemes"] + 1)]
    for chunks, fragment in [([[5, n_sym]], "outside"), ([[5, -1]], "outside"), ([[]], "empty"),
                             (too_long, "at most"), ([], "n_chunks")]:
        with pytest.raises((InvalidTextError, ConfigError), match=fragment):
            synth.start_phonemes(chunks)
    with pytest.raises(ConfigError, match="steps"):
        synth.start_phonemes(SHORT, steps=(1, 2, 3))
    with pytest.raises(ConfigError, match="steps"):
        synth.start_phonemes(SHORT, steps=(0, 1))
    with pytest.raises(ConfigError, match="length_scale"):
        synth.start_phonemes(SHORT, length_scale=9.0)
    if not synth.has_text_frontend:
        with pytest.raises(BundleError, match="text frontend"):
            synth.start("Hello there.")
    else:
        with pytest.raises(InvalidTextError):
            synth.start("   ")
        with pytest.raises(InvalidTextError):
            synth.start("a" * (synth.limits["max_chars"] + 1))


def test_next_before_start_and_after_done(synth, nb) -> None:  # noqa: ANN001
    with pytest.raises(nb.NativeStateError):
        synth.next_chunk()
    synth.start_phonemes(SHORT)
    while synth.next_chunk() is not None:
        pass
    assert synth.next_chunk() is None
    # a failed start leaves no synthesis in progress
    with pytest.raises(InvalidTextError):
        synth.start_phonemes([[]])
    with pytest.raises(nb.NativeStateError):
        synth.next_chunk()


def test_cancel(synth, nb) -> None:  # noqa: ANN001
    synth.start_phonemes(CHUNKS)
    synth.cancel()
    with pytest.raises(nb.SynthesisCancelled):
        synth.next_chunk()
    with pytest.raises(nb.NativeStateError):
        synth.next_chunk()
    # a cancel made while idle is cleared by the next start
    synth.cancel()
    assert synth.synthesize_phonemes(SHORT).size > 0

    # from another thread, while the owner thread is streaming
    got: list[int] = []
    synth.start_phonemes(CHUNKS * 3)
    first = synth.next_chunk()
    assert first is not None
    t = threading.Thread(target=synth.cancel)
    t.start()
    t.join()
    with pytest.raises(nb.SynthesisCancelled):
        while (item := synth.next_chunk()) is not None:
            got.append(item[0].size)


def test_two_handles_two_threads(nb, tiny_bundle: Path) -> None:  # noqa: ANN001
    jobs = [(CHUNKS, 1), (SHORT, 2)]
    with nb.NativeSynthesizer(tiny_bundle, num_threads=2) as s:
        expected = [s.synthesize_phonemes(ch, seed=seed) for ch, seed in jobs]
    results: dict[int, list[np.ndarray]] = {0: [], 1: []}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            with nb.NativeSynthesizer(tiny_bundle, num_threads=2) as s:
                ch, seed = jobs[i]
                for _ in range(3):
                    results[i].append(np.concatenate(list(s.stream_phonemes(ch, seed=seed))))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for i in range(2):
        assert len(results[i]) == 3
        for r in results[i]:
            np.testing.assert_array_equal(r, expected[i])


# ---- C programs: smoke test, unit tests, CLI ----------------------------------------------------
def test_c_smoke_and_unit_tests(native_build: Path, tiny_bundle: Path) -> None:
    if not (native_build / "mobilespeech_capi_test").exists():
        pytest.skip("C tests not built (MS_BUILD_TESTS=OFF)")
    r = subprocess.run([str(native_build / "mobilespeech_unit_test")], capture_output=True,
                       text=True, timeout=120, cwd=native_build)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([str(native_build / "mobilespeech_capi_test"), str(tiny_bundle)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "capi_test: OK" in r.stdout, r.stdout + r.stderr


def test_c_smoke_with_and_without_text_frontend(native_build: Path, tiny_bundle_with_frontend: Path,
                                                bundle_without_frontend: Path) -> None:
    """The C smoke test on a bundle with frontend assets (ms_synth_text_to_phonemes gives ids
    that speak like the text, ms_normalize_text the words said) and on one without (both are
    MS_ERR_MODEL)."""
    if not (native_build / "mobilespeech_capi_test").exists():
        pytest.skip("C tests not built (MS_BUILD_TESTS=OFF)")
    for bundle in (tiny_bundle_with_frontend, bundle_without_frontend):
        r = subprocess.run([str(native_build / "mobilespeech_capi_test"), str(bundle)],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0 and "capi_test: OK" in r.stdout, r.stdout + r.stderr


def test_cli(native_build: Path, tiny_bundle: Path, tmp_path: Path, prompt_wav: Path) -> None:
    import soundfile as sf

    cli = native_build / "mobilespeech_cli"
    out = tmp_path / "out.wav"
    r = subprocess.run([str(cli), "--bundle", str(tiny_bundle), "--phonemes",
                        "HH AH0 L OW1 <sil> | W ER1 L D <sil>", "--prompt", str(prompt_wav),
                        "--out", str(out), "--threads", "2", "--seed", "3", "--steps", "2,1"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "RTF:" in r.stdout and "peak RSS" in r.stdout and "first audio" in r.stdout
    # ExecuTorch's info log (its thread pool's cpuinfo lines) is filtered out unless asked for.
    assert "executorch:" not in r.stderr, r.stderr
    data, sr = sf.read(out)
    assert sr == 16000 and data.size > 0
    r = subprocess.run([str(cli), "--bundle", str(tiny_bundle), "--phonemes", "HH AH0 L OW1",
                        "--out", str(out), "--threads", "2", "--verbose"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "executorch:" in r.stderr, r.stderr
    r = subprocess.run([str(cli), "--bundle", str(tiny_bundle), "--phonemes", "HH AH0 L OW1 <sil>",
                        "--bench", "3", "--warmup", "1", "--json", "--threads", "2"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    line = json.loads(r.stdout.strip().splitlines()[-1])
    assert line["runs"] == 3 and line["threads"] == 2
    assert {"median", "min", "max"} <= set(line["rtf"]) and line["peak_rss_mib"] > 0
    r = subprocess.run([str(cli), "--bundle", str(tmp_path / "nope"), "--phonemes", "AH0",
                        "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "bundle folder not found" in r.stderr


# ---- fuzzing under sanitizers -------------------------------------------------------------------
@pytest.mark.parametrize("calls", [10_000])
def test_fuzz_under_asan(tiny_bundle: Path, calls: int, record_property) -> None:  # noqa: ANN001
    build = _build(sanitize=True)
    env = dict(os.environ,
               ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:"
                            "detect_stack_use_after_return=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    r = subprocess.run([str(build / "mobilespeech_fuzz"), "--bundle", str(tiny_bundle),
                        "--calls", str(calls), "--seed", "7"],
                       capture_output=True, text=True, timeout=600, env=env)
    findings = [ln for ln in r.stderr.splitlines()
                if "ERROR: AddressSanitizer" in ln or "ERROR: LeakSanitizer" in ln
                or "runtime error:" in ln or "VIOLATION" in ln]
    assert r.returncode == 0 and not findings, "\n".join(findings[:20]) + r.stderr[-3000:]
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    record_property("fuzz_calls", summary["calls"])
    print(f"fuzz: {summary['calls']} calls, {summary['violations']} violations, sanitizer "
          f"findings 0, {summary['utterances']} utterances, {summary['seconds']} s")
    assert summary["calls"] >= calls and summary["violations"] == 0
    assert summary["chunks"] > 0 and summary["status"]["MS_ERR_MODEL"] > 0
