"""Ratings intake, majority vote and ties, metrics against hand-computed values, costs, and the split."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from phototips.errors import PhotoTipsError
from phototips.scoring.result import ASPECTS
from phototips.study.costs import load_catalog, usd_per_1000_photos
from phototips.study.findings_eval import Judged, degraded_report, findings_report, label_agreement
from phototips.study.metrics import alignment, human_ceiling
from phototips.study.ratings import majority_vote, ratings_per_image, read_ratings
from phototips.study.split import stratified_split

SET = Path(__file__).resolve().parent.parent / "data" / "realset"


def write_csv(tmp_path, rows, images=("a.jpg", "b.jpg", "c.jpg")):
    for name in images:
        (tmp_path / name).write_bytes(b"x")
    p = tmp_path / "ratings.csv"
    p.write_text("image,rater,score,item_type\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return p


def test_majority_vote_and_its_tie_rule():
    assert majority_vote([4, 4, 3]) == 4
    assert majority_vote([2, 2, 4, 4, 4]) == 4
    assert majority_vote([2, 2, 4, 4, 3]) == 2  # tie 2/4, mean 3.0 equally far: the lower one
    assert majority_vote([2, 2, 4, 4, 5]) == 4  # tie 2/4, mean 3.4: 4 is closer
    assert majority_vote([5]) == 5


def test_ratings_are_read_and_summarised(tmp_path):
    p = write_csv(tmp_path, [("a.jpg", "r1", 4, "bag"), ("a.jpg", "r2", 4, "bag"), ("a.jpg", "r3", 2, "bag"),
                             ("b.jpg", "r1", 1, "sofa"), ("b.jpg", "r4", 2, "sofa")])
    rated = read_ratings(p)
    assert [(r.image, r.majority, r.item_type, len(r.scores)) for r in rated] == [("a.jpg", 4, "bag", 3), ("b.jpg", 1, "sofa", 2)]
    summary = ratings_per_image(rated)
    assert (summary["images"], summary["ratings"], summary["mean"]) == (2, 5, 2.5)
    assert summary["sd"] == pytest.approx(math.sqrt(0.5))


@pytest.mark.parametrize("rows, message", [
    ([("a.jpg", "r1", 6, "")], "score 6 is outside 1–5"),
    ([("a.jpg", "r1", "4.5", "")], "score '4.5' is not a whole number"),
    ([("a.jpg", "r1", 4, ""), ("a.jpg", "r1", 3, "")], "rater 'r1' rated a.jpg twice"),
    ([("missing.jpg", "r1", 4, "")], "unknown image missing.jpg"),
])
def test_bad_ratings_are_refused_with_the_line(tmp_path, rows, message):
    with pytest.raises(PhotoTipsError) as exc:
        read_ratings(write_csv(tmp_path, rows))
    assert message in exc.value.message


def test_ratings_files_as_spreadsheets_save_them_are_read_or_refused_in_words(tmp_path):
    # A review: a byte-order mark hid the first column, a short row or a Windows file was a traceback.
    (tmp_path / "a.jpg").write_bytes(b"x")
    bom = tmp_path / "bom.csv"
    bom.write_bytes("image,rater,score\r\na.jpg,r1,4\r\n".encode("utf-8-sig"))
    assert [r.majority for r in read_ratings(bom)] == [4]
    for name, data, said in (
            ("short.csv", b"image,rater,score\na.jpg,r1\n", "short.csv:2: score '' is not a whole number"),
            ("latin.csv", "image,rater,score\nä.jpg,r1,4\n".encode("cp1252"), "is not UTF-8 text"),
            ("semi.csv", b"image;rater;score\na.jpg;r1;4\n", "separated by ';'"),
            ("gone.csv", b"image,rater,score\na.jpg,r1,4\nnone.jpg,r1,3\n", "gone.csv:3: unknown image none.jpg")):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(PhotoTipsError) as exc:
            read_ratings(tmp_path / name)
        assert said in exc.value.message, exc.value.message


def test_metrics_match_hand_computed_values():
    human = [1, 2, 3, 4, 5, 3, 4, 2, 5, 1]
    score = [1.2, 2.4, 3.0, 3.6, 4.4, 3.2, 4.1, 2.9, 4.6, 2.0]
    # ratings (half up): 1, 2, 3, 4, 4, 3, 4, 3, 5, 2 → 7 of 10 agree
    out = alignment(human, score, n_resamples=300)
    assert out["percent_agreement"]["value"] == pytest.approx(0.7)
    # Linear-weighted kappa by hand: observed disagreement Σ|i-j| = 3 over 10 items; expected from the marginals.
    rating = [1, 2, 3, 4, 4, 3, 4, 3, 5, 2]
    h_m = np.bincount(human, minlength=6)[1:] / 10
    r_m = np.bincount(rating, minlength=6)[1:] / 10
    w_lin = np.abs(np.subtract.outer(range(5), range(5)))
    expected = (np.outer(h_m, r_m) * w_lin).sum()
    assert out["kappa_linear"]["value"] == pytest.approx(1 - 0.3 / expected)
    w_quad = w_lin ** 2
    assert out["kappa_quadratic"]["value"] == pytest.approx(1 - 0.3 / (np.outer(h_m, r_m) * w_quad).sum())
    hx, sx = np.array(human, float), np.array(score)
    pearson = ((hx - hx.mean()) * (sx - sx.mean())).sum() / math.sqrt(((hx - hx.mean()) ** 2).sum() * ((sx - sx.mean()) ** 2).sum())
    assert out["pearson"]["value"] == pytest.approx(pearson)
    lo, hi = out["pearson"]["ci95"]
    assert lo < pearson < hi <= 1.0
    # Spearman = Pearson of the ranks (ties get their mean rank).
    def ranks(v):
        order = sorted(v)
        return [sum(i + 1 for i, x in enumerate(order) if x == y) / order.count(y) for y in v]
    rh, rs = np.array(ranks(human)), np.array(ranks(score))
    spearman = ((rh - rh.mean()) * (rs - rs.mean())).sum() / math.sqrt(((rh - rh.mean()) ** 2).sum() * ((rs - rs.mean()) ** 2).sum())
    assert out["spearman"]["value"] == pytest.approx(spearman)
    lo, hi = out["percent_agreement"]["ci95"]
    assert 0 <= lo < 0.7 < hi <= 1


def test_human_ceiling():
    from phototips.study.ratings import Rated
    from pathlib import Path

    rated = [Rated("a", Path("a"), "bag", (4, 4, 3), ("x", "y", "z")), Rated("b", Path("b"), "bag", (2, 2), ("x", "y"))]
    out = human_ceiling(rated)
    # a: 4 vs majority(4,3)=3 (tie → mean 3.5 → lower) ✗, 4 vs 3 ✗, 3 vs majority(4,4)=4 ✗ → 0/3
    assert out["leave_one_out_agreement"] == 0.0 and out["ratings"] == 3
    # pairs: a has 1 agreeing ordered pair ×2 of 6; b 2 of 2 → 4/8
    assert out["pairwise_agreement"] == pytest.approx(0.5)


def test_findings_report_adds_up_right_wrong_and_missed_tips_over_the_judged_aspects():
    def judged(file, labels, shown):
        full = dict.fromkeys(ASPECTS, "good")
        full.update(labels)
        return Judged(file, full, shown, overall=3, score=3.0,
                      good=all(v == "good" for a, v in full.items() if a != "resolution"))

    rows = [
        # Right: a tip on the labelled aspect, even with another of its problems (as the per-aspect table).
        judged("a", {"lighting": "too_dark", "resolution": "low_resolution"},
               {"lighting": "overexposed", "resolution": "low_resolution"}),
        judged("b", {"visibility": "cut_off"}, {}),  # missed
        judged("c", {}, {"background": "cluttered", "angle": "tilted"}),  # two wrong tips on a good photo
        judged("d", {"resolution": "low_resolution"}, {}),  # resolution is not added up: it follows from the size
    ]
    out = findings_report(rows, n_resamples=10)
    assert out["tips"] == {"right": 1, "right_problem": 0, "wrong": 2, "missed": 1}


def test_a_tip_on_an_aspect_the_degradation_leaves_unknown_is_not_counted_as_new():
    """A tilted copy is zoomed, which may cut its item: its cut-off tip is no new tip elsewhere; a clutter tip is."""
    def row(shown, unknown=("visibility",)):
        return {"degradation": "tilted", "aspect": "angle", "problem": "tilted", "unknown": unknown,
                "shown": {"angle": None, "resolution": "low_resolution", **shown}, "original_shown": {}}

    rows = [row({"visibility": "cut_off"}), row({"background": "cluttered"}), row({"angle": "tilted"}),
            row({"visibility": "cut_off"}, unknown=())]
    got = degraded_report(rows)["tilted"]
    assert got["n"] == 4
    assert got["recall"] == 0.25
    assert got["other_new_tip"] == 0.5  # the clutter tip, and the cut-off tip where visibility is known
    assert got["not_counted"] == ["visibility"]


def test_label_agreement_judges_the_second_person_and_the_scorer_against_the_first_on_the_same_photos():
    def row(light, overall):
        return {"lighting": light, "overall": overall}

    first = {"a": row("too_dark", 2), "b": row("too_dark", 2), "c": row("good", 4), "d": row("good", 5),
             "e": row("too_dark", 1)}
    second = {"a": row("too_dark", 2), "b": row("good", 3), "c": row("too_dark", 3), "d": row("good", 5),
              "e": row("too_dark", 2), "only-second": row("too_dark", 1)}
    shown = {"a": {"lighting": "too_dark"}, "b": {"lighting": None}, "c": {"lighting": None},
             "d": {"lighting": "overexposed"}}  # "e" was not scored (another split)
    out = label_agreement(first, second, ["lighting"], shown=shown)
    assert (out["photos"], out["compared"]) == (5, 4)
    light = out["aspects"]["lighting"]
    # On a-d, the second person hits a, misses b, adds c.
    assert light["second_vs_first"] == {"hits": 1, "flagged": 2, "labelled": 2, "precision": 0.5, "recall": 0.5}
    # The scorer hits a, misses b, and a tip of any problem on d counts as flagged.
    assert light["scorer_vs_first"] == {"hits": 1, "flagged": 2, "labelled": 2, "precision": 0.5, "recall": 0.5}
    assert light["agreement"] == pytest.approx(3 / 5)  # a-e: a split does not change the people's agreement
    without = label_agreement(first, second, ["lighting"])
    assert without["compared"] == 5 and "scorer_vs_first" not in without["aspects"]["lighting"]
    assert without["aspects"]["lighting"]["second_vs_first"]["recall"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="both people"):
        label_agreement(first, {"only-second": row("good", 4)}, ["lighting"])


def test_cost_per_1000_photos_from_the_catalog():
    gpu_hour, models = load_catalog()
    nova = models["nova-lite"]
    assert (nova.params_b, nova.input_cents_per_m, nova.output_cents_per_m) == (20, 6, 24)
    # 1 500 input + 60 output tokens per photo: (1500·6 + 60·24) / 1e6 cents per photo → $0.1044 per 1000
    assert usd_per_1000_photos(nova, input_tokens=1500, output_tokens=60) == pytest.approx(0.1044)
    qwen = models["qwen2.5-vl-7b"]
    assert usd_per_1000_photos(qwen, images_per_s=40, gpu_hour_usd=2.5) == pytest.approx(2.5 / 144)
    assert usd_per_1000_photos(qwen, gpu_hour_usd=2.5) is None  # throughput not measured yet
    assert {"gpt-4o-mini", "gpt-4o", "claude-3-haiku", "claude-3.5-sonnet", "nova-pro", "qwen2.5-vl-72b"} <= set(models)


def test_a_local_model_is_sized_and_priced_by_its_name_or_measured_size_never_as_the_7b_by_default():
    # A review: the tiny stand-in, or any checkpoint, was reported as the 7B.
    from phototips.study.evaluate import catalog_key

    assert catalog_key("qwen-local", "qwen2.5-vl:Qwen2.5-VL-72B-Instruct") == "qwen2.5-vl-72b"
    assert catalog_key("qwen-local", "qwen2.5-vl:6b0f3c9e", params_b=8.29) == "qwen2.5-vl-7b"  # an HF snapshot dir
    assert catalog_key("qwen-local", "qwen2.5-vl:tiny-qwen", params_b=0.0004) is None
    assert catalog_key("qwen-local", "qwen-local") is None  # not loaded: no size known
    assert catalog_key("bedrock", "amazon.nova-lite-v1:0") == "nova-lite"


def test_split_is_seeded_stratified_and_60_40():
    from phototips.study.ratings import Rated
    from pathlib import Path

    rng = np.random.default_rng(0)
    rated = [Rated(f"{i:03d}", Path(f"{i}"), "bag", (int(s),), ("r",)) for i, s in enumerate(rng.choice([1, 2, 3, 4, 5], 600, p=[.1, .2, .3, .3, .1]))]
    train, test = stratified_split(rated, seed=7)
    assert (len(train), len(test)) == (360, 240)
    again = stratified_split(rated, seed=7)
    assert [r.image for r in again[1]] == [r.image for r in test]
    share = lambda rs, k: sum(r.majority == k for r in rs) / len(rs)
    for k in range(1, 6):
        assert abs(share(train, k) - share(test, k)) < 0.02
    assert not {r.image for r in train} & {r.image for r in test}


def test_a_group_stays_on_one_side_of_the_split():
    # A review: a quarter of the synthetic copies are left undegraded, the very source photo; split photo by photo,
    # 33 of the 96 test photos were copies of training photos, and the learned scorer's figures were inflated.
    from phototips.study.ratings import Rated
    from pathlib import Path

    rng = np.random.default_rng(1)
    rated = [Rated(f"s{g:02d}-{k:02d}", Path("x"), "bag", (int(rng.integers(1, 6)),), ("r",), f"s{g:02d}")
             for g in range(20) for k in range(12)]
    train, test = stratified_split(rated, seed=0)
    assert not {r.group for r in train} & {r.group for r in test}
    assert 0.3 < len(test) / len(rated) < 0.5
    assert [r.image for r in stratified_split(rated, seed=0)[1]] == [r.image for r in test]


def test_synthetic_set_is_labelled_and_matches_the_studys_spread(tmp_path):
    import subprocess
    import sys

    from phototips.study.synthetic import is_synthetic

    run = subprocess.run([sys.executable, "-m", "phototips", "study", "synthetic", "--out", str(tmp_path / "syn"),
                          "--per-photo", "30", "--seed", "3"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "SYNTHETIC" in run.stdout
    csv_path = tmp_path / "syn" / "ratings.csv"
    assert is_synthetic(csv_path) and "nothing about agreement with real buyers" in (tmp_path / "syn" / "SYNTHETIC.md").read_text()
    rated = read_ratings(csv_path)
    assert {r.group for r in rated} == {r.image[len("images/"):].rsplit("-", 1)[0] for r in rated}  # its source
    per = ratings_per_image(rated)
    assert len(rated) == 120 and abs(per["mean"] - 9.5) < 1.0 and abs(per["sd"] - 3.8) < 1.0
    assert abs(human_ceiling(rated)["leave_one_out_agreement"] - 0.5426) < 0.06
    truth = {row.split(",")[0]: float(row.split(",")[1]) for row in (tmp_path / "syn" / "truth.csv").read_text().splitlines()[1:]}
    # Raters follow the true quality: the majority vote correlates strongly with it.
    from scipy.stats import pearsonr

    assert pearsonr([truth[r.image] for r in rated], [r.majority for r in rated]).statistic > 0.8


def test_synthetic_sources_are_good_calibration_photos_and_start_from_their_rating(tmp_path):
    from phototips.config import load_settings
    from phototips.study.realset import LOOKED_AT, in_holdout
    from phototips.study.synthetic import PENALTY, TEST_SOURCES, good_sources, make_synthetic

    sources = good_sources(SET, load_settings({}))
    assert len(sources) == TEST_SOURCES and len({p.file for p in sources}) == TEST_SOURCES
    assert all(not in_holdout(p.file) and p.overall >= 4 and p.batch in ("first", "screened")
               and all(p.labels[a] == "good" for a in LOOKED_AT) for p in sources)
    # One source rated 4 and one rated 5: each copy's truth starts from its own photo's rating.
    few = [(p.path, p.overall) for p in (next(p for p in sources if p.overall == r) for r in (4, 5))]
    make_synthetic(tmp_path, per_photo=10, seed=1, photos=few)
    truth = [row.split(",") for row in (tmp_path / "truth.csv").read_text().splitlines()[1:]]
    rating = {p.stem: q for p, q in few}
    assert len(truth) == 20 and {name[len("images/"):].rsplit("-", 1)[0] for name, _, _ in truth} == set(rating)
    assert any(applied for _, _, applied in truth) and any(not applied for _, _, applied in truth)
    for name, quality, applied in truth:
        lost = sum(PENALTY * float(a.split(":")[1]) for a in applied.split(";") if a)
        assert float(quality) == pytest.approx(max(1.0, rating[name[len("images/"):].rsplit("-", 1)[0]] - lost))
    with pytest.raises(ValueError, match="share a name"):
        make_synthetic(tmp_path / "twice", per_photo=1, photos=[few[0], few[0]])


def test_photo_check_scores_follow_the_synthetic_truth(tmp_path):
    from phototips.config import load_settings
    from phototips.scoring.result import ScoreRequest
    from phototips.service import PhotoService
    from phototips.study.synthetic import (TEST_COPIES, TEST_SEED, breakdown, good_sources, make_synthetic,
                                           read_copies)

    # Degraded copies say little about sellers' photos (bench/aspects.py measures the score on real ones, and
    # test_realset.py guards its order there): here only the direction, that the score falls as a good photo
    # is degraded, as the simulated raters' ratings do. 24 good photos of the calibration half, 20 copies
    # each, a copy's truth starting from the photo's own rating. Read within each source photo: the Spearman
    # over all 480 copies also reads how the untouched photos, rated 4 or 5, are ordered against each other,
    # human alignment on 24 photos; it is printed, not asserted (docs/decisions.md, 2026-11-30). A mean of
    # 0.447 within sources at @26 (@25 0.453, @24 0.421, @23 0.401); the floor is about the shipped check's reading
    # less 0.03.
    settings = load_settings({}, cpu_workers=0)
    sources = [(p.path, p.overall) for p in good_sources(SET, settings)]
    svc = PhotoService(settings)
    copies = read_copies(make_synthetic(tmp_path / "syn", per_photo=TEST_COPIES, seed=TEST_SEED, photos=sources))
    for c in copies:
        c["score"] = svc.check(c["path"].read_bytes(), ScoreRequest(want_justification=False)).result.score
    found = breakdown(copies)
    print(f"synthetic: within sources {found['within_source_mean']} (Wilcoxon p {found['within_source_p']}, "
          f"{found['within_sources_counted']} sources), pooled within {found['within_source_pooled']}, over all "
          f"{found['spearman']}; drops {found['drop_by_degradation']}; above their source {found['above_source']}")
    assert found["copies"] == 480 and found["within_sources_counted"] == len(sources) == 24
    assert found["within_source_mean"] >= 0.42 and found["within_source_p"] < 0.01, found
    # Each degradation lowers the score. Not the item moved far away: the copy pastes the whole scene, shrunk,
    # onto a flat fill, and the item's mask takes all of it (about 14% of the frame), which real photos of a
    # small item do not show (test_realset.py pins the framing tip of a packshot moved far away on a plain floor).
    drops = {d: x for d, x in found["drop_by_degradation"].items() if d != "framing"}
    assert len(drops) == 6 and all(x <= -0.2 for x in drops.values()), drops
    # What a seller would see: a worse copy scoring above its own original. No degradation may do it to more
    # copies than the shipped check does (@26; @25 did it to 7, 20, 7, 10, 14 and 14, @24 to 9, 22, 9, 12, 16 and 16,
    # @23 to 12, 24, 10, 14, 16, 17).
    ceiling = {"lighting": 7, "overexposure": 20, "sharpness": 7, "noise": 11, "resolution": 15, "angle": 14}
    rose = {d: found["above_source"][d][0] for d in ceiling}
    assert all(rose[d] <= ceiling[d] for d in ceiling), rose


def test_gpu_cost_uses_the_measured_benchmark_throughput(tmp_path, monkeypatch):
    from phototips.study import costs

    bench = tmp_path / "vlm_gpu.json"
    bench.write_text(json.dumps({"rows": [{"mode": "expected", "batch": 1, "images_per_s": 4.0},
                                          {"mode": "expected", "batch": 32, "images_per_s": 48.0},
                                          {"mode": "generate", "batch": 32, "images_per_s": 9.0}]}))
    monkeypatch.setattr(costs, "BENCH_RESULT", bench)
    qwen = load_catalog()[1]["qwen2.5-vl-7b"]
    assert usd_per_1000_photos(qwen, gpu_hour_usd=3.0) == pytest.approx(3.0 / (48 * 3600) * 1000)
    monkeypatch.setenv("PHOTOTIPS_GPU_HOUR_USD", "1.2")
    assert usd_per_1000_photos(qwen) == pytest.approx(1.2 / (48 * 3600) * 1000)


def test_synthetic_breakdown_tells_a_loss_between_sources_from_one_within_them():
    from phototips.study.synthetic import breakdown

    def copies(scores):  # two sources rated 5 and 4; each has an untouched copy and a noisier one a point worse
        return [{"source": s, "degradations": d, "truth": t, "score": x}
                for (s, d, t), x in zip([("a", [], 5), ("a", ["noise"], 4), ("b", [], 4), ("b", ["noise"], 3)], scores)]

    follows = breakdown(copies([4.5, 3.5, 4.0, 3.0]))
    # Ranks each source's copies right, but the photo people rated 4 above the one they rated 5.
    swapped = breakdown(copies([3.0, 2.0, 4.5, 3.5]))
    assert follows["spearman"] > 0.9 and swapped["spearman"] < 0.5
    assert follows["within_source_pooled"] == swapped["within_source_pooled"] == 1.0
    assert swapped["within_source_mean"] == 1.0 and swapped["drop_by_degradation"] == {"noise": -1.0}
    assert swapped["within_source"] == [1.0, 1.0] and swapped["within_source_p"] < 0.5
    assert follows["above_source"] == {"noise": [0, 2]}
    # The mean drop stays negative while one source's noisier copy scores above its original: counted.
    rose = breakdown(copies([4.5, 3.0, 3.0, 3.5]))
    assert rose["drop_by_degradation"] == {"noise": -0.5} and rose["above_source"] == {"noise": [1, 2]}
    # A copy whose source has no untouched copy is not counted, a tie is not a rise, and a degradation no copy
    # carries has no entry.
    orphan = {"source": "c", "degradations": ["noise"], "truth": 3, "score": 5.0}
    tie = {"source": "b", "degradations": ["noise"], "truth": 3, "score": 3.0}
    assert breakdown(copies([4.5, 3.0, 3.0, 3.5]) + [orphan, tie])["above_source"] == {"noise": [1, 3]}
    # A model that scores everything alike orders nothing: no figure, rather than NaN in the JSON.
    flat = breakdown(copies([3.0, 3.0, 3.0, 3.0]))
    assert flat["spearman"] is None and flat["within_sources_counted"] == 0 and flat["within_source_mean"] is None


def test_synthetic_benchmark_scores_each_model_file_on_the_same_copies(tmp_path):
    import subprocess
    import sys

    from phototips.yamlfile import read_yaml

    root = SET.parent.parent
    shipped = root / "models" / "photo-check.yaml"
    # A second model file: the shipped one with the lighting problem priced three times as high.
    (tmp_path / "m").mkdir()
    version = read_yaml(shipped, "photo check")["version"]
    (tmp_path / "m" / shipped.name).write_text(shipped.read_text().replace("version: ", "version: 9", 1))
    calibration = read_yaml(root / "models" / "photo-check-calibration.yaml", "calibration")
    calibration["score"]["weights"]["lighting"] *= 3
    (tmp_path / "m" / "photo-check-calibration.yaml").write_text(json.dumps(calibration))
    # A second look's network is found beside the model file, as its calibration is.
    (tmp_path / "m" / "pretrained-clutter-64.onnx").symlink_to(root / "models" / "pretrained-clutter-64.onnx")
    run = subprocess.run([sys.executable, "bench/synthetic.py", "--sources", "2", "--copies", "6",
                          "--model", str(shipped), "--model", str(tmp_path / "m" / shipped.name),
                          "--out", str(tmp_path / "s.json")], cwd=root, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    res = json.loads((tmp_path / "s.json").read_text())
    (name_a, a), (name_b, b) = res["models"].items()
    assert res["copies"] == 12 and name_a != name_b and name_a.endswith(f"@{version}") and name_b.endswith(f"@9{version}")
    # The same copies, each file's own scores: the two differ where lighting costs more.
    assert a["copies"] == b["copies"] == 12 and a["drop_by_degradation"].keys() == b["drop_by_degradation"].keys()
    assert a["drop_by_degradation"] != b["drop_by_degradation"]
    assert "mean of each source's Spearman (the test's floor)" in run.stdout
