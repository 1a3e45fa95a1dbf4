"""The study's report from an evaluation: its table layout (generic | guided), score densities per prompt
(the study's Figure 2), aspects mentioned in justifications, and size vs cost vs alignment."""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import gaussian_kde  # noqa: E402

from ..scoring.result import ASPECTS  # noqa: E402

METRIC_COLUMNS = [("percent_agreement", "Pct agreement"), ("kappa_quadratic", "κ quadratic"),
                  ("kappa_linear", "κ linear"), ("pearson", "Pearson"), ("spearman", "Spearman")]
SYNTHETIC_WARNING = ("**SYNTHETIC DATA.** These ratings were simulated from graded degradations of real photos "
                     "(`phototips study synthetic`). The figures check the harness and the direction of scores; "
                     "they say nothing about agreement with real buyers.")


def _fmt(m: dict | None) -> str:
    if not m:
        return "—"
    lo, hi = m["ci95"]
    ci = "" if np.isnan(lo) else f" [{lo:.2f}, {hi:.2f}]"
    return f"{m['value']:.3f}{ci}"


def _prompts(results: dict) -> list[str]:
    seen = [e["prompt"] for e in results["results"] if e["prompt"] != "-"]
    return list(dict.fromkeys(seen)) or ["-"]


def table(results: dict) -> tuple[list[str], list[list[str]]]:
    prompts = _prompts(results)
    header = ["Scorer", "Params (B)", "$ / 1000 photos"] + [f"{p}: {label}" for p in prompts for _, label in METRIC_COLUMNS]
    by_scorer: dict[str, dict[str, dict]] = {}
    for e in results["results"]:
        for p in (prompts if e["prompt"] == "-" else [e["prompt"]]):
            by_scorer.setdefault(e["scorer"], {})[p] = e
    body = []
    for scorer, per in by_scorer.items():
        any_e = next(iter(per.values()))
        cost = any_e["usd_per_1000_photos"]
        row = [scorer + (f" ({any_e['model']})" if any_e["model"] != scorer else ""),
               "—" if any_e["params_b"] is None else f"{any_e['params_b']:g}",
               "—" if cost is None else f"{cost:.3f}"]
        for p in prompts:
            metrics = (per.get(p) or {}).get("metrics") or {}
            row += [_fmt(metrics.get(k)) for k, _ in METRIC_COLUMNS]
        body.append(row)
    return header, body


def density_figure(rows, results: dict, path: Path) -> None:
    prompts = _prompts(results)
    fig, axes = plt.subplots(1, len(prompts), figsize=(6 * len(prompts), 4), squeeze=False, sharey=True)
    xs = np.linspace(0.5, 5.5, 200)
    for ax, prompt in zip(axes[0], prompts):
        human = [r.human for r in rows if r.prompt in (prompt, "-")]
        series = {}
        for r in rows:
            if r.score is not None and r.prompt in (prompt, "-"):
                series.setdefault(r.scorer, []).append(r.score)
        if human:
            ax.hist(human, bins=np.arange(0.5, 6), density=True, alpha=0.2, color="grey", label="human majority")
        for name, values in series.items():
            if len(set(values)) > 1:
                ax.plot(xs, gaussian_kde(values)(xs), label=name)
        ax.set_title(f"{prompt} prompt" if prompt != "-" else "scores")
        ax.set_xlabel("score")
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("density")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def aspects_figure(results: dict, path: Path) -> None:
    entries = [e for e in results["results"] if e["aspects_mentioned"]]
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(1, len(entries))
    for i, e in enumerate(entries):
        ax.bar(np.arange(len(ASPECTS)) + i * width, [e["aspects_mentioned"].get(a, 0) for a in ASPECTS], width,
               label=f"{e['scorer']} / {e['prompt']}")
    ax.set_xticks(np.arange(len(ASPECTS)) + width * (len(entries) - 1) / 2, ASPECTS, rotation=20)
    ax.set_ylabel("justifications mentioning it")
    ax.set_title("Quality aspects mentioned in justifications")
    if entries:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def size_cost_figure(results: dict, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for e in results["results"]:
        pearson = ((e["metrics"] or {}).get("pearson") or {}).get("value")
        if pearson is None or np.isnan(pearson):
            continue
        size = e["params_b"] or 0.0
        cost = e["usd_per_1000_photos"]
        ax.scatter(max(size, 0.01), cost if cost is not None else 0.0, s=60 + 400 * max(pearson, 0),
                   c=[[max(0.0, min(1.0, pearson)), 0.3, 1 - max(0.0, min(1.0, pearson))]], alpha=0.7)
        ax.annotate(f"{e['scorer']}/{e['prompt']}\nr={pearson:.2f}" + ("" if cost is not None else " (cost ?)"),
                    (max(size, 0.01), cost or 0.0), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("parameters (billions, log)")
    ax.set_ylabel("US$ per 1 000 photos")
    ax.set_title("Size vs cost vs alignment (bubble size and colour: Pearson)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(out: Path, rows, results: dict) -> None:
    density_figure(rows, results, out / "density.png")
    aspects_figure(results, out / "aspects.png")
    size_cost_figure(results, out / "size_cost.png")
    header, body = table(results)
    per, ceiling = results["ratings_per_image"], results["human_ceiling"]
    intro = [
        f"Ratings: `{results['ratings']}` — {results['photos']} photos, {per['ratings']} ratings, "
        f"{per['mean']:.1f} ± {per['sd']:.1f} per photo (the study: 9.5 ± 3.8).",
        f"Human ceiling: a rater agrees with the majority of the others {ceiling['leave_one_out_agreement']:.2%} "
        f"of the time (pairwise {ceiling['pairwise_agreement']:.2%}; the study quotes 54.26%).",
        "Weighted kappa is given both quadratic and linear (the study does not say which); intervals are "
        "bootstrap 95% over photos. Costs from `models/catalog.yaml` (tokens × prices, or GPU time at the measured "
        "throughput; — where unknown).",
    ]
    if any("tiny" in str(e["model"]) for e in results["results"]):
        intro.append("qwen-local ran a tiny randomly initialised Qwen2.5-VL standing in for the real model: "
                     "its numbers test the pipeline, not Qwen2.5-VL-7B.")
    md = ["# Photo Tips — alignment with human ratings", ""]
    if results["synthetic"]:
        md += [SYNTHETIC_WARNING, ""]
    md += intro + ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(r) + " |" for r in body]
    md += ["", "![Score densities per prompt](density.png)", "", "![Aspects mentioned](aspects.png)", "",
           "![Size vs cost vs alignment](size_cost.png)", ""]
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")

    esc = html.escape
    warn = f"<p class=warn>{esc(SYNTHETIC_WARNING.replace('**', ''))}</p>" if results["synthetic"] else ""
    rows_html = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in body)
    page = f"""<!doctype html><html lang=en><head><meta charset=utf-8><title>Photo Tips — alignment report</title>
<style>body{{font:14px system-ui,sans-serif;max-width:1200px;margin:20px auto;padding:0 12px}}
table{{border-collapse:collapse;font-size:12px}}td,th{{border:1px solid #ccd;padding:3px 6px}}
.warn{{background:#fde2e2;padding:8px;border-radius:6px;font-weight:600}}img{{max-width:100%}}</style></head><body>
<h1>Photo Tips — alignment with human ratings</h1>{warn}{''.join(f'<p>{esc(p)}</p>' for p in intro)}
<table><thead><tr>{''.join(f'<th>{esc(h)}</th>' for h in header)}</tr></thead><tbody>{rows_html}</tbody></table>
<h2>Score densities per prompt</h2><img src=density.png alt="score densities">
<h2>Aspects mentioned in justifications</h2><img src=aspects.png alt="aspects">
<h2>Size vs cost vs alignment</h2><img src=size_cost.png alt="size vs cost"></body></html>"""
    (out / "report.html").write_text(page, encoding="utf-8")
