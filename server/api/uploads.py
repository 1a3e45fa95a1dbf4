"""Request bodies of uploads read in one piece and parsed in memory.

A phone photo is a few MB and every upload is bounded (MAX_CONTENT_LENGTH, the
workers' admission), so spooling it to a temporary file, as werkzeug does above
500 KB, only costs a write and a read of every byte; and gunicorn's reader,
asked for werkzeug's 64 KB pieces, copies what it buffered at each one. Measured
with bench/load.py, the two took a third of the web process's CPU per photo.
Under overload a route refuses (`busy`) after that one read, before any parsing:
answering before the body is read would leave gunicorn to drain it piece by
piece (tried: busy answers took seconds).
"""

from __future__ import annotations

import io

from flask import Request

# What a body carries besides its photos: multipart's headers and boundaries, Engine.IO's frame and JSON.
BODY_OVERHEAD = 64 * 1024


class UploadRequest(Request):
    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return io.BytesIO()


def read_body_whole(request: Request, limit: int) -> None:
    """Read a body of known length within `limit` with one call, to be parsed from memory."""
    length = request.content_length
    if length and 0 < length <= limit:
        request.environ["wsgi.input"] = io.BytesIO(request.environ["wsgi.input"].read(length))
