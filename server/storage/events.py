"""Write exposures and outcome events; a repeated event id or exposure is stored once.

Every write is one transaction committed before the call returns, so whatever
the API acknowledges is on disk. Writers take SQLite's write lock up front and
retry on lock contention or a PostgreSQL serialization failure; a write that
still fails is counted (`lost_writes`, in /healthz) and logged with what it
carried, never dropped silently.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from .tables import events, exposures


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def insert_ignore(engine: Engine, table, index_elements: list[str]):
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing(index_elements=index_elements)


log = logging.getLogger(__name__)
ATTEMPTS = 6


def _contention(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return any(s in text for s in ("database is locked", "database table is locked", "deadlock detected",
                                   "could not serialize", "busy"))


class EventStore:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.lost_writes = 0
        self._lock = threading.Lock()

    def _write(self, what: str, fn):
        """Run fn(conn) in one write transaction, retried on lock contention with jittered backoff."""
        for attempt in range(ATTEMPTS):
            try:
                with self.engine.connect().execution_options(writer=True) as conn, conn.begin():
                    return fn(conn)
            except OperationalError as exc:
                if not _contention(exc) or attempt == ATTEMPTS - 1:
                    raise
                log.warning("%s: the store is busy (%s); retry %d", what, exc.orig, attempt + 1)
                time.sleep(random.uniform(0.5, 1.5) * 0.02 * 2 ** attempt)
        raise AssertionError("unreachable")

    def lost(self, what: str) -> None:
        with self._lock:
            self.lost_writes += 1
        log.error("LOST WRITE (%d so far in this process): %s", self.lost_writes, what)

    def add_events(self, rows: list[dict]) -> list[bool]:
        """Store events; returns, per row, whether it was new (False: its event_id was already stored).
        Raises when they could not be stored: the caller answers 503 and the client retries the same ids."""
        if not rows:
            return []
        ids = [r["event_id"] for r in rows]

        def write(conn):
            seen = set(conn.execute(select(events.c.event_id).where(events.c.event_id.in_(ids))).scalars())
            flags, fresh = [], []
            for r in rows:
                flags.append(r["event_id"] not in seen)
                if flags[-1]:
                    fresh.append(r)
                    seen.add(r["event_id"])
            if fresh:
                # ON CONFLICT covers a concurrent request carrying the same id.
                conn.execute(insert_ignore(self.engine, events, ["event_id"]), fresh)
            return flags

        return self._write(f"{len(rows)} events", write)

    def record_photo(self, *, seller_id: str, listing_id: str | None, photo_id: str, score: float,
                     aspects: dict, tips: list[dict]) -> None:
        """Exposures for the experiment tips sent with this photo, and the server's `improved` outcomes:
        did this photo fix what a tip on an earlier photo of the same listing was about?

        The seller already has their tips: a write that fails after every retry is counted and
        logged with what it held (photo, seller, tips), not raised."""
        now = utcnow()

        def write(conn):
            if listing_id:
                earlier = conn.execute(select(exposures).where(
                    exposures.c.seller_id == seller_id, exposures.c.listing_id == listing_id,
                    exposures.c.photo_id != photo_id)).mappings().all()
                outcomes = []
                for x in earlier:
                    finding = aspects.get(x["aspect"])
                    if finding is None:
                        continue
                    base = {"seller_id": seller_id, "listing_id": listing_id, "photo_id": photo_id,
                            "tip_id": x["tip_id"], "experiment": x["experiment"], "variant": x["variant"],
                            "occurred_at": now, "received_at": now, "source": "server"}
                    # Only the next photo after the tip counts, hence ids keyed by the exposure.
                    outcomes.append({**base, "event_id": f"next:{x['id']}", "type": "next_photo",
                                     "value": score - x["score"]})
                    if finding["severity"] < x["severity"] - 0.05:
                        outcomes.append({**base, "event_id": f"improved:{x['id']}", "type": "improved",
                                         "value": x["severity"] - finding["severity"]})
                if outcomes:
                    conn.execute(insert_ignore(self.engine, events, ["event_id"]), outcomes)
            rows = [{"experiment": t["experiment"], "variant": t["variant"], "seller_id": seller_id,
                     "listing_id": listing_id, "photo_id": photo_id, "tip_id": t["id"], "aspect": t["aspect"],
                     "severity": aspects[t["aspect"]]["severity"], "score": score, "created_at": now}
                    for t in tips if t.get("experiment") and t.get("counted")]
            if rows:
                conn.execute(insert_ignore(self.engine, exposures, ["photo_id", "tip_id"]), rows)

        try:
            self._write(f"exposures of {photo_id}", write)
        except Exception as exc:
            self.lost(f"exposures and outcomes of photo {photo_id} (seller {seller_id}, listing {listing_id}, "
                      f"tips {[t['id'] for t in tips if t.get('experiment')]}): {exc}")

    def count_events(self, **where) -> int:
        stmt = select(func.count()).select_from(events)
        for k, v in where.items():
            stmt = stmt.where(events.c[k] == v)
        with self.engine.connect() as conn:
            return conn.execute(stmt).scalar_one()
