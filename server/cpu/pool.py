"""A fixed set of worker processes behind a bounded queue: every core busy, nobody queued for seconds.

`admitted()` lets a request in while fewer than `workers + queue` requests are
inside, and refuses the rest at once with 503 `busy` (retry_after 1 s): a
burst gets fast, clear answers instead of a queue that grows. Inside, `call()`
waits for the next free worker in arrival order, so a request with many photos
(the hero ranking) takes one worker at a time and others get their turn
between its photos.

Processes, not threads: the photo check is partly Python (the GIL), a decoder
crash or a memory-hungry photo costs one worker, not the server, and a worker
that has grown is replaced, which gives its memory back to the system. A
worker that dies, times out or is interrupted mid-task is replaced as well,
and the request gets a clear error.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..errors import PhotoTipsError
from . import frames

log = logging.getLogger(__name__)
START_TIMEOUT_S = 120.0
# One worker per core, each on one thread: libraries' own thread pools would only fight over the cores.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def busy() -> PhotoTipsError:
    return PhotoTipsError("busy", "the server is busy with other photos; retry in a moment", 503, retry_after=1)


@dataclass(eq=False)  # each worker is itself (kept in a set)
class _Worker:
    proc: subprocess.Popen
    to_fd: int  # our end: tasks go out here
    from_fd: int  # our end: answers come in here

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        for fd in (self.to_fd, self.from_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass


@dataclass(eq=False)
class _Waiter:
    handed: threading.Event = field(default_factory=threading.Event)
    worker: _Worker | None = None


class WorkerPool:
    def __init__(self, settings, workers: int, queue_len: int, task_timeout_s: float):
        self.settings = settings
        self.workers = workers
        self.capacity = workers + queue_len
        # A photo that has already arrived whole (live) may also wait in a second queue of the same length.
        self.arrived_capacity = workers + 2 * queue_len
        self.task_timeout_s = task_timeout_s
        # Free workers go straight to the longest waiter: a request that just gave one back queues
        # behind the others instead of taking it again.
        self._idle: deque[_Worker] = deque()
        self._waiters: deque[_Waiter] = deque()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._inside = 0
        self._closed = False
        self.counts = {"tasks": 0, "busy": 0, "replaced": 0}

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> "WorkerPool":
        """Start every worker and wait until each has loaded the photo check (a broken set-up fails here)."""
        launched = [self._launch() for _ in range(self.workers)]
        for worker in launched:
            self._await_ready(worker)
            self._release(worker)
        return self

    def _launch(self) -> _Worker:
        task_r, task_w = os.pipe()
        answer_r, answer_w = os.pipe()
        proc = subprocess.Popen([sys.executable, "-m", "phototips.cpu.worker", str(task_r), str(answer_w)],
                                pass_fds=(task_r, answer_w), stdin=subprocess.DEVNULL, close_fds=True,
                                env={**os.environ, **ONE_THREAD})
        os.close(task_r)
        os.close(answer_w)
        frames.prepare(task_w)
        frames.prepare(answer_r)
        worker = _Worker(proc, task_w, answer_r)
        with self._lock:
            self._all.add(worker)
        return worker

    def _await_ready(self, worker: _Worker) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            frames.send(worker.to_fd, ("init", self.settings), deadline)
            kind, pid = frames.recv(worker.from_fd, deadline)
        except (EOFError, TimeoutError, OSError) as exc:
            self._discard(worker)
            raise RuntimeError(f"a photo-check worker did not start ({exc}); see its error above") from None
        assert kind == "ready" and pid == worker.proc.pid

    def _replace(self, worker: _Worker) -> None:
        """Drop a worker whose state is unknown or that asked to go, and start its successor in the background."""
        self._discard(worker)
        self._count("replaced")
        if not self._closed:
            threading.Thread(target=self._respawn, daemon=True, name="phototips-respawn").start()

    def _respawn(self) -> None:
        delay = 0.5
        while not self._closed:
            try:
                worker = self._launch()
                self._await_ready(worker)
            except RuntimeError as exc:
                log.error("%s; trying again in %.0f s", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            self._release(worker)
            return

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.close()

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._all)
        for worker in workers:
            self._discard(worker)

    # -- requests ----------------------------------------------------------------
    def _refuse_beyond(self, places: int) -> None:
        """`busy` when `places` are taken (the caller holds the lock)."""
        if self._inside >= places:
            self.counts["busy"] += 1
            raise busy()

    def refuse_when_full(self, arrived: bool = False) -> None:
        """`busy` now if no place is free (for a photo that has `arrived`, as admitted), before the caller reads an
        upload, or a store, for a photo it would then refuse. Only a shortcut: `admitted()` decides."""
        with self._lock:
            self._refuse_beyond(self.arrived_capacity if arrived else self.capacity)

    @contextmanager
    def admitted(self, arrived: bool = False):
        """Let a request in, or refuse it at once with `busy` when `workers + queue` are already inside
        (`workers + 2 × queue` for a photo that `arrived` whole, see service.check)."""
        with self._lock:
            self._refuse_beyond(self.arrived_capacity if arrived else self.capacity)
            self._inside += 1
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1

    def _acquire(self) -> _Worker:
        with self._lock:
            if self._idle and not self._waiters:
                return self._idle.popleft()
            waiter = _Waiter()
            self._waiters.append(waiter)
        # Only replacements in progress can make this wait long: then `busy`, not a hang.
        waiter.handed.wait(self.task_timeout_s)
        with self._lock:
            if waiter.worker is None:
                self._waiters.remove(waiter)
                self.counts["busy"] += 1  # /healthz counts every caller told busy, this way too
                raise busy()
        return waiter.worker

    def _release(self, worker: _Worker) -> None:
        with self._lock:
            if self._waiters:
                waiter = self._waiters.popleft()
                waiter.worker = worker
                waiter.handed.set()
            else:
                self._idle.append(worker)

    def call(self, *task):
        """Run one task on the next free worker (inside `admitted()`); its PhotoTipsError is raised here."""
        worker = self._acquire()
        try:
            deadline = time.monotonic() + self.task_timeout_s
            frames.send(worker.to_fd, task, deadline)
            status, value, retiring = frames.recv(worker.from_fd, deadline)
        except (EOFError, OSError, TimeoutError) as exc:
            log.error("photo-check worker %s failed (%s); starting another", worker.proc.pid, exc)
            self._replace(worker)
            raise PhotoTipsError("check_failed", "the photo could not be checked: its worker stopped; "
                                                 "retry, or send another photo", 500) from None
        except BaseException:  # interrupted mid-task (a time-out, a killed greenlet): the pipe is out of step
            self._replace(worker)
            raise
        self._count("tasks")
        if retiring:
            self._replace(worker)
        else:
            self._release(worker)
        if status == "error":
            raise PhotoTipsError(*value)
        if status == "crash":
            log.error("photo check failed in worker %s:\n%s", worker.proc.pid, value)
            raise PhotoTipsError("internal_error", "the server failed on this photo", 500)
        return value

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    def stats(self) -> dict:
        with self._lock:
            return {"workers": len(self._all), "idle": len(self._idle), "inside": self._inside,
                    "capacity": self.capacity, "arrived_capacity": self.arrived_capacity, **self.counts}
