"""What every scorer returns: the shared vocabulary of aspects, findings and scores."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

# The study's survey aspects, in the order tips and reports list them.
ASPECTS = ("lighting", "sharpness", "resolution", "framing", "visibility", "background", "angle")


@dataclass
class Finding:
    verdict: str  # "good" or "improve"
    severity: float  # 0–1
    value: float | None = None  # the measurement behind it, where one exists
    problem: str | None = None  # which way it needs improving, e.g. "too_dark"
    # measured or not_judged (photo check: no item found, or another problem makes the aspect unreadable),
    # mentioned (in a model's justification) or not_mentioned; only measured and mentioned can call it good
    source: str = "measured"
    # how sure the scorer is that the problem is real (0–1); tips are shown only above a threshold
    confidence: float = 1.0
    # where on the photo (photocheck/geometry.py): a box, cut edges, a level line, coarse grids; None: nowhere
    geometry: dict | None = None


@dataclass
class ScoreRequest:
    item_type: str = "item"
    locale: str = "en"
    want_justification: bool = True
    deadline: float | None = None  # time.monotonic() by which an answer is needed
    prompt: str | None = None  # prompt id for prompt-driven scorers; None: the scorer's configured one

    def seconds_left(self, default: float) -> float:
        return default if self.deadline is None else max(0.0, self.deadline - time.monotonic())


@dataclass
class ScoreResult:
    score: float  # continuous 1–5
    aspects: dict[str, Finding]
    justification: str
    scorer: str
    model: str = ""
    prompt: dict | None = None  # {"id", "version"} for prompt-driven scorers
    usage: dict = field(default_factory=dict)  # tokens in/out where a model reports them
    latency_ms: float = 0.0
    skipped: list[dict] = field(default_factory=list)  # earlier scorers in the chain and why
    details: dict = field(default_factory=dict)  # scorer-specific, e.g. the score-token probabilities

    @property
    def rating(self) -> int:
        return rating_of(self.score)

    def to_dict(self) -> dict:
        out = {
            "score": round(self.score, 3),
            "rating": self.rating,
            "aspects": {name: asdict(f) for name, f in self.aspects.items()},
            "justification": self.justification,
            "scorer": self.scorer,
            "model": self.model,
            "latency_ms": round(self.latency_ms, 1),
        }
        if self.prompt:
            out["prompt"] = self.prompt
        if self.usage:
            out["usage"] = self.usage
        if self.skipped:
            out["skipped"] = self.skipped
        if self.details:
            out["details"] = self.details
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "ScoreResult":
        """The inverse of `to_dict` (for results kept outside this process: Redis, worker processes)."""
        return cls(
            score=float(data["score"]),
            aspects={name: Finding(**f) for name, f in data["aspects"].items()},
            justification=data["justification"],
            scorer=data["scorer"],
            model=data.get("model", ""),
            prompt=data.get("prompt"),
            usage=data.get("usage", {}),
            latency_ms=float(data.get("latency_ms", 0.0)),
            skipped=data.get("skipped", []),
            details=data.get("details", {}),
        )


def rating_of(score: float) -> int:
    """Round half up and clamp to 1–5 (Python's round() would send 2.5 to 2)."""
    return int(min(5, max(1, int(score + 0.5))))
