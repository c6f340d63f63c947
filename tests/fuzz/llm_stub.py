"""A scripted OpenAI-compatible chat endpoint on loopback for the fuzzing run (the one stand-in
allowed: the outside model provider). Every completion answers the same short text, without
tool calls, so POST /api/v1/chat is exercised end to end.

    python3 llm_stub.py PORT
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        if request.get("stream"):
            chunk = {"id": "c1", "object": "chat.completion.chunk", "created": int(time.time()),
                     "model": "stub", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Noted."},
                                                   "finish_reason": "stop"}]}
            body = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()
            content_type = "text/event-stream"
        else:
            body = json.dumps({
                "id": "c1", "object": "chat.completion", "created": int(time.time()), "model": "stub",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "Noted."}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }).encode()
            content_type = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
