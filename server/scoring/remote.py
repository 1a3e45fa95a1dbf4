"""The `remote` scorer: the shared model server (`phototips model-server`), called over HTTP.

Web processes do not load a 7B model each: they send the photo, re-encoded as
a JPEG no larger than the model needs, to one model server whose batcher
groups everyone's photos. Failures (the server down, restarting, out of time,
its own scorer unavailable) are `scorer_unavailable`, so the chain falls back
to Bedrock or the photo check. Only connection failures are retried: a model
that is slow is not made slower by asking it twice.
"""

from __future__ import annotations

import json

import urllib3
from urllib3.util import Retry, Timeout

from ..errors import PhotoTipsError
from ..imaging.encode import jpeg_for_model
from .registry import register_scorer
from .result import ScoreRequest, ScoreResult

SCORE_PATH = "/v1/model/score"


class RemoteScorer:
    name = "remote"

    def __init__(self, settings):
        self.settings = settings
        self.url = settings.model_server_url.rstrip("/") + SCORE_PATH
        self.http = urllib3.PoolManager(maxsize=64)
        self.headers = {"Authorization": f"Bearer {settings.model_server_token}"} if settings.model_server_token else {}

    def score(self, photo, request: ScoreRequest) -> ScoreResult:
        budget = request.seconds_left(self.settings.deadline_s)
        if budget <= 0.05:
            raise PhotoTipsError("deadline", "no time left for the model server", 504)
        fields = {"photo": ("photo.jpg", jpeg_for_model(photo.pil, max_side=1568), "image/jpeg"),
                  "item_type": request.item_type, "want_justification": "1" if request.want_justification else "0",
                  "seconds": f"{budget:.3f}"}
        if request.prompt:
            fields["prompt"] = request.prompt
        try:
            resp = self.http.request("POST", self.url, fields=fields, headers=self.headers,
                                     timeout=Timeout(connect=min(2.0, budget), read=budget),
                                     retries=Retry(total=2, connect=2, read=0, status=0, other=0,
                                                   backoff_factor=0.1, allowed_methods=None))
        except urllib3.exceptions.HTTPError as exc:
            raise PhotoTipsError("scorer_unavailable", f"model server {self.url}: {exc}", 502) from None
        try:
            data = json.loads(resp.data)
        except ValueError:
            data = None
        if resp.status != 200 or not isinstance(data, dict):
            error = (data or {}).get("error") if isinstance(data, dict) else None
            why = f"{error.get('code')}: {error.get('message')}" if isinstance(error, dict) else repr(resp.data[:200])
            raise PhotoTipsError("scorer_unavailable", f"model server answered {resp.status}: {why}", 502)
        try:
            result = ScoreResult.from_dict(data)
        except (KeyError, TypeError, ValueError):
            raise PhotoTipsError("bad_model_output", f"unexpected answer from the model server: {resp.data[:200]!r}",
                                 502) from None
        result.details = {**result.details, "model_server": self.settings.model_server_url}
        return result


@register_scorer("remote")
def create(settings) -> RemoteScorer:
    return RemoteScorer(settings)
