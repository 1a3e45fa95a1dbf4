"""Choose the tips for a scored photo, most helpful first, and say in words what was found."""

from __future__ import annotations

from collections.abc import Callable

from ..scoring.result import Finding
from .catalog import Catalog, Tip

# Picks a wording variant for a tip (A/B experiments plug in here); default: the first.
VariantChooser = Callable[[Tip], tuple[str, dict]]


def default_variant(tip: Tip) -> tuple[str, dict]:
    return tip.default_variant, {}


def select_tips(
    findings: dict[str, Finding],
    catalog: Catalog,
    locale: str,
    weights: dict[str, float],
    choose: VariantChooser = default_variant,
) -> list[dict]:
    """One tip per aspect to improve, ordered by the score it would gain (weight × severity)."""
    todo = [(a, f) for a, f in findings.items() if f.verdict == "improve"]
    todo.sort(key=lambda af: weights.get(af[0], 1.0) * af[1].severity, reverse=True)
    out = []
    for aspect, finding in todo:
        tip = catalog.tip_for(aspect, finding.problem)
        variant, extra = choose(tip)
        out.append({
            "id": tip.id,
            "aspect": aspect,
            "problem": tip.problem,
            "variant": variant,
            "text": tip.variants[variant][locale],
            "gain": round(weights.get(aspect, 1.0) * finding.severity, 3),
            **extra,
        })
    return out


def describe(findings: dict[str, Finding], score: float, catalog: Catalog, locale: str) -> str:
    """A short justification in the seller's language, built from the findings."""
    todo = sorted(((a, f) for a, f in findings.items() if f.verdict == "improve"), key=lambda af: -af[1].severity)
    good = [catalog.aspect_names[a][locale] for a, f in findings.items() if f.verdict == "good"]
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
