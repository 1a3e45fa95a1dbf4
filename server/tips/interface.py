"""The seller's screen's own words (content/ui.yaml), per locale, checked like the tip catalog.

Every key needs a non-empty wording in every locale of the tips, so a seller who
picks French never meets an English button; a gap stops the server's start with
the key and the locale named.
"""

from __future__ import annotations

from functools import lru_cache

from ..errors import PhotoTipsError
from ..yamlfile import read_yaml


@lru_cache(maxsize=4)
def load_interface_text(path: str, locales: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """{locale: {key: text}} for every locale the tips have."""
    data = read_yaml(path, "interface text")
    entries = data.get("text") or {}
    problems = [f"{key}: no text for locale {loc!r}" for key, entry in entries.items() for loc in locales
                if not isinstance((entry or {}).get(loc), str) or not entry[loc].strip()]
    missing = sorted(set(locales) - set(data.get("locales") or ()))
    if missing:
        problems.append(f"locales: the tips have {', '.join(missing)} too")
    if not entries:
        problems.append("text: no entries")
    if problems:
        raise PhotoTipsError("bad_config", f"interface text {path}: " + "; ".join(problems[:10]), 400)
    return {loc: {key: entry[loc] for key, entry in entries.items()} for loc in locales}
