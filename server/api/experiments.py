"""HTTP routes for A/B tests: POST /v1/events (idempotent, durable), experiment list and reports."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from ..auth.principal import Principal, require
from ..errors import PhotoTipsError
from ..experiments.config import Experiments
from ..experiments.preview import wording_preview
from ..experiments.report import experiment_report
from ..storage.events import utcnow
from ..validate import text
from .http import json_body, limits, principal, service, strict_query

log = logging.getLogger(__name__)
bp = Blueprint("experiments", __name__)
bp.before_request(strict_query)

MAX_EVENTS = 500
EVENT_FIELDS = {"event_id", "seller_id", "listing_id", "type", "time", "photo_id", "tip_id", "experiment", "variant"}
# Event ids are stored namespaced by their sender (see tables.events), in a column of 255.
MAX_EVENT_ID = 100
MAX_PHOTO_ID = 40
# Nothing happened on a marketplace before the service existed.
EARLIEST = datetime(2020, 1, 1, tzinfo=timezone.utc)


def _when(value, i: int) -> datetime:
    if value is None:
        return utcnow()
    where = f"events[{i}].time"
    raw = text(where, value, 40)
    try:
        t = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        t = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
        t = t.astimezone(timezone.utc)
    except (ValueError, OverflowError, AttributeError):
        raise PhotoTipsError("bad_field", f"{where} {value!r} is not an ISO 8601 time", 400) from None
    if not EARLIEST <= t <= utcnow() + timedelta(days=1):
        raise PhotoTipsError("bad_field", f"{where} must be between 2020 and tomorrow", 400)
    return t


def parse_events(body, experiments: Experiments, who: Principal) -> tuple[list[dict], list[str]]:
    """Checked rows (seller, listing and event ids namespaced by the caller) and the caller's own event ids;
    a 400 naming the first bad field.

    An app key posts for any of its sellers (`seller_id` required); a seller token
    posts for its own seller only (`seller_id` omitted or the token's own)."""
    event_types = experiments.event_types
    if isinstance(body, dict) and "events" in body:
        items = body["events"]
    elif isinstance(body, dict):
        items = [body]
    else:
        items = body
    if not isinstance(items, list) or not items:
        raise PhotoTipsError("bad_payload", "send an event object, a list of them, or {\"events\": [...]}", 400)
    if len(items) > MAX_EVENTS:
        raise PhotoTipsError("too_many_events", f"at most {MAX_EVENTS} events per request", 413)
    now = utcnow()
    rows, own_ids = [], []
    for i, ev in enumerate(items):
        if not isinstance(ev, dict):
            raise PhotoTipsError("bad_payload", f"events[{i}] is not an object", 400)
        unknown = set(ev) - EVENT_FIELDS
        if unknown:
            raise PhotoTipsError("unknown_field", f"events[{i}]: unknown field(s) {', '.join(sorted(unknown))}", 400)
        row = {k: text(f"events[{i}].{k}", ev.get(k))
               for k in ("seller_id", "listing_id", "type", "tip_id", "experiment", "variant")}
        row["photo_id"] = text(f"events[{i}].photo_id", ev.get("photo_id"), MAX_PHOTO_ID)
        event_id = text(f"events[{i}].event_id", ev.get("event_id"), MAX_EVENT_ID)
        if not event_id:
            raise PhotoTipsError("missing_field", f"events[{i}].event_id must be a string of 1–{MAX_EVENT_ID} "
                                                  f"characters", 400)
        if who.kind == "seller":
            if row["seller_id"] not in (None, who.seller):
                raise PhotoTipsError("forbidden", f"events[{i}].seller_id: a seller token posts its own events only", 403)
            row["seller_id"] = who.seller
        elif not row["seller_id"]:
            raise PhotoTipsError("missing_field", f"events[{i}].seller_id is required", 400)
        if row["type"] not in event_types:
            raise PhotoTipsError("bad_field", f"events[{i}].type must be one of {', '.join(event_types)}", 400)
        for needed in experiments.event_fields.get(row["type"], ()):
            if not row[needed]:
                raise PhotoTipsError("missing_field", f"events[{i}].{needed} is required for a {row['type']} event", 400)
        exp = experiments.experiments.get(row["experiment"]) if row["experiment"] else None
        if row["experiment"] and exp is None:
            raise PhotoTipsError("bad_field", f"events[{i}].experiment {row['experiment']!r} is not a known experiment", 400)
        if row["variant"] and (exp is None or row["variant"] not in {v.id for v in exp.variants}):
            raise PhotoTipsError("bad_field", f"events[{i}].variant must be a variant of events[{i}].experiment", 400)
        row["seller_id"] = who.namespaced(row["seller_id"])
        if row["listing_id"]:
            row["listing_id"] = who.namespaced(row["listing_id"])
        sender = f"seller:{who.seller_key}" if who.kind == "seller" else f"app:{who.client}"
        rows.append({**row, "event_id": f"{sender}:{event_id}", "value": None,
                     "occurred_at": _when(ev.get("time"), i), "received_at": now, "source": "app"})
        own_ids.append(event_id)
    return rows, own_ids


@bp.post("/v1/events")
def post_events():
    who = require(principal(), "app", seller=True)
    svc = service()
    rows, own_ids = parse_events(json_body(), svc.experiments, who)
    if who.kind == "seller":  # a phone reports on its own listings only
        for own_id in {r["listing_id"].split("/", 1)[1] for r in rows if r["listing_id"]}:
            svc.owned_listing(who, own_id)
    limits().check("events", who, cost=len(rows))
    try:
        fresh = svc.events.add_events(rows)
    except SQLAlchemyError:
        log.exception("event store failed")
        raise PhotoTipsError("storage_unavailable", "events were not stored; retry with the same event ids", 503) from None
    return jsonify({
        "stored": sum(fresh), "duplicates": len(fresh) - sum(fresh),
        "results": [{"event_id": e, "status": "stored" if f else "duplicate"} for e, f in zip(own_ids, fresh)],
    })


@bp.get("/v1/experiments")
def list_experiments():
    require(principal(), "product")
    now = utcnow()
    return jsonify({"experiments": [
        {"id": e.id, "description": e.description, "tips": list(e.tips), "active": e.active(now),
         "start": e.start.isoformat(), "end": e.end.isoformat(),
         "variants": [{"id": v.id, "control": v.control, "weight": w} for v, w in zip(e.variants, e.weights().values())]}
        for e in service().experiments.experiments.values()]})


@bp.get("/v1/experiments/<experiment_id>/report")
def report(experiment_id: str):
    require(principal(), "product")
    svc = service()
    exp = svc.experiments.experiments.get(experiment_id)
    if exp is None:
        raise PhotoTipsError("unknown_experiment", f"no experiment {experiment_id!r}", 404)
    return jsonify(experiment_report(svc.engine, exp, svc.experiments.event_types,
                                     svc.settings.min_sellers_per_variant))


@bp.get("/v1/experiments/wording")
def wording():
    """Every tip as sellers would read it, per variant and locale, from the content files as they are now."""
    require(principal(), "product")
    svc = service()
    return jsonify(wording_preview(svc.settings.tips_file, svc.settings.experiments_file, svc.catalog, utcnow()))
