"""Simulation: thousands of sellers in an A/B test with a known true effect, through a real server.

    .venv/bin/python bench/ab_simulation.py [--sellers 3000] [--database-url URL]

A server process is started on a throw-away database with one experiment on the
dark-photo tip (control 60%, treatment 40%). Every seller uploads a dark photo
with their seller id (so the server assigns a variant and records the
exposure), then reports `retake` with probability 30% (control) or 36%
(treatment: the true effect is +6 points) and `publish` with 50% in both.
Checks: the report's 95% interval for the retake difference covers +6 points,
sellers split by the configured weights, and no sample-ratio mismatch. Measures
the event rate the server sustains (one event per request, several clients) and
the p95 acknowledgement latency, against GET /healthz in the same run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests
import yaml
from PIL import Image

from local_server import ServerProcess

P_RETAKE = {"control": 0.30, "treatment": 0.36}
P_PUBLISH = 0.50
WEIGHTS = {"control": 3, "treatment": 2}
EXPERIMENT = "sim-dark-photos"


def dark_photo() -> bytes:
    from skimage import data

    img = Image.fromarray((data.chelsea().astype(np.float32) * 0.25).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def start_experiment_server(tmp: Path, database_url: str) -> ServerProcess:
    exp_file = tmp / "experiments.yaml"
    exp_file.write_text(yaml.safe_dump({"event_types": ["retake", "publish", "dismiss"], "experiments": [{
        "id": EXPERIMENT, "tips": ["lighting.too_dark"],
        "start": "2020-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z",
        "variants": [{"id": "control", "control": True, "weight": WEIGHTS["control"], "wording": {"lighting.too_dark": "a"}},
                     {"id": "treatment", "weight": WEIGHTS["treatment"], "wording": {"lighting.too_dark": "b"}}]}]}))
    return ServerProcess({"PHOTOTIPS_EXPERIMENTS_FILE": str(exp_file), "PHOTOTIPS_DATABASE_URL": database_url,
                          "PHOTOTIPS_LOG_LEVEL": "WARNING",
                          # One simulated client stands for every seller of the marketplace: lift the per-client limits.
                          "PHOTOTIPS_RATE_UPLOADS_CLIENT": "1000000/minute", "PHOTOTIPS_RATE_EVENTS": "1000000/minute"})


def timed_calls(fn, items, workers: int) -> tuple[list[float], float]:
    local = threading.local()

    def one(item):
        if not hasattr(local, "s"):
            local.s = requests.Session()
        t = time.perf_counter()
        fn(local.s, item)
        return time.perf_counter() - t

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        lat = list(pool.map(one, items))
    return lat, time.perf_counter() - start


def coverage(replicates: int, sellers: int, seed: int) -> dict:
    """Re-run the experiment `replicates` times through the report code on SQLite (no HTTP): how often
    does the 95% interval cover the true effect? A calibrated interval covers it about 95% of the time."""
    from datetime import datetime, timezone

    from phototips.experiments.config import Experiment, Variant
    from phototips.experiments.report import experiment_report
    from phototips.storage.db import make_engine, migrate
    from phototips.storage.tables import events, exposures

    exp = Experiment(EXPERIMENT, ("lighting.too_dark",), datetime(2020, 1, 1, tzinfo=timezone.utc),
                     datetime(2100, 1, 1, tzinfo=timezone.utc),
                     (Variant("control", True, WEIGHTS["control"], {}), Variant("treatment", False, WEIGHTS["treatment"], {})))
    rng = random.Random(seed)
    truth = P_RETAKE["treatment"] - P_RETAKE["control"]
    covered, estimates = 0, []
    now = datetime.now(timezone.utc)
    for r in range(replicates):
        engine = make_engine("sqlite://")
        migrate(engine)
        xs, evs = [], []
        for i in range(sellers):
            s = f"r{r}-s{i}"
            v = exp.assign(s).id
            xs.append({"experiment": EXPERIMENT, "variant": v, "seller_id": s, "listing_id": "L", "photo_id": f"{s}-p",
                       "tip_id": "lighting.too_dark", "aspect": "lighting", "severity": 0.8, "score": 2.0, "created_at": now})
            if rng.random() < P_RETAKE[v]:
                evs.append({"event_id": f"{s}-r", "seller_id": s, "listing_id": "L", "type": "retake",
                            "occurred_at": now, "received_at": now, "source": "app"})
        with engine.begin() as conn:
            conn.execute(exposures.insert(), xs)
            conn.execute(events.insert(), evs)
        d = experiment_report(engine, exp, ("retake", "publish", "dismiss"), 100)["variants"][1]["vs_control"]["retake"]
        covered += d["ci95"][0] <= truth <= d["ci95"][1]
        estimates.append(d["diff"])
    return {"replicates": replicates, "coverage": covered / replicates,
            "mean_estimate": round(statistics.mean(estimates), 4), "truth": truth}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sellers", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    ap.add_argument("--database-url", help="default: a fresh SQLite file")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--replicates", type=int, default=200, help="simulated experiments for the coverage check")
    ap.add_argument("--out", default="bench/out/ab_simulation.json")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="phototips-sim-"))
    db = args.database_url or f"sqlite:///{tmp / 'sim.db'}"
    server = start_experiment_server(tmp, db)
    url = server.url
    try:
        photo = dark_photo()
        assigned: dict[str, str] = {}

        def upload(session, seller):
            # A development server (no API key) hands out seller tokens: the seller id comes from the token.
            token = session.get(url + "/dev/token", params={"seller": seller}, timeout=30).json()["token"]
            r = session.post(url + "/v1/score", files={"photo": ("p.jpg", photo)},
                             data={"listing_id": f"L-{seller}"}, headers={"Authorization": "Bearer " + token},
                             timeout=30)
            tip = next(t for t in r.json()["tips"] if t["id"] == "lighting.too_dark")
            assigned[seller] = tip["variant"]

        sellers = [f"sim-seller-{i}" for i in range(args.sellers)]
        timed_calls(upload, sellers, args.clients)

        events = []
        for s in sellers:
            if rng.random() < P_RETAKE[assigned[s]]:
                events.append({"event_id": f"{s}-retake", "seller_id": s, "listing_id": f"L-{s}", "type": "retake"})
            if rng.random() < P_PUBLISH:
                events.append({"event_id": f"{s}-publish", "seller_id": s, "listing_id": f"L-{s}", "type": "publish"})
        rng.shuffle(events)

        def post_event(session, ev):
            r = session.post(url + "/v1/events", json=ev, timeout=30)
            assert r.status_code == 200 and r.json()["stored"] == 1, r.text

        def health(session, _):
            session.get(url + "/healthz", timeout=30).raise_for_status()

        base_lat, base_wall = timed_calls(health, range(len(events)), args.clients)
        ev_lat, ev_wall = timed_calls(post_event, events, args.clients)
        report = requests.get(url + f"/v1/experiments/{EXPERIMENT}/report", timeout=60).json()
    finally:
        server.stop()

    rows = {v["variant"]: v for v in report["variants"]}
    diff = rows["treatment"]["vs_control"]["retake"]
    truth = P_RETAKE["treatment"] - P_RETAKE["control"]
    share = rows["treatment"]["sellers"] / max(1, report["sellers"])
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "database": db.split(":")[0], "sellers": args.sellers, "events": len(events), "clients": args.clients,
        "true_retake_effect": truth,
        "estimated_retake_effect": round(diff["diff"], 4), "ci95": [round(x, 4) for x in diff["ci95"]],
        "p_value": diff["p_value"], "interval_covers_truth": diff["ci95"][0] <= truth <= diff["ci95"][1],
        "treatment_share": round(share, 4), "configured_share": WEIGHTS["treatment"] / sum(WEIGHTS.values()),
        "srm_p_value": report["srm"]["p_value"], "srm_mismatch": report["srm"]["mismatch"],
        "publish_effect_ci95": [round(x, 4) for x in rows["treatment"]["vs_control"]["publish"]["ci95"]],
        "events_per_s": round(len(events) / ev_wall, 1),
        "event_ack_ms": {"p50": round(statistics.median(ev_lat) * 1000, 2),
                         "p95": round(float(np.percentile(ev_lat, 95)) * 1000, 2)},
        "healthz_per_s": round(len(events) / base_wall, 1),
        "healthz_ms": {"p50": round(statistics.median(base_lat) * 1000, 2),
                       "p95": round(float(np.percentile(base_lat, 95)) * 1000, 2)},
        "status": report["status"],
    }
    result["events_vs_healthz_throughput"] = round(result["events_per_s"] / result["healthz_per_s"], 2)
    if args.replicates:
        result["interval_coverage"] = coverage(args.replicates, args.sellers, args.seed)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0 if result["interval_covers_truth"] and not result["srm_mismatch"] else 1


if __name__ == "__main__":
    sys.exit(main())
