"""Choose the tips for a scored photo, most helpful first, and say in words what was found."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..scoring.result import Finding
from .catalog import Catalog, Tip


@dataclass(frozen=True)
class Wording:
    variant: str
    texts: dict[str, str]  # locale -> text
    extra: dict = field(default_factory=dict)  # e.g. {"experiment", "variant"} from an A/B test


# Picks the wording of a tip (A/B experiments plug in here); default: the catalog's first variant.
VariantChooser = Callable[[Tip], Wording]


def default_variant(tip: Tip) -> Wording:
    return Wording(tip.default_variant, tip.variants[tip.default_variant])


def shown(finding: Finding, min_confidence: float) -> bool:
    """A problem the seller is told of: found, and at least as sure as the tip line."""
    return finding.verdict == "improve" and finding.confidence >= min_confidence


def select_tips(
    findings: dict[str, Finding],
    catalog: Catalog,
    locale: str,
    weights: dict[str, float],
    choose: VariantChooser = default_variant,
    min_confidence: float = 0.0,
) -> list[dict]:
    """One tip per aspect to improve and sure enough, ordered by the score it would gain (weight × severity).

    A finding below `min_confidence` stays in the result's JSON but is never shown as a tip.
    """
    todo = [(a, f) for a, f in findings.items() if shown(f, min_confidence)]
    todo.sort(key=lambda af: weights.get(af[0], 1.0) * af[1].severity, reverse=True)
    out = []
    for aspect, finding in todo:
        tip = catalog.tip_for(aspect, finding.problem)
        wording = choose(tip)
        out.append({
            "id": tip.id,
            "aspect": aspect,
            "problem": tip.problem,
            "variant": wording.variant,
            "text": wording.texts[locale],
            "gain": round(weights.get(aspect, 1.0) * finding.severity, 3),
            **wording.extra,
        })
    return out


def describe(findings: dict[str, Finding], score: float, catalog: Catalog, locale: str,
             min_confidence: float = 0.0) -> str:
    """A short justification in the seller's language, built from the findings sure enough to tell."""
    todo = sorted(((a, f) for a, f in findings.items() if shown(f, min_confidence)), key=lambda af: -af[1].severity)
    good = [catalog.aspect_names[a][locale] for a, f in findings.items()
            if f.verdict == "good" and f.source != "not_judged"]
    if not todo:
        return catalog.all_good[locale]
    issues = [
        catalog.problem_phrases[f.problem][locale] if f.problem in catalog.problem_phrases else catalog.aspect_names[a][locale]
        for a, f in todo
    ]
    text = f"{catalog.headings['improve'][locale]}: " + "; ".join(issues) + "."
    if good:
        text += f" {catalog.headings['good'][locale]}: " + ", ".join(good) + "."
    return text
