"""The ledger from Python: 32 threads record 1,000 generations each into an
agent whose queue is small enough that some are dropped, while a watcher
thread reads flywheel.stats() without pause. Every snapshot has
recorded <= delivered + in_flight + in_queue + spooled + sampled_out +
dropped; after the flush it is an equality, recorded is 32,000, the
generations that got an id are the delivered ones, and exactly those are
rows in PostgreSQL.
"""
import threading
import unittest

import support

import flywheel

THREADS = 32
PER = 1000


def accounted(s):
    return (s["delivered"] + s["in_flight"] + s["in_queue"] + s["spooled"]
            + s["sampled_out"] + s["dropped"])


class LedgerTest(unittest.TestCase):
    def test_32_threads_balance(self):
        store = support.Store("ledger")
        try:
            support.init_flywheel(store.topic, **{"queue.max_bytes": 2 << 20})
            ok = [0] * THREADS
            done = threading.Event()
            bad = []
            snaps = [0]

            def work(t):
                n = 0
                for i in range(PER):
                    with flywheel.generation(model="ledger", input=f"t{t} #{i}") as g:
                        g.set_output("ok")
                    n += g.id is not None
                ok[t] = n

            def watch():
                while not done.is_set():
                    s = flywheel.stats()
                    if s["recorded"] > accounted(s):
                        bad.append(s)
                    snaps[0] += 1

            w = threading.Thread(target=watch)
            w.start()
            ts = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            self.assertTrue(flywheel.flush(60))
            done.set()
            w.join()
            self.assertEqual(bad, [])
            self.assertGreater(snaps[0], 10)
            s = flywheel.stats()
            self.assertEqual(s["recorded"], THREADS * PER)
            self.assertEqual(s["recorded"], accounted(s))
            self.assertEqual(s["delivered"], sum(ok))
            self.assertEqual(s["dropped"], s["dropped_queue_full"])
            self.assertEqual(s["binding_errors"], 0)
            print(f"ledger: {THREADS * PER} recorded, {s['delivered']} delivered, "
                  f"{s['dropped']} dropped (queue full), {snaps[0]} snapshots balanced")
            flywheel.shutdown(10)
            store.wait_count("generations", sum(ok), timeout=120)
        finally:
            flywheel.shutdown(1)
            store.close()


if __name__ == "__main__":
    unittest.main()
