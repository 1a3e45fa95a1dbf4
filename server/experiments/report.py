"""The A/B report of one experiment: per variant sellers, exposures, outcome rates and score change,
the difference from control with a 95% interval and p-value, and a sample-ratio-mismatch check.

Unit of analysis: the seller (assignment is per seller). A seller counts for an
outcome when they have at least one such event at or after their first exposure.
Each rate carries a Wilson 95% interval; rates are compared with a two-proportion
test (chi-square without continuity correction, i.e. the z-test) and Newcombe's
hybrid-score interval for the difference; the score change on the next photo with Welch's t-test and its interval
(scipy). New sellers are counted per UTC day of their first exposure.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from datetime import date, timedelta
from itertools import accumulate

from scipy import stats
from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql import ColumnElement

from ..storage.events import utcnow
from ..storage.tables import events, exposures
from .config import Experiment

SRM_ALPHA = 0.001


def _rate_diff(x1: int, n1: int, x0: int, n0: int) -> dict:
    """Difference of two rates, its Newcombe hybrid-score 95% interval (from the two Wilson intervals, so it
    agrees with the rates drawn beside it and stays honest at 0 or n), and the two-proportion test's p-value."""
    p1, p0 = x1 / n1, x0 / n0
    (l1, u1), (l0, u0) = _rate_ci(x1, n1), _rate_ci(x0, n0)
    d = p1 - p0
    low = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    table = [[x1, n1 - x1], [x0, n0 - x0]]
    if min(x1 + x0, n1 + n0 - x1 - x0) == 0:
        p = 1.0  # nobody (or everybody) did it in either arm: no evidence of a difference
    else:
        p = float(stats.chi2_contingency(table, correction=False)[1])
    return {"diff": d, "ci95": [low, high], "p_value": p, "excludes_zero": bool(low > 0 or high < 0)}


def _mean_diff(a: list[float], b: list[float]) -> dict | None:
    if len(a) < 2 or len(b) < 2:
        return None
    with warnings.catch_warnings():
        # Arms of (nearly) identical values: scipy warns of "catastrophic cancellation" on the reader's terminal;
        # the answer is then not finite, and no interval is given (below).
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.ttest_ind(a, b, equal_var=False)
        ci = res.confidence_interval(0.95)
    if not all(math.isfinite(v) for v in (res.pvalue, ci.low, ci.high)):
        return None  # no spread in either arm: no interval to give (and JSON has no NaN)
    return {"diff": float(sum(a) / len(a) - sum(b) / len(b)), "ci95": [float(ci.low), float(ci.high)],
            "p_value": float(res.pvalue), "excludes_zero": bool(ci.low > 0 or ci.high < 0)}


def _rate_ci(x: int, n: int) -> list[float] | None:
    if not n:
        return None
    ci = stats.binomtest(x, n).proportion_ci(0.95, method="wilson")
    return [float(ci.low), float(ci.high)]


def _utc_day(column, dialect: str) -> ColumnElement:
    """The UTC calendar day of a timestamp as 'YYYY-MM-DD', in SQL, so the database groups it."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.date(column)  # SQLite stores UTC times as text; date() reads their day


def _share(x: float) -> str:
    return f"{100 * x:.1f}%"


def srm_testable(total: int, expected_share: dict[str, float]) -> bool:
    """χ² needs about five expected sellers in every variant before its p-value means anything."""
    return min(total * w for w in expected_share.values()) >= 5


def srm_in_words(observed: dict[str, int], expected_share: dict[str, float], p: float) -> str:
    """The sample-ratio check told to a product manager: what was configured, what happened, what it means."""
    total = sum(observed.values())
    got = " / ".join(f"{_share(n / total)} {v}" for v, n in observed.items())
    wanted = " / ".join(_share(w) for w in expected_share.values())
    said = f"Sellers were split {got}, against {wanted} configured. "
    if not srm_testable(total, expected_share):
        return said + (f"With {total} sellers the check cannot tell yet whether the split works; "
                       "it needs at least 5 expected sellers in every variant.")
    chance = (f"in {_share(p)} of experiments" if p >= 0.001 else "in fewer than 1 in 1,000 experiments")
    if p < SRM_ALPHA:
        return said + (f"A split this uneven would happen by chance {chance} (p = {p:.2g}): something assigns or "
                       "counts sellers unevenly (a variant that crashes, fails to log exposures, or was changed "
                       "mid-test). Do not read the differences until this is fixed.")
    return said + (f"A split at least this uneven happens by chance {chance} (p = {p:.2g}), so the split looks "
                   f"as configured; the check alarms only below p = {SRM_ALPHA}.")


def experiment_report(engine, exp: Experiment, event_types: tuple[str, ...], min_sellers: int) -> dict:
    first = (select(exposures.c.seller_id, exposures.c.variant, func.min(exposures.c.created_at).label("t0"),
                    func.count().label("n"))
             .where(exposures.c.experiment == exp.id)
             .group_by(exposures.c.seller_id, exposures.c.variant).subquery())
    outcome_types = tuple(event_types) + ("improved", "next_photo")
    with engine.connect() as conn:
        sellers = conn.execute(select(first.c.variant, func.count(), func.sum(first.c.n))
                               .group_by(first.c.variant)).all()
        hits = conn.execute(
            select(first.c.variant, events.c.type, func.count(func.distinct(events.c.seller_id)))
            .select_from(first.join(events, events.c.seller_id == first.c.seller_id))
            .where(events.c.occurred_at >= first.c.t0, events.c.type.in_(outcome_types),
                   or_(events.c.experiment.is_(None), events.c.experiment == exp.id))
            .group_by(first.c.variant, events.c.type)).all()
        day = _utc_day(first.c.t0, engine.dialect.name)
        by_day = conn.execute(select(day, first.c.variant, func.count()).group_by(day, first.c.variant)
                              .order_by(day)).all()
        deltas = conn.execute(
            select(events.c.variant, events.c.seller_id, events.c.value)
            .where(and_(events.c.experiment == exp.id, events.c.type == "next_photo"))).all()

    n_sellers = {v: int(c) for v, c, _ in sellers}
    n_exposures = {v: int(x or 0) for v, _, x in sellers}
    counts = defaultdict(dict)
    for v, t, c in hits:
        counts[v][t] = int(c)
    # The unit is the seller, as for the rates: a seller's next photos are averaged first, so one seller who sends
    # many photos weighs as one (counted photo by photo, their photos were taken as independent sellers', and the
    # interval came out too narrow).
    per_seller = defaultdict(lambda: defaultdict(list))
    photos_after = defaultdict(int)
    for v, seller, value in deltas:
        per_seller[v][seller].append(float(value))
        photos_after[v] += 1
    score_change = {v: [sum(xs) / len(xs) for xs in sellers_.values()] for v, sellers_ in per_seller.items()}
    score_change = defaultdict(list, score_change)

    metrics = tuple(event_types) + ("improved",)
    control = exp.control.id
    variants = []
    for v in exp.variants:
        n = n_sellers.get(v.id, 0)
        row = {
            "variant": v.id, "control": v.control, "weight": round(exp.weights()[v.id], 4),
            "sellers": n, "exposures": n_exposures.get(v.id, 0),
            "rates": {m: (counts[v.id].get(m, 0) / n if n else None) for m in metrics},
            "rate_ci95": {m: _rate_ci(counts[v.id].get(m, 0), n) for m in metrics},
            "sellers_with": {m: counts[v.id].get(m, 0) for m in metrics},
            "next_photos": photos_after[v.id],
            "next_photo_sellers": len(score_change[v.id]),
            "mean_score_change": (sum(score_change[v.id]) / len(score_change[v.id]) if score_change[v.id] else None),
        }
        if not v.control and n and n_sellers.get(control):
            n0 = n_sellers[control]
            row["vs_control"] = {m: _rate_diff(counts[v.id].get(m, 0), n, counts[control].get(m, 0), n0)
                                 for m in metrics}
            row["vs_control"]["score_change"] = _mean_diff(score_change[v.id], score_change[control])
        variants.append(row)

    total = sum(n_sellers.values())
    srm = None
    if total:
        observed = [n_sellers.get(v.id, 0) for v in exp.variants]
        expected = [total * exp.weights()[v.id] for v in exp.variants]
        p = float(stats.chisquare(observed, expected).pvalue)
        srm = {"observed": dict(zip([v.id for v in exp.variants], observed)),
               "expected_share": exp.weights(), "p_value": p,
               "mismatch": p < SRM_ALPHA and srm_testable(total, exp.weights())}
        srm["explanation"] = srm_in_words(srm["observed"], srm["expected_share"], p)
    smallest = min((n_sellers.get(v.id, 0) for v in exp.variants), default=0)
    enough = smallest >= min_sellers
    if not total:
        verdict = "No data yet: no seller has been shown a tip of this experiment."
    elif not enough:
        verdict = (f"Not enough data yet: the smallest variant has {smallest} sellers; differences are not "
                   f"worth reading before every variant has {min_sellers}.")
    elif srm and srm["mismatch"]:
        verdict = (f"Sample ratio mismatch: sellers are not split as configured (p < {SRM_ALPHA}); "
                   "fix the assignment or logging before trusting any difference.")
    else:
        verdict = "Enough data to read the differences below (95% intervals; p-values are not corrected for multiple metrics)."
    return {
        "experiment": exp.id, "description": exp.description, "tips": list(exp.tips),
        "start": exp.start.isoformat(), "end": exp.end.isoformat(),
        "status": "ready" if enough and not (srm and srm["mismatch"]) else ("srm" if enough else "collecting"),
        "verdict": verdict, "min_sellers_per_variant": min_sellers, "sellers": total,
        "variants": variants, "srm": srm, "sellers_over_time": _over_time(by_day, [v.id for v in exp.variants],
                                        min(utcnow(), exp.end).date(), exp.start.date(), exp.end.date()),
    }


def _over_time(rows, variant_ids: list[str], last_day: date, start_day: date, end_day: date) -> dict:
    """New and running sellers per variant on every UTC day from the first exposure to `last_day`, zeros
    included: a day with no new seller (logging stopped, a variant broke) shows as a flat step, not a gap."""
    counted = [(date.fromisoformat(str(d)), v, int(n)) for d, v, n in rows if d is not None]
    if not counted:
        return {"days": [], "new": {v: [] for v in variant_ids}, "cumulative": {v: [] for v in variant_ids}}
    # Exposures are recorded only while the experiment runs, so this spans its days at most (a clock far off
    # would otherwise draw decades).
    first = max(start_day, min(d for d, _, _ in counted))
    last = min(max(last_day, max(d for d, _, _ in counted)), end_day)
    counted = [(d, v, n) for d, v, n in counted if first <= d <= last]
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    new = {v: [0] * len(days) for v in variant_ids}
    for d, v, n in counted:
        if v in new:
            new[v][(d - first).days] += n
    return {"days": [d.isoformat() for d in days], "new": new,
            "cumulative": {v: list(accumulate(c)) for v, c in new.items()}}
