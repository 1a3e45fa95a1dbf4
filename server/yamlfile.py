"""Read one of the project's YAML content files, or fail with a configuration error naming it.

The files are edited by hand (tip wordings, experiments): a key written twice, where YAML would keep the last
without a word, and a file saved in another encoding than UTF-8 are refused, with where.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import PhotoTipsError


class _StrictLoader(yaml.SafeLoader):
    pass


def _no_repeated_keys(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"the key {key!r} is written twice",
                                                    key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_repeated_keys)


def read_yaml(path: str | Path, what: str) -> dict:
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506 - safe loader
    except UnicodeDecodeError as exc:
        raise PhotoTipsError("bad_config", f"{what} {path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") \
            from None
    except (OSError, yaml.YAMLError) as exc:
        raise PhotoTipsError("bad_config", f"{what} {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise PhotoTipsError("bad_config", f"{what} {path}: expected a mapping at the top level")
    return data
