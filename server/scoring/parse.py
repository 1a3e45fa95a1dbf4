"""Read a score and justification out of a model's free text, robustly.

Models wrap JSON in code fences, add prose around it, write the score as "4/5",
"4 out of 5" or "four", or rename keys (the guided prompt itself says
"overall_score"). Anything that still yields no score in 1–5 is an error with
the offending text quoted, never a crash and never a guess.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ..errors import PhotoTipsError

SCORE_KEYS = ("score", "overall_score", "overall score", "rating", "note", "bewertung")
TEXT_KEYS = ("justification", "reason", "reasoning", "explanation", "justificatif", "begründung")
WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5,
    "eins": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5,
}
_NUMBER = re.compile(r"^\s*([-+]?\d+(?:[.,]\d+)?)\s*(?:(?:/|out of|sur|von)\s*(\d+(?:[.,]\d+)?))?\s*$", re.I)
_IN_TEXT = re.compile(r"(?:overall[_ ]score|score|rating)\"?\s*[:=]?\s*\"?([-+]?\d+(?:[.,]\d+)?)(?:\s*/\s*(\d+))?", re.I)


@dataclass
class Answer:
    score: float
    justification: str
    improve: list[str] | None = None  # aspects the model says to improve, where the prompt asks


def bad_output(why: str, text: str) -> PhotoTipsError:
    snippet = text.strip().replace("\n", " ")
    snippet = snippet[:160] + ("…" if len(snippet) > 160 else "")
    return PhotoTipsError("bad_model_output", f"{why}; the model said: {snippet!r}", 502)


def _objects(text: str):
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\{", text):
        try:
            obj, _ = decoder.raw_decode(text, m.start())
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            yield obj


def _score_value(raw, text: str) -> float:
    if isinstance(raw, bool):
        raise bad_output("the score is not a number", text)
    if isinstance(raw, (int, float)):
        value = float(raw)
    elif isinstance(raw, str):
        word = raw.strip().lower().rstrip(".")
        if word in WORDS:
            value = float(WORDS[word])
        else:
            m = _NUMBER.match(raw)
            if not m:
                raise bad_output(f"the score {raw!r} is not a number", text)
            value = float(m.group(1).replace(",", "."))
            if m.group(2) and float(m.group(2).replace(",", ".")) != 5:
                raise bad_output(f"the score {raw!r} is not on the 1–5 scale", text)
    else:
        raise bad_output("the score is not a number", text)
    if not 1.0 <= value <= 5.0:
        raise bad_output(f"the score {value:g} is outside 1–5", text)
    return value


def parse_answer(text: str) -> Answer:
    if not isinstance(text, str) or not text.strip():
        raise bad_output("empty answer", text or "")
    for obj in _objects(text):
        keys = {k.lower().strip(): v for k, v in obj.items()}
        score_key = next((k for k in SCORE_KEYS if k in keys), None)
        if score_key is None:
            continue
        justification = next((str(keys[k]) for k in TEXT_KEYS if k in keys and keys[k] is not None), "")
        improve = keys.get("improve")
        if improve is not None and not (isinstance(improve, list) and all(isinstance(a, str) for a in improve)):
            improve = None
        return Answer(_score_value(keys[score_key], text), justification.strip(), improve)
    m = _IN_TEXT.search(text)
    if m:
        if m.group(2) and int(m.group(2)) != 5:
            raise bad_output("the score is not on the 1–5 scale", text)
        return Answer(_score_value(m.group(1), text), text.strip())
    raise bad_output("no score found", text)
