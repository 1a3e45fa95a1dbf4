"""Prompts word for word, robust parsing of model answers, and justification → aspects → tips."""

from pathlib import Path

import pytest

from phototips import paths
from phototips.errors import PhotoTipsError
from phototips.scoring.parse import parse_answer
from phototips.scoring.prompts import get_prompt, load_prompts
from phototips.tips.justification import map_justification
from phototips.tips.mapping_eval import evaluate, read_labelled
from phototips.tips.catalog import load_catalog

DATA = Path(__file__).parent / "data"


def test_study_prompts_word_for_word():
    generic, guided = get_prompt("generic"), get_prompt("guided")
    assert generic.system == "You are an expert at recognising good images for selling items in second-hand marketplaces."
    system, user = generic.render("sofa")
    assert user == (
        "Given this image of a sofa, provide an overall image quality score for how good is the image if we want to "
        "sell it on a second-hand marketplace. The score should be a number on a scale of 1 to 5 (1 and 5 included). "
        "Do not expect more angles or close up shots as we can only use one image. Return the score and a "
        "justification for the score in JSON format with only the following keys: score, justification."
    )
    _, user = guided.render("bag")
    assert "Score 4: The image is quite good, with just 1 or 2 things to improve." in user
    assert "please return an overall_score of 5." in user
    assert user.endswith("with only the following keys: score, justification.")
    assert {p.id: p.version for p in load_prompts().values()} == {"generic": 1, "guided": 1, "tips": 1}
    assert "improve" in get_prompt("tips").render("bag")[1]
    with pytest.raises(PhotoTipsError):
        get_prompt("nonexistent")


@pytest.mark.parametrize("text, score, justification", [
    ('{"score": 4, "justification": "Good light."}', 4.0, "Good light."),
    ('```json\n{"score": 3, "justification": "Dark."}\n```', 3.0, "Dark."),
    ('Here is my answer: {"overall_score": "4/5", "justification": "ok"} Hope this helps!', 4.0, "ok"),
    ('{"score": "four", "justification": "x"}', 4.0, "x"),
    ('{"Score": "2 out of 5", "Justification": "blurry"}', 2.0, "blurry"),
    ('{"score": 3.5, "justification": "fine"}', 3.5, "fine"),
    ('{"note": "cinq", "justification": "parfait"}', 5.0, "parfait"),
    ('I would rate it. Score: 2/5 because it is dark.', 2.0, "I would rate it. Score: 2/5 because it is dark."),
    ('{"thoughts": {"a": 1}} then {"score": 5, "justification": "great", "improve": []}', 5.0, "great"),
])
def test_answers_are_parsed(text, score, justification):
    answer = parse_answer(text)
    assert answer.score == score and answer.justification == justification


@pytest.mark.parametrize("text, why", [
    ('{"score": 7, "justification": "x"}', "outside 1–5"),
    ('{"score": 0}', "outside 1–5"),
    ('{"score": "8/10"}', "not on the 1–5 scale"),
    ('{"score": "excellent"}', "not a number"),
    ('{"score": true}', "not a number"),
    ("I cannot rate this image.", "no score found"),
    ("", "empty answer"),
    ('{"score": ', "no score found"),
])
def test_bad_answers_are_errors_not_crashes(text, why):
    with pytest.raises(PhotoTipsError) as exc:
        parse_answer(text)
    assert exc.value.code == "bad_model_output" and why in exc.value.message


def test_tips_prompt_answer_carries_aspects():
    answer = parse_answer('{"score": 3, "justification": "Dark.", "improve": ["lighting", "background"]}')
    assert answer.improve == ["lighting", "background"]


def test_mapping_examples_with_negation_and_languages():
    m = map_justification("The photo is not blurry, but the background is cluttered.")
    assert (m["sharpness"].verdict, m["background"].verdict, m["background"].problem) == ("good", "improve", "cluttered")
    m = map_justification("Le sac n'est pas centré et la photo est un peu sombre.")
    assert (m["framing"].verdict, m["lighting"].problem) == ("improve", "too_dark")
    m = map_justification("Die Beleuchtung ist nicht optimal, der Hintergrund ist ruhig.")
    assert (m["lighting"].verdict, m["background"].verdict) == ("improve", "good")
    assert map_justification("This is a photo of a bag.") == {}


def test_every_mapped_problem_has_a_tip():
    catalog = load_catalog(str(paths.CONTENT / "tips.yaml"))
    rows = read_labelled(DATA / "justifications.tsv")
    for _, _, text in rows:
        for aspect, mention in map_justification(text).items():
            tip = catalog.tip_for(aspect, mention.problem)
            assert tip.aspect == aspect
            if mention.problem:
                assert tip.problem == mention.problem


def test_mapping_macro_f1_on_the_labelled_sets():
    tuned = read_labelled(DATA / "justifications.tsv")
    heldout = read_labelled(DATA / "justifications_heldout.tsv")
    assert len(tuned) + len(heldout) >= 150
    assert {lang for lang, _, _ in tuned} == {"en", "fr", "de"}
    assert sum(1 for _, labels, _ in tuned if not labels) >= 5  # sentences naming no aspect
    everything = evaluate(tuned + heldout)
    assert everything["macro_f1"] >= 0.9, everything["errors"]
    # The held-out sentences were written after the lexicon was tuned and never used to tune it.
    assert evaluate(heldout)["macro_f1"] >= 0.9
