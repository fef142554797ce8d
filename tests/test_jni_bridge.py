"""The mobile bindings, checked here without an Android or Apple SDK (issue 5).

Android: the JNI bridge of the SDK module (``android_demo/sdk/src/main/cpp/mobilespeech_jni.cc``)
is compiled for the host against the JDK's ``jni.h`` and ``build/native/libmobilespeech.so``;
``MobileSpeech.kt`` (the SDK's API class, the file the SDK module ships) is compiled with Debian's
``kotlinc`` (package ``kotlin``, 1.3.31; ``scripts/setup.sh --test`` installs it) and
``android_demo/jvm-test/.../JniHarness.java`` drives that compiled class, the Kotlin stdlib on the
class path, through the bridge loaded from ``java.library.path``, with the session's tiny bundle:
streaming, whole-utterance, a PCM prompt, cancellation, and errors that must arrive as
``MobileSpeechException`` carrying the C status and ``ms_last_error``'s message. The audio is
compared with the ctypes binding of the same library.

iOS: no Swift compiler here, so ``ios_demo/MobileSpeechKit/MobileSpeech.swift`` is checked
against the C header by parsing: every ``ms_*`` function it calls exists with the same argument
count, and every type, constant and struct field it names exists.

Skips only when javac/java, kotlinc or a C++ compiler is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
ANDROID = REPO / "android_demo"
SDK = ANDROID / "sdk" / "src" / "main"  # the Android library module (Kotlin API + JNI bridge)
JNI_SRC = SDK / "cpp" / "mobilespeech_jni.cc"
KOTLIN_API = SDK / "java" / "com" / "mobilespeech" / "MobileSpeech.kt"
HARNESS = ANDROID / "jvm-test" / "harness" / "com" / "mobilespeech" / "harness" / "JniHarness.java"
HEADER = REPO / "mobilespeech_runtime" / "native" / "include" / "mobilespeech.h"
# The core's UTF-8 codec, compiled into the bridge as the SDK's CMakeLists.txt does.
UTF8_SRC = REPO / "mobilespeech_runtime" / "native" / "src" / "utf8.cc"
IOS = REPO / "ios_demo"
SWIFT_WRAPPER = IOS / "MobileSpeechKit" / "MobileSpeech.swift"
MODULE_MAP = IOS / "CMobileSpeech" / "module.modulemap"
BUILD_SCRIPT = REPO / "scripts" / "build_native.sh"

SYMBOLS = ["HH", "AH0", "L", "OW1", "<sil>"]  # spoken three times per sentence, three sentences
SEED = 7  # the harness creates its MobileSpeech with seed 7 and one thread
HARNESS_MAIN = "com.mobilespeech.harness.JniHarness"


# ---- toolchain ----------------------------------------------------------------------------------
def _cxx() -> str | None:
    for c in (os.environ.get("CXX"), "c++", "g++", "clang++"):
        if c and shutil.which(c):
            return shutil.which(c)
    return None


def _jdk_home(javac: str) -> Path:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "include" / "jni.h").is_file():
        return Path(home)
    return Path(os.path.realpath(javac)).parent.parent


def _run(cmd: list[str], timeout: float = 600, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


@pytest.fixture(scope="session")
def jdk() -> dict[str, str]:
    javac, java = shutil.which("javac"), shutil.which("java")
    if not javac or not java:
        pytest.skip("javac/java not installed (Debian: apt-get install openjdk-17-jdk-headless)")
    cxx = _cxx()
    if not cxx:
        pytest.skip("no C++ compiler (c++, g++ or clang++)")
    home = _jdk_home(javac)
    include = home / "include"
    assert (include / "jni.h").is_file(), f"the JDK at {home} has no include/jni.h"
    platform_dirs = [p for p in include.iterdir() if p.is_dir() and (p / "jni_md.h").is_file()]
    assert platform_dirs, f"no jni_md.h under {include}"
    return {"javac": javac, "java": java, "cxx": cxx, "include": str(include),
            "include_md": str(platform_dirs[0])}


@pytest.fixture(scope="session")
def native_lib() -> Path:
    """libmobilespeech: $MOBILESPEECH_NATIVE_LIB, or build/native (built there if missing)."""
    if os.environ.get("MOBILESPEECH_NATIVE_LIB"):
        return Path(os.environ["MOBILESPEECH_NATIVE_LIB"])
    lib = REPO / "build" / "native" / "libmobilespeech.so"
    if not lib.exists():
        r = _run(["nice", "-n", "19", "bash", str(BUILD_SCRIPT)], timeout=3600, cwd=REPO)
        if r.returncode != 0:
            pytest.fail(f"scripts/build_native.sh failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    assert lib.exists(), f"{lib} was not built"
    return lib


@pytest.fixture(scope="session")
def jni_dir(jdk: dict[str, str], native_lib: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bridge, built as CI builds any C++: warnings are errors."""
    out = tmp_path_factory.mktemp("jni")
    cmd = [jdk["cxx"], "-std=c++17", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
           f"-I{jdk['include']}", f"-I{jdk['include_md']}", f"-I{HEADER.parent}",
           f"-I{UTF8_SRC.parent}", str(JNI_SRC), str(UTF8_SRC),
           "-o", str(out / "libmobilespeech_jni.so"), str(native_lib),
           f"-Wl,-rpath,{native_lib.resolve().parent}", "-Wl,--no-undefined"]
    r = _run(cmd)
    assert r.returncode == 0, f"the JNI bridge does not compile:\n{' '.join(cmd)}\n{r.stderr}"
    return out


def _javac(jdk: dict[str, str], out: Path, sources: list[Path], classpath: str = "") -> None:
    cmd = [jdk["javac"], "-Xlint:all", "-Werror", "-encoding", "UTF-8", "-d", str(out)]
    if classpath:
        cmd += ["-cp", classpath]
    r = _run(cmd + [str(s) for s in sources])
    assert r.returncode == 0, f"javac failed:\n{r.stdout}\n{r.stderr}"


def _manifest(bundle: Path) -> dict:
    return json.loads((bundle / "manifest.json").read_text())


def run_harness(jdk: dict[str, str], jni: Path, native_lib: Path, classpath: str, bundle: Path,
                prompt: Path, out: Path) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    libpath = os.pathsep.join([str(jni), str(native_lib.resolve().parent)])
    cmd = [jdk["java"], "-Xcheck:jni", f"-Djava.library.path={libpath}", "-cp", classpath,
           HARNESS_MAIN, str(bundle), str(out), ",".join(SYMBOLS), str(prompt)]
    r = _run(cmd, env=env)
    log = r.stdout + r.stderr
    assert r.returncode == 0 and "harness: ok" in r.stdout, f"harness failed:\n{log[-6000:]}"
    # -Xcheck:jni reports misuse of the JNI API (pending exceptions, bad refs, bad UTF) here.
    assert "WARNING in native method" not in log and "FATAL ERROR in native method" not in log, log
    return json.loads((out / "result.json").read_text())


def f32(path: Path) -> np.ndarray:
    return np.fromfile(path, dtype="<f4")


def _kotlin_stdlib(kotlinc: str) -> Path | None:
    home = Path(os.path.realpath(kotlinc)).parent.parent
    for d in [Path(os.environ.get("KOTLIN_HOME", "/nonexistent")) / "lib", home / "lib",
              Path("/usr/share/kotlin/lib"), Path("/usr/share/java")]:
        if (d / "kotlin-stdlib.jar").is_file():
            return d / "kotlin-stdlib.jar"
    return None


@pytest.fixture(scope="session")
def kotlin_classes(jdk: dict[str, str], tmp_path_factory: pytest.TempPathFactory
                   ) -> tuple[Path, Path]:
    kotlinc = shutil.which("kotlinc")
    if kotlinc is None:
        pytest.skip("kotlinc not installed (Debian: apt-get install kotlin; scripts/setup.sh "
                    "--test installs it)")
    stdlib = _kotlin_stdlib(kotlinc)
    assert stdlib is not None, "kotlinc found but no kotlin-stdlib.jar next to it"
    out = tmp_path_factory.mktemp("kotlin_classes")
    r = _run([kotlinc, "-jvm-target", "1.8", "-d", str(out), str(KOTLIN_API)], timeout=900)
    assert r.returncode == 0, f"kotlinc failed:\n{r.stdout}\n{r.stderr}"
    _javac(jdk, out, [HARNESS], classpath=os.pathsep.join([str(out), str(stdlib)]))
    return out, stdlib


@pytest.fixture(scope="session")
def kotlin_run(jdk, jni_dir, native_lib, kotlin_classes, tiny_bundle, prompt_wav,  # noqa: ANN001
               tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """The harness over the compiled MobileSpeech.kt (with the Kotlin stdlib)."""
    classes, stdlib = kotlin_classes
    out = tmp_path_factory.mktemp("kotlin_out")
    res = run_harness(jdk, jni_dir, native_lib, os.pathsep.join([str(classes), str(stdlib)]),
                      tiny_bundle, prompt_wav, out)
    return res, out


@pytest.fixture(scope="session")
def reference(native_lib: Path, tiny_bundle: Path):  # noqa: ANN201
    """The same library through the ctypes binding, for comparison."""
    from mobilespeech_runtime import native_binding

    native_binding.load_library(native_lib)
    return native_binding


def _chunks(result: dict) -> list[list[int]]:
    return [list(c) for c in result["chunks"]]


# ---- Android: JNI bridge + API class on the desktop JVM ----------------------------------------
def test_bridge_exports_every_native_method(jni_dir: Path) -> None:
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm not installed")
    r = _run([nm, "-D", "--defined-only", str(jni_dir / "libmobilespeech_jni.so")])
    exported = set(re.findall(r"\b(Java_com_mobilespeech_NativeBridge_\w+|JNI_OnLoad)\b", r.stdout))
    wanted = {f"Java_com_mobilespeech_NativeBridge_{m}" for m in _kotlin_externals()}
    wanted |= {"JNI_OnLoad"}
    assert wanted <= exported, f"not exported: {sorted(wanted - exported)}"


def test_streaming_synthesis_through_the_api_class(kotlin_run: tuple[dict, Path],
                                                   tiny_bundle: Path) -> None:
    res, out = kotlin_run
    rate = _manifest(tiny_bundle)["constants"]["sample_rate"]
    assert res["limits"]["sample_rate"] == rate
    assert res["version"].startswith("0.1.0")
    stream = f32(out / "stream.f32")
    s = res["stream"]
    assert stream.size > 0 and np.isfinite(stream).all() and np.abs(stream).max() <= 1.0
    assert s["sample_rate"] == rate and set(res["stream_chunk_rates"]) == {rate}
    assert s["num_samples"] == stream.size and s["num_chunks"] == s["callbacks"] >= 3
    assert not s["cancelled"]
    # three sentences, in order, each closed by a chunk flagged end-of-sentence
    sentences, ends = res["stream_chunk_sentences"], res["stream_chunk_ends"]
    assert sentences == sorted(sentences) and set(sentences) == {0, 1, 2}
    for i, sent in enumerate(sentences):
        last_of_sentence = i + 1 == len(sentences) or sentences[i + 1] != sent
        assert ends[i] == last_of_sentence
    # the figures the app shows: RTF and time to first audio, consistent with the library's own
    assert s["audio_seconds"] == pytest.approx(stream.size / rate)
    assert 0 < s["first_audio_seconds"] <= s["compute_seconds"]
    assert s["rtf"] == pytest.approx(s["compute_seconds"] / s["audio_seconds"], rel=1e-6)
    assert s["timings"]["audio_s"] == pytest.approx(s["audio_seconds"], rel=1e-6)
    assert 0 < s["timings"]["first_audio_s"] <= s["first_audio_seconds"] + 1e-3


def test_audio_equals_the_c_library(kotlin_run: tuple[dict, Path], reference,  # noqa: ANN001
                                    tiny_bundle: Path) -> None:
    res, out = kotlin_run
    stream, speak = f32(out / "stream.f32"), f32(out / "speak.f32")
    assert np.array_equal(stream, speak), "streamed chunks must concatenate to speakPhonemes()"
    chunks = _chunks(res)
    with reference.NativeSynthesizer(tiny_bundle, num_threads=1, seed=SEED) as ref:
        want = ref.synthesize_phonemes(chunks)
        prompt_in = f32(out / "prompt_in.f32")
        p = res["prompt"]
        assert p["prompt_channels"] == 1
        want_prompt = ref.synthesize_phonemes(chunks, prompt=prompt_in,
                                              prompt_sample_rate=p["prompt_rate"])
    assert stream.shape == want.shape and np.abs(stream - want).max() <= 1e-5
    got_prompt = f32(out / "prompt.f32")
    assert got_prompt.shape == want_prompt.shape and np.abs(got_prompt - want_prompt).max() <= 1e-5


def test_text_synthesis_or_the_library_reason(kotlin_run: tuple[dict, Path], reference,  # noqa: ANN001
                                              tiny_bundle: Path) -> None:
    res, out = kotlin_run
    text = res["text"]
    with reference.NativeSynthesizer(tiny_bundle, num_threads=1, seed=SEED) as ref:
        if text["ok"]:
            got = f32(out / "text.f32")
            want = ref.synthesize("Hello there.")
            assert got.size > 0 and np.isfinite(got).all()
            assert got.shape == want.shape and np.abs(got - want).max() <= 1e-5
        else:
            # No text frontend in this build or bundle: the C reason, unchanged, as an exception.
            with pytest.raises(Exception) as e:
                ref.synthesize("Hello there.")
            assert text["error"]["status"] == e.value.status
            assert text["error"]["message"] == str(e.value)
            assert "frontend" in text["error"]["message"]


def test_errors_are_exceptions_with_the_c_status_and_message(
        kotlin_run: tuple[dict, Path], reference, tiny_bundle: Path) -> None:  # noqa: ANN001
    res, out = kotlin_run

    def c_error(fn) -> tuple[int, str]:  # noqa: ANN001
        with pytest.raises(Exception) as e:
            fn()
        return e.value.status, str(e.value)

    for key in [k for k in res if k.startswith("error_")]:
        err = res[key]
        assert err["class"] == "com.mobilespeech.MobileSpeechException"
        assert err["is_runtime_exception"]
        assert err["message"], key
        assert err["status_name"] == reference.status_string(err["status"]), key

    bad = str(tiny_bundle / "no-such-bundle")
    assert (res["error_bad_bundle"]["status"], res["error_bad_bundle"]["message"]) == c_error(
        lambda: reference.NativeSynthesizer(bad))
    assert res["error_bad_bundle"]["status_name"] == "MS_ERR_MODEL"
    assert (res["error_bad_threads"]["status"], res["error_bad_threads"]["message"]) == c_error(
        lambda: reference.NativeSynthesizer(tiny_bundle, num_threads=-3))
    n_symbols = res["limits"]["n_symbols"]
    with reference.NativeSynthesizer(tiny_bundle, num_threads=1, seed=SEED) as ref:
        assert (res["error_bad_phoneme"]["status"], res["error_bad_phoneme"]["message"]) == c_error(
            lambda: ref.synthesize_phonemes([[n_symbols + 5]]))
        silent = np.zeros(2 * 16000, np.float32)
        assert (res["error_silent_prompt"]["status"],
                res["error_silent_prompt"]["message"]) == c_error(
            lambda: ref.synthesize_phonemes(_chunks(res), prompt=silent, prompt_sample_rate=16000))
        assert (res["error_empty_chunks"]["status"],
                res["error_empty_chunks"]["message"]) == c_error(
            lambda: ref.synthesize_phonemes([]))
    # Checked by the bridge itself, before the C call: Java strings and arrays that C cannot take.
    assert res["error_nul_text"]["status_name"] == "MS_ERR_INVALID_TEXT"
    assert "NUL" in res["error_nul_text"]["message"]
    assert res["error_bad_channels"]["status_name"] == "MS_ERR_INVALID_ARGUMENT"
    assert "multiple of channels" in res["error_bad_channels"]["message"]


def test_cancel_stop_and_close(kotlin_run: tuple[dict, Path]) -> None:
    res, _ = kotlin_run
    full = res["stream"]["num_chunks"]
    by_callback, by_thread = res["stopped_by_callback"], res["cancelled_from_thread"]
    assert by_callback["cancelled"] and by_callback["num_chunks"] == 1 < full
    assert by_thread["cancelled"] and 1 <= by_thread["num_chunks"] < full
    assert res["use_after_close"].startswith("IllegalStateException")


def _javap_public(jdk: dict[str, str], classpath: str, classes: list[str]) -> dict[str, set[str]]:
    javap = str(Path(jdk["javac"]).with_name("javap"))
    r = _run([javap, "-public", "-cp", classpath] + classes)
    assert r.returncode == 0, r.stderr
    out: dict[str, set[str]] = {}
    current = ""
    for line in r.stdout.splitlines():
        m = re.match(r".*\b(?:class|interface) (\S+)", line)
        if m and line.rstrip().endswith("{"):
            current = m.group(1)
            out[current] = set()
        elif line.startswith("  ") and current:
            member = re.sub(r"\b(final|abstract|synchronized) ", "", line.strip())
            if "Companion" in member or "DefaultConstructorMarker" in member:
                continue  # Kotlin's companion holder and default-argument constructor
            out[current].add(member)
    return out


API_CLASSES = ["com.mobilespeech.MobileSpeech", "com.mobilespeech.MobileSpeechException"] + [
    f"com.mobilespeech.MobileSpeech${n}" for n in
    ("Config", "Prompt", "ChunkInfo", "AudioCallback", "Limits", "Timings", "SynthesisResult")]


def test_the_api_class_is_the_compiled_kotlin(kotlin_run: tuple[dict, Path],
                                              kotlin_classes: tuple[Path, Path],
                                              jdk: dict[str, str]) -> None:  # noqa: ANN001
    res, _ = kotlin_run
    classes, stdlib = kotlin_classes
    assert Path(res["api_class"].removeprefix("file:")).resolve() == classes.resolve(), \
        f"the harness ran {res['api_class']}, not the classes kotlinc wrote ({classes})"
    api = _javap_public(jdk, os.pathsep.join([str(classes), str(stdlib)]), API_CLASSES)
    assert sorted(api) == sorted(API_CLASSES)
    assert all(api[c] for c in ("com.mobilespeech.MobileSpeech",
                                "com.mobilespeech.MobileSpeechException")), api


def _kotlin_externals() -> dict[str, int]:
    src = KOTLIN_API.read_text()
    out = {}
    for m in re.finditer(r"external fun (\w+)\((.*?)\)", src, re.S):
        params = [p for p in m.group(2).split(",") if p.strip()]
        out[m.group(1)] = len(params)
    return out


def _jni_functions() -> dict[str, int]:
    src = JNI_SRC.read_text()
    out = {}
    for m in re.finditer(r"Java_com_mobilespeech_NativeBridge_(\w+)\s*\((.*?)\)\s*\{", src, re.S):
        out[m.group(1)] = len([p for p in m.group(2).split(",") if p.strip()]) - 2  # env, class
    return out


def test_native_methods_agree_kotlin_and_cpp() -> None:
    """Runs without any toolchain: the Kotlin externals and the C++ Java_* functions agree."""
    kt, cpp = _kotlin_externals(), _jni_functions()
    assert kt and kt == cpp, (kt, cpp)


def test_android_modules_are_wired() -> None:
    """No Gradle here: the files that make ``sdk/`` a library module the app depends on agree
    with each other (module names, paths, the package JNI binds, the keep rules)."""
    settings = (ANDROID / "settings.gradle.kts").read_text()
    assert re.search(r'include\(\s*":sdk"\s*,\s*":app"\s*\)', settings), settings
    assert 'id("com.android.library")' in (ANDROID / "build.gradle.kts").read_text()
    sdk_gradle = (ANDROID / "sdk" / "build.gradle.kts").read_text()
    assert 'id("com.android.library")' in sdk_gradle
    assert 'namespace = "com.mobilespeech"' in sdk_gradle
    cmake = re.search(r'path = file\("([^"]+)"\)', sdk_gradle)
    assert cmake and (ANDROID / "sdk" / cmake.group(1)).is_file(), sdk_gradle
    cmake_src = (ANDROID / "sdk" / cmake.group(1)).read_text()
    jni_lib = re.search(r"add_library\(mobilespeech_jni SHARED ([^)]*)\)", cmake_src)
    assert jni_lib and JNI_SRC.name in jni_lib.group(1).split(), cmake_src
    assert "mobilespeech_runtime/native/src/utf8.cc" in jni_lib.group(1), "the core's UTF-8 codec"
    rules = re.search(r'consumerProguardFiles\("([^"]+)"\)', sdk_gradle)
    assert rules, sdk_gradle
    keep = (ANDROID / "sdk" / rules.group(1)).read_text()
    assert "com.mobilespeech.MobileSpeechException" in keep
    assert "com.mobilespeech.NativeBridge" in keep
    assert (SDK / "AndroidManifest.xml").is_file()
    assert re.search(r"^package com\.mobilespeech$", KOTLIN_API.read_text(), re.M)
    app_gradle = (ANDROID / "app" / "build.gradle.kts").read_text()
    assert 'implementation(project(":sdk"))' in app_gradle
    assert "externalNativeBuild" not in app_gradle, "the JNI library is the SDK module's"
    assert not (ANDROID / "app" / "src" / "main" / "cpp").exists()
    assert 'PREBUILT="$HERE/sdk/prebuilt/$ABI"' in (ANDROID / "build_android.sh").read_text()


def test_compiled_kotlin_has_every_public_function(jdk, kotlin_classes) -> None:  # noqa: ANN001
    kt_src = KOTLIN_API.read_text()
    names = set(re.findall(r"^\s*(?:@JvmStatic\s+)?(?:override\s+)?fun (\w+)\(", kt_src, re.M))
    names -= {"checkOpen", "readTimings", "flatten", "stream"}
    assert {"synthesize", "synthesizePhonemes", "speak", "speakPhonemes", "cancel", "close",
            "symbol", "phonemeId", "version", "statusName", "onAudio"} <= names
    private = set(re.findall(r"private fun (\w+)\(", kt_src))
    classes, stdlib = kotlin_classes
    api = _javap_public(jdk, os.pathsep.join([str(classes), str(stdlib)]), API_CLASSES)
    members = "\n".join(m for ms in api.values() for m in ms)
    for name in names - private:
        assert re.search(rf"\b{name}\(", members), f"compiled MobileSpeech.kt lacks {name}()"


# ---- iOS: the Swift wrapper against the C header -----------------------------------------------
def _strip_c_comments(src: str) -> str:
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    return re.sub(r"//[^\n]*", " ", src)


def _split_args(s: str) -> list[str]:
    args, depth, cur = [], 0, ""
    for ch in s:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            args.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        args.append(cur)
    return args


def parse_header(path: Path = HEADER) -> dict:
    src = _strip_c_comments(path.read_text())
    functions = {}
    for m in re.finditer(r"MS_API\s+[^;()]*?\b(ms_\w+)\s*\(([^)]*)\)\s*;", src, re.S):
        args = _split_args(m.group(2))
        functions[m.group(1)] = 0 if [a.strip() for a in args] == ["void"] else len(args)
    structs = {}
    for m in re.finditer(r"typedef struct (\w+)\s*\{(.*?)\}\s*\1\s*;", src, re.S):
        fields = set()
        for decl in m.group(2).split(";"):
            ids = re.findall(r"\b([A-Za-z_]\w*)\b", re.sub(r"\[.*?\]", "", decl))
            if ids:
                fields.add(ids[-1])
        structs[m.group(1)] = fields
    types = set(structs) | set(re.findall(r"typedef (?:enum|struct) \w+ (\w+);", src)) \
        | set(re.findall(r"\}\s*(ms_\w+)\s*;", src))
    constants = set(re.findall(r"\b(MS_[A-Z0-9_]+)\s*=", src)) | set(
        re.findall(r"#define (MS_[A-Z0-9_]+)\s+\S", src))
    return {"functions": functions, "structs": structs, "types": types, "constants": constants}


def _strip_swift(src: str) -> str:
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    src = re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', src)  # string literals (with interpolations)
    return re.sub(r"//[^\n]*", " ", src)


def swift_calls(src: str) -> list[tuple[str, int]]:
    """Every `ms_xxx(...)` in Swift source with its top-level argument count."""
    calls = []
    for m in re.finditer(r"\b(ms_\w+)\s*\(", src):
        depth, i = 1, m.end()
        while depth and i < len(src):
            depth += {"(": 1, ")": -1}.get(src[i], 0)
            i += 1
        inner = src[m.end():i - 1]
        calls.append((m.group(1), len(_split_args(inner)) if inner.strip() else 0))
    return calls


def test_header_parser_sees_the_whole_abi() -> None:
    h = parse_header()
    assert h["functions"]["ms_synth_start"] == 7
    assert h["functions"]["ms_synth_speak_phonemes"] == 11
    assert h["functions"]["ms_version"] == 0
    assert len(h["functions"]) >= 18
    assert {"bundle_dir", "num_threads", "verify_checksums"} <= h["structs"]["ms_synth_options"]
    assert {"MS_OK", "MS_DONE", "MS_ERR_CANCELLED", "MS_CHUNK_END_OF_SENTENCE"} <= h["constants"]


def test_swift_wrapper_matches_the_c_header() -> None:
    """No Swift compiler here: every C function, type, constant and field the wrapper uses must
    exist in mobilespeech.h, each call with the header's argument count."""
    h = parse_header()
    src = _strip_swift(SWIFT_WRAPPER.read_text())
    calls = swift_calls(src)
    called = {name for name, _ in calls if name in h["functions"]}
    for name, n in calls:
        if name in h["types"]:
            assert n in (0, 1), f"{name}(...) used as an initializer with {n} arguments"
            continue
        assert name in h["functions"], f"the Swift wrapper calls {name}(), which the header lacks"
        assert n == h["functions"][name], (
            f"{name}: Swift passes {n} arguments, the header declares {h['functions'][name]}")
    for token in set(re.findall(r"\bms_\w+\b", src)):
        assert token in h["functions"] or token in h["types"], f"unknown C name {token}"
    for token in set(re.findall(r"\bMS_[A-Z0-9_]+\b", src)):
        assert token in h["constants"], f"unknown C constant {token}"
    # struct fields: `var x = ms_struct()` then every `x.field`
    for var, struct in re.findall(r"\bvar (\w+) = (ms_\w+)\(\)", src):
        assert struct in h["structs"], struct
        for field in set(re.findall(rf"\b{var}\.(\w+)", src)):
            assert field in h["structs"][struct], f"{struct} has no field {field} ({var}.{field})"
    # the wrapper covers the API the apps need
    assert {"ms_synth_create", "ms_synth_destroy", "ms_last_error", "ms_synth_start",
            "ms_synth_start_phonemes", "ms_synth_next", "ms_synth_cancel", "ms_synth_limits",
            "ms_synth_timings", "ms_synth_speak", "ms_free_audio"} <= called


def test_swift_module_map_and_xcframework_script() -> None:
    mm = MODULE_MAP.read_text()
    assert re.search(r'header\s+"mobilespeech\.h"', mm) and "module CMobileSpeech" in mm
    assert "import CMobileSpeech" in SWIFT_WRAPPER.read_text()
    script = (IOS / "build_xcframework.sh").read_text()
    assert "mobilespeech_runtime/native/include/mobilespeech.h" in script
    assert "CMobileSpeech/module.modulemap" in script and "-create-xcframework" in script
    assert "v1.5.1" in script and "v1.5.1" in (ANDROID / "build_android.sh").read_text()
    for sh in (IOS / "build_xcframework.sh", ANDROID / "build_android.sh"):
        r = _run(["bash", "-n", str(sh)])
        assert r.returncode == 0, f"{sh.name}: {r.stderr}"
