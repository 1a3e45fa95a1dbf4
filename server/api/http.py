"""HTTP routes: /v1/score, /v1/hero, /healthz, /openapi.json, and JSON errors for everything."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..errors import PhotoTipsError
from ..service import PhotoService, new_photo_id
from .openapi import openapi_spec

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__)

SCORE_FIELDS = {"photo", "item_type", "locale", "seller_id", "listing_id", "scorer"}
HERO_FIELDS = {"photos", "item_type", "locale"}


def service() -> PhotoService:
    return current_app.extensions["phototips"]


def error_response(err: PhotoTipsError):
    return jsonify({"error": err.to_dict()}), err.status


def _form(allowed: set[str]) -> dict:
    # A url-encoded form cannot carry a file, but is answered with what is missing.
    if request.mimetype not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise PhotoTipsError(
            "bad_content_type", "send the photo as multipart/form-data (field 'photo')", 415
        )
    sent = set(request.form) | set(request.files)
    unknown = sent - allowed
    if unknown:
        raise PhotoTipsError(
            "unknown_field", f"unknown field(s) {', '.join(sorted(unknown))}; expected {', '.join(sorted(allowed))}", 400
        )
    return {k: request.form.get(k) for k in allowed if k in request.form}


@bp.post("/v1/score")
def score():
    fields = _form(SCORE_FIELDS)
    upload = request.files.get("photo")
    if upload is None:
        raise PhotoTipsError("missing_field", "multipart field 'photo' with the image file is required", 400)
    photo_id = new_photo_id()
    out = service().score_bytes(
        upload.read(),
        item_type=fields.get("item_type"),
        locale=fields.get("locale"),
        scorer=fields.get("scorer"),
        seller_id=fields.get("seller_id"),
        listing_id=fields.get("listing_id"),
        photo_id=photo_id,
        file=upload.filename or None,
    )
    log.info("scored %s: %.2f by %s", photo_id, out["score"], out["scorer"])
    return jsonify(out)


@bp.post("/v1/hero")
def hero():
    fields = _form(HERO_FIELDS)
    uploads = request.files.getlist("photos")
    if not uploads:
        raise PhotoTipsError("missing_field", "repeat the multipart field 'photos', one per image", 400)
    svc = service()
    req = svc.make_request(fields.get("item_type"), fields.get("locale"))
    candidates, errors, scores = [], [], {}
    for i, upload in enumerate(uploads):
        key = upload.filename or f"photo-{i + 1}"
        if key in scores or any(e["file"] == key for e in errors):
            key = f"{key}#{i + 1}"
        try:
            photo = svc.decode(upload.read())
            result = svc.full(photo, req)
        except PhotoTipsError as exc:
            errors.append({"file": key, "error": exc.to_dict()})
            continue
        candidates.append(svc.candidate(key, photo, result))
        scores[key] = svc.present(result, req.locale, file=key)
    if not candidates:
        return jsonify({"error": {"code": "no_valid_photo", "message": "none of the photos could be read"},
                        "errors": errors}), 422
    out = svc.ranking(candidates, req.locale)
    for entry in out["ranking"]:
        entry["file"] = entry.pop("key")
    out["photos"] = list(scores.values())
    out["errors"] = errors
    return jsonify(out)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok", "scorers": service().chain.names})


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_spec())


def register_errors(app) -> None:
    @app.errorhandler(PhotoTipsError)
    def _ours(err: PhotoTipsError):
        return error_response(err)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_err):
        limit = app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024)
        return error_response(PhotoTipsError("file_too_large", f"the upload is over the {limit:g} MiB limit", 413))

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        code = (err.name or "error").lower().replace(" ", "_")
        return jsonify({"error": {"code": code, "message": err.description}}), err.code

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error")
        return error_response(PhotoTipsError("internal_error", "the server failed on this request", 500))
