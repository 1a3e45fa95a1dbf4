"""`phototips serve`: the production server, gunicorn with one gevent worker, serving HTTP and Socket.IO.

One gevent worker holds thousands of connections (idle live sellers cost a
greenlet each, not a thread); the CPU work goes to the photo-check worker
processes it starts (`cpu/pool.py`), so every core is busy while the event loop
stays free to answer. More web processes, on this machine or others, sit
behind a load balancer with Redis and PostgreSQL: see docs/deploy.md.
One gunicorn worker per server, not several: Socket.IO's long-polling needs
every request of a session to reach the same process, which gunicorn's own
balancing does not do; the load balancer in front (nginx, ip_hash) does.
"""

from __future__ import annotations

import os
import sys

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from .errors import PhotoTipsError


class ProductionServer(BaseApplication):
    def __init__(self, settings):
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        for key, value in {
            "bind": [f"[{s.host}]:{s.port}" if ":" in s.host else f"{s.host}:{s.port}"],
            "worker_class": "gevent",
            "workers": 1,
            "worker_connections": s.max_connections,
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
        }.items():
            self.cfg.set(key, value)

    def load(self):
        from .app import create_app

        try:
            app, _socketio = create_app(self.settings)
        except PhotoTipsError as exc:  # a bad configuration: its message, and the server stops (no restarts)
            print(f"phototips: {exc.message}", file=sys.stderr, flush=True)
            sys.exit(Arbiter.APP_LOAD_ERROR)
        return app


def serve(settings) -> int:
    master = os.getpid()
    try:
        ProductionServer(settings).run()
    except SystemExit as exc:
        # The worker is forked inside this call: only the master's exit is the command's.
        if os.getpid() == master and exc.code == Arbiter.APP_LOAD_ERROR:
            return 2  # as every other command's configuration errors
        raise
    return 0
