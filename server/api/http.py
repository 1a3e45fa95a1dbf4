"""HTTP routes: /v1/tokens, /v1/score, /v1/hero, /v1/interface-text, /healthz, /openapi.json, and JSON errors."""

from __future__ import annotations

import base64
import logging
import secrets

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..auth.gate import credential_from_headers
from ..auth.principal import Principal, require
from ..errors import PhotoTipsError
from ..metrics import ERRORS
from ..service import PhotoService, new_photo_id
from ..validate import parse_json, text
from .limits import RateLimits
from .openapi import openapi_spec
from .uploads import BODY_OVERHEAD, read_body_whole

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__)

SCORE_FIELDS = {"photo", "item_type", "locale", "listing_id", "scorer"}
HERO_FIELDS = {"photos", "item_type", "locale"}
FIX_FIELDS = {"photo", "item_type", "locale"}
TOKEN_FIELDS = {"seller_id", "ttl_s"}
MAX_JSON_BYTES = 1024 * 1024


def service() -> PhotoService:
    return current_app.extensions["phototips"]


def limits() -> RateLimits:
    return current_app.extensions["phototips_limits"]


def principal() -> Principal | None:
    """The caller, from its API key or seller token (None: no credential, and the service is not open)."""
    if "principal" not in g:
        g.principal = service().gate.principal(credential_from_headers(request.headers))
    return g.principal


def error_response(err: PhotoTipsError):
    ERRORS.labels("http", err.code).inc()
    response = jsonify({"error": err.to_dict()})
    if err.retry_after is not None:
        response.headers["Retry-After"] = str(err.retry_after)
    return response, err.status


def json_body(max_bytes: int = MAX_JSON_BYTES):
    if request.mimetype != "application/json":
        raise PhotoTipsError("bad_json", "the body must be JSON (Content-Type: application/json)", 400)
    if request.content_length is not None and request.content_length > max_bytes:
        raise PhotoTipsError("body_too_large", f"the JSON body is over {max_bytes // 1024} KiB", 413)
    # A chunked body declares no length: read one byte past the limit, never the whole stream.
    data = request.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PhotoTipsError("body_too_large", f"the JSON body is over {max_bytes // 1024} KiB", 413)
    return parse_json(data)


def _form(allowed: set[str], repeatable: frozenset[str] = frozenset()) -> dict:
    """The upload form's fields. Under overload `busy` comes first: after one read of the body, before parsing."""
    read_body_whole(request, request.max_content_length)
    service().refuse_when_full()
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
    for key in sent - repeatable:
        if len(request.form.getlist(key)) + len(request.files.getlist(key)) > 1:
            raise PhotoTipsError("duplicate_field", f"the field {key!r} appears more than once", 400)
    return {k: request.form.get(k) for k in allowed if k in request.form}


# The query parameters each route reads; every other route of the API takes none (`strict_query`).
QUERY_PARAMS = {"interface_text": {"locale"}, "listing_hero": {"locale"}, "dev_token": {"seller"}}


def strict_query() -> None:
    """Before every API route: the query string held as strictly as a form, a parameter the route does not read
    refused, not ignored (`POST /v1/score?listing_id=L1` would otherwise score the photo and file it nowhere)."""
    allowed = QUERY_PARAMS.get((request.endpoint or "").rsplit(".", 1)[-1], set())
    unknown = set(request.args) - allowed
    if unknown:
        expected = f"; expected {', '.join(sorted(allowed))}" if allowed else "; this route takes none"
        raise PhotoTipsError("unknown_field", f"unknown query parameter(s) {', '.join(sorted(unknown))[:200]}{expected}",
                             400)
    for key in request.args:
        if len(request.args.getlist(key)) > 1:
            raise PhotoTipsError("duplicate_field", f"the query parameter {key!r} appears more than once", 400)


bp.before_request(strict_query)


@bp.post("/v1/tokens")
def tokens():
    who = require(principal(), "app")
    body = json_body()
    if not isinstance(body, dict):
        raise PhotoTipsError("bad_payload", "send {\"seller_id\": …, \"ttl_s\"?: seconds}", 400)
    if set(body) - TOKEN_FIELDS:
        raise PhotoTipsError("unknown_field", f"unknown field(s) {', '.join(sorted(set(body) - TOKEN_FIELDS))[:200]}; "
                                              f"expected {', '.join(sorted(TOKEN_FIELDS))}", 400)
    limits().check("tokens", who)
    return jsonify(service().issue_token(who, body.get("seller_id"), body.get("ttl_s")))


def _one_photo(allowed: set[str]):
    """The caller, the form's fields and its one `photo`, after the cheap refusals."""
    who = require(principal(), "app", seller=True)
    fields = _form(allowed)
    upload = request.files.get("photo")
    if upload is None:
        raise PhotoTipsError("missing_field", "multipart field 'photo' with the image file is required", 400)
    return who, fields, upload


@bp.post("/v1/score")
def score():
    who, fields, upload = _one_photo(SCORE_FIELDS)
    photo_id = new_photo_id()
    out = service().score_bytes(
        who,
        upload.read(),
        item_type=fields.get("item_type"),
        locale=fields.get("locale"),
        scorer=fields.get("scorer"),
        listing_id=fields.get("listing_id"),
        photo_id=photo_id,
        file=text("file name", upload.filename, 200),
        count=limits().uploads(who),
    )
    log.info("scored %s: %.2f by %s", photo_id, out["score"], out["scorer"])
    return jsonify(out)


@bp.post("/v1/fix")
def fix():
    """Corrected previews (straightened, cropped, lifted) that the photo check scores higher, as JPEG data URLs."""
    who, fields, upload = _one_photo(FIX_FIELDS)
    svc = service()
    out = svc.fix(upload.read(), svc.make_request(fields.get("item_type"), fields.get("locale")),
                  count=limits().uploads(who))
    for offer in out["fixes"]:
        offer["image"] = "data:image/jpeg;base64," + base64.b64encode(offer["image"]).decode()
    return jsonify(out)


@bp.post("/v1/hero")
def hero():
    who = require(principal(), "app", seller=True)
    # A listing's photos come in one body: its own limit, not one photo's (app.py).
    request.max_content_length = service().settings.max_hero_bytes + BODY_OVERHEAD
    fields = _form(HERO_FIELDS, frozenset({"photos"}))
    uploads = request.files.getlist("photos")
    if not uploads:
        raise PhotoTipsError("missing_field", "repeat the multipart field 'photos', one per image", 400)
    svc = service()
    if len(uploads) > svc.settings.max_photos_per_listing:
        raise PhotoTipsError("too_many_photos", f"at most {svc.settings.max_photos_per_listing} photos per request", 413)
    req = svc.make_request(fields.get("item_type"), fields.get("locale"))
    named = []
    for i, upload in enumerate(uploads):
        key = text("file name", upload.filename, 200) or f"photo-{i + 1}"
        if any(key == k for k, _ in named):
            key = f"{key}#{i + 1}"
        named.append((key, upload.read()))
    out = svc.rank_uploads(named, req, count=limits().uploads(who))
    if not out["ranking"]:
        return jsonify({"error": PhotoTipsError("no_valid_photo", "none of the photos could be read", 422).to_dict(),
                        "errors": out["errors"]}), 422
    return jsonify(out)


@bp.get("/v1/listings/<listing_id>/hero")
def listing_hero(listing_id: str):
    """The hero ranking of one of the calling seller's live listings (its photos sent live or to /v1/score)."""
    who = require(principal(), "app", seller=True)
    svc = service()
    listing_key = svc.owned_listing(who, text("listing_id", listing_id))
    locale = svc.catalog.check_locale(text("locale", request.args.get("locale")) or svc.settings.default_locale)
    return jsonify({"listing_id": listing_id, **svc.listing_ranking(listing_key, locale)})


@bp.get("/healthz")
def healthz():
    svc = service()
    out = {"status": "ok", "scorers": svc.chain.names, "lost_writes": svc.events.lost_writes}
    if svc.pool is not None:
        out["workers"] = svc.pool.stats()
    return jsonify(out)


def dev_token():
    """Open mode only (no API key configured, loopback): a seller token for the demo page."""
    strict_query()  # a route of the app's own, not of the blueprint
    if not service().gate.open:  # a key was added since the start
        raise PhotoTipsError("not_found", "no development tokens: this server has API keys", 404)
    seller = text("seller", request.args.get("seller")) or "demo-" + secrets.token_hex(4)
    token, expires = service().gate.tokens.issue("dev", seller)
    return jsonify({"token": token, "seller_id": seller, "expires_at": expires})


@bp.get("/v1/interface-text")
def interface_text():
    """The seller screen's own words in one locale (content/ui.yaml): public, like the page itself."""
    svc = service()
    locale = svc.catalog.check_locale(text("locale", request.args.get("locale")) or svc.settings.default_locale)
    # The aspects' names come from the tip catalog, in the order tips and reports list them.
    aspects = {a: names[locale] for a, names in svc.catalog.aspect_names.items()}
    return jsonify({"locale": locale, "text": svc.interface_text[locale], "aspects": aspects})


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_spec())


def register_errors(app) -> None:
    @app.errorhandler(PhotoTipsError)
    def _ours(err: PhotoTipsError):
        return error_response(err)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_err):
        limit = request.max_content_length
        length = request.content_length
        if length is not None and limit is not None and length <= limit:
            # The body is within its limit: werkzeug refused a form field's size or the number of parts.
            return error_response(PhotoTipsError(
                "form_too_large", f"a form field other than a file is over {request.max_form_memory_size // 1000} KB, "
                                  f"or the form has over {request.max_form_parts} parts", 413))
        return error_response(PhotoTipsError(
            "file_too_large", f"the upload is over the {limit / (1024 * 1024):g} MiB limit", 413))

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        code = (err.name or "error").lower().replace(" ", "_")
        response, status = error_response(PhotoTipsError(code, err.description, err.code))
        # What the exception says the answer needs (Allow on a 405): HTTP requires it.
        for name, value in err.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error")
        return error_response(PhotoTipsError("internal_error", "the server failed on this request", 500))
