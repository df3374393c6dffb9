"""Fork: a child made with os.fork(), with multiprocessing's fork start
method, and with a raw libc fork() that skips Python's at-fork hooks, gets
its own agent on first use (the parent's is never touched); the child's
events arrive in PostgreSQL, the parent's agent keeps working and its
counters show nothing of the child.
"""
import ctypes
import multiprocessing
import os
import unittest

import support

import flywheel


def record(tag, n):
    ids = []
    for i in range(n):
        with flywheel.generation(model="fork-test", input=f"{tag} {i}", tags=[tag]) as g:
            g.set_output("ok")
        ids.append(g.id)
    return ids


def mp_child(tag, n, q):
    ids = record(tag, n)
    ok = flywheel.flush(30)
    s = flywheel.stats()
    q.put((ids, ok, s.get("recorded"), s.get("delivered"), s.get("dropped_forked")))


class ForkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.store = support.Store("fork")
        support.init_flywheel(cls.store.topic)

    @classmethod
    def tearDownClass(cls):
        flywheel.shutdown(10)
        cls.store.close()

    def child_status(self, pid):
        _, st = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(st), 0)

    def test_fork_children_get_their_own_agent(self):
        record("parent", 5)
        self.assertTrue(flywheel.flush(30))

        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                ids = record("osfork", 4)
                s = flywheel.stats()
                ok = (all(ids) and flywheel.flush(30) and s["recorded"] == 4
                      and s["dropped_forked"] == 0 and flywheel.stats()["delivered"] == 4)
                code = 0 if ok else 3
            finally:
                os._exit(code)
        self.child_status(pid)

        # libc's fork() directly: Python's at-fork hooks do not run, so the
        # child still holds the parent's agent; libflywheel answers
        # FW_ERR_FORKED and the package makes the child's own agent.
        libc = ctypes.CDLL(None, use_errno=True)
        libc.fork.restype = ctypes.c_int
        libc.fork.argtypes = []
        pid = libc.fork()
        self.assertGreaterEqual(pid, 0)
        if pid == 0:
            code = 1
            try:
                ids = record("rawfork", 3)
                ok = all(ids) and flywheel.flush(30) and flywheel.stats()["delivered"] == 3
                code = 0 if ok else 3
            finally:
                os._exit(code)
        self.child_status(pid)

        ctx = multiprocessing.get_context("fork")
        q = ctx.Queue()
        procs = [ctx.Process(target=mp_child, args=(f"mp{k}", 3, q)) for k in range(2)]
        for p in procs:
            p.start()
        results = [q.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(30)
            self.assertEqual(p.exitcode, 0)
        for ids, ok, recorded, delivered, forked in results:
            self.assertTrue(all(ids) and ok)
            self.assertEqual((recorded, delivered, forked), (3, 3, 0))
        q.close()
        q.join_thread()

        # The parent is unaffected.
        record("parent", 5)
        self.assertTrue(flywheel.flush(30))
        s = flywheel.stats()
        self.assertEqual((s["recorded"], s["delivered"], s["dropped"]), (10, 10, 0))

        self.store.wait_count("generations", 10 + 4 + 3 + 6)
        for tag, n in (("parent", 10), ("osfork", 4), ("rawfork", 3), ("mp0", 3), ("mp1", 3)):
            self.assertEqual(self.store.count("generations", f"'{tag}' = ANY(tags)"), n, tag)


if __name__ == "__main__":
    unittest.main()
