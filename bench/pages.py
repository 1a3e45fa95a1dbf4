"""Benchmark: how fast the seller's page and the product team's page are ready in a browser, on a local server.

    .venv/bin/python bench/pages.py [--loads 15]        # writes bench/out/pages.json

`phototips serve` runs as the README says, on a throw-away database with a
seeded A/B experiment (600 sellers over 10 days). Headless Chromium (Debian's)
loads each page with an empty cache, a new browser context per load, and the
time is read from the page's own clock (navigation start = 0) when the page is
ready for its user (polled each animation frame, so to about 16 ms): the seller's page when its live connection is up and its
words are in the browser's language; the A/B page when the report, its three
charts and the tip-wording preview are drawn. Baseline in the same run: the
same browser fetching a small static file from the same server (the floor of
a round trip and a browser context). Also reported: the JavaScript each page
loads (bytes on the wire); the seller's page must stay small and need no build.
Target (issue 11): both pages ready in under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from local_server import ServerProcess  # noqa: E402
from seed_experiment import seed_experiment  # noqa: E402

CHROMIUM = os.environ.get("PHOTOTIPS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
PAGES = {
    "seller": ("/", "document.querySelector('#status').dataset.state === 'online' && document.body.dataset.locale"),
    "ab": ("/experiments?id=clutter-wording-2026-12",
           "document.body.dataset.loaded && document.body.dataset.wording && "
           "document.querySelectorAll('.chart svg[role=img]').length === 3"),
}
BASELINE = "/demo/style.css"


def start(tmp: Path) -> ServerProcess:
    from phototips import paths
    from phototips.experiments.config import load_experiments
    from phototips.tips.catalog import load_catalog

    url_db = f"sqlite:///{tmp / 'pages.db'}"
    exps = load_experiments(str(paths.CONTENT / "experiments.yaml"), load_catalog(str(paths.CONTENT / "tips.yaml")))
    seed_experiment(url_db, exps.experiments["clutter-wording-2026-12"], "background.cluttered", "background",
                    sellers=600, days=10, rates={"control": {"retake": 0.30, "publish": 0.5, "dismiss": 0.1},
                                                 "short": {"retake": 0.50, "publish": 0.5, "dismiss": 0.1}})
    return ServerProcess({"PHOTOTIPS_DATABASE_URL": url_db, "PHOTOTIPS_LOG_LEVEL": "WARNING"})


def load_once(browser, url: str, ready: str | None) -> tuple[float, int]:
    """Milliseconds from navigation start until `ready` holds (or the load event), and script bytes loaded."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    page = context.new_page()
    page.goto(url)
    if ready:
        page.wait_for_function(f"() => ({ready}) && (window.__ready = performance.now())", timeout=20000)
        ms = page.evaluate("window.__ready")
    else:
        page.wait_for_load_state("load")
        ms = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    scripts = page.evaluate("""performance.getEntriesByType('resource').filter((r) => r.initiatorType === 'script')
        .reduce((n, r) => n + r.encodedBodySize, 0)""")
    context.close()
    return float(ms), int(scripts)


def summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {"median_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))], 1),
            "runs": len(ordered)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loads", type=int, default=15, help="loads of each page (interleaved with the baseline)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "pages.json"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = start(Path(tmp))
        url = server.url
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
                load_once(browser, url + "/", PAGES["seller"][1])  # the server's first request warms its imports
                times = {name: [] for name in [*PAGES, "baseline"]}
                scripts = {}
                for _ in range(args.loads):
                    times["baseline"].append(load_once(browser, url + BASELINE, None)[0])
                    for name, (path, ready) in PAGES.items():
                        ms, scripts[name] = load_once(browser, url + path, ready)
                        times[name].append(ms)
                browser.close()
        finally:
            server.stop()
    base = statistics.median(times["baseline"])
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "baseline": summary(times["baseline"]),
        "pages": {name: {**summary(times[name]), "vs_baseline": round(statistics.median(times[name]) / base, 1),
                         "script_kb": round(scripts[name] / 1024, 1)} for name in PAGES},
    }
    result["targets"] = {f"{name} ready < 1 s (median)": r["median_ms"] < 1000 for name, r in result["pages"].items()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0 if all(result["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
