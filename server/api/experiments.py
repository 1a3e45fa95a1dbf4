"""HTTP routes for A/B tests: POST /v1/events (idempotent, durable), experiment list and reports."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from ..errors import PhotoTipsError
from ..experiments.report import experiment_report
from ..service import PhotoService, text_field
from ..storage.events import utcnow

log = logging.getLogger(__name__)
bp = Blueprint("experiments", __name__)

MAX_EVENTS = 500
EVENT_FIELDS = {"event_id", "seller_id", "listing_id", "type", "time", "photo_id", "tip_id", "experiment", "variant"}


def service() -> PhotoService:
    return current_app.extensions["phototips"]


def _when(value, i: int) -> datetime:
    if value is None:
        return utcnow()
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise PhotoTipsError("bad_field", f"events[{i}].time {value!r} is not an ISO 8601 time", 400) from None
    t = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    if t > utcnow() + timedelta(days=1):
        raise PhotoTipsError("bad_field", f"events[{i}].time is in the future", 400)
    return t


def parse_events(body, event_types: tuple[str, ...]) -> list[dict]:
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
    rows = []
    for i, ev in enumerate(items):
        if not isinstance(ev, dict):
            raise PhotoTipsError("bad_payload", f"events[{i}] is not an object", 400)
        unknown = set(ev) - EVENT_FIELDS
        if unknown:
            raise PhotoTipsError("unknown_field", f"events[{i}]: unknown field(s) {', '.join(sorted(unknown))}", 400)
        row = {k: text_field(f"events[{i}].{k}", ev.get(k))
               for k in ("seller_id", "listing_id", "type", "photo_id", "tip_id", "experiment", "variant")}
        event_id = ev.get("event_id")
        if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > 120:
            raise PhotoTipsError("missing_field", f"events[{i}].event_id must be a string of 1–120 characters", 400)
        if not row["seller_id"]:
            raise PhotoTipsError("missing_field", f"events[{i}].seller_id is required", 400)
        if row["type"] not in event_types:
            raise PhotoTipsError("bad_field", f"events[{i}].type must be one of {', '.join(event_types)}", 400)
        rows.append({**row, "event_id": "app:" + event_id.strip(), "value": None, "occurred_at": _when(ev.get("time"), i),
                     "received_at": now, "source": "app"})
    return rows


@bp.post("/v1/events")
def post_events():
    body = request.get_json(silent=True)
    if body is None:
        raise PhotoTipsError("bad_json", "the body must be JSON (Content-Type: application/json)", 400)
    svc = service()
    rows = parse_events(body, svc.experiments.event_types)
    try:
        fresh = svc.events.add_events(rows)
    except SQLAlchemyError:
        log.exception("event store failed")
        raise PhotoTipsError("storage_unavailable", "events were not stored; retry with the same event ids", 503) from None
    return jsonify({
        "stored": sum(fresh), "duplicates": len(fresh) - sum(fresh),
        "results": [{"event_id": r["event_id"].removeprefix("app:"), "status": "stored" if f else "duplicate"}
                    for r, f in zip(rows, fresh)],
    })


@bp.get("/v1/experiments")
def list_experiments():
    now = utcnow()
    return jsonify({"experiments": [
        {"id": e.id, "description": e.description, "tips": list(e.tips), "active": e.active(now),
         "start": e.start.isoformat(), "end": e.end.isoformat(),
         "variants": [{"id": v.id, "control": v.control, "weight": w} for v, w in zip(e.variants, e.weights().values())]}
        for e in service().experiments.experiments.values()]})


@bp.get("/v1/experiments/<experiment_id>/report")
def report(experiment_id: str):
    svc = service()
    exp = svc.experiments.experiments.get(experiment_id)
    if exp is None:
        raise PhotoTipsError("unknown_experiment", f"no experiment {experiment_id!r}", 404)
    return jsonify(experiment_report(svc.engine, exp, svc.experiments.event_types,
                                     svc.settings.min_sellers_per_variant))
