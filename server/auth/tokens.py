"""Seller tokens: short-lived JWTs (HS256, PyJWT) that an app backend obtains for one of its sellers.

The phone sends its token as `Authorization: Bearer …` and in the Socket.IO
`auth` payload; the seller id is read from the token, never from a form field.
"""

from __future__ import annotations

import time

import jwt

from ..errors import PhotoTipsError
from ..validate import text
from .principal import Principal

ISSUER = "phototips"
AUDIENCE = "phototips-seller"


class TokenIssuer:
    def __init__(self, secret: str, ttl_s: int, max_ttl_s: int):
        self._secret = secret
        self.ttl_s = ttl_s
        self.max_ttl_s = max_ttl_s

    def issue(self, client: str, seller: str, ttl_s: int | None = None, key_id: str | None = None) -> tuple[str, int]:
        """A token for `seller` of `client`, naming the key that asked for it (revoking the key ends it)."""
        ttl = self.ttl_s if ttl_s is None else ttl_s
        if not 60 <= ttl <= self.max_ttl_s:
            raise PhotoTipsError("bad_field", f"ttl_s must be between 60 and {self.max_ttl_s}", 400)
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": seller, "client": client, "iat": now, "exp": now + ttl}
        if key_id:
            claims["kid"] = key_id
        return jwt.encode(claims, self._secret, algorithm="HS256"), now + ttl

    def check(self, token: str) -> Principal:
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
                                options={"require": ["exp", "sub", "iat"]})
        except jwt.ExpiredSignatureError:
            raise PhotoTipsError("token_expired", "the seller token has expired; ask the app for a new one", 401) from None
        except jwt.InvalidTokenError:
            raise PhotoTipsError("unauthorized", "the seller token is not valid", 401) from None
        client, seller, kid = claims.get("client"), claims.get("sub"), claims.get("kid")
        try:  # signed by us, but checked as any input: these become stored ids
            ok = (text("client", client, 40) == client and text("seller", seller) == seller and seller
                  and (kid is None or (isinstance(kid, str) and kid.isalnum() and len(kid) <= 16)))
        except PhotoTipsError:
            ok = False
        if not ok:
            raise PhotoTipsError("unauthorized", "the seller token is not valid", 401)
        return Principal("seller", client, frozenset(), seller=seller, key_id=kid)
