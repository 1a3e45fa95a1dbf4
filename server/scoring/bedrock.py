"""The `bedrock` scorer: a multimodal model on AWS Bedrock through boto3's Converse API.

Region, credentials and endpoint come from the standard AWS configuration, so
`AWS_ENDPOINT_URL_BEDROCK_RUNTIME` points it at any Converse-compatible server.
Throttling and transient errors are retried by botocore's standard retry mode;
the request's deadline bounds the whole call, so a throttled Bedrock makes the
chain fall back instead of making the seller wait.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from ..errors import PhotoTipsError
from ..imaging.encode import jpeg_for_model
from .answer import result_from_answer
from .parse import parse_answer
from .prompts import get_prompt
from .registry import register_scorer
from .result import ScoreRequest, ScoreResult


class BedrockScorer:
    name = "bedrock"

    def __init__(self, settings, client=None):
        import boto3
        from botocore.config import Config

        self.settings = settings
        self.model_id = settings.bedrock_model_id
        self.client = client or boto3.client(
            "bedrock-runtime",
            config=Config(
                # total_max_attempts counts the first try; botocore's "max_attempts" would not.
                retries={"mode": "standard", "total_max_attempts": settings.bedrock_max_attempts},
                connect_timeout=min(5.0, settings.bedrock_timeout_s),
                read_timeout=settings.bedrock_timeout_s,
                max_pool_connections=32,
            ),
        )
        self._pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="bedrock")

    def score(self, photo, request: ScoreRequest) -> ScoreResult:
        prompt = get_prompt(request.prompt or self.settings.bedrock_prompt)
        system, user = prompt.render(request.item_type)
        start = time.perf_counter()
        future = self._pool.submit(self._converse, system, user, jpeg_for_model(photo.pil))
        try:
            response = future.result(timeout=request.seconds_left(self.settings.bedrock_timeout_s * 4))
        except FutureTimeout:
            raise PhotoTipsError("deadline", "Bedrock did not answer before the request's deadline", 504) from None
        text = "".join(part.get("text", "") for part in response["output"]["message"]["content"])
        usage = response.get("usage", {})
        return result_from_answer(
            parse_answer(text), scorer=self.name, model=self.model_id, prompt=prompt,
            usage={"input_tokens": usage.get("inputTokens", 0), "output_tokens": usage.get("outputTokens", 0)},
            latency_ms=(time.perf_counter() - start) * 1000,
        )

    def _converse(self, system: str, user: str, jpeg: bytes) -> dict:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.converse(
                modelId=self.model_id,
                system=[{"text": system}],
                messages=[{"role": "user", "content": [
                    {"image": {"format": "jpeg", "source": {"bytes": jpeg}}},
                    {"text": user},
                ]}],
                inferenceConfig={"maxTokens": self.settings.bedrock_max_tokens, "temperature": 0.0},
            )
        except ClientError as exc:
            err = exc.response.get("Error", {})
            raise PhotoTipsError("scorer_unavailable",
                                 f"Bedrock {err.get('Code', 'error')}: {err.get('Message', exc)}", 502) from None
        except BotoCoreError as exc:
            raise PhotoTipsError("scorer_unavailable", f"Bedrock: {exc}", 502) from None


@register_scorer("bedrock")
def create(settings) -> BedrockScorer:
    return BedrockScorer(settings)
