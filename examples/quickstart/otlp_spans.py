#!/usr/bin/env python3
"""Prints an OTLP/JSON trace export like the one an app instrumented with
OpenTelemetry's GenAI conventions sends: an HTTP server span and three chat
spans under it (one with a tool call), with fresh trace and span ids. Used by
scripts/quickstart; see docs/otlp.md."""
import json
import os
import time

trace = os.urandom(16).hex()
root = os.urandom(8).hex()
now = time.time_ns()


def attr(key, value):
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": value}}


def chat(i, question, output, finish):
    start = now + i * 2_000_000_000
    return {
        "traceId": trace, "spanId": os.urandom(8).hex(), "parentSpanId": root,
        "name": "chat gpt-4o-mini", "kind": 3,
        "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 900_000_000),
        "attributes": [
            attr("gen_ai.operation.name", "chat"), attr("gen_ai.provider.name", "openai"),
            attr("gen_ai.request.model", "gpt-4o-mini"), attr("gen_ai.request.temperature", 0.2),
            attr("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
            attr("gen_ai.usage.input_tokens", 42 + i), attr("gen_ai.usage.output_tokens", 17),
            attr("gen_ai.input.messages", json.dumps([
                {"role": "system", "parts": [{"type": "text", "content": "You are a support agent."}]},
                {"role": "user", "parts": [{"type": "text", "content": question}]}])),
            attr("gen_ai.output.messages", json.dumps([
                {"role": "assistant", "finish_reason": finish, "parts": output}])),
        ],
        "status": {"code": 1},
    }


spans = [
    {"traceId": trace, "spanId": root, "name": "POST /support/chat", "kind": 2,
     "startTimeUnixNano": str(now - 100_000_000), "endTimeUnixNano": str(now + 7_000_000_000),
     "attributes": [attr("http.request.method", "POST")]},
    chat(0, "How do I reset my password?", [{"type": "text", "content":
         "Open Settings > Security and choose Reset password."}], "stop"),
    chat(1, "Is the service down in Paris?", [{"type": "tool_call", "id": "call_1",
         "name": "service_status", "arguments": {"city": "Paris"}}], "tool_call"),
    chat(2, "Thanks!", [{"type": "text", "content": "You are welcome."}], "stop"),
]
print(json.dumps({"resourceSpans": [{
    "resource": {"attributes": [attr("service.name", "quickstart-otel-app"),
                                attr("service.version", "1.0.0"),
                                attr("deployment.environment.name", "dev")]},
    "scopeSpans": [{"scope": {"name": "quickstart"}, "spans": spans}]}]}))
