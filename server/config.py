"""Service configuration from one place: PHOTOTIPS_* environment variables over an optional TOML file.

`load_settings()` is called once at start-up; every problem is reported at once
with the variable's name, so a bad deployment fails before serving anything.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass
from pathlib import Path

from . import paths
from .errors import PhotoTipsError

ENV_PREFIX = "PHOTOTIPS_"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    # Scorer chain, tried in order; the photo check is always the last resort.
    scorers: tuple[str, ...] = ("photo-check",)
    default_locale: str = "en"
    max_upload_mb: float = 20.0
    # Header-declared pixels above this are refused before any decoding (bombs).
    max_pixels: int = 60_000_000
    # Long side the photo check analyses; JPEGs are decoded reduced to about this.
    analysis_side: int = 1000
    max_listings: int = 10_000
    max_photos_per_listing: int = 30
    tips_file: str = str(paths.CONTENT / "tips.yaml")
    photo_check_model: str = str(paths.MODELS / "photo-check.yaml")
    # Redis URL shared by several server processes for Socket.IO rooms; empty: in-process.
    message_queue: str = ""
    log_level: str = "INFO"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


def _parse(name: str, kind: type, raw) -> object:
    if typing.get_origin(kind) is tuple:
        items = raw if isinstance(raw, list) else str(raw).split(",")
        return tuple(s.strip() for s in items if str(s).strip())
    if kind in (int, float):
        if isinstance(raw, bool):
            raise ValueError
        return kind(raw)
    return str(raw)


def _problems(s: Settings) -> list[str]:
    out = []
    if not 0 < s.port < 65536:
        out.append(f"{ENV_PREFIX}PORT must be between 1 and 65535, got {s.port}")
    if not s.scorers:
        out.append(f"{ENV_PREFIX}SCORERS must name at least one scorer")
    if s.max_upload_mb <= 0:
        out.append(f"{ENV_PREFIX}MAX_UPLOAD_MB must be positive, got {s.max_upload_mb}")
    if s.max_pixels < 1_000_000:
        out.append(f"{ENV_PREFIX}MAX_PIXELS must be at least 1000000, got {s.max_pixels}")
    if not 256 <= s.analysis_side <= 4096:
        out.append(f"{ENV_PREFIX}ANALYSIS_SIDE must be between 256 and 4096, got {s.analysis_side}")
    for name in ("max_listings", "max_photos_per_listing"):
        if getattr(s, name) < 1:
            out.append(f"{ENV_PREFIX}{name.upper()} must be at least 1")
    for name in ("tips_file", "photo_check_model"):
        if not Path(getattr(s, name)).is_file():
            out.append(f"{ENV_PREFIX}{name.upper()}: no such file {getattr(s, name)}")
    if s.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        out.append(f"{ENV_PREFIX}LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {s.log_level!r}")
    return out


def load_settings(env: dict[str, str] | None = None, **overrides) -> Settings:
    """Settings from defaults < TOML file (PHOTOTIPS_CONFIG) < environment < explicit overrides."""
    env = os.environ if env is None else env
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    hints = typing.get_type_hints(Settings)
    raw: dict[str, object] = {}
    problems: list[str] = []

    config_file = env.get(ENV_PREFIX + "CONFIG")
    if config_file:
        try:
            with open(config_file, "rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise PhotoTipsError("bad_config", f"{ENV_PREFIX}CONFIG={config_file}: {exc}") from exc
        for key, value in data.items():
            if key not in fields:
                problems.append(f"{config_file}: unknown setting {key!r}")
            else:
                raw[key] = value
    for key, value in env.items():
        if key.startswith(ENV_PREFIX) and key != ENV_PREFIX + "CONFIG" and key != ENV_PREFIX + "HOME":
            name = key[len(ENV_PREFIX):].lower()
            if name in fields:
                raw[name] = value
    raw.update({k: v for k, v in overrides.items() if v is not None})

    values = {}
    for name, value in raw.items():
        if name not in fields:
            problems.append(f"unknown setting {name!r}")
            continue
        kind = hints[name]
        try:
            values[name] = _parse(name, kind, value)
        except (TypeError, ValueError):
            problems.append(f"{ENV_PREFIX}{name.upper()} must be {kind.__name__}, got {value!r}")
    settings = Settings(**values) if not problems else Settings()
    problems += _problems(settings) if not problems else []
    if problems:
        raise PhotoTipsError("bad_config", "invalid configuration:\n  " + "\n  ".join(problems))
    return settings


def with_overrides(settings: Settings, **changes) -> Settings:
    return dataclasses.replace(settings, **{k: v for k, v in changes.items() if v is not None})

