"""Create scorers by name, like pyiqa's create_metric: each scorer module registers itself.

Every module in this package is imported on first use, so adding a scorer means
adding one file with a `@register_scorer("name")` factory. Heavy libraries (torch,
boto3) are imported inside the factories, not at module level.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Protocol

from ..errors import PhotoTipsError
from .result import ScoreRequest, ScoreResult

_FACTORIES: dict[str, Callable] = {}
_discovered = False


class Scorer(Protocol):
    name: str

    def score(self, photo, request: ScoreRequest) -> ScoreResult: ...


def register_scorer(name: str):
    def wrap(factory: Callable):
        _FACTORIES[name] = factory
        return factory

    return wrap


def _discover() -> None:
    global _discovered
    if not _discovered:
        for mod in pkgutil.iter_modules(importlib.import_module(__package__).__path__):
            importlib.import_module(f"{__package__}.{mod.name}")
        _discovered = True


def available_scorers() -> list[str]:
    _discover()
    return sorted(_FACTORIES)


def create_scorer(name: str, settings) -> Scorer:
    _discover()
    if name not in _FACTORIES:
        raise PhotoTipsError(
            "unknown_scorer", f"no scorer named {name!r}; available: {', '.join(available_scorers())}", 400
        )
    return _FACTORIES[name](settings)
