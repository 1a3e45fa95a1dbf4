"""GET /metrics for Prometheus, and the HTTP hooks that count every request by route, method and status.

The counters themselves live in metrics.py, where the live door and the scorer chain count too; the worker pool's
and the event store's state is read at each scrape, from this process's service.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from ..auth.principal import require
from ..metrics import HTTP_REQUESTS, HTTP_SECONDS
from ..service import PhotoService
from .http import principal, service, strict_query

bp = Blueprint("metrics", __name__)
bp.before_request(strict_query)


@bp.get("/metrics")
def metrics():
    require(principal(), "metrics", "admin")
    own = CollectorRegistry(auto_describe=False)
    own.register(ServiceState(service()))
    return Response(generate_latest(REGISTRY) + generate_latest(own), mimetype=CONTENT_TYPE_LATEST)


class ServiceState:
    """The service's own counts, read when scraped: the worker pool (as /healthz gives it) and lost writes."""

    def __init__(self, svc: PhotoService):
        self.svc = svc

    def collect(self):
        lost = CounterMetricFamily("phototips_lost_writes", "Exposure writes lost after their retries (logged)")
        lost.add_metric([], self.svc.events.lost_writes)
        yield lost
        if self.svc.pool is None:
            return
        stats = self.svc.pool.stats()
        workers = GaugeMetricFamily("phototips_workers", "Photo-check worker processes, all and idle", labels=["state"])
        workers.add_metric(["all"], stats["workers"])
        workers.add_metric(["idle"], stats["idle"])
        yield workers
        yield GaugeMetricFamily("phototips_worker_inside", "Photos being checked or waiting for a worker",
                                value=stats["inside"])
        yield GaugeMetricFamily("phototips_worker_capacity", "Photos the pool holds before answering busy",
                                value=stats["capacity"])
        for name, doc in (("tasks", "Photos handed to a worker"), ("busy", "Photos answered busy"),
                          ("replaced", "Workers replaced (time-out, memory, crash)")):
            family = CounterMetricFamily(f"phototips_worker_{name}", doc)
            family.add_metric([], stats[name])
            yield family


def register_request_counts(app) -> None:
    """Every answer counted, errors and refusals included: by the route's pattern (bounded), never the raw path."""

    @app.before_request
    def _started():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _answered(response):
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        HTTP_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        started = g.get("metrics_started")
        if started is not None:
            HTTP_SECONDS.labels(route).observe(time.perf_counter() - started)
        return response
