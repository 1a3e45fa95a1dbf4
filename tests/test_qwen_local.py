"""qwen-local on CPU with tiny Qwen2.5-VL checkpoints built offline, loaded through the real code path."""

import threading

import numpy as np
import pytest
import torch

from phototips.config import load_settings
from phototips.errors import PhotoTipsError
from phototips.imaging.decode import decode_photo
from phototips.scoring.batcher import MicroBatcher
from phototips.scoring.chain import ScorerChain
from phototips.scoring.prompts import get_prompt
from phototips.scoring.qwen_model import Job, get_engine, is_oom, resolve_model_dir
from phototips.scoring.qwen_tiny import build_tiny_qwen
from phototips.scoring.registry import create_scorer
from phototips.scoring.result import ScoreRequest
import photos
from tiny_qwen import ANSWER, teach


def decoded(name, crop=None):
    rgb = photos.sample(name)
    if crop:
        rgb = rgb[: crop[0], : crop[1]]
    return decode_photo(photos.encode(rgb), max_pixels=60_000_000, analysis_side=1000)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_qwen(tmp_path_factory.mktemp("qwen") / "tiny")


@pytest.fixture(scope="module")
def taught(tiny, tmp_path_factory):
    system, user = get_prompt("guided").render("cup")
    dst = tmp_path_factory.mktemp("qwen") / "taught"
    losses = teach(tiny, dst, decoded("coffee").pil, system, user)
    assert losses[-1] < losses[0] / 10  # it did learn the answer
    return dst


def settings(model, **env):
    return load_settings({"PHOTOTIPS_QWEN_MODEL": str(model), "PHOTOTIPS_QWEN_DEVICE": "cpu",
                          **{f"PHOTOTIPS_{k.upper()}": str(v) for k, v in env.items()}})


# Photos of different sizes, so batches really are padded.
PHOTOS = [("coffee", None), ("astronaut", None), ("chelsea", None), ("rocket", (300, 500)), ("coffee", (250, 400))]


def jobs():
    system, user = get_prompt("guided").render("item")
    return [Job(decoded(n, c).pil, system, user) for n, c in PHOTOS]


def test_expected_score_mode(tiny):
    scorer = create_scorer("qwen-local", settings(tiny))
    assert scorer.load_error is None
    result = scorer.score(decoded("coffee"), ScoreRequest(item_type="cup", want_justification=False))
    assert 1.0 <= result.score <= 5.0 and result.score != round(result.score)  # continuous
    assert result.scorer == "qwen-local" and result.prompt == {"id": "guided", "version": 1}
    assert sum(result.details["probs"]) == pytest.approx(1.0, abs=1e-3)
    assert result.usage["input_tokens"] > 16 and result.usage["output_tokens"] == 0
    assert result.score == pytest.approx(sum(p * k for p, k in zip(result.details["probs"], range(1, 6))), abs=1e-3)


def test_the_model_loads_once_per_process(tiny):
    a = create_scorer("qwen-local", settings(tiny))
    b = create_scorer("qwen-local", settings(tiny))
    assert a.engine is b.engine


def test_batched_expected_scores_equal_unbatched(tiny):
    engine = get_engine(str(tiny), "cpu", 100_352, 401_408)
    js = jobs()
    single = [engine.expected_scores([j])[0]["score"] for j in js]
    batched = [r["score"] for r in engine.expected_scores(js)]
    np.testing.assert_allclose(batched, single, atol=1e-4)


def test_batched_generation_equals_unbatched(taught):
    engine = get_engine(str(taught), "cpu", 100_352, 401_408)
    js = jobs()[:3]
    single = [engine.generate([j], 24)[0]["text"] for j in js]
    assert engine.generate(js, 24) == [engine.generate([j], 24)[0] for j in js]
    assert [r["text"] for r in engine.generate(js, 24)] == single


def test_concurrent_sellers_are_batched(tiny):
    scorer = create_scorer("qwen-local", settings(tiny, qwen_max_batch=8, qwen_max_wait_ms=300))
    photos_ = [decoded(n, c) for n, c in PHOTOS]
    alone = [scorer.score(p, ScoreRequest(want_justification=False)).score for p in photos_]
    before = scorer.expected_batcher.stats.sizes.copy()
    out = [None] * len(photos_)

    def go(i):
        out[i] = scorer.score(photos_[i], ScoreRequest(want_justification=False)).score

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(photos_))]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert max(scorer.expected_batcher.stats.sizes - before) > 1
    np.testing.assert_allclose(out, alone, atol=1e-4)


def test_out_of_memory_splits_the_batch_instead_of_failing(tiny):
    engine = get_engine(str(tiny), "cpu", 100_352, 401_408)

    def small_gpu(batch):
        if len(batch) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return engine.expected_scores(batch)

    batcher = MicroBatcher(small_gpu, max_batch=8, max_wait_ms=500, is_oom=is_oom)
    js = jobs()
    futures = [batcher.submit(j) for j in js]
    results = [f.result(60)["score"] for f in futures]
    assert batcher.stats.splits >= 1 and max(batcher.stats.sizes) <= 2
    np.testing.assert_allclose(results, [engine.expected_scores([j])[0]["score"] for j in js], atol=1e-4)


def test_other_errors_reach_every_caller(tiny):
    def broken(batch):
        raise ValueError("bad input")

    batcher = MicroBatcher(broken, max_batch=4, max_wait_ms=50, is_oom=is_oom)
    with pytest.raises(ValueError):
        batcher.submit(1).result(10)


def test_generate_mode_parses_the_answer_and_maps_it_to_tips(taught):
    scorer = create_scorer("qwen-local", settings(taught, qwen_mode="generate"))
    result = scorer.score(decoded("coffee"), ScoreRequest(item_type="cup"))
    assert (result.score, result.justification) == (2.0, "The photo is too dark and the background is cluttered.")
    assert result.aspects["lighting"].problem == "too_dark" and result.aspects["background"].problem == "cluttered"
    assert result.usage["output_tokens"] >= len(ANSWER) // 8


def test_expected_mode_with_justification_generates_it(taught):
    scorer = create_scorer("qwen-local", settings(taught))
    result = scorer.score(decoded("coffee"), ScoreRequest(item_type="cup", want_justification=True))
    assert result.justification.startswith("The photo is too dark")
    assert result.details["probs"][1] == max(result.details["probs"])  # it learnt "2"
    assert result.score < 2.5


def test_random_model_output_is_an_error_and_the_chain_falls_back(tiny):
    s = settings(tiny, qwen_mode="generate", scorers="qwen-local", qwen_max_new_tokens=12)
    with pytest.raises(PhotoTipsError) as exc:
        create_scorer("qwen-local", s).score(decoded("coffee"), ScoreRequest())
    assert exc.value.code == "bad_model_output"
    result = ScorerChain.from_names(s.scorers, s).score(decoded("coffee"), ScoreRequest())
    assert result.scorer == "photo-check" and "bad_model_output" in result.skipped[0]["reason"]


def test_missing_weights_name_the_path_and_the_chain_falls_back(tmp_path, monkeypatch):
    scorer = create_scorer("qwen-local", settings(tmp_path / "nowhere"))
    with pytest.raises(PhotoTipsError) as exc:
        scorer.score(decoded("coffee"), ScoreRequest())
    assert exc.value.code == "scorer_unavailable" and str(tmp_path / "nowhere") in exc.value.message
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(PhotoTipsError) as exc:
        resolve_model_dir("Qwen/Qwen2.5-VL-7B-Instruct-not-downloaded")
    assert "Hugging Face cache" in exc.value.message and "huggingface-cli download" in exc.value.message
    s = settings(tmp_path / "nowhere", scorers="qwen-local,photo-check")
    result = ScorerChain.from_names(s.scorers, s).score(decoded("coffee"), ScoreRequest())
    assert result.scorer == "photo-check" and "not found" in result.skipped[0]["reason"]
