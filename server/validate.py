"""One validation for every door (HTTP, Socket.IO, CLI) and both stores (SQLite, PostgreSQL).

Whatever reaches storage has passed here, so the two databases give the same
answer for the same input: a bad field is a 400 naming it, never a storage error.
"""

from __future__ import annotations

import json
import unicodedata

from .errors import PhotoTipsError

MAX_TEXT = 100
MAX_REF = 64
MAX_JSON_DEPTH = 16
# Integers a JavaScript client can echo back exactly.
MAX_SAFE_INT = 2**53 - 1


def text(name: str, value, max_len: int = MAX_TEXT) -> str | None:
    """A short, printable string (stripped; None when absent or blank), or a 400 naming the field."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise PhotoTipsError("bad_field", f"{name} must be a string", 400)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PhotoTipsError("bad_field", f"{name} is not valid Unicode (a lone surrogate)", 400) from None
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise PhotoTipsError("bad_field", f"{name} contains control characters", 400)
    value = value.strip()
    if len(value) > max_len:
        raise PhotoTipsError("bad_field", f"{name} is longer than {max_len} characters", 400)
    return value or None


def listing_id(value) -> str | None:
    """A listing's id as `text`, without "/" and not "." or "..": it is read back in a URL path
    (/v1/listings/<id>/hero), where a slash would name another route and clients collapse dot segments."""
    value = text("listing_id", value)
    if value and ("/" in value or value in (".", "..")):
        raise PhotoTipsError("bad_field", "listing_id must not contain '/' nor be '.' or '..'", 400)
    return value


def ref(value) -> str | int | None:
    """The client's own tag for a photo, echoed in every event: a short string or a safe integer."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise PhotoTipsError("bad_field", f"ref must be a string of at most {MAX_REF} characters or an integer", 400)
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INT:
            raise PhotoTipsError("bad_field", "ref is too large an integer", 400)
        return value
    return text("ref", value, MAX_REF)


# Marks, inside an object, the first key that was given twice: a key no client can send (it fails every
# field check), and a plain key survives python-socketio rebuilding objects around binary attachments.
DUPLICATE_MARK = "\x00duplicate"


def duplicate_key(obj) -> str | None:
    return obj.get(DUPLICATE_MARK) if isinstance(obj, dict) else None


def _keep_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out and DUPLICATE_MARK not in out:
            out[DUPLICATE_MARK] = key
        out[key] = value
    return out


class SocketJSON:
    """The JSON of Socket.IO packets, strict like HTTP's: a repeated key is marked (DUPLICATE_MARK) for the
    handler to refuse, and a packet nested deeper than MAX_JSON_DEPTH is refused like any malformed packet."""

    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(raw, *args, **kwargs):
        try:
            value = json.loads(raw, object_pairs_hook=_keep_duplicates)
        except RecursionError:
            raise ValueError("the packet's JSON is nested too deeply") from None
        try:
            _depth(value, MAX_JSON_DEPTH)
        except PhotoTipsError as exc:
            raise ValueError(exc.message) from None
        return value


def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise PhotoTipsError("duplicate_field", f"the field {key!r} appears twice", 400)
        out[key] = value
    return out


def _depth(value, limit: int) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise PhotoTipsError("bad_json", f"the JSON is nested more than {limit} levels deep", 400)
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))


def parse_json(raw: bytes, max_depth: int = MAX_JSON_DEPTH):
    """Strict JSON: UTF-8, no repeated keys, bounded depth; a 400 for anything else."""
    try:
        body = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except PhotoTipsError:
        raise
    except RecursionError:
        raise PhotoTipsError("bad_json", f"the JSON is nested more than {max_depth} levels deep", 400) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise PhotoTipsError("bad_json", f"the body is not JSON: {exc}", 400) from None
    _depth(body, max_depth)
    return body
