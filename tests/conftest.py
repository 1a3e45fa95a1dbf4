"""Shared fixtures: a real server process on a free port, and sample photo files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from photos import SAMPLES, encode, sample

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))  # the benchmarks' helpers (phone photos, a seeded experiment) serve tests too
from local_server import ServerProcess, free_port  # noqa: E402,F401 (tests import both from here)


REDIS_URL = os.environ.get("PHOTOTIPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def service_missing(message: str) -> None:
    """A service the test needs is not there: under .ci/run (PHOTOTIPS_REQUIRE_SERVICES=1) the test fails,
    on a laptop without it the test is skipped."""
    if os.environ.get("PHOTOTIPS_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        service_missing(f"no Redis at {REDIS_URL}: {exc}")
    return REDIS_URL


@pytest.fixture(scope="session", autouse=True)
def private_database(tmp_path_factory):
    """Every server and service the tests start writes to a throw-away SQLite file, never the repo's var/."""
    db = tmp_path_factory.mktemp("db") / "phototips.db"
    old = os.environ.get("PHOTOTIPS_DATABASE_URL")
    os.environ["PHOTOTIPS_DATABASE_URL"] = f"sqlite:///{db}"
    yield db
    if old is None:
        os.environ.pop("PHOTOTIPS_DATABASE_URL", None)
    else:
        os.environ["PHOTOTIPS_DATABASE_URL"] = old


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    # The module's tests upload as one open-mode caller: room for all of them within a minute (tests/security
    # has the rate limits).
    srv = ServerProcess({"PHOTOTIPS_MAX_UPLOAD_MB": "3", "PHOTOTIPS_MAX_HERO_MB": "5", "PHOTOTIPS_LOG_LEVEL": "WARNING",
                         "PHOTOTIPS_RATE_UPLOADS": "1000/minute"},
                        tmp_path_factory.mktemp("server"))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def photo_files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("photos")
    out = {}
    for name in SAMPLES:
        p = d / f"{name}.jpg"
        p.write_bytes(encode(sample(name)))
        out[name] = p
    return out
