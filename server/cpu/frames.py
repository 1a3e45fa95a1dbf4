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

HEADER = struct.Struct("!Q")
CHUNK = 1 << 20
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
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(HEADER.pack(len(payload)) + payload)
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


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    parts, got = [], 0
    while got < size:
        try:
            chunk = os.read(fd, min(size - got, CHUNK))
        except BlockingIOError:
            _wait(fd, False, deadline)
            continue
        if not chunk:
            raise EOFError("the other end of the pipe is gone")
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def recv(fd: int, deadline: float | None = None):
    (size,) = HEADER.unpack(_read_exact(fd, HEADER.size, deadline))
    return pickle.loads(_read_exact(fd, size, deadline))
