"""Turn photo-check measurements into per-aspect findings with a confidence, and a 1–5 score.

Everything here is read from models/photo-check.yaml. For each problem:

- **severity** (0–1, how bad): a ramp [good, bad] on one measurement, or the worst of several;
- **confidence** (0–1, how sure the problem is real): a logistic model over a few
  measurements, P = 1 / (1 + exp(−(bias + Σ weight × measurement))), fitted on the
  labelled real-photo set by `phototips study calibrate` (or set by hand where
  the set has too few examples; the file says which).

An aspect reports its most confident problem, with that confidence: verdict `improve` from `report_at`;
the tip is shown to the seller only from `tip_confidence` (the service and the
benchmark both filter on it). The score is `base − Σ weight × confidence` over
the aspects (confidence of the aspect's likeliest problem, reported or not), with
base and weights fitted on the overall labels: a photo with no likely problem
scores `base`, and each problem costs its aspect's weight as it becomes certain.
The score's `nothing_to_see` ({at_most, below: {measurement: bound}}) caps it where a measurement is below
its bound: a frame black or of one flat tone shows nothing a buyer could judge, and the linear costs, fitted
on real photos that all show something, left a pocket shot at 4 of 5.

An aspect's `prefer` list names a specific problem over a likelier, general one (shake is a kind of blur)
when the specific one is sure enough to be shown and its own evidence says so: a measurement below a
bound. The confidence stays the likeliest problem's, so the tip and the score do not change, only the name.

An aspect's `unless_likely` ({"aspect.problem": confidence}) leaves it unjudged where another aspect's
problem is at least that likely: the item's box, from which framing is read, cannot be trusted in clutter.
Its `unless_below` ({measurement: bound}) leaves it unjudged where a measurement is below the bound: a
tilt is read from straight lines around the item, and on a plain backdrop the only ones are the item's own
outline where the mask missed it. An aspect left unjudged (by either, or `needs_item` with no item found)
has no problem and costs the score nothing, and says so: `source: not_judged`, so that neither the JSON nor
the seller's text calls it good.

A problem's `unless_above` ({measurement: bound}) leaves that one problem out where a measurement is above
the bound, and the aspect is judged on its other problems: an item's size and place in the frame are read
only on an item clear of the frame's edges, since one that runs out of it is visibility's tip and a mask
touching the edge was mostly a scrap of the backdrop. Its `unless_below` does the same below a bound:
overexposure is not read on a mask too small to be the item (a glint). With every problem left out the
aspect is good.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import PhotoTipsError
from ..scoring.result import ASPECTS, Finding
from ..yamlfile import read_yaml


@dataclass(frozen=True)
class SecondLook:
    """Where the problem's confidence is within `band`, `network` (a file of models/) reads the photo again, its
    output number `output` becoming the measurement `reading`, and the problem is judged by this confidence model
    instead (second_look.py)."""

    band: tuple[float, float]
    network: Path
    side: int
    output: int
    reading: str
    bias: float
    weights: dict[str, float]
    fit: bool

    def confidence(self, m: dict[str, float]) -> float:
        return _logistic(self.bias, self.weights, m)


@dataclass(frozen=True)
class Problem:
    name: str
    ramps: tuple[tuple[str, float, float], ...]  # (measurement, good, bad): severity is the worst of them
    bias: float
    weights: dict[str, float]  # measurement -> logistic weight
    fit: bool  # refitted by `phototips study calibrate`; False: set by hand
    unless_above: tuple[tuple[str, float], ...] = ()  # (measurement, bound): not judged where one is above
    unless_below: tuple[tuple[str, float], ...] = ()  # (measurement, bound): not judged where one is below
    second: SecondLook | None = None

    def judged(self, m: dict[str, float]) -> bool:
        return not (any(m[measure] > bound for measure, bound in self.unless_above)
                    or any(m[measure] < bound for measure, bound in self.unless_below))

    def severity(self, m: dict[str, float]) -> float:
        return max(ramp(m[k], good, bad) for k, good, bad in self.ramps)

    @property
    def measurements(self) -> set[str]:
        """What the check's `measure` must give (a second look's reading is taken by the scorer)."""
        second = set(self.second.weights) - {self.second.reading} if self.second else set()
        return ({k for k, _, _ in self.ramps} | set(self.weights) | {k for k, _ in self.unless_above}
                | {k for k, _ in self.unless_below} | second)

    def confidence(self, m: dict[str, float]) -> float:
        """The second look's model where its reading was taken, the problem's own otherwise."""
        if self.second is not None and self.second.reading in m:
            return self.second.confidence(m)
        return self.own_confidence(m)

    def own_confidence(self, m: dict[str, float]) -> float:
        """The problem's own (cheap) model, which decides whether a second look is taken."""
        return _logistic(self.bias, self.weights, m)


def _logistic(bias: float, weights: dict[str, float], m: dict[str, float]) -> float:
    z = bias + sum(w * m[k] for k, w in weights.items())
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass(frozen=True)
class Preference:
    """Name `problem` over a likelier problem of its aspect when it is sure enough to be shown and
    `measure` is below `below`: its own evidence, which the likelier, more general problem lacks."""

    problem: str
    measure: str
    below: float


@dataclass(frozen=True)
class Judgement:
    """The photo check's model file, loaded and checked."""

    id: str
    version: int
    report_at: float
    tip_confidence: float
    # aspect -> {"value": measurement, "needs_item": bool, "problems": [Problem], "prefer": (Preference, ...),
    #            "unless_likely": ((Problem of another aspect, confidence), ...),
    #            "unless_below": ((measurement, bound), ...)}
    aspects: dict[str, dict]
    base: float
    weights: dict[str, float]  # aspect -> score weight
    # (at most, ((measurement, bound), ...)): the score's cap where any measurement is below its bound
    nothing_to_see: tuple[float, tuple[tuple[str, float], ...]] = (5.0, ())

    def findings(self, m: dict[str, float]) -> dict[str, Finding]:
        out = {}
        for aspect, spec in self.aspects.items():
            best, best_conf, best_sev = None, 0.0, 0.0
            judged_here = _judged(spec, m)
            if judged_here:
                judged = {p.name: (p, p.confidence(m), p.severity(m)) for p in spec["problems"] if p.judged(m)}
                for p, conf, sev in judged.values():
                    if (conf, sev) > (best_conf, best_sev):
                        best, best_conf, best_sev = p, conf, sev
                for pref in (named for named in spec["prefer"] if named.problem in judged):
                    p, conf, sev = judged[pref.problem]
                    if conf >= self.tip_confidence and m[pref.measure] < pref.below:
                        # Named and ordered by the specific problem; the aspect stays as sure of a problem
                        # as its likeliest one, for the tip and the score.
                        best, best_sev = p, sev
                        break
            improve = best is not None and best_conf >= self.report_at
            out[aspect] = Finding(
                verdict="improve" if improve else "good",
                severity=round(best_sev, 3) if improve else 0.0,
                value=round(float(m[spec["value"]]), 4),
                problem=best.name if improve else None,
                source="measured" if judged_here else "not_judged",
                confidence=round(best_conf, 3),
            )
        return out

    @property
    def second_looks(self) -> list[tuple[dict, Problem]]:
        return [(spec, p) for spec in self.aspects.values() for p in spec["problems"] if p.second is not None]

    def looked_findings(self, m: dict[str, float], read) -> tuple[dict[str, Finding], dict[str, float]]:
        """The findings, judged again where a problem's confidence fell within its second look's band, with
        `read(second_look)` (the network's reading, taken only there) added to the measurements; and the
        measurements they were judged on."""
        findings = self.findings(m)
        due = [p.second for spec, p in self.second_looks
               if _judged(spec, m) and p.judged(m) and p.second.band[0] < p.own_confidence(m) < p.second.band[1]]
        if not due:
            return findings, m
        m = dict(m) | {second.reading: read(second) for second in due}
        return self.findings(m), m

    def penalties(self, findings: dict[str, Finding]) -> dict[str, float]:
        """What each aspect costs the score: its weight × how sure the photo has a problem there."""
        return {a: self.weights[a] * f.confidence for a, f in findings.items() if a in self.weights}

    def score(self, findings: dict[str, Finding]) -> float:
        return min(5.0, max(1.0, self.base - sum(self.penalties(findings).values())))

    def capped(self, score: float, m: dict[str, float]) -> float:
        """`score`, or the `nothing_to_see` cap where the photo shows nothing (whichever model made the score)."""
        at_most, below = self.nothing_to_see
        return min(score, at_most) if any(m[measure] < bound for measure, bound in below) else score


def _judged(spec: dict, m: dict[str, float]) -> bool:
    """Whether the photo check can judge an aspect on these measurements (its three gates)."""
    if spec["needs_item"] and not m.get("item_found"):
        return False
    if any(other.confidence(m) >= at for other, at in spec["unless_likely"]):
        return False
    return not any(m[measure] < bound for measure, bound in spec["unless_below"])


def ramp(x: float, good: float, bad: float) -> float:
    """0 at `good` or better, 1 at `bad` or worse, linear between; works for rising and falling ramps."""
    t = (x - good) / (bad - good)
    return min(1.0, max(0.0, t))


def calibration_path(path: str, data: dict) -> Path | None:
    name = data.get("calibration")
    return Path(path).parent / name if name else None


def apply_calibration(data: dict, calibration: dict) -> None:
    """Fitted values override the hand-set ones of `fit: true` problems, and the score's base and weights."""
    def entry(key: str) -> dict:
        aspect, _, name = key.partition(".")
        return (((data.get("aspects") or {}).get(aspect) or {}).get("problems") or {}).get(name, {})

    fits = [(entry(key).get("confidence"), fitted) for key, fitted in (calibration.get("problems") or {}).items()]
    fits += [((entry(key).get("second_look") or {}).get("confidence"), fitted)
             for key, fitted in (calibration.get("second_looks") or {}).items()]
    for conf, fitted in fits:
        if conf and conf.get("fit"):
            conf["bias"], conf["weights"] = fitted["bias"], dict(fitted["weights"])
    if calibration.get("score"):
        # The fit's base and weights; the rest of the score (its nothing_to_see cap) stays the model file's.
        data["score"] = dict(data.get("score") or {}) | dict(calibration["score"])


@lru_cache(maxsize=8)
def load_judgement(path: str) -> Judgement:
    data = read_yaml(path, "photo-check model")
    cal = calibration_path(path, data)
    if cal is not None and cal.is_file():
        apply_calibration(data, read_yaml(str(cal), "photo-check calibration"))
    return build_judgement(data, path)


def build_judgement(data: dict, path: str) -> Judgement:
    problems: list[str] = []
    aspects_in = data.get("aspects") or {}
    if set(aspects_in) != set(ASPECTS):
        problems.append(f"aspects must be exactly {', '.join(ASPECTS)}; got {', '.join(aspects_in)}")
    aspects = {}
    for aspect, spec in aspects_in.items():
        parsed = []
        for name, p in (spec.get("problems") or {}).items():
            where = f"{aspect}.problems.{name}"
            ramps = _ramps(p.get("severity"))
            if not ramps:
                problems.append(f"{where}.severity must be a measure and a ramp [good, bad] with good != bad, "
                                "or a list of them")
                continue
            conf = p.get("confidence") or {}
            weights = conf.get("weights")
            if not isinstance(weights, dict) or not weights or not isinstance(conf.get("bias"), (int, float)):
                problems.append(f"{where}.confidence must have a bias and weights {{measurement: number}}")
                continue
            bounds = {key: _bounds(p.get(key)) for key in ("unless_above", "unless_below")}
            malformed = [key for key, b in bounds.items() if b is None]
            if malformed:
                problems.extend(f"{where}.{key} must map a measurement to a number" for key in malformed)
                continue
            second, why = _second_look(p.get("second_look"), path)
            if why:
                problems.append(f"{where}.second_look {why}")
                continue
            parsed.append(Problem(name, ramps, float(conf["bias"]), {k: float(v) for k, v in weights.items()},
                                  bool(conf.get("fit", False)), bounds["unless_above"], bounds["unless_below"],
                                  second))
        if not parsed:
            problems.append(f"{aspect}: list at least one problem")
        prefer = _preferences(spec.get("prefer"), {p.name for p in parsed})
        if prefer is None:
            problems.append(f"{aspect}.prefer must be a list of {{problem, measure, below}}, each problem of the "
                            "aspect and listed once")
        unless_below = _bounds(spec.get("unless_below"))
        if unless_below is None:
            problems.append(f"{aspect}.unless_below must map a measurement to a number")
        aspects[aspect] = {"value": spec.get("value"), "needs_item": bool(spec.get("needs_item")), "problems": parsed,
                           "prefer": prefer or (), "unless_below": unless_below or ()}
    for aspect, spec in aspects_in.items():
        unless, why = _unless_likely(spec.get("unless_likely"), aspect, aspects, aspects_in)
        if why:
            problems.append(f"{aspect}.unless_likely: {why}")
        aspects[aspect]["unless_likely"] = unless
    score = data.get("score") or {}
    weights = score.get("weights") or {}
    for aspect in ASPECTS:
        if not isinstance(weights.get(aspect), (int, float)) or weights[aspect] < 0:
            problems.append(f"score.weights.{aspect} must be a non-negative number")
    if not isinstance(score.get("base"), (int, float)):
        problems.append("score.base must be a number")
    nothing = score.get("nothing_to_see", {"at_most": 5.0, "below": {}})
    below = _bounds(nothing.get("below") or None) if isinstance(nothing, dict) else None
    at_most = nothing.get("at_most") if isinstance(nothing, dict) else None
    if ("nothing_to_see" in score and not below) or below is None or isinstance(at_most, bool) \
            or not isinstance(at_most, (int, float)) or not 1 <= at_most <= 5:
        problems.append("score.nothing_to_see must be {at_most: a number from 1 to 5, below: {measurement: bound}}")
    for key in ("report_at", "tip_confidence"):
        if not isinstance(data.get(key), (int, float)) or not 0 <= data[key] <= 1:
            problems.append(f"{key} must be a number between 0 and 1")
    if problems:
        raise PhotoTipsError("bad_config", f"photo-check model {path}:\n  " + "\n  ".join(problems))
    return Judgement(data["id"], int(data["version"]), float(data["report_at"]), float(data["tip_confidence"]),
                     aspects, float(score["base"]), {a: float(w) for a, w in weights.items()},
                     (float(at_most), below))


def _second_look(spec, path: str) -> tuple[SecondLook | None, str]:
    """The problem's second look, or None where it has none; and what is wrong with it, if anything."""
    if spec is None:
        return None, ""
    try:
        lo, hi = (float(x) for x in spec["band"])
        net = spec["network"]
        conf = spec["confidence"]
        second = SecondLook((lo, hi), Path(path).parent / str(net["file"]), int(net["side"]), int(net["output"]),
                            str(spec["reading"]), float(conf["bias"]),
                            {str(k): float(v) for k, v in conf["weights"].items()}, bool(conf.get("fit", False)))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None, ("must have band [low, high], network {file, side, output}, reading (a measurement name) and "
                      "confidence {bias, weights}")
    if not 0 <= lo < hi <= 1:
        return None, f"band must rise within 0-1; got {spec['band']}"
    if second.side < 1 or second.output < 0:
        return None, f"network side must be positive and output not negative; got {net['side']}, {net['output']}"
    if second.reading not in second.weights:
        return None, f"confidence must weigh its own reading, {second.reading}"
    return second, ""


def _ramps(spec) -> tuple[tuple[str, float, float], ...]:
    """One {measure, ramp: [good, bad]} or a list of them as (measure, good, bad); empty when malformed."""
    items = spec if isinstance(spec, list) else [spec]
    out = []
    for item in items:
        r = item.get("ramp") if isinstance(item, dict) else None
        if not (isinstance(r, list) and len(r) == 2 and all(isinstance(v, (int, float)) for v in r) and r[0] != r[1]
                and isinstance(item.get("measure"), str)):
            return ()
        out.append((item["measure"], float(r[0]), float(r[1])))
    return tuple(out)


def _unless_likely(spec, aspect: str, aspects: dict, raw: dict) -> tuple[tuple[tuple[Problem, float], ...], str]:
    """The aspect's `unless_likely` as (problem of another aspect, confidence) pairs, and what is wrong with it
    ("" when nothing).

    The problem gated on must be judged on every photo, so that "likely" means what it says: neither it nor its
    aspect is gated (which also rules out two aspects gating each other), and its aspect needs no item."""
    if spec is None:
        return (), ""
    if not isinstance(spec, dict) or not spec:
        return (), "must map \"aspect.problem\" to a confidence"
    out = []
    for key, at in spec.items():
        other, _, name = str(key).partition(".")
        found = [p for p in (aspects.get(other) or {}).get("problems", ()) if p.name == name]
        if other == aspect or not found:
            return (), f"{key!r} is not a problem of another aspect"
        if found[0].unless_above or found[0].unless_below or any((raw.get(other) or {}).get(gate)
                                        for gate in ("needs_item", "unless_likely", "unless_below")):
            return (), f"{key!r} is not judged on every photo (it or its aspect needs the item or is gated itself)"
        if isinstance(at, bool) or not isinstance(at, (int, float)) or not 0 < at <= 1:
            return (), f"{key!r} must be a confidence above 0 and at most 1, got {at!r}"
        out.append((found[0], float(at)))
    return tuple(out), ""


def _bounds(spec) -> tuple[tuple[str, float], ...] | None:
    """An aspect's `unless_below` or a problem's `unless_above` or `unless_below` as (measurement, bound) pairs;
    None when malformed."""
    if spec is None:
        return ()
    if not isinstance(spec, dict) or not spec or not all(
            isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for k, v in spec.items()):
        return None
    return tuple((k, float(v)) for k, v in spec.items())


def _preferences(spec, names: set[str]) -> tuple[Preference, ...] | None:
    """The aspect's `prefer` list, in order; None when malformed."""
    if spec is None:
        return ()
    if not isinstance(spec, list):
        return None
    out = []
    for item in spec:
        if not (isinstance(item, dict) and item.get("problem") in names and isinstance(item.get("measure"), str)
                and isinstance(item.get("below"), (int, float))):
            return None
        out.append(Preference(item["problem"], item["measure"], float(item["below"])))
    if len({p.problem for p in out}) != len(out):
        return None
    return tuple(out)
