"""The shared model server: one process holds the GPU model, and every web process scores through it.

`phototips model-server` loads one scorer (qwen-local by default) once, and
answers `POST /v1/model/score` from the `remote` scorer of any number of web
processes, on this machine or others. Concurrent requests from all of them
meet in the scorer's micro-batcher, so the GPU sees batches, not one photo at a
time. Calls carry the shared secret PHOTOTIPS_MODEL_SERVER_TOKEN; the server
refuses to listen beyond loopback without one.

The wire format is this project's own (the photo as a JPEG, the request's
fields as form fields, the answer as ScoreResult.to_dict()), so qwen-local's
expected-score mode and its probabilities travel whole; the `openai` scorer
against vLLM is the other way to share a GPU (docs/deploy.md).
"""

from __future__ import annotations

import hmac
import logging
import time

from flask import Flask, jsonify, request

from .errors import PhotoTipsError
from .imaging.decode import decode_photo
from .scoring.registry import create_scorer
from .scoring.result import ScoreRequest

log = logging.getLogger(__name__)
SCORE_PATH = "/v1/model/score"
MAX_PHOTO_BYTES = 8 * 1024 * 1024  # the remote scorer sends a re-encoded JPEG of at most 1568 px


def create_model_app(settings) -> Flask:
    if settings.model_server_scorer == "remote":
        raise PhotoTipsError("bad_config", "PHOTOTIPS_MODEL_SERVER_SCORER cannot be remote (it would call itself)", 400)
    if not settings.model_server_token and settings.host not in ("127.0.0.1", "::1", "localhost"):
        raise PhotoTipsError("bad_config", "the model server listens beyond loopback only with "
                                           "PHOTOTIPS_MODEL_SERVER_TOKEN set", 400)
    scorer = create_scorer(settings.model_server_scorer, settings)
    app = Flask("phototips-model-server")
    app.config["MAX_CONTENT_LENGTH"] = MAX_PHOTO_BYTES + 64 * 1024
    secret = settings.model_server_token.encode()

    @app.errorhandler(PhotoTipsError)
    def _error(exc: PhotoTipsError):
        return jsonify({"error": exc.to_dict()}), exc.status

    @app.errorhandler(413)
    def _too_large(_exc):
        return jsonify({"error": PhotoTipsError("too_large", "the photo is over the model server's limit", 413)
                        .to_dict()}), 413

    @app.before_request
    def _identity():
        if request.path == "/healthz":
            return None
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").encode()
        if secret and not hmac.compare_digest(given, secret):
            raise PhotoTipsError("unauthorized", "the model server needs PHOTOTIPS_MODEL_SERVER_TOKEN", 401)
        return None

    @app.post(SCORE_PATH)
    def score():
        upload = request.files.get("photo")
        if upload is None:
            raise PhotoTipsError("missing_field", "send the photo as the multipart field 'photo'", 400)
        try:
            seconds = min(float(request.form.get("seconds", settings.deadline_s)), settings.deadline_s)
        except ValueError:
            raise PhotoTipsError("bad_field", "seconds must be a number", 400) from None
        if seconds <= 0:
            raise PhotoTipsError("deadline", "no time left for this photo", 504)
        req = ScoreRequest(item_type=request.form.get("item_type", "item")[:80],
                           want_justification=request.form.get("want_justification", "1") == "1",
                           prompt=request.form.get("prompt") or None, deadline=time.monotonic() + seconds)
        photo = decode_photo(upload.read(), max_pixels=settings.max_unreduced_pixels,
                             analysis_side=settings.analysis_side, max_unreduced_pixels=settings.max_unreduced_pixels)
        return jsonify(scorer.score(photo, req).to_dict())

    @app.get("/healthz")
    def health():
        load_error = getattr(scorer, "load_error", None)
        batchers = {name: {"batches": b.stats.batches, "items": b.stats.items, "waiting": b.waiting,
                           "sizes": {str(k): v for k, v in sorted(b.stats.sizes.items())}}
                    for name, b in (("expected", getattr(scorer, "expected_batcher", None)),
                                    ("generate", getattr(scorer, "generate_batcher", None))) if b is not None}
        body = {"status": "unavailable" if load_error else "ok", "scorer": scorer.name,
                "model": getattr(scorer, "model", ""), "batchers": batchers}
        if load_error:
            body["error"] = load_error.to_dict()
        return jsonify(body), 503 if load_error else 200

    return app
