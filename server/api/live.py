"""Live tips over Socket.IO while a seller lists an item.

The phone connects with its seller token in the `auth` payload ({"token": …}).
It emits `photo` {listing_id, image: bytes, item_type?, locale?, ref?}. The
server answers at once with the photo check's `tips` for that photo,
acknowledges with the `photo_id`, then emits `score` when the configured scorer
chain answers and `hero` with the listing's updated ranking. Every event carries
the client's `ref` so a page can match it to the photo it sent. Events go to the
listing's room, which only the listing's owner joins. Back after a lost
connection, the phone emits `resume` {listing_id, photos: [{photo_id, ref}]}: it
rejoins the room, gets `score` again for each photo the listing holds and the
`hero`, and the ack lists the `missing` photos to send again. Every emit is
answered: anything malformed, unknown or refused gets an `{"error": {code,
message}}` ack.
"""

from __future__ import annotations

import logging
import threading

from flask import request
from flask_socketio import SocketIO, join_room
from socketio.exceptions import ConnectionRefusedError

from ..auth.gate import through_proxy
from ..errors import PhotoTipsError
from ..metrics import ERRORS, LIVE_CONNECTIONS, LIVE_EVENTS
from ..service import PhotoService, new_photo_id
from ..validate import duplicate_key
from ..validate import listing_id as valid_listing_id
from ..validate import ref as check_ref
from ..validate import text
from .limits import RateLimits

EMIT = "emit 'photo', 'resume' or 'fix'"  # the events a phone may send

log = logging.getLogger(__name__)
PHOTO_FIELDS = {"listing_id", "image", "item_type", "locale", "ref"}
FIX_FIELDS = {"image", "item_type", "locale", "ref"}
RESUME_FIELDS = {"listing_id", "photos", "locale"}


def _count(event: str, code: str | None = None) -> None:
    LIVE_EVENTS.labels(event, code or "ok").inc()
    if code:
        ERRORS.labels("live", code).inc()


def _error(event: str, exc: PhotoTipsError) -> dict:
    _count(event, exc.code)
    return {"error": exc.to_dict()}


def register_live(socketio: SocketIO, svc: PhotoService, limits: RateLimits) -> None:
    # The seller token each connection came with, read again at every event and by the sweep: a key revoked since
    # (KEY_CACHE_S) or a token expired ends the connection, as it ends the token's HTTP calls.
    callers: dict[str, str] = {}
    lock = threading.Lock()

    reserved = PhotoTipsError("unknown_event", f"'connect' and 'disconnect' are reserved; {EMIT}")

    @socketio.on("connect")
    def on_connect(auth=None):
        with lock:
            if request.sid in callers:  # not a connection: the client emitted an event named "connect"
                return _error("unknown", reserved)
        token = auth.get("token") if isinstance(auth, dict) else None
        token = token if isinstance(token, str) else None
        try:
            svc.gate.check_request_origin(request.host, request.headers.get("Origin"),
                                          through_proxy(request.headers))
            who = svc.gate.principal(token)
            if who is None or who.kind != "seller":
                # An API key, or the open mode's caller, is not a seller: a live connection is one seller's.
                raise PhotoTipsError("unauthorized", "connect with {auth: {token: <seller token>}}", 401)
        except PhotoTipsError as exc:
            _count("connect", exc.code)
            # The client's connect_error gets {message, data: {code, message, retryable}}.
            raise ConnectionRefusedError(exc.message, exc.to_dict()) from None
        except Exception:
            # Refused with a reason: an exception of any other kind left the client waiting for its time-out.
            log.exception("live connection not checked")
            exc = PhotoTipsError("internal_error", "the server failed to check this connection; retry", 500)
            _count("connect", exc.code)
            raise ConnectionRefusedError(exc.message, exc.to_dict()) from None
        with lock:
            callers[request.sid] = token
        _count("connect")
        LIVE_CONNECTIONS.inc()

    @socketio.on("disconnect")
    def on_disconnect(*_args):
        # During a real disconnection the socket no longer counts as connected; an event the client
        # named "disconnect" arrives on a live socket.
        if socketio.server.manager.is_connected(request.sid, "/"):
            return _error("unknown", reserved)
        with lock:
            gone = callers.pop(request.sid, None)
        if gone is not None:
            LIVE_CONNECTIONS.dec()

    def answered(handle, payload, event: str) -> dict:
        """Every emit gets an ack: the handler's answer, or its error."""
        try:
            answer = handle(payload)
        except PhotoTipsError as exc:
            return _error(event, exc)
        except Exception:
            log.exception("%s event failed", event)
            return _error(event, PhotoTipsError("internal_error", "the server failed on this event", 500))
        _count(event)
        return answer

    @socketio.on("photo")
    def on_photo(payload=None):
        return answered(_accept, payload, "photo")

    @socketio.on("fix")
    def on_fix(payload=None):
        """Corrected previews of a photo: the ack carries them, each with its JPEG bytes and its gain."""
        return answered(_fix, payload, "fix")

    @socketio.on("resume")
    def on_resume(payload=None):
        """Back after a lost connection: rejoin the listing; its photos' scores and hero come again."""
        return answered(_resume, payload, "resume")

    @socketio.on("*")
    def on_anything_else(event, *_args):
        # Counted under one name: a client's made-up event names must not grow the metrics without end.
        return _error("unknown", PhotoTipsError("unknown_event", f"unknown event {str(event)[:40]!r}; {EMIT}"))

    def _calling_seller(payload, event: str, fields: set[str]):
        """The calling seller (token checked), once their event's object has only known fields; else an error."""
        with lock:
            token = callers.get(request.sid)
        if token is None:
            raise PhotoTipsError("unauthorized", "live photos need a seller token in the connection's auth", 401)
        try:
            who = svc.gate.principal(token)
        except PhotoTipsError as exc:
            # The connection lasts no longer than its token and its key: answer, then close it (after the ack);
            # not when the key store is down (retryable), which says nothing against the token.
            if not exc.retryable:
                socketio.start_background_task(_close_later, request.sid)
            raise
        if duplicate_key(payload):
            raise PhotoTipsError("duplicate_field", f"the field {duplicate_key(payload)!r} appears twice", 400)
        if not isinstance(payload, dict):
            raise PhotoTipsError("bad_payload", f"emit '{event}' with an object {{{', '.join(sorted(fields))}}}", 400)
        unknown = set(payload) - fields
        if unknown:
            raise PhotoTipsError("unknown_field", f"unknown field(s) {', '.join(sorted(map(str, unknown)))[:200]}", 400)
        return who

    def _listing_id_of(payload: dict) -> str:
        listing_id = valid_listing_id(payload.get("listing_id"))
        if not listing_id:
            raise PhotoTipsError("missing_field", "listing_id is required", 400)
        return listing_id

    def _accept(payload) -> dict:
        who = _calling_seller(payload, "photo", PHOTO_FIELDS)
        listing_id = _listing_id_of(payload)
        image, ref, req = _photo_of(payload)
        checked = svc.check(image, req, arrived=True, count=limits.uploads(who), listing=(who, listing_id))
        if not socketio.server.manager.is_connected(request.sid, "/"):
            # The phone left while its photo was checked: it never learns the photo's id, so filed, the photo
            # would sit in its listing unseen (resume cannot name it) beside the copy the phone sends again.
            raise PhotoTipsError("disconnected", "the connection closed while the photo was checked", 503)
        photo_id = new_photo_id()
        # A listing is claimed by a photo, not by a refused or failed upload; the photo is in the
        # listing (in Redis, when configured) before it is acknowledged.
        listing_key = svc.file_photo(who, listing_id, photo_id, checked.result, checked, req.locale)

        join_room(listing_key)
        ids = {"listing_id": listing_id, "photo_id": photo_id, "ref": ref}
        tips = svc.present(checked.result, req.locale, seller_key=who.seller_key, listing_key=listing_key, **ids)
        socketio.emit("tips", tips, to=listing_key)
        socketio.start_background_task(_final, checked, tips, req, ids, who, listing_key)
        return {"photo_id": photo_id, "ref": ref}

    def _resume(payload) -> dict:
        who = _calling_seller(payload, "resume", RESUME_FIELDS)
        listing_id = _listing_id_of(payload)
        photos = payload.get("photos")
        if not isinstance(photos, list) or len(photos) > svc.settings.max_photos_per_listing:
            raise PhotoTipsError("bad_field", f"photos must be a list of at most {svc.settings.max_photos_per_listing} "
                                              "{photo_id, ref} objects", 400)
        asked = {}
        for i, p in enumerate(photos):
            if not isinstance(p, dict) or set(p) - {"photo_id", "ref"}:
                raise PhotoTipsError("bad_field", f"photos[{i}] must be an object {{photo_id, ref}}", 400)
            photo_id = text(f"photos[{i}].photo_id", p.get("photo_id"), 40)
            if not photo_id:
                raise PhotoTipsError("missing_field", f"photos[{i}].photo_id is required", 400)
            asked[photo_id] = check_ref(p.get("ref"))
        locale = svc.make_request(None, payload.get("locale")).locale
        limits.check("events", who)  # cheap, but a loop of them would still read the listing over and over
        listing_key, found, missing, ranking = svc.resume_listing(who, listing_id, asked, locale)
        join_room(listing_key)
        for scored in found:
            socketio.emit("score", scored, to=request.sid)
        if found:
            socketio.emit("hero", {"listing_id": listing_id, **ranking}, to=request.sid)
        return {"listing_id": listing_id, "found": [s["photo_id"] for s in found], "missing": missing}

    def _fix(payload) -> dict:
        who = _calling_seller(payload, "fix", FIX_FIELDS)
        image, ref, req = _photo_of(payload)
        return {"ref": ref, **svc.fix(image, req, arrived=True, count=limits.uploads(who))}

    def _photo_of(payload: dict):
        """The photo's bytes, the client's ref and the scoring request (the upload is counted once it has its
        place: service.check)."""
        image = payload.get("image")
        if not isinstance(image, (bytes, bytearray)):
            raise PhotoTipsError("missing_field", "image must be the photo's bytes (binary)", 400)
        ref = check_ref(payload.get("ref"))
        req = svc.make_request(payload.get("item_type"), payload.get("locale"))
        return bytes(image), ref, req

    def _sweep() -> None:
        """End the connections whose token expired or whose key was revoked, idle ones too: a connection in a
        listing's room receives its events without emitting anything. Every KEY_CACHE_S, within 5 s to a minute,
        so a token's end is not missed by more than that; each issuing key is looked up once a sweep."""
        while True:
            socketio.sleep(min(60.0, max(5.0, svc.settings.key_cache_s)))
            try:
                _sweep_once()
            except Exception:  # never the end of sweeping: the key store may be back at the next one
                log.exception("live connections not checked this time")

    def _sweep_once() -> None:
        with lock:
            held = list(callers.items())
        active: dict[str, bool] = {}
        for i, (sid, token) in enumerate(held):
            try:
                svc.gate.principal(token, active)
            except PhotoTipsError as exc:
                if exc.retryable:  # the key store is down: nothing says the token is bad, keep the seller
                    continue
                try:
                    socketio.server.disconnect(sid)
                except Exception:
                    log.exception("could not close live connection %s", sid)
            if i % 100 == 99:
                socketio.sleep(0)  # other greenlets between the checks of many connections

    socketio.start_background_task(_sweep)

    def _close_later(sid: str) -> None:
        socketio.sleep(0.5)
        socketio.server.disconnect(sid)

    def _final(checked, tips, req, ids, who, listing_key) -> None:
        if not svc.keep_photo:
            # The photo check is the chain's answer: the instant tips already are the final score.
            socketio.emit("score", tips, to=listing_key)
        else:
            try:
                result = svc.full(checked, req)
            except PhotoTipsError as exc:
                ERRORS.labels("live", exc.code).inc()
                socketio.emit("score", {**ids, "error": exc.to_dict()}, to=listing_key)
                return
            svc.refile_photo(listing_key, ids["photo_id"], result, checked, req.locale)
            socketio.emit("score", svc.present(result, req.locale, seller_key=who.seller_key,
                                               listing_key=listing_key, **ids), to=listing_key)
        try:
            ranking = svc.listing_ranking(listing_key, req.locale)
        except PhotoTipsError as exc:
            ERRORS.labels("live", exc.code).inc()
            socketio.emit("hero", {"listing_id": ids["listing_id"], "error": exc.to_dict()}, to=listing_key)
            return
        socketio.emit("hero", {"listing_id": ids["listing_id"], **ranking}, to=listing_key)
