"""Assets the on-device (C++) text frontend reads from a bundle folder.

Phones have no Python, so ``mobilespeech_runtime/native/src/frontend`` re-implements
:class:`mobilespeech_runtime.frontend.Frontend` in C++. It needs three data files, written here
from the same sources the Python frontend uses:

``lexicon.bin``
    CMUdict as :func:`~mobilespeech_runtime.frontend.g2p.load_cmudict` reads it (first
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
    g2p-en's GRU encoder-decoder (``checkpoint20.npz``) as one ExecuTorch program, encoder and
    greedy decoder unrolled: ``forward(graphemes int64 [1, G2P_MAX_LETTERS + 1]) -> int64
    [1, G2P_MAX_STEPS]``. Input: letter ids (a=3 .. z=28), then </s> (2), then <pad> (0);
    output: phoneme ids of g2p-en's output table (``g2p_phonemes`` in the manifest section),
    the word ends at the first </s> (3). Same result as ``g2p_en.G2p.predict`` (tested).

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

from mobilespeech_runtime.errors import ConfigError, MobileSpeechError
from mobilespeech_runtime.frontend.g2p import (
    _HOMOGRAPH_FIXES,
    _MAX_NEURAL_LETTERS,
    clean_pronunciation,
    load_cmudict,
)
from mobilespeech_runtime.frontend.normalize import to_ascii
from mobilespeech_runtime.frontend.symbols import PHONEMES, SPECIALS, SymbolTable

LEXICON_FILE = "lexicon.bin"
G2P_FILE = "g2p.pte"
FOLD_FILE = "text_fold.txt"
LEXICON_MAGIC = b"MSLEX1\0\0"
FORMAT_VERSION = 1

G2P_MAX_LETTERS = _MAX_NEURAL_LETTERS  # the Python frontend never feeds the model longer words
G2P_MAX_STEPS = 20  # g2p_en.G2p.predict decodes at most 20 phonemes
G2P_GRAPHEMES = ["<pad>", "<unk>", "</s>", *"abcdefghijklmnopqrstuvwxyz"]
G2P_BOS, G2P_EOS = 2, 3  # decoder ids of <s> and </s>
# Homographs without a POS tagger: "tagger_default" takes the pronunciation g2p-en uses when
# the tag does not match (its second one; "read": R IY1 D), "cmudict_first" CMUdict's first.
# Measured on training/texts.py sentences (806 homograph tokens, 124k words): tagger_default
# disagrees with the tagged Python frontend on 268 tokens, cmudict_first on 361.
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
    phones = list(PHONEMES)
    for pron in (*entries.values(), *homs.values()):
        for p in pron:
            if p not in phones:  # CMUdict has none; keep the file self-describing anyway
                phones.append(p)
    if len(phones) > 255:
        raise MobileSpeechError("lexicon has more than 255 phone names")
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


def grapheme_ids(letters: str, max_letters: int = G2P_MAX_LETTERS) -> list[int]:
    """Model input for a word of a-z letters: letters, </s>, then <pad> up to the bound."""
    if not letters or len(letters) > max_letters or not letters.isascii() or not letters.isalpha():
        raise ValueError(f"g2p input must be 1-{max_letters} letters a-z, got {letters!r}")
    ids = [G2P_GRAPHEMES.index(c) for c in letters.lower()] + [2]
    return ids + [0] * (max_letters + 1 - len(ids))


class G2PNet(nn.Module):
    """``g2p_en.G2p.predict`` as one fixed-size graph: a masked GRU encoder over
    ``max_letters + 1`` steps (pad steps keep the hidden state), then ``max_steps`` greedy GRU
    decoder steps. Input projections are folded into per-token tables (embedding @ W_ih + b_ih),
    the recurrent ones are three linears per GRU so each gate is one XNNPACK fully-connected op.
    """

    def __init__(self, weights: dict[str, np.ndarray], max_letters: int = G2P_MAX_LETTERS,
                 max_steps: int = G2P_MAX_STEPS) -> None:
        super().__init__()
        self.max_letters, self.max_steps = max_letters, max_steps
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

    def _cell(self, side: str, ir: Tensor, iz: Tensor, i_n: Tensor, h: Tensor) -> Tensor:
        hr = getattr(self, f"{side}_hr")(h)
        hz = getattr(self, f"{side}_hz")(h)
        hn = getattr(self, f"{side}_hn")(h)
        r = torch.sigmoid(ir + hr)
        z = torch.sigmoid(iz + hz)
        n = torch.tanh(i_n + r * hn)
        return (1.0 - z) * n + z * h

    def forward(self, graphemes: Tensor) -> Tensor:
        x = graphemes.reshape(-1)
        mask = (x != 0).to(torch.float32).reshape(-1, 1)
        er = torch.nn.functional.embedding(x, self.enc_ir)
        ez = torch.nn.functional.embedding(x, self.enc_iz)
        en = torch.nn.functional.embedding(x, self.enc_in)
        h = torch.zeros(1, self.hidden)
        for t in range(self.max_letters + 1):
            new = self._cell("enc", er[t:t + 1], ez[t:t + 1], en[t:t + 1], h)
            m = mask[t:t + 1]
            h = m * new + (1.0 - m) * h  # exact: 1*new + 0*h == new, 0*new + 1*h == h
        tok = torch.full((1,), G2P_BOS, dtype=torch.long)
        preds = []
        for _ in range(self.max_steps):
            ir = torch.nn.functional.embedding(tok, self.dec_ir)
            iz = torch.nn.functional.embedding(tok, self.dec_iz)
            i_n = torch.nn.functional.embedding(tok, self.dec_in)
            h = self._cell("dec", ir, iz, i_n, h)
            tok = torch.argmax(self.fc(h), dim=-1)
            preds.append(tok)
        return torch.stack(preds, dim=-1)  # [1, max_steps]


def decode_ids(ids: Sequence[int]) -> list[str]:
    """Model output ids -> g2p-en phoneme strings, cut at the first </s> (as predict does)."""
    names = g2p_phonemes()
    out: list[str] = []
    for i in ids:
        if int(i) == G2P_EOS:
            break
        out.append(names[int(i)] if 0 <= int(i) < len(names) else "<unk>")
    return out


def torch_predict(net: G2PNet, letters: str) -> list[str]:
    with torch.no_grad():
        ids = net(torch.tensor([grapheme_ids(letters, net.max_letters)], dtype=torch.long))
    return decode_ids(ids[0].tolist())


# ----------------------------------------------------------------------------------------------
# Export


def _source_digest() -> str:
    """Key of the cached g2p.pte: weights, this file, torch and executorch versions."""
    import executorch

    h = hashlib.sha256((_g2p_en_dir() / "checkpoint20.npz").read_bytes())
    h.update(Path(__file__).read_bytes())
    h.update(f"{torch.__version__} {getattr(executorch, '__version__', '?')}".encode())
    return h.hexdigest()[:16]


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    saved = torch.get_num_threads()
    torch.set_num_threads(max(1, n))
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def export_g2p_pte(max_letters: int = G2P_MAX_LETTERS, max_steps: int = G2P_MAX_STEPS
                   ) -> tuple[bytes, dict[str, Any]]:
    """torch.export -> XNNPACK -> ExecuTorch bytes, with op accounting (tens of seconds)."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import ExecutorchBackendConfig, to_edge_transform_and_lower

    net = G2PNet(g2p_weights(), max_letters, max_steps).eval()
    example = (torch.tensor([grapheme_ids("example", max_letters)], dtype=torch.long),)
    with torch.no_grad():
        ep = torch.export.export(net, example, strict=False)
    edge = to_edge_transform_and_lower(ep, partitioner=[XnnpackPartitioner()])
    delegated, portable = 0, 0
    for node in edge.exported_program().graph_module.graph.nodes:
        if node.op == "call_function":
            if "executorch_call_delegate" in str(node.target):
                delegated += 1
            else:
                portable += 1
    et = edge.to_executorch(ExecutorchBackendConfig(extract_delegate_segments=True))
    return bytes(et.buffer), {"delegate_calls": delegated, "portable_ops": portable}


def cached_g2p_pte(cache_dir: Path | None = DEFAULT_CACHE, threads: int = 2) -> Path:
    """Path of g2p.pte in the export cache, exported first if missing."""
    cache = Path(cache_dir if cache_dir is not None else DEFAULT_CACHE)
    path = cache / f"g2p-{G2P_MAX_LETTERS}x{G2P_MAX_STEPS}-{_source_digest()}.pte"
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
        "g2p_method": "forward",
        "g2p_max_letters": G2P_MAX_LETTERS,
        "g2p_max_steps": G2P_MAX_STEPS,
        "g2p_phonemes": g2p_phonemes(),
    }
