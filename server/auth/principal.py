"""The caller of a request: what it may do, and whose sellers and listings it acts for."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import PhotoTipsError

ROLES = ("app", "product", "metrics", "admin")
DEV_CLIENT = "dev"


@dataclass(frozen=True)
class Principal:
    kind: str  # "key" (an app backend or a product team), "seller" (a phone with a token), "open" (no keys: dev)
    client: str  # the app client the caller belongs to; seller and listing ids live in its namespace
    roles: frozenset[str] = frozenset()
    seller: str | None = None  # the seller id as the client knows it (seller tokens only)
    key_id: str | None = None  # the API key used, or the one that issued a seller token

    def may(self, role: str) -> bool:
        return role in self.roles

    def namespaced(self, own_id: str) -> str:
        """A seller or listing id of this caller's client, as stored: two clients' "123" never meet."""
        return f"{self.client}/{own_id}"

    @property
    def seller_key(self) -> str | None:
        return self.namespaced(self.seller) if self.seller else None

    @property
    def rate_key(self) -> str:
        """Whom a rate limit counts: the seller for a phone, else the key (or, open, the client)."""
        if self.seller:
            return "seller:" + self.seller_key
        return f"key:{self.key_id}" if self.key_id else "client:" + self.client


# Open mode (no API key, loopback only): a developer's calls. Not admin: no page in the developer's browser
# may choose a paid scorer (the command line still can).
OPEN = Principal("open", DEV_CLIENT, frozenset({"app", "product", "metrics"}))


def require(principal: Principal | None, *roles: str, seller: bool = False) -> Principal:
    """The principal if it holds one of `roles` (or is a seller, when `seller`), else 401/403."""
    if principal is None:
        raise PhotoTipsError("unauthorized", "send an API key or a seller token: Authorization: Bearer …", 401)
    if (seller and principal.kind == "seller") or any(principal.may(r) for r in roles):
        return principal
    need = " or ".join([*roles, *(["a seller token"] if seller else [])])
    raise PhotoTipsError("forbidden", f"this needs {need}", 403)
