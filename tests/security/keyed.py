"""A production-like server for the security tests: API keys in its database, a token secret, real limits.

Keys are made with the `phototips keys` command, as an operator would. Two app
clients (`shop`, `other`), a product team key, an admin key.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from PIL import Image

from conftest import ServerProcess

SECRET = "k" * 48


def add_key(env: dict, client: str, roles: str) -> str:
    out = subprocess.run([sys.executable, "-m", "phototips", "keys", "add", client, "--roles", roles],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return re.search(r"^(ptk_\S+)$", out.stdout, re.M).group(1)


@dataclass
class Keyed:
    srv: ServerProcess
    keys: dict[str, str]
    env: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.srv.url

    def auth(self, who: str) -> dict:
        return {"Authorization": "Bearer " + self.keys[who]}

    def token(self, seller: str, client: str = "shop") -> str:
        r = requests.post(self.url + "/v1/tokens", json={"seller_id": seller}, headers=self.auth(client), timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["token"]

    def seller(self, seller: str, client: str = "shop") -> dict:
        return {"Authorization": "Bearer " + self.token(seller, client)}


def start_keyed(tmp: Path, database_url: str, **extra_env) -> Keyed:
    import os

    env = {**os.environ, "PHOTOTIPS_DATABASE_URL": database_url, "PHOTOTIPS_TOKEN_SECRET": SECRET,
           "PHOTOTIPS_LOG_LEVEL": "WARNING", "PHOTOTIPS_KEY_CACHE_S": "0",
           # Races of many uploads at once test ownership, not the busy answer: room for all of them.
           "PHOTOTIPS_CPU_QUEUE": "32", **extra_env}
    keys = {"shop": add_key(env, "shop", "app"), "other": add_key(env, "other", "app"),
            "product": add_key(env, "insights", "product"), "admin": add_key(env, "ops", "admin,app")}
    return Keyed(ServerProcess({k: v for k, v in env.items() if k.startswith("PHOTOTIPS_")}, tmp), keys, env)


@pytest.fixture(scope="session")
def keyed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("keyed")
    k = start_keyed(tmp, f"sqlite:///{tmp / 'keyed.db'}")
    yield k
    k.srv.stop()


def jpeg(side: int = 64, shade: int = 120) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (side, side), (shade, shade - 20, shade - 40)).save(buf, "JPEG")
    return buf.getvalue()
