"""Start a private PostgreSQL server for the tests (initdb + pg_ctl in a temporary directory).

Falls back to PHOTOTIPS_TEST_POSTGRES_URL or the machine's server on 127.0.0.1:5432
(database `test`) when no PostgreSQL binaries are installed. With
PHOTOTIPS_REQUIRE_SERVICES=1 (set by .ci/run) a missing server fails the tests
instead of skipping them.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import free_port, service_missing


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class PrivatePostgres:
    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise FileNotFoundError("no PostgreSQL binaries under /usr/lib/postgresql")
        self.bin = os.path.dirname(bins[-1])
        self.dir = tempfile.mkdtemp(prefix="phototips-pg-")
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.port = free_port()
        data = os.path.join(self.dir, "data")
        subprocess.run(_as_postgres([f"{self.bin}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]),
                       check=True, capture_output=True)
        subprocess.run(_as_postgres([f"{self.bin}/pg_ctl", "-D", data, "-l", os.path.join(self.dir, "log"), "-w",
                                     "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on",
                                     "start"]), check=True, capture_output=True)
        self.data = data
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self):
        subprocess.run(_as_postgres([f"{self.bin}/pg_ctl", "-D", self.data, "-m", "fast", "stop"]), capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def _reachable(url: str) -> bool:
    from sqlalchemy import create_engine, text

    try:
        with create_engine(url).connect() as conn:
            conn.execute(text("select 1"))
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_url():
    try:
        server = PrivatePostgres()
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        url = os.environ.get("PHOTOTIPS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        if _reachable(url):
            yield url
            return
        service_missing(f"no PostgreSQL: could not start one ({exc}) and {url} is unreachable")
    deadline = time.monotonic() + 20
    while not _reachable(server.url) and time.monotonic() < deadline:
        time.sleep(0.2)
    yield server.url
    server.stop()
