"""The tip-wording preview for product people: every tip, in every variant a seller may see, in every locale,
read from the content files as they are on disk now, with every problem the server would refuse them for.

The server runs the files it loaded at start-up; the preview re-reads them on each request so that an
edit can be checked before it is deployed.
"""

from __future__ import annotations

from datetime import datetime

from ..errors import PhotoTipsError
from ..tips.catalog import Catalog, load_catalog
from .config import check_experiments


def wording_preview(tips_file: str, experiments_file: str, running_catalog: Catalog, now: datetime) -> dict:
    problems = []
    try:
        catalog = load_catalog(tips_file)
    except PhotoTipsError as exc:
        # The experiments are still checked, against the catalog the server runs, so both lists show at once.
        catalog = running_catalog
        problems.append({"file": "tips", "message": exc.message})
    experiments, exp_problems = check_experiments(experiments_file, catalog)
    problems += [{"file": "experiments", "message": m} for m in exp_problems]

    tips = []
    for tip in catalog.tips.values():
        covering = [e for e in experiments.experiments.values() if tip.id in e.tips]
        if covering:
            shown = [{"experiment": e.id, "active": e.active(now), "variant": v.id, "control": v.control,
                      "weight": round(e.weights()[v.id], 4), "text": v.wording.get(tip.id, {})}
                     for e in covering for v in e.variants]
        else:
            shown = [{"experiment": None, "active": False, "variant": tip.default_variant, "control": True,
                      "weight": 1.0, "text": tip.variants[tip.default_variant]}]
        tips.append({"id": tip.id, "aspect": tip.aspect, "problem": tip.problem,
                     "aspect_name": catalog.aspect_names.get(tip.aspect, {}), "shown": shown})
    return {"valid": not problems, "problems": problems, "locales": list(catalog.locales), "tips": tips,
            "files": {"tips": tips_file, "experiments": experiments_file}}
