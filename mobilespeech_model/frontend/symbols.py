"""The phoneme symbol table: the contract between the frontend, the model's embedding and bundles.

Ids are positions in a fixed list, so the list is saved with every checkpoint and in every bundle
manifest (``to_list`` / ``from_list``): a model must always be fed the ids it was trained with,
even if this module's default changes later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mobilespeech_runtime.errors import ConfigError

PAD = "<pad>"
SIL = "<sil>"  # sentence end / long pause
SP = "<sp>"  # short pause: comma, semicolon, colon, dash
WB = "<wb>"  # word boundary
SPECIALS: tuple[str, ...] = (PAD, SIL, SP, WB)

VOWELS: tuple[str, ...] = (
    "AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW",
)
CONSONANTS: tuple[str, ...] = (
    "B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG", "P", "R", "S", "SH",
    "T", "TH", "V", "W", "Y", "Z", "ZH",
)
#: ARPAbet as CMUdict writes it: vowels always carry stress 0/1/2, consonants never do.
PHONEMES: tuple[str, ...] = (
    tuple(f"{v}{s}" for v in VOWELS for s in "012") + CONSONANTS
)
MAX_SYMBOLS = 80  # ModelConfig.n_symbols default: the embedding table's size


class SymbolTable:
    """Maps phoneme symbols to the integer ids the text encoder embeds, and back."""

    def __init__(self, symbols: Sequence[str]) -> None:
        symbols = tuple(symbols)
        if not symbols or symbols[0] != PAD:
            raise ConfigError(f"a symbol table must start with {PAD!r} (id 0 is padding)")
        if len(set(symbols)) != len(symbols):
            raise ConfigError("a symbol table must not repeat a symbol")
        if not all(isinstance(s, str) and s for s in symbols):
            raise ConfigError("symbols must be non-empty strings")
        self.symbols: tuple[str, ...] = symbols
        self._ids = {s: i for i, s in enumerate(symbols)}

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, sym: object) -> bool:
        return sym in self._ids

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SymbolTable) and other.symbols == self.symbols

    def __hash__(self) -> int:
        return hash(self.symbols)

    def __repr__(self) -> str:
        return f"SymbolTable({len(self)} symbols)"

    def id(self, sym: str) -> int:
        """Id of one symbol; an unknown symbol is a frontend/model mismatch, so it raises."""
        try:
            return self._ids[sym]
        except KeyError:
            raise ConfigError(f"symbol {sym!r} is not in this symbol table") from None

    def encode(self, syms: Iterable[str]) -> list[int]:
        return [self.id(s) for s in syms]

    def decode(self, ids: Iterable[int]) -> list[str]:
        out = []
        for i in ids:
            if not 0 <= int(i) < len(self.symbols):
                raise ConfigError(f"symbol id {i} is out of range 0..{len(self.symbols) - 1}")
            out.append(self.symbols[int(i)])
        return out

    def to_list(self) -> list[str]:
        """JSON-ready form stored in checkpoints and bundle manifests."""
        return list(self.symbols)

    @classmethod
    def from_list(cls, symbols: Sequence[str]) -> SymbolTable:
        if isinstance(symbols, str):
            raise ConfigError("a symbol table is a list of symbols, not one string")
        return cls(list(symbols))


DEFAULT_SYMBOLS = SymbolTable(SPECIALS + PHONEMES)
assert len(DEFAULT_SYMBOLS) <= MAX_SYMBOLS
