"""Names of the measured stages and of each benchmark configuration, shared by the tables
(report.py) and the plots (plots.py)."""

from __future__ import annotations

from typing import Any

STAGES = ("frontend", "text", "smd", "decoder")


def label(cfg: dict[str, Any]) -> str:
    kind = cfg["kind"]
    if kind == "pte":
        return f"pte {cfg['variant']}"
    if kind == "cli":
        return f"C CLI {cfg['variant']}"
    if kind == "eager":
        return "eager fp32"
    return f"AR ({cfg.get('ar_mode', 'frame')})"
