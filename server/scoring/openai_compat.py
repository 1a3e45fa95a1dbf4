"""The `openai` scorer: any OpenAI-compatible chat endpoint with image input.

A vLLM server running Qwen2.5-VL (scale-out past one GPU), or GPT-4o mini from
the study's table. The photo goes inline as a JPEG data URL. Retries on 429 and
5xx (honouring Retry-After) are urllib3's; the request's deadline bounds them.
The API key, when the endpoint needs one, comes from OPENAI_API_KEY.
"""

from __future__ import annotations

import base64
import json
import os
import time

import urllib3
from urllib3.util import Retry, Timeout

from ..errors import PhotoTipsError
from ..imaging.encode import jpeg_for_model
from .answer import result_from_answer
from .parse import parse_answer
from .prompts import get_prompt
from .registry import register_scorer
from .result import ScoreRequest, ScoreResult


class OpenAICompatScorer:
    name = "openai"

    def __init__(self, settings):
        self.settings = settings
        self.model = settings.openai_model
        self.url = settings.openai_base_url.rstrip("/") + "/chat/completions"
        self.http = urllib3.PoolManager(maxsize=32)

    def score(self, photo, request: ScoreRequest) -> ScoreResult:
        prompt = get_prompt(request.prompt or self.settings.openai_prompt)
        system, user = prompt.render(request.item_type)
        image = base64.b64encode(jpeg_for_model(photo.pil, max_side=1280)).decode()
        body = {
            "model": self.model,
            "temperature": 0,
            "max_tokens": 300,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": [
                    {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{image}"}},
                    {"type": "text", "text": user},
                ]},
            ],
        }
        headers = {"Content-Type": "application/json"}
        if os.environ.get("OPENAI_API_KEY"):
            headers["Authorization"] = f"Bearer {os.environ['OPENAI_API_KEY']}"
        budget = request.seconds_left(self.settings.openai_timeout_s)
        if budget <= 0:
            raise PhotoTipsError("deadline", "no time left for the OpenAI-compatible endpoint", 504)
        start = time.perf_counter()
        try:
            resp = self.http.request(
                "POST", self.url, body=json.dumps(body).encode(), headers=headers,
                timeout=Timeout(connect=min(5.0, budget), read=min(self.settings.openai_timeout_s, budget)),
                retries=Retry(total=3, status_forcelist=(429, 500, 502, 503), allowed_methods=None,
                              backoff_factor=0.25, backoff_max=min(4.0, budget / 2), respect_retry_after_header=True,
                              raise_on_status=False),
            )
        except urllib3.exceptions.HTTPError as exc:
            raise PhotoTipsError("scorer_unavailable", f"OpenAI-compatible endpoint {self.url}: {exc}", 502) from None
        if resp.status != 200:
            raise PhotoTipsError("scorer_unavailable",
                                 f"OpenAI-compatible endpoint answered {resp.status}: {resp.data[:200]!r}", 502)
        try:
            data = json.loads(resp.data)
            text = data["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            raise PhotoTipsError("bad_model_output", f"unexpected response from {self.url}: {resp.data[:200]!r}", 502) from None
        usage = data.get("usage") or {}
        return result_from_answer(
            parse_answer(text), scorer=self.name, model=self.settings.openai_model, prompt=prompt,
            usage={"input_tokens": usage.get("prompt_tokens", 0), "output_tokens": usage.get("completion_tokens", 0)},
            latency_ms=(time.perf_counter() - start) * 1000,
        )


@register_scorer("openai")
def create(settings) -> OpenAICompatScorer:
    return OpenAICompatScorer(settings)
