"""The bedrock scorer with real boto3 against a local server speaking the Converse wire format."""

import io
import time

import pytest
from PIL import Image
from prometheus_client import REGISTRY

from fake_bedrock import FakeBedrock
from phototips.config import load_settings
from phototips.errors import PhotoTipsError
from phototips.imaging.decode import decode_photo
from phototips.scoring.chain import ScorerChain
from phototips.scoring.registry import create_scorer
from phototips.scoring.result import ScoreRequest
import photos


@pytest.fixture
def fake(monkeypatch):
    server = FakeBedrock()
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield server
    server.close()


def settings(**env):
    return load_settings({f"PHOTOTIPS_{k.upper()}": str(v) for k, v in env.items()})


@pytest.fixture(scope="module")
def photo():
    return decode_photo(photos.encode(photos.sample("coffee")), max_pixels=60_000_000, analysis_side=1000)


def test_success_sends_image_and_prompt_and_records_usage(fake, photo):
    fake.script = [("ok", '```json\n{"score": 2, "justification": "The photo is too dark and the background is cluttered."}\n```')]
    scorer = create_scorer("bedrock", settings(bedrock_prompt="guided"))
    result = scorer.score(photo, ScoreRequest(item_type="cup"))
    assert (result.score, result.rating, result.scorer, result.model) == (2.0, 2, "bedrock", "amazon.nova-lite-v1:0")
    assert result.prompt == {"id": "guided", "version": 1}
    assert result.usage == {"input_tokens": 1234, "output_tokens": 56}
    assert result.aspects["lighting"].verdict == "improve" and result.aspects["lighting"].problem == "too_dark"
    assert result.aspects["background"].problem == "cluttered"
    assert result.aspects["angle"].source == "not_mentioned"
    req = fake.requests[-1]
    assert req["path"] == "/model/amazon.nova-lite-v1%3A0/converse"
    assert "Given this image of a cup" in req["body"]["messages"][0]["content"][1]["text"]
    assert req["body"]["system"][0]["text"].startswith("You are an expert")
    assert req["headers"]["Authorization"].startswith("AWS4-HMAC-SHA256")  # signed like the real thing
    img = Image.open(io.BytesIO(fake.image_bytes()))
    assert img.format == "JPEG" and max(img.size) <= 1568


def test_throttling_then_success_is_retried_by_boto3(fake, photo):
    fake.script = [("throttle",), ("throttle",), ("ok", '{"score": 5, "justification": "Sharp and well lit."}')]
    result = create_scorer("bedrock", settings(bedrock_max_attempts=4)).score(photo, ScoreRequest())
    assert result.score == 5.0
    assert len(fake.requests) == 3


def test_throttled_until_the_deadline_falls_back_to_the_photo_check(fake, photo):
    fake.script = [("throttle",)]
    s = settings(scorers="bedrock,photo-check", bedrock_max_attempts=10, deadline_s=1.5)
    chain = ScorerChain.from_names(s.scorers, s)
    start = time.monotonic()
    result = chain.score(photo, ScoreRequest())
    elapsed = time.monotonic() - start
    assert result.scorer == "photo-check"
    assert result.skipped[0]["scorer"] == "bedrock" and "deadline" in result.skipped[0]["reason"]
    assert elapsed < 4.0
    assert len(fake.requests) >= 2  # boto3 did retry before the deadline cut it off


def test_exhausted_retries_report_throttling(fake, photo):
    fake.script = [("throttle",)]
    with pytest.raises(PhotoTipsError) as exc:
        create_scorer("bedrock", settings(bedrock_max_attempts=2)).score(photo, ScoreRequest())
    assert exc.value.code == "scorer_unavailable" and "ThrottlingException" in exc.value.message
    assert len(fake.requests) == 2


def test_unparseable_model_text_is_a_clear_error_and_the_chain_falls_back(fake, photo):
    fake.script = [("ok", "I'm sorry, I can't help with rating this image.")]
    with pytest.raises(PhotoTipsError) as exc:
        create_scorer("bedrock", settings()).score(photo, ScoreRequest())
    assert exc.value.code == "bad_model_output" and "no score found" in exc.value.message
    s = settings(scorers="bedrock")
    result = ScorerChain.from_names(s.scorers, s).score(photo, ScoreRequest())
    assert result.scorer == "photo-check" and "bad_model_output" in result.skipped[0]["reason"]


def test_access_denied_is_not_retried(fake, photo):
    fake.script = [("error", 403, "AccessDeniedException", "You don't have access to the model.")]
    with pytest.raises(PhotoTipsError) as exc:
        create_scorer("bedrock", settings(bedrock_max_attempts=5)).score(photo, ScoreRequest())
    assert "AccessDeniedException" in exc.value.message
    assert len(fake.requests) == 1


def test_circuit_breaker_skips_a_failing_scorer_then_probes_again(fake, photo, caplog):
    fake.script = [("error", 400, "ValidationException", "bad")]
    s = settings(scorers="bedrock", breaker_failures=2, breaker_cooldown_s=0.5)
    chain = ScorerChain.from_names(s.scorers, s)

    def skips(reason):  # what /metrics reports: the operator's alert on a failing model
        return REGISTRY.get_sample_value("phototips_scorer_skipped_total", {"scorer": "bedrock", "reason": reason}) or 0

    failed, opened = skips("failed"), skips("circuit_open")
    for _ in range(2):
        assert chain.score(photo, ScoreRequest()).scorer == "photo-check"
    sent = len(fake.requests)
    skipped = chain.score(photo, ScoreRequest()).skipped
    assert "circuit open" in skipped[0]["reason"] and len(fake.requests) == sent
    assert (skips("failed") - failed, skips("circuit_open") - opened) == (2, 1)
    # The operator hears of it: a line a failure, none while the circuit is open.
    said = [r.getMessage() for r in caplog.records if r.name == "phototips.scoring.chain"]
    assert len(said) == 2 and all("scorer bedrock failed" in m and "ValidationException" in m for m in said), said
    fake.script = [("ok", '{"score": 4, "justification": "Good."}')]
    time.sleep(0.6)
    assert chain.score(photo, ScoreRequest()).scorer == "bedrock"
    assert chain.score(photo, ScoreRequest()).scorer == "bedrock"


def test_server_uses_bedrock_and_live_channel_sends_tips_then_bedrock_score(fake, photo_files, tmp_path):
    from conftest import ServerProcess
    from test_live import Seller

    fake.script = [("ok", '{"score": 3, "justification": "The bag is cut off at the edge."}')]
    srv = ServerProcess({"PHOTOTIPS_SCORERS": "bedrock,photo-check", "PHOTOTIPS_LOG_LEVEL": "WARNING"}, tmp_path)
    seller = Seller(srv.url)
    try:
        ack = seller.send(listing_id="B1", image=photo_files["coffee"].read_bytes())
        pid = ack["photo_id"]
        tips = seller.wait_for(lambda n, m: n == "tips" and m["photo_id"] == pid)[0][1]
        score = seller.wait_for(lambda n, m: n == "score" and m["photo_id"] == pid)[0][1]
        assert tips["scorer"] == "photo-check"
        assert score["scorer"] == "bedrock" and score["score"] == 3.0
        assert score["prompt"] == {"id": "guided", "version": 1}
        assert [t["id"] for t in score["tips"]] == ["visibility.cut_off"]
        seller.wait_for(lambda n, m: n == "hero" and m["hero"] == pid)
    finally:
        seller.sio.disconnect()
        srv.stop()
