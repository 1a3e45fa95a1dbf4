"""Build the Flask app and its Socket.IO server; serve the demo page at /."""

from __future__ import annotations

import atexit
import logging
import math

from flask import Flask, request, send_from_directory
from flask_socketio import SocketIO

from . import paths
from .api.experiments import bp as experiments_bp
from .api.http import bp, dev_token, register_errors
from .api.limits import RateLimits
from .api.live import register_live
from .api.metrics import bp as metrics_bp
from .api.metrics import register_request_counts
from .api.uploads import BODY_OVERHEAD, UploadRequest
from .api.websockets import tune_websockets
from .auth.gate import through_proxy
from .config import Settings
from .memory import return_freed_memory
from .service import PhotoService
from .validate import SocketJSON


log = logging.getLogger(__name__)


def create_app(settings: Settings) -> tuple[Flask, SocketIO]:
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLogger().level))
    svc = PhotoService(settings)
    svc.events  # noqa: B018 - open and migrate the store now: a bad DATABASE_URL stops the start, not a seller
    svc.gate.check_bind(settings.host)  # no API key: loopback only, or no start at all
    svc.start_workers()
    atexit.register(svc.close)
    if svc.gate.open:
        log.warning("no API key is configured: running OPEN for local development on %s — anyone who can reach "
                    "this address may call everything; /dev/token hands out seller tokens", settings.host)
    app = Flask(__name__, static_folder=None)
    app.request_class = UploadRequest
    app.json.sort_keys = False
    # Multipart adds a little to the photo; the photo's own size is checked exactly in the service.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes + BODY_OVERHEAD
    app.extensions["phototips"] = svc
    app.register_blueprint(bp)
    app.register_blueprint(experiments_bp)
    app.register_blueprint(metrics_bp)
    register_errors(app)
    register_request_counts(app)
    @app.before_request
    def _open_mode_guard():
        svc.gate.check_request_origin(request.host, request.headers.get("Origin"),
                                      through_proxy(request.headers))

    limits = RateLimits(app, settings)
    app.extensions["phototips_limits"] = limits
    if svc.gate.open:
        app.add_url_rule("/dev/token", "dev_token", dev_token)

    @app.get("/")
    def index():
        return send_from_directory(paths.CLIENT_DEMO, "index.html")

    @app.get("/experiments")
    def experiments_page():
        return send_from_directory(paths.CLIENT_DEMO, "experiments.html")

    @app.get("/demo/<path:name>")
    def demo_file(name: str):
        return send_from_directory(paths.CLIENT_DEMO, name)

    mode = _async_mode()
    tune_websockets(mode)
    socketio = SocketIO(
        app,
        json=SocketJSON,
        async_mode=mode,
        # Long-polling carries binary as base64, a third larger: a photo within the limit passes either transport.
        max_http_buffer_size=math.ceil(settings.max_upload_bytes * 4 / 3) + BODY_OVERHEAD,
        message_queue=settings.message_queue or None,
    )
    register_live(socketio, svc, limits)
    if mode == "gevent":  # the production server: a long-lived process that sees bursts of uploads
        socketio.start_background_task(return_freed_memory, socketio.sleep)
    return app, socketio


def _async_mode() -> str:
    """gevent under `phototips serve` (gunicorn's gevent worker has patched the standard library), else threads."""
    try:
        from gevent import monkey
    except ImportError:
        return "threading"
    return "gevent" if monkey.is_module_patched("socket") else "threading"
