"""Turn photo-check measurements into per-aspect findings and a 1–5 score, by the ramps in models/photo-check.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


from ..errors import PhotoTipsError
from ..scoring.result import ASPECTS, Finding
from ..yamlfile import read_yaml


@dataclass(frozen=True)
class Judgement:
    """The photo check's model file, loaded and checked."""

    id: str
    version: int
    improve_at: float
    weights: dict[str, float]
    aspects: dict[str, dict]

    def findings(self, m: dict[str, float]) -> dict[str, Finding]:
        out = {}
        for aspect, spec in self.aspects.items():
            severities = {}
            if not (spec.get("needs_item") and not m.get("item_found")):
                for rule in spec["problems"]:
                    sev = ramp(m[rule["measure"]], *rule["ramp"])
                    severities[rule["problem"]] = max(sev, severities.get(rule["problem"], 0.0))
            worst = max(severities, key=severities.get, default=None)
            severity = severities.get(worst, 0.0)
            improve = severity >= self.improve_at
            out[aspect] = Finding(
                verdict="improve" if improve else "good",
                severity=round(severity, 3),
                value=round(float(m[spec["value"]]), 4),
                problem=worst if improve else None,
            )
        return out

    def score(self, findings: dict[str, Finding]) -> float:
        penalty = sum(self.weights[a] * f.severity for a, f in findings.items())
        return min(5.0, max(1.0, 5.0 - penalty))


def ramp(x: float, good: float, bad: float) -> float:
    """0 at `good` or better, 1 at `bad` or worse, linear between; works for rising and falling ramps."""
    t = (x - good) / (bad - good)
    return min(1.0, max(0.0, t))


@lru_cache(maxsize=8)
def load_judgement(path: str) -> Judgement:
    data = read_yaml(path, "photo-check model")
    problems = []
    aspects = data.get("aspects", {})
    if set(aspects) != set(ASPECTS):
        problems.append(f"aspects must be exactly {', '.join(ASPECTS)}; got {', '.join(aspects)}")
    weights = data.get("weights", {})
    for aspect, spec in aspects.items():
        if not isinstance(weights.get(aspect), (int, float)) or weights[aspect] < 0:
            problems.append(f"weights.{aspect} must be a non-negative number")
        for i, rule in enumerate(spec.get("problems") or []):
            r = rule.get("ramp")
            if not (isinstance(r, list) and len(r) == 2 and r[0] != r[1]):
                problems.append(f"{aspect}.problems[{i}].ramp must be [good, bad] with good != bad")
            if not rule.get("problem") or not rule.get("measure"):
                problems.append(f"{aspect}.problems[{i}] must name a problem and a measure")
    if problems:
        raise PhotoTipsError("bad_config", f"photo-check model {path}:\n  " + "\n  ".join(problems))
    return Judgement(data["id"], int(data["version"]), float(data["improve_at"]), weights, aspects)
