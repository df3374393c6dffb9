#!/usr/bin/env python3
"""A fake OpenAI-compatible chat completions server for the eval tests, the
quick start and docs/evals.md (standard library only, loopback only).

Answers are deterministic per (model, last user message), from a script:

    {"answers": {"<model>|<prompt>" or "<prompt>": SPEC, ...},
     "judge": {"contains": "Paris", "hit": 5, "miss": 1},
     "hang_after": N}

SPEC: {"content": "...", "tool_calls": [{"name", "arguments": {...}}],
       "fail": [429, 500, ...]   (statuses of the first attempts, in order),
       "retry_after": "1"        (header sent with a 429/503),
       "delay": 0.5              (seconds before answering),
       "malformed": true         (a 200 whose body is not JSON),
       "usage": [in, out]}
Unknown prompts get "echo: <prompt>". A request whose system message starts
with "You are an impartial judge" is judged: "score" mode answers `hit` when
the answer to judge contains `contains`, else `miss`; pairwise picks the
side that contains it ("tie" when both or neither do).

With "hang_after": N, every model request after the first N to arrive is held
until POST /release, which abandons the held ones (closed unanswered, not
counted as answered; used to kill a runner while calls are in flight).
Requests after the release are answered normally.

GET /stats returns {"calls": {key: n}, "answered": {key: n},
"times": {key: [t, ...]}, "auth": [distinct Authorization values]}.
Usage: fake_openai.py --script FILE --port-file FILE
"""
import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATS = {"calls": {}, "answered": {}, "times": {}, "auth": []}
RELEASE = threading.Event()
SCRIPT = {}
ANSWERED = [0]
ARRIVED = [0]


def last_user(messages):
    for m in reversed(messages):
        if m.get("role") == "user":
            c = m.get("content")
            return c if isinstance(c, str) else json.dumps(c)
    return ""


def judge_answer(req):
    j = SCRIPT.get("judge", {})
    word = j.get("contains", "Paris")
    user = req["messages"][-1]["content"]
    if "Answer A:\n" in user:
        a = user.split("Answer A:\n", 1)[1].split("\n\nAnswer B:\n", 1)
        ina, inb = word in a[0], word in a[1]
        winner = "tie" if ina == inb else ("A" if ina else "B")
        return json.dumps({"winner": winner, "reason": "fake judge"})
    ans = user.split("Answer to judge:\n", 1)[-1]
    score = j.get("hit", 5) if word in ans else j.get("miss", 1)
    return json.dumps({"score": score, "reason": "fake judge"})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        try:
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
            return True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return False

    def do_GET(self):
        if self.path == "/stats":
            with LOCK:
                self.send(200, json.dumps(STATS))
        else:
            self.send(404, "{}")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/release":
            RELEASE.set()
            self.send(200, "{}")
            return
        if not self.path.endswith("/chat/completions"):
            self.send(404, '{"error": {"message": "not found"}}')
            return
        req = json.loads(body)
        msgs = req.get("messages", [])
        model = req.get("model", "")
        is_judge = bool(msgs) and msgs[0].get("role") == "system" and str(
            msgs[0].get("content", "")).startswith("You are an impartial judge")
        prompt = last_user(msgs)
        key = ("judge|" + model) if is_judge else (model + "|" + prompt)
        auth = self.headers.get("Authorization")
        with LOCK:
            n = STATS["calls"].get(key, 0)
            STATS["calls"][key] = n + 1
            arrival = ARRIVED[0]
            if not is_judge:
                ARRIVED[0] += 1
            STATS["times"].setdefault(key, []).append(time.time())
            if auth and auth not in STATS["auth"]:
                STATS["auth"].append(auth)
        hang = SCRIPT.get("hang_after")
        if hang is not None and not is_judge and not RELEASE.is_set():
            if arrival >= hang:
                # Held until POST /release, which abandons every request held
                # (their client is gone): they are never answered or counted.
                RELEASE.wait()
                self.close_connection = True
                return
        spec = {}
        if not is_judge:
            answers = SCRIPT.get("answers", {})
            spec = answers.get(model + "|" + prompt, answers.get(prompt, {}))
        if spec.get("delay"):
            time.sleep(spec["delay"])
        fail = spec.get("fail", [])
        if n < len(fail):
            status = fail[n]
            headers = []
            if spec.get("retry_after") is not None and status in (429, 503):
                headers.append(("Retry-After", str(spec["retry_after"])))
            self.send(status, '{"error": {"message": "scripted failure"}}', headers)
            return
        if spec.get("malformed"):
            if self.send(200, '{"choices": [{"message": {"content": "trunc'):
                self.count_answered(key)
            return
        if is_judge:
            message = {"role": "assistant", "content": judge_answer(req)}
        else:
            message = {"role": "assistant", "content": spec.get("content", "echo: " + prompt)}
            if spec.get("tool_calls"):
                message["content"] = None
                message["tool_calls"] = [
                    {"id": "call_%d" % i, "type": "function",
                     "function": {"name": c["name"], "arguments": json.dumps(c.get("arguments", {}))}}
                    for i, c in enumerate(spec["tool_calls"])]
        usage = spec.get("usage", [10, 5])
        out = {"id": "chatcmpl-fake", "object": "chat.completion", "model": model + "-fake",
               "choices": [{"index": 0, "message": message,
                            "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
               "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1],
                         "total_tokens": usage[0] + usage[1]}}
        if self.send(200, json.dumps(out)):
            self.count_answered(key)

    def count_answered(self, key):
        with LOCK:
            STATS["answered"][key] = STATS["answered"].get(key, 0) + 1
            ANSWERED[0] += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--script", required=True)
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    with open(a.script) as f:
        SCRIPT.update(json.load(f))
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
