"""The GPU benchmark script works (smoke run on CPU with a tiny model) and its random 7B is the real size."""

import json
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def test_random_7b_architecture_has_the_published_parameter_count():
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
    from vlm_gpu import QWEN_7B_TEXT, QWEN_7B_VISION

    config = Qwen2_5_VLConfig(text_config=QWEN_7B_TEXT, vision_config=QWEN_7B_VISION)
    with torch.device("meta"):  # shapes only, no memory
        model = Qwen2_5_VLForConditionalGeneration._from_config(config, dtype=torch.bfloat16)
    assert abs(sum(p.numel() for p in model.parameters()) / 1e9 - 8.29) < 0.01


def test_vlm_benchmark_smoke_run_on_cpu(tmp_path):
    out = tmp_path / "vlm.json"
    run = subprocess.run(
        [sys.executable, "bench/vlm_gpu.py", "--tiny", "--device", "cpu", "--batch-sizes", "1,3", "--repeats", "2",
         "--photos", "3", "--max-new-tokens", "4", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(out.read_text())
    assert [(r["mode"], r["batch"]) for r in result["rows"]] == [
        ("expected", 1), ("expected", 3), ("generate", 1), ("generate", 3)]
    assert all(r["images_per_s"] > 0 and r["p95_ms"] >= r["p50_ms"] > 0 for r in result["rows"])


def test_load_benchmark_smoke_run(tmp_path):
    """bench/load.py end to end at a toy size: every phase runs and reports, against a real server."""
    out = tmp_path / "load.json"
    run = subprocess.run(
        [sys.executable, "bench/load.py", "--photos", "2", "--seconds", "4", "--sellers", "5", "--idle", "30",
         "--limit-seconds", "2", "--port", "8793", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode in (0, 1), run.stderr[-3000:]  # 1: a target missed at this toy size, not a failure
    result = json.loads(out.read_text())
    assert len(result["cpu_limit"]["single_core_per_s"]) == 4 and result["throughput"]["limit_per_s"] > 0
    assert result["throughput"]["photos_per_s"] > 0 and result["rss_at_rest_mb"] > 0
    assert result["live"]["tips"] == 15 and result["live"]["refused"] == 0 and result["live"]["web_cpu_ms_per_photo"] > 0
    assert result["overload"]["accepted"] > 0 and result["overload"]["failed"] == 0
    assert result["idle"]["connected"] == 30
    assert result["bombs"]["statuses"] == [413] and result["bombs"]["hero_40_status"] == 422
    assert result["bombs"]["hero_40_codes"] == ["image_too_large"]
    assert set(result["targets"]) and result["rss_peak_mb"] > 0


def test_fix_benchmark_smoke_run(tmp_path):
    """bench/fixes.py on a few photos: every degradation is run and counted; darkened copies are fixable and
    lifting raises their score (straightening is rarer: few of the first photos have level lines to measure,
    tests/test_fixes.py checks it on one that has)."""
    out = tmp_path / "fixes.json"
    run = subprocess.run([sys.executable, "bench/fixes.py", "--limit", "6", "--timing-photos", "1", "--repeats", "1",
                          "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(out.read_text())
    assert {name: d["copies"] for name, d in result["degraded"].items()} == {"tilted": 6, "far_away": 6, "darker": 6}
    darker = result["degraded"]["darker"]
    assert darker["fixable"] >= 1 and darker["score_rises"] >= 1 and darker["mean_gain"] > 0
    assert result["timing_12mp"]["check_and_fixes_median_ms"] > 0 and result["timing_12mp"]["check_median_ms"] > 0


def test_fix_benchmark_without_timing(tmp_path):
    """--timing-photos 0 measures the fixes and skips the 12 MP timing (it divided by zero)."""
    out = tmp_path / "fixes.json"
    run = subprocess.run([sys.executable, "bench/fixes.py", "--limit", "1", "--timing-photos", "0",
                          "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["timing_12mp"] is None
    assert {d["copies"] for d in result["degraded"].values()} == {1}


def test_page_benchmark_smoke_run(tmp_path):
    """bench/pages.py with one load of each page: both pages get ready in the browser and are timed."""
    out = tmp_path / "pages.json"
    run = subprocess.run([sys.executable, "bench/pages.py", "--loads", "1", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode in (0, 1), run.stderr[-3000:]  # 1: a slow machine missed the target, not a failure
    result = json.loads(out.read_text())
    assert set(result["pages"]) == {"seller", "ab"}
    for page in result["pages"].values():
        assert page["runs"] == 1 and page["median_ms"] > 0 and page["script_kb"] > 0
    # The seller's page loads far less JavaScript than the A/B page with its charting library.
    assert result["pages"]["seller"]["script_kb"] < result["pages"]["ab"]["script_kb"] / 4


def test_photo_check_benchmark_times_another_commits_check_alternately_with_this_trees(tmp_path):
    out = tmp_path / "against.json"
    run = subprocess.run([sys.executable, "bench/photo_check.py", "--against", "HEAD", "--pairs", "2", "--repeats", "1",
                          "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    res = json.loads(out.read_text())
    # Each side ran its own code: the commit's from a copy taken with git archive, this tree's from the repository.
    assert Path(res["code"]["this tree"]) == (ROOT / "server").resolve()
    assert not Path(res["code"]["HEAD"]).is_relative_to(ROOT) and Path(res["code"]["HEAD"]).name == "server"
    assert res["pairs"] == 2 and res["runs_each"] == 6
    assert all(len(v) == 2 and min(v) > 0 for v in res["run_medians_ms"].values())
    # The same code on both sides: the ratio is near 1, whatever the machine's speed.
    assert 0.5 < res["ratio"] < 2.0 and 0.5 < res["paired_ratio"] < 2.0
    # Each pair's ratio is of its own two runs, in the order they were made.
    assert res["pair_ratios"] == [round(b / a, 4) for a, b in zip(res["run_medians_ms"]["HEAD"],
                                                                  res["run_medians_ms"]["this tree"])]


def test_phash_benchmark_compares_the_hero_hash_with_imagehashs_on_real_photos(tmp_path):
    out = tmp_path / "phash.json"
    run = subprocess.run([sys.executable, "bench/phash.py", "--limit", "3", "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    res = json.loads(out.read_text())
    # Three photos of each set and three 12 MP JPEGs; the shipped hero hash is imagehash's own, to the bit.
    assert res["photos"] == 9 and res["pairs"] == 36 and res["near_copies"] == 18
    assert res["bits_from_imagehash"] == {"max": 0, "histogram": [9]}
    assert res["close_pairs"]["hero"] == res["close_pairs"]["imagehash"]
    assert res["near_copies_within"] == {"imagehash": 18, "hero": 18}


def test_hero_benchmark_ranks_real_listings_with_the_shipped_rules_and_by_score_alone(tmp_path):
    from hero import product

    assert product("grocery-shop-arla-standard-milk_003.jpg") == "grocery-shop-arla-standard-milk"
    assert product("abo-b0799ck52k-95f7ee92.jpg") == "abo-b0799ck52k"
    assert product("clothing-16269b50.jpg") is None and product("trashnet-glass7.jpg") is None
    out = tmp_path / "hero.json"
    run = subprocess.run([sys.executable, "bench/hero.py", "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    res = json.loads(out.read_text())
    # 26 products with two or more photos across both real sets, 77 photos in all.
    assert (res["listings"], res["photos"]) == (26, 77)
    for way in ("shipped", "score_alone"):
        r = res[way]
        assert 0 <= r["hero_has_the_best_rating"] <= 26 and 0 <= r["heroes_labelled_visibility_problem"] <= 26
        assert 1 <= r["mean_hero_rating"] <= 5 and r["mean_shortfall"] >= 0
    # The hero's penalties must not pick worse heroes than the score alone (before 2026-12-02 they did: 20 to 22).
    assert res["shipped"]["hero_has_the_best_rating"] >= res["score_alone"]["hero_has_the_best_rating"] - 1


def test_reading_swap_times_the_check_with_the_candidates_reading_in_place_of_the_shipped_one(tmp_path):
    # A candidate that reads as the shipped network does, 150 ms slower: only a real swap shows it, on any machine.
    candidate = tmp_path / "slow.py"
    candidate.write_text("import time\nfrom phototips.photocheck import edge_net\n\n"
                         "def edge_reading(rgb):\n    time.sleep(0.15)\n    return edge_net.edge_reading(rgb)\n")
    out = tmp_path / "swap.json"
    run = subprocess.run([sys.executable, "bench/reading_swap.py", str(candidate), "--rounds", "2", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    res = json.loads(out.read_text())
    assert res["pairs"] == 12 and res["rounds"] == 2
    assert res["median_ms"]["candidate"] - res["median_ms"]["shipped"] > 100, res
    assert res["paired_ratio"] > 1.0 and res["pair_ratio_quartiles"][0] > 1.0
    # Half the rounds time each side first: an odd number is refused.
    odd = subprocess.run([sys.executable, "bench/reading_swap.py", str(candidate), "--rounds", "3", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert odd.returncode == 2 and "must be even" in odd.stderr


def test_hash_skip_times_a_listings_check_against_one_without_the_hash(tmp_path, monkeypatch):
    import os

    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):  # set by the script on import: restored after this test
        monkeypatch.setenv(name, os.environ.get(name, "1"))
    from hash_skip import sides
    from phototips.config import load_settings
    from phototips.scoring.result import ScoreRequest
    from phototips.service import PhotoService
    from photo_check import phone_jpeg

    # The two sides differ in the hash alone: the same answer, one with the hero hash and one without.
    svc = PhotoService(load_settings({"PHOTOTIPS_DATABASE_URL": f"sqlite:///{tmp_path}/h.db"}, cpu_workers=0))
    raw = phone_jpeg("coffee", 0)
    hashed, unhashed = (run(raw) for run in sides(svc, ScoreRequest()).values())
    assert hashed.phash is not None and unhashed.phash is None
    assert hashed.result.score == unhashed.result.score and hashed.result.aspects == unhashed.result.aspects
    out = tmp_path / "hash.json"
    run = subprocess.run([sys.executable, "bench/hash_skip.py", "--rounds", "2", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    res = json.loads(out.read_text())
    assert res["pairs"] == 12 and set(res["median_ms"]) == {"hashed", "unhashed"} and res["paired_ratio"] > 0
    odd = subprocess.run([sys.executable, "bench/hash_skip.py", "--rounds", "1", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert odd.returncode == 2 and "must be even" in odd.stderr


def test_model_swap_times_this_trees_model_files_against_another_commits(tmp_path):
    # Against this very commit: the same model files on both sides, both read and timed in turn.
    out = tmp_path / "model_swap.json"
    run = subprocess.run([sys.executable, "bench/model_swap.py", "--against", "HEAD", "--rounds", "2",
                          "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    res = json.loads(out.read_text())
    assert res["pairs"] == 12 and set(res["median_ms"]) == {"HEAD", "this tree"} and res["photos"] == "six 12 MP JPEGs"
    assert len(res["models"]) == 2 and res["models"][0].startswith("photo-check@")
    odd = subprocess.run([sys.executable, "bench/model_swap.py", "--against", "HEAD", "--rounds", "3"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert odd.returncode == 2 and "must be even" in odd.stderr
