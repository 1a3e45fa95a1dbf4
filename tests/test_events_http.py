"""Events over HTTP against a real server: validation, idempotency, exposures from tips, and SIGKILL durability."""

import itertools
import os
import signal
import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import create_engine, func, select

from conftest import ServerProcess
from test_live import dev_token
from phototips.storage.tables import events
from pg import postgres_url  # noqa: F401 - fixture
import photos


def post(server, body, **kw):
    return requests.post(server.url + "/v1/events", json=body, timeout=30, **kw)


def test_events_are_validated(server):
    r = requests.post(server.url + "/v1/events", data=b'{"event_id": ', headers={"Content-Type": "application/json"}, timeout=10)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "bad_json")
    cases = [
        ({"seller_id": "s", "type": "retake"}, "missing_field"),
        ({"event_id": "x", "type": "retake"}, "missing_field"),
        ({"event_id": "x", "seller_id": "s", "type": "liked"}, "bad_field"),
        ({"event_id": "x", "seller_id": "s", "type": "retake", "time": "yesterday"}, "bad_field"),
        ({"event_id": "x", "seller_id": "s", "type": "retake", "colour": "red"}, "unknown_field"),
        ({"event_id": "x", "seller_id": "s", "type": "improved"}, "bad_field"),  # only the server records it
        # A hero event says which listing and which photo (content/experiments.yaml, event_fields).
        ({"event_id": "x", "seller_id": "s", "type": "hero_kept", "listing_id": "L"}, "missing_field"),
        ({"event_id": "x", "seller_id": "s", "type": "hero_changed", "photo_id": "p1"}, "missing_field"),
        ([], "bad_payload"),
    ]
    for body, code in cases:
        r = post(server, body)
        assert r.status_code == 400 and r.json()["error"]["code"] == code, (body, r.text)
    r = post(server, {"events": [{"event_id": f"b{i}", "seller_id": "s", "type": "retake"} for i in range(501)]})
    assert r.status_code == 413
    # Over 1 MiB, with a length or chunked (no length: a review got one past the limit that way).
    big = b'{"event_id": "x", "seller_id": "s", "type": "retake"' + b" " * (2 * 1024 * 1024) + b"}"
    for body in (big, iter([big[:1000], big[1000:]])):
        r = requests.post(server.url + "/v1/events", data=body, headers={"Content-Type": "application/json"}, timeout=30)
        assert (r.status_code, r.json()["error"]["code"]) == (413, "body_too_large"), r.text
    r = post(server, {"event_id": "h", "seller_id": "s", "type": "hero_kept", "listing_id": "L"})
    assert r.json()["error"]["message"] == "events[0].photo_id is required for a hero_kept event"
    r = post(server, {"event_id": "h", "seller_id": "s", "type": "hero_kept", "listing_id": "L", "photo_id": "p1"})
    assert r.status_code == 200 and r.json()["stored"] == 1


def test_the_same_event_id_twice_is_stored_once(server):
    eid = f"dup-{uuid.uuid4()}"
    body = {"event_id": eid, "seller_id": "s-dup", "listing_id": "L", "type": "publish", "time": "2026-11-24T10:00:00Z"}
    first, again = post(server, body).json(), post(server, body).json()
    assert (first["stored"], first["duplicates"]) == (1, 0)
    assert (again["stored"], again["duplicates"]) == (0, 1) and again["results"][0]["status"] == "duplicate"
    batch = post(server, {"events": [body, {**body, "event_id": eid + "-b"}, {**body, "event_id": eid + "-b"}]}).json()
    assert [r["status"] for r in batch["results"]] == ["duplicate", "stored", "duplicate"]


def test_tips_record_exposures_and_a_better_next_photo_records_improved(server):
    seller = f"seller-{uuid.uuid4()}"
    auth = {"Authorization": "Bearer " + dev_token(server.url, seller)}
    dark = photos.encode(photos.darker(photos.sample("chelsea")))
    r = requests.post(server.url + "/v1/score", files={"photo": ("dark.jpg", dark)},
                      data={"listing_id": "LX"}, headers=auth, timeout=30).json()
    tip = next(t for t in r["tips"] if t["id"] == "lighting.too_dark")
    assert tip["experiment"] == "dark-photos-2026-12" and tip["variant"] in ("control", "daylight")
    anonymous = requests.post(server.url + "/v1/score", files={"photo": ("dark.jpg", dark)}, timeout=30).json()
    assert next(t for t in anonymous["tips"] if t["id"] == "lighting.too_dark")["variant"] == "control"
    bright = photos.encode(photos.sample("chelsea"))
    requests.post(server.url + "/v1/score", files={"photo": ("ok.jpg", bright)},
                  data={"listing_id": "LX"}, headers=auth, timeout=30)
    post(server, {"event_id": f"rt-{uuid.uuid4()}", "seller_id": seller, "listing_id": "LX", "type": "retake"})
    rep = requests.get(server.url + "/v1/experiments/dark-photos-2026-12/report", timeout=30).json()
    row = next(v for v in rep["variants"] if v["variant"] == tip["variant"])
    assert row["sellers"] >= 1 and row["sellers_with"]["improved"] >= 1 and row["sellers_with"]["retake"] >= 1
    assert row["mean_score_change"] > 0
    assert rep["status"] == "collecting" and "Not enough data" in rep["verdict"]
    assert requests.get(server.url + "/v1/experiments/nope/report", timeout=10).status_code == 404
    listed = requests.get(server.url + "/v1/experiments", timeout=10).json()["experiments"]
    assert {e["id"] for e in listed} == {"dark-photos-2026-12", "clutter-wording-2026-12"}


def _poster(url, prefix, acked, sent, stop):
    session = requests.Session()
    for n in itertools.count():
        if stop.is_set():
            return
        batch = [{"event_id": f"{prefix}-{n}-{k}", "seller_id": f"{prefix}", "type": "retake"} for k in range(3)]
        sent.extend(e["event_id"] for e in batch)
        try:
            r = session.post(url + "/v1/events", json={"events": batch}, timeout=5)
        except requests.RequestException:
            return  # the server died mid-request: that batch was never acknowledged
        if r.status_code == 200:
            acked.extend(x["event_id"] for x in r.json()["results"])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sigkill_loses_no_acknowledged_event_and_stores_none_twice(backend, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'kill.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    if backend == "postgresql":
        with create_engine(url).begin() as conn:
            for t in ("events", "exposures", "api_keys", "listings", "alembic_version"):
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {t}")
    env = {"PHOTOTIPS_DATABASE_URL": url, "PHOTOTIPS_LOG_LEVEL": "WARNING"}
    srv = ServerProcess(env, tmp_path)
    acked, sent, stop = [], [], threading.Event()
    threads = [threading.Thread(target=_poster, args=(srv.url, f"k{i}", acked, sent, stop)) for i in range(4)]
    [t.start() for t in threads]
    time.sleep(2.0)
    os.kill(srv.proc.pid, signal.SIGKILL)  # no shutdown, no flush
    srv.proc.wait(10)
    stop.set()
    [t.join(10) for t in threads]
    assert len(acked) > 30

    srv = ServerProcess(env, tmp_path)
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            stored = dict(conn.execute(select(events.c.event_id, func.count()).group_by(events.c.event_id)).all())
        assert all(stored.get("app:dev:" + e) == 1 for e in acked), "an acknowledged event is missing"
        assert set(stored) <= {"app:dev:" + e for e in sent}
        # Clients retry what they are unsure about: nothing is stored twice.
        again = requests.post(srv.url + "/v1/events", json={"events": [
            {"event_id": e, "seller_id": "retry", "type": "retake"} for e in acked[:500]]}, timeout=30).json()
        assert again["duplicates"] == min(500, len(acked))
    finally:
        srv.stop()
