"""Read and validate a model bundle: a folder of .pte programs + manifest.json + assets.

Validation happens before anything is handed to ExecuTorch: schema version, every file's
size and sha256, then each program's method names, input counts and shape bounds, and the
metadata baked into the program, against the manifest. A missing, truncated, swapped or
tampered file is a ``BundleError`` that names the file, never a crash inside the runtime.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import MobileSpeechConfig
from .errors import BundleError, ConfigError
from .frontend import SymbolTable

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
FORMAT = "mobilespeech-bundle"


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
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise BundleError(f"{path} is not valid JSON: {e}") from e
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BundleError(f"{path}: 'format' is not {FORMAT!r}")
        version = manifest.get("schema_version")
        if version != SCHEMA_VERSION:
            raise BundleError(
                f"{path}: schema_version {version!r}; this runtime reads "
                f"{SCHEMA_VERSION} (re-export the bundle with this version)"
            )
        try:
            config = MobileSpeechConfig.from_dict(manifest["config"])
            symbols = SymbolTable.from_list(manifest["symbols"])
            files = manifest["files"]
            programs = manifest["programs"]
        except (KeyError, TypeError, ConfigError) as e:
            raise BundleError(f"{path}: malformed manifest ({e})") from e
        bundle = cls(root, manifest, config, symbols)
        for name in list(programs) + [p for p in files if p not in programs]:
            if name not in files:
                raise BundleError(f"{path}: program {name} has no checksum entry")
        if verify_checksums:
            bundle.verify_files()
        return bundle

    def verify_files(self) -> None:
        for name, meta in self.manifest["files"].items():
            p = self.root / name
            if Path(name).name != name:
                raise BundleError(f"manifest names a file outside the bundle: {name!r}")
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

    def program_path(self, name: str) -> Path:
        if name not in self.manifest["programs"]:
            raise BundleError(f"bundle has no program {name!r}")
        return self.root / name

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
    def variant(self) -> str:
        return str(self.manifest.get("variant", "?"))
