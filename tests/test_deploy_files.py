"""compose.yaml, the Dockerfile and the nginx site name only things that exist: settings, commands, files."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import yaml

from phototips.cli import _parser
from phototips.config import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {ENV_PREFIX + f.name.upper() for f in dataclasses.fields(Settings)}


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_every_setting_compose_names_exists():
    named = set()
    for service in compose()["services"].values():
        env = service.get("environment") or {}
        named |= {k for k in env if k.startswith(ENV_PREFIX)}
    named |= set(re.findall(r"\b(PHOTOTIPS_[A-Z_]+)\b", (ROOT / "Dockerfile").read_text()))
    assert named, "compose.yaml configures nothing?"
    assert named <= SETTINGS | {"PHOTOTIPS_HOME"}, sorted(named - SETTINGS)


def test_compose_has_the_topology_and_runs_real_commands():
    services = compose()["services"]
    assert {"nginx", "web", "redis", "postgres", "model", "migrate"} <= set(services)
    web = services["web"]["environment"]
    assert web["PHOTOTIPS_REDIS_URL"].startswith("redis://") and web["PHOTOTIPS_MESSAGE_QUEUE"].startswith("redis://")
    assert web["PHOTOTIPS_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert web["PHOTOTIPS_SCORERS"].split(",")[0] == "remote"
    parser = _parser()
    for name in ("migrate",):
        parser.parse_args(services[name]["command"][1:])  # `phototips db upgrade` is a real command
    parser.parse_args(["model-server", "--port", "8100"])
    site = services["nginx"]["volumes"][0].split(":")[0]
    assert (ROOT / site).is_file()
    # An operator's review: `up` before any key left every replica stopped for good (open mode binds loopback
    # only). The documented order adds the key first, and what stops is started again.
    for text in ((ROOT / "compose.yaml").read_text(), (ROOT / "docs" / "deploy.md").read_text()):
        assert text.index("keys add my-app") < text.index("up -d"), "the first key must come before `up`"
    assert all(services[name].get("restart") == "unless-stopped" for name in ("web", "model", "nginx", "redis", "postgres"))
    assert "restart" not in services["migrate"]
    for src in re.findall(r"^COPY (\S+) ", (ROOT / "Dockerfile").read_text(), re.M):
        assert (ROOT / src).exists(), src


def test_the_nginx_site_balances_with_affinity_and_upgrades_websockets():
    site = (ROOT / "deploy" / "nginx" / "phototips.conf").read_text()
    assert "ip_hash;" in site and "server web:8000;" in site
    assert "proxy_set_header Upgrade $http_upgrade;" in site and "proxy_read_timeout" in site
