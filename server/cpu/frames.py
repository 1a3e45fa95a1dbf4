"""Length-prefixed pickle frames over pipes between the server and its worker processes.

The descriptors are non-blocking and waited on with `select.select`, looked up
at each call: under gevent (which patches `select`) a wait yields to the other
connections, in a threaded server it blocks only the calling thread. Frames
are pickles, so both ends must be this package: never read them from anyone else.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import select
import struct
import time

LEAD = struct.Struct("!QI")  # the pickle's length, how many out-of-band buffers follow (their lengths next)
CHUNK = 1 << 20
OUT_OF_BAND = 1 << 16  # bytes at least this long are not copied into the pickle
F_SETPIPE_SZ = 1031  # Linux: a 1 MiB pipe moves a phone photo in a few writes instead of fifty


def prepare(fd: int) -> None:
    os.set_blocking(fd, False)
    try:
        fcntl.fcntl(fd, F_SETPIPE_SZ, CHUNK)
    except OSError:  # not Linux, or above /proc/sys/fs/pipe-max-size: the default size still works
        pass


def _wait(fd: int, writing: bool, deadline: float | None) -> None:
    left = None if deadline is None else deadline - time.monotonic()
    if left is not None and left <= 0:
        raise TimeoutError("the worker did not answer in time")
    ready = select.select([], [fd], [], left) if writing else select.select([fd], [], [], left)
    if not any(ready):
        raise TimeoutError("the worker did not answer in time")


def send(fd: int, obj, deadline: float | None = None) -> None:
    """One frame: a header (the pickle's length and each out-of-band buffer's), the pickle, the buffers.

    Large payloads travel out of band (pickle protocol 5): a photo's bytes wrapped in `pickle.PickleBuffer`,
    and numpy arrays by themselves, are written from where they lie instead of being copied into the pickle.
    """
    if isinstance(obj, tuple):  # a task or an answer: its photo bytes go out of band (a memoryview on arrival)
        obj = tuple(pickle.PickleBuffer(x) if isinstance(x, (bytes, bytearray)) and len(x) >= OUT_OF_BAND else x
                    for x in obj)
    buffers: list[pickle.PickleBuffer] = []
    payload = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    views = [memoryview(b).cast("B") for b in buffers]
    header = struct.pack(f"!QI{len(views)}Q", len(payload), len(views), *(v.nbytes for v in views))
    for part in (memoryview(header), memoryview(payload), *views):
        _write_all(fd, part, deadline)


def _write_all(fd: int, view: memoryview, deadline: float | None) -> None:
    while view:
        try:
            written = os.write(fd, view[:CHUNK])
        except BlockingIOError:
            written = 0
        except BrokenPipeError:
            raise EOFError("the other end of the pipe is gone") from None
        if written:
            view = view[written:]
        else:
            _wait(fd, True, deadline)


def _read_exact(fd: int, size: int, deadline: float | None) -> bytearray:
    """`size` bytes into one buffer, read in place (no joining of pieces)."""
    out = bytearray(size)
    view, got = memoryview(out), 0
    while got < size:
        try:
            n = os.readv(fd, [view[got:got + CHUNK]])
        except BlockingIOError:
            _wait(fd, False, deadline)
            continue
        if not n:
            raise EOFError("the other end of the pipe is gone")
        got += n
    return out


def recv(fd: int, deadline: float | None = None):
    size, count = LEAD.unpack(_read_exact(fd, LEAD.size, deadline))
    lengths = struct.unpack(f"!{count}Q", _read_exact(fd, 8 * count, deadline)) if count else ()
    payload = _read_exact(fd, size, deadline)
    return pickle.loads(payload, buffers=[_read_exact(fd, n, deadline) for n in lengths])
