"""What one server process counts for Prometheus: requests, live events, errors, scorers and their fallbacks.

Counted where each thing happens (the HTTP hooks, the live door, the scorer chain) into prometheus_client's
registry of this process; GET /metrics (api/metrics.py) adds the worker pool's and the event store's state at
each scrape. One process holds one web worker (serving.py), so no multiprocess mode is needed: each process is
scraped on its own address, as /healthz is read.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Photos take tens of milliseconds on the photo check and seconds on a model; a hero request, several photos.
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter("phototips_http_requests", "HTTP requests answered, by route pattern, method and status",
                        ["route", "method", "status"])
HTTP_SECONDS = Histogram("phototips_http_request_seconds", "Time to answer an HTTP request, by route pattern",
                         ["route"], buckets=SECONDS)
LIVE_EVENTS = Counter("phototips_live_events", "Live (Socket.IO) events answered, by event and outcome "
                      "('ok' or the error code)", ["event", "outcome"])
LIVE_CONNECTIONS = Gauge("phototips_live_connections", "Sellers' live connections open now")
ERRORS = Counter("phototips_errors", "Errors answered, by door (http, live) and error code", ["door", "code"])
SCORED = Counter("phototips_scored", "Photos scored, by the scorer that answered", ["scorer"])
SCORE_SECONDS = Histogram("phototips_score_seconds", "Time a scorer took for one photo, by scorer", ["scorer"],
                          buckets=SECONDS)
SKIPPED = Counter("phototips_scorer_skipped", "Scorers passed over for a photo, by scorer and why "
                  "(deadline, circuit_open, failed)", ["scorer", "reason"])


def count_score(scorer: str, latency_ms: float) -> None:
    """One photo scored: the photo check once a photo (in its worker, counted here on its return), another
    scorer when it answers."""
    SCORED.labels(scorer).inc()
    SCORE_SECONDS.labels(scorer).observe(latency_ms / 1000)
