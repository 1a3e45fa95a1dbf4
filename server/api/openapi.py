"""The OpenAPI 3.1 description of the HTTP API, served at /openapi.json."""

from __future__ import annotations

from .. import __version__
from ..scoring.result import ASPECTS

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"],
                             "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}},
}
_FINDING = {
    "type": "object",
    "required": ["verdict", "severity"],
    "properties": {
        "verdict": {"type": "string", "enum": ["good", "improve"]},
        "severity": {"type": "number", "minimum": 0, "maximum": 1},
        "value": {"type": ["number", "null"]},
        "problem": {"type": ["string", "null"]},
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


def _errors(*codes: int) -> dict:
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
            "/v1/score": {"post": {
                "summary": "Score one photo and get tips",
                "requestBody": _form({"photo": {"type": "string", "format": "binary"}, "item_type": text,
                                      "locale": {"type": "string", "enum": ["en", "fr", "de"]},
                                      "seller_id": text, "scorer": text}, ["photo"]),
                "responses": {"200": {"description": "the score", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Score"}}}}} | _errors(400, 413, 415, 422, 503),
            }},
            "/v1/hero": {"post": {
                "summary": "Rank a listing's photos and suggest the hero",
                "requestBody": _form({"photos": {"type": "array", "items": {"type": "string", "format": "binary"}},
                                      "item_type": text, "locale": text}, ["photos"]),
                "responses": {"200": {"description": "the ranking", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Hero"}}}}} | _errors(400, 413, 415, 422),
            }},
            "/healthz": {"get": {"summary": "Liveness and the scorer chain", "responses": {"200": {
                "description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        },
        "components": {"schemas": {"Error": _ERROR, "Finding": _FINDING, "Tip": _TIP, "Score": _SCORE, "Hero": _HERO}},
    }
