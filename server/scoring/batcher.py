"""Group concurrent requests into batches for one model: up to `max_batch` items, waiting at most `max_wait_ms`.

Many sellers upload at once; a GPU scores 16 photos nearly as fast as one. The
worker thread takes the first waiting request, gathers more until the batch is
full or the wait is over, and runs them together. A batch that runs out of
memory is split in two and retried, down to single items, instead of failing.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class BatchStats:
    batches: int = 0
    items: int = 0
    splits: int = 0
    sizes: Counter = field(default_factory=Counter)  # batch size -> how many batches (bounded, unlike a list)


class MicroBatcher:
    def __init__(self, run: Callable[[list], list], *, max_batch: int, max_wait_ms: float,
                 is_oom: Callable[[BaseException], bool] = lambda e: False, name: str = "batcher"):
        self.run, self.max_batch, self.max_wait = run, max_batch, max_wait_ms / 1000.0
        self.is_oom = is_oom
        self.stats = BatchStats()
        self._queue: queue.Queue[tuple[object, Future]] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    def submit(self, item) -> Future:
        fut: Future = Future()
        self._queue.put((item, fut))
        return fut

    def _loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            deadline = time.monotonic() + self.max_wait
            while len(batch) < self.max_batch:
                left = deadline - time.monotonic()
                try:
                    batch.append(self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait())
                except queue.Empty:
                    break
            live = [(item, fut) for item, fut in batch if fut.set_running_or_notify_cancel()]
            if live:
                self._run_split(live)

    def _run_split(self, batch: list[tuple[object, Future]]) -> None:
        try:
            results = self.run([item for item, _ in batch])
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the waiting callers
            if self.is_oom(exc) and len(batch) > 1:
                self.stats.splits += 1
                log.warning("out of memory on a batch of %d; splitting", len(batch))
                half = len(batch) // 2
                self._run_split(batch[:half])
                self._run_split(batch[half:])
                return
            for _, fut in batch:
                fut.set_exception(exc)
            return
        self.stats.batches += 1
        self.stats.items += len(batch)
        self.stats.sizes[len(batch)] += 1
        for (_, fut), result in zip(batch, results):
            fut.set_result(result)
