"""Load and check the tip catalog (content/tips.yaml): tips, wording variants, locales, labels."""

from __future__ import annotations

import string

from dataclasses import dataclass
from functools import lru_cache


from ..errors import PhotoTipsError
from ..scoring.result import ASPECTS
from ..yamlfile import read_yaml


@dataclass(frozen=True)
class Tip:
    id: str
    aspect: str
    problem: str
    variants: dict[str, dict[str, str]]  # variant id -> locale -> text

    @property
    def default_variant(self) -> str:
        return next(iter(self.variants))


@dataclass(frozen=True)
class Catalog:
    locales: tuple[str, ...]
    aspect_names: dict[str, dict[str, str]]
    problem_phrases: dict[str, dict[str, str]]
    tips: dict[str, Tip]
    all_good: dict[str, str]
    headings: dict[str, dict[str, str]]
    hero_reasons: dict[str, dict[str, str]]

    def tip_for(self, aspect: str, problem: str | None) -> Tip:
        """The tip for this problem, or the aspect's first tip when a scorer names no problem."""
        for tip in self.tips.values():
            if tip.aspect == aspect and tip.problem == problem:
                return tip
        return next(t for t in self.tips.values() if t.aspect == aspect)

    def check_locale(self, locale: str) -> str:
        if locale not in self.locales:
            raise PhotoTipsError(
                "unknown_locale", f"locale {locale!r} is not supported; use one of {', '.join(self.locales)}", 400
            )
        return locale


# The hero's reasons and the placeholders each may name (hero.py fills them in).
HERO_REASON_FIELDS = {"only_photo": set(), "others_duplicates": set(), "best_score": {"score"},
                      "preferred_over": {"problem"}, "better_aspect": {"aspect"}, "duplicate": set()}


@lru_cache(maxsize=8)
def load_catalog(path: str) -> Catalog:
    catalog, problems = check_catalog(path)
    if problems:
        raise PhotoTipsError("bad_config", f"tip catalog {path}:\n  " + "\n  ".join(problems))
    return catalog


def check_catalog(path: str) -> tuple[Catalog | None, list[str]]:
    """The catalog and every problem found in it (None when the file cannot be read at all)."""
    try:
        data = read_yaml(path, "tip catalog")
    except PhotoTipsError as exc:
        return None, [exc.message]
    problems: list[str] = []
    listed = data.get("locales") or []
    if not isinstance(listed, list) or not all(isinstance(loc, str) for loc in listed):
        problems.append(f"locales: expected a list of locale codes such as [en, fr, de], got {listed!r}"[:200])
        listed = []
    locales = tuple(listed)

    def mapping(where: str, value) -> dict:
        if value is not None and not isinstance(value, dict):
            problems.append(f"{where}: expected a mapping, got {value!r}"[:200])
        return value if isinstance(value, dict) else {}

    def texts(where: str, entry) -> dict[str, str]:
        entry = mapping(where, entry)
        for loc in locales:
            if not isinstance(entry.get(loc), str) or not entry[loc].strip():
                problems.append(f"{where}: no text for locale {loc!r}")
        return {loc: str(entry.get(loc, "")) for loc in locales}

    if not locales:
        problems.append("locales: list at least one locale")
    named = mapping("aspects", data.get("aspects"))
    aspect_names = {a: texts(f"aspects.{a}", named.get(a)) for a in ASPECTS}
    phrases = {p: texts(f"problems.{p}", e) for p, e in mapping("problems", data.get("problems")).items()}
    tips = {}
    for tip_id, spec in mapping("tips", data.get("tips")).items():
        spec = mapping(f"tips.{tip_id}", spec)
        aspect, problem = spec.get("aspect"), spec.get("problem")
        aspect, problem = (v if isinstance(v, str) else repr(v) for v in (aspect, problem))
        if aspect not in ASPECTS:
            problems.append(f"tips.{tip_id}: unknown aspect {aspect!r}")
        if problem not in phrases:
            problems.append(f"tips.{tip_id}: problem {problem!r} is not described under problems")
        variants = {}
        listed = spec.get("variants") or []
        for i, v in enumerate(listed if isinstance(listed, list) else []):
            v = mapping(f"tips.{tip_id}.variants[{i}]", v)
            vid = str(v.get("id", i))
            if vid in variants:
                problems.append(f"tips.{tip_id}: variant id {vid!r} used twice")
            variants[vid] = texts(f"tips.{tip_id}.variants.{vid}", {k: v.get(k) for k in locales})
        if not variants:
            problems.append(f"tips.{tip_id}: give at least one variant")
        tips[tip_id] = Tip(tip_id, aspect, problem, variants)
    for aspect in ASPECTS:
        if not any(t.aspect == aspect for t in tips.values()):
            problems.append(f"no tip for aspect {aspect!r}")
    all_good = texts("all_good", data.get("all_good"))
    heads = mapping("headings", data.get("headings"))
    headings = {h: texts(f"headings.{h}", heads.get(h)) for h in ("improve", "good")}
    reasons = mapping("hero_reasons", data.get("hero_reasons"))
    hero_reasons = {r: texts(f"hero_reasons.{r}", reasons.get(r)) for r in HERO_REASON_FIELDS}
    for r, by_locale in hero_reasons.items():
        for locale, words in by_locale.items():
            try:
                named = {f for _, f, _, _ in string.Formatter().parse(words) if f is not None}
            except ValueError:
                named = {"an unclosed {"}
            if named - HERO_REASON_FIELDS[r]:
                allowed = ", ".join(f"{{{f}}}" for f in sorted(HERO_REASON_FIELDS[r])) or "none"
                problems.append(f"hero_reasons.{r}.{locale}: names {', '.join(sorted(named))}; it may name {allowed}")
    return Catalog(locales, aspect_names, phrases, tips, all_good, headings, hero_reasons), problems
