"""The OpenAPI 3.1 description of the HTTP API, served at /openapi.json."""

from __future__ import annotations

from .. import __version__
from ..scoring.result import ASPECTS

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message", "retryable"],
                             "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                            "retryable": {"type": "boolean", "description":
                                                          "the same request may succeed later (5xx, 429)"},
                                            "retry_after": {"type": "integer", "description":
                                                            "seconds; with rate_limited and busy"}}}},
}
_FINDING = {
    "type": "object",
    "required": ["verdict", "severity"],
    "properties": {
        "verdict": {"type": "string", "enum": ["good", "improve"]},
        "severity": {"type": "number", "minimum": 0, "maximum": 1},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1,
                       "description": "how sure the scorer is that the problem is real; tips are shown only from "
                                      "the model's tip_confidence"},
        "value": {"type": ["number", "null"]},
        "problem": {"type": ["string", "null"]},
        "source": {"type": "string", "enum": ["measured", "not_judged", "mentioned", "not_mentioned"],
                   "description": "measured or not_judged (the photo check could not judge the aspect on this "
                                  "photo: no item found, clutter, or a plain backdrop for the angle); mentioned or "
                                  "not_mentioned in a model's justification. A not_judged finding says nothing about "
                                  "the aspect: good means no problem found"},
        "geometry": {
            "type": ["object", "null"],
            "description": "where on the photo, in fractions of its width and height (origin top left): "
                           "box [x0, y0, x1, y1] (framing, visibility, background); cut_edges, sides of the frame "
                           "the item runs out of (visibility); line [x1, y1, x2, y2] and degrees, the measured "
                           "level or upright (angle); grid {rows, cols, clipped, dark} or {rows, cols, detail}, "
                           "shares per cell row by row (lighting, sharpness)",
            "properties": {
                "box": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
                "cut_edges": {"type": "array", "items": {"type": "string", "enum": ["top", "bottom", "left", "right"]}},
                "line": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
                "degrees": {"type": "number"},
                "grid": {"type": "object", "properties": {
                    "rows": {"type": "integer"}, "cols": {"type": "integer"},
                    "clipped": {"type": "array", "items": {"type": "number"}},
                    "dark": {"type": "array", "items": {"type": "number"}},
                    "detail": {"type": "array", "items": {"type": "number"}}}},
            },
        },
    },
}
_TIP = {
    "type": "object",
    "required": ["id", "aspect", "text"],
    "properties": {k: {"type": "string"} for k in ("id", "aspect", "problem", "variant", "text")}
    | {"gain": {"type": "number"}},
}
_SCORE = {
    "type": "object",
    "required": ["score", "rating", "aspects", "tips", "justification", "scorer"],
    "properties": {
        "photo_id": {"type": "string"},
        "file": {"type": ["string", "null"]},
        "score": {"type": "number", "minimum": 1, "maximum": 5},
        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
        "aspects": {"type": "object", "properties": {a: {"$ref": "#/components/schemas/Finding"} for a in ASPECTS}},
        "tips": {"type": "array", "items": {"$ref": "#/components/schemas/Tip"}},
        "justification": {"type": "string"},
        "scorer": {"type": "string"},
        "model": {"type": "string"},
        "latency_ms": {"type": "number"},
        "skipped": {"type": "array", "items": {"type": "object"}},
    },
}
_HERO = {
    "type": "object",
    "required": ["hero", "ranking"],
    "properties": {
        "hero": {"type": ["string", "null"]},
        "ranking": {"type": "array", "items": {"type": "object", "properties": {
            "file": {"type": "string"}, "score": {"type": "number"}, "rating": {"type": "integer"},
            "hero_score": {"type": "number"}, "reasons": {"type": "array", "items": {"type": "string"}},
            "duplicate_of": {"type": "string"}}}},
        "photos": {"type": "array", "items": {"$ref": "#/components/schemas/Score"}},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}


_EVENT = {
    "type": "object",
    "required": ["event_id", "type"],
    "description": "seller_id is required with an app key, and omitted (or the token's own) with a seller token",
    "properties": {k: {"type": "string", "maxLength": 100} for k in
                   ("seller_id", "listing_id", "type", "tip_id", "experiment", "variant")}
    | {"event_id": {"type": "string", "minLength": 1, "maxLength": 100},
       "photo_id": {"type": "string", "maxLength": 40},
       "time": {"type": "string", "format": "date-time", "description": "from 2020 to tomorrow; default now"}},
}
_APP, _SELLER, _PRODUCT = [{"apiKey": []}], [{"sellerToken": []}], [{"apiKey": []}]


def _errors(*codes: int) -> dict:
    """The route's error answers; 500 on the routes that check a photo (`check_failed`), though any route can
    answer 500 `internal_error` on a fault of its own."""
    return {str(c): {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            for c in codes}


def _form(props: dict, required: list[str]) -> dict:
    return {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": required, "properties": props}}}}


def openapi_spec() -> dict:
    text = {"type": "string"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Photo Tips", "version": __version__,
                 "description": "Scores marketplace photos 1–5, says what to fix, and suggests the hero photo."},
        "paths": {
            "/v1/tokens": {"post": {
                "summary": "A short-lived seller token for one of the calling app's sellers (app role)",
                "security": _APP,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["seller_id"], "properties": {
                        "seller_id": {"type": "string", "maxLength": 100},
                        "ttl_s": {"type": "integer", "minimum": 60}}}}}},
                "responses": {"200": {"description": "the token", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"token": text, "seller_id": text,
                                                      "expires_at": {"type": "integer"}}}}}}}
                | _errors(400, 401, 403, 429),
            }},
            "/v1/score": {"post": {
                "summary": "Score one photo and get tips (app role or seller token; listing_id: seller token, "
                           "the listing's owner; scorer: admin role)",
                "security": _APP + _SELLER,
                "requestBody": _form({"photo": {"type": "string", "format": "binary"}, "item_type": text,
                                      "locale": {"type": "string", "enum": ["en", "fr", "de"]},
                                      "listing_id": text, "scorer": text}, ["photo"]),
                "responses": {"200": {"description": "the score", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Score"}}}}}
                | _errors(400, 401, 403, 409, 413, 415, 422, 429, 500, 502, 503, 504),
            }},
            "/v1/hero": {"post": {
                "summary": "Rank a listing's photos and suggest the hero (app role or seller token)",
                "security": _APP + _SELLER,
                "requestBody": _form({"photos": {"type": "array", "items": {"type": "string", "format": "binary"}},
                                      "item_type": text, "locale": text}, ["photos"]),
                "responses": {"200": {"description": "the ranking", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Hero"}}}}}
                | _errors(400, 401, 403, 413, 415, 422, 429, 500, 503),
            }},
            "/v1/fix": {"post": {
                "summary": "Corrected previews (straighten, crop, lift) that the photo check scores higher than the "
                           "upload and than the unedited photo made into a JPEG the same way",
                "security": _APP + _SELLER,
                "requestBody": _form({"photo": {"type": "string", "format": "binary"}, "item_type": text,
                                      "locale": text}, ["photo"]),
                "responses": {"200": {"description": "the offers, best gain first", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {
                        "score": {"type": "number"}, "rating": {"type": "integer"},
                        "fixes": {"type": "array", "items": {"type": "object", "required": [
                            "fix", "score_before", "score_after", "gain", "image"], "properties": {
                            "fix": {"type": "string", "enum": ["straighten", "crop", "lift"]},
                            "score_before": {"type": "number"}, "score_after": {"type": "number"},
                            "gain": {"type": "number"}, "rating_after": {"type": "integer"},
                            "degrees": {"type": "number"}, "box": {"type": "array", "items": {"type": "number"}},
                            "image": {"type": "string", "description": "data:image/jpeg;base64,…"}}}}}}}}}}
                | _errors(400, 401, 403, 413, 415, 422, 429, 500, 503),
            }},
            "/v1/listings/{listing_id}/hero": {"get": {
                "summary": "The hero ranking of one of the calling seller's live listings (seller token)",
                "security": _SELLER,
                "parameters": [{"name": "listing_id", "in": "path", "required": True, "schema": text},
                               {"name": "locale", "in": "query", "schema": {"type": "string", "enum": ["en", "fr", "de"]}}],
                "responses": {"200": {"description": "the ranking, photo_id for each photo", "content": {
                    "application/json": {"schema": {"type": "object"}}}}} | _errors(400, 401, 403, 404, 503),
            }},
            "/v1/events": {"post": {
                "summary": "Report seller outcomes (idempotent by event_id; acknowledged once stored; app role or "
                           "seller token)",
                "security": _APP + _SELLER,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
                    {"$ref": "#/components/schemas/Event"},
                    {"type": "array", "items": {"$ref": "#/components/schemas/Event"}, "maxItems": 500},
                    {"type": "object", "required": ["events"], "properties": {
                        "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}, "maxItems": 500}}},
                ]}}}},
                "responses": {"200": {"description": "stored", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"stored": {"type": "integer"}, "duplicates": {"type": "integer"},
                                                      "results": {"type": "array", "items": {"type": "object"}}}}}}}}
                | _errors(400, 401, 403, 404, 413, 429, 503),
            }},
            "/v1/experiments": {"get": {"summary": "The A/B experiments (product role)", "security": _PRODUCT,
                                        "responses": {"200": {"description": "experiments", "content": {
                                            "application/json": {"schema": {"type": "object"}}}}}
                                        | _errors(401, 403)}},
            "/v1/experiments/{experiment_id}/report": {"get": {
                "summary": "Per-variant results, differences from control, sample-ratio check (product role)",
                "security": _PRODUCT,
                "parameters": [{"name": "experiment_id", "in": "path", "required": True, "schema": text}],
                "responses": {"200": {"description": "report", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {
                        "verdict": {"type": "string"}, "status": {"type": "string",
                                                                  "enum": ["collecting", "ready", "srm"]},
                        "variants": {"type": "array", "items": {"type": "object", "description":
                            "sellers, exposures, rates {metric: share}, rate_ci95 {metric: [low, high]} (Wilson), "
                            "vs_control {metric: {diff, ci95, p_value}}"}},
                        "srm": {"type": "object", "description": "observed, expected_share, p_value, mismatch, "
                                                                 "explanation (in words)"},
                        "sellers_over_time": {"type": "object", "description":
                            "days (UTC, YYYY-MM-DD), new and cumulative {variant: [sellers per day]}"}}}}}}}
                | _errors(401, 403, 404),
            }},
            "/v1/experiments/wording": {"get": {
                "summary": "Every tip as sellers would read it, per experiment variant and locale, re-read from the "
                           "content files now, with every problem the server would refuse them for (product role)",
                "security": _PRODUCT,
                "responses": {"200": {"description": "preview", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {
                        "valid": {"type": "boolean"},
                        "problems": {"type": "array", "items": {"type": "object", "properties": {
                            "file": {"type": "string", "enum": ["tips", "experiments"]},
                            "message": {"type": "string"}}}},
                        "locales": {"type": "array", "items": {"type": "string"}},
                        "files": {"type": "object", "description": "{tips, experiments}: the files' names"},
                        "tips": {"type": "array", "items": {"type": "object", "properties": {
                            "id": {"type": "string"}, "aspect": {"type": "string"}, "problem": {"type": "string"},
                            "aspect_name": {"type": "object"},
                            "shown": {"type": "array", "items": {"type": "object", "properties": {
                                "experiment": {"type": ["string", "null"]}, "active": {"type": "boolean"},
                                "variant": {"type": "string"}, "control": {"type": "boolean"},
                                "weight": {"type": "number"}, "text": {"type": "object"}}}}}}}}}}}}}
                | _errors(401, 403),
            }},
            "/v1/interface-text": {"get": {
                "summary": "The seller screen's own words in one locale (content/ui.yaml); no credentials",
                "security": [],
                "parameters": [{"name": "locale", "in": "query", "schema": {"type": "string", "enum": ["en", "fr", "de"]}}],
                "responses": {"200": {"description": "{locale, text: {key: words}}", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"locale": {"type": "string"},
                                                                "text": {"type": "object"}}}}}},
                              "400": {"description": "unknown_locale", "content": {"application/json": {
                                  "schema": {"$ref": "#/components/schemas/Error"}}}}}}},
            "/healthz": {"get": {"summary": "Liveness and the scorer chain", "responses": {"200": {
                "description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/metrics": {"get": {
                "summary": "This process's counts for Prometheus: requests, live events, errors, scorers, the "
                           "worker pool (metrics or admin role)",
                "security": _APP,
                "responses": {"200": {"description": "Prometheus text format", "content": {"text/plain": {
                    "schema": {"type": "string"}}}}} | _errors(400, 401, 403),
            }},
        },
        "components": {
            "schemas": {"Error": _ERROR, "Finding": _FINDING, "Tip": _TIP, "Score": _SCORE, "Hero": _HERO,
                        "Event": _EVENT},
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "an API key, ptk_…, with its roles"},
                "sellerToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                "description": "a seller token from POST /v1/tokens"},
            },
        },
    }
