"""wrap_openai / wrap_anthropic against fake SDK-shaped clients
(fake_sdk.py): sync, async, streaming, raw responses; what is recorded for
every case, and that the user's call behaves exactly as without Flywheel
(same objects, same exceptions, request untouched), including when the
telemetry itself fails. Records go through libflywheel to the dev broker;
the Generation objects handed to libflywheel are captured for the checks.
"""
import asyncio
import copy
import gc
import json
import unittest

import support
import fake_sdk as F

import flywheel
from flywheel import _core, _wrap


class Capture:
    """Captures each Generation as it is handed to libflywheel (and still
    hands it over)."""

    def __init__(self):
        self.gens = []
        self.rcs = []
        self._orig = _core._build_and_record

    def __enter__(self):
        def cap(lib, a, g):
            rc = self._orig(lib, a, g)
            self.gens.append(g)
            self.rcs.append(rc)
            return rc
        _core._build_and_record = cap
        return self

    def __exit__(self, *exc):
        _core._build_and_record = self._orig
        return False

    def one(self):
        if len(self.gens) != 1:
            raise AssertionError(f"{len(self.gens)} records, want exactly 1")
        assert self.rcs[0] == 0, self.rcs
        return self.gens[0]


def out_text(g, i=0):
    return g.outputs[i]["content"]


MSGS = [{"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris? ☀"}]


def run(coro):
    return asyncio.run(coro)


class OpenAITest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        support.init_flywheel(support.unique("fwt_py_wrap"))

    @classmethod
    def tearDownClass(cls):
        flywheel.shutdown(5)

    def client(self, script):
        return flywheel.wrap_openai(F.OpenAI(script))

    def test_non_stream(self):
        resp = F.chat_completion(tool_calls=[F.Obj(id="call_1", type="function", function=F.Obj(
            name="get_weather", arguments="{\"city\":\"Paris\"}"))])
        c = self.client(lambda kw: resp)
        kwargs = dict(model="gpt-4o-mini", messages=MSGS, temperature=0.2, max_tokens=64,
                      tools=[{"type": "function", "function": {"name": "get_weather"}}])
        sent = copy.deepcopy(kwargs)
        with Capture() as cap:
            r = c.chat.completions.create(**kwargs)
        self.assertIs(r, resp)
        self.assertEqual(c.chat.completions.calls, [sent])  # request untouched
        g = cap.one()
        self.assertEqual((g.model, g.provider, g.response_id, g.response_model),
                         ("gpt-4o-mini", "openai", "chatcmpl-fake-1", "gpt-4o-mini-2024-07-18"))
        self.assertEqual(g.params, {"temperature": 0.2, "max_tokens": 64})
        self.assertEqual(g.input, MSGS)
        self.assertEqual(out_text(g), "Hello!")
        self.assertEqual(g.outputs[0]["tool_calls"][0].function.name, "get_weather")
        self.assertEqual(g.usage, {"input": 20, "output": 5, "cache_read": 8, "reasoning": 2})
        self.assertEqual(g.status, 1)
        self.assertIsNotNone(g.id)

    def test_stream_success_ttft_and_merge(self):
        chunks = [F.chunk([F.cchoice(role="assistant", content="")]),
                  F.chunk([F.cchoice(content="Hel")]), F.chunk([F.cchoice(content="lo")]),
                  F.chunk([F.cchoice(finish="stop")])]
        c = self.client(lambda kw: F.Stream(list(chunks)))
        with Capture() as cap:
            s = c.chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True)
            self.assertIsInstance(s, F.Stream)  # the proxy reports the stream's class
            seen = list(s)
        self.assertEqual(seen, chunks)
        self.assertTrue(all(a is b for a, b in zip(seen, chunks)))
        g = cap.one()
        self.assertEqual(out_text(g), "Hello")
        self.assertEqual(g.outputs[0]["finish_reason"], "stop")
        self.assertEqual(g.usage, {})  # no usage chunk: absent, not 0
        self.assertTrue(0 < g._ttft_ns <= g._end_ns - g._start_ns)
        self.assertEqual(g.status, 1)
        self.assertIs(g.stream, True)

    def test_usage_only_final_chunk_reaches_user(self):
        last = F.chunk([], usage=F.Obj(prompt_tokens=11, completion_tokens=3,
                                       prompt_tokens_details=None,
                                       completion_tokens_details=None))
        chunks = [F.chunk([F.cchoice(content="Hi")]), F.chunk([F.cchoice(finish="stop")]), last]
        c = self.client(lambda kw: F.Stream(list(chunks)))
        kw = dict(model="m", messages=MSGS, stream=True, stream_options={"include_usage": True})
        with Capture() as cap:
            seen = [ch for ch in c.chat.completions.create(**kw)]
        self.assertIs(seen[-1], last)
        self.assertEqual(seen[-1].choices, [])
        self.assertEqual(c.chat.completions.calls[0]["stream_options"], {"include_usage": True})
        self.assertEqual(cap.one().usage, {"input": 11, "output": 3})

    def test_never_injects_stream_options(self):
        c = self.client(lambda kw: F.Stream([F.chunk([F.cchoice(content="x")])]))
        list(c.chat.completions.create(model="m", messages=MSGS, stream=True))
        self.assertNotIn("stream_options", c.chat.completions.calls[0])

    def test_n2_choices_and_split_tool_call(self):
        chunks = [
            F.chunk([F.cchoice(0, content="A1"), F.cchoice(1, content="B1")]),
            F.chunk([F.cchoice(1, tool_calls=[F.tcdelta(0, id="call_9", name="lookup",
                                                        args="{\"q\":")])]),
            F.chunk([F.cchoice(0, content="A2")]),
            F.chunk([F.cchoice(1, tool_calls=[F.tcdelta(0, args=" \"pa")])]),
            F.chunk([F.cchoice(1, tool_calls=[F.tcdelta(0, args="ris\"}")])]),
            F.chunk([F.cchoice(0, finish="stop"), F.cchoice(1, finish="tool_calls")]),
        ]
        c = self.client(lambda kw: F.Stream(list(chunks)))
        with Capture() as cap:
            list(c.chat.completions.create(model="m", messages=MSGS, stream=True, n=2))
        g = cap.one()
        self.assertEqual(len(g.outputs), 2)
        self.assertEqual(out_text(g, 0), "A1A2")
        self.assertEqual(out_text(g, 1), "B1")
        self.assertEqual(g.outputs[1]["tool_calls"], [
            {"id": "call_9", "function": {"name": "lookup", "arguments": "{\"q\": \"paris\"}"}}])
        self.assertEqual([o["finish_reason"] for o in g.outputs], ["stop", "tool_calls"])
        self.assertEqual(g.params, {"n": 2})

    def test_early_break_and_close(self):
        chunks = [F.chunk([F.cchoice(content=str(i))]) for i in range(5)]
        c = self.client(lambda kw: F.Stream(list(chunks)))
        with Capture() as cap:
            for _ch in c.chat.completions.create(model="m", messages=MSGS, stream=True):
                break
            gc.collect()
        g = cap.one()
        self.assertEqual(out_text(g), "0")
        self.assertEqual(g.status, 0)
        self.assertEqual(g.attributes["flywheel.stream.incomplete"], "true")

        with Capture() as cap:
            s = c.chat.completions.create(model="m", messages=MSGS, stream=True)
            next(iter(s))
            s.close()
            s.close()
            del s
            gc.collect()
        self.assertEqual(cap.one().attributes["flywheel.stream.incomplete"], "true")

        with Capture() as cap:
            with c.chat.completions.create(model="m", messages=MSGS, stream=True) as s:
                for _ch in s:
                    pass
        self.assertEqual(cap.one().status, 1)

    def test_sdk_exception_same_object(self):
        err = RuntimeError("rate limited")

        def script(kw):
            raise err
        c = self.client(script)
        with Capture() as cap:
            with self.assertRaises(RuntimeError) as cm:
                c.chat.completions.create(model="m", messages=MSGS)
        self.assertIs(cm.exception, err)
        g = cap.one()
        self.assertEqual((g.status, g.error_type, g.error_message),
                         (2, "RuntimeError", "rate limited"))

    def test_exception_mid_stream(self):
        err = ConnectionError("stream reset")
        chunks = [F.chunk([F.cchoice(content="par")]), F.chunk([F.cchoice(content="tial")])]
        c = self.client(lambda kw: F.Stream(chunks, fail_at=1, exc=err))
        seen = []
        with Capture() as cap:
            with self.assertRaises(ConnectionError) as cm:
                for ch in c.chat.completions.create(model="m", messages=MSGS, stream=True):
                    seen.append(ch)
        self.assertIs(cm.exception, err)
        self.assertEqual(len(seen), 1)
        g = cap.one()
        self.assertEqual((g.status, g.error_type, out_text(g)), (2, "ConnectionError", "par"))

    def test_raw_response_passes_through(self):
        resp = F.chat_completion()
        c = self.client(lambda kw: resp)
        with Capture() as cap:
            raw = c.chat.completions.with_raw_response.create(model="m", messages=MSGS)
        self.assertEqual(raw.headers["x-request-id"], "req_raw")
        self.assertIs(raw.parse(), resp)
        self.assertEqual(cap.gens, [])

    def test_stream_transparency(self):
        c = self.client(lambda kw: F.Stream([F.chunk([F.cchoice(content="x")])]))
        s = c.chat.completions.create(model="m", messages=MSGS, stream=True)
        self.assertIsInstance(s, F.Stream)
        self.assertEqual(s.response.headers["x-request-id"], "req_123")
        s.custom = 5
        self.assertEqual(s.custom, 5)
        list(s)
        self.assertTrue(hasattr(s, "_iterator"))

    def test_telemetry_faults_do_not_reach_the_user(self):
        resp = F.chat_completion()
        chunks = [F.chunk([F.cchoice(content="a")]), F.chunk([F.cchoice(content="b")])]
        c = self.client(lambda kw: F.Stream(list(chunks)) if kw.get("stream") else resp)
        before = flywheel.stats()["binding_errors"]

        def broken(*a, **k):
            raise MemoryError("injected")
        orig = _core._build_and_record
        _core._build_and_record = broken
        try:
            self.assertIs(c.chat.completions.create(model="m", messages=MSGS), resp)
            self.assertEqual(list(c.chat.completions.create(model="m", messages=MSGS,
                                                            stream=True)), chunks)
        finally:
            _core._build_and_record = orig
        orig_add = _wrap._OpenAIAcc.add
        _wrap._OpenAIAcc.add = broken
        try:
            self.assertEqual(list(c.chat.completions.create(model="m", messages=MSGS,
                                                            stream=True)), chunks)
        finally:
            _wrap._OpenAIAcc.add = orig_add
        orig_start = _wrap._openai_start
        _wrap._openai_start = broken
        try:
            c2 = self.client(lambda kw: resp)
            self.assertIs(c2.chat.completions.create(model="m", messages=MSGS), resp)
        finally:
            _wrap._openai_start = orig_start
        self.assertGreaterEqual(flywheel.stats()["binding_errors"] - before, 4)

    def test_unusual_clients_are_returned_unchanged(self):
        for odd in (None, object(), F.Obj(chat=None), 42):
            self.assertIs(flywheel.wrap_openai(odd), odd)
            self.assertIs(flywheel.wrap_anthropic(odd), odd)
        c = self.client(lambda kw: F.chat_completion())
        f = c.chat.completions.create
        self.assertIs(flywheel.wrap_openai(c), c)
        self.assertIs(c.chat.completions.create, f)  # not wrapped twice

    def test_async(self):
        resp = F.chat_completion()
        chunks = [F.chunk([F.cchoice(content="as")]), F.chunk([F.cchoice(content="ync")]),
                  F.chunk([], usage=F.Obj(prompt_tokens=3, completion_tokens=2))]
        c = flywheel.wrap_openai(F.AsyncOpenAI(
            lambda kw: F.AsyncStream(list(chunks)) if kw.get("stream") else resp))
        err = ValueError("bad request")

        async def main():
            with Capture() as cap:
                r = await c.chat.completions.create(model="m", messages=MSGS)
                self.assertIs(r, resp)
                s = await c.chat.completions.create(model="m", messages=MSGS, stream=True)
                self.assertIsInstance(s, F.AsyncStream)
                seen = [ch async for ch in s]
                self.assertEqual(seen, chunks)
                async with await c.chat.completions.create(model="m", messages=MSGS,
                                                           stream=True) as s2:
                    async for _ch in s2:
                        break
                s3 = await c.chat.completions.create(model="m", messages=MSGS, stream=True)
                await s3.__anext__()
                await s3.close()
                self.assertTrue(s3.closed)
            return cap

        cap = run(main())
        self.assertEqual(len(cap.gens), 4)
        self.assertEqual(out_text(cap.gens[0]), "Hello!")
        self.assertEqual(out_text(cap.gens[1]), "async")
        self.assertEqual(cap.gens[1].usage, {"input": 3, "output": 2})
        self.assertEqual(cap.gens[2].attributes.get("flywheel.stream.incomplete"), "true")
        self.assertEqual(cap.gens[3].attributes.get("flywheel.stream.incomplete"), "true")

        def boom(kw):
            raise err
        c2 = flywheel.wrap_openai(F.AsyncOpenAI(boom))

        async def failing():
            with Capture() as cap:
                with self.assertRaises(ValueError) as cm:
                    await c2.chat.completions.create(model="m", messages=MSGS)
                self.assertIs(cm.exception, err)
            return cap
        self.assertEqual(run(failing()).one().error_type, "ValueError")

        c3 = flywheel.wrap_openai(F.AsyncOpenAI(
            lambda kw: F.AsyncStream(list(chunks), fail_at=1, exc=err)))

        async def mid():
            with Capture() as cap:
                s = await c3.chat.completions.create(model="m", messages=MSGS, stream=True)
                with self.assertRaises(ValueError) as cm:
                    async for _ch in s:
                        pass
                self.assertIs(cm.exception, err)
            return cap
        g = run(mid()).one()
        self.assertEqual((g.status, out_text(g)), (2, "as"))


class AnthropicTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        support.init_flywheel(support.unique("fwt_py_wrap_a"))

    @classmethod
    def tearDownClass(cls):
        flywheel.shutdown(5)

    def test_non_stream_tool_use_and_cache_usage(self):
        msg = F.message(content=[F.Obj(type="text", text="Checking."),
                                 F.Obj(type="tool_use", id="toolu_1", name="get_weather",
                                       input={"city": "Paris"})], stop="tool_use")
        c = flywheel.wrap_anthropic(F.Anthropic(lambda kw: msg))
        kw = dict(model="claude-3-5-sonnet-latest", max_tokens=100, system="Be brief.",
                  messages=[{"role": "user", "content": "Weather?"}], top_k=5)
        with Capture() as cap:
            self.assertIs(c.messages.create(**kw), msg)
        g = cap.one()
        self.assertEqual((g.provider, g.system, g.response_id), ("anthropic", "Be brief.",
                                                                  "msg_fake_1"))
        self.assertEqual(g.params, {"max_tokens": 100, "top_k": 5})
        self.assertEqual(g.usage, {"input": 135, "output": 12, "cache_read": 100,
                                   "cache_creation": 5})
        role, _n, parts, fr = _core._message(g.outputs[0], "assistant")
        self.assertEqual(parts, [("text", "Checking."),
                                 ("tool_call", "toolu_1", "get_weather", "{\"city\": \"Paris\"}")])
        self.assertEqual(fr, "tool_use")

    def test_stream_events(self):
        events = F.anthropic_events()
        c = flywheel.wrap_anthropic(F.Anthropic(lambda kw: F.Stream(list(events))))
        with Capture() as cap:
            seen = list(c.messages.create(model="claude", max_tokens=10, stream=True,
                                          messages=[{"role": "user", "content": "hi"}]))
        self.assertEqual(seen, events)
        g = cap.one()
        _r, _n, parts, fr = _core._message(g.outputs[0], "assistant")
        self.assertEqual(parts, [("text", "Let me check."),
                                 ("tool_call", "toolu_1", "get_weather", "{\"city\": \"Paris\"}")])
        self.assertEqual(fr, "tool_use")
        self.assertEqual(g.usage, {"input": 25, "output": 33})
        self.assertIsNotNone(g._ttft_ns)

    def test_stream_helper(self):
        c = flywheel.wrap_anthropic(F.Anthropic(lambda kw: F.anthropic_events()))
        with Capture() as cap:
            with c.messages.stream(model="claude", max_tokens=10,
                                   messages=[{"role": "user", "content": "hi"}]) as s:
                self.assertIsInstance(s, F.MessageStream)
                text = "".join(s.text_stream)
        self.assertEqual(text, "Let me check.")
        g = cap.one()
        self.assertEqual(g.outputs[0]["content"][0].text, "Let me check.")
        self.assertEqual(g.outputs[0]["finish_reason"], "tool_use")

        with Capture() as cap:
            with c.messages.stream(model="claude", max_tokens=10,
                                   messages=[{"role": "user", "content": "hi"}]) as s:
                evs = [e.type for e in s]
        self.assertEqual(evs[0], "message_start")
        self.assertEqual(cap.one().usage, {"input": 25, "output": 33})

    def test_async_stream_and_error(self):
        err = TimeoutError("overloaded")
        events = F.anthropic_events()

        def script(kw):
            if kw.get("model") == "fail":
                raise err
            return F.AsyncStream(list(events))
        c = flywheel.wrap_anthropic(F.AsyncAnthropic(script))

        async def main():
            with Capture() as cap:
                s = await c.messages.create(model="claude", max_tokens=5, stream=True,
                                            messages=[{"role": "user", "content": "x"}])
                seen = [e async for e in s]
                self.assertEqual(seen, events)
                with self.assertRaises(TimeoutError) as cm:
                    await c.messages.create(model="fail", max_tokens=5, messages=[])
                self.assertIs(cm.exception, err)
            return cap
        cap = run(main())
        self.assertEqual(len(cap.gens), 2)
        self.assertEqual(cap.gens[0].usage, {"input": 25, "output": 33})
        self.assertEqual(cap.gens[1].error_type, "TimeoutError")


class DisabledTest(unittest.TestCase):
    def test_no_agent_means_pass_through(self):
        flywheel.shutdown(1)
        resp = F.chat_completion()
        c = flywheel.wrap_openai(F.OpenAI(lambda kw: resp))
        with Capture() as cap:
            self.assertIs(c.chat.completions.create(model="m", messages=MSGS), resp)
            with flywheel.generation(model="m") as g:
                pass
        self.assertEqual(cap.gens, [])
        self.assertIsNone(g.id)
        self.assertIsNone(flywheel.feedback("01a251bf-a3e1-7e53-8339-fa6fc744aa2c",
                                            thumbs=True))
        self.assertFalse(flywheel.flush(0.1))
        self.assertEqual(flywheel.stats(), {})

    def test_missing_library(self):
        flywheel.shutdown(1)
        saved = _core._st.lib
        _core._st.lib = None
        try:
            with self.assertLogs("flywheel", "WARNING"):
                self.assertFalse(flywheel.init(lib_path="/nonexistent/libflywheel.so.0",
                                               bootstrap_servers="127.0.0.1:1"))
            with self.assertRaises(flywheel.FlywheelError):
                flywheel.init(lib_path="/nonexistent/libflywheel.so.0", strict=True,
                              bootstrap_servers="127.0.0.1:1")
        finally:
            _core._st.lib = saved
        resp = F.chat_completion()
        c = flywheel.wrap_openai(F.OpenAI(lambda kw: resp))
        self.assertIs(c.chat.completions.create(model="m", messages=MSGS), resp)

    def test_bad_config_is_reported(self):
        with self.assertLogs("flywheel", "WARNING") as cm:
            self.assertFalse(flywheel.init(bootstrap_servers="127.0.0.1:1",
                                           config={"queue.full_policy": "sometimes"}))
        self.assertIn("queue.full_policy", "\n".join(cm.output))


if __name__ == "__main__":
    unittest.main()
