"""Benchmark: what checking a caller's identity costs per request, against the request it guards, in one run.

    .venv/bin/python bench/auth.py            # writes bench/out/auth.json

Times, in-process on one core: checking a seller token (PyJWT HS256 verify and
claims), an API key with the check cached, and an API key looked up in SQLite
(cache off, the worst case); and, over HTTP against a real server process, the
median of GET /healthz (no identity) against POST /v1/tokens (an API key
checked, a token signed) on the same connection.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def per_call_us(fn, n: int) -> float:
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - t) / n * 1e6)
    return statistics.median(runs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "auth.json"))
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from phototips.auth.gate import Gate
    from phototips.auth.keys import KeyStore
    from phototips.config import load_settings
    from phototips.storage.db import make_engine, migrate

    tmp = Path(tempfile.mkdtemp(prefix="phototips-auth-"))
    url = f"sqlite:///{tmp / 'auth.db'}"
    secret = "b" * 48
    settings = load_settings({"PHOTOTIPS_DATABASE_URL": url, "PHOTOTIPS_TOKEN_SECRET": secret})
    engine = make_engine(url)
    migrate(engine)
    cached, uncached = KeyStore(engine, cache_s=3600), KeyStore(engine, cache_s=0)
    key, _ = cached.add("shop", ["app"])
    gate = Gate(cached, settings)
    token, _ = gate.tokens.issue("shop", "seller-1")

    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (1 used), Python {platform.python_version()}",
        "seller_token_us": round(per_call_us(lambda: gate.principal(token), args.calls), 1),
        "api_key_cached_us": round(per_call_us(lambda: gate.principal(key), args.calls), 1),
        "api_key_sqlite_lookup_us": round(per_call_us(lambda: uncached.check(key), args.calls // 10), 1),
    }

    from conftest import free_port

    port = free_port()
    env = {**os.environ, "PHOTOTIPS_DATABASE_URL": url, "PHOTOTIPS_TOKEN_SECRET": secret, "PHOTOTIPS_PORT": str(port),
           "PHOTOTIPS_LOG_LEVEL": "WARNING", "PHOTOTIPS_RATE_TOKENS": "1000000/minute"}
    proc = subprocess.Popen([sys.executable, "-m", "phototips", "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        session = requests.Session()
        for _ in range(300):
            try:
                if session.get(base + "/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)

        def timed(fn, n=500):
            out = []
            for _ in range(n):
                t = time.perf_counter()
                fn()
                out.append((time.perf_counter() - t) * 1000)
            return statistics.median(out)

        headers = {"Authorization": "Bearer " + key}
        health = timed(lambda: session.get(base + "/healthz", timeout=10).raise_for_status())
        tokens = timed(lambda: session.post(base + "/v1/tokens", json={"seller_id": "s"}, headers=headers,
                                            timeout=10).raise_for_status())
        result["http_healthz_ms"] = round(health, 2)
        result["http_tokens_ms"] = round(tokens, 2)
        result["http_identity_overhead_ms"] = round(tokens - health, 2)
    finally:
        proc.terminate()
        proc.wait(10)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    ok = max(result["seller_token_us"], result["api_key_cached_us"]) < 1000
    print("target (checking a token or key < 1 ms per request):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
