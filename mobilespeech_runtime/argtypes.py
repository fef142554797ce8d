"""argparse types of the command-line tools: a bad value is a usage error (exit status 2).

Shared by the runtime's ``mobilespeech`` command and the tools of training and evaluation, so
every command reads ``--steps``, ``--seed``, ``--threads`` and ``--length-scale`` alike.
"""

from __future__ import annotations

import argparse

from .checks import MAX_STEPS_PER_LAYER, MAX_THREADS, SEED_MAX, check_length_scale
from .errors import ConfigError


def steps_arg(value: str) -> tuple[int, ...]:
    try:
        steps = tuple(int(s) for s in value.split(","))
    except ValueError as e:
        raise argparse.ArgumentTypeError(
            f"{value!r}: steps are comma-separated integers, e.g. 8,2,1,1"
        ) from e
    if any(not 1 <= n <= MAX_STEPS_PER_LAYER for n in steps):
        raise argparse.ArgumentTypeError(
            f"{value!r}: each layer takes 1..{MAX_STEPS_PER_LAYER} steps"
        )
    return steps


def seed_arg(value: str) -> int:
    try:
        n = int(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from e
    if not 0 <= n <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"{value} is outside 0..2**64-1")
    return n


def threads_arg(value: str) -> int:
    try:
        n = int(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from e
    if not 0 <= n <= MAX_THREADS:
        raise argparse.ArgumentTypeError(f"must be in 0..{MAX_THREADS} (0: default), got {n}")
    return n or None  # 0: the default, as mobilespeech_cli and the C ABI


def length_scale_arg(value: str) -> float:
    try:
        return check_length_scale(value)
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e)) from e
