"""Turn a request's credential into a Principal: an API key, a seller token, or nothing (open mode only).

Open mode: with no API key in the store the service runs for local development,
bound to a loopback address only (checked at start-up), and a caller without a
credential gets every role. Seller tokens are then signed with a key made at
start-up, valid for this process only. Open mode ends, without a restart, once a
key is added (read again every KEY_CACHE_S).
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import time

from ..config import MIN_SECRET
from ..errors import PhotoTipsError
from .keys import PREFIX, KeyStore
from .principal import OPEN, Principal
from .tokens import TokenIssuer

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Gate:
    def __init__(self, keys: KeyStore, settings):
        self.keys = keys
        self._open = keys.active_count() == 0
        self._looked = time.monotonic()
        self._look_every_s = max(1.0, settings.key_cache_s)
        secret = settings.token_secret
        if self._open:
            secret = secret or secrets.token_urlsafe(32)
        elif len(secret) < MIN_SECRET:
            raise PhotoTipsError("bad_config", f"API keys are configured: set PHOTOTIPS_TOKEN_SECRET to a random "
                                               f"string of at least {MIN_SECRET} characters, the same in every process")
        self.tokens = TokenIssuer(secret, settings.token_ttl_s, settings.token_max_ttl_s)

    @property
    def open(self) -> bool:
        """No API key yet. Once one is added (`phototips keys add`), callers need a credential from the next look
        on: an operator who adds the first key to a running development server is not left with it open."""
        if self._open and time.monotonic() - self._looked >= self._look_every_s:
            self._looked = time.monotonic()
            try:
                found = self.keys.active_count() > 0
            except Exception:  # the store is unreachable: still loopback only, look again next time
                log.exception("could not look for API keys")
                found = False
            if found:
                self._open = False
                log.warning("an API key was added: open mode has ended, every call now needs a key or a seller "
                            "token (restart with PHOTOTIPS_TOKEN_SECRET set for tokens that other processes accept)")
        return self._open

    def check_bind(self, host: str) -> None:
        if self.open and not is_loopback(host):
            raise PhotoTipsError("bad_config", f"no API key is configured, so the service would run open: refusing to "
                                               f"listen on {host}. Add a key (`phototips keys add NAME --roles app`) "
                                               f"or listen on 127.0.0.1 for local development")

    def principal(self, credential: str | None, active: dict[str, bool] | None = None) -> Principal | None:
        """The caller, or None when no credential was sent and the service is not open. `active` remembers, across
        calls, whether each issuing key is active: one look per key for many tokens (live connections' sweep)."""
        if not credential:
            return OPEN if self.open else None
        if credential.startswith(PREFIX):
            return self.keys.check(credential)
        who = self.tokens.check(credential)
        if not self.open and not self._key_active(who.key_id, active):
            if who.key_id is None:
                raise PhotoTipsError("unauthorized", "this seller token is a development server's, from before API "
                                                     "keys were added: get one from POST /v1/tokens", 401)
            raise PhotoTipsError("unauthorized", "the key that issued this seller token was revoked", 401)
        return who

    def _key_active(self, key_id: str | None, active: dict[str, bool] | None) -> bool:
        if key_id is None:
            return False
        if active is None:
            return self.keys.is_active(key_id)
        if key_id not in active:
            active[key_id] = self.keys.is_active(key_id)
        return active[key_id]

    def check_request_origin(self, host: str, origin: str | None, forwarded: bool) -> None:
        """Open mode serves the developer's own machine only: no other Host (DNS rebinding), no page from
        another site (cross-site requests from the developer's browser), nothing through a proxy."""
        if not self.open:
            return
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        ok = is_loopback(name) and not forwarded
        if ok and origin and origin != "null":
            rest = origin.split("://", 1)[-1]
            oname = rest.rsplit(":", 1)[0] if not rest.startswith("[") else rest.split("]")[0] + "]"
            ok = is_loopback(oname)
        if not ok:
            raise PhotoTipsError("forbidden", "this development server (no API key) answers its own machine only", 403)


# Any of these says a proxy passed the request on (the standard Forwarded, the de facto X-Forwarded-* and
# X-Real-IP, and Via): open mode answers none of them.
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP", "Via")


def through_proxy(headers) -> bool:
    return any(name in headers for name in PROXY_HEADERS)


def credential_from_headers(headers) -> str | None:
    auth = headers.get("Authorization", "")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise PhotoTipsError("unauthorized", "use Authorization: Bearer <API key or seller token>", 401)
        return value.strip()
    return headers.get("X-API-Key") or None
