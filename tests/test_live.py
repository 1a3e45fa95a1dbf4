"""Live tips over Socket.IO against a real server process, driven by the python-socketio client."""

import os
import threading
import time
import uuid

import requests
import socketio

import photos


def dev_token(url: str, seller: str) -> str:
    """A seller token from a development server (no API key configured)."""
    return requests.get(url + "/dev/token", params={"seller": seller}, timeout=10).json()["token"]


def worker_tasks(url: str) -> int:
    """How many photos the server's worker pool has taken up so far (/healthz)."""
    return requests.get(url + "/healthz", timeout=5).json()["workers"]["tasks"]


class Seller:
    """A python-socketio client, connected with a seller token, that records every event it receives."""

    def __init__(self, url: str, token: str | None = None, seller: str | None = None):
        self.seller = seller or f"seller-{uuid.uuid4().hex[:8]}"
        self.token = token or dev_token(url, self.seller)
        self.events: list[tuple[str, dict]] = []
        self.cond = threading.Condition()
        self.sio = socketio.Client()
        for name in ("tips", "score", "hero"):
            self.sio.on(name, self._recorder(name))
        self.sio.connect(url, transports=["websocket"], wait_timeout=10, auth={"token": self.token})

    def _recorder(self, name):
        def record(msg):
            with self.cond:
                self.events.append((name, msg))
                self.cond.notify_all()
        return record

    def wait_for(self, predicate, timeout=30):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [m for m in self.events if predicate(*m)]
                if found:
                    return found
                left = deadline - time.monotonic()
                assert left > 0, f"timed out; got {[(n, m.get('photo_id')) for n, m in self.events]}"
                self.cond.wait(left)

    def send(self, **payload):
        return self.sio.call("photo", payload, timeout=30)


def test_photo_gets_ack_tips_score_and_hero(server, photo_files):
    seller = Seller(server.url)
    try:
        ack = seller.send(listing_id="L1", image=photo_files["coffee"].read_bytes(), locale="fr", ref="a")
        assert ack["photo_id"].startswith("ph_") and ack["ref"] == "a"
        pid = ack["photo_id"]
        tips = seller.wait_for(lambda n, m: n == "tips" and m["photo_id"] == pid)[0][1]
        assert tips["listing_id"] == "L1" and tips["ref"] == "a"
        assert tips["tips"] and tips["tips"][0]["text"]
        assert "À améliorer" in tips["justification"]
        score = seller.wait_for(lambda n, m: n == "score" and m["photo_id"] == pid)[0][1]
        assert 1 <= score["score"] <= 5 and score["scorer"] == "photo-check"
        hero = seller.wait_for(lambda n, m: n == "hero")[0][1]
        assert hero["hero"] == pid

        ack2 = seller.send(listing_id="L1", image=photo_files["astronaut"].read_bytes(), ref="b")
        hero = seller.wait_for(lambda n, m: n == "hero" and len(m["ranking"]) == 2)[0][1]
        assert {e["photo_id"] for e in hero["ranking"]} == {pid, ack2["photo_id"]}
        assert hero["hero"] == hero["ranking"][0]["photo_id"]
    finally:
        seller.sio.disconnect()


def test_bad_photos_are_refused_and_the_listing_keeps_its_photos(server, photo_files):
    seller = Seller(server.url)
    try:
        good = seller.send(listing_id="L2", image=photo_files["chelsea"].read_bytes())
        cases = {
            "empty_file": dict(listing_id="L2", image=b""),
            "unsupported_media": dict(listing_id="L2", image=b"definitely not an image"),
            "corrupt_image": dict(listing_id="L2", image=photos.truncated_jpeg()),
            "image_too_large": dict(listing_id="L2", image=photos.png_bomb()),
            "missing_field": dict(image=photo_files["chelsea"].read_bytes()),
            "unknown_locale": dict(listing_id="L2", image=photo_files["chelsea"].read_bytes(), locale="xx"),
            "unknown_field": dict(listing_id="L2", image=b"x", colour="red"),
            # The test server's limit is 3 MiB.
            "file_too_large": dict(listing_id="L2", image=b"\xff\xd8" + bytes(3 * 1024 * 1024 + 10_000)),
        }
        for code, payload in cases.items():
            ack = seller.send(**payload)
            assert ack["error"]["code"] == code, (code, ack)
        # The string "photo" is not a payload object.
        assert seller.sio.call("photo", "hello", timeout=10)["error"]["code"] == "bad_payload"
        later = seller.send(listing_id="L2", image=photo_files["rocket"].read_bytes())
        hero = seller.wait_for(lambda n, m: n == "hero" and len(m["ranking"]) == 2)[0][1]
        assert {e["photo_id"] for e in hero["ranking"]} == {good["photo_id"], later["photo_id"]}
    finally:
        seller.sio.disconnect()
    assert server.alive()


def test_live_events_connections_and_their_errors_are_in_the_metrics(server, photo_files):
    from test_http import scraped

    before = scraped(server)
    seller = Seller(server.url)
    try:
        assert scraped(server)[("phototips_live_connections", ())] == before[("phototips_live_connections", ())] + 1
        ack = seller.send(listing_id="LM", image=photo_files["coffee"].read_bytes())
        seller.wait_for(lambda n, m: n == "hero" and m["hero"] == ack["photo_id"])
        assert seller.send(listing_id="LM", image=b"")["error"]["code"] == "empty_file"
        assert seller.sio.call("colour", {}, timeout=10)["error"]["code"] == "unknown_event"
    finally:
        seller.sio.disconnect()
    deadline = time.monotonic() + 10  # the server sees the close a moment after the client
    while scraped(server)[("phototips_live_connections", ())] != before[("phototips_live_connections", ())]:
        assert time.monotonic() < deadline, "the closed connection is still counted"
        time.sleep(0.1)
    after = scraped(server)

    def moved(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert moved("phototips_live_events_total", event="connect", outcome="ok") == 1
    assert moved("phototips_live_events_total", event="photo", outcome="ok") == 1
    assert moved("phototips_live_events_total", event="photo", outcome="empty_file") == 1
    # A made-up event name is counted under one name, never its own.
    assert moved("phototips_live_events_total", event="unknown", outcome="unknown_event") == 1
    assert not any("colour" in str(key) for key in after)
    assert moved("phototips_errors_total", door="live", code="empty_file") == 1
    assert moved("phototips_scored_total", scorer="photo-check") == 1


def test_listings_are_separate_and_concurrent_sellers_are_served(server, photo_files):
    sellers = [Seller(server.url) for _ in range(4)]
    try:
        acks = [None] * len(sellers)

        def go(i):
            acks[i] = sellers[i].send(listing_id=f"par-{i}", image=photo_files[photos.SAMPLES[i]].read_bytes())

        threads = [threading.Thread(target=go, args=(i,)) for i in range(len(sellers))]
        [t.start() for t in threads]
        [t.join(60) for t in threads]
        for i, seller in enumerate(sellers):
            hero = seller.wait_for(lambda n, m, i=i: n == "hero" and m["listing_id"] == f"par-{i}")[0][1]
            assert hero["hero"] == acks[i]["photo_id"]
            # Nobody receives another listing's events.
            assert all(m["listing_id"] == f"par-{i}" for _, m in seller.events)
    finally:
        for s in sellers:
            s.sio.disconnect()


def test_a_known_seller_gets_experiment_wording_live(server, photo_files):
    seller = Seller(server.url, seller=f"live-seller-{uuid.uuid4().hex[:6]}")
    try:
        dark = photos.encode(photos.darker(photos.sample("chelsea")))
        ack = seller.send(listing_id="AB1", image=dark)
        tips = seller.wait_for(lambda n, m: n == "tips" and m["photo_id"] == ack["photo_id"])[0][1]
        tip = next(t for t in tips["tips"] if t["id"] == "lighting.too_dark")
        assert tip["experiment"] == "dark-photos-2026-12" and tip["variant"] in ("control", "daylight")
        again = seller.send(listing_id="AB2", image=dark)
        tips2 = seller.wait_for(lambda n, m: n == "tips" and m["photo_id"] == again["photo_id"])[0][1]
        assert next(t for t in tips2["tips"] if t["id"] == "lighting.too_dark")["variant"] == tip["variant"]  # sticky
    finally:
        seller.sio.disconnect()


DARK = photos.encode(photos.darker(photos.sample("coffee")))
DARKER = photos.encode(photos.darker(photos.sample("astronaut")))


def experiment_rows(listing: str) -> dict[str, int]:
    """Exposures and server outcomes stored for a live listing, read from the server's own database."""
    from sqlalchemy import create_engine, func, select

    from phototips.storage.tables import events, exposures

    engine = create_engine(os.environ["PHOTOTIPS_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return {name: conn.execute(select(func.count()).select_from(t)
                                       .where(t.c.listing_id.like(f"%/{listing}"))).scalar_one()
                    for name, t in (("exposures", exposures), ("events", events))}
    finally:
        engine.dispose()


def test_a_seller_back_after_a_lost_connection_resumes_the_listing(server, photo_files):
    """The scores sent while the phone was away are sent again on `resume`; photos the listing does not hold
    are named missing; the new connection gets the listing's events again; nobody else can resume it."""
    first = Seller(server.url)
    ack = first.send(listing_id="R1", image=DARK, ref="one", locale="de")
    first.wait_for(lambda n, m: n == "hero")
    first.sio.disconnect()

    back = Seller(server.url, seller=first.seller)
    try:
        answer = back.sio.call("resume", {"listing_id": "R1", "locale": "de", "photos": [
            {"photo_id": ack["photo_id"], "ref": "one"}, {"photo_id": "ph_never_stored", "ref": "two"}]}, timeout=30)
        assert answer == {"listing_id": "R1", "found": [ack["photo_id"]], "missing": ["ph_never_stored"]}
        score = back.wait_for(lambda n, m: n == "score" and m["photo_id"] == ack["photo_id"])[0][1]
        assert score["ref"] == "one" and score["listing_id"] == "R1" and 1 <= score["score"] <= 5
        assert back.wait_for(lambda n, m: n == "hero")[0][1]["hero"] == ack["photo_id"]
        # Back in the listing's room: a photo sent from the seller's other device reaches this connection too.
        other_device = Seller(server.url, seller=first.seller)
        try:
            two = other_device.send(listing_id="R1", image=DARKER, ref="t")
        finally:
            other_device.sio.disconnect()
        back.wait_for(lambda n, m: n == "tips" and m["photo_id"] == two["photo_id"])

        # Showing photos again records nothing: no exposure, and no outcome about a "next photo" that is only
        # an earlier one shown again (both photos here are dark, so both carry the dark-photo experiment's tip).
        before = experiment_rows("R1")
        assert before["exposures"] >= 2 and before["events"] >= 1
        again = back.sio.call("resume", {"listing_id": "R1", "photos": [
            {"photo_id": ack["photo_id"], "ref": "one"}, {"photo_id": two["photo_id"], "ref": "t"}]}, timeout=30)
        assert again["found"] == [ack["photo_id"], two["photo_id"]]
        assert experiment_rows("R1") == before
        bad = back.sio.call("resume", {"listing_id": "R1", "photos": "all"}, timeout=30)
        assert bad["error"]["code"] == "bad_field"
    finally:
        back.sio.disconnect()
    intruder = Seller(server.url)
    try:
        refused = intruder.sio.call("resume", {"listing_id": "R1", "photos": [{"photo_id": ack["photo_id"]}]},
                                    timeout=30)
        assert refused["error"]["code"] == "forbidden"
        assert not [m for n, m in intruder.events if n == "score"]
    finally:
        intruder.sio.disconnect()


def test_a_photo_within_the_limit_passes_long_polling_too(server):
    """Long-polling carries binary as base64, a third larger than the photo: the transport's buffer leaves room
    for it (the server's MAX_UPLOAD_MB is 3, conftest)."""
    big = photos.noise_jpeg(4, 1500)
    assert 2.3 * 1024 * 1024 < len(big) < 3 * 1024 * 1024  # over the limit once in base64
    sio = socketio.Client()
    sio.connect(server.url, transports=["polling"], wait_timeout=10,
                auth={"token": dev_token(server.url, f"poll-{uuid.uuid4().hex[:6]}")})
    try:
        ack = sio.call("photo", {"listing_id": "L-poll", "image": big}, timeout=60)
        assert ack["photo_id"].startswith("ph_"), ack
    finally:
        sio.disconnect()


def test_a_photo_whose_phone_left_during_the_check_is_not_filed(server):
    """The phone never learns the id of a photo it left behind, so the photo must not sit in its listing, unseen,
    beside the copy it sends again: a 24-megapixel PNG (decoded whole) keeps the check busy while it goes."""
    import io

    import numpy as np
    from PIL import Image

    ramp = np.linspace(0, 255, 5000, dtype=np.uint8)
    rgb = np.dstack([np.tile(ramp, (4800, 1))] * 3)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG", compress_level=1)
    name, listing = f"leaver-{uuid.uuid4().hex[:6]}", f"L-{uuid.uuid4().hex[:6]}"

    before = worker_tasks(server.url)
    phone = Seller(server.url, seller=name)
    phone.sio.emit("photo", {"listing_id": listing, "image": buf.getvalue()}, callback=lambda *_: None)
    time.sleep(0.05)
    phone.sio.disconnect()
    deadline = time.monotonic() + 30
    while worker_tasks(server.url) < before + 1:  # the photo was checked, not refused on the way; the check ends after the phone left
        assert time.monotonic() < deadline, "the photo was never checked"
        time.sleep(0.2)
    time.sleep(0.5)  # what follows the check (filing, or not) is done
    r = requests.get(server.url + f"/v1/listings/{listing}/hero",
                     headers={"Authorization": "Bearer " + dev_token(server.url, name)}, timeout=10)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found"), r.text  # never claimed: nothing filed


def test_a_live_connection_needs_a_seller_token_even_on_a_development_server(server):
    sio, refused = socketio.Client(), []
    sio.on("connect_error", lambda data: refused.append(data))
    try:
        sio.connect(server.url, transports=["websocket"], wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        pass
    assert not sio.connected and refused and refused[0]["data"]["code"] == "unauthorized"
