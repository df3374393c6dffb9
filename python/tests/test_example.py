"""examples/python/chat_service.py end to end: the service runs with only
FLYWHEEL_* variables, answers chat requests and feedback over HTTP, and its
generations and feedback appear in `flywheel stats` (through the dev
broker, a collector and PostgreSQL). It stops cleanly on SIGINT.
"""
import json
import os
import signal
import subprocess
import sys
import unittest
import urllib.request

import support

EXAMPLE = os.path.join(support.PKG, "..", "examples", "python", "chat_service.py")


def post(port, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


class ExampleTest(unittest.TestCase):
    def test_chat_service(self):
        support.library()
        store = support.Store("example")
        env = dict(os.environ, FLYWHEEL_KAFKA_BOOTSTRAP=support.bootstrap(),
                   FLYWHEEL_TOPIC=store.topic, FLYWHEEL_PROJECT="example",
                   PYTHONPATH=support.PKG)
        env.pop("OPENAI_API_KEY", None)
        p = subprocess.Popen([sys.executable, "-X", "dev", "-W", "error", EXAMPLE, "--port", "0"],
                             env=env, stdout=subprocess.PIPE, text=True)
        try:
            line = p.stdout.readline()
            self.assertIn("listening on", line)
            port = int(line.rsplit(":", 1)[1])
            rids = []
            for i in range(5):
                r = post(port, "/chat", {"message": "where is my order?" if i % 2 else "hi",
                                         "conversation_id": f"c{i % 2}", "user_id": "u1"})
                self.assertTrue(r["reply"])
                rids.append(r["response_id"])
            for rid, up in zip(rids[:3], (True, False, True)):
                self.assertTrue(post(port, "/feedback", {"response_id": rid, "thumbs": up})
                                ["recorded"])
            p.send_signal(signal.SIGINT)
            self.assertEqual(p.wait(30), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
        try:
            store.wait_count("generations", 5)
            store.wait_count("feedback", 3)
            fw = os.path.join(support.build_dir(), "cli", "flywheel")
            out = subprocess.run([fw, "stats", "--json", "--since", "1h", "--dsn", store.dsn],
                                 capture_output=True, text=True, check=True).stdout
            doc = json.loads(out)
            self.assertEqual(doc["traffic"]["generations"], 5)
            self.assertEqual(doc["traffic"]["conversations"], 2)
            self.assertEqual(doc["feedback"]["events"], 3)
            self.assertEqual(doc["feedback"]["thumbs"], 3)
        finally:
            store.close()


if __name__ == "__main__":
    unittest.main()
