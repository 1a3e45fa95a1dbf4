"""Load and check content/experiments.yaml; choose the wording a seller sees.

Assignment is a hash of the experiment id and the seller id mapped onto the
variants' cumulative weights: deterministic, so sticky across requests,
processes and restarts without storing anything. Requests without a seller id
get the control wording and are not counted.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone


from ..errors import PhotoTipsError
from ..tips.catalog import Catalog, Tip
from ..tips.select import Wording, default_variant
from ..yamlfile import read_yaml

# Fields of an event that event_fields may require of a type (the others are always required or never).
REQUIRABLE_FIELDS = {"listing_id", "photo_id", "tip_id", "experiment", "variant"}
# The outcomes the server records itself: an app's events of these types would be counted with them.
SERVER_OUTCOMES = ("improved", "next_photo")
# An id is read back in a URL path (/v1/experiments/<id>/report): no '/', and a hash input that never changes.
EXPERIMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# What a product person may write; any other key is most likely a misspelt one, whose value would be ignored.
FILE_KEYS = {"event_types", "event_fields", "experiments"}
EXPERIMENT_KEYS = {"id", "description", "tips", "start", "end", "variants"}
VARIANT_KEYS = {"id", "control", "weight", "wording"}


@dataclass(frozen=True)
class Variant:
    id: str
    control: bool
    weight: float
    wording: dict[str, dict[str, str]]  # tip id -> locale -> text


@dataclass(frozen=True)
class Experiment:
    id: str
    tips: tuple[str, ...]
    start: datetime
    end: datetime
    variants: tuple[Variant, ...]
    description: str = ""

    @property
    def control(self) -> Variant:
        return next(v for v in self.variants if v.control)

    def active(self, now: datetime) -> bool:
        return self.start <= now < self.end

    def assign(self, seller_id: str) -> Variant:
        digest = hashlib.sha256(f"{self.id}\x00{seller_id}".encode()).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64
        total = sum(v.weight for v in self.variants)
        edge = 0.0
        for v in self.variants:
            edge += v.weight / total
            if u < edge:
                return v
        return self.variants[-1]

    def weights(self) -> dict[str, float]:
        total = sum(v.weight for v in self.variants)
        return {v.id: v.weight / total for v in self.variants}


@dataclass(frozen=True)
class Experiments:
    event_types: tuple[str, ...]
    experiments: dict[str, Experiment]
    # event type -> the fields an event of that type must carry (event_fields in the file)
    event_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def for_tip(self, tip_id: str, now: datetime) -> Experiment | None:
        return next((e for e in self.experiments.values() if tip_id in e.tips and e.active(now)), None)

    def chooser(self, seller_id: str | None, now: datetime | None = None):
        """A tips.select chooser: experiment wording for this seller, the default elsewhere."""
        now = now or datetime.now(timezone.utc)

        def choose(tip: Tip) -> Wording:
            exp = self.for_tip(tip.id, now)
            if exp is None:
                return default_variant(tip)
            variant = exp.assign(seller_id) if seller_id else exp.control
            extra = {"experiment": exp.id, "variant": variant.id, "counted": bool(seller_id)}
            return Wording(variant.id, variant.wording[tip.id], extra)

        return choose


def _time(value, where: str, problems: list[str]) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    except ValueError:
        problems.append(f"{where}: {value!r} is not a date-time (use 2026-12-01T00:00:00Z)")
        return datetime.min.replace(tzinfo=timezone.utc)


def _unknown_keys(where: str, given: dict, known: set[str]) -> str:
    said = []
    for key in sorted(map(str, set(given) - known)):
        near = difflib.get_close_matches(key, sorted(known), n=1)
        said.append(f"{key!r}" + (f" (did you mean {near[0]!r}?)" if near else ""))
    return f"{where}: unknown key(s) {', '.join(said)}; expected {', '.join(sorted(known))}"[:300]


def check_experiments(path: str, catalog: Catalog) -> tuple[Experiments, list[str]]:
    """Everything that could be read from the file, and every problem found in it (empty when it is right).

    The server refuses to start on any problem (load_experiments); the wording preview shows them all."""
    try:
        data = read_yaml(path, "experiments file")
    except PhotoTipsError as exc:
        return Experiments((), {}), [exc.message]
    problems: list[str] = [_unknown_keys("the file", data, FILE_KEYS)] if set(data) - FILE_KEYS else []
    listed_types = data.get("event_types") or []
    event_types = tuple(str(t) for t in listed_types) if isinstance(listed_types, list) else ()
    if not event_types:
        problems.append("event_types: list the outcome events the app may report")
    for kind in set(event_types) & set(SERVER_OUTCOMES):
        problems.append(f"event_types: {kind!r} is an outcome the server records itself; the app's would be "
                        f"counted with it")
    needed = data.get("event_fields") or {}
    event_fields: dict[str, tuple[str, ...]] = {}
    if not isinstance(needed, dict):
        problems.append("event_fields: map an event type to the fields its events must carry")
        needed = {}
    for kind, fields in needed.items():
        if kind not in event_types:
            problems.append(f"event_fields.{kind}: not one of event_types")
        elif not isinstance(fields, list) or not set(map(str, fields)) <= REQUIRABLE_FIELDS:
            problems.append(f"event_fields.{kind}: a list of {', '.join(sorted(REQUIRABLE_FIELDS))}")
        else:
            event_fields[kind] = tuple(map(str, fields))
    experiments: dict[str, Experiment] = {}
    listed = data.get("experiments") or []
    if not isinstance(listed, list):
        problems.append(f"experiments: expected a list of experiments, got {listed!r}"[:200])
        listed = []
    for i, spec in enumerate(listed):
        if not isinstance(spec, dict):
            problems.append(f"experiments[{i + 1}]: expected id, tips, start, end and variants, got {spec!r}")
            continue
        eid = str(spec.get("id") or f"#{i + 1}")
        where = f"experiment {eid}"
        if not spec.get("id"):
            problems.append(f"experiments[{i + 1}]: needs an id (sellers are assigned by it: it must not change)")
        elif not EXPERIMENT_ID.match(eid):
            problems.append(f"{where}: an id is letters, digits, '.', '_' and '-' (it is part of the report's URL)")
        if eid in experiments:
            problems.append(f"{where}: id used twice")
        if set(spec) - EXPERIMENT_KEYS:
            problems.append(_unknown_keys(where, spec, EXPERIMENT_KEYS))
        raw_tips = spec.get("tips") or []
        tips = tuple(str(t) for t in (raw_tips if isinstance(raw_tips, list) else [raw_tips]))
        if not tips:
            problems.append(f"{where}: list the tips it covers")
        for t in tips:
            if t not in catalog.tips:
                problems.append(f"{where}: unknown tip {t!r}")
        start = _time(spec.get("start"), f"{where}.start", problems)
        end = _time(spec.get("end"), f"{where}.end", problems)
        if start >= end:
            problems.append(f"{where}: start must be before end")
        variants = []
        listed_variants = spec.get("variants") or []
        if not isinstance(listed_variants, list):
            problems.append(f"{where}: variants must be a list"[:200])
            listed_variants = []
        for v in listed_variants:
            if not isinstance(v, dict):
                problems.append(f"{where}: a variant must have an id, a weight and wording, got {v!r}")
                continue
            vid = str(v.get("id", "?"))
            vwhere = f"{where}, variant {vid}"
            if set(v) - VARIANT_KEYS:
                problems.append(_unknown_keys(vwhere, v, VARIANT_KEYS))
            weight = v.get("weight", 1)
            if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 < weight < math.inf:
                problems.append(f"{vwhere}: weight must be a positive number, got {weight!r}")
                weight = 1
            given_wording = v.get("wording") if isinstance(v.get("wording"), dict) else {}
            wording = {}
            for t in tips:
                given = given_wording.get(t)
                if t not in catalog.tips:
                    continue
                if isinstance(given, str):
                    if given not in catalog.tips[t].variants:
                        problems.append(f"{vwhere}: tip {t} has no catalog variant {given!r}")
                        continue
                    wording[t] = catalog.tips[t].variants[given]
                elif isinstance(given, dict):
                    for loc in catalog.locales:
                        if not isinstance(given.get(loc), str) or not given[loc].strip():
                            problems.append(f"{vwhere}: tip {t} has no wording for locale {loc!r}")
                    wording[t] = {loc: str(given.get(loc, "")) for loc in catalog.locales}
                else:
                    problems.append(f"{vwhere}: give tip {t} a catalog variant id or a wording per locale")
            extra = set(given_wording) - set(tips)
            if extra:
                problems.append(f"{vwhere}: wording for tips the experiment does not cover: {', '.join(sorted(map(str, extra)))}")
            variants.append(Variant(vid, bool(v.get("control")), float(weight), wording))
        if len(variants) < 2:
            problems.append(f"{where}: needs at least two variants")
        if sum(v.control for v in variants) != 1:
            problems.append(f"{where}: exactly one variant must be the control")
        if len({v.id for v in variants}) != len(variants):
            problems.append(f"{where}: variant ids must be unique")
        experiments[eid] = Experiment(eid, tips, start, end, tuple(variants), str(spec.get("description", "")))
    exps = list(experiments.values())
    for i, a in enumerate(exps):
        for b in exps[i + 1:]:
            shared = set(a.tips) & set(b.tips)
            if shared and a.start < b.end and b.start < a.end:
                problems.append(f"experiments {a.id} and {b.id} both test {', '.join(sorted(shared))} at the same time")
    return Experiments(event_types, experiments, event_fields), problems


def load_experiments(path: str, catalog: Catalog) -> Experiments:
    experiments, problems = check_experiments(path, catalog)
    if problems:
        raise PhotoTipsError("bad_config", f"experiments file {path}:\n  " + "\n  ".join(problems))
    return experiments
