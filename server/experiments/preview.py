"""The tip-wording preview for product people: every tip, in every variant a seller may see, in every locale,
read from the content files as they are on disk now, with every problem the server would refuse them for.

The server runs the files it loaded at start-up; the preview re-reads them on each request so that an
edit can be checked before it is deployed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..tips.catalog import Catalog, check_catalog
from .config import check_experiments


def wording_preview(tips_file: str, experiments_file: str, running_catalog: Catalog, now: datetime) -> dict:
    catalog, tip_problems = check_catalog(tips_file)
    if tip_problems:
        # The experiments are still checked, against the catalog the server runs, so both lists show at once.
        catalog = running_catalog
    experiments, exp_problems = check_experiments(experiments_file, catalog)
    # Product people need the file's name, not where the server keeps it.
    names = {"tips": Path(tips_file).name, "experiments": Path(experiments_file).name}
    paths = {"tips": str(tips_file), "experiments": str(experiments_file)}
    problems = [{"file": kind, "message": m.replace(paths[kind], names[kind])}
                for kind, found in (("tips", tip_problems), ("experiments", exp_problems)) for m in found]

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
            "files": names}
