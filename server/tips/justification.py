"""Map free-text justifications (any scorer, en/fr/de) onto aspects, with a verdict and a problem each.

Rules live in content/aspect_lexicon.yaml. A sentence is matched phrase by phrase;
a negation shortly before a phrase flips it ("not blurry" is good sharpness),
and a generic word ("poor", "propre", "störend") counts for the nearest aspect
noun in the same clause. When one sentence says both, "improve" wins: a seller
is better served by one tip too many than one too few.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


from .. import paths
from ..scoring.result import ASPECTS
from ..yamlfile import read_yaml

_WORD = re.compile(r"[\w'’-]+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
# Words that end the reach of a negation or of a polarity word.
_CLAUSE_BREAK = re.compile(r"\b(?:but|however|although|while|whereas|mais|cependant|toutefois|tandis|aber|jedoch|doch|während)\b|[,:–—]", re.I)
NEGATION_WINDOW = 3
POLARITY_WINDOW = 4


@dataclass(frozen=True)
class Mention:
    aspect: str
    verdict: str  # good / improve
    problem: str | None


@dataclass(frozen=True)
class Lexicon:
    negation: re.Pattern
    lacking: re.Pattern
    good: re.Pattern
    improve: re.Pattern
    nouns: dict[str, re.Pattern]
    phrases: list[tuple[str, str, str | None, re.Pattern]]  # aspect, verdict, problem, pattern


def _alt(words: list[str]) -> re.Pattern:
    return re.compile(r"(?<![\w])(?:" + "|".join(words) + r")(?![\w])", re.I)


@lru_cache(maxsize=4)
def load_lexicon(path: str = str(paths.CONTENT / "aspect_lexicon.yaml")) -> Lexicon:
    data = read_yaml(path, "aspect lexicon")
    phrases = []
    for aspect, spec in data["aspects"].items():
        if aspect not in ASPECTS:
            raise ValueError(f"{path}: unknown aspect {aspect!r}")
        for verdict in ("improve", "good"):
            for rule in spec["phrases"].get(verdict, []):
                phrases.append((aspect, verdict, rule.get("problem"), _alt([rule["re"]])))
    return Lexicon(
        negation=_alt(data["negations"]),
        lacking=re.compile(r"(?:" + "|".join(data["lacking"]) + r")\s+(?:\w+\s+)?$", re.I),
        good=_alt(data["polarity"]["good"]),
        improve=_alt(data["polarity"]["improve"]),
        nouns={a: _alt(spec["nouns"]) for a, spec in data["aspects"].items()},
        phrases=phrases,
    )


def _negated(sentence: str, start: int, lex: Lexicon) -> bool:
    before = sentence[:start]
    cut = max((m.end() for m in _CLAUSE_BREAK.finditer(before)), default=0)
    words = _WORD.findall(before[cut:])[-NEGATION_WINDOW:]
    return any(lex.negation.fullmatch(w) for w in words) or bool(re.search(r"n['’]", " ".join(words)))


def _flip(verdict: str) -> str:
    return "good" if verdict == "improve" else "improve"


def _word_index(sentence: str, pos: int) -> int:
    return len(_WORD.findall(sentence[:pos]))


def _clause_id(sentence: str, pos: int) -> int:
    return sum(1 for m in _CLAUSE_BREAK.finditer(sentence) if m.start() < pos)


def sentence_mentions(sentence: str, lex: Lexicon) -> list[Mention]:
    found: list[Mention] = []
    # All phrase matches, longest first, so "pas centré" beats "centré" and
    # "too small in the picture" (framing) beats "too small" (resolution).
    matches = sorted(
        ((m, aspect, verdict, problem) for aspect, verdict, problem, pattern in lex.phrases
         for m in pattern.finditer(sentence)),
        key=lambda t: (-(t[0].end() - t[0].start()), t[0].start()),
    )
    covered: list[tuple[int, int]] = []
    for m, aspect, verdict, problem in matches:
        if any(m.start() < b and a < m.end() for a, b in covered):
            continue
        covered.append((m.start(), m.end()))
        # "n'est pas centré": the phrase "pas centré" carries its own negation.
        carries_negation = bool(lex.negation.match(m.group(0)))
        v = _flip(verdict) if not carries_negation and _negated(sentence, m.start(), lex) else verdict
        found.append(Mention(aspect, v, problem if v == "improve" else None))
    nouns = [(a, m) for a, p in lex.nouns.items() for m in p.finditer(sentence)
             if not any(s <= m.start() < e for s, e in covered)]
    used_nouns = set()
    for verdict, pattern in (("improve", lex.improve), ("good", lex.good)):
        for m in pattern.finditer(sentence):
            if any(s <= m.start() < e for s, e in covered):
                continue
            here, clause = _word_index(sentence, m.start()), _clause_id(sentence, m.start())
            near = [(abs(_word_index(sentence, n.start()) - here), a, n.start()) for a, n in nouns
                    if _clause_id(sentence, n.start()) == clause]
            near = [x for x in near if x[0] <= POLARITY_WINDOW]
            if near:
                _, aspect, where = min(near)
                used_nouns.add(where)
                v = _flip(verdict) if _negated(sentence, m.start(), lex) else verdict
                found.append(Mention(aspect, v, None))
    for aspect, n in nouns:
        if n.start() not in used_nouns and lex.lacking.search(sentence[: n.start()]):
            found.append(Mention(aspect, "improve", None))
    return found


def map_justification(text: str, lex: Lexicon | None = None) -> dict[str, Mention]:
    """Aspects a justification talks about, one verdict each ("improve" wins over "good")."""
    lex = lex or load_lexicon()
    out: dict[str, Mention] = {}
    for sentence in _SENTENCE.split(text or ""):
        for mention in sentence_mentions(sentence, lex):
            old = out.get(mention.aspect)
            if old is None or (mention.verdict == "improve" and (old.verdict == "good" or old.problem is None)):
                out[mention.aspect] = mention
    return out
