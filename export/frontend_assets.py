"""Assets the on-device (C++) text frontend reads from a bundle folder.

Phones have no Python, so ``mobilespeech_runtime/native/src/frontend`` re-implements
:class:`mobilespeech_model.frontend.Frontend` in C++. It needs three data files, written here
from the same sources the Python frontend uses:

``lexicon.bin``
    CMUdict as :func:`~mobilespeech_model.frontend.g2p.load_cmudict` reads it (first
    pronunciation per word) plus the pronunciation each g2p-en homograph gets without a POS
    tagger. Little-endian binary, read into memory and searched in place (no parsing)::

        magic    8 bytes  b"MSLEX1\\0\\0"
        u32      number of phone names P; then P x (u8 length, ASCII name)
        u32      number of sections S (2: "cmudict", "homographs"); each section:
          u8 + bytes   section name
          u32 N        entries, sorted by the bytes of the word
          u32 W, u32 B byte sizes of the word blob and of the pronunciation blob
          u32[N+1]     word offsets into the word blob
          u32[N+1]     pronunciation offsets into the pronunciation blob
          W bytes      words, concatenated (lower-case ASCII, no separator)
          B bytes      pronunciations, one u8 phone index per phone

    "cmudict" holds every CMUdict key made of ``a-z`` and ``'`` (the normalizer's "is this a
    word" test for acronyms, compound splitting and the letter-name fallback), "homographs" the
    g2p-en homograph words (and "read", see ``g2p._HOMOGRAPH_FIXES``) with the pronunciation
    picked without POS context (:data:`HOMOGRAPH_DEFAULT`).

``g2p.pte``
    g2p-en's GRU encoder-decoder (``checkpoint20.npz``) as two one-step methods, the loops run
    by the caller as ``g2p_en.G2p.predict`` runs them::

        encode_step(grapheme int64 [1], h float32 [1, 256]) -> h          (a=3 .. z=28, </s>=2)
        decode_step(phoneme int64 [1], h) -> (next phoneme int64 [1], h)  (<s>=2 first)

    h starts at zeros; the encoder runs over the letters then </s>, the decoder from <s> until
    it emits </s> (3) or ``g2p_max_steps`` phonemes. Ids index ``g2p_phonemes`` in the
    manifest section. Measured on 2 loaded x86 cores: about 1 ms per word, 4x faster than one
    program with both loops unrolled to fixed bounds (which always pays 15 + 20 steps).
    Same result as ``g2p_en.G2p.predict`` (tested).

``text_fold.txt``
    What ``normalize.to_ascii`` makes of each non-ASCII code point (NFKD, accents dropped,
    quotes and dashes, letters like ß and æ, compatibility digits set apart), and which code
    points are decimal digits (``\\d`` of Python's ``re``). Text, one entry a line::

        F <first hex> <last hex> <replacement as hex of its UTF-8 bytes, or ->
        D <first hex> <last hex>

    Code points not listed become a space (ASCII: printable and newline kept, others a
    space). Consecutive code points with the same replacement share a line.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import struct
import tempfile
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from mobilespeech_model.frontend.g2p import (
    _HOMOGRAPH_FIXES,
    _MAX_NEURAL_LETTERS,
    clean_pronunciation,
    load_cmudict,
)
from mobilespeech_model.frontend.normalize import to_ascii
from mobilespeech_model.frontend.symbols import PHONEMES, SPECIALS, SymbolTable
from mobilespeech_runtime.errors import ConfigError, MobileSpeechError

LEXICON_FILE = "lexicon.bin"
G2P_FILE = "g2p.pte"
FOLD_FILE = "text_fold.txt"
LEXICON_MAGIC = b"MSLEX1\0\0"
FORMAT_VERSION = 1

G2P_MAX_LETTERS = _MAX_NEURAL_LETTERS  # longer words are split before the model (both sides)
G2P_MAX_STEPS = 20  # g2p_en.G2p.predict decodes at most 20 phonemes
G2P_HIDDEN = 256  # GRU width of checkpoint20.npz
G2P_GRAPHEMES = ["<pad>", "<unk>", "</s>", *"abcdefghijklmnopqrstuvwxyz"]
G2P_BOS, G2P_EOS = 2, 3  # decoder ids of <s> and </s>
G2P_METHODS = ("encode_step", "decode_step")
# Homographs without a POS tagger: "tagger_default" takes the pronunciation g2p-en uses when
# the tag does not match (its second one; "read": R IY1 D), "cmudict_first" CMUdict's first.
# Measured against the tagged Python frontend on training/texts.py (11,327 sentences, 124k words,
# 806 homograph tokens): tagger_default gives a different pronunciation for 268 tokens and
# different ids for 256 sentences (2.3 %), cmudict_first for 361 tokens / 336 sentences (3.0 %);
# single CMUdict words: 11 vs 176 of 124,101 differ.
HOMOGRAPH_DEFAULT = "tagger_default"
DEFAULT_CACHE = Path(".cache") / "frontend"


# ----------------------------------------------------------------------------------------------
# Lexicon


def _g2p_en_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("g2p_en")
    if spec is None or not spec.submodule_search_locations:
        raise MobileSpeechError("the Python package 'g2p_en' is missing (pip install g2p-en)")
    return Path(next(iter(spec.submodule_search_locations)))


def load_homographs() -> dict[str, tuple[list[str], list[str], str]]:
    """g2p-en's homographs.en (read without importing g2p_en, which needs NLTK data)."""
    out: dict[str, tuple[list[str], list[str], str]] = {}
    text = (_g2p_en_dir() / "homographs.en").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        head, pron1, pron2, pos1 = line.strip().split("|")
        out[head.lower()] = (pron1.split(), pron2.split(), pos1)
    return out


def homograph_prons(mode: str = HOMOGRAPH_DEFAULT) -> dict[str, list[str]]:
    """The pronunciation each homograph gets when no POS tag is known."""
    lexicon = load_cmudict()
    out: dict[str, list[str]] = {}
    for word, (_pron1, pron2, _pos) in load_homographs().items():
        if mode == "cmudict_first" and word in lexicon:
            out[word] = clean_pronunciation(lexicon[word][0])
        elif mode in ("tagger_default", "cmudict_first"):
            out[word] = clean_pronunciation(pron2)
        else:
            raise ConfigError(f"unknown homograph mode {mode!r}")
    for word, (_tagged, other, _tags) in _HOMOGRAPH_FIXES.items():
        if mode == "cmudict_first" and word in lexicon:
            out[word] = clean_pronunciation(lexicon[word][0])
        else:
            out[word] = list(other)
    return out


def _section(name: str, entries: dict[str, Sequence[str]], phone_ids: dict[str, int]) -> bytes:
    words = sorted(entries, key=lambda w: w.encode("ascii"))
    word_off, pron_off = [0], [0]
    word_blob, pron_blob = bytearray(), bytearray()
    for w in words:
        word_blob += w.encode("ascii")
        pron_blob += bytes(phone_ids[p] for p in entries[w])
        word_off.append(len(word_blob))
        pron_off.append(len(pron_blob))
    n = len(words)
    return b"".join([
        struct.pack("<B", len(name)), name.encode("ascii"),
        struct.pack("<III", n, len(word_blob), len(pron_blob)),
        struct.pack(f"<{n + 1}I", *word_off), struct.pack(f"<{n + 1}I", *pron_off),
        bytes(word_blob), bytes(pron_blob),
    ])


def lexicon_entries() -> dict[str, list[str]]:
    """CMUdict's first pronunciation of every key the C++ frontend can look up."""
    allowed = set("abcdefghijklmnopqrstuvwxyz'")
    return {w: list(p[0]) for w, p in load_cmudict().items() if set(w) <= allowed}


def write_lexicon(path: Path, homographs: str = HOMOGRAPH_DEFAULT) -> dict[str, int]:
    entries = lexicon_entries()
    homs = homograph_prons(homographs)
    phones = list(PHONEMES)  # the C++ side maps these names to the bundle's symbol ids
    for word, pron in (*entries.items(), *homs.items()):
        bad = [p for p in pron if p not in phones]
        if bad:  # CMUdict 1.1.3 has none; the C++ frontend copies pronunciations as they are
            raise MobileSpeechError(f"lexicon entry {word!r} has non-ARPAbet phones {bad}")
    ids = {p: i for i, p in enumerate(phones)}
    head = LEXICON_MAGIC + struct.pack("<I", len(phones)) + b"".join(
        struct.pack("<B", len(p)) + p.encode("ascii") for p in phones)
    body = struct.pack("<I", 2) + _section("cmudict", entries, ids) + _section(
        "homographs", homs, ids)
    _write_atomic(path, head + body)
    return {"words": len(entries), "homographs": len(homs)}


# ----------------------------------------------------------------------------------------------
# Unicode fold table


def fold_table() -> list[str]:
    """Lines of text_fold.txt: to_ascii per code point, and Python's \\d digits."""
    lines: list[str] = []

    def ranges(items: Iterator[tuple[int, str]]) -> Iterator[tuple[int, int, str]]:
        start = prev = -2
        val = ""
        for cp, v in items:
            if cp == prev + 1 and v == val:
                prev = cp
                continue
            if start >= 0:
                yield start, prev, val
            start = prev = cp
            val = v
        if start >= 0:
            yield start, prev, val

    def folded() -> Iterator[tuple[int, str]]:
        for cp in range(0x80, 0x110000):
            if 0xD800 <= cp < 0xE000:
                continue
            r = to_ascii(chr(cp))
            if r.strip(" ") == "" and r != "":
                continue  # becomes spaces: the default (runs of spaces collapse later)
            yield cp, r

    for lo, hi, rep in ranges(folded()):
        lines.append(f"F {lo:x} {hi:x} {rep.encode('utf-8').hex() or '-'}")
    digits = ((cp, "") for cp in range(0x110000) if chr(cp).isdecimal()
              and unicodedata.category(chr(cp)) == "Nd")
    for lo, hi, _ in ranges(digits):
        lines.append(f"D {lo:x} {hi:x}")
    return lines


def write_fold_table(path: Path) -> int:
    lines = fold_table()
    header = [f"# mobilespeech text fold table v{FORMAT_VERSION} (unicodedata "
              f"{unicodedata.unidata_version}); see export/frontend_assets.py"]
    _write_atomic(path, ("\n".join(header + lines) + "\n").encode("ascii"))
    return len(lines)


# ----------------------------------------------------------------------------------------------
# g2p-en's neural model as a torch module


def g2p_phonemes() -> list[str]:
    """g2p-en's decoder vocabulary, in id order (copied from g2p_en.G2p.__init__)."""
    return ["<pad>", "<unk>", "<s>", "</s>"] + [
        "AA0", "AA1", "AA2", "AE0", "AE1", "AE2", "AH0", "AH1", "AH2", "AO0", "AO1", "AO2",
        "AW0", "AW1", "AW2", "AY0", "AY1", "AY2", "B", "CH", "D", "DH", "EH0", "EH1", "EH2",
        "ER0", "ER1", "ER2", "EY0", "EY1", "EY2", "F", "G", "HH", "IH0", "IH1", "IH2", "IY0",
        "IY1", "IY2", "JH", "K", "L", "M", "N", "NG", "OW0", "OW1", "OW2", "OY0", "OY1", "OY2",
        "P", "R", "S", "SH", "T", "TH", "UH0", "UH1", "UH2", "UW", "UW0", "UW1", "UW2", "V",
        "W", "Y", "Z", "ZH",
    ]


def g2p_weights() -> dict[str, np.ndarray]:
    with np.load(_g2p_en_dir() / "checkpoint20.npz") as z:
        return {k: z[k] for k in z.files}


def grapheme_id(ch: str) -> int:
    """Encoder input id of one letter a-z (g2p-en's grapheme table: a=3 .. z=28)."""
    return G2P_GRAPHEMES.index(ch)


class G2PNet(nn.Module):
    """g2p-en's GRU encoder-decoder as two one-step functions, the loops left to the caller
    (:func:`torch_predict` here, ``g2p_model.cc`` on device) so a word costs len(word) + 1
    encoder steps and one decoder step per phoneme (+ </s>), as in ``g2p_en.G2p.predict``.

    Input projections are folded into per-token tables (embedding @ W_ih.T + b_ih, in float64
    then rounded); the recurrent ones are three linears per GRU, so each gate is one XNNPACK
    fully-connected op and only the table gathers and the argmax stay outside the delegate.
    """

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        super().__init__()
        hidden = weights["enc_w_hh"].shape[1]
        self.hidden = hidden
        for side in ("enc", "dec"):
            emb = weights[f"{side}_emb"].astype(np.float64)
            ih = emb @ weights[f"{side}_w_ih"].astype(np.float64).T + weights[f"{side}_b_ih"]
            for k, gate in enumerate("rzn"):
                table = torch.from_numpy(ih[:, k * hidden:(k + 1) * hidden].astype(np.float32))
                self.register_buffer(f"{side}_i{gate}", table.contiguous())
                lin = nn.Linear(hidden, hidden)
                w = weights[f"{side}_w_hh"][k * hidden:(k + 1) * hidden]
                b = weights[f"{side}_b_hh"][k * hidden:(k + 1) * hidden]
                lin.weight.data = torch.from_numpy(np.ascontiguousarray(w))
                lin.bias.data = torch.from_numpy(np.ascontiguousarray(b))
                setattr(self, f"{side}_h{gate}", lin)
        self.fc = nn.Linear(hidden, weights["fc_w"].shape[0])
        self.fc.weight.data = torch.from_numpy(np.ascontiguousarray(weights["fc_w"]))
        self.fc.bias.data = torch.from_numpy(np.ascontiguousarray(weights["fc_b"]))

    def _cell(self, side: str, tok: Tensor, h: Tensor) -> Tensor:
        emb = torch.nn.functional.embedding
        r = torch.sigmoid(emb(tok, getattr(self, f"{side}_ir")) + getattr(self, f"{side}_hr")(h))
        z = torch.sigmoid(emb(tok, getattr(self, f"{side}_iz")) + getattr(self, f"{side}_hz")(h))
        n = torch.tanh(emb(tok, getattr(self, f"{side}_in")) + r * getattr(self, f"{side}_hn")(h))
        return (1.0 - z) * n + z * h

    def encode_step(self, tok: Tensor, h: Tensor) -> Tensor:
        """One encoder step: grapheme id [1] int64, hidden [1, H] -> hidden [1, H]."""
        return self._cell("enc", tok, h)

    def decode_step(self, tok: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        """One greedy decoder step: previous phoneme id [1], hidden -> next id [1], hidden."""
        h = self._cell("dec", tok, h)
        return torch.argmax(self.fc(h), dim=-1), h


class _Step(nn.Module):
    """One method of g2p.pte (torch.export takes a module's forward)."""

    def __init__(self, net: G2PNet, method: str) -> None:
        super().__init__()
        self.net = net
        self.method = method

    def forward(self, tok: Tensor, h: Tensor) -> Any:
        return getattr(self.net, self.method)(tok, h)


def predict_ids(encode_step: Any, decode_step: Any, letters: str, hidden: int,
                max_steps: int = G2P_MAX_STEPS) -> list[int]:
    """g2p_en.G2p.predict's loops over one-step functions (torch module or .pte methods)."""
    if not letters or not letters.isascii() or not letters.isalpha() or not letters.islower():
        raise ValueError(f"g2p input must be letters a-z, got {letters!r}")
    h = torch.zeros(1, hidden)
    for tok in [grapheme_id(c) for c in letters] + [2]:  # 2: </s>
        h = encode_step(torch.tensor([tok], dtype=torch.long), h)
    tok_t = torch.tensor([G2P_BOS], dtype=torch.long)
    out: list[int] = []
    for _ in range(max_steps):
        tok_t, h = decode_step(tok_t, h)
        if int(tok_t[0]) == G2P_EOS:
            break
        out.append(int(tok_t[0]))
    return out


def decode_ids(ids: Sequence[int]) -> list[str]:
    """Decoder ids -> g2p-en phoneme strings (as predict's idx2p)."""
    names = g2p_phonemes()
    return [names[int(i)] if 0 <= int(i) < len(names) else "<unk>" for i in ids]


def torch_predict(net: G2PNet, letters: str) -> list[str]:
    with torch.no_grad():
        return decode_ids(predict_ids(net.encode_step, net.decode_step, letters, net.hidden))


# ----------------------------------------------------------------------------------------------
# Export


def _source_digest() -> str:
    """Key of the cached g2p.pte: weights, the model and export code, torch and executorch."""
    from importlib.metadata import version

    h = hashlib.sha256((_g2p_en_dir() / "checkpoint20.npz").read_bytes())
    for obj in (G2PNet, _Step, export_g2p_pte):
        h.update(inspect.getsource(obj).encode())
    h.update(f"{torch.__version__} {version('executorch')}".encode())
    return h.hexdigest()[:16]


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    saved = torch.get_num_threads()
    torch.set_num_threads(max(1, n))
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def export_g2p_pte() -> tuple[bytes, dict[str, Any]]:
    """torch.export -> XNNPACK -> ExecuTorch bytes, with op accounting (tens of seconds)."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import ExecutorchBackendConfig, to_edge_transform_and_lower

    net = G2PNet(g2p_weights()).eval()
    if net.hidden != G2P_HIDDEN:
        raise MobileSpeechError(f"g2p-en's GRU has {net.hidden} units, expected {G2P_HIDDEN}")
    example = (torch.tensor([G2P_BOS], dtype=torch.long), torch.zeros(1, net.hidden))
    with torch.no_grad():
        eps = {m: torch.export.export(_Step(net, m), example, strict=False) for m in G2P_METHODS}
    edge = to_edge_transform_and_lower(eps, partitioner=[XnnpackPartitioner()])
    stats: dict[str, Any] = {}
    for m in G2P_METHODS:
        ops = [str(n.target) for n in edge.exported_program(m).graph_module.graph.nodes
               if n.op == "call_function"]
        delegated = sum("executorch_call_delegate" in o for o in ops)
        stats[m] = {"delegate_calls": delegated, "portable_ops": len(ops) - delegated}
    et = edge.to_executorch(ExecutorchBackendConfig(extract_delegate_segments=True))
    return bytes(et.buffer), stats


def cached_g2p_pte(cache_dir: Path | None = DEFAULT_CACHE, threads: int = 2) -> Path:
    """Path of g2p.pte in the export cache, exported first if missing."""
    cache = Path(cache_dir if cache_dir is not None else DEFAULT_CACHE)
    path = cache / f"g2p-{_source_digest()}.pte"
    if not path.is_file():
        with _torch_threads(threads):
            buf, stats = export_g2p_pte()
        _write_atomic(path, buf)
        _write_atomic(path.with_suffix(".json"), json.dumps(stats).encode())
    return path


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; bundle files are read by other users
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_frontend_assets(out_dir: Path, symbols: SymbolTable, threads: int = 2,
                          cache_dir: Path | None = DEFAULT_CACHE,
                          homographs: str = HOMOGRAPH_DEFAULT) -> dict[str, Any]:
    """Write lexicon.bin, g2p.pte and text_fold.txt into ``out_dir``; return the manifest's
    "frontend" section. ``symbols`` is the bundle's table: it must hold every symbol the
    frontend emits (the C++ side maps phone names to its ids when it loads)."""
    missing = [s for s in SPECIALS + PHONEMES if s not in symbols]
    if missing:
        raise ConfigError(f"the symbol table lacks symbols the frontend emits: {missing}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lex = write_lexicon(out_dir / LEXICON_FILE, homographs)
    fold_lines = write_fold_table(out_dir / FOLD_FILE)
    src = cached_g2p_pte(cache_dir, threads)
    shutil.copyfile(src, out_dir / G2P_FILE)
    return {
        "version": FORMAT_VERSION,
        "lexicon": LEXICON_FILE,
        "g2p": G2P_FILE,
        "fold": FOLD_FILE,
        "files": [LEXICON_FILE, G2P_FILE, FOLD_FILE],
        "lexicon_words": lex["words"],
        "homographs": lex["homographs"],
        "homograph_default": homographs,
        "fold_entries": fold_lines,
        "g2p_methods": list(G2P_METHODS),
        "g2p_hidden": G2P_HIDDEN,
        "g2p_max_letters": G2P_MAX_LETTERS,
        "g2p_max_steps": G2P_MAX_STEPS,
        "g2p_phonemes": g2p_phonemes(),
    }
