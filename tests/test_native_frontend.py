"""The C++ text frontend (mobilespeech_runtime/native/src/frontend) against the Python one.

Builds a standalone driver (mobilespeech_runtime/native/tests/frontend: the frontend sources +
a CLI that reads one text per line and prints ids) with CMake against the ExecuTorch wheel,
writes the frontend assets (export/frontend_assets.py) into a temporary bundle folder, and
compares ``TextFrontend::Encode`` with ``Frontend.encode`` on words and sentences.

Two references: Python as shipped (g2p-en picks homographs by NLTK POS tag) and Python with
every POS tag blanked ("untagged"), which makes it choose the same homograph pronunciation as
the C++ side (g2p-en's untagged default). C++ must equal the untagged reference everywhere but
for float rounding in the g2p GRU (XNNPACK vs numpy) flipping a near-tie argmax; against the
tagged reference it differs only on homographs. The fast subset runs unmarked; the full run
(every CMUdict word, every corpus sentence) is marked slow.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import shutil
import struct
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import torch

from export.frontend_assets import (
    LEXICON_MAGIC,
    G2PNet,
    cached_g2p_pte,
    decode_ids,
    g2p_weights,
    homograph_prons,
    lexicon_entries,
    load_homographs,
    predict_ids,
    torch_predict,
    write_frontend_assets,
)
from mobilespeech_model.config import FrontendConfig
from mobilespeech_model.frontend import DEFAULT_SYMBOLS, Frontend, ensure_nltk_data
from mobilespeech_model.frontend import g2p as g2p_mod
from mobilespeech_model.frontend.g2p import load_cmudict
from mobilespeech_model.frontend.normalize import join_tokens, normalize_text

REPO = Path(__file__).resolve().parents[1]
NATIVE_TESTS = REPO / "mobilespeech_runtime" / "native" / "tests" / "frontend"
BUILD_DIR = REPO / "build" / "frontend_test"
CLI = BUILD_DIR / "ms_frontend_cli"
EXPORT_CACHE = REPO / ".cache" / "frontend"
ET_PREFIX = Path(next(iter(importlib.util.find_spec("executorch").submodule_search_locations)))
LETTERS = "abcdefghijklmnopqrstuvwxyz"

# ---------------------------------------------------------------------------------------------
# Fixtures: NLTK data, assets, driver build


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("mscache_native")
    saved = os.environ.get("MOBILESPEECH_CACHE")
    os.environ["MOBILESPEECH_CACHE"] = str(root)
    try:
        yield ensure_nltk_data()
    finally:
        if saved is None:
            os.environ.pop("MOBILESPEECH_CACHE", None)
        else:
            os.environ["MOBILESPEECH_CACHE"] = saved


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle folder with only what the frontend reads: assets and manifest.json."""
    out = tmp_path_factory.mktemp("fe_bundle")
    t0 = time.perf_counter()
    section = write_frontend_assets(out, DEFAULT_SYMBOLS, threads=2, cache_dir=EXPORT_CACHE)
    manifest = {"symbols": DEFAULT_SYMBOLS.to_list(), "frontend": section}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    sizes = {f: (out / f).stat().st_size for f in section["files"]}
    print(f"frontend assets in {time.perf_counter() - t0:.1f} s: {sizes}")
    return out


@pytest.fixture(scope="module")
def cli() -> Path:
    """Configure (once) and build the standalone driver, -j2."""
    cmake = shutil.which("cmake", path=str(REPO / ".venv" / "bin")) or shutil.which("cmake")
    if cmake is None or (shutil.which("c++") is None and shutil.which("g++") is None):
        pytest.skip("needs cmake >= 3.28 and a C++17 compiler")
    t0 = time.perf_counter()
    if not (BUILD_DIR / "CMakeCache.txt").is_file():
        subprocess.run([cmake, "-S", str(NATIVE_TESTS), "-B", str(BUILD_DIR),
                        f"-DCMAKE_PREFIX_PATH={ET_PREFIX}", "-DCMAKE_BUILD_TYPE=Release"],
                       check=True, capture_output=True, text=True)
    proc = subprocess.run([cmake, "--build", str(BUILD_DIR), "-j2"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    warnings = [ln for ln in proc.stdout.splitlines() + proc.stderr.splitlines()
                if "warning:" in ln]
    assert not warnings, "\n".join(warnings[:20])
    print(f"driver built in {time.perf_counter() - t0:.1f} s")
    return CLI


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def run_cli(cli: Path, bundle: Path, lines: Sequence[str], *args: str) -> list[str]:
    proc = subprocess.run([str(cli), str(bundle), *args], capture_output=True,
                          input="".join(_escape(s) + "\n" for s in lines).encode(), timeout=600)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    out = proc.stdout.decode().split("\n")[:-1]
    assert len(out) == len(lines)
    stats = proc.stderr.decode().strip().splitlines()
    if stats:
        print(stats[-1])
    return out


def py_encode(fe: Frontend, text: str) -> str:
    """Frontend.encode in the driver's output format."""
    try:
        chunks = fe.encode(text)
    except Exception as e:  # noqa: BLE001 - InvalidTextError etc.; compared as text
        return f"ERR {e}"
    return "OK" + " |".join("".join(f" {i}" for i in c) for c in chunks)


# ---------------------------------------------------------------------------------------------
# Test data


def homograph_words() -> set[str]:
    return set(load_homographs()) | set(g2p_mod._HOMOGRAPH_FIXES)


def lexicon_words() -> list[str]:
    return sorted(w for w in load_cmudict() if re.fullmatch(r"[a-z]+(?:'[a-z]+)*", w))


def oov_words(rng: random.Random, n_random: int, n_pseudo: int, n_compound: int,
              corpus: Sequence[str] = ()) -> list[str]:
    """Words CMUdict lacks: corpus words, random letters (some > 14: split), pseudo-words,
    long compounds of two dictionary words (the compound split)."""
    lex = load_cmudict()
    words = lexicon_words()
    cons, vow = "bcdfghjklmnprstvwz", "aeiouy"
    out = {w for s in corpus for w in re.findall(r"[a-z]+", s.lower())}
    out |= {"".join(rng.choice(LETTERS) for _ in range(rng.randint(1, 22)))
            for _ in range(n_random)}
    out |= {"".join(rng.choice(cons) + rng.choice(vow) + rng.choice(["", rng.choice(cons)])
                    for _ in range(rng.randint(1, 6))) for _ in range(n_pseudo)}
    comp: set[str] = set()
    while len(comp) < n_compound:
        w = rng.choice(words) + rng.choice(words)
        if len(w) > 14 and "'" not in w:
            comp.add(w)
    return sorted((out | comp) - set(lex))


def g2p_test_words(n: int = 500, seed: int = 0) -> list[str]:
    """Letters-only words for the neural model: random, pseudo-words, mutated dictionary
    words; all at most 14 letters (longer ones are split before the model)."""
    rng = random.Random(seed)
    lex = load_cmudict()
    words = [w for w in lexicon_words() if w.isalpha() and 3 <= len(w) <= 14]
    out: list[str] = []
    while len(out) < n:
        kind = len(out) % 3
        if kind == 0:
            w = "".join(rng.choice(LETTERS) for _ in range(rng.randint(1, 14)))
        elif kind == 1:
            w = "".join(rng.choice("bcdfghklmnprstvw") + rng.choice("aeiou")
                        for _ in range(rng.randint(1, 7)))
        else:
            base = list(rng.choice(words))
            base[rng.randrange(len(base))] = rng.choice(LETTERS)
            w = "".join(base)
        if w not in lex and w not in out and len(w) <= 14:
            out.append(w)
    return out


EDGE_CASES = [
    "Dr. Smith paid $5.50 on Jan. 3rd, 1999 at 10:30 a.m. for 3 FBI CEOs.",
    "It costs $1,234,567.89 or \u20ac3.5 million, about \u00a32bn and \u00a5500.",
    "We sold 45% of the stock at -3.5% in the 1990s and the '80s; 1,000 units.",
    "The meeting is at 3pm. Then at 7:05 PM we leave.",
    "Call me at 25:61 or 12:00 or 9:00:30 a.m. Tomorrow.",
    "Mr. and Mrs. Jones live on Main St. in St. Louis, near Oak Dr. and Dr. Who.",
    "See e.g. the U.S.A. and the U.K. Then go home.",
    "Visit https://www.example.com/path?q=1. Or mail john.doe@example.org today.",
    "Temperatures of 30\u00b0C or -5 \u00b0F, 10 km/h, 5kg, 3 mph, 100 MHz.",
    "No. 5 and #7 and nos. 8, vs. the rest, cf. chapter 2, viz. this.",
    "He was born in 1905 and died in 2005, in 2024, 1900, 2000, 1066, 0123.",
    "1/2 of 3/4 and 5/8, 22/7, 1/10, 100/3.",
    "The 21st century, 2nd place, 103rd day, 1,000,000th visitor, 11TH hour.",
    "NASA and the NATO, XYZ, IBM, BBC's, ATMs, DVDs, PhD, ASAP, SCUBA.",
    "caf\u00e9 na\u00efve r\u00e9sum\u00e9 Stra\u00dfe \u00c6r\u00f8 \u00d8resund \u2014 "
    "\u201cquoted\u201d \u2018single\u2019 \u2026 end",
    "1990\u20131995 and 3 \u2013 4 and 5\u20146, \u2460 \u2461 \u00bd \u00be x\u00b2 10\u00b3.",
    "Apples & oranges + 2 = 7 @ home # tag.",
    "Wait... what?! Really?? Yes!!! No... Maybe.",
    "(bracketed) [square] {curly} -- dashes - alone -minus 5 and -.5.",
    "etc. And Inc. Then Corp. Sept. 5 Approx. 3 fig. 2.",
    "3.14159 and .5 and 0.001 and 1.2.3 and 007 and 123456789012345678.",
    "Line one\n\nLine two after a blank line\n  \n\nand a third",
    "A mid-sentence ellipsis... continues here... And ends...",
    "ABCDEFG and ABCs and QWRTZ and NBAs.",
    "The 4x4 truck, B2B, MP3, 3D, COVID19.",
    "I read the book yesterday; I will read it again.",
    "Supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopic.",
    "$.50 and $0.01 and $1 and $1.00 and $100.5 and $3.505 and -$5 and $ 5.",
    "50\u00a2 and 1\u00a2 and 20 \u20ac and 3\u00a3.",
    "www.google.com is great, see ftp://files.example.net/a_b-c.",
    "Users: bob@mail.co.uk, alice-smith@my-site.io.",
    "At 12 noon, 5 a.m., 11 PM., 13am, 99pm.",
    "Text\twith\ttabs and\r\ncarriage returns.",
    "Zero-width\u200bspace, non-breaking\u00a0space, ideographic\u3000space.",
    "\U0001f600 emoji \U0001f680 and \u4e2d\u6587 and \u0440\u0443\u0441\u0441\u043a\u0438\u0439 "
    "text.",
    "Hmm",
    "a",
    "I",
    "O'Neil's dog's toys aren't John's.",
    "MobileSpeech on an iPhone: YouTube, McDonald's, JavaScript, XMLHttpRequest, eBay, PhD.",
    # issue 26: numeric dates, Roman numerals, currency codes, format characters
    "On 12/03/2026, 25/12/2026, 3/4/05 and 2026-12-03; 12-03-2026 and 12.03.2026. Not 13/13/2026.",
    "Due 1/1/2000 or 2000-1-1, not 2026-13-03, 12-03-26, 1990-1995 or 10/20/30/40.",
    "Henry VIII's wife, Louis XIV, Elizabeth II, Pope Benedict XVI and John Paul II. Malcolm X.",
    "Chapter IV, Part II, Act I, Scene III, World War II, Super Bowl LVIII, Chapter IIII, Then I.",
    "EUR 5.50, 5 EUR, USD 2m, GBP 3, JPY 1,000, CHF 20, 10 INR, CNY 8.5, 500\u00a5. Paid in EUR.",
    "Zero\u200bwidth, joi\u200dner, non\u200cjoiner, word\u2060joiner, \ufeffBOM, "
    "soft\u00adhyphen.",
]

ERROR_CASES = ["", "   ", "\n\t \u00a0\u3000", "\U0001f600\U0001f680", "!!! ... ???",
               "\u4e2d\u6587", "x" * 2001, "\U0001f600" * 2001, "word " * 400 + "end"]


def generated_sentences(rng: random.Random, n: int) -> list[str]:
    """Number, money, time, unit and abbreviation sentences from templates."""

    def num() -> str:
        k = rng.choice([1, 1, 2, 2, 3, 4, 5, 7, 10, 16])
        s = str(rng.randint(0, 10**k - 1))
        if rng.random() < 0.2 and len(s) > 3:
            s = f"{int(s):,}"
        if rng.random() < 0.2:
            s += "." + str(rng.randint(0, 999)).zfill(rng.choice([1, 2, 3]))
        return s

    names = ["Smith", "Lee", "Oak", "Main", "Who", "Elm"]
    signs = "$\u00a3\u20ac\u00a5"
    after = ["%", " %", "\u00a2", " \u20ac", "\u00b0C", " \u00b0F"]
    dashes = ["\u2013", "\u2014", "--", "..."]
    templates: list[Callable[[], str]] = [
        lambda: f"It cost {rng.choice(signs)}{num()} "
                f"{rng.choice(['', 'million', 'bn', 'k', 'M', 'thousand'])} today.",
        lambda: f"About {num()}{rng.choice(after)} of them{rng.choice('.!?')}",
        lambda: f"Meet at {rng.randint(0, 30)}:{rng.randint(0, 70):02d}"
                f"{rng.choice(['', ' am', ' p.m.', 'PM', ':' + str(rng.randint(0, 59)).zfill(2)])}"
                f"{rng.choice(['. Then go.', ' sharp.', ''])}",
        lambda: f"In {rng.randint(1000, 2099)} and the {rng.randint(1, 199) * 10}s, "
                f"the {num().split('.')[0]}{rng.choice(['st', 'nd', 'rd', 'th'])} time.",
        lambda: f"{rng.choice(['Mr.', 'Mrs.', 'Dr.', 'St.', 'Prof.', 'Gen.'])} "
                f"{rng.choice(names)} {rng.choice(['lives on', 'met', 'saw'])} "
                f"{rng.choice(names)} {rng.choice(['St.', 'Dr.', 'Ave.', 'Rd.'])} "
                f"{rng.choice(['Then', 'and', 'on', ''])} {rng.choice(['Jan.', 'Sept.', 'etc.'])}",
        lambda: f"Mix {rng.randint(1, 120)}/{rng.randint(1, 12)} cup, {num()} "
                f"{rng.choice(['km', 'kg', 'mph', 'MB', 'GHz', 'ms', 'ft', 'lbs', 'km/h'])} "
                f"and {rng.choice(['#', 'No. ', 'no.'])}{rng.randint(1, 99)}.",
        lambda: " ".join(rng.choice(["NASA", "FBI", "CEOs", "XYZ", "ATMs", "U.S.", "e.g.",
                                     "i.e.", "vs.", "BBC's", "PhD", "OK", "TV", "DNA"])
                         for _ in range(rng.randint(1, 5))) + rng.choice([".", "", "?"]),
        lambda: f"Go to {rng.choice(['www.', 'https://', 'http://'])}"
                f"{rng.choice(['example', 'xkcd', 'my-site'])}.{rng.choice(['com', 'org', 'io'])}"
                f"/{rng.choice(['a', 'b_c', 'x1'])} or {rng.choice(['bob', 'j.doe'])}@"
                f"{rng.choice(['mail', 'uni'])}.{rng.choice(['edu', 'net'])}.",
        lambda: f"{num()} - {num()}, -{num()} and {num()}x{rng.randint(1, 9)} "
                f"{rng.choice(dashes)} {num()}.",
    ]
    return [rng.choice(templates)() for _ in range(n)]


def fuzz_strings(rng: random.Random, n: int) -> list[str]:
    """Random strings dense in what the normalizer's rules react to."""
    atoms = ["0", "1", "2", "5", "12", "05", "1999", "1,000", "3.5", ".5", ",", ".", ":", ";",
             "$", "\u20ac", "\u00a3", "\u00a5", "\u00a2", "%", "\u00b0", "C", "F", "a.m.", "pm",
             "St.", "Dr.", "Mr.", "etc.", "Jan.", "No.", "#", " ", " ", " ", "-", "--", "'", "s",
             "th", "st", "/", "@", "www.", "http://", "\n", "\n\n", "km", "MHz", "The", "NASA",
             "XYZ", "CEOs", "e.g.", "U.S.", "com", "io", "?", "!", "...", "(", "\u2013",
             "\u201c", "\u2019", "\u00e9", "\u00df", "\u00bd", "\u00b2", "\u2460", "\U0001f600",
             "\u4e2d", "_", "+", "&", "80s", "'90s", "a", "I", "read", "bn", "m", "k", "\t",
             "EUR", "USD", "JPY", "IV", "XIV", "II", "Henry", "Chapter", "War", "\u200b",
             "\u00ad", "2026", "03", "-12-", "/12/"]
    return ["".join(rng.choice(atoms) for _ in range(rng.randint(1, 14))) for _ in range(n)]


# ---------------------------------------------------------------------------------------------
# Agreement


def compare(cli: Path, bundle: Path, fe: Frontend, lines: Sequence[str], cache_dir: Path,
            args: Sequence[str] = ()) -> dict[str, Any]:
    """C++ vs Python (tagged), and vs Python untagged where those differ."""
    t0 = time.perf_counter()
    native = run_cli(cli, bundle, lines, *args)
    t_native = time.perf_counter() - t0
    t0 = time.perf_counter()
    tagged = [py_encode(fe, s) for s in lines]
    t_python = time.perf_counter() - t0
    backend = g2p_mod._get_backend(cache_dir)
    differ = [i for i, (a, b) in enumerate(zip(tagged, native, strict=True)) if a != b]
    saved = backend.pos_tag
    backend.pos_tag = lambda words: [(w, "") for w in words]
    try:
        untagged_bad = [i for i in differ if py_encode(fe, lines[i]) != native[i]]
    finally:
        backend.pos_tag = saved
    return {"n": len(lines), "tagged_bad": differ, "untagged_bad": untagged_bad,
            "native_s": t_native, "python_s": t_python}


def report(name: str, r: dict[str, Any], lines: Sequence[str],
           excluded: Callable[[str], bool] | None = None) -> dict[str, float]:
    n = r["n"]
    tagged = 1 - len(r["tagged_bad"]) / n
    untagged = 1 - len(r["untagged_bad"]) / n
    figures = {"tagged": tagged, "untagged": untagged}
    msg = (f"{name}: {n} inputs; C++ == Python {tagged:.2%}, == Python untagged {untagged:.2%}; "
           f"C++ {r['native_s']:.1f} s, Python {r['python_s']:.1f} s")
    if excluded is not None:
        kept = [i for i in range(n) if not excluded(lines[i])]
        bad = sum(1 for i in r["tagged_bad"] if not excluded(lines[i]))
        figures["outside_homographs"] = 1 - bad / max(1, len(kept))
        msg += (f"; outside homographs ({len(kept)}): "
                f"{figures['outside_homographs']:.2%}")
    print(msg)
    for i in r["untagged_bad"][:10]:
        print(f"  untagged mismatch: {lines[i]!r}")
    return figures


def has_homograph(text: str) -> bool:
    homs = homograph_words()
    return any(t in homs for s in normalize_text(text) for t in s)


@pytest.fixture(scope="module")
def fe(cache_dir: Path) -> Frontend:
    return Frontend(FrontendConfig(), cache_dir=cache_dir)


def _corpus(limit: int | None) -> list[str]:
    from training.texts import load_sentences

    return load_sentences(limit)


# Thresholds. Against untagged Python the two frontends run the same algorithm on the same
# data; only float rounding in the g2p GRU (XNNPACK vs numpy) could flip a near-tie argmax
# (none seen in 125k words), so >= 99.9 %. Against tagged Python single words differ only on
# homographs (excluded: >= 99.5 %); sentences also differ where one holds a homograph that the
# tagger reads in its marked sense (about 3 % of the corpus sentences), so >= 95 %.
MIN_UNTAGGED = 0.999
MIN_WORDS_OUTSIDE_HOMOGRAPHS = 0.995
MIN_SENTENCES_TAGGED = 0.95


def test_normalization_agrees(cli: Path, bundle: Path) -> None:
    """Normalization is deterministic code on both sides: every string must agree."""
    rng = random.Random(1)
    lines = EDGE_CASES + generated_sentences(rng, 300) + fuzz_strings(rng, 1500) + _corpus(300)
    native = run_cli(cli, bundle, lines, "--mode", "norm")
    bad = []
    for s, got in zip(lines, native, strict=True):
        want = " | ".join(join_tokens(t) for t in normalize_text(s))
        if got != want:
            bad.append((s, want, got))
    print(f"normalization: {len(lines) - len(bad)}/{len(lines)} identical")
    assert not bad, "\n".join(f"{s!r}\n  py:  {w}\n  c++: {g}" for s, w, g in bad[:10])


def test_number_words_agree(cli: Path, bundle: Path) -> None:
    from mobilespeech_model.frontend.normalize import cardinal, decimal, ordinal

    rng = random.Random(2)
    nums = [str(i) for i in range(0, 2001)]
    nums += [str(rng.randint(0, 10 ** rng.randint(1, 17))) for _ in range(3000)]
    nums += [str(10**k + d) for k in range(18) for d in (0, 1)] + ["007", "0", "1,000,001"]
    native = run_cli(cli, bundle, nums, "--mode", "num")
    want = [f"{cardinal(n)}\t{ordinal(n)}\t{decimal(n)}" for n in nums]
    bad = [(n, w, g) for n, w, g in zip(nums, want, native, strict=True) if w != g]
    assert not bad, bad[:10]


def test_encode_agrees_fast(cli: Path, bundle: Path, fe: Frontend, cache_dir: Path) -> None:
    rng = random.Random(3)
    homs = homograph_words()
    words = rng.sample(lexicon_words(), 1500) + oov_words(rng, 120, 150, 60)
    r = compare(cli, bundle, fe, words, cache_dir)
    fw = report("words (fast)", r, words, excluded=homs.__contains__)
    sentences = EDGE_CASES + generated_sentences(rng, 200) + _corpus(400)
    r = compare(cli, bundle, fe, sentences, cache_dir)
    fs = report("sentences (fast)", r, sentences, excluded=has_homograph)
    errors = compare(cli, bundle, fe, ERROR_CASES, cache_dir)
    assert not errors["tagged_bad"], [ERROR_CASES[i][:40] for i in errors["tagged_bad"]]
    assert fw["untagged"] >= MIN_UNTAGGED and fs["untagged"] >= MIN_UNTAGGED
    assert fw["outside_homographs"] >= MIN_WORDS_OUTSIDE_HOMOGRAPHS
    assert fs["tagged"] >= MIN_SENTENCES_TAGGED


def test_chunking_and_word_boundaries_agree(cli: Path, bundle: Path, cache_dir: Path) -> None:
    """split_symbols at a small max_phonemes, with and without <wb> ids and a leading <sil>."""
    rng = random.Random(4)
    lines = EDGE_CASES + _corpus(150) + [" ".join(_corpus(40)[i:i + 6]) for i in range(0, 36, 6)]
    lines += ["Pneumonoultramicroscopicsilicovolcanoconiosis" * 3]
    for limit, wb, lead in ((9, True, False), (24, False, False), (2, True, False),
                            (10, False, True), (3, True, True)):
        fe = Frontend(FrontendConfig(max_phonemes=limit, word_boundaries=wb, leading_pause=lead),
                      cache_dir=cache_dir)
        args = (["--max-phonemes", str(limit)] + (["--word-boundaries"] if wb else [])
                + (["--leading-pause"] if lead else []))
        r = compare(cli, bundle, fe, lines, cache_dir, args)
        f = report(f"chunks max_phonemes={limit} wb={wb} leading_pause={lead}", r, lines)
        assert f["untagged"] >= MIN_UNTAGGED
    del rng


def test_load_errors(cli: Path, bundle: Path, tmp_path: Path) -> None:
    """A bundle without frontend assets or with a foreign symbol table fails to load cleanly."""
    broken = tmp_path / "b"
    shutil.copytree(bundle, broken)
    manifest = json.loads((bundle / "manifest.json").read_text())

    def attempt(m: dict[str, Any]) -> str:
        (broken / "manifest.json").write_text(json.dumps(m))
        proc = subprocess.run([str(cli), str(broken)], input=b"hello\n", capture_output=True)
        assert proc.returncode == 2, proc.stdout
        return proc.stderr.decode()

    assert "no text frontend assets" in attempt({"symbols": manifest["symbols"]})
    assert "lacks symbols" in attempt({**manifest, "symbols": manifest["symbols"][:10]})
    (broken / "lexicon.bin").write_bytes(b"garbage")
    assert "lexicon" in attempt(manifest)


# ---------------------------------------------------------------------------------------------
# Assets and the g2p model


def read_lexicon(path: Path) -> dict[str, dict[str, list[str]]]:
    """Reader of the lexicon.bin format documented in export/frontend_assets.py."""
    data = path.read_bytes()
    assert data[:8] == LEXICON_MAGIC
    pos = 8
    (n_phones,) = struct.unpack_from("<I", data, pos)
    pos += 4
    phones = []
    for _ in range(n_phones):
        n = data[pos]
        phones.append(data[pos + 1:pos + 1 + n].decode())
        pos += 1 + n
    (n_sections,) = struct.unpack_from("<I", data, pos)
    pos += 4
    out: dict[str, dict[str, list[str]]] = {}
    for _ in range(n_sections):
        name = data[pos + 1:pos + 1 + data[pos]].decode()
        pos += 1 + data[pos]
        n, wb, pb = struct.unpack_from("<III", data, pos)
        pos += 12
        woff = struct.unpack_from(f"<{n + 1}I", data, pos)
        poff = struct.unpack_from(f"<{n + 1}I", data, pos + 4 * (n + 1))
        pos += 8 * (n + 1)
        words, prons = data[pos:pos + wb], data[pos + wb:pos + wb + pb]
        pos += wb + pb
        out[name] = {words[woff[i]:woff[i + 1]].decode(): [phones[b] for b in
                                                            prons[poff[i]:poff[i + 1]]]
                     for i in range(n)}
    assert pos == len(data)
    return out


def test_lexicon_file(bundle: Path) -> None:
    lex = read_lexicon(bundle / "lexicon.bin")
    assert lex["cmudict"] == lexicon_entries()
    assert list(lex["cmudict"]) == sorted(lex["cmudict"])
    assert lex["homographs"] == homograph_prons()
    assert lex["homographs"]["read"] == ["R", "IY1", "D"]


def test_torch_g2p_equals_g2p_en(cache_dir: Path) -> None:
    """The torch re-implementation predicts exactly what g2p_en.G2p.predict does."""
    model = g2p_mod._get_backend(cache_dir).model
    net = G2PNet(g2p_weights()).eval()
    words = g2p_test_words(500)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 1x256 matrix-vector steps: a second thread only syncs (10x)
    try:
        bad = [(w, model.predict(w), torch_predict(net, w)) for w in words]
    finally:
        torch.set_num_threads(threads)
    bad = [b for b in bad if b[1] != b[2]]
    assert not bad, bad[:10]


def test_pte_g2p_equals_g2p_en(cache_dir: Path) -> None:
    """g2p.pte (ExecuTorch, XNNPACK) predicts exactly what g2p_en.G2p.predict does."""
    from executorch.runtime import Runtime

    model = g2p_mod._get_backend(cache_dir).model
    pte = cached_g2p_pte(EXPORT_CACHE)
    program = Runtime.get().load_program(pte)
    enc, dec = program.load_method("encode_step"), program.load_method("decode_step")
    words = g2p_test_words(500)
    t0 = time.perf_counter()
    got = [decode_ids(predict_ids(lambda t, h: enc.execute([t, h])[0],
                                  lambda t, h: tuple(dec.execute([t, h])), w, 256))
           for w in words]
    dt = (time.perf_counter() - t0) / len(words)
    print(f"g2p.pte {pte.stat().st_size / 1e6:.2f} MB, {dt * 1e3:.2f} ms/word from Python")
    bad = [(w, model.predict(w), g) for w, g in zip(words, got, strict=True)]
    bad = [b for b in bad if b[1] != b[2]]
    assert not bad, bad[:10]


# ---------------------------------------------------------------------------------------------
# Full run


@pytest.mark.slow
def test_encode_agrees_full(cli: Path, bundle: Path, fe: Frontend, cache_dir: Path) -> None:
    """Every CMUdict word, OOV words, every corpus sentence and generated cases."""
    rng = random.Random(5)
    corpus = _corpus(None)
    homs = homograph_words()
    words = lexicon_words() + oov_words(rng, 1000, 1500, 500, corpus)
    r = compare(cli, bundle, fe, words, cache_dir)
    fw = report("words (full)", r, words, excluded=homs.__contains__)
    sentences = EDGE_CASES + generated_sentences(rng, 3000) + fuzz_strings(rng, 2000) + corpus
    r = compare(cli, bundle, fe, sentences, cache_dir)
    fs = report("sentences (full)", r, sentences, excluded=has_homograph)
    assert fw["untagged"] >= MIN_UNTAGGED and fs["untagged"] >= MIN_UNTAGGED
    assert fw["outside_homographs"] >= MIN_WORDS_OUTSIDE_HOMOGRAPHS
    assert fs["tagged"] >= MIN_SENTENCES_TAGGED
