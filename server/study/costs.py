"""Model facts from models/catalog.yaml and the cost of scoring 1 000 photos."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache

from .. import paths
from ..errors import PhotoTipsError
from ..yamlfile import read_yaml


@dataclass(frozen=True)
class ModelFacts:
    key: str
    name: str
    params_b: float
    input_cents_per_m: float | None = None
    output_cents_per_m: float | None = None
    self_hosted: bool = False
    images_per_s: float | None = None


# bench/vlm_gpu.py's output: its best expected-score throughput prices the self-hosted Qwen.
BENCH_RESULT = paths.HOME / "bench" / "out" / "vlm_gpu.json"


def measured_images_per_s() -> float | None:
    try:
        rows = json.loads(BENCH_RESULT.read_text())["rows"]
    except (OSError, ValueError, KeyError):
        return None
    rates = [r["images_per_s"] for r in rows if r.get("mode") == "expected" and r.get("images_per_s")]
    return max(rates) if rates else None


@lru_cache(maxsize=4)
def load_catalog(path: str = str(paths.MODELS / "catalog.yaml")) -> tuple[float, dict[str, ModelFacts]]:
    data = read_yaml(path, "models catalog")
    models = {}
    for key, m in (data.get("models") or {}).items():
        if "params_b" not in m or "name" not in m:
            raise PhotoTipsError("bad_config", f"models catalog {path}: {key} needs name and params_b")
        if not m.get("self_hosted") and (m.get("input_cents_per_m") is None or m.get("output_cents_per_m") is None):
            raise PhotoTipsError("bad_config", f"models catalog {path}: {key} needs token prices or self_hosted: true")
        models[key] = ModelFacts(key, m["name"], float(m["params_b"]), m.get("input_cents_per_m"),
                                 m.get("output_cents_per_m"), bool(m.get("self_hosted")), m.get("images_per_s"))
    return float(data.get("gpu_hour_usd", 0.0)), models


def usd_per_1000_photos(model: ModelFacts, *, input_tokens: float = 0.0, output_tokens: float = 0.0,
                        gpu_hour_usd: float | None = None, images_per_s: float | None = None) -> float | None:
    """Token-priced models: mean tokens per photo × price. Self-hosted: GPU time (PHOTOTIPS_GPU_HOUR_USD or the
    catalog's gpu_hour_usd) at the throughput measured by bench/vlm_gpu.py. None when it has not been measured."""
    if not model.self_hosted:
        cents = (input_tokens * model.input_cents_per_m + output_tokens * model.output_cents_per_m) / 1e6
        return cents * 1000 / 100
    rate = images_per_s or model.images_per_s or (measured_images_per_s() if "qwen" in model.key else None)
    if gpu_hour_usd is None:
        gpu_hour_usd = float(os.environ.get("PHOTOTIPS_GPU_HOUR_USD") or load_catalog()[0])
    if not rate:
        return 0.0 if model.params_b == 0 else None
    return gpu_hour_usd / (rate * 3600) * 1000
