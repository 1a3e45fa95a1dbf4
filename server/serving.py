"""`phototips serve` and `phototips model-server`: the production servers, both gunicorn.

`serve` is one gevent worker serving HTTP and Socket.IO.
One gevent worker holds thousands of connections (idle live sellers cost a
greenlet each, not a thread); the CPU work goes to the photo-check worker
processes it starts (`cpu/pool.py`), so every core is busy while the event loop
stays free to answer. More web processes, on this machine or others, sit
behind a load balancer with Redis and PostgreSQL: see docs/deploy.md.
One gunicorn worker per server, not several: Socket.IO's long-polling needs
every request of a session to reach the same process, which gunicorn's own
balancing does not do; the load balancer in front (nginx, ip_hash) does.
`model-server` is one process of threads (gthread): the model is loaded once and
its batcher is fed by all of them.
"""

from __future__ import annotations

import os
import resource
import sys

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from .errors import PhotoTipsError


class ProductionServer(BaseApplication):
    def __init__(self, settings, make_app, **options):
        self.settings, self.make_app, self.options = settings, make_app, options
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        for key, value in {
            "workers": 1,
            # Photo checks run in worker processes and never block the loop for long: 60 s without a
            # heartbeat means a stuck process, which gunicorn replaces.
            "timeout": 60,
            "graceful_timeout": int(s.graceful_timeout_s),
            "keepalive": 75,  # longer than nginx's keepalive_timeout, so the proxy closes idle ones first
            "proc_name": "phototips",
            # gunicorn's control socket is one path per user: several servers on a machine would collide.
            "control_socket_disable": True,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": s.log_level.lower(),
            # X-Forwarded-* are believed only from the proxies named here (nginx in docs/deploy.md).
            "forwarded_allow_ips": s.trusted_proxies,
            **self.options,
        }.items():
            self.cfg.set(key, value)

    def load(self):
        try:
            app = self.make_app(self.settings)
        except PhotoTipsError as exc:  # a bad configuration: its message, and the server stops (no restarts)
            print(f"phototips: {exc.message}", file=sys.stderr, flush=True)
            sys.exit(Arbiter.APP_LOAD_ERROR)
        return app


def _enough_descriptors(connections: int) -> None:
    """Each open connection is a file descriptor: raise the soft limit (often 1024) towards the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = connections + 1024  # the workers' pipes, the database, Redis, log files
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))


def _bind(host: str, port: int) -> list[str]:
    return [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]


def _web_app(settings):
    from .app import create_app

    return create_app(settings)[0]


def _model_app(settings):
    from .model_server import create_model_app

    return create_model_app(settings)


def serve(settings) -> int:
    _enough_descriptors(settings.max_connections)
    return _run(ProductionServer(settings, _web_app, bind=_bind(settings.host, settings.port), worker_class="gevent",
                                 worker_connections=settings.max_connections))


def serve_models(settings) -> int:
    # The worker loads the weights before its first heartbeat: 7B from a local disk takes minutes at worst.
    return _run(ProductionServer(settings, _model_app, bind=_bind(settings.host, settings.model_server_port),
                                 worker_class="gthread", threads=settings.model_server_threads, timeout=600,
                                 keepalive=30, proc_name="phototips-model-server"))


def _run(server: ProductionServer) -> int:
    master = os.getpid()
    try:
        server.run()
    except SystemExit as exc:
        # The worker is forked inside this call: only the master's exit is the command's.
        if os.getpid() == master and exc.code == Arbiter.APP_LOAD_ERROR:
            return 2  # as every other command's configuration errors
        raise
    return 0
