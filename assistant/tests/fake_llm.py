"""A local OpenAI-compatible chat server for the tests: scripted replies, every request kept."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def tool_call(name: str, arguments: dict, call_id: str = "call_1") -> dict:
    return {"tool_calls": [(name, arguments, call_id)]}


def say(text: str) -> dict:
    return {"content": text}


class FakeChatServer:
    """Answers POST /v1/chat/completions with the next scripted step.

    A step is ``say(...)``, ``tool_call(...)``, a callable taking the request body and
    returning one of those, or an int: answer with that HTTP status (a failing model).
    """

    def __init__(self):
        self.script: list = []
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"body": body, "auth": self.headers.get("Authorization")})
                step = server.script.pop(0) if server.script else say("")
                if callable(step):
                    step = step(body)
                if isinstance(step, int):
                    self.send_response(step)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "model down"}}')
                    return
                message = {"role": "assistant", "content": step.get("content")}
                if "tool_calls" in step:
                    message["tool_calls"] = [
                        {
                            "id": call_id,
                            "type": "function",
                            "function": {"name": name, "arguments": json.dumps(arguments)},
                        }
                        for name, arguments, call_id in step["tool_calls"]
                    ]
                payload = {
                    "id": f"chatcmpl-{len(server.requests)}",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": message,
                            "finish_reason": "tool_calls" if "tool_calls" in step else "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 90, "completion_tokens": 10, "total_tokens": 100},
                }
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def sent_text(self) -> str:
        return json.dumps([r["body"] for r in self.requests])
