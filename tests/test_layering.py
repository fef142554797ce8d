"""The repository's import graph: no circles, and the runtime never reaches the PyTorch side.

ruff's banned-api rule (TID251, per-folder ruff.toml) forbids the upward imports by name; this
test finds circles, which no per-file rule can see, over every import statement (function-level
ones too), and checks in a fresh interpreter that importing the runtime loads no torch.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("mobilespeech_runtime", "mobilespeech_model", "export", "training", "benchmarks")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for p in (REPO / pkg).rglob("*.py"):
            out[_module_name(p)] = p
    return out


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The repo module an imported name lives in (``a.b.c`` -> ``a.b`` if c is a member)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(mod: str, path: Path, modules: dict[str, Path]) -> set[str]:
    is_pkg = path.name == "__init__.py"
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - node.level + 1]
                prefix = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                prefix = node.module or ""
            names = [f"{prefix}.{a.name}" for a in node.names] + [prefix]
        for n in names:
            target = _resolve(n, modules)
            if target and target != mod:
                found.add(target)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {m: _imports(m, p, modules) for m, p in modules.items()}
    # a package's __init__ importing its own submodules is not a circle of the design
    return {m: {t for t in ts if not (m and t.startswith(m + ".") and modules[m].name ==
                                      "__init__.py")} for m, ts in graph.items()}


def test_the_import_graph_has_no_circles() -> None:
    assert _cycles(_graph()) == []


def test_imports_run_one_way() -> None:
    floor = {"mobilespeech_runtime": 0, "mobilespeech_model": 1, "export": 2, "training": 2,
             "benchmarks": 3}
    bad = [(m, t) for m, ts in _graph().items() for t in ts
           if floor[t.split(".")[0]] > floor[m.split(".")[0]]]
    assert bad == []


def test_cycle_finder_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_runtime_imports_no_torch() -> None:
    code = ("import sys, mobilespeech_runtime.synthesizer, mobilespeech_runtime.cli, "
            "mobilespeech_runtime.audio; "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'executorch', 'mobilespeech_model', 'g2p_en', 'nltk', 'soxr')]; "
            "print(bad)")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
