"""The real-photo set and the photo check's behaviour on real sellers' photos.

Pins the cases that earned the photo check its bad name: a white packshot told
it is overexposed, a patterned item told it is tilted, camera shake missed, an
item cut by the frame missed. Tips are those a seller would see (above the
model's tip confidence), picked by the same function the service uses.
"""

from __future__ import annotations

import csv
import copy
import dataclasses
import io
import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from phototips.config import load_settings
from phototips.errors import PhotoTipsError
from phototips.imaging.decode import decode_photo
from phototips.photocheck.judge import Problem, apply_calibration, build_judgement
from phototips.photocheck.measure import measure
from phototips.scoring import create_scorer
from phototips.scoring.result import ASPECTS, Finding, ScoreRequest, ScoreResult
from phototips.service import PhotoService
from phototips.study.calibrate import Sample, fit_logistic, fit_score, measure_bytes
from phototips.study.degrade import cut_through, defocused, item_far_away, shaken, tilted
from phototips.study.realset import LOOKED_AT, in_holdout, load_realset, majority
from phototips.yamlfile import read_yaml

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "data" / "realset"
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "scripts"))  # the set's own scripts (screen_realset.py)
SETTINGS = load_settings({})
SCORER = create_scorer("photo-check", SETTINGS)


def scored(data: bytes) -> ScoreResult:
    photo = decode_photo(data, max_pixels=SETTINGS.max_pixels, analysis_side=SETTINGS.analysis_side)
    return SCORER.score(photo, ScoreRequest())


def tips_of(result: ScoreResult) -> dict[str, str]:
    """aspect -> the problem of the tip the seller is shown (as the benchmark reads them)."""
    from aspects import shown_tips

    return {a: problem for a, problem in shown_tips(result, SCORER).items() if problem}


def judging(aspect: str, **entry):
    """The shipped judgement with `aspect`'s entry changed (a gate set aside, other problems): what it would say."""
    aspects = SCORER.judgement.aspects
    return dataclasses.replace(SCORER.judgement, aspects={**aspects, aspect: {**aspects[aspect], **entry}})


def tips_for(data: bytes) -> dict[str, str]:
    return tips_of(scored(data))


def real(name: str) -> bytes:
    return (SET / "photos" / name).read_bytes()


def png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue()


def rgb_of(name: str) -> np.ndarray:
    return np.asarray(Image.open(SET / "photos" / name).convert("RGB"))


# -- the set itself ---------------------------------------------------------------

def licensed_manifest(root: Path) -> dict[str, dict]:
    """A set's manifest by file, each row naming its source and author under a licence that allows
    redistribution."""
    with (root / "manifest.csv").open(newline="") as fh:
        manifest = {r["file"]: r for r in csv.DictReader(fh)}
    assert {r["licence"] for r in manifest.values()} <= {"CC0-1.0", "MIT", "CC-BY-4.0"}
    assert all(r["source_repo"] and r["source_commit"] and r["source_path"] and r["author"] for r in manifest.values())
    return manifest

def test_set_is_large_labelled_licensed_and_small_on_disk():
    photos = load_realset(SET, SCORER.catalog)  # raises on any bad label
    assert len(photos) >= 200
    manifest = licensed_manifest(SET)
    files = sorted(p.name for p in (SET / "photos").iterdir())
    assert set(files) == set(manifest) == {p.file for p in photos}
    assert sum((SET / "photos" / f).stat().st_size for f in files) <= 60e6
    for f in files:
        with Image.open(SET / "photos" / f) as im:
            assert max(im.size) <= 1600
    categories = {p.category for p in photos}
    assert {"clothes", "shoes", "bag", "household", "packshot"} <= categories
    # Good photos and real bad ones, of every kind the detectors are measured on.
    assert sum(p.good for p in photos) >= 80
    for aspect in ("lighting", "sharpness", "visibility", "background", "angle"):
        assert sum(p.labels[aspect] != "good" for p in photos) >= 10, aspect
    # Every photo came in with the first 264, from people's screening of a random pool, or as one of the
    # darkest and least detailed source photos (docs/realset.md).
    assert {p.batch for p in photos} == {"first", "screened", "extremes"}
    assert (sum(p.batch == "first" for p in photos), sum(p.batch == "extremes" for p in photos)) == (264, 120)
    # Both halves of the calibration split are populated.
    assert 0.35 < np.mean([in_holdout(p.file) for p in photos]) < 0.65


def test_fresh_test_set_is_drawn_apart_labelled_twice_and_licensed():
    # data/realset-test: photos drawn at random after the photo check was built, labelled blind by two labellers
    # (helper agents), for figures that no change was tuned on. Nothing in it may also be in the development set.
    test_set = ROOT / "data" / "realset-test"
    first = load_realset(test_set, SCORER.catalog)
    second = load_realset(test_set, SCORER.catalog, "labels_second.csv")
    assert len(first) >= 100 and {p.file for p in first} == {p.file for p in second}
    manifest = licensed_manifest(test_set)
    development = list(licensed_manifest(SET).values())
    files = {p.name for p in (test_set / "photos").iterdir()}
    assert files == set(manifest) == {p.file for p in first}
    assert not files & {r["file"] for r in development}
    assert not {(r["source_repo"], r["source_path"]) for r in manifest.values()} & {
        (r["source_repo"], r["source_path"]) for r in development}
    assert sum((test_set / "photos" / f).stat().st_size for f in files) <= 20e6
    for f in files:
        with Image.open(test_set / "photos" / f) as im:
            assert im.size == (int(manifest[f]["width"]), int(manifest[f]["height"])) and max(im.size) <= 1600, f
    # The same sources at the same commits as the development set.
    commits = {r["source_repo"]: r["source_commit"] for r in development}
    assert all(commits.get(r["source_repo"]) == r["source_commit"] for r in manifest.values())
    # Two labellings, not one copied: they differ somewhere, and both hold good photos and problems.
    by_file = {p.file: p for p in second}
    assert any(p.labels != by_file[p.file].labels or p.overall != by_file[p.file].overall for p in first)
    for labelled in (first, second):
        assert 10 <= sum(p.good for p in labelled) < len(labelled)


# Who voted on each aspect of the first batch: `a` is the first labelling; lighting and angle were labelled again
# by `b` and `c` (2026-11-29), background and sharpness by `d` and `e`, visibility, framing and the overall rating
# by `i` and `j` (2026-11-30).
VOTERS = {"lighting": "abc", "angle": "abc", "background": "ade", "sharpness": "ade", "visibility": "aij",
          "framing": "aij"}


def read_votes(name: str) -> list[dict]:
    with (SET / name).open(newline="") as fh:
        return list(csv.DictReader(fh))


def median_rating(vote: dict, voters: str) -> int:
    return int(np.median([int(vote[f"overall_{k}"]) for k in voters]))


def labellings_differ(votes: list[dict], voters: str, fields) -> dict[tuple[str, str], int]:
    """For each two labellers, on how many photos they differ on any of these fields: a labelling copied from
    another would differ on none."""
    return {(x, y): sum(any(v[f"{f}_{x}"] != v[f"{f}_{y}"] for f in fields) for v in votes)
            for x, y in itertools.combinations(voters, 2)}


def test_first_batch_is_labelled_by_the_majority_of_three():
    # Every aspect people judge is labelled by three, blind to each other and to the photo check; labels.csv holds
    # their majority and the median of three overall ratings, labels_votes.csv every vote (of the first batch).
    photos = {p.file: p for p in load_realset(SET, SCORER.catalog) if p.batch == "first"}
    votes = read_votes("labels_votes.csv")
    assert len(votes) == len(photos) == 264 and {v["file"] for v in votes} == set(photos)
    assert set(VOTERS) == set(LOOKED_AT)
    for v in votes:
        for aspect, voters in VOTERS.items():
            assert photos[v["file"]].labels[aspect] == majority([v[f"{aspect}_{k}"] for k in voters]), v["file"]
        assert photos[v["file"]].overall == median_rating(v, "aij"), v["file"]
    # The votes really differ: a file copied three times would pass the checks above.
    for aspect, voters in VOTERS.items():
        # Framing has few problems to disagree on (7 photos where the votes differ).
        assert sum(len({v[f"{aspect}_{k}"] for k in voters}) > 1 for v in votes) >= (5 if aspect == "framing" else 10), aspect
    assert sum(len({v[f"overall_{k}"] for k in "aij"}) > 1 for v in votes) >= 50
    # No later labelling copies another: each two of a, i and j differ on visibility, framing or the rating.
    for pair, n in labellings_differ(votes, "aij", ("visibility", "framing", "overall")).items():
        assert n >= 20, pair


@pytest.mark.parametrize("batch, votes_file, voters, photos_in_batch", [
    ("screened", "labels_screened_votes.csv", "fgh", 167),
    ("extremes", "labels_extremes_votes.csv", "klm", 120),
])
def test_added_batches_are_labelled_by_the_majority_of_three_on_every_aspect(batch, votes_file, voters,
                                                                            photos_in_batch):
    # Photos added after the first batch (scripts/screen_realset.py: nominated by people from a random pool, or
    # the darkest and least detailed by plain statistics) were labelled whole by three people blind to each other:
    # labels.csv holds the majority per aspect and the median overall rating, resolution follows the size rule,
    # and the batch's votes file keeps every vote.
    photos = {p.file: p for p in load_realset(SET, SCORER.catalog) if p.batch == batch}
    manifest = licensed_manifest(SET)
    votes = read_votes(votes_file)
    assert len(photos) == photos_in_batch and len(votes) == len(photos) and {v["file"] for v in votes} == set(photos)
    for v in votes:
        photo = photos[v["file"]]
        for aspect in LOOKED_AT:
            assert photo.labels[aspect] == majority([v[f"{aspect}_{k}"] for k in voters]), v["file"]
        assert photo.overall == median_rating(v, voters), v["file"]
        short = min(int(manifest[v["file"]]["width"]), int(manifest[v["file"]]["height"]))
        assert photo.labels["resolution"] == ("low_resolution" if short < 600 else "good")
    # Three labellings, not one copied: every two of them differ on at least ten photos.
    for pair, n in labellings_differ(votes, voters, LOOKED_AT).items():
        assert n >= 10, pair


def test_a_label_is_a_problem_when_at_least_half_of_the_votes_name_one():
    assert majority(["good", "too_dark", "good"]) == "good"
    assert majority(["too_dark", "good", "flat"]) == "too_dark"  # two problems: the earlier vote's wins a tie
    assert majority(["good", "flat", "too_dark"]) == "flat"
    assert majority(["flat", "too_dark", "too_dark"]) == "too_dark"
    assert majority(["tilted", "good"]) == "tilted"


def test_bad_labels_are_refused_with_the_line(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(real("clothing-0dbc39f0.jpg"))
    (tmp_path / "labels.csv").write_text(
        "file,lighting,sharpness,resolution,framing,visibility,background,angle,overall\n"
        "a.jpg,dark,good,good,good,good,good,good,4\n"
        "a.jpg,good,good,good,good,good,good,good,9\n"
        "missing.jpg,good,good,good,good,good,good,good,3\n")
    with pytest.raises(PhotoTipsError) as err:
        load_realset(tmp_path, SCORER.catalog)
    text = str(err.value)
    assert "line 2: lighting='dark'" in text and "line 3: overall" in text and "line 4: no photo" in text


def test_score_orders_real_photos_as_people_do_and_good_ones_are_seldom_tipped():
    from scipy.stats import spearmanr

    from phototips.study.calibrate import calibration_photos

    # What the issue's targets read, guarded on the calibration half of the first and screened batches (the
    # held-out half stays out of the tests that decide what ships): the score's order against the overall
    # labels, with the floor at the shipped check's reading less 0.03, and the share of good photos told to
    # fix something other than resolution (docs/decisions.md, 2026-11-30).
    photos = [p for p in calibration_photos(SET, SETTINGS) if p.batch in ("first", "screened")]
    scores, tipped_good, clutter = [], 0, []
    for p in photos:
        result = scored(p.path.read_bytes())
        scores.append(result.score)
        tips = tips_of(result)
        tipped_good += p.good and any(a in LOOKED_AT for a in tips)
        clutter.append((p.labels["background"] == "cluttered", tips.get("background") == "cluttered"))
    good = sum(p.good for p in photos)
    rho = spearmanr(scores, [p.overall for p in photos]).statistic
    right = sum(labelled and told for labelled, told in clutter)
    precision, recall = right / sum(told for _, told in clutter), right / sum(labelled for labelled, _ in clutter)
    print(f"calibration half: Spearman {rho:.3f} over {len(photos)} photos; {tipped_good} of {good} good tipped; "
          f"clutter P {precision:.2f} R {recall:.2f}")
    assert len(photos) == 218 and good >= 90
    assert rho >= 0.61, rho  # @26 read 0.643 (@25 0.629, @24 0.619, @23 0.627)
    assert tipped_good <= 0.10 * good, tipped_good
    # Background meets the issue's 0.8 on both since @26's second look (0.88 / 0.85; @25 0.80 / 0.77).
    assert precision >= 0.8 and recall >= 0.8, (precision, recall)


# -- the cases the issue names ----------------------------------------------------

@pytest.mark.parametrize("name", [
    "grocery-iconic-arla-sour-milk.jpg",      # a white carton on white
    "grocery-iconic-oatly-natural-oatghurt.jpg",
    "abo-b074m5hpbd-dcace9b5.jpg",            # a white bulb on white
    "abo-b0799ck52k-528c608a.jpg",            # a grey bag on white
])
def test_white_packshot_gets_no_lighting_tip(name):
    assert "lighting" not in tips_for(real(name))


@pytest.mark.parametrize("name", [
    "clothing-856bc031.jpg",  # diagonal warning stripes
    "clothing-d174ca83.jpg",  # a chevron knit
    "clothing-c86c96f6.jpg",  # a print of diagonal lines
    "clothing-cf50acf0.jpg",  # horizontal stripes
])
def test_patterned_item_gets_no_tilt_tip(name):
    assert "angle" not in tips_for(real(name))


@pytest.mark.parametrize("name", ["abo-b0799ck52k-528c608a.jpg", "clothing-0dbc39f0.jpg", "clothing-05a71d78.jpg"])
def test_shaken_photo_gets_a_sharpness_tip_and_is_told_apart_from_soft_focus(name):
    sharp = tips_for(real(name))
    assert "sharpness" not in sharp
    assert tips_for(png(shaken(rgb_of(name)))).get("sharpness") == "shaken"
    assert tips_for(png(defocused(rgb_of(name)))).get("sharpness") == "blurry"


@pytest.mark.parametrize("name", [
    "clothing-e7ea7718.jpg",  # a black skirt on a sheet, soft all over
    # A soft red dress all three labellers call blurry: its tip went at `@21` (named shaken, at 0.78) and came back
    # at `@23`, refitted with 9 of the `extremes` batch's blurred photos in the calibration half (blurry, 0.90).
    "clothing-00070a23.jpg",
])
def test_soft_real_photo_with_few_edges_gets_a_blurry_tip(name):
    assert tips_for(real(name)).get("sharpness") == "blurry"
    photo = decode_photo(real(name), max_pixels=SETTINGS.max_pixels, analysis_side=SETTINGS.analysis_side)
    assert SCORER.score(photo, ScoreRequest()).aspects["sharpness"].severity > 0.3  # rated, not a tip of no weight


def test_fine_detail_falls_with_defocus_and_shake_takes_it_along_one_direction():
    name = "clothing-0dbc39f0.jpg"

    sharp = measure_bytes(real(name), SETTINGS)
    soft, shake = (measure_bytes(png(blur(rgb_of(name))), SETTINGS) for blur in (defocused, shaken))
    assert soft["detail"] < sharp["detail"] - 2 and shake["detail"] < sharp["detail"] - 1
    # Defocus takes detail evenly; shake along its path, so its weakest direction keeps far less than its strongest.
    assert shake["detail_anisotropy"] < 0.5 * soft["detail_anisotropy"]


@pytest.mark.parametrize("name", [
    "clothing-9d433006.jpg",  # a white T-shirt on a laminate floor with a fine wood grain
    "clothing-3e33ad0d.jpg",  # a printed T-shirt that fills a shaggy carpet
])
def test_textured_floor_is_not_grain_but_added_noise_is(name):
    assert "sharpness" not in tips_for(real(name))
    rgb = rgb_of(name)
    noisy = np.clip(rgb + np.random.default_rng(0).normal(0, 20, rgb.shape), 0, 255).astype(np.uint8)
    assert tips_for(png(noisy)).get("sharpness") == "grainy"


@pytest.mark.parametrize("shape", [(16, 4000), (4000, 16), (16, 2000), (17, 17)])
def test_grain_is_measured_or_left_alone_on_strips_and_tiny_photos(shape):
    # A 16×4000 banner is 4 px high at the analysis size: too few rows to average, so no grain is read from it.
    rgb = np.random.default_rng(1).integers(0, 256, (*shape, 3), dtype=np.uint8)
    assert 0 < measure_bytes(png(rgb), SETTINGS)["grain_coarse_ratio"] <= 1.5
    photo = decode_photo(png(rgb), max_pixels=SETTINGS.max_pixels, analysis_side=SETTINGS.analysis_side)
    assert SCORER.score(photo, ScoreRequest()).score >= 1


@pytest.mark.parametrize("name", [
    "clothing-6881b668.jpg", "clothing-69d17114.jpg", "trashnet-metal401.jpg",
    # A garment running out of three sides: under the tip line from `@21` to `@23` (0.76-0.79), its tip back
    # since `@24` reads the frame with the learned network (0.88).
    "clothing-cd9cc029.jpg",
])
def test_real_item_cut_by_the_frame_gets_a_visibility_tip(name):
    assert tips_for(real(name)).get("visibility") == "cut_off"


@pytest.mark.parametrize("name, aspect, problem", [
    # a skirt running out of both sides, its hem in the frame, at 0.52 since `@24` (labelled cut off)
    ("clothing-bb437c07.jpg", "visibility", "cut_off"),
])
def test_a_problem_found_below_the_tip_threshold_stays_in_the_findings(name, aspect, problem):
    # Its confidence sits under tip_confidence, so the seller sees no tip, but the finding stays in the JSON
    # with its severity. A later version that shows the tip fails here on purpose: move the photo to the tip
    # tests above, as `clothing-cd9cc029` moved at `@24` (docs/decisions.md).
    photo = decode_photo(real(name), max_pixels=SETTINGS.max_pixels, analysis_side=SETTINGS.analysis_side)
    finding = SCORER.score(photo, ScoreRequest()).aspects[aspect]
    assert finding.verdict == "improve" and finding.problem == problem and finding.severity > 0.3
    assert SCORER.judgement.report_at <= finding.confidence < SCORER.judgement.tip_confidence
    assert aspect not in tips_for(real(name))


@pytest.mark.parametrize("name", ["abo-b0799ck52k-528c608a.jpg", "abo-b0799ck52k-d80a51d3.jpg"])
def test_item_cut_in_half_by_the_frame_gets_a_visibility_tip(name):
    assert "visibility" not in tips_for(real(name))
    assert tips_for(png(cut_through(rgb_of(name)))).get("visibility") == "cut_off"


@pytest.mark.parametrize("name", ["clothing-46f62d95.jpg", "clothing-45626f38.jpg"])
def test_garment_filling_the_frame_is_cut_off_where_the_mask_finds_no_item(name):
    # A dress on a bed and a T-shirt on a blanket, each running out at the bottom and covering most of the border:
    # the mask takes the border's colours for the background and finds nothing, the frame's edge read by colour
    # without it (item_edge_likeness) still sees the garment leave the frame.
    photo = decode_photo(real(name), max_pixels=SETTINGS.max_pixels, analysis_side=SETTINGS.analysis_side)
    result = SCORER.score(photo, ScoreRequest())
    m, _ = measure(photo.rgb, photo.width, photo.height)
    assert not m["item_found"] and m["item_edge_likeness"] > 0.5
    seen = result.aspects["visibility"]
    assert seen.problem == "cut_off" and seen.confidence >= SCORER.judgement.tip_confidence
    assert "bottom" in seen.geometry["cut_edges"] and "box" not in seen.geometry


@pytest.mark.parametrize("name, aspect, ungated, busy_around", [
    # A carton held among shelves: the mask finds a scrap of it, whose surroundings read busy too (0.22).
    ("grocery-shop-oatly-oat-milk_024.jpg", "framing", "too_small", True),
    ("grocery-shop-arla-sour-cream_013.jpg", "framing", "too_small", False),
    # Shelves seen in perspective, not a level floor or wall.
    ("grocery-shop-oatly-oat-milk_024.jpg", "angle", "tilted", False),
    ("grocery-shop-garant-ecological-standard-milk_001.jpg", "angle", "tilted", False),
])
def test_no_framing_or_tilt_tip_from_what_is_read_in_clutter(name, aspect, ungated, busy_around):
    tips = tips_for(real(name))
    assert tips.get("background") == "cluttered" and aspect not in tips
    m = measure_bytes(real(name), SETTINGS)

    def judged(*, clutter_gate: bool, spread_bound: bool):
        problems = [dataclasses.replace(p, unless_above=tuple(kb for kb in p.unless_above
                                                              if spread_bound or kb[0] != "background_spread"))
                    for p in SCORER.judgement.aspects[aspect]["problems"]]
        return judging(aspect, problems=problems, **({} if clutter_gate else {"unless_likely": ()})).findings(m)[aspect]

    # The same judgement without the clutter gate would have given the tip; since `@25`, where the scrap's
    # surroundings read busy (`too_small`'s bound, 0.20), that bound holds it back as well, and only setting
    # both aside brings it.
    if aspect == "framing":
        assert (m["background_spread"] > 0.20) == busy_around
    without_clutter_gate = judged(clutter_gate=False, spread_bound=True)
    assert (without_clutter_gate.problem == ungated) != busy_around
    finding = judged(clutter_gate=False, spread_bound=False)
    assert finding.problem == ungated and finding.confidence >= SCORER.judgement.tip_confidence


@pytest.mark.parametrize("name, unjudged, judged", [
    ("grocery-shop-oatly-oat-milk_024.jpg", "framing", "sharpness"),  # clutter likely: the box is a scrap of it
    ("clothing-46f62d95.jpg", "framing", "visibility"),  # no item found: no box to judge framing on
])
def test_an_aspect_left_unjudged_says_so_and_is_not_called_good(name, unjudged, judged):
    photo = decode_photo(real(name), max_pixels=SETTINGS.max_pixels, analysis_side=SETTINGS.analysis_side)
    result = SCORER.score(photo, ScoreRequest())
    left = result.aspects[unjudged]
    assert (left.source, left.verdict, left.confidence, left.severity) == ("not_judged", "good", 0.0, 0.0)
    assert result.aspects[judged].source == "measured"
    names = SCORER.catalog.aspect_names
    good = result.justification.partition(SCORER.catalog.headings["good"]["en"] + ":")[2]
    assert names[unjudged]["en"] not in good
    # A clean packshot: every aspect judged but the angle, which a plain backdrop gives no lines to read on.
    clean = SCORER.score(decode_photo(real("grocery-iconic-arla-sour-milk.jpg"), max_pixels=SETTINGS.max_pixels,
                                      analysis_side=SETTINGS.analysis_side), ScoreRequest())
    assert {a for a, f in clean.aspects.items() if f.source != "measured"} == {"angle"}
    assert clean.aspects["angle"].source == "not_judged"


@pytest.mark.parametrize("name", ["trashnet-paper385.jpg", "trashnet-cardboard166.jpg", "trashnet-cardboard83.jpg"])
def test_no_tilt_tip_from_the_outline_of_an_item_on_a_plain_backdrop(name):
    # A note lying askew on a board, flattened cartons: the mask missed the item, so its own edges were read as
    # lines of the scene. A plain backdrop has no floor, wall or horizon lines to show a tilt by.
    m = measure_bytes(real(name), SETTINGS)
    assert m["background_edges"] < 0.015
    finding = SCORER.judgement.findings(m)["angle"]
    assert (finding.source, finding.problem, finding.confidence) == ("not_judged", None, 0.0)
    assert "angle" not in tips_for(real(name))
    # The same judgement without the gate would have given the tip.
    ungated = judging("angle", unless_below=()).findings(m)["angle"]
    assert ungated.problem == "tilted" and ungated.confidence >= SCORER.judgement.tip_confidence


def test_flat_lay_on_rotated_floorboards_keeps_its_tilt_tip():
    # Labelled tilted by people; its floor is plain enough (clutter unlikely) for the lines to be evidence.
    assert tips_for(real("clothing-8fb78159.jpg")).get("angle") == "tilted"


@pytest.mark.parametrize("name", ["abo-b07gtfschb-844a1cce.jpg", "clothing-05a71d78.jpg", "clothing-248bed38.jpg"])
def test_a_small_item_on_a_plain_floor_is_not_a_flat_photo(name):
    # Shrunk onto a plain backdrop, the item is under the frame's 5th percentile and the floor alone read as
    # grey and hazy; the item now weighs as much as its backdrop.
    far = png(item_far_away(rgb_of(name)))
    m = measure_bytes(far, SETTINGS)
    assert m["item_found"] and m["contrast"] > 0.5
    assert SCORER.judgement.findings(m)["lighting"].problem != "flat"
    assert "lighting" not in tips_for(far)


@pytest.mark.parametrize("name", ["clothing-0dbc39f0.jpg", "trashnet-glass331.jpg"])
def test_a_grey_hazy_photo_is_still_flat(name):
    rgb = rgb_of(name).astype(np.float32)
    hazy = png((rgb * 0.15 + 140 * 0.85).astype(np.uint8))  # 15% of the contrast, no black, no white
    assert tips_for(real(name)).get("lighting") is None
    assert tips_for(hazy).get("lighting") == "flat"


@pytest.mark.parametrize("name", ["clothing-600e6a2d.jpg", "clothing-f1865247.jpg"])
def test_floorboards_and_a_rug_whose_edges_run_one_way_are_not_clutter(name):
    # Trousers on floorboards, a sweater on a shaggy rug: many edges around the item, but of one surface.
    m = measure_bytes(real(name), SETTINGS)
    assert m["background_edges"] > 0.15 and m["background_coherence"] > 0.35
    assert "background" not in tips_for(real(name))
    # Had its edges run every way, like shelves, other things or a printed rug, and had the network read it as
    # the calibration half's cluttered photos read (median 0.96), the same photo would get the tip.
    busy = SCORER.judgement.findings({**m, "background_coherence": 0.1, "edge_net_cluttered": 0.96})["background"]
    assert busy.problem == "cluttered" and busy.confidence >= SCORER.judgement.tip_confidence
    # The network's reading alone would give it too (since @24), so coherence is pinned on its own: edges running
    # every way make clutter clearly likelier than the same edges running one way.
    judged = SCORER.judgement.findings(m)["background"].confidence
    scattered = SCORER.judgement.findings({**m, "background_coherence": 0.1})["background"].confidence
    assert scattered - judged >= 0.2, (judged, scattered)


def test_edges_that_share_one_orientation_read_as_coherent():
    import cv2

    rng = np.random.default_rng(4)
    boards = np.full((600, 800, 3), 200, np.uint8)
    for y in range(0, 600, 24):  # dark joints every 24 rows
        boards[y:y + 2] = 120
    scattered = np.full((600, 800, 3), 200, np.uint8)
    for _ in range(60):  # things of every size and colour, lying every way
        centre, axes = rng.integers(0, (800, 600)), rng.integers(8, 50, 2)
        cv2.ellipse(scattered, (int(centre[0]), int(centre[1])), (int(axes[0]), int(axes[1])), float(rng.uniform(0, 180)),
                    0, 360, tuple(int(c) for c in rng.integers(0, 255, 3)), -1)
    for rgb in (boards, scattered):
        rgb[200:400, 300:500] = (40, 60, 150)  # the item, in the middle
    coherence = [measure_bytes(png(rgb), SETTINGS)["background_coherence"] for rgb in (boards, scattered)]
    assert coherence[0] > 0.9 and coherence[1] < 0.3


def test_item_far_away_on_a_plain_floor_still_gets_a_framing_tip():
    name = "grocery-iconic-arla-sour-milk.jpg"
    assert "framing" not in tips_for(real(name))
    far = png(item_far_away(rgb_of(name)))
    assert tips_for(far).get("framing") == "too_small"
    assert measure_bytes(far, SETTINGS)["background_spread"] < 0.20  # plain around it: `too_small`'s bound holds


@pytest.mark.parametrize("name", ["clothing-6361debd.jpg", "trashnet-paper385.jpg"])
def test_framing_is_read_only_on_an_item_clear_of_the_frame(name):
    # A sunlit patch of floor at the frame's edge beside a sweater, a shaded strip of board beside a note: the
    # mask took a scrap of the backdrop for the item and read it as small and off to one side.
    m = measure_bytes(real(name), SETTINGS)
    assert m["item_found"] and m["item_sides_touched"] > 0
    assert "framing" not in tips_for(real(name))
    # The problems' gate is what holds the tip back, with the clutter gate set aside: since `@24`, with the
    # network's reading in (0.78), the `cluttered` model finds the sweater's sunlit floor likely clutter (0.69),
    # which leaves framing unjudged before the problems' gate is reached (docs/decisions.md).
    framing = judging("framing", unless_likely=()).findings(m)["framing"]
    assert (framing.source, framing.problem) == ("measured", None)
    # The same judgement without the problems' bounds (the item at the frame's edge and, since `@25`, busy
    # surroundings: the note's shaded board reads 0.26) would have given a framing tip.
    ungated = [dataclasses.replace(p, unless_above=()) for p in SCORER.judgement.aspects["framing"]["problems"]]
    finding = judging("framing", unless_likely=(), problems=ungated).findings(m)["framing"]
    assert finding.problem in ("too_small", "off_centre") and finding.confidence >= SCORER.judgement.tip_confidence


def test_an_item_whole_in_the_frame_but_to_one_side_is_off_centre():
    rng = np.random.default_rng(3)
    rgb = np.clip(rng.normal(225, 3, (600, 800, 3)), 0, 255).astype(np.uint8)  # a plain light wall
    # A navy box of a tenth of the frame in the top left corner, 5% from its edges.
    rgb[30:210, 40:280] = (30, 40, 90)
    m = measure_bytes(png(rgb), SETTINGS)
    assert m["item_found"] and m["item_sides_touched"] == 0 and m["item_offset"] > 0.55
    assert tips_for(png(rgb)).get("framing") == "off_centre"
    # Moved left until the frame cuts it, it is no longer judged off-centre (nor too small).
    cut = np.clip(rng.normal(225, 3, (600, 800, 3)), 0, 255).astype(np.uint8)
    cut[30:210, 0:200] = (30, 40, 90)
    m = measure_bytes(png(cut), SETTINGS)
    assert m["item_found"] and m["item_sides_touched"] > 0
    assert SCORER.judgement.findings(m)["framing"].problem is None


def test_a_problem_is_left_out_where_a_measurement_is_outside_its_bounds():
    data = read_yaml(SETTINGS.photo_check_model, "model")
    framing = data["aspects"]["framing"]
    framing["unless_likely"] = None
    framing["problems"]["too_small"]["confidence"] = {"fit": False, "bias": 5.0, "weights": {"item_area": 0.0}}
    framing["problems"]["too_small"]["unless_above"] = {"near": 0.5}
    framing["problems"]["off_centre"]["confidence"] = {"fit": False, "bias": 1.0, "weights": {"item_area": 0.0}}
    framing["problems"]["off_centre"]["unless_above"] = {"nearer": 0.5}
    judgement = build_judgement(data, "test")
    photo = {**measure(rgb_of("clothing-0dbc39f0.jpg"), 400, 533)[0], "near": 0.0, "nearer": 0.0}
    assert judgement.findings({**photo, "near": 0.5})["framing"].problem == "too_small"  # at the bound: judged
    # Above it, the aspect is judged on its other problems.
    above = judgement.findings({**photo, "near": 0.51})["framing"]
    assert (above.problem, above.source) == ("off_centre", "measured")
    assert above.confidence == pytest.approx(1 / (1 + math.exp(-1.0)), abs=1e-3)
    # With every problem left out, the aspect is judged and good.
    neither = judgement.findings({**photo, "near": 1.0, "nearer": 1.0})["framing"]
    assert (neither.problem, neither.verdict, neither.confidence, neither.source) == (None, "good", 0.0, "measured")
    # A lower bound works the same way from below: at it the problem is judged, under it left out.
    framing["problems"]["too_small"]["unless_below"] = {"far": 0.5}
    judgement = build_judgement(data, "test")
    assert judgement.findings({**photo, "far": 0.5})["framing"].problem == "too_small"
    assert judgement.findings({**photo, "far": 0.49})["framing"].problem == "off_centre"
    for key in ("unless_above", "unless_below"):
        for bad in ({}, ["near"], {"near": "x"}, {"near": True}, {"near": float("inf")}):
            framing["problems"]["too_small"][key] = bad
            with pytest.raises(PhotoTipsError, match=f"framing.problems.too_small.{key} must map a measurement"):
                build_judgement(data, "test")
        framing["problems"]["too_small"][key] = None
    # A problem left out on some photos cannot gate another aspect: "likely" would not mean what it says.
    data["aspects"]["angle"]["unless_likely"] = {"background.cluttered": 0.7}
    for key in ("unless_above", "unless_below"):
        data["aspects"]["background"]["problems"]["cluttered"][key] = {"near": 0.5}
        with pytest.raises(PhotoTipsError, match="angle.unless_likely: .*not judged on every photo"):
            build_judgement(data, "test")
        data["aspects"]["background"]["problems"]["cluttered"][key] = None


def test_a_bright_patch_taken_for_the_item_is_not_read_as_overexposed():
    # A dark carton of grapefruit juice held up in a shop: the mask found only a small glint on its gloss (0.6%
    # of the frame, nearly white), and read it as a blown item. A mask that small says nothing of the item's
    # exposure, so overexposure is not judged on it.
    m = measure_bytes(real("grocery-shop-god-morgon-red-grapefruit-juice_022.jpg"), SETTINGS)
    assert m["item_found"] and m["item_fill"] < 0.02 and m["item_luma"] > 0.95
    assert SCORER.judgement.findings(m)["lighting"].problem != "overexposed"
    # Without that gate it was a tip.
    ungated = [dataclasses.replace(p, unless_below=()) for p in SCORER.judgement.aspects["lighting"]["problems"]]
    finding = judging("lighting", problems=ungated).findings(m)["lighting"]
    assert finding.problem == "overexposed" and finding.confidence >= SCORER.judgement.tip_confidence
    # A garment with a sunbeam across it, labelled overexposed, keeps its tip: its mask is the garment.
    assert tips_for(real("clothing-974964a0.jpg")).get("lighting") == "overexposed"


def test_a_preferred_problem_left_out_does_not_name_the_aspect():
    data = read_yaml(SETTINGS.photo_check_model, "model")

    def problem(weight: float) -> dict:
        return {"severity": {"measure": "soft", "ramp": [0, 1]},
                "confidence": {"fit": False, "bias": 0.0, "weights": {"soft": weight}}}

    # Blurry is the surest; shake, sure enough to be shown and smeared, names the aspect unless left out.
    data["aspects"]["sharpness"] = {"value": "soft", "problems": {
        "blurry": problem(2.0), "shaken": {**problem(1.0), "unless_above": {"tripod": 0.5}}, "grainy": problem(0.9)},
        "prefer": [{"problem": "shaken", "measure": "smear", "below": 0.35}]}
    judgement = build_judgement(data, "test")
    photo = measure(rgb_of("clothing-0dbc39f0.jpg"), 400, 533)[0]
    soft = math.log(judgement.tip_confidence / (1 - judgement.tip_confidence)) + 0.5

    def finding(tripod: float) -> Finding:
        return judgement.findings({**photo, "soft": soft, "smear": 0.2, "tripod": tripod})["sharpness"]

    assert finding(0.0).problem == "shaken"
    assert finding(1.0).problem == "blurry" and finding(1.0).confidence == finding(0.0).confidence


def test_an_aspect_is_left_unjudged_where_another_problem_is_likely():
    data = read_yaml(SETTINGS.photo_check_model, "model")
    data["aspects"]["background"]["problems"]["cluttered"]["confidence"] = {
        "fit": False, "bias": 0.0, "weights": {"busy": 1.0}}
    data["aspects"]["framing"]["problems"]["too_small"]["confidence"] = {
        "fit": False, "bias": 5.0, "weights": {"item_area": 0.0}}
    data["aspects"]["framing"]["unless_likely"] = {"background.cluttered": 0.5}
    judgement = build_judgement(data, "test")
    photo = measure(rgb_of("clothing-0dbc39f0.jpg"), 400, 533)[0]
    assert photo["item_found"]
    plain = judgement.findings({**photo, "busy": -0.1})["framing"]  # clutter a little less likely than not
    assert plain.problem == "too_small" and plain.confidence > 0.99
    busy = judgement.findings({**photo, "busy": 0.1})
    assert busy["framing"].problem is None and busy["framing"].confidence == 0.0
    assert busy["background"].problem == "cluttered"  # the gate itself is judged as before
    for bad, why in (({"framing.too_small": 0.5}, "'framing.too_small' is not a problem of another aspect"),
                     ({"background.nonsense": 0.5}, "not a problem"), ({"nowhere.cluttered": 0.5}, "not a problem"),
                     ({"background.cluttered": 0}, "above 0"), ({"background.cluttered": 1.5}, "above 0"),
                     ({"background.cluttered": "x"}, "above 0"), ({"background.cluttered": True}, "above 0"),
                     (["background.cluttered"], "must map"), ({}, "must map"),
                     # Gated on a problem that is not judged on every photo: the angle needs the item.
                     ({"angle.tilted": 0.5}, "not judged on every photo")):
        data["aspects"]["framing"]["unless_likely"] = bad
        with pytest.raises(PhotoTipsError, match=f"framing.unless_likely: .*{why}"):
            build_judgement(data, "test")
    # Two aspects gating each other would leave both unjudged wherever both are likely.
    data["aspects"]["framing"]["unless_likely"] = {"background.cluttered": 0.5}
    data["aspects"]["background"]["unless_likely"] = {"lighting.too_dark": 0.5}
    with pytest.raises(PhotoTipsError, match="framing.unless_likely: .*gated itself"):
        build_judgement(data, "test")


def test_an_aspect_is_left_unjudged_where_a_measurement_is_below_its_bound():
    data = read_yaml(SETTINGS.photo_check_model, "model")
    data["aspects"]["framing"]["problems"]["too_small"]["confidence"] = {
        "fit": False, "bias": 5.0, "weights": {"item_area": 0.0}}
    data["aspects"]["framing"]["unless_likely"] = None
    data["aspects"]["framing"]["unless_below"] = {"plain": 0.5}
    judgement = build_judgement(data, "test")
    photo = measure(rgb_of("clothing-0dbc39f0.jpg"), 400, 533)[0]
    assert judgement.findings({**photo, "plain": 0.5})["framing"].problem == "too_small"  # at the bound: judged
    below = judgement.findings({**photo, "plain": 0.49})["framing"]
    assert (below.problem, below.confidence, below.source) == (None, 0.0, "not_judged")
    for bad in ({}, ["plain"], {"plain": "x"}, {"plain": True}, {3: 0.5}):
        data["aspects"]["framing"]["unless_below"] = bad
        with pytest.raises(PhotoTipsError, match="framing.unless_below must map a measurement to a number"):
            build_judgement(data, "test")
    data["aspects"]["framing"]["unless_below"] = {"plain": float("nan")}  # a bound no measurement is below
    with pytest.raises(PhotoTipsError, match="framing.unless_below must map a measurement to a number"):
        build_judgement(data, "test")
    # A gate on a problem of an aspect that is itself gated this way is refused, as for unless_likely.
    data["aspects"]["framing"]["unless_below"] = None
    data["aspects"]["framing"]["unless_likely"] = {"background.cluttered": 0.5}
    data["aspects"]["background"]["unless_below"] = {"plain": 0.5}
    with pytest.raises(PhotoTipsError, match="framing.unless_likely: .*gated itself"):
        build_judgement(data, "test")


def test_a_misspelt_gate_measurement_stops_the_start_not_a_photo(tmp_path):
    import yaml

    from phototips.scoring.photo_check import PhotoCheckScorer

    data = read_yaml(SETTINGS.photo_check_model, "model")
    data["aspects"]["angle"]["unless_below"] = {"background_edge": 0.015}
    data["aspects"]["framing"]["problems"]["too_small"]["unless_above"] = {"item_side_touched": 0}
    data["aspects"]["lighting"]["problems"]["overexposed"]["unless_below"] = {"item_fil": 0.02}
    path = tmp_path / "photo-check.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(PhotoTipsError, match="unknown measurements background_edge, item_fil, item_side_touched;"):
        PhotoCheckScorer(str(path), SETTINGS.tips_file)


def test_blending_is_judged_only_on_a_mask_that_stands_out():
    # A grey T-shirt on a wood floor: what the mask kept (its small print) stands out from the border's colours
    # less than the rest of the frame does, so it is not the item, and says nothing of how the item meets its
    # background.
    m = measure_bytes(real("clothing-caf38b0d.jpg"), SETTINGS)
    assert m["item_found"] and m["item_separation"] < 0
    assert m["item_blend_separation"] > 255 and "visibility" not in tips_for(real("clothing-caf38b0d.jpg"))
    # An item found that barely stands out from its background still blends in.
    blends = next(p for p in SCORER.judgement.aspects["visibility"]["problems"] if p.name == "blends_in")
    assert blends.confidence({**m, "item_blend_separation": 2.0}) > SCORER.judgement.tip_confidence
    assert blends.confidence({**m, "item_blend_separation": 12.0}) < SCORER.judgement.report_at


def test_rotated_photo_with_level_lines_gets_a_tilt_tip():
    name = "clothing-d3ed319e.jpg"  # a dress on floorboards that run straight up the frame
    assert "angle" not in tips_for(real(name))
    assert tips_for(png(tilted(rgb_of(name), 0.8))).get("angle") == "tilted"


# -- confidence: below the threshold a finding stays in the JSON, never as a tip ---------

def test_unsure_finding_is_reported_but_not_shown(tmp_path):
    svc = PhotoService(load_settings({"PHOTOTIPS_DATABASE_URL": f"sqlite:///{tmp_path}/e.db"}))
    threshold = svc.tip_confidence
    aspects = {a: Finding("good", 0.0, confidence=0.01) for a in ("lighting", "sharpness", "resolution", "framing",
                                                                    "visibility", "background", "angle")}
    aspects["angle"] = Finding("improve", 0.6, 4.0, "tilted", confidence=round(threshold - 0.05, 3))
    aspects["lighting"] = Finding("improve", 0.9, 0.1, "too_dark", confidence=0.99)
    out = svc.present(ScoreResult(3.0, aspects, "", "photo-check"), "en")
    assert [t["aspect"] for t in out["tips"]] == ["lighting"]
    assert out["aspects"]["angle"]["verdict"] == "improve"
    assert out["aspects"]["angle"]["confidence"] == pytest.approx(threshold - 0.05)


def test_measurements_are_deterministic():
    photo = decode_photo(real("clothing-c777dda3.jpg"), max_pixels=SETTINGS.max_pixels,
                         analysis_side=SETTINGS.analysis_side)
    first, _ = measure(photo.rgb, photo.width, photo.height)
    second, _ = measure(photo.rgb.copy(), photo.width, photo.height)
    assert first == second


def test_a_preferred_problem_names_the_aspect_only_when_shown_and_its_evidence_says_so():
    data = read_yaml(SETTINGS.photo_check_model, "model")
    assert [p["problem"] for p in data["aspects"]["sharpness"]["prefer"]] == ["shaken"]

    def problem(weight: float) -> dict:
        return {"severity": {"measure": "soft", "ramp": [0, 1]},
                "confidence": {"fit": False, "bias": 0.0, "weights": {"soft": weight}}}

    # All three problems read `soft`; blurry is always the surest, grainy the least sure.
    data["aspects"]["sharpness"] = {"value": "soft", "problems": {
        "blurry": problem(2.0), "shaken": problem(1.0), "grainy": problem(0.9)},
        "prefer": [{"problem": "grainy", "measure": "speckle", "below": 0.5},
                   {"problem": "shaken", "measure": "smear", "below": 0.35}]}
    judgement = build_judgement(data, "test")
    photo = {**measure(rgb_of("clothing-0dbc39f0.jpg"), 400, 533)[0], "speckle": 1.0}
    shown = math.log(judgement.tip_confidence / (1 - judgement.tip_confidence))  # the logit at the threshold

    def finding(soft: float, smear: float, speckle: float = 1.0) -> Finding:
        return judgement.findings({**photo, "soft": soft, "smear": smear, "speckle": speckle})["sharpness"]

    sure = finding(shown + 0.5, 0.2)
    assert sure.problem == "shaken"   # shown, and smeared along one direction
    assert sure.confidence == finding(shown + 0.5, 0.5).confidence  # the aspect is as sure as its likeliest problem
    assert finding(shown + 0.5, 0.5).problem == "blurry"   # shown, but detail lost evenly: not shake
    assert finding(shown - 0.5, 0.2).problem == "blurry"   # smeared, but shake not sure enough to be shown
    # The list's order decides between two preferred problems whose evidence holds (grainy is listed first).
    assert finding(shown / 0.9 + 0.5, 0.2, speckle=0.1).problem == "grainy"
    for bad in (["shaken"], [{"problem": "nonsense", "measure": "smear", "below": 1}], 0, "",
                [{"problem": "shaken", "measure": "smear", "below": 1}] * 2):
        data["aspects"]["sharpness"]["prefer"] = bad
        with pytest.raises(PhotoTipsError, match="sharpness.prefer"):
            build_judgement(data, "test")


def test_severity_is_the_worst_of_its_ramps():
    data = read_yaml(SETTINGS.photo_check_model, "model")
    data["aspects"]["sharpness"]["problems"]["blurry"]["severity"] = [
        {"measure": "a", "ramp": [0, 1]}, {"measure": "b", "ramp": [10, 0]}]
    blurry = next(p for p in build_judgement(data, "test").aspects["sharpness"]["problems"] if p.name == "blurry")
    assert blurry.severity({"a": 0.2, "b": 5.0}) == pytest.approx(0.5)
    assert blurry.severity({"a": 0.9, "b": 5.0}) == pytest.approx(0.9)
    data["aspects"]["sharpness"]["problems"]["blurry"]["severity"] = [{"measure": "a", "ramp": [1, 1]}]
    with pytest.raises(PhotoTipsError, match="blurry.severity"):
        build_judgement(data, "test")


# -- calibration ----------------------------------------------------------------------

def test_logistic_fit_finds_the_boundary_on_the_raw_scale():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 400)
    samples = [Sample(str(i), "real", {"lighting": "too_dark" if v < 0.3 else "good"}, 3, {"luma_p95": float(v)})
               for i, v in enumerate(x)]
    fit = fit_logistic(samples, "lighting", "too_dark", ["luma_p95"], needs_item=False, c=100.0)
    boundary = -fit["bias"] / fit["weights"]["luma_p95"]
    assert fit["weights"]["luma_p95"] < 0 and boundary == pytest.approx(0.3, abs=0.03)


def test_logistic_fit_leaves_out_the_samples_where_the_problem_is_not_judged():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, 400)
    # Where `touched` is set the labels say the opposite; those samples are not judged, so they do not count.
    samples = [Sample(str(i), "real", {"framing": "too_small" if (v < 0.3) != (i % 4 == 0) else "good"}, 3,
                      {"item_area": float(v), "touched": float(i % 4 == 0)}) for i, v in enumerate(x)]
    # The problem as the model file gates it: `unless_above: {touched: 0}`.
    gated = Problem("too_small", (("item_area", 0.15, 0.02),), 0.0, {"item_area": 1.0}, True, (("touched", 0.0),))
    fit = fit_logistic(samples, "framing", "too_small", ["item_area"], needs_item=False, judged=gated.judged, c=100.0)
    assert fit["positives"] + fit["negatives"] == 300
    assert -fit["bias"] / fit["weights"]["item_area"] == pytest.approx(0.3, abs=0.03)


def test_score_fit_keeps_the_model_files_weight_where_the_photos_show_no_problem():
    class Judged:
        """Findings whose confidences are given per sample, and the model file's weights."""
        weights = {a: 0.8 for a in ASPECTS}

        def findings(self, m):
            return {a: Finding("good", 0.0, confidence=m.get(a, 0.0)) for a in ASPECTS}

        def looked_findings(self, m, read):
            return self.findings(m), m

    rng = np.random.default_rng(5)
    samples = []
    for i in range(300):
        m = {"lighting": float(rng.uniform()), "sharpness": float(rng.uniform())}
        overall = 5.0 - 1.5 * m["lighting"] - 0.5 * m["sharpness"] + float(rng.normal(0, 0.05))
        samples.append(Sample(str(i), "real", {}, overall, m))
    fit = fit_score(Judged(), samples)
    assert fit["base"] == pytest.approx(5.0, abs=0.05)
    assert fit["weights"]["lighting"] == pytest.approx(1.5, abs=0.05)
    assert fit["weights"]["sharpness"] == pytest.approx(0.5, abs=0.05)
    assert fit["weights"]["framing"] == 0.8  # no photo shows a framing problem: any weight fits, the file's is kept
    # Where some do, its weight is fitted like the others'.
    for s in samples[:20]:
        s.m["framing"] = 0.9
        s.overall -= 2.0 * 0.9
    assert fit_score(Judged(), samples)["weights"]["framing"] == pytest.approx(2.0, abs=0.1)


def test_calibrate_refits_the_confidences_and_keeps_the_score_unless_asked(tmp_path, monkeypatch):
    import hashlib
    import shutil

    from phototips.study import calibrate as cal

    model = tmp_path / "photo-check.yaml"
    shutil.copy(SETTINGS.photo_check_model, model)
    kept = {"base": 4.2, "weights": {a: 0.5 for a in ASPECTS}}
    provenance = {"photos": 9, "labels": "0123456789ab", "date": "2026-01-01", "command": "phototips study calibrate"}
    calibration_file = tmp_path / read_yaml(str(model), "model")["calibration"]
    calibration_file.write_text(json.dumps({"problems": {}, "score": kept, "score_fitted_on": provenance}))
    set_dir = tmp_path / "set"
    set_dir.mkdir()
    (set_dir / "labels.csv").write_text("file,overall\n")
    # Measurements of a real photo, varied at random, with labels that follow them: fast, and enough of every
    # fitted problem for its model.
    real_m = measure_bytes(next(SET.glob("photos/*.jpg")).read_bytes(), SETTINGS)
    rng = np.random.default_rng(7)
    problems = {a: [] for a in ASPECTS}
    for aspect, _, problem in cal.fitted_problems(build_judgement(read_yaml(str(model), "m"), "m")):
        problems[aspect].append(problem.name)
    samples = []
    for i in range(300):
        m = {k: v * float(rng.uniform(0.5, 1.5)) for k, v in real_m.items()}
        m["item_found"] = 1.0
        labels = {a: (str(rng.choice(names)) if names and rng.uniform() < 0.3 else "good") for a, names in problems.items()}
        overall = int(np.clip(round(5 - sum(v != "good" for v in labels.values()) + rng.normal(0, 0.5)), 1, 5))
        # The second look's reading follows the labels more closely than the cheap one.
        looked = float(labels["background"] == "cluttered") * 0.6 + 0.4 * m["edge_net_cluttered"]
        samples.append(Sample(str(i), "real", labels, overall, m, {"pretrained_cluttered": looked}))
    monkeypatch.setattr(cal, "calibration_photos", lambda set_dir, settings: samples)
    monkeypatch.setattr(cal, "samples_of", lambda photos, settings, **_: photos)

    out = cal.calibrate(set_dir, str(model), SETTINGS)
    written = read_yaml(str(calibration_file), "calibration")
    assert written["score"] == kept and written["score_fitted_on"] == provenance == out["score_fitted_on"]
    assert set(written["problems"]) == {f"{a}.{n}" for a, names in problems.items() for n in names}
    # The second look's model is fitted on its own reading, in the cheap reading's place, and reads more in it.
    second = written["second_looks"]["background.cluttered"]["weights"]
    first = written["problems"]["background.cluttered"]["weights"]
    assert "pretrained_cluttered" in second and "edge_net_cluttered" not in second
    assert second["pretrained_cluttered"] > first["edge_net_cluttered"]
    digest = hashlib.sha256((set_dir / "labels.csv").read_bytes()).hexdigest()[:12]
    assert written["fitted_on"]["labels"] == digest

    out = cal.calibrate(set_dir, str(model), SETTINGS, score=True)
    written = read_yaml(str(calibration_file), "calibration")
    assert written["score"] == out["score"] != kept and out["score_refitted"]
    assert written["score_fitted_on"]["labels"] == digest and "--score" in written["score_fitted_on"]["command"]

    # A file from before score_fitted_on: its score keeps what the file says it was fitted on.
    calibration_file.write_text(json.dumps({"fitted_on": {"photos": 9, "date": "2026-01-01", "command": "c"},
                                            "problems": {}, "score": kept}))
    out = cal.calibrate(set_dir, str(model), SETTINGS)
    assert out["score"] == kept and not out["score_refitted"]
    assert out["score_fitted_on"] == {"photos": 9, "labels": "unknown", "date": "2026-01-01", "command": "c"}
    # No calibration file yet: the score is fitted, and the command run is what is recorded.
    calibration_file.unlink()
    out = cal.calibrate(set_dir, str(model), SETTINGS)
    assert out["score_refitted"] and read_yaml(str(calibration_file), "calibration")["score"] == out["score"]
    assert out["score_fitted_on"]["command"] == "phototips study calibrate"


def test_calibration_overrides_fitted_problems_and_the_score_only():
    data = read_yaml(SETTINGS.photo_check_model, "model")
    hand_set = dict(data["aspects"]["resolution"]["problems"]["low_resolution"]["confidence"])
    apply_calibration(data, {
        "problems": {"lighting.too_dark": {"bias": 1.5, "weights": {"luma_p95": -3.0}},
                     "resolution.low_resolution": {"bias": 99.0, "weights": {"short_side": 1.0}}},
        "score": {"base": 4.2, "weights": {a: 0.5 for a in data["score"]["weights"]}},
    })
    judgement = build_judgement(data, "test")
    dark = next(p for p in judgement.aspects["lighting"]["problems"] if p.name == "too_dark")
    res = judgement.aspects["resolution"]["problems"][0]
    assert (dark.bias, dark.weights) == (1.5, {"luma_p95": -3.0})
    assert (res.bias, res.weights) == (hand_set["bias"], hand_set["weights"])  # fit: false stays as written
    assert judgement.base == 4.2


def test_ceiling_tells_a_limit_of_the_model_from_one_of_the_measurements():
    from ceiling import MODELS, ceiling

    rng = np.random.default_rng(4)
    # Cluttered where `b` lies in a middle band: the model file's own measurement (`a`) is noise, a logistic
    # model over every measurement cannot draw a band, a forest can.
    samples = []
    for i in range(300):
        m = {"a": float(rng.uniform()), "b": float(rng.uniform()), "c": float(rng.uniform())}
        labels = {"background": "cluttered" if 0.3 < m["b"] < 0.7 else "good",
                  "angle": "tilted" if i < 6 else "good"}
        samples.append(Sample(str(i), "real", labels, 3, m))

    def problem(name: str) -> Problem:
        return Problem(name, (("a", 0.0, 1.0),), 0.0, {"a": 1.0}, True)

    judgement = type("Judgement", (), {"aspects": {
        "background": {"needs_item": False, "problems": [problem("cluttered")]},
        "angle": {"needs_item": False, "problems": [problem("tilted")]}}})()
    res = ceiling(samples, judgement, folds=3, repeats=2)
    clutter = res["background.cluttered"]
    assert clutter["positives"] == sum(0.3 < s.m["b"] < 0.7 for s in samples)
    assert clutter[MODELS[0]]["auc"] < 0.65 and clutter[MODELS[2]]["auc"] > 0.9
    assert clutter[MODELS[1]]["auc"] < clutter[MODELS[2]]["auc"] - 0.2
    assert clutter[MODELS[2]]["range"][0] <= clutter[MODELS[2]]["auc"] <= clutter[MODELS[2]]["range"][1]
    # Noise must tip most clean photos to catch 80% of cluttered ones; the band's forest far fewer.
    assert clutter[MODELS[0]]["fpr_at_recall"] > 0.5 > 0.2 > clutter[MODELS[2]]["fpr_at_recall"]
    right = math.ceil(0.8 * clutter["positives"])  # the fewest right tips that make 80% recall
    assert clutter["fpr_needed"] == pytest.approx(right * 0.25 / clutter["negatives"], abs=1e-3)
    # Six tilted photos are too few to cross-validate: counted, not scored.
    assert res["angle.tilted"] == {"positives": 6, "negatives": 294, "fpr_needed": round(5 * 0.25 / 294, 3)}


def test_false_tip_rate_at_a_recall_is_read_off_the_roc_curve():
    from ceiling import fpr_at_recall, fpr_needed

    y = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], bool)
    # Ranked: four positives, one negative, the fifth positive, four negatives.
    conf = np.array([0.9, 0.8, 0.7, 0.6, 0.4, 0.5, 0.3, 0.2, 0.1, 0.0])
    assert fpr_at_recall(y, conf, 0.8) == 0.0  # the first four catch 80%
    assert fpr_at_recall(y, conf, 1.0) == 0.2  # the fifth costs one false tip of five
    assert fpr_at_recall(y, conf, 0.7) == 0.0  # 80% is the first recall at or above 70%
    # Tied confidences are shown together: catching 3 of 5 positives tied with 3 of 5 negatives tips all six.
    y = np.array([1, 1, 1, 0, 0, 0, 1, 1, 0, 0], bool)
    conf = np.array([0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1])
    assert fpr_at_recall(y, conf, 0.6) == pytest.approx(0.6)
    assert fpr_at_recall(y, conf, 0.61) == 1.0
    # Precision 0.8 allows one false tip per four right ones, counted at the fewest right ones making 80%:
    # 8 of 10 (2 false tips of 90), and 8 of 9 too (89%: 7 would be 78%).
    assert fpr_needed(10, 90) == pytest.approx(2 / 90)
    assert fpr_needed(9, 132) == pytest.approx(2 / 132)


def subset_of_the_set(where: Path, choose) -> tuple[Path, list[dict]]:
    """A copy of the set's photos and labels that `choose` picks from its label rows, and the rows picked."""
    subset = where / "set"
    (subset / "photos").mkdir(parents=True)
    with (SET / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    pick = choose(rows)
    for r in pick:
        (subset / "photos" / r["file"]).write_bytes(real(r["file"]))
    with (subset / "labels.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(pick)
    manifest = licensed_manifest(SET)
    with (subset / "manifest.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(next(iter(manifest.values()))))
        w.writeheader()
        w.writerows(manifest[r["file"]] for r in pick)
    return subset, pick


def test_extremes_statistics_rank_a_darker_and_a_blurred_copy_below_the_photo():
    from screen_realset import statistics

    data = (SET / "photos" / "abo-b074m5hpbd-dcace9b5.jpg").read_bytes()
    with Image.open(io.BytesIO(data)) as im:
        rgb = im.convert("RGB")
    brightness, detail = statistics(data)
    darker = Image.eval(rgb, lambda v: v // 3)
    blurred = rgb.filter(ImageFilter.GaussianBlur(4))
    assert statistics(png(np.asarray(darker)))[0] < brightness / 2
    assert statistics(png(np.asarray(blurred)))[1] < detail / 4


def test_extremes_are_the_darkest_and_the_least_detailed_and_a_rerun_draws_them_again(monkeypatch):
    import screen_realset

    # Source photos of made-up names: brightness falls with the number, detail with a blur that grows with it.
    rng = np.random.default_rng(3)
    texture = rng.integers(60, 200, (96, 128, 3), dtype=np.uint8)
    photos = {f"dataset-resized/glass/d{i}.jpg": png((texture * (1 - i / 40)).astype(np.uint8)) for i in range(20)}
    photos |= {f"dataset-resized/paper/b{i}.jpg": png(np.asarray(Image.fromarray(texture).filter(
        ImageFilter.GaussianBlur(i / 2)))) for i in range(20)}
    # A photo of the first batch is never drawn, though as dark as can be; one of this batch's own is drawn again.
    manifest = licensed_manifest(SET).values()
    taken, own = (next(r["source_path"] for r in manifest if r["batch"] == batch
                       and r["source_path"].startswith("dataset-resized/")) for batch in ("first", "extremes"))
    photos[taken] = photos[own] = png(np.zeros((96, 128, 3), np.uint8))
    monkeypatch.setattr(screen_realset, "source_files", lambda mirrors, seen: (
        {"clothing": [], "grocery": [], "trashnet": sorted(p for p in photos if p not in seen)}, {}))
    monkeypatch.setattr(screen_realset, "_blobs", lambda repo, commit, paths: ((p, photos[p]) for p in paths))
    monkeypatch.setattr(screen_realset, "EXTREMES", 5)
    drawn = screen_realset.draw_extremes(Path("/nowhere"))
    assert sorted(p for _, p, _, _ in drawn) == sorted(
        [own] + [f"dataset-resized/glass/d{i}.jpg" for i in range(16, 20)]
        + [f"dataset-resized/paper/b{i}.jpg" for i in range(15, 20)])
    assert len({name for _, _, name, _ in drawn}) == 10
    assert screen_realset.draw_extremes(Path("/nowhere")) == drawn


@dataclasses.dataclass
class Photo:  # what the benchmark's rankings read of a labelled photo
    file: str
    labels: dict


def test_aspects_benchmark_ranks_each_aspect_by_its_confidence_with_unjudged_ones_last():
    from aspects import ranking

    def result(confidence, source="measured"):
        return ScoreResult(score=3.0, aspects={a: Finding("improve", 0.5, confidence=confidence, source=source,
                                                          problem="cut_off") for a in LOOKED_AT},
                           justification="", scorer="t", model="t", latency_ms=0.0)

    labels = {"a": "cut_off", "b": "cut_off", "c": "good", "d": "good"}
    photos = [Photo(f, {a: labels[f] for a in LOOKED_AT}) for f in labels]
    # b is the likeliest by its confidence, but not judged: it ranks as 0, below both good photos.
    results = {"a": result(0.9), "b": result(0.95, "not_judged"), "c": result(0.5), "d": result(0.1)}
    out = ranking(photos, results)
    assert set(out) == set(LOOKED_AT)
    # Nor can it be tipped: the best line flags a and c (0.5 / 0.5; from 0.9, a alone gives 1.0 / 0.5).
    assert out["visibility"] == {"labelled": 2, "auc": 0.5, "best_line": {
        "line": 0.5, "precision": 0.5, "recall": 0.5, "balanced": 0.5}}
    results["b"] = result(0.95)
    judged = ranking(photos, results)["visibility"]
    assert judged["auc"] == 1.0
    assert judged["best_line"] == {"line": 0.9, "precision": 1.0, "recall": 1.0, "balanced": 1.0}


def test_aspects_benchmark_ranks_each_fitted_problem_by_its_own_model():
    from types import SimpleNamespace

    from aspects import problem_ranking

    cut_off = Problem("cut_off", (("x", 0.0, 1.0),), bias=0.0, weights={"x": 1.0}, fit=True)
    blends_in = Problem("blends_in", (("x", 0.0, 1.0),), bias=0.0, weights={"x": -1.0}, fit=False)
    judgement = SimpleNamespace(aspects={"visibility": {"problems": [cut_off, blends_in]}})
    photos = [Photo(f, {"visibility": v}) for f, v in (("a", "cut_off"), ("b", "blends_in"), ("c", "good"),
                                                           ("d", "cut_off"))]
    measured = {"a": {"x": 3.0}, "b": {"x": 2.0}, "c": {"x": 1.0}, "d": {"x": 0.5}}
    # Only the fitted problem, against its own name (the photo that blends in is not a cut-off): a, d over b, c.
    assert problem_ranking(photos, measured, judgement) == {"visibility.cut_off": {"labelled": 2, "auc": 0.5}}


def test_aspects_benchmark_finds_the_best_line_any_threshold_could_give():
    from aspects import best_line

    labelled = [True, True, False, True, False, False]
    # From 0.6 three of four flagged photos are problems and all three problems are flagged: min 0.75; from 0.8,
    # 1.0 and 0.67; from 0.5, 0.6 and 1.0.
    assert best_line(labelled, [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]) == {
        "line": 0.6, "precision": 0.75, "recall": 1.0, "balanced": 0.75}
    # Ordered perfectly, a line meets both at 1.0: the one at the last problem.
    assert best_line(labelled, [0.9, 0.8, 0.3, 0.7, 0.2, 0.1]) == {
        "line": 0.7, "precision": 1.0, "recall": 1.0, "balanced": 1.0}
    # A photo that can never be flagged (negative) is no line: flagging every photo (0.5 / 1.0) is not on offer.
    assert best_line(labelled, [0.9, -1.0, -1.0, -1.0, -1.0, -1.0]) == {
        "line": 0.9, "precision": 1.0, "recall": 0.3333, "balanced": 0.3333}


def test_aspects_benchmark_says_what_each_input_of_a_fitted_model_adds():
    from types import SimpleNamespace

    from aspects import input_ranking

    # x orders the cut-offs perfectly; z, weighed negatively, orders them well only read the way the model does.
    cut_off = Problem("cut_off", (("x", 0.0, 1.0),), bias=0.0, weights={"x": 1.0, "z": -0.1}, fit=True)
    judgement = SimpleNamespace(aspects={"visibility": {"problems": [cut_off]}})
    labels = {"a": "cut_off", "b": "cut_off", "c": "good", "d": "good"}
    photos = [Photo(f, {"visibility": v}) for f, v in labels.items()]
    measured = {"a": {"x": 3.0, "z": 0.0}, "b": {"x": 2.0, "z": 2.0},
                "c": {"x": 1.0, "z": 1.0}, "d": {"x": 0.0, "z": 3.0}}
    out = input_ranking(photos, measured, judgement, least=2)
    assert out == {"visibility.cut_off": {"x": {"alone": 1.0, "without": 0.75}, "z": {"alone": 0.75, "without": 1.0}}}
    assert input_ranking(photos, measured, judgement) == {}  # under 10 labelled: not read


def test_aspects_benchmark_reads_the_batches_named(tmp_path):
    batch = {f: r["batch"] for f, r in licensed_manifest(SET).items()}
    subset, pick = subset_of_the_set(tmp_path, lambda rows: [r for r in rows if batch[r["file"]] == "first"][:4]
                                     + [r for r in rows if batch[r["file"]] == "screened"][:3]
                                     + [r for r in rows if batch[r["file"]] == "extremes"][:2])
    for names, n in ((["first"], 4), (["screened"], 3), (["first", "screened"], 7)):
        out = tmp_path / f"{'+'.join(names)}.json"
        run = subprocess.run([sys.executable, "bench/aspects.py", "--set", str(subset), "--batch", *names,
                              "--resamples", "20", "--no-degraded", "--out", str(out)], cwd=ROOT, capture_output=True,
                             text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-2000:]
        res = json.loads(out.read_text())
        assert res["batch"] == "+".join(names) and res["real"]["photos"] == n
        assert {p["file"] for p in res["per_photo"]} == {r["file"] for r in pick if batch[r["file"]] in names}


def test_ceiling_benchmark_runs_on_the_calibration_half_only(tmp_path):
    # Enough photos of the calibration half for three folds of clutter, and a few held-out ones it must not read:
    # they are not photos at all, so reading one would fail the run.
    subset, pick = subset_of_the_set(tmp_path, lambda rows: [r for r in rows if not in_holdout(r["file"])][:70]
                                     + [r for r in rows if in_holdout(r["file"])][:5])
    for r in pick:
        if in_holdout(r["file"]):
            (subset / "photos" / r["file"]).write_bytes(b"not a photo")
    out = tmp_path / "ceiling.json"
    run = subprocess.run([sys.executable, "bench/ceiling.py", "--set", str(subset), "--folds", "3", "--repeats", "1",
                          "--min-positives", "3", "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    res = json.loads(out.read_text())
    assert res["photos"] == 70
    clutter = res["problems"]["background.cluttered"]
    assert clutter["positives"] == sum(r["background"] == "cluttered" and not in_holdout(r["file"]) for r in pick)
    assert all(0 <= clutter[m]["auc"] <= 1 for m in ("own measurements", "every measurement, forest"))
    assert "| background.cluttered |" in run.stdout


def test_aspects_benchmark_runs_on_a_small_set(tmp_path):
    subset, pick = subset_of_the_set(tmp_path, lambda rows: [r for r in rows if r["file"].startswith("clothing-")][:10]
                                     + [r for r in rows if "iconic" in r["file"]][:4])
    out = tmp_path / "aspects.json"
    run = subprocess.run([sys.executable, "bench/aspects.py", "--set", str(subset), "--resamples", "50", "--sweep",
                          "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    res = json.loads(out.read_text())
    assert res["real"]["photos"] == 14
    assert set(res["real"]["aspects"]) == {"lighting", "sharpness", "resolution", "framing", "visibility",
                                           "background", "angle"}
    assert 0 <= res["real"]["good_photos"]["share"] <= 1
    # The totals, counted again from each photo's labels and the tips it was shown.
    labels = {r["file"]: r for r in pick}
    pairs = [(labels[p["file"]][a], p["shown"].get(a)) for p in res["per_photo"] for a in LOOKED_AT]
    t = res["real"]["tips"]
    assert t == {"right": sum(lab != "good" and tip is not None for lab, tip in pairs),
                 "right_problem": sum(lab != "good" and tip == lab for lab, tip in pairs),
                 "wrong": sum(lab == "good" and tip is not None for lab, tip in pairs),
                 "missed": sum(lab != "good" and tip is None for lab, tip in pairs)}
    assert (f"{t['right']} on a labelled aspect ({t['right_problem']} naming its problem), {t['wrong']} wrong; "
            f"{t['missed']} labelled problems missed.") in run.stdout
    assert -1 <= res["real"]["spearman"]["value"] <= 1
    assert res["degraded"]["darker"]["n"] == sum(all(r[a] == "good" for a in ("lighting", "sharpness", "framing",
                                                                                  "visibility", "background", "angle"))
                                                 for r in pick)
    assert "| aspect |" in run.stdout
    # The sweep at the shipped tip threshold is exactly what the seller is shown, half by half.
    shown = {row["file"]: row["shown"] for row in res["per_photo"]}
    labels = {r["file"]: r for r in pick}
    for aspect, halves in res["sweep"].items():
        for half, by_threshold in halves.items():
            files = [f for f in shown if in_holdout(f) == (half == "holdout")]
            tipped = [f for f in files if aspect in shown[f]]
            hits = sum(labels[f][aspect] != "good" for f in tipped)
            problems = sum(labels[f][aspect] != "good" for f in files)
            at = by_threshold[str(SCORER.judgement.tip_confidence)]
            assert at["precision"] == (hits / len(tipped) if tipped else None)
            assert at["recall"] == (hits / problems if problems else None)
            recalls = [r["recall"] for r in by_threshold.values()]
            if None not in recalls:  # a half with no labelled problem of this aspect has no recall
                assert recalls == sorted(recalls, reverse=True)


def test_a_second_look_at_clutter_is_taken_only_where_the_check_is_unsure_and_decides_there(monkeypatch):
    import phototips.scoring.photo_check as photo_check_module

    looks = []
    real_reading = photo_check_module.network_reading
    monkeypatch.setattr(photo_check_module, "network_reading",
                        lambda *a: looks.append(a[1].network.name) or real_reading(*a))
    (spec, problem), = SCORER.judgement.second_looks
    assert problem.name == "cluttered" and problem.second.band == (0.5, 0.9)

    def clutter(name: str) -> tuple[float, float, dict]:
        """The cheap confidence, and the one the seller's tip is decided on."""
        result, m = SCORER.score_measured(decode_photo(real(name), max_pixels=SETTINGS.max_pixels,
                                                       analysis_side=SETTINGS.analysis_side), ScoreRequest())
        cheap = {k: v for k, v in m.items() if k != problem.second.reading}
        return problem.confidence(cheap), result.aspects["background"].confidence, tips_of(result)

    # A packshot on white: sure enough of no clutter, the network is never read.
    cheap, final, _ = clutter("abo-b0799ck52k-d80a51d3.jpg")
    assert cheap < 0.5 and final == round(cheap, 3) and looks == []
    # A plain product photo the cheap reading found cluttered enough for a tip: looked at again, it has none.
    cheap, final, tips = clutter("abo-b0799ck52k-95f7ee92.jpg")
    assert 0.8 <= cheap < 0.9 and final < 0.5 and "background" not in tips and looks == ["pretrained-clutter-64.onnx"]
    # A garment on a busy bed, under the tip line by the cheap reading: looked at again, it gets its tip.
    cheap, final, tips = clutter("clothing-2cd28b7c.jpg")
    assert 0.5 < cheap < 0.8 and final > 0.9 and tips.get("background") == "cluttered" and len(looks) == 2
    # A tub on a cluttered shop shelf, over the band's top: the cheap reading stands, the network is not read.
    cheap, final, tips = clutter("grocery-shop-valio-vanilla-yoghurt_001.jpg")
    assert 0.9 <= cheap and final == round(cheap, 3) and tips.get("background") == "cluttered" and len(looks) == 2


def test_the_second_looks_reading_decides_the_problem_and_the_gates_that_hang_on_it():
    judgement = SCORER.judgement
    (_, problem), = judgement.second_looks
    photo = decode_photo(real("abo-b0799ck52k-95f7ee92.jpg"), max_pixels=SETTINGS.max_pixels,
                         analysis_side=SETTINGS.analysis_side)
    m, _ = measure(photo.rgb, photo.width, photo.height)
    assert 0.5 < problem.own_confidence(m) < 0.9
    asked = []
    by_reading = {}
    for reading in (0.0, 1.0):
        findings, looked = judgement.looked_findings(m, lambda second: asked.append(second) or reading)
        assert looked[problem.second.reading] == reading and problem.second.reading not in m
        by_reading[reading] = findings
    assert asked == [problem.second, problem.second]
    # Read as clean, the photo has no clutter problem and framing, gated on clutter over 0.5, is judged; read as
    # cluttered, the other way round: the gate sees the confidence the tip is decided on.
    clean, cluttered = by_reading[0.0], by_reading[1.0]
    assert clean["background"].confidence < 0.5 and clean["framing"].source == "measured"
    assert cluttered["background"].confidence > 0.9 and cluttered["background"].problem == "cluttered"
    assert cluttered["framing"].source == "not_judged"
    # Outside the band nothing is read and the measurements come back as they were.
    sure = dict(m, **{k: 0.0 for k in problem.weights})
    assert not 0.5 < problem.own_confidence(sure) < 0.9
    findings, looked = judgement.looked_findings(sure, lambda second: asked.append(second) or 1.0)
    assert looked is sure and len(asked) == 2 and findings == judgement.findings(sure)


def test_a_second_look_is_checked_at_start_up(tmp_path):
    from phototips.scoring.photo_check import check_measurements

    data = read_yaml(SETTINGS.photo_check_model, "model")
    second = data["aspects"]["background"]["problems"]["cluttered"]["second_look"]
    built = build_judgement(copy.deepcopy(data), SETTINGS.photo_check_model)
    looked = built.aspects["background"]["problems"][0].second
    assert looked.network.is_file() and looked.reading == "pretrained_cluttered" and looked.output == 1
    for change, says in [({"band": [0.9, 0.5]}, "band must rise"),
                         ({"reading": "edge_net_cluttered"}, "must weigh its own reading"),
                         ({"confidence": None}, "must have band"),
                         ({"network": {**second["network"], "side": 0}}, "side must be positive")]:
        broken = copy.deepcopy(data)
        broken["aspects"]["background"]["problems"]["cluttered"]["second_look"] = {**second, **change}
        with pytest.raises(PhotoTipsError) as err:
            build_judgement(broken, SETTINGS.photo_check_model)
        assert "background.problems.cluttered.second_look" in err.value.message and says in err.value.message
    # A network file that is not there stops the check at start-up.
    moved = copy.deepcopy(data)
    moved["aspects"]["background"]["problems"]["cluttered"]["second_look"]["network"]["file"] = "missing.onnx"
    with pytest.raises(PhotoTipsError) as err:
        check_measurements(build_judgement(moved, SETTINGS.photo_check_model), SETTINGS.photo_check_model)
    assert "no network file" in err.value.message and "missing.onnx" in err.value.message
    # So does one OpenCV cannot read, an output the network does not have, and a reading named as a measurement
    # (it would overwrite that measurement on the photos looked at again).
    home = tmp_path / "models"
    home.mkdir()
    (home / "not-a-network.onnx").write_bytes(b"not an ONNX file")
    (home / looked.network.name).symlink_to(looked.network.resolve())
    (home / "not-a-probability.onnx").write_bytes(affine_network([0.2, 2.0]))
    model = str(home / "photo-check.yaml")
    for change, says in [({"network": {**second["network"], "file": "not-a-network.onnx"}}, "OpenCV cannot load"),
                         ({"network": {**second["network"], "output": 2}}, "has no output number 2 (it has 2)"),
                         ({"network": {**second["network"], "file": "not-a-probability.onnx"}},
                          "output 1 is outside 0-1 (2 on a grey photo)"),
                         ({"reading": "item_area", "confidence": {"bias": 0.0, "weights": {"item_area": 1.0}}},
                          "reading item_area is a measurement's name")]:
        broken = copy.deepcopy(data)
        broken["aspects"]["background"]["problems"]["cluttered"]["second_look"] = {**second, **change}
        with pytest.raises(PhotoTipsError) as err:
            check_measurements(build_judgement(broken, model), model)
        assert "background.problems.cluttered.second_look: " in err.value.message and says in err.value.message
    # Two looks may not share a reading: the one would overwrite the other where both are taken.
    twice = copy.deepcopy(data)
    twice["aspects"]["visibility"]["problems"]["cut_off"]["second_look"] = {**second, "network": {
        **second["network"], "output": 0}}
    with pytest.raises(PhotoTipsError) as err:
        check_measurements(build_judgement(twice, model), model)
    assert "reading pretrained_cluttered is another second look's" in err.value.message
    check_measurements(build_judgement(copy.deepcopy(data), model), model)


def affine_network(bias: list[float]) -> bytes:
    """An ONNX network of a backbone's input and shape whose outputs are `bias` whatever the photo."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["x"], ["g"]), helper.make_node("Flatten", ["g"], ["f"]),
         helper.make_node("MatMul", ["f", "W"], ["m"]), helper.make_node("Add", ["m", "b"], ["y"])],
        "affine", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, len(bias)])],
        [numpy_helper.from_array(np.zeros((3, len(bias)), np.float32), "W"),
         numpy_helper.from_array(np.array([bias], np.float32), "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()
    # The calibration file's second-look model overrides the written one, as a problem's own does.
    apply_calibration(data, {"second_looks": {"background.cluttered": {"bias": 1.25, "weights": {
        "pretrained_cluttered": 2.0}}}})
    looked = build_judgement(data, SETTINGS.photo_check_model).aspects["background"]["problems"][0].second
    assert (looked.bias, looked.weights) == (1.25, {"pretrained_cluttered": 2.0})
