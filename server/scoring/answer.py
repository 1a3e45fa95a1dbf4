"""Turn a vision-language model's answer (score + justification) into a ScoreResult with aspects."""

from __future__ import annotations

from ..tips.justification import map_justification
from .parse import Answer
from .result import ASPECTS, Finding, ScoreResult


def improve_severity(score: float) -> float:
    """Models say *that* an aspect needs work, not how much: the lower the score, the more it matters."""
    return round(min(1.0, max(0.3, (5.0 - score) / 4.0)), 3)


def findings_from_answer(answer: Answer) -> dict[str, Finding]:
    mentions = map_justification(answer.justification)
    flagged = {a for a in (answer.improve or []) if a in ASPECTS}
    severity = improve_severity(answer.score)
    out = {}
    for aspect in ASPECTS:
        m = mentions.get(aspect)
        if aspect in flagged or (m is not None and m.verdict == "improve"):
            out[aspect] = Finding("improve", severity, None, m.problem if m else None, "mentioned")
        elif m is not None:
            out[aspect] = Finding("good", 0.0, None, None, "mentioned")
        else:
            out[aspect] = Finding("good", 0.0, None, None, "not_mentioned")
    return out


def result_from_answer(answer: Answer, *, scorer: str, model: str, prompt, usage: dict, latency_ms: float) -> ScoreResult:
    return ScoreResult(
        score=answer.score,
        aspects=findings_from_answer(answer),
        justification=answer.justification,
        scorer=scorer,
        model=model,
        prompt=prompt.ref,
        usage=usage,
        latency_ms=latency_ms,
    )
