"""The shared model server: one process holds the (tiny) Qwen2.5-VL, web processes score through it."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import requests

from conftest import ServerProcess
from phototips.config import load_settings
from phototips.errors import PhotoTipsError
from phototips.imaging.decode import decode_photo
from phototips.imaging.encode import jpeg_for_model
from phototips.model_server import create_model_app
from phototips.scoring.qwen_tiny import build_tiny_qwen
from phototips.scoring.registry import create_scorer
from phototips.scoring.result import ScoreRequest
import photos

TOKEN = "model-server-test-secret"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_qwen(tmp_path_factory.mktemp("qwen") / "tiny")


def qwen_env(tiny) -> dict[str, str]:
    return {"PHOTOTIPS_QWEN_MODEL": str(tiny), "PHOTOTIPS_QWEN_DEVICE": "cpu",
            "PHOTOTIPS_QWEN_MAX_BATCH": "8", "PHOTOTIPS_QWEN_MAX_WAIT_MS": "300"}


@pytest.fixture(scope="module")
def model_server(tiny, tmp_path_factory):
    srv = ServerProcess({**qwen_env(tiny), "PHOTOTIPS_MODEL_SERVER_TOKEN": TOKEN, "PHOTOTIPS_LOG_LEVEL": "WARNING"},
                        tmp_path_factory.mktemp("model-server"), command="model-server",
                        port_var="PHOTOTIPS_MODEL_SERVER_PORT", startup_s=120)
    yield srv
    srv.stop()


def remote(url: str, token: str = TOKEN):
    return create_scorer("remote", load_settings({"PHOTOTIPS_MODEL_SERVER_URL": url,
                                                  "PHOTOTIPS_MODEL_SERVER_TOKEN": token}))


def decoded(name: str):
    return decode_photo(photos.encode(photos.sample(name)), max_pixels=60_000_000, analysis_side=1000)


def test_remote_scores_are_the_models_own(model_server, tiny):
    photo = decoded("coffee")
    got = remote(model_server.url).score(photo, ScoreRequest(want_justification=False))
    # What the model server saw is the JPEG the remote scorer sent: scored here on the same bytes,
    # the local model gives the same probabilities.
    sent = decode_photo(jpeg_for_model(photo.pil, max_side=1568), max_pixels=60_000_000, analysis_side=1000)
    local = create_scorer("qwen-local", load_settings(qwen_env(tiny))).score(sent, ScoreRequest(want_justification=False))
    assert got.model == local.model == "qwen2.5-vl:tiny"
    assert got.details["model_server"] == model_server.url
    np.testing.assert_allclose(got.details["probs"], local.details["probs"], atol=1e-4)
    assert got.score == pytest.approx(local.score, abs=1e-3)


def test_many_web_callers_meet_in_one_batch(model_server):
    scorer = remote(model_server.url)
    before = requests.get(model_server.url + "/healthz", timeout=5).json()["batchers"]["expected"]
    shots = [decoded(n) for n in ("coffee", "astronaut", "chelsea", "rocket", "coffee")]
    out = [None] * len(shots)

    def go(i):
        out[i] = scorer.score(shots[i], ScoreRequest(want_justification=False)).score

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(shots))]
    [t.start() for t in threads]
    [t.join(120) for t in threads]
    assert all(1 <= s <= 5 for s in out)
    after = requests.get(model_server.url + "/healthz", timeout=5).json()["batchers"]["expected"]
    assert after["items"] - before["items"] == len(shots)
    grown = {int(k): v - before["sizes"].get(k, 0) for k, v in after["sizes"].items()}
    assert max(k for k, v in grown.items() if v > 0) > 1  # the five callers did not each get a pass of their own


def test_calls_without_the_secret_are_refused(model_server):
    r = requests.post(model_server.url + "/v1/model/score", files={"photo": ("a.jpg", photos.encode(photos.sample("coffee")))},
                      timeout=30)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    with pytest.raises(PhotoTipsError) as err:
        remote(model_server.url, token="wrong").score(decoded("coffee"), ScoreRequest())
    assert err.value.code == "scorer_unavailable" and "unauthorized" in err.value.message


def test_a_model_server_beyond_loopback_needs_a_secret():
    with pytest.raises(PhotoTipsError, match="MODEL_SERVER_TOKEN"):
        create_model_app(load_settings({"PHOTOTIPS_HOST": "0.0.0.0"}))


def test_web_processes_score_through_it_and_fall_back_when_it_is_gone(tiny, tmp_path):
    models = ServerProcess({**qwen_env(tiny), "PHOTOTIPS_MODEL_SERVER_TOKEN": TOKEN, "PHOTOTIPS_LOG_LEVEL": "WARNING"},
                           tmp_path, command="model-server", port_var="PHOTOTIPS_MODEL_SERVER_PORT", startup_s=120)
    web_env = {"PHOTOTIPS_SCORERS": "remote", "PHOTOTIPS_MODEL_SERVER_URL": models.url,
               "PHOTOTIPS_MODEL_SERVER_TOKEN": TOKEN, "PHOTOTIPS_CPU_WORKERS": "1", "PHOTOTIPS_LOG_LEVEL": "WARNING",
               # A web process must not load the model itself: a model path that does not exist proves it.
               "PHOTOTIPS_QWEN_MODEL": str(tmp_path / "no-model-here")}
    webs = [ServerProcess(web_env, tmp_path) for _ in range(2)]
    try:
        data = photos.encode(photos.sample("chelsea"))
        for web in webs:
            r = requests.post(web.url + "/v1/score", files={"photo": ("cat.jpg", data)}, timeout=60)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["model"] == "qwen2.5-vl:tiny" and body["scorer"] == "qwen-local"
        models.stop()
        r = requests.post(webs[0].url + "/v1/score", files={"photo": ("cat.jpg", data)}, timeout=60)
        assert r.status_code == 200
        body = r.json()
        assert body["scorer"] == "photo-check"
        assert any(s["scorer"] == "remote" and "model server" in s["reason"] for s in body["skipped"])
    finally:
        models.stop()
        for web in webs:
            web.stop()
