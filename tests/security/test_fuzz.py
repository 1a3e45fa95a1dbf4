"""Fuzz: 2,400 seeded random mutations of valid requests, over HTTP and Socket.IO, against a real server.

Nothing may answer 5xx, hang (every call has a timeout) or take the server down;
every Socket.IO emit must be answered.
"""

from __future__ import annotations

import json
import random
import uuid

import requests

from keyed import jpeg, start_keyed
from test_live import Seller
import photos

SEED = 20261128
HTTP_CASES = 2000
SOCKET_CASES = 400

WEIRD = [None, True, 0, -1, 2**63, 1e308, float("-inf"), "", " ", "x" * 5000, "\x00", "a\x00b", "\u202e", "\ud83d",
         "😀" * 30, [], [1, [2, [3]]], {}, {"a": {"b": {"c": 1}}}, "../../etc/passwd", "' OR 1=1 --",
         "<script>alert(1)</script>", "2020-13-45T99:99:99Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-23:00"]


def mutate_json(rng: random.Random, obj: dict) -> bytes | object:
    kind = rng.randrange(10)
    obj = dict(obj)
    if kind == 0 and obj:
        obj.pop(rng.choice(list(obj)))
    elif kind == 1:
        obj[rng.choice(["colour", "seller", "", "\x00", "events", "__proto__"])] = rng.choice(WEIRD)
    elif kind == 2:
        return rng.choice(WEIRD)
    elif kind == 3:
        raw = json.dumps(obj)
        return raw[: rng.randrange(len(raw))].encode()  # truncated
    elif kind == 4:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
    elif kind == 5:
        depth = rng.choice([20, 1000, 50_000])
        return (b"[" * depth + b"]" * depth) if rng.random() < 0.5 else (b'{"a":' * depth + b"1" + b"}" * depth)
    elif kind == 6:
        key = rng.choice(list(obj)) if obj else "k"
        return ("{" + f'"{key}": 1, "{key}": 2' + "}").encode()
    elif kind == 7:
        return json.dumps(obj).replace('"', '"\\ud800', 1).encode()
    else:
        for key in rng.sample(list(obj), k=min(len(obj), rng.randrange(1, 3))):
            obj[key] = rng.choice(WEIRD)
    return obj


_GOOD = [jpeg(16), jpeg(64), jpeg(300)]
_BAD = [b"", b"GIF89a" + bytes(40), b"not an image at all", photos.png_bomb(20000), photos.truncated_jpeg()]


def photo_bytes(rng: random.Random) -> bytes:
    good = rng.choice(_GOOD)
    kind = rng.randrange(4)
    if kind == 0:
        return good
    if kind == 1:
        return good[: rng.randrange(1, len(good))]
    if kind == 2:
        return rng.choice(_BAD)
    return bytes(rng.randrange(256) for _ in range(500))


def http_case(rng: random.Random, k, tokens: list[dict]) -> requests.Response:
    auth = rng.choice([k.auth("shop"), k.auth("product"), rng.choice(tokens), {},
                       {"Authorization": rng.choice(["Bearer", "Basic abc", "Bearer ptk_00_x", "Bearer a.b.c",
                                                     "Bearer " + "x" * 3000])}])
    target = rng.randrange(5)
    if target == 0:
        body = mutate_json(rng, {"event_id": uuid.uuid4().hex, "seller_id": "s", "listing_id": "L", "type": "retake",
                                 "time": "2026-11-01T10:00:00Z", "experiment": "dark-photos-2026-12",
                                 "variant": "control", "tip_id": "lighting.too_dark", "photo_id": "ph_1"})
        if rng.random() < 0.2:
            body = {"events": [body] * rng.choice([1, 3, 501])} if not isinstance(body, bytes) else body
        return _post_json(k.url + "/v1/events", body, auth, rng)
    if target == 1:
        body = mutate_json(rng, {"seller_id": "s-" + uuid.uuid4().hex[:6], "ttl_s": 600})
        return _post_json(k.url + "/v1/tokens", body, auth, rng)
    if target == 2:
        fields = {"listing_id": rng.choice(["L", "x" * 200, "\x00", "", "😀", "../a"]),
                  "locale": rng.choice(["en", "fr", "xx", "", "\ud800".encode("utf-8", "surrogatepass").decode("latin-1")]),
                  "item_type": rng.choice(["bag", "", "y" * 300]), "scorer": rng.choice(["photo-check", "bedrock", "nope", ""]),
                  rng.choice(["seller_id", "foto", "extra"]): "v"}
        fields = {f: v for f, v in fields.items() if rng.random() < 0.5}
        files = [("photo", ("p.jpg", photo_bytes(rng)))] * rng.choice([0, 1, 1, 1, 2])
        return requests.post(k.url + "/v1/score", files=files or None, data=fields, headers=auth, timeout=60)
    if target == 3:
        files = [("photos", (f"p{i}.jpg", photo_bytes(rng))) for i in range(rng.choice([0, 1, 3, 31]))]
        data = {rng.choice(["locale", "item_type", "listing_id"]): rng.choice(["fr", "", "z" * 150])}
        return requests.post(k.url + "/v1/hero", files=files or None, data=data, headers=auth, timeout=60)
    experiment = rng.choice(["dark-photos-2026-12", "nope", "%00", "x" * 500, "..%2F..%2Fetc"])
    return requests.get(k.url + f"/v1/experiments/{experiment}/report", headers=auth, timeout=60)


def _post_json(url, body, auth, rng):
    data = body if isinstance(body, bytes) else json.dumps(body, allow_nan=True).encode()
    ctype = rng.choice(["application/json"] * 4 + ["text/plain", "application/x-www-form-urlencoded", ""])
    return requests.post(url, data=data, headers={**auth, "Content-Type": ctype}, timeout=60)


def socket_case(rng: random.Random, seller: Seller):
    def pick(valid, *weird):
        return valid if rng.random() < 0.8 else rng.choice(weird)

    payload = {"listing_id": pick("fz", "x" * 200, "\x00", 5, None), "image": pick(_GOOD[1], photo_bytes(rng)),
               "ref": pick("r", 2**60, "r" * 100, [1], {"a": 1}),
               "locale": pick("en", "xx", 3), "item_type": pick("bag", ["x"], "y" * 300)}
    kind = rng.randrange(6)
    if kind == 0:
        payload = rng.choice(WEIRD + ["string", b"bytes", 42])
    elif kind == 1:
        payload[rng.choice(["seller_id", "scorer", "x"])] = "v"
    elif kind == 2:
        payload.pop(rng.choice(list(payload)))
    elif kind == 3:
        payload["image"] = rng.choice(["text", 5, None, [1, 2], {"b": 1}])
    event = "photo" if rng.random() < 0.85 else rng.choice(["connect", "disconnect", "tips", "hero", "x" * 100])
    return seller.sio.call(event, payload, timeout=60)


def test_fuzzed_requests_never_get_a_5xx_nor_stop_the_server(tmp_path):
    rng = random.Random(SEED)
    k = start_keyed(tmp_path, f"sqlite:///{tmp_path / 'fuzz.db'}", PHOTOTIPS_RATE_UPLOADS="1000000/minute",
                    PHOTOTIPS_RATE_EVENTS="1000000/minute", PHOTOTIPS_RATE_TOKENS="1000000/minute",
                    PHOTOTIPS_MAX_UPLOAD_MB="3")
    try:
        tokens = [k.seller(f"fuzz-{i}") for i in range(3)]
        statuses: dict[int, int] = {}
        for n in range(HTTP_CASES):
            r = http_case(rng, k, tokens)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            assert r.status_code < 500, (n, r.status_code, r.text[:300])
            assert r.headers.get("Content-Type", "").startswith("application/json"), (n, r.headers)
        assert statuses.get(200, 0) > 20 and sum(v for s, v in statuses.items() if 400 <= s < 500) > 1000
        seller = Seller(k.url, token=k.token("fuzz-live"))
        try:
            answers = [socket_case(rng, seller) for _ in range(SOCKET_CASES)]
        finally:
            seller.sio.disconnect()
        assert all(isinstance(a, dict) for a in answers)
        assert all(a.get("error", {}).get("code") != "internal_error" for a in answers)
        assert sum("photo_id" in a for a in answers) > 5  # valid ones still go through
        assert k.srv.alive()
    finally:
        k.srv.stop()
