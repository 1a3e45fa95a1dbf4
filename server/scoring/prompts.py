"""Versioned prompt templates from prompts/*.yaml: the study's generic and guided prompts, and ours."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


from .. import paths
from ..errors import PhotoTipsError
from ..yamlfile import read_yaml


@dataclass(frozen=True)
class Prompt:
    id: str
    version: int
    system: str
    user: str  # with {item_type}

    def render(self, item_type: str) -> tuple[str, str]:
        return self.system, self.user.replace("{item_type}", item_type)

    @property
    def ref(self) -> dict:
        return {"id": self.id, "version": self.version}


@lru_cache(maxsize=4)
def load_prompts(directory: str = str(paths.PROMPTS)) -> dict[str, Prompt]:
    out: dict[str, Prompt] = {}
    for file in sorted(Path(directory).glob("*.yaml")):
        data = read_yaml(file, "prompts")
        parts = data.get("parts", {})
        for pid, spec in data.get("prompts", {}).items():
            texts = {**parts, "instruction": spec.get("instruction", "")}
            missing = [p for p in spec["system"] + spec["user"] if p not in texts]
            if missing or pid in out:
                raise PhotoTipsError("bad_config", f"{file}: prompt {pid!r} is duplicated or names unknown parts {missing}")
            out[pid] = Prompt(
                pid, int(spec["version"]),
                " ".join(texts[p].strip() for p in spec["system"]),
                " ".join(texts[p].strip() for p in spec["user"]),
            )
    return out


def get_prompt(prompt_id: str) -> Prompt:
    prompts = load_prompts()
    if prompt_id not in prompts:
        raise PhotoTipsError("unknown_prompt", f"no prompt {prompt_id!r}; available: {', '.join(sorted(prompts))}", 400)
    return prompts[prompt_id]
