"""What the benchmarks share when they report: the machine a run was on, and the result written as JSON."""

from __future__ import annotations

import json
import platform
from pathlib import Path


def machine() -> str:
    """The processor and Python a run was on, as docs/benchmarks.md records them."""
    return f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"


def write_json(out: str | Path, result: dict, *, indent: int) -> None:
    """The result at `out` (its folder made where missing)."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(result, indent=indent))
