"""Import ExecuTorch's runtime without its export stack.

``executorch.extension.pybindings.portable_lib`` imports ``executorch.exir._warnings`` for one
warning class, and importing that submodule runs ``executorch/exir/__init__.py``: torch.export,
dynamo, inductor and torchao, 2-3 s and a page of foreign log lines, none of which running a
``.pte`` needs. ``runtime()`` loads ``_warnings.py`` by itself under its real name, with a
placeholder parent package only while the runtime imports; the placeholder is removed again, so
a later ``import executorch.exir`` (export, tests) imports the real package as usual.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any


def _preload_exir_warnings() -> list[str]:
    """Register ``executorch.exir._warnings`` without its package; names added to sys.modules."""
    if "executorch.exir" in sys.modules or "executorch.exir._warnings" in sys.modules:
        return []
    import executorch

    base = list(executorch.__path__)
    for root in base:
        spec = importlib.util.spec_from_file_location(
            "executorch.exir._warnings", f"{root}/exir/_warnings.py"
        )
        if spec is not None and spec.loader is not None:
            break
    else:
        return []
    placeholder = types.ModuleType("executorch.exir")
    placeholder.__path__ = [f"{root}/exir" for root in base]  # type: ignore[attr-defined]
    sys.modules["executorch.exir"] = placeholder
    module = importlib.util.module_from_spec(spec)
    sys.modules["executorch.exir._warnings"] = module
    try:
        spec.loader.exec_module(module)
    except Exception:  # noqa: BLE001 - fall back to the ordinary import
        del sys.modules["executorch.exir._warnings"]
        del sys.modules["executorch.exir"]
        return []
    placeholder._warnings = module  # type: ignore[attr-defined]
    return ["executorch.exir"]


def runtime() -> Any:
    """``executorch.runtime.Runtime.get()`` (+ quantized kernels), imported lightly."""
    added = _preload_exir_warnings()
    try:
        try:
            importlib.import_module("executorch.kernels.quantized")  # registers quantized kernels
        except ImportError:
            pass
        from executorch.runtime import Runtime
    finally:
        for name in added:
            if sys.modules.get(name) is not None and not hasattr(sys.modules[name], "__file__"):
                del sys.modules[name]
        pkg = sys.modules.get("executorch")
        if added and pkg is not None and "exir" in vars(pkg) and not hasattr(pkg.exir, "__file__"):
            delattr(pkg, "exir")
    return Runtime.get()
