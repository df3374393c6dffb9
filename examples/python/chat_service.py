"""A small chat service instrumented with Flywheel in three lines.

POST /chat      {"message": "...", "conversation_id": "..."}
                -> {"reply": "...", "response_id": "..."}
POST /feedback  {"response_id": "...", "thumbs": true, "comment": "..."}

The model client is OpenAI-shaped: the real `openai` package when it is
installed and OPENAI_API_KEY is set, else a stand-in that answers like a
support bot (so the example runs anywhere). Flywheel's configuration comes
from FLYWHEEL_* variables (FLYWHEEL_KAFKA_BOOTSTRAP, FLYWHEEL_TOPIC,
FLYWHEEL_SPOOL_DIR, ...):

    eval "$(scripts/services env)"
    PYTHONPATH=python python3 examples/python/chat_service.py --port 8080
    curl -s localhost:8080/chat -d '{"message": "where is my order?"}'

Standard library only; Python 3.11+.
"""
import argparse
import itertools
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import flywheel                                     # 1  (instrumentation)

MODEL = os.environ.get("CHAT_MODEL", "gpt-4o-mini")
SYSTEM = "You are the support assistant of an online shop. Answer in two sentences."


class StandInClient:
    """Shaped like openai.OpenAI for the one call this service makes."""

    class _Completions:
        _ids = itertools.count(1)

        def create(self, *, model, messages, **params):
            q = messages[-1]["content"].lower()
            text = ("Your order shipped yesterday and arrives on Friday."
                    if "order" in q else "You can reset your password under Settings.")
            n = next(self._ids)
            msg = _Obj(role="assistant", content=text, tool_calls=None)
            return _Obj(id=f"chatcmpl-standin-{os.getpid()}-{n}", model=model,
                        choices=[_Obj(index=0, message=msg, finish_reason="stop")],
                        usage=_Obj(prompt_tokens=12 + len(q) // 4, completion_tokens=11,
                                   prompt_tokens_details=None,
                                   completion_tokens_details=None))

    def __init__(self):
        self.chat = _Obj(completions=self._Completions())


class _Obj:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def make_client():
    if os.environ.get("OPENAI_API_KEY"):
        try:
            from openai import OpenAI
            return OpenAI()
        except ImportError:
            pass
    return StandInClient()


flywheel.init()                                     # 2  (FLYWHEEL_* variables)
client = flywheel.wrap_openai(make_client())        # 3  (every call is recorded)

history: dict[str, list] = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def _json(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        try:
            req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        except ValueError:
            return self._json(400, {"error": "body is not JSON"})
        if self.path == "/chat":
            conv = req.get("conversation_id", "default")
            with lock:
                msgs = history.setdefault(conv, [{"role": "system", "content": SYSTEM}])
                msgs.append({"role": "user", "content": str(req.get("message", ""))})
                sent = list(msgs)
            with flywheel.context(conversation_id=conv, user_id=req.get("user_id")):
                resp = client.chat.completions.create(model=MODEL, messages=sent)
            reply = resp.choices[0].message.content
            with lock:
                msgs.append({"role": "assistant", "content": reply})
            return self._json(200, {"reply": reply, "response_id": resp.id})
        if self.path == "/feedback":
            # The user's reaction, addressed by the provider's response id.
            fid = flywheel.feedback(response_id=req.get("response_id"),
                                    thumbs=bool(req.get("thumbs")),
                                    comment=req.get("comment"))
            return self._json(200, {"recorded": fid is not None})
        return self._json(404, {"error": "unknown path"})

    def log_message(self, fmt, *args):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--host", default="127.0.0.1")
    args = ap.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        flywheel.shutdown()


if __name__ == "__main__":
    main()
