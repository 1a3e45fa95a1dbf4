"""Live tips over Socket.IO while a seller lists an item.

The client emits `photo` {listing_id, image: bytes, item_type?, locale?, ref?}. The
server answers at once with the photo check's `tips` for that photo, acknowledges
with the `photo_id`, then emits `score` when the configured scorer chain answers
and `hero` with the listing's updated ranking. Every event carries the client's
`ref` so a page can match it to the photo it sent. Events go to the listing's
room, so each device a seller lists from sees them.
"""

from __future__ import annotations

import logging

from flask import request
from flask_socketio import SocketIO, join_room

from ..errors import PhotoTipsError
from ..scoring.chain import LAST_RESORT
from ..service import PhotoService, new_photo_id, text_field

log = logging.getLogger(__name__)
PHOTO_FIELDS = {"listing_id", "image", "item_type", "locale", "ref", "seller_id"}


def register_live(socketio: SocketIO, svc: PhotoService) -> None:
    @socketio.on("photo")
    def on_photo(payload):
        try:
            return _accept(payload)
        except PhotoTipsError as exc:
            return {"error": exc.to_dict()}
        except Exception:
            log.exception("photo event failed")
            return {"error": {"code": "internal_error", "message": "the server failed on this photo"}}

    def _accept(payload) -> dict:
        if not isinstance(payload, dict):
            raise PhotoTipsError("bad_payload", "emit 'photo' with an object {listing_id, image, ...}", 400)
        unknown = set(payload) - PHOTO_FIELDS
        if unknown:
            raise PhotoTipsError("unknown_field", f"unknown field(s) {', '.join(sorted(unknown))}", 400)
        listing_id = text_field("listing_id", payload.get("listing_id"))
        if not listing_id:
            raise PhotoTipsError("missing_field", "listing_id is required", 400)
        image = payload.get("image")
        if not isinstance(image, (bytes, bytearray)):
            raise PhotoTipsError("missing_field", "image must be the photo's bytes (binary)", 400)
        ref = payload.get("ref")
        ref = ref if isinstance(ref, (str, int)) else None
        req = svc.make_request(payload.get("item_type"), payload.get("locale"))
        seller_id = text_field("seller_id", payload.get("seller_id"))
        svc.listings.reserve(listing_id)
        photo = svc.decode(bytes(image))
        photo_id = new_photo_id()
        instant = svc.instant(photo, req)
        svc.listings.put(listing_id, svc.candidate(photo_id, photo, instant), req.locale)

        join_room(listing_id)
        ids = {"listing_id": listing_id, "photo_id": photo_id, "ref": ref}
        tips = svc.present(instant, req.locale, seller_id=seller_id, **ids)
        socketio.emit("tips", tips, to=listing_id)
        socketio.start_background_task(_final, photo, tips, req, ids, seller_id, request.sid)
        return {"photo_id": photo_id, "ref": ref}

    def _final(photo, tips, req, ids, seller_id, sid) -> None:
        listing_id = ids["listing_id"]
        if svc.chain.names[0] == LAST_RESORT:
            # The photo check is the chain's answer: the instant tips already are the final score.
            socketio.emit("score", tips, to=listing_id)
        else:
            try:
                result = svc.full(photo, req)
            except PhotoTipsError as exc:
                socketio.emit("score", {**ids, "error": exc.to_dict()}, to=sid)
                return
            try:
                svc.listings.put(listing_id, svc.candidate(ids["photo_id"], photo, result), req.locale)
            except PhotoTipsError as exc:  # the listing was evicted meanwhile; the score still counts
                log.warning("listing %s: %s", listing_id, exc)
            socketio.emit("score", svc.present(result, req.locale, seller_id=seller_id, **ids), to=listing_id)
        ranking = svc.ranking(svc.listings.photos(listing_id), req.locale)
        for entry in ranking["ranking"]:
            entry["photo_id"] = entry.pop("key")
        socketio.emit("hero", {"listing_id": listing_id, **ranking}, to=listing_id)
