"""API keys: one per app client (several during a rotation), stored as a SHA-256 of their secret.

A key reads `ptk_<key id>_<secret>`. The key id is public (it names the key in
logs, lists and revocations); only the secret's digest is stored, so a copy of
the database does not hand out keys. The secret has 256 bits of entropy, so a
plain digest is as safe as a slow password hash and costs microseconds. Checked
keys are cached for `cache_s` seconds: a revocation reaches every process
within that time.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..errors import PhotoTipsError
from ..storage.events import utcnow
from ..storage.tables import api_keys
from .principal import ROLES, Principal

log = logging.getLogger(__name__)

PREFIX = "ptk_"
_KEY = re.compile(r"^ptk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
CLIENT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    client: str
    roles: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyStore:
    def __init__(self, engine: Engine, cache_s: float = 30.0, cache_size: int = 10_000):
        self.engine = engine
        self.cache_s = cache_s
        self.cache_size = cache_size
        # key id -> (valid until, (secret digest, principal) or None): bounded, so made-up key ids cannot grow it.
        self._cache: OrderedDict[str, tuple[float, tuple[str, Principal] | None]] = OrderedDict()
        self._lock = threading.Lock()

    # -- administration (the `phototips keys` command) ------------------------
    def add(self, client: str, roles: list[str]) -> tuple[str, KeyInfo]:
        """A new key for `client`; the full key is returned once and never stored."""
        if not CLIENT_NAME.match(client):
            raise PhotoTipsError("bad_field", "the client name is 1–40 lowercase letters, digits and dashes", 400)
        bad = [r for r in roles if r not in ROLES]
        if not roles or bad:
            raise PhotoTipsError("bad_field", f"roles must be some of {', '.join(ROLES)}; got {', '.join(roles) or 'none'}", 400)
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        row = {"key_id": key_id, "client": client, "roles": ",".join(sorted(set(roles))),
               "secret_sha256": _digest(secret), "created_at": utcnow(), "revoked_at": None}
        with self.engine.begin() as conn:
            conn.execute(api_keys.insert().values(**row))
        return f"{PREFIX}{key_id}_{secret}", self._info(row)

    def list(self) -> list[KeyInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at)).mappings().all()
        return [self._info(r) for r in rows]

    def revoke(self, key_id: str) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(update(api_keys).where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                                .values(revoked_at=utcnow())).rowcount
        with self._lock:
            self._cache.pop(key_id, None)
        return bool(done)

    def active_count(self) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(api_keys.c.key_id).where(api_keys.c.revoked_at.is_(None))).all())

    # -- checking a request's key ---------------------------------------------
    def check(self, presented: str) -> Principal:
        m = _KEY.match(presented)
        if not m:
            raise PhotoTipsError("unauthorized", "that is not a valid API key", 401)
        key_id, secret = m.groups()
        entry = self._lookup(key_id)
        if entry is None or not hmac.compare_digest(entry[0], _digest(secret)):
            raise PhotoTipsError("unauthorized", "unknown or revoked API key", 401)
        return entry[1]

    def is_active(self, key_id: str) -> bool:
        """Whether the key that issued a seller token is still active (revoking a key ends its tokens)."""
        return self._lookup(key_id) is not None

    def _lookup(self, key_id: str) -> tuple[str, Principal] | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key_id)
            if hit is not None:
                self._cache.move_to_end(key_id)
        if hit is None or hit[0] < now:
            try:
                with self.engine.connect() as conn:
                    row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).mappings().first()
            except SQLAlchemyError as exc:
                # A caller whose key cannot be read is neither let in nor told their key is wrong: retry later.
                log.warning("API key %s not checked, the database failed: %s", key_id, type(exc).__name__)
                raise PhotoTipsError("storage_unavailable", "the credential could not be checked; retry", 503) from None
            entry = None
            if row is not None and row["revoked_at"] is None:
                entry = (row["secret_sha256"], Principal("key", row["client"], frozenset(row["roles"].split(",")),
                                                         key_id=key_id))
            hit = (now + self.cache_s, entry)
            with self._lock:
                self._cache[key_id] = hit
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return hit[1]

    @staticmethod
    def _info(row) -> KeyInfo:
        return KeyInfo(row["key_id"], row["client"], tuple(row["roles"].split(",")), row["created_at"],
                       row["revoked_at"])
