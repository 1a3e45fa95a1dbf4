"""The openai scorer against a local server speaking the OpenAI chat-completions format (as vLLM does)."""

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from phototips.config import load_settings
from phototips.errors import PhotoTipsError
from phototips.imaging.decode import decode_photo
from phototips.scoring.registry import create_scorer
from phototips.scoring.result import ScoreRequest
import photos


class FakeVLLM:
    def __init__(self):
        self.replies = [(200, {"choices": [{"message": {"content": '{"score": 4, "justification": "Sharp and well lit."}'}}],
                               "usage": {"prompt_tokens": 700, "completion_tokens": 20}})]
        self.bodies = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                fake.bodies.append((self.path, dict(self.headers), json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
                status, payload = fake.replies.pop(0) if len(fake.replies) > 1 else fake.replies[0]
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def vllm():
    fake = FakeVLLM()
    yield fake
    fake.server.shutdown()


def scorer(fake):
    return create_scorer("openai", load_settings({"PHOTOTIPS_OPENAI_BASE_URL": fake.url,
                                                  "PHOTOTIPS_OPENAI_MODEL": "Qwen/Qwen2.5-VL-7B-Instruct"}))


PHOTO = decode_photo(photos.encode(photos.sample("chelsea")), max_pixels=60_000_000, analysis_side=1000)


def test_scores_through_chat_completions_with_the_image_inline(vllm, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    result = scorer(vllm).score(PHOTO, ScoreRequest(item_type="cat bed"))
    assert (result.score, result.scorer, result.usage) == (4.0, "openai", {"input_tokens": 700, "output_tokens": 20})
    path, headers, body = vllm.bodies[-1]
    assert path == "/v1/chat/completions" and headers["Authorization"] == "Bearer sk-test"
    assert body["model"] == "Qwen/Qwen2.5-VL-7B-Instruct"
    image_part, text_part = body["messages"][1]["content"]
    assert "Given this image of a cat bed" in text_part["text"]
    raw = base64.b64decode(image_part["image_url"]["url"].split(",", 1)[1])
    assert Image.open(io.BytesIO(raw)).format == "JPEG"


def test_rate_limit_then_success_is_retried(vllm):
    ok = vllm.replies[0]
    vllm.replies = [(429, {"error": "slow down"}), (503, {"error": "busy"}), ok]
    assert scorer(vllm).score(PHOTO, ScoreRequest()).score == 4.0
    assert len(vllm.bodies) == 3


def test_errors_and_bad_answers_are_clear(vllm):
    vllm.replies = [(400, {"error": "image too large"})]
    with pytest.raises(PhotoTipsError) as exc:
        scorer(vllm).score(PHOTO, ScoreRequest())
    assert exc.value.code == "scorer_unavailable" and "400" in exc.value.message
    vllm.replies = [(200, {"choices": [{"message": {"content": "Nice cat!"}}]})]
    with pytest.raises(PhotoTipsError) as exc:
        scorer(vllm).score(PHOTO, ScoreRequest())
    assert exc.value.code == "bad_model_output"
    vllm.replies = [(200, {"unexpected": True})]
    with pytest.raises(PhotoTipsError) as exc:
        scorer(vllm).score(PHOTO, ScoreRequest())
    assert exc.value.code == "bad_model_output"


def test_unreachable_endpoint_is_scorer_unavailable():
    s = create_scorer("openai", load_settings({"PHOTOTIPS_OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}))
    with pytest.raises(PhotoTipsError) as exc:
        s.score(PHOTO, ScoreRequest())
    assert exc.value.code == "scorer_unavailable"
