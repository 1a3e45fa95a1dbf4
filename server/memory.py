"""This process's memory: its resident size, and giving freed memory back to the system.

glibc keeps what Python frees in its heaps and arenas for reuse, so a burst of
multi-MB uploads leaves a web process or a worker large long after the burst.
`malloc_trim` hands the free pages back.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import time

log = logging.getLogger(__name__)


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def trimmer():
    """glibc's malloc_trim, or None where the C library is not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


def return_freed_memory(sleep, every_s: float = 10.0, growth_mb: float = 64.0) -> None:
    """Run forever (a background task of the web process): while it is `growth_mb` above its size at start,
    give freed memory back every `every_s` (a burst's memory is freed over many seconds, as its requests
    end). `sleep` is the server's own (gevent's, under `phototips serve`)."""
    trim = trimmer()
    if trim is None:
        return
    base = rss_mb()
    while True:
        sleep(every_s)
        before = rss_mb()
        if before > base + growth_mb:
            start = time.perf_counter()
            trim(0)
            log.debug("gave back %.0f MB in %.1f ms", before - rss_mb(), (time.perf_counter() - start) * 1000)
