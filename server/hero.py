"""Rank the photos of one listing and suggest the hero (first) photo, with reasons.

Works on any scorer's findings. Near-duplicates (perceptual hash within
`duplicate_distance` bits) do not crowd the ranking: the better of them competes,
the others follow at the end marked `duplicate_of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import imagehash

from .errors import PhotoTipsError
from .scoring.result import ASPECTS, ScoreResult
from .tips.catalog import Catalog
from .tips.select import shown
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
    penalties = data.get("penalties")
    if not isinstance(penalties, dict) or not all(
            a in ASPECTS and isinstance(w, (int, float)) and not isinstance(w, bool) and w >= 0
            for a, w in penalties.items()):
        raise PhotoTipsError("bad_config", f"hero rules {path}: penalties must map aspects ({', '.join(ASPECTS)}) "
                                           f"to numbers 0 or more")
    distance = data.get("duplicate_distance")
    if isinstance(distance, bool) or not isinstance(distance, int) or not 0 <= distance <= 64:
        raise PhotoTipsError("bad_config", f"hero rules {path}: duplicate_distance must be a whole number of bits, 0-64")
    return HeroRules(dict(penalties), distance)


def perceptual_hash(pil_image) -> imagehash.ImageHash:
    return imagehash.phash(pil_image)


def hero_score(result: ScoreResult, rules: HeroRules, min_confidence: float) -> float:
    """The score less the hero's extra penalties, each for a problem as sure as a tip only. The score already
    weighs every finding by its confidence; a finding under the tip line cost a whole penalty on top before
    2026-12-02, and put a close-up of a bag's lining (rated 3 by people) before the whole bag (rated 5)."""
    return result.score - sum(
        w * result.aspects[a].severity for a, w in rules.penalties.items()
        if a in result.aspects and shown(result.aspects[a], min_confidence)
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
        reasons = _reasons(c, nxt, i == 0, bool(dupes), candidates, rules, catalog, locale, min_confidence)
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


def _reasons(c: Candidate, nxt: Candidate | None, first: bool, has_duplicates: bool, everyone: list[Candidate],
             rules: HeroRules, catalog: Catalog, locale: str, min_confidence: float) -> list[str]:
    """Why the hero wins (against the runner-up), or what keeps another photo behind."""
    phrases = catalog.hero_reasons
    if first and nxt is None:
        return [phrases["others_duplicates" if has_duplicates else "only_photo"][locale]]

    if first:
        # "Highest score" only where it is, among every photo of the listing (its near-duplicates too): a photo
        # with a sure cut-off can score higher and still lose on the hero's penalty, and then that problem is the
        # reason. The hero is first of all, so that photo's penalty is over the difference: it has such a problem.
        top = max(everyone, key=lambda k: k.result.score)
        if top.result.score > c.result.score:
            found = top.result.aspects
            penalised = [a for a in rules.penalties if a in found and shown(found[a], min_confidence)]
            worst = found[max(penalised, key=lambda a: rules.penalties[a] * found[a].severity)]
            said = catalog.problem_phrases.get(worst.problem, {}).get(locale)
            reasons = [phrases["preferred_over"][locale].format(problem=said)] if said else []
        else:
            reasons = [phrases["best_score"][locale].format(score=f"{c.result.score:.1f}")]
        # Better where the runner-up has a problem its seller is told of. Not an aspect the check could not judge
        # on the hero: its severity 0 says nothing of it.
        better = [
            a for a, f in c.result.aspects.items()
            if a in nxt.result.aspects and shown(nxt.result.aspects[a], min_confidence)
            and f.severity + 0.1 < nxt.result.aspects[a].severity and f.source != "not_judged"
        ]
        better.sort(key=lambda a: c.result.aspects[a].severity - nxt.result.aspects[a].severity)
        reasons += [_cap(phrases["better_aspect"][locale].format(aspect=catalog.aspect_names[a][locale])) for a in better[:3]]
        return reasons
    todo = sorted((f for f in c.result.aspects.values() if shown(f, min_confidence)), key=lambda f: -f.severity)
    reasons = []
    for f in todo[:2]:
        text = catalog.problem_phrases.get(f.problem, {}).get(locale)
        if text:
            reasons.append(_cap(text) + ".")
    return reasons


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
