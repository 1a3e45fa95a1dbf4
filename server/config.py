"""Service configuration from one place: PHOTOTIPS_* environment variables over an optional TOML file.

`load_settings()` is called once at start-up; every problem is reported at once
with the variable's name, so a bad deployment fails before serving anything.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import tomllib
import typing
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import paths
from .errors import PhotoTipsError
from .yamlfile import read_yaml

# The shortest token secret accepted, in settings and by the gate (auth/gate.py).
MIN_SECRET = 32
ENV_PREFIX = "PHOTOTIPS_"
# Variables of our prefix that are not settings: read by paths.py, load_settings itself and the study's cost
# table (study/costs.py), and by the project's own tests and scripts (which start servers with them set). Any other
# unknown name is refused, since a misspelt setting (PHOTOTIPS_RATE_UPLOAD) would otherwise leave its default in
# force without a word.
NOT_SETTINGS = frozenset({"CONFIG", "HOME", "GPU_HOUR_USD", "REQUIRE_SERVICES", "TEST_POSTGRES_URL", "TEST_REDIS_URL",
                          "SCREENS_DIR", "SCREENSHOT", "CHROMIUM"})
DEFAULT_HERO_MB = 64.0


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    # The server (gunicorn, one gevent worker): open connections it holds at most, live sellers included;
    # seconds a stopping server gives requests in flight; proxies whose X-Forwarded-* it believes.
    max_connections: int = 10_000
    graceful_timeout_s: int = 20
    trusted_proxies: str = "127.0.0.1"
    # Scorer chain, tried in order; the photo check is always the last resort.
    scorers: tuple[str, ...] = ("photo-check",)
    default_locale: str = "en"
    max_upload_mb: float = 20.0
    # A whole /v1/hero request: several photos in one body, held in memory while it is read, so bounded apart
    # from the per-photo limit (16 phone photos of 4 MB; a larger listing is filed photo by photo and read from
    # /v1/listings/<id>/hero). 0: 64, or max_upload_mb where that is larger; otherwise at least max_upload_mb.
    max_hero_mb: float = 0.0
    # Header-declared pixels above this are refused before any decoding (bombs).
    max_pixels: int = 60_000_000
    # PNG, WebP and HEIC are decoded whole (only JPEG decodes reduced): their own, lower limit.
    max_unreduced_pixels: int = 25_000_000
    # Long side the photo check analyses; JPEGs are decoded reduced to about this.
    analysis_side: int = 1000
    # Long side of a fixed photo (straightened, cropped, lifted) a seller is offered to use instead of theirs:
    # what a listing shows, not the analysis size, so that using it does not cost the photo its resolution.
    # Never less than analysis_side (raised to it).
    fix_side: int = 2000
    # Listings kept in this process's memory (least recently used out); with Redis, each expires
    # `listing_ttl_s` after its last photo instead.
    # Decoding and the photo check run in worker processes: -1 one per core, 0 none (in the request's
    # own thread: development and tests), N exactly N. At most workers + cpu_queue requests are inside at
    # once (-1: four per worker, a wait of four photos at most); the rest get 503 busy at once.
    cpu_workers: int = -1
    cpu_queue: int = -1
    cpu_task_timeout_s: float = 30.0
    # A worker larger than this after a photo gives memory back, or is replaced by a fresh one.
    cpu_worker_max_mb: int = 600
    # Workers run at this niceness (0-19) so the web process, which receives photos and answers `busy`,
    # is never queued behind a photo check for a core.
    cpu_worker_nice: int = 5
    max_listings: int = 10_000
    max_photos_per_listing: int = 30
    listing_ttl_s: int = 86_400
    tips_file: str = str(paths.CONTENT / "tips.yaml")
    photo_check_model: str = str(paths.MODELS / "photo-check.yaml")
    # ONNX model made by `phototips train`; when the file exists the photo check scores with it.
    learned_model: str = ""
    experiments_file: str = str(paths.CONTENT / "experiments.yaml")
    # SQLAlchemy URL of the event store: a SQLite file by default, postgresql+psycopg://... at scale.
    database_url: str = f"sqlite:///{paths.HOME / 'var' / 'phototips.db'}"
    migrate_on_start: int = 1
    min_sellers_per_variant: int = 100
    # Redis URL shared by several server processes for Socket.IO rooms; empty: in-process.
    message_queue: str = ""
    # Redis URL for state shared by several processes (listings' photos, rate limits); empty: in each
    # process's memory.
    redis_url: str = ""
    log_level: str = "INFO"

    # Identity: API keys live in the database (`phototips keys add`); seller tokens are signed with this
    # secret, the same in every process. With no key in the database the service runs open, on loopback only.
    token_secret: str = ""
    token_ttl_s: int = 900
    token_max_ttl_s: int = 86_400
    key_cache_s: float = 30.0

    # Rate limits ("N/second|minute|hour"): per seller (or per key) and per app client in all.
    rate_uploads: str = "30/minute"
    rate_uploads_client: str = "3000/minute"
    rate_events: str = "600/minute"
    rate_tokens: str = "600/minute"

    # Scorer chain behaviour: a request gets an answer within `deadline_s`; a scorer
    # failing `breaker_failures` times in a row is skipped for `breaker_cooldown_s`.
    deadline_s: float = 20.0
    breaker_failures: int = 3
    breaker_cooldown_s: float = 30.0

    # qwen-local: a local directory, or a hub id looked up in the Hugging Face cache only.
    qwen_model: str = "Qwen/Qwen2.5-VL-7B-Instruct"
    qwen_adapter: str = ""  # a LoRA adapter directory from `phototips train lora`, merged at load
    qwen_mode: str = "expected"  # expected (one forward pass) or generate
    qwen_prompt: str = "guided"
    qwen_device: str = "auto"  # auto, cuda, cuda:N or cpu
    qwen_min_pixels: int = 100_352  # 128 visual tokens of 28×28
    qwen_max_pixels: int = 401_408  # 512 visual tokens
    qwen_max_batch: int = 32
    qwen_max_wait_ms: float = 8.0
    qwen_max_new_tokens: int = 160

    # bedrock: region, endpoint and credentials come from the standard AWS configuration.
    bedrock_model_id: str = "amazon.nova-lite-v1:0"
    bedrock_prompt: str = "guided"
    bedrock_timeout_s: float = 15.0
    bedrock_max_attempts: int = 4
    bedrock_max_tokens: int = 300

    # openai: any OpenAI-compatible chat endpoint with image input (vLLM, GPT-4o mini).
    openai_base_url: str = "http://127.0.0.1:8001/v1"
    openai_model: str = "Qwen/Qwen2.5-VL-7B-Instruct"
    openai_prompt: str = "guided"
    openai_timeout_s: float = 15.0

    # The shared model server (`phototips model-server`): web processes with the `remote` scorer call it at
    # model_server_url with model_server_token; it runs model_server_scorer, with this many requests at once.
    model_server_url: str = "http://127.0.0.1:8100"
    model_server_token: str = ""
    model_server_scorer: str = "qwen-local"
    model_server_port: int = 8100
    model_server_threads: int = 64

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_hero_bytes(self) -> int:
        mb = self.max_hero_mb or max(DEFAULT_HERO_MB, self.max_upload_mb)
        return int(mb * 1024 * 1024)

    @property
    def worker_count(self) -> int:
        return len(os.sched_getaffinity(0)) if self.cpu_workers == -1 else self.cpu_workers

    @property
    def queue_length(self) -> int:
        return 4 * self.worker_count if self.cpu_queue == -1 else self.cpu_queue


def _parse(name: str, kind: type, raw) -> object:
    if typing.get_origin(kind) is tuple:
        items = raw if isinstance(raw, list) else str(raw).split(",")
        return tuple(s.strip() for s in items if str(s).strip())
    if kind in (int, float):
        if isinstance(raw, bool):
            raise ValueError
        value = kind(raw)
        if not math.isfinite(value):  # nan passes every range check (every comparison is false)
            raise ValueError
        return value
    return str(raw)


def _problems(s: Settings, unread: frozenset[str] = frozenset()) -> list[str]:
    """What is wrong with `s`. A comparison of two settings is skipped where either could not be read (`unread`,
    held at its default meanwhile): it would report a problem that may not exist."""
    out = []

    def known(*names: str) -> bool:
        return not unread.intersection(names)

    if not 0 < s.port < 65536:
        out.append(f"{ENV_PREFIX}PORT must be between 1 and 65535, got {s.port}")
    if not 0 < s.model_server_port < 65536:
        out.append(f"{ENV_PREFIX}MODEL_SERVER_PORT must be between 1 and 65535, got {s.model_server_port}")
    if not 1 <= s.model_server_threads <= 1024:
        out.append(f"{ENV_PREFIX}MODEL_SERVER_THREADS must be between 1 and 1024")
    if not s.model_server_url.startswith(("http://", "https://")):
        out.append(f"{ENV_PREFIX}MODEL_SERVER_URL must be an http:// or https:// URL, got {s.model_server_url!r}")
    if s.max_connections < 10:
        out.append(f"{ENV_PREFIX}MAX_CONNECTIONS must be at least 10")
    if s.graceful_timeout_s <= 0:
        out.append(f"{ENV_PREFIX}GRACEFUL_TIMEOUT_S must be positive")
    if not s.scorers:
        out.append(f"{ENV_PREFIX}SCORERS must name at least one scorer")
    if s.max_upload_mb <= 0:
        out.append(f"{ENV_PREFIX}MAX_UPLOAD_MB must be positive, got {s.max_upload_mb}")
    if s.max_hero_mb < 0:
        out.append(f"{ENV_PREFIX}MAX_HERO_MB must be 0 (automatic) or positive, got {s.max_hero_mb:g}")
    elif s.max_hero_mb and known("max_hero_mb", "max_upload_mb") and s.max_hero_mb < s.max_upload_mb:
        out.append(f"{ENV_PREFIX}MAX_HERO_MB must be 0 (automatic) or at least MAX_UPLOAD_MB ({s.max_upload_mb:g}), "
                   f"got {s.max_hero_mb:g}")
    if s.max_pixels < 1_000_000:
        out.append(f"{ENV_PREFIX}MAX_PIXELS must be at least 1000000, got {s.max_pixels}")
    if s.max_unreduced_pixels < 1_000_000 or (known("max_pixels", "max_unreduced_pixels")
                                              and s.max_unreduced_pixels > s.max_pixels):
        out.append(f"{ENV_PREFIX}MAX_UNREDUCED_PIXELS must be between 1000000 and MAX_PIXELS")
    if not 256 <= s.analysis_side <= 4096:
        out.append(f"{ENV_PREFIX}ANALYSIS_SIDE must be between 256 and 4096, got {s.analysis_side}")
    if not 256 <= s.fix_side <= 8192:
        out.append(f"{ENV_PREFIX}FIX_SIDE must be between 256 and 8192, got {s.fix_side}")
    for name in ("max_listings", "max_photos_per_listing"):
        if getattr(s, name) < 1:
            out.append(f"{ENV_PREFIX}{name.upper()} must be at least 1")
    if s.cpu_workers < -1 or s.cpu_queue < -1:
        out.append(f"{ENV_PREFIX}CPU_WORKERS and CPU_QUEUE must be -1 (automatic) or a count, 0 or more")
    if s.cpu_task_timeout_s <= 0:
        out.append(f"{ENV_PREFIX}CPU_TASK_TIMEOUT_S must be positive")
    if s.cpu_worker_max_mb < 200:
        out.append(f"{ENV_PREFIX}CPU_WORKER_MAX_MB must be at least 200")
    if not 0 <= s.cpu_worker_nice <= 19:
        out.append(f"{ENV_PREFIX}CPU_WORKER_NICE must be between 0 and 19, got {s.cpu_worker_nice}")
    if s.listing_ttl_s < 60:
        out.append(f"{ENV_PREFIX}LISTING_TTL_S must be at least 60")
    for name in ("redis_url", "message_queue"):
        # Flask-SocketIO hands any other scheme to kombu, and the rate limiter knows no other.
        if getattr(s, name) and not getattr(s, name).startswith(("redis://", "rediss://")):
            out.append(f"{ENV_PREFIX}{name.upper()} must be a redis:// or rediss:// URL, or empty")
    if not s.database_url.startswith(("sqlite:", "postgresql")):
        out.append(f"{ENV_PREFIX}DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL")
    if s.min_sellers_per_variant < 1:
        out.append(f"{ENV_PREFIX}MIN_SELLERS_PER_VARIANT must be at least 1")
    for name in ("tips_file", "photo_check_model", "experiments_file"):
        if not Path(getattr(s, name)).is_file():
            out.append(f"{ENV_PREFIX}{name.upper()}: no such file {getattr(s, name)}")
    if s.qwen_mode not in ("expected", "generate"):
        out.append(f"{ENV_PREFIX}QWEN_MODE must be expected or generate, got {s.qwen_mode!r}")
    if s.qwen_min_pixels <= 0 or (known("qwen_min_pixels", "qwen_max_pixels") and s.qwen_min_pixels > s.qwen_max_pixels):
        out.append(f"{ENV_PREFIX}QWEN_MIN_PIXELS must be positive and at most QWEN_MAX_PIXELS")
    for name in ("deadline_s", "breaker_cooldown_s", "bedrock_timeout_s", "openai_timeout_s", "qwen_max_wait_ms"):
        if getattr(s, name) <= 0:
            out.append(f"{ENV_PREFIX}{name.upper()} must be positive")
    for name in ("breaker_failures", "qwen_max_batch", "qwen_max_new_tokens", "bedrock_max_attempts", "bedrock_max_tokens"):
        if getattr(s, name) < 1:
            out.append(f"{ENV_PREFIX}{name.upper()} must be at least 1")
    for name in ("rate_uploads", "rate_uploads_client", "rate_events", "rate_tokens"):
        try:
            from limits import parse_many

            if any(item.amount < 1 for item in parse_many(getattr(s, name))):
                # 0/minute refuses every call for ever, each answered "retry in 60 s".
                out.append(f"{ENV_PREFIX}{name.upper()} must allow at least 1 a period, got {getattr(s, name)!r}")
        except ValueError:
            out.append(f"{ENV_PREFIX}{name.upper()} must look like 30/minute, got {getattr(s, name)!r}")
    if s.token_secret and len(s.token_secret) < MIN_SECRET:
        # Whether a secret is needed at all depends on the keys in the database; a short one is wrong either way.
        out.append(f"{ENV_PREFIX}TOKEN_SECRET must be a random string of at least {MIN_SECRET} characters, "
                   f"got {len(s.token_secret)}")
    locales = _tips_locales(s.tips_file) if known("tips_file") else None
    if locales is not None and s.default_locale not in locales:
        out.append(f"{ENV_PREFIX}DEFAULT_LOCALE must be one of the tips' locales ({', '.join(locales)}), "
                   f"got {s.default_locale!r}")
    if s.token_ttl_s < 60 or (known("token_ttl_s", "token_max_ttl_s") and s.token_ttl_s > s.token_max_ttl_s):
        out.append(f"{ENV_PREFIX}TOKEN_TTL_S must be between 60 and TOKEN_MAX_TTL_S")
    if s.key_cache_s < 0:
        out.append(f"{ENV_PREFIX}KEY_CACHE_S must not be negative")
    if s.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        out.append(f"{ENV_PREFIX}LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {s.log_level!r}")
    return out


@lru_cache(maxsize=8)  # a parse of the whole catalog (about 20 ms), once a file as tips/catalog.py's load_catalog
def _tips_locales(path: str) -> tuple[str, ...] | None:
    """The locales the tip catalog lists, or None where it cannot be read (the catalog's own check says why)."""
    try:
        locales = read_yaml(path, "tip catalog").get("locales")
    except PhotoTipsError:
        return None
    return tuple(str(x) for x in locales) if isinstance(locales, list) else None


def _resembles(name: str, fields, prefix: str) -> str:
    """The setting a misspelt name most resembles, written as it would be (`prefix`: the environment's)."""
    near = difflib.get_close_matches(name.lower(), list(fields), n=1, cutoff=0.8)
    if not near:
        return "docs/configuration.md lists the settings"
    return f"did you mean {prefix}{near[0].upper()}?" if prefix else f"did you mean {near[0]!r}?"


def _unknown_variable(key: str, fields) -> str:
    return f"{key} is not a setting ({_resembles(key[len(ENV_PREFIX):], fields, ENV_PREFIX)})"


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
                problems.append(f"{config_file}: unknown setting {key!r} ({_resembles(key, fields, '')})")
            else:
                raw[key] = value
    if env is not os.environ:
        # A mapping written in code: a bare setting name there is a keyword override put in the wrong place, and
        # would be ignored (the environment's names carry the prefix).
        problems += [f"{key!r} is a setting's name, not an environment variable: pass it as {key}=..., or as "
                     f"{ENV_PREFIX}{key.upper()}" for key in env if key in fields]
    for key, value in env.items():
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX):] not in NOT_SETTINGS:
            name = key[len(ENV_PREFIX):].lower()
            if name in fields:
                raw[name] = value
            else:
                problems.append(_unknown_variable(key, fields))
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
    # What could be read is checked too, so one start reports every problem.
    settings = Settings(**values)
    _refuse(problems + _problems(settings, frozenset(name for name in raw if name in fields and name not in values)))
    return settings


def with_overrides(settings: Settings, **changes) -> Settings:
    """`settings` with `changes` (None: unchanged), checked as load_settings checks them (a command line's --port)."""
    out = dataclasses.replace(settings, **{k: v for k, v in changes.items() if v is not None})
    _refuse(_problems(out))
    return out


def _refuse(problems: list[str]) -> None:
    """Start-up stops on any problem, every one of them named."""
    if problems:
        raise PhotoTipsError("bad_config", "invalid configuration:\n  " + "\n  ".join(problems))

