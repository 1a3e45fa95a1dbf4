"""A serving command (`phototips serve`, or `model-server`) started on a local port, as the README starts it.

One helper for the benchmarks and the tests (tests/conftest.py imports it): the
process is ready once /healthz answers; one that exits or does not answer in
time is stopped, and its log is in the error.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """`phototips COMMAND` on `port` (a free one by default); `env` adds to this process's environment.

    Its output goes to a log file in `log_dir` (kept), or to a temporary file removed by `stop()`.
    `health` is the first /healthz answer.
    """

    def __init__(self, env: dict[str, str], log_dir: Path | None = None, command: str = "serve",
                 port_var: str = "PHOTOTIPS_PORT", startup_s: float = 30, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if log_dir is None:
            with tempfile.NamedTemporaryFile(prefix="phototips-server-", suffix=".log", delete=False) as f:
                self.log, self._own_log = Path(f.name), True
        else:
            self.log, self._own_log = Path(log_dir) / f"server-{self.port}.log", False
        # Loopback always, whatever `env` or this shell say: these servers run with test keys and secrets.
        full_env = {**os.environ, **env, port_var: str(self.port), "PHOTOTIPS_HOST": "127.0.0.1"}
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "phototips", command], env=full_env,
                                         stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + startup_s
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                answer = requests.get(self.url + "/healthz", timeout=1)
                if answer.ok:
                    self.health = answer.json()
                    return
            except requests.RequestException:  # bound, but the app is still loading
                pass
            time.sleep(0.1)  # also after a 503: a model server answers so until its model is loaded
        output = self.log.read_text(errors="replace")[-3000:]
        what = "exited" if self.proc.poll() is not None else "did not start"  # e.g. a port left taken
        self.stop()
        raise RuntimeError(f"server {what}:\n{output}")

    def alive(self) -> bool:
        return self.proc.poll() is None and requests.get(self.url + "/healthz", timeout=5).ok

    def stop(self, wait_s: float = 10) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        if self._own_log:
            self.log.unlink(missing_ok=True)
