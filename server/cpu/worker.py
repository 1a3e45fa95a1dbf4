"""A worker process: `python -m phototips.cpu.worker IN_FD OUT_FD`, started by the pool, never by people.

It reads the server's settings, loads the photo check once, says ready, then
answers one task at a time. A worker that has grown past its memory limit
gives what it can back to the system (malloc_trim) and, if still too big, says
so in its answer and exits: the pool starts a fresh one. When the server goes
away (its end of the pipe closes) the worker exits.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback

from ..memory import rss_mb, trimmer
from . import frames


def serve(in_fd: int, out_fd: int) -> None:
    import cv2

    from ..errors import PhotoTipsError
    from ..scoring.chain import LAST_RESORT
    from ..scoring.registry import create_scorer
    from .checking import TASKS

    cv2.setNumThreads(1)  # one worker per core (see pool.ONE_THREAD)
    frames.prepare(in_fd)
    frames.prepare(out_fd)
    try:
        _, settings = frames.recv(in_fd)
    except EOFError:  # the server stopped before we started
        return
    os.nice(settings.cpu_worker_nice)
    photo_check = create_scorer(LAST_RESORT, settings)
    trim = trimmer()
    frames.send(out_fd, ("ready", os.getpid()))
    while True:
        try:
            kind, data, request, keep_photo, *options = frames.recv(in_fd)
        except EOFError:
            return
        try:
            answer = ("ok", TASKS[kind](data, settings, photo_check, request, keep_photo, *options))
        except PhotoTipsError as exc:
            answer = ("error", (exc.code, exc.message, exc.status))
        except Exception:  # reported to the caller as a failed photo; the worker itself is still sound
            answer = ("crash", traceback.format_exc(limit=8))
        del data
        retiring = False
        if rss_mb() > settings.cpu_worker_max_mb:
            if trim is not None:
                trim(0)
            retiring = rss_mb() > settings.cpu_worker_max_mb
        frames.send(out_fd, (*answer, retiring))
        if retiring:
            return


def main() -> None:
    in_fd, out_fd = int(sys.argv[1]), int(sys.argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server, which closes our pipe
    serve(in_fd, out_fd)


if __name__ == "__main__":
    main()
