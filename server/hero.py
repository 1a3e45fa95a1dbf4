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


def sure(finding, min_confidence: float) -> bool:
    """A problem the seller is told of: found, and as sure as a tip."""
    return finding.verdict == "improve" and finding.confidence >= min_confidence


def hero_score(result: ScoreResult, rules: HeroRules, min_confidence: float) -> float:
    """The score less the hero's extra penalties, each for a problem as sure as a tip only. The score already
    weighs every finding by its confidence; a finding under the tip line cost a whole penalty on top before
    2026-12-02, and put a close-up of a bag's lining (rated 3 by people) before the whole bag (rated 5)."""
    return result.score - sum(
        w * result.aspects[a].severity for a, w in rules.penalties.items()
        if a in result.aspects and sure(result.aspects[a], min_confidence)
    )


def rank(candidates: list[Candidate], rules: HeroRules, catalog: Catalog, locale: str,
         min_confidence: float) -> list[dict]:
    """The listing's photos, best hero first; penalties and reasons count only problems as sure as a tip
    (`min_confidence`, the scorer's tip line): what the seller is not told, a reason must not state as a fact."""
    ordered = sorted(candidates, key=lambda c: hero_score(c.result, rules, min_confidence), reverse=True)
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
        reasons = _reasons(c, nxt, i == 0, bool(dupes), kept, rules, catalog, locale, min_confidence)
        out.append(_entry(c, reasons, rules, min_confidence))
    for c, twin in dupes:
        # The seller sees photos, not ids: the reason says what happened, `duplicate_of` says which photo.
        reason = catalog.hero_reasons["duplicate"][locale]
        out.append({**_entry(c, [reason], rules, min_confidence), "duplicate_of": twin.key})
    return out


def _entry(c: Candidate, reasons: list[str], rules: HeroRules, min_confidence: float) -> dict:
    return {
        "key": c.key,
        "score": round(c.result.score, 3),
        "rating": c.result.rating,
        "hero_score": round(hero_score(c.result, rules, min_confidence), 3),
        "reasons": reasons,
    }


def _reasons(c: Candidate, nxt: Candidate | None, first: bool, has_duplicates: bool, kept: list[Candidate],
             rules: HeroRules, catalog: Catalog, locale: str, min_confidence: float) -> list[str]:
    """Why the hero wins (against the runner-up), or what keeps another photo behind."""
    phrases = catalog.hero_reasons
    if first and nxt is None:
        return [phrases["others_duplicates" if has_duplicates else "only_photo"][locale]]

    if first:
        # "Highest score" only where it is: a photo with a sure cut-off can score higher and still lose on the
        # hero's penalty, and then that problem is the reason.
        top = max(kept, key=lambda k: k.result.score)
        if top.result.score > c.result.score:
            worst = max((a for a in rules.penalties if a in top.result.aspects
                         and sure(top.result.aspects[a], min_confidence)),
                        key=lambda a: rules.penalties[a] * top.result.aspects[a].severity)
            reasons = [phrases["preferred_over"][locale].format(aspect=catalog.aspect_names[worst][locale])]
        else:
            reasons = [phrases["best_score"][locale].format(score=f"{c.result.score:.1f}")]
        # Better where the runner-up has a problem its seller is told of. Not an aspect the check could not judge
        # on the hero: its severity 0 says nothing of it.
        better = [
            a for a, f in c.result.aspects.items()
            if a in nxt.result.aspects and sure(nxt.result.aspects[a], min_confidence)
            and f.severity + 0.1 < nxt.result.aspects[a].severity and f.source != "not_judged"
        ]
        better.sort(key=lambda a: c.result.aspects[a].severity - nxt.result.aspects[a].severity)
        reasons += [_cap(phrases["better_aspect"][locale].format(aspect=catalog.aspect_names[a][locale])) for a in better[:3]]
        return reasons
    todo = sorted((f for f in c.result.aspects.values() if sure(f, min_confidence)), key=lambda f: -f.severity)
    reasons = []
    for f in todo[:2]:
        text = catalog.problem_phrases.get(f.problem, {}).get(locale)
        if text:
            reasons.append(_cap(text) + ".")
    return reasons


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
