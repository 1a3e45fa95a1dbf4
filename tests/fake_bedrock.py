"""A local HTTP server speaking Bedrock Runtime's Converse wire format (restJson1), for real boto3 clients.

Each request to POST /model/{modelId}/converse takes the next scripted reply:
("ok", text), ("throttle",), ("error", status, type, message) or ("raw", status, body).
When the script runs out, the last reply repeats.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeBedrock:
    def __init__(self):
        self.script: list[tuple] = [("ok", '{"score": 4, "justification": "Well lit and sharp."}')]
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with fake._lock:
                    fake.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                    reply = fake.script.pop(0) if len(fake.script) > 1 else fake.script[0]
                if not self.path.endswith("/converse"):
                    return self._send(404, {"message": "not found"}, "ResourceNotFoundException")
                kind = reply[0]
                if kind == "ok":
                    return self._send(200, {
                        "output": {"message": {"role": "assistant", "content": [{"text": reply[1]}]}},
                        "stopReason": "end_turn",
                        "usage": {"inputTokens": 1234, "outputTokens": 56, "totalTokens": 1290},
                        "metrics": {"latencyMs": 42},
                    })
                if kind == "throttle":
                    return self._send(429, {"message": "Too many requests, please wait before trying again."},
                                      "ThrottlingException")
                if kind == "error":
                    return self._send(reply[1], {"message": reply[3]}, reply[2])
                self.send_response(reply[1])
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply[2])))
                self.end_headers()
                self.wfile.write(reply[2])

            def _send(self, status, payload, error_type=None):
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                if error_type:
                    self.send_header("x-amzn-ErrorType", error_type)
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def image_bytes(self, i: int = -1) -> bytes:
        content = self.requests[i]["body"]["messages"][0]["content"]
        return base64.b64decode(next(c["image"]["source"]["bytes"] for c in content if "image" in c))

    def close(self):
        self.server.shutdown()
        self.server.server_close()
