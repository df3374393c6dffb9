"""Exit: a process that records and exits without calling flush() or
shutdown() delivers (the atexit handler flushes); with Kafka unreachable it
still exits promptly, and with a spool its events wait there and a later
process on the same spool delivers them.
"""
import os
import subprocess
import sys
import tempfile
import time
import unittest

import support

SCRIPT = r"""
import sys
sys.path.insert(0, {pkg!r})
import flywheel
flywheel.init(bootstrap_servers={bs!r}, topic={topic!r}, spool_dir={spool!r} or None,
              shutdown_timeout=1.0, strict=True,
              config={{"log.level": "error", "kafka.message.timeout.ms": 60000}})
for i in range({n}):
    with flywheel.generation(model="exit-test", input="event %d" % i, tags=[{tag!r}]) as g:
        g.set_output("ok")
if {wait_spool}:
    # Replay happens in the background; wait for it before exiting (an
    # exit earlier would simply leave the rest in the spool for next time).
    import time
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        flywheel.flush(1)
        if flywheel.stats()["spool_pending"] == 0:
            break
        time.sleep(0.05)
print(flywheel.stats()["recorded"])
"""


def run(bs, topic, tag, n, spool="", wait_spool=False):
    code = SCRIPT.format(pkg=support.PKG, bs=bs, topic=topic, spool=spool, n=n, tag=tag,
                         wait_spool=wait_spool)
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-X", "dev", "-W", "error", "-c", code],
                       capture_output=True, text=True, timeout=60)
    return p, time.monotonic() - t0


class ExitTest(unittest.TestCase):
    def test_exit(self):
        support.library()
        store = support.Store("exit")
        try:
            p, _ = run(support.bootstrap(), store.topic, "no_flush", 20)
            self.assertEqual(p.returncode, 0, p.stderr)
            store.wait_count("generations", 20, "'no_flush' = ANY(tags)")

            # Bound: interpreter start, shutdown_timeout (1 s) of flush, 0.1 s of
            # destroy's own flush, up to 2 s for librdkafka to give back what
            # it holds (measured 3.1-3.3 s in all at load 20-40).
            p, secs = run("127.0.0.1:1", store.topic, "unreachable", 20)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertLess(secs, 8.0, "exit with Kafka unreachable took too long")

            with tempfile.TemporaryDirectory() as spool:
                p, secs = run("127.0.0.1:1", store.topic, "spooled", 15, spool)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertLess(secs, 8.0, "exit with Kafka unreachable took too long")
                self.assertTrue(any(f for _r, _d, fs in os.walk(spool) for f in fs))
                # A later process on the same spool replays what was left.
                p, _ = run(support.bootstrap(), store.topic, "after", 1, spool, wait_spool=True)
                self.assertEqual(p.returncode, 0, p.stderr)
                store.wait_count("generations", 15, "'spooled' = ANY(tags)")
                store.wait_count("generations", 1, "'after' = ANY(tags)")
        finally:
            store.close()


if __name__ == "__main__":
    unittest.main()
