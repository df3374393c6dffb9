"""The API around generations: context from contextvars (nesting, asyncio
tasks, threads through copy_context_run), what a Generation records,
exceptions re-raised unchanged, init idempotent, feedback arguments checked
without raising.
"""
import asyncio
import concurrent.futures
import threading
import unittest

import support

import flywheel
from flywheel import _core


class Capture:
    def __init__(self):
        self.gens = []
        self._orig = _core._build_and_record

    def __enter__(self):
        def cap(lib, a, g):
            self.gens.append(g)
            return self._orig(lib, a, g)
        _core._build_and_record = cap
        return self

    def __exit__(self, *exc):
        _core._build_and_record = self._orig


class ApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        support.init_flywheel(support.unique("fwt_py_api"))

    @classmethod
    def tearDownClass(cls):
        flywheel.shutdown(5)

    def test_init_is_idempotent(self):
        a = _core._st.agent
        self.assertTrue(flywheel.init(bootstrap_servers="elsewhere:9092"))
        self.assertEqual(_core._st.agent, a)
        self.assertTrue(flywheel.enabled())

    def test_context_nesting_tasks_and_threads(self):
        with flywheel.context(conversation_id="c1", user_id="u1", tags=["a"],
                              attributes={"k": "v"}):
            with flywheel.context(session_id="s1", tags=["b"], attributes={"k2": "v2"}):
                self.assertEqual(flywheel.current_context(), {
                    "conversation_id": "c1", "user_id": "u1", "session_id": "s1",
                    "tags": ("a", "b"), "attributes": {"k": "v", "k2": "v2"}})

                async def task(n):
                    await asyncio.sleep(0)
                    with flywheel.context(user_id=f"task{n}"):
                        await asyncio.sleep(0)
                        return flywheel.generation(model="m")

                async def main():
                    return await asyncio.gather(task(1), task(2))
                g1, g2 = asyncio.run(main())
                self.assertEqual((g1.user_id, g2.user_id), ("task1", "task2"))
                self.assertEqual(g1.conversation_id, "c1")
                self.assertEqual(g1.tags, ("a", "b"))

                seen = {}
                t = threading.Thread(target=lambda: seen.update(plain=flywheel.current_context()))
                t.start()
                t.join()
                self.assertEqual(seen["plain"], {})
                with concurrent.futures.ThreadPoolExecutor(2) as ex:
                    got = ex.submit(flywheel.copy_context_run(flywheel.current_context)).result()
                self.assertEqual(got["session_id"], "s1")
            self.assertNotIn("session_id", flywheel.current_context())
        self.assertEqual(flywheel.current_context(), {})

    def test_async_context_manager_and_exceptions(self):
        err = KeyError("missing")

        async def main():
            async with flywheel.context(user_id="au"):
                async with flywheel.generation(model="m", input="q") as g:
                    g.first_token()
                    g.set_output([{"role": "assistant", "content": "a"}])
                try:
                    async with flywheel.generation(model="m") as g2:
                        raise err
                except KeyError as e:
                    return g, g2, e
        with Capture() as cap:
            g, g2, e = asyncio.run(main())
        self.assertIs(e, err)
        self.assertEqual(len(cap.gens), 2)
        self.assertEqual((g.user_id, g.status), ("au", 1))
        self.assertEqual((g2.status, g2.error_type), (2, "KeyError"))
        self.assertIsNotNone(g.id)

    def test_end_records_once(self):
        with Capture() as cap:
            g = flywheel.generation(model="m")
            i1 = g.end()
            i2 = g.end()
            with g:
                pass
        self.assertEqual(len(cap.gens), 1)
        self.assertEqual(i1, i2)

    def test_feedback_argument_errors_do_not_raise(self):
        with self.assertLogs("flywheel", "WARNING"):
            self.assertIsNone(flywheel.feedback("x", thumbs=True, score=1.0))
        with self.assertLogs("flywheel", "WARNING"):
            self.assertIsNone(flywheel.feedback(thumbs=True))
        with self.assertLogs("flywheel", "WARNING"):
            self.assertIsNone(flywheel.feedback("not-a-uuid", thumbs=True))
        fid = flywheel.feedback(trace_id="0123456789abcdef0123456789abcdef", score=0.5)
        self.assertIsNotNone(fid)

    def test_surrogates_and_odd_values_do_not_raise(self):
        with Capture() as cap:
            with flywheel.generation(model="m", input="lone \ud800 surrogate",
                                     params={"temperature": "hot", "logit_bias": {1: 2}},
                                     attributes={"n": 5}, trace_id="zz") as g:
                g.set_output(object())
        self.assertEqual(len(cap.gens), 1)


if __name__ == "__main__":
    unittest.main()
