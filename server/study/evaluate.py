"""Run scorers × prompts over rated photos and measure their alignment with the human majority.

Resumable: every answer is cached in OUT/cache.db under (photo hash, scorer,
model, prompt id, prompt version), committed as it arrives, so an interrupted
run continues where it stopped and a changed prompt version is recomputed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, create_engine, delete, select
from tqdm import tqdm

from ..errors import PhotoTipsError
from ..imaging.decode import decode_photo
from ..scoring.prompts import get_prompt
from ..scoring.registry import create_scorer
from ..scoring.result import ScoreRequest
from ..storage.events import insert_ignore
from ..tips.justification import map_justification
from .costs import load_catalog, usd_per_1000_photos
from .metrics import alignment, human_ceiling
from .ratings import Rated, ratings_per_image, read_ratings
from .synthetic import is_synthetic

# Scorers that take no prompt (uses_prompts = False) are run once, under this prompt name.
NO_PROMPT = "-"

_meta = MetaData()
cache = Table(
    "predictions", _meta,
    Column("photo_sha", String(64), primary_key=True),
    Column("scorer", String(60), primary_key=True),
    Column("model", String(200), primary_key=True),
    Column("prompt", String(40), primary_key=True),
    Column("prompt_version", Integer, primary_key=True),
    Column("score", Float), Column("justification", Text), Column("error", Text),
    Column("latency_ms", Float), Column("input_tokens", Integer), Column("output_tokens", Integer),
)

CACHE_KEY = ["photo_sha", "scorer", "model", "prompt", "prompt_version"]


@dataclass
class Row:
    image: str
    human: int
    scorer: str
    prompt: str
    score: float | None
    justification: str
    error: str
    latency_ms: float
    input_tokens: int
    output_tokens: int

    @property
    def rating(self) -> int | None:
        return None if self.score is None else int(min(5, max(1, int(self.score + 0.5))))


def catalog_key(scorer_name: str, model: str, params_b: float | None = None) -> str | None:
    """Which models/catalog.yaml entry prices this scorer's model: by name, or, for a model whose name does not
    say (a checkpoint's directory), by its measured size, within 30% of an entry's. A model of no known size
    (the tiny stand-in) has none: it was priced and sized as the 7B."""
    _, models = load_catalog()
    if scorer_name in models:
        return scorer_name
    low = model.lower()
    for key, facts in models.items():
        if key in low or facts.name.lower().replace(" ", "-") in low:
            return key
    if "nova-lite" in low:
        return "nova-lite"
    if params_b and "qwen" in low:
        near = [k for k, f in models.items() if k.startswith("qwen") and f.params_b
                and abs(f.params_b - params_b) <= 0.3 * f.params_b]
        return near[0] if near else None
    return None


def run_eval(ratings: str | Path, scorers: list[str], prompts: list[str], out: str | Path, settings, *,
             subset: list[Rated] | None = None, n_resamples: int = 2000, progress: bool = True) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rated = subset if subset is not None else read_ratings(ratings)
    for p in prompts:
        get_prompt(p)  # unknown prompt: fail before any work
    scorers = list(dict.fromkeys(scorers))  # a name twice would count its photos twice
    if not scorers:
        raise PhotoTipsError("bad_arguments", "no scorer to evaluate: --scorers photo-check-rules,learned,...")
    made = {name: _make(name, settings) for name in scorers}  # an unknown or unset scorer: before any work too
    engine = create_engine(f"sqlite:///{out / 'cache.db'}")
    _meta.create_all(engine)
    shas = {r.image: hashlib.sha256(r.path.read_bytes()).hexdigest() for r in rated}
    rows: list[Row] = []
    stats = {"computed": 0, "from_cache": 0}
    for name, scorer in made.items():
        # The model in the cache's key: another model behind the same scorer name is not served the first's answers.
        model = getattr(scorer, "model", None) or getattr(scorer, "model_id", None) or name
        for prompt_id in (prompts if getattr(scorer, "uses_prompts", True) else [NO_PROMPT]):
            version = 0 if prompt_id == NO_PROMPT else get_prompt(prompt_id).version
            group = dict(scorer=name, model=str(model), prompt=prompt_id, prompt_version=version)
            with engine.begin() as conn:
                # A failure is not an answer: a rerun after an outage asks again (a cache of an earlier version
                # may still hold failures).
                conn.execute(delete(cache).filter_by(**group).where(cache.c.error != ""))
                cached = {row["photo_sha"]: row for row in conn.execute(select(cache).filter_by(**group)).mappings()}
            for r in tqdm(rated, desc=f"{name} × {prompt_id}", disable=not progress, leave=False):
                hit = cached.get(shas[r.image])
                if hit is None:
                    hit = {**group, "photo_sha": shas[r.image], **_score_one(scorer, r, prompt_id, settings)}
                    if not hit["error"]:
                        with engine.begin() as conn:  # committed one by one: an interruption keeps what is done
                            conn.execute(insert_ignore(engine, cache, CACHE_KEY), hit)
                    cached[hit["photo_sha"]] = hit  # an identical photo later in the set is a cache hit
                    stats["computed"] += 1
                else:
                    stats["from_cache"] += 1
                rows.append(Row(r.image, r.majority, name, prompt_id, hit["score"], hit["justification"] or "",
                                hit["error"] or "", hit["latency_ms"] or 0.0, hit["input_tokens"] or 0,
                                hit["output_tokens"] or 0))
        stats.setdefault("models", {})[name] = str(model)
        stats.setdefault("params_b", {})[name] = getattr(scorer, "params_b", None)
    results = summarise(rows, rated, ratings, settings, stats, n_resamples)
    write_outputs(out, rows, results)
    return results


def _make(name: str, settings):
    try:
        return create_scorer(name, settings)
    except PhotoTipsError:
        raise
    except Exception as exc:  # e.g. botocore's NoRegionError: the scorer is not set up on this machine
        raise PhotoTipsError("scorer_unavailable", f"the {name} scorer cannot be created here: "
                                                   f"{type(exc).__name__}: {exc}") from None


def _score_one(scorer, r: Rated, prompt_id: str, settings) -> dict:
    try:
        photo = decode_photo(r.path.read_bytes(), max_pixels=settings.max_pixels, analysis_side=settings.analysis_side)
        res = scorer.score(photo, ScoreRequest(item_type=r.item_type, prompt=None if prompt_id == NO_PROMPT else prompt_id,
                                               want_justification=True))
    except PhotoTipsError as exc:
        return {"score": None, "justification": "", "error": str(exc), "latency_ms": 0.0,
                "input_tokens": 0, "output_tokens": 0}
    return {"score": res.score, "justification": res.justification, "error": "", "latency_ms": res.latency_ms,
            "input_tokens": res.usage.get("input_tokens", 0), "output_tokens": res.usage.get("output_tokens", 0)}


def summarise(rows: list[Row], rated: list[Rated], ratings, settings, stats: dict, n_resamples: int) -> dict:
    gpu_hour, models = load_catalog()
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.scorer, row.prompt), []).append(row)
    entries = []
    for (scorer, prompt), rs in groups.items():
        ok = [r for r in rs if r.score is not None]
        model = stats.get("models", {}).get(scorer, scorer)
        measured = stats.get("params_b", {}).get(scorer)
        key = catalog_key(scorer, model, measured)
        facts = models.get(key) if key else None
        mean_in = statistics.fmean(r.input_tokens for r in ok) if ok else 0.0
        mean_out = statistics.fmean(r.output_tokens for r in ok) if ok else 0.0
        aspects: dict[str, int] = {}
        for r in ok:
            for a in map_justification(r.justification):
                aspects[a] = aspects.get(a, 0) + 1
        entries.append({
            "scorer": scorer, "prompt": prompt, "model": model, "catalog": key,
            "params_b": facts.params_b if facts else (round(measured, 4) if measured else None),
            "n": len(rs), "errors": len(rs) - len(ok),
            "metrics": alignment([r.human for r in ok], [r.score for r in ok], n_resamples=n_resamples) if len(ok) >= 2 else None,
            "latency_ms_p50": statistics.median(r.latency_ms for r in ok) if ok else None,
            "tokens_per_photo": {"input": mean_in, "output": mean_out},
            "usd_per_1000_photos": usd_per_1000_photos(facts, input_tokens=mean_in, output_tokens=mean_out,
                                                       gpu_hour_usd=gpu_hour) if facts else None,
            "aspects_mentioned": aspects,
        })
    return {
        "ratings": str(ratings), "synthetic": is_synthetic(ratings), "photos": len(rated),
        "ratings_per_image": ratings_per_image(rated), "human_ceiling": human_ceiling(rated),
        "cache": {k: v for k, v in stats.items() if k not in ("models", "params_b")}, "results": entries,
    }


def write_outputs(out: Path, rows: list[Row], results: dict) -> None:
    with (out / "predictions.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["image", "human_majority", "scorer", "prompt", "score", "rating", "latency_ms",
                    "input_tokens", "output_tokens", "error"])
        for r in rows:
            w.writerow([r.image, r.human, r.scorer, r.prompt, "" if r.score is None else round(r.score, 4),
                        "" if r.rating is None else r.rating, round(r.latency_ms, 1), r.input_tokens, r.output_tokens,
                        r.error])
    # Strict JSON: an interval that could not be computed (too few photos) is null, not NaN.
    (out / "results.json").write_text(json.dumps(_no_nan(results), indent=2, default=float, allow_nan=False),
                                      encoding="utf-8")
    from .report import write_report

    write_report(out, rows, results)


def _no_nan(value):
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_nan(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return _no_nan(value.item())
    return value
