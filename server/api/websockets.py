"""WebSocket reading tuned for live photos: a photo is one message of a few MB.

Two costs of simple-websocket and wsproto, measured with bench/load.py, made a
live photo cost the web process half again what the same photo costs over HTTP:

- simple-websocket reads 4 KB at a time, so a 3 MB photo went through wsproto in
  800 pieces. engine.io builds its WebSocket wrapper with no way to pass
  simple-websocket's `receive_bytes`: its gevent driver's wrapper is replaced by
  one that does.
- wsproto unmasks every client frame with four strided byte translations in
  Python (6 ms per 3 MB here); the same XOR over 32-bit words in numpy takes
  0.3 ms and gives the same bytes (tests/test_websockets.py).
"""

from __future__ import annotations

import numpy as np

READ_BYTES = 256 * 1024


class WordMasker:
    """wsproto's XorMaskerSimple, vectorised: XOR with the 4-byte key, continuing where the last piece ended."""

    def __init__(self, masking_key: bytes | bytearray) -> None:
        self._key = bytes(masking_key)

    def process(self, data: bytes | bytearray) -> bytearray:
        out = bytearray(data)
        n = len(out)
        if n:
            whole = n - n % 4
            if whole:
                words = np.frombuffer(out, dtype=np.uint32, count=whole // 4)
                words ^= np.frombuffer(self._key, dtype=np.uint32)[0]
            for i in range(whole, n):
                out[i] ^= self._key[i - whole]
            self._key = self._key[n % 4:] + self._key[:n % 4]
        return out


def tune_websockets(async_mode: str) -> None:
    """Apply both, once, before the Socket.IO server is made."""
    from wsproto import frame_protocol

    frame_protocol.XorMaskerSimple = WordMasker
    if async_mode != "gevent":
        return
    from engineio.async_drivers import gevent as driver

    base = driver._async["websocket"]
    if getattr(base, "reads_bytes", 0) == READ_BYTES:
        return

    class LargeReads(base):
        reads_bytes = READ_BYTES

        def __init__(self, handler, server):
            super().__init__(handler, server)
            self.server_args["receive_bytes"] = READ_BYTES

    driver._async["websocket"] = LargeReads
