"""`phototips serve` started for a benchmark on a free local port, as the README starts it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict[str, str], startup_s: float = 30) -> tuple[subprocess.Popen, str]:
    """The server process and its URL, once /healthz answers; `env` adds to this process's environment.
    A server that exits or does not answer in time is stopped and its log shown in the error."""
    port = free_port()
    full = {**os.environ, "PHOTOTIPS_PORT": str(port), "PHOTOTIPS_HOST": "127.0.0.1", **env}
    with tempfile.NamedTemporaryFile(prefix="phototips-bench-", suffix=".log", delete=False) as log:
        proc = subprocess.Popen([sys.executable, "-m", "phototips", "serve"], env=full, stdout=log,
                                stderr=subprocess.STDOUT)
    proc.log_path = log.name
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + startup_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if requests.get(url + "/healthz", timeout=1).ok:
                return proc, url
        except requests.RequestException:  # bound, but still loading
            time.sleep(0.1)
    output = open(log.name, errors="replace").read()[-3000:]
    stop_server(proc)
    raise RuntimeError(f"server did not start:\n{output}")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    os.unlink(proc.log_path)
