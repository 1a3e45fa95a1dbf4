"""The `qwen-local` scorer: Qwen2.5-VL on this machine's GPU through transformers, batched across sellers.

Two modes (PHOTOTIPS_QWEN_MODE):
- `expected`: one forward pass; the score is the expectation over the
  probabilities of "1".."5" at the score position (as Q-Align does with level
  words): continuous, always valid, no decoding. The justification is generated
  only when the caller wants tips.
- `generate`: the model writes {"score", "justification"}, parsed robustly.

When the weights or the GPU are missing the scorer still exists but answers
with a clear `scorer_unavailable` error, so the chain falls back (Bedrock, then
the photo check) and the server starts anyway.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import TimeoutError as FutureTimeout

from ..errors import PhotoTipsError
from .answer import result_from_answer
from .batcher import MicroBatcher
from .parse import Answer, parse_answer
from .prompts import get_prompt
from .registry import register_scorer
from .result import ScoreRequest, ScoreResult

log = logging.getLogger(__name__)


class QwenLocalScorer:
    name = "qwen-local"

    @property
    def params_b(self) -> float | None:
        """Billions of parameters of the loaded model (None: not loaded)."""
        engine = getattr(self, "engine", None)
        return engine.params_b if engine is not None else None

    def __init__(self, settings):
        self.settings = settings
        self.mode = settings.qwen_mode
        self.load_error: PhotoTipsError | None = None
        try:
            from .qwen_model import get_engine, is_oom, pick_device

            self.engine = get_engine(settings.qwen_model, pick_device(settings.qwen_device),
                                     settings.qwen_min_pixels, settings.qwen_max_pixels, settings.qwen_adapter)
        except PhotoTipsError as exc:
            self.load_error = exc
        except ImportError as exc:
            self.load_error = PhotoTipsError(
                "scorer_unavailable", f"qwen-local needs the vlm extra (torch, transformers): {exc}", 503)
        if self.load_error:
            log.warning("qwen-local unavailable: %s", self.load_error.message)
            return
        self.model = f"qwen2.5-vl:{self.engine.name}"
        opts = dict(max_batch=settings.qwen_max_batch, max_wait_ms=settings.qwen_max_wait_ms, is_oom=is_oom)
        self.expected_batcher = MicroBatcher(self.engine.expected_scores, name="qwen-expected", **opts)
        self.generate_batcher = MicroBatcher(
            lambda jobs: self.engine.generate(jobs, settings.qwen_max_new_tokens), name="qwen-generate", **opts)

    def _wait(self, future, request: ScoreRequest):
        try:
            return future.result(timeout=request.seconds_left(120.0))
        except FutureTimeout:
            future.cancel()
            raise PhotoTipsError("deadline", "qwen-local did not answer before the request's deadline", 504) from None

    def score(self, photo, request: ScoreRequest) -> ScoreResult:
        if self.load_error:
            raise PhotoTipsError("scorer_unavailable", self.load_error.message, 503)
        from .qwen_model import Job

        prompt = get_prompt(request.prompt or self.settings.qwen_prompt)
        system, user = prompt.render(request.item_type)
        job = Job(photo.pil, system, user)
        start = time.perf_counter()
        usage = {"input_tokens": 0, "output_tokens": 0}
        if self.mode == "expected":
            expected = self.expected_batcher.submit(job)
            generated = self.generate_batcher.submit(job) if request.want_justification else None
            e = self._wait(expected, request)
            usage["input_tokens"] += e["input_tokens"]
            justification = ""
            if generated is not None:
                g = self._wait(generated, request)
                usage["input_tokens"] += g["input_tokens"]
                usage["output_tokens"] += g["output_tokens"]
                try:
                    justification = parse_answer(g["text"]).justification
                except PhotoTipsError:
                    # The score needs no decoding; an unreadable justification only costs the tips.
                    log.info("qwen-local justification unreadable: %.80r", g["text"])
            answer = Answer(e["score"], justification)
            extra = {"probs": e["probs"], "digit_mass": round(e["digit_mass"], 4)}
        else:
            g = self._wait(self.generate_batcher.submit(job), request)
            usage.update(input_tokens=g["input_tokens"], output_tokens=g["output_tokens"])
            answer = parse_answer(g["text"])
            extra = {}
        result = result_from_answer(answer, scorer=self.name, model=self.model, prompt=prompt,
                                    usage=usage, latency_ms=(time.perf_counter() - start) * 1000)
        result.details = extra
        return result


@register_scorer("qwen-local")
def create(settings) -> QwenLocalScorer:
    return QwenLocalScorer(settings)
