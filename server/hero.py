"""Rank the photos of one listing and suggest the hero (first) photo, with reasons.

Works on any scorer's findings. Near-duplicates (perceptual hash within
`duplicate_distance` bits) do not crowd the ranking: the better of them competes,
the others follow at the end marked `duplicate_of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import imagehash

from .scoring.result import ScoreResult
from .tips.catalog import Catalog
from .yamlfile import read_yaml


@dataclass
class Candidate:
    key: str  # photo_id or file name
    result: ScoreResult
    phash: imagehash.ImageHash


@dataclass(frozen=True)
class HeroRules:
    penalties: dict[str, float]
    duplicate_distance: int


@lru_cache(maxsize=4)
def load_hero_rules(path: str) -> HeroRules:
    data = read_yaml(path, "hero rules")
    return HeroRules(dict(data["penalties"]), int(data["duplicate_distance"]))


def perceptual_hash(pil_image) -> imagehash.ImageHash:
    return imagehash.phash(pil_image)


def hero_score(result: ScoreResult, rules: HeroRules) -> float:
    return result.score - sum(
        w * result.aspects[a].severity for a, w in rules.penalties.items() if a in result.aspects
    )


def rank(candidates: list[Candidate], rules: HeroRules, catalog: Catalog, locale: str,
         min_confidence: float) -> list[dict]:
    """The listing's photos, best hero first; reasons name only problems as sure as a tip (`min_confidence`,
    the scorer's tip line): what the seller is not told, a reason must not state as a fact."""
    ordered = sorted(candidates, key=lambda c: hero_score(c.result, rules), reverse=True)
    kept: list[Candidate] = []
    dupes: list[tuple[Candidate, Candidate]] = []
    for c in ordered:
        twin = next((k for k in kept if c.phash - k.phash <= rules.duplicate_distance), None)
        if twin is None:
            kept.append(c)
        else:
            dupes.append((c, twin))

    out = []
    for i, c in enumerate(kept):
        nxt = kept[i + 1] if i + 1 < len(kept) else None
        out.append(_entry(c, _reasons(c, nxt, i == 0, catalog, locale, min_confidence), rules))
    for c, twin in dupes:
        reason = catalog.hero_reasons["duplicate"][locale].format(other=twin.key)
        out.append({**_entry(c, [reason], rules), "duplicate_of": twin.key})
    return out


def _entry(c: Candidate, reasons: list[str], rules: HeroRules) -> dict:
    return {
        "key": c.key,
        "score": round(c.result.score, 3),
        "rating": c.result.rating,
        "hero_score": round(hero_score(c.result, rules), 3),
        "reasons": reasons,
    }


def _reasons(c: Candidate, nxt: Candidate | None, first: bool, catalog: Catalog, locale: str,
             min_confidence: float) -> list[str]:
    """Why the hero wins (against the runner-up), or what keeps another photo behind."""
    phrases = catalog.hero_reasons
    if first and nxt is None:
        return [phrases["only_photo"][locale]]

    def sure(f) -> bool:
        return f.verdict == "improve" and f.confidence >= min_confidence

    if first:
        reasons = [phrases["best_score"][locale].format(score=f"{c.result.score:.1f}")]
        # Better where the runner-up has a problem its seller is told of. Not an aspect the check could not judge
        # on the hero: its severity 0 says nothing of it.
        better = [
            a for a, f in c.result.aspects.items()
            if a in nxt.result.aspects and sure(nxt.result.aspects[a])
            and f.severity + 0.1 < nxt.result.aspects[a].severity and f.source != "not_judged"
        ]
        better.sort(key=lambda a: c.result.aspects[a].severity - nxt.result.aspects[a].severity)
        reasons += [_cap(phrases["better_aspect"][locale].format(aspect=catalog.aspect_names[a][locale])) for a in better[:3]]
        return reasons
    todo = sorted((f for f in c.result.aspects.values() if sure(f)), key=lambda f: -f.severity)
    reasons = []
    for f in todo[:2]:
        text = catalog.problem_phrases.get(f.problem, {}).get(locale)
        if text:
            reasons.append(_cap(text) + ".")
    return reasons


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
