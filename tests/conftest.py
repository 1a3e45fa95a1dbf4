"""Shared fixtures: a real server process on a free port, and sample photo files."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from photos import SAMPLES, encode, sample

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))  # the benchmarks' helpers (phone photos, a seeded experiment) serve tests too
from local_server import free_port  # noqa: E402


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


class ServerProcess:
    """`phototips serve` (or another serving command, e.g. model-server) on a free port."""

    def __init__(self, env: dict[str, str], tmp: Path, command: str = "serve", port_var: str = "PHOTOTIPS_PORT",
                 startup_s: float = 30, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / f"server-{self.port}.log"
        full_env = {**os.environ, **env, port_var: str(self.port), "PHOTOTIPS_HOST": "127.0.0.1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "phototips", command], env=full_env,
            stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + startup_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    return
            except (requests.ConnectionError, requests.Timeout):  # bound, but the app is still loading
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()}")

    def alive(self) -> bool:
        return self.proc.poll() is None and requests.get(self.url + "/healthz", timeout=5).ok

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    srv = ServerProcess({"PHOTOTIPS_MAX_UPLOAD_MB": "3", "PHOTOTIPS_LOG_LEVEL": "WARNING"},
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
