"""Read one of the project's YAML content files, or fail with a configuration error naming it."""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import PhotoTipsError


def read_yaml(path: str | Path, what: str) -> dict:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PhotoTipsError("bad_config", f"{what} {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise PhotoTipsError("bad_config", f"{what} {path}: expected a mapping at the top level")
    return data
