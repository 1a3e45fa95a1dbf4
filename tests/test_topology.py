"""The deployed topology for real: nginx (Debian's) in front of two server processes sharing Redis and PostgreSQL.

A seller lists through nginx; the process holding their connection is killed
with SIGKILL mid-listing (the machine is gone, nothing is shut down cleanly);
the seller reconnects through nginx, lands on the other process, and the next
hero ranking holds every photo that was acknowledged. Events posted through
nginx all the while are each stored exactly once: acknowledged, or refused and
sent again with the same event_id until they are.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import psutil
import requests
from sqlalchemy import create_engine, text

from conftest import ServerProcess, free_port, service_missing
from pg import postgres_url  # noqa: F401 - fixture
from security.keyed import SECRET, add_key
from test_live import Seller

NGINX_CONF = """
worker_processes 1;
daemon off;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{site}
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if found is None:
        service_missing("no nginx: scripts/test.sh installs Debian's package")
    return found


class Nginx:
    """nginx with the project's own site configuration (deploy/nginx/phototips.conf), pointed at `backends`."""

    def __init__(self, tmp: Path, backends: list[str]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        site = (Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "phototips.conf").read_text()
        site = site.replace("listen 80;", f"listen 127.0.0.1:{self.port};")
        servers = "".join(f"    server {b} max_fails=1 fail_timeout=30s;\n" for b in backends)
        site = site.replace("    server web:8000;\n", servers)
        assert all(b in site for b in backends), "the site file's upstream block changed"
        # Which process answered (for the test only: a public site would not show its addresses).
        site = site.replace("location / {", "location / {\n        add_header X-Upstream $upstream_addr always;")
        conf = tmp / "nginx.conf"
        # As root, nginx's workers would run as nobody, who cannot reach pytest's private temporary directory.
        user = "user root root;" if os.geteuid() == 0 else ""
        conf.write_text(NGINX_CONF.format(tmp=tmp, user=user, site=site))
        self.proc = subprocess.Popen([nginx_binary(), "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "nginx-error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while True:
            assert self.proc.poll() is None, (tmp / "nginx-error.log").read_text()
            try:
                requests.get(self.url + "/healthz", timeout=2)
                return
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def test_nginx_answers_its_own_refusals_as_json_like_the_api(tmp_path):
    # An operator's review: nginx's 413 and 502 came back as its HTML pages, where docs/api.md says JSON.
    proxy = Nginx(tmp_path, [f"127.0.0.1:{free_port()}"])  # nothing listens there
    try:
        down = requests.get(proxy.url + "/healthz", timeout=10)
        assert down.status_code == 502 and down.headers["Content-Type"].startswith("application/json")
        assert down.json()["error"] == {"code": "upstream_unavailable", "retryable": True,
                                        "message": "no server process could be reached; retry"}
        big = requests.post(proxy.url + "/v1/score", files={"photo": ("p.jpg", bytes(22 * 1024 * 1024))}, timeout=30)
        assert big.status_code == 413 and big.json()["error"]["code"] == "body_too_large"
        assert big.json()["error"]["retryable"] is False
    finally:
        proxy.stop()


def kill_machine(srv: ServerProcess) -> None:
    """SIGKILL the server and every process it started, at once: no handler runs, no connection is closed."""
    root = psutil.Process(srv.proc.pid)
    for p in [*root.children(recursive=True), root]:
        try:
            p.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    srv.proc.wait(10)


def post_events_until_stopped(url: str, headers: dict, listing: str, stop: threading.Event, acked: list, refused: list):
    """Post events one at a time; a refused or failed post is sent again, with the same event_id, until it is taken."""
    session = requests.Session()
    while not stop.is_set():
        event_id = f"topo-{uuid.uuid4()}"
        body = {"event_id": event_id, "listing_id": listing, "type": "retake"}
        while True:
            try:
                r = session.post(url + "/v1/events", json=body, headers=headers, timeout=10)
                if r.status_code == 200:
                    acked.append((event_id, r.json()["results"][0]["status"]))
                    break
                refused.append((event_id, r.status_code))
            except requests.RequestException as exc:
                refused.append((event_id, type(exc).__name__))
            time.sleep(0.05)
        time.sleep(0.02)


def test_a_killed_process_behind_nginx_loses_no_acknowledged_photo_and_no_event(
        postgres_url, redis_url, photo_files, tmp_path):  # noqa: F811 - fixtures
    env = {**os.environ, "PHOTOTIPS_DATABASE_URL": postgres_url, "PHOTOTIPS_REDIS_URL": redis_url,
           "PHOTOTIPS_MESSAGE_QUEUE": redis_url, "PHOTOTIPS_TOKEN_SECRET": SECRET, "PHOTOTIPS_KEY_CACHE_S": "0",
           "PHOTOTIPS_CPU_WORKERS": "1", "PHOTOTIPS_LOG_LEVEL": "WARNING"}
    key = add_key(env, f"shop-{uuid.uuid4().hex[:6]}", "app")
    server_env = {k: v for k, v in env.items() if k.startswith("PHOTOTIPS_")}
    servers = [ServerProcess(server_env, tmp_path) for _ in range(2)]
    proxy = Nginx(tmp_path, [f"127.0.0.1:{s.port}" for s in servers])
    stop, acked, refused, sellers = threading.Event(), [], [], []
    try:
        # Identity through the proxy: the app's key mints the seller's token.
        r = requests.post(proxy.url + "/v1/tokens", json={"seller_id": "anna"},
                          headers={"Authorization": "Bearer " + key}, timeout=10)
        assert r.status_code == 200, r.text
        token = r.json()["token"]
        seller_auth = {"Authorization": "Bearer " + token}
        # nginx names the process that answered; with ip_hash it is the seller's process.
        home = requests.get(proxy.url + "/healthz", timeout=5).headers["X-Upstream"]
        doomed = next(s for s in servers if home.endswith(f":{s.port}"))

        listing = f"topo-{uuid.uuid4().hex[:8]}"
        phone = Seller(proxy.url, token=token)
        sellers.append(phone)
        dropped = threading.Event()
        phone.sio.on("disconnect", lambda *reason: dropped.set())
        acknowledged = [phone.send(listing_id=listing, image=photo_files[name].read_bytes())["photo_id"]
                        for name in ("chelsea", "coffee")]
        phone.wait_for(lambda n, m: n == "hero" and len(m["ranking"]) == 2)

        poster = threading.Thread(target=post_events_until_stopped,
                                  args=(proxy.url, seller_auth, listing, stop, acked, refused), daemon=True)
        poster.start()
        time.sleep(0.5)
        kill_machine(doomed)

        # The phone notices and reconnects on its own (python-socketio's client, like the app's, retries
        # with back-off), through the same address; nginx sends it to the live process.
        assert dropped.wait(10), "the phone did not notice its process die"
        deadline = time.monotonic() + 30
        while not phone.sio.connected and time.monotonic() < deadline:
            time.sleep(0.1)
        assert phone.sio.connected
        third = phone.send(listing_id=listing, image=photo_files["astronaut"].read_bytes())["photo_id"]
        hero = phone.wait_for(lambda n, m: n == "hero" and len(m["ranking"]) == 3)[0][1]
        assert {e["photo_id"] for e in hero["ranking"]} == {*acknowledged, third}
        assert requests.get(proxy.url + "/healthz", timeout=5).headers["X-Upstream"] != home
        r = requests.get(f"{proxy.url}/v1/listings/{listing}/hero", headers=seller_auth, timeout=10)
        assert r.status_code == 200 and {e["photo_id"] for e in r.json()["ranking"]} == {*acknowledged, third}

        time.sleep(0.5)
        stop.set()
        poster.join(30)
        assert not poster.is_alive() and len(acked) >= 10
        ids = [eid for eid, _ in acked]
        with create_engine(postgres_url).connect() as conn:
            rows = conn.execute(text("select event_id from events where listing_id like :l and source = 'app'"),
                                {"l": f"%/{listing}"}).scalars().all()
        stored = {r.rsplit(":", 1)[1] for r in rows}
        assert len(rows) == len(stored)  # no event twice
        assert set(ids) <= stored and stored <= set(ids)  # every acknowledged event, and nothing else
        # An event whose first answer was lost with the process and that had reached the database anyway
        # comes back as a duplicate on its retry, not as a second row.
        assert all(status in ("stored", "duplicate") for _, status in acked)
    finally:
        stop.set()
        for s in sellers:
            s.sio.disconnect()
        proxy.stop()
        for s in servers:
            s.stop()
