"""`phototips serve` started for a benchmark on a free local port, as the README starts it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict[str, str], startup_s: float = 30) -> tuple[subprocess.Popen, str]:
    """The server process and its URL, once /healthz answers; `env` adds to this process's environment."""
    port = free_port()
    full = {**os.environ, "PHOTOTIPS_PORT": str(port), "PHOTOTIPS_HOST": "127.0.0.1", **env}
    proc = subprocess.Popen([sys.executable, "-m", "phototips", "serve"], env=full,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + startup_s
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=1).ok:
                return proc, url
        except requests.RequestException:  # bound, but still loading
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")
