"""A Python process records generations and feedback through the package;
the dev broker and a real collector carry them into PostgreSQL, and every
field of every row equals what was sent: non-ASCII text, tool calls and
their responses, embedded NULs (removed, as libflywheel documents: the
store's text cannot hold NUL, and nothing after a NUL is lost), 1 MiB of
content, absent usage stored as NULL, an exception recorded and re-raised,
every feedback kind.
"""
import datetime
import json
import unittest

import support


def ts_us(row_value: str) -> int:
    """A timestamptz from row_to_json as Unix microseconds."""
    return int(datetime.datetime.fromisoformat(row_value).timestamp() * 1_000_000 + 0.5)


class Boom(Exception):
    pass


class StoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.store = support.Store("store")
        cls.fw = support.init_flywheel(cls.store.topic, max_event_bytes=4 << 20,
                                       **{"kafka.message.max.bytes": 8_000_000})

    @classmethod
    def tearDownClass(cls):
        cls.fw.shutdown(10)
        cls.store.close()

    def test_rows_equal_what_was_sent(self):
        fw = self.fw
        text_intl = "Grüße aus Köln — 東京の天気は？ 🚀 مرحبا ✓"
        tools = [{"type": "function", "function": {"name": "get_weather",
                                                    "parameters": {"type": "object"}}}]
        msgs = [
            {"role": "system", "content": "Answer briefly. Réponds en français si besoin."},
            {"role": "user", "content": text_intl, "name": "alice"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": "get_weather", "arguments": "{\"city\": \"東京\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 21, \"sky\": \"☀\"}"},
        ]
        with fw.context(conversation_id="conv-ü-1", session_id="sess-1", user_id="user-ß",
                        tags=["py", "ünï"], attributes={"region": "eu-west-1"}):
            with fw.context(tags=["inner"]):
                with fw.generation(model="gpt-4o-mini", provider="openai", input=msgs,
                                   tools=tools, params={"temperature": 0.25, "max_tokens": 256,
                                                        "stop": ["END", "STOP"], "seed": 7,
                                                        "response_format": {"type": "text"}},
                                   prompt_name="weather", prompt_version="v3",
                                   prompt_variables={"city": "東京"}, stream=True) as g1:
                    g1.first_token()
                    g1.add_output("It is 21 °C and sunny in 東京 ☀", finish_reason="tool_calls",
                                  tool_calls=[{"id": "call_2", "function": {
                                      "name": "get_forecast", "arguments": "{\"days\": 3}"}}],
                                  reasoning="The tool said 21.")
                    g1.set_usage(input_tokens=812, output_tokens=40, cache_read_input_tokens=512)
                    g1.set_cost(0.001234)
                    g1.response_id = "chatcmpl-py-1"
                    g1.response_model = "gpt-4o-mini-2024-07-18"
        self.assertIsNotNone(g1.id)

        nul_text = "before\x00after\x00end"
        with fw.generation(model="m\x00odel", input=[{"role": "user", "content": nul_text}],
                           user_id="u\x00ser") as g2:
            g2.set_output("out\x00put")

        big = ("ü" * 262144) * 2  # 524288 characters, 1 MiB of UTF-8
        self.assertEqual(len(big.encode()), 1 << 20)
        with fw.generation(model="big", input=big) as g3:
            g3.set_output("ok")

        err = Boom("the model is down: 503 ✗")
        with self.assertRaises(Boom) as cm:
            with fw.generation(model="gpt-4o", input="hello") as g4:
                raise err
        self.assertIs(cm.exception, err)
        self.assertIsNotNone(g4.id)

        fb = {
            "thumbs": fw.feedback(g1.id, thumbs=True, comment="great ✓", author_id="alice"),
            "score": fw.feedback(g1.id, score=4.5, name="rating", source="model_judge"),
            "category": fw.feedback(g2.id, category="resolved", source="automated"),
            "comment": fw.feedback(g3.id, comment="too long 😅"),
            "correction": fw.feedback(g4.id, correction="The service is back: try again.",
                                      source="reviewer", author_id="rev-1"),
            "by_response": fw.feedback(response_id="chatcmpl-py-1", thumbs=False),
        }
        for k, v in fb.items():
            self.assertIsNotNone(v, k)
        self.assertTrue(fw.flush(30))

        st = self.store
        st.wait_count("generations", 4, timeout=90)
        st.wait_count("feedback", 6, timeout=90)
        rows = {r["event_id"]: r for r in st.rows("generations")}

        r1 = rows[g1.id]
        self.assertEqual(r1["project"], "pytest")
        self.assertEqual(r1["sdk_name"], "libflywheel")
        self.assertEqual(r1["conversation_id"], "conv-ü-1")
        self.assertEqual(r1["session_id"], "sess-1")
        self.assertEqual(r1["user_id"], "user-ß")
        self.assertEqual(r1["tags"], ["py", "ünï", "inner"])
        self.assertEqual(r1["attributes"], {"region": "eu-west-1"})
        self.assertEqual(r1["operation_name"], "chat")
        self.assertEqual(r1["provider_name"], "openai")
        self.assertEqual(r1["request_model"], "gpt-4o-mini")
        self.assertEqual(r1["response_model"], "gpt-4o-mini-2024-07-18")
        self.assertEqual(r1["response_id"], "chatcmpl-py-1")
        rp = r1["request_params"]
        self.assertEqual(rp["temperature"], 0.25)
        self.assertEqual(rp["max_tokens"], 256)
        self.assertEqual(rp["seed"], 7)
        self.assertEqual(rp["stop_sequences"], ["END", "STOP"])
        self.assertEqual(rp["stream"], True)
        self.assertEqual(r1["tool_definitions"], tools)
        self.assertEqual(r1["input_messages"], [
            {"role": "system", "parts": [{"type": "text", "content": msgs[0]["content"]}]},
            {"role": "user", "name": "alice", "parts": [{"type": "text", "content": text_intl}]},
            {"role": "assistant", "parts": [{"type": "tool_call", "id": "call_1",
                                             "name": "get_weather",
                                             "arguments": {"city": "東京"}}]},
            {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1",
                                        "response": {"temp": 21, "sky": "☀"}}]},
        ])
        self.assertEqual(r1["output_messages"], [
            {"role": "assistant", "parts": [
                {"type": "reasoning", "content": "The tool said 21."},
                {"type": "text", "content": "It is 21 °C and sunny in 東京 ☀"},
                {"type": "tool_call", "id": "call_2", "name": "get_forecast",
                 "arguments": {"days": 3}}], "finish_reason": "tool_calls"}])
        self.assertEqual(r1["finish_reasons"], ["tool_calls"])
        self.assertEqual(r1["input_tokens"], 812)
        self.assertEqual(r1["output_tokens"], 40)
        self.assertEqual(r1["cache_read_input_tokens"], 512)
        self.assertIsNone(r1["cache_creation_input_tokens"])  # absent, not 0
        self.assertIsNone(r1["reasoning_output_tokens"])
        self.assertEqual(r1["cost_micro_usd"], 1234)
        self.assertEqual(ts_us(r1["start_time"]), g1._start_ns // 1000)
        self.assertEqual(ts_us(r1["end_time"]), g1._end_ns // 1000)
        self.assertAlmostEqual(r1["ttft_ms"], g1._ttft_ns / 1e6, places=3)
        self.assertEqual(r1["status"], "ok")
        self.assertIsNone(r1["error_type"])
        self.assertEqual(r1["prompt_template"], "weather")
        self.assertEqual(r1["prompt_version"], "v3")
        self.assertEqual(r1["prompt_variables"], {"city": "東京"})
        self.assertEqual(r1["truncated"], [])

        r2 = rows[g2.id]
        self.assertEqual(r2["input_messages"][0]["parts"][0]["content"], "beforeafterend")
        self.assertEqual(r2["output_messages"][0]["parts"][0]["content"], "output")
        self.assertEqual(r2["request_model"], "model")
        self.assertEqual(r2["user_id"], "user")
        self.assertIsNone(r2["input_tokens"])

        r3 = rows[g3.id]
        self.assertEqual(r3["input_messages"],
                         [{"role": "user", "parts": [{"type": "text", "content": big}]}])
        self.assertEqual(r3["truncated"], [])

        r4 = rows[g4.id]
        self.assertEqual(r4["status"], "error")
        self.assertEqual(r4["error_type"], "Boom")
        self.assertEqual(r4["error_message"], "the model is down: 503 ✗")
        self.assertEqual(r4["output_messages"], [])

        f = {r["event_id"]: r for r in st.rows("feedback")}
        t = f[fb["thumbs"]]
        self.assertEqual((t["target_event_id"], t["name"], t["value_type"], t["bool_value"],
                          t["comment"], t["author_id"], t["source"]),
                         (g1.id, "thumbs", "bool", True, "great ✓", "alice", "end_user"))
        s = f[fb["score"]]
        self.assertEqual((s["target_event_id"], s["name"], s["value_type"], s["number_value"],
                          s["source"]), (g1.id, "rating", "number", 4.5, "model_judge"))
        c = f[fb["category"]]
        self.assertEqual((c["target_event_id"], c["name"], c["value_type"], c["category_value"],
                          c["source"]), (g2.id, "category", "category", "resolved", "automated"))
        m = f[fb["comment"]]
        self.assertEqual((m["target_event_id"], m["name"], m["value_type"], m["comment"]),
                         (g3.id, "comment", "none", "too long 😅"))
        k = f[fb["correction"]]
        self.assertEqual((k["target_event_id"], k["name"], k["source"], k["author_id"]),
                         (g4.id, "correction", "reviewer", "rev-1"))
        self.assertEqual(k["correction"], [{"role": "assistant", "parts": [
            {"type": "text", "content": "The service is back: try again."}]}])
        b = f[fb["by_response"]]
        self.assertEqual((b["target_response_id"], b["bool_value"], b["target_event_id"]),
                         ("chatcmpl-py-1", False, None))

        s = fw.stats()
        self.assertEqual(s["recorded"], 10)
        self.assertEqual(s["delivered"], 10)
        self.assertEqual(s["dropped"], 0)
        self.assertEqual(s["binding_errors"], 0)
        self.assertEqual(st.count("dead_letters"), 0)


if __name__ == "__main__":
    unittest.main()
