"""A seeded A/B experiment in an event database (sellers first exposed over several days, outcomes at known rates),
for the A/B page's browser tests and bench/pages.py. Never point it at a real marketplace's database."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import insert

from phototips.storage.db import make_engine, migrate
from phototips.storage.events import utcnow
from phototips.storage.tables import events, exposures


def seed_experiment(url: str, exp, tip: str, aspect: str, sellers: int, days: int,
                    rates: dict[str, dict[str, float]], seed: int = 7) -> dict[str, int]:
    """`rates[variant][event type]` is each seller's chance of that outcome after their exposure.
    Returns the number of sellers seeded per variant."""
    rng = random.Random(seed)
    engine = make_engine(url)
    migrate(engine)
    start = utcnow().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=days)
    exposed, outcomes, per_variant = [], [], {}
    for i in range(sellers):
        seller = f"seeded:{exp.id}:{i}"
        variant = exp.assign(seller).id
        per_variant[variant] = per_variant.get(variant, 0) + 1
        t0 = start + timedelta(days=i * days // sellers, minutes=i % 600)
        exposed.append({"experiment": exp.id, "variant": variant, "seller_id": seller, "listing_id": f"{seller}:L",
                        "photo_id": f"{seller}:p1", "tip_id": tip, "aspect": aspect, "severity": 0.8, "score": 2.5,
                        "created_at": t0})
        for kind, p in rates[variant].items():
            if rng.random() < p:
                later = t0 + timedelta(minutes=5)
                outcomes.append({"event_id": f"seed:{seller}:{kind}", "seller_id": seller, "listing_id": f"{seller}:L",
                                 "type": kind, "photo_id": None, "tip_id": None, "experiment": None, "variant": None,
                                 "value": None, "occurred_at": later, "received_at": later, "source": "app"})
    with engine.begin() as conn:
        conn.execute(insert(exposures), exposed)
        if outcomes:
            conn.execute(insert(events), outcomes)
    engine.dispose()
    return per_variant
