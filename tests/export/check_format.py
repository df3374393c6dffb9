#!/usr/bin/env python3
"""Independent format checker for flywheel export output (standard library only).

Written separately from the exporter's validator (store/src/export_check.c) so that a
bug in one is not repeated in the other. Usage:

    check_format.py FORMAT FILE...     FORMAT: openai-chat preference trl eval
                                       classifier reward
Checks that every line is one JSON object in the target format, and across
all the files given that no two lines have the same whitespace-normalised
content (dedupe across splits). Exits 1 with the first problems listed.
"""
import json
import re
import sys

ROLES = {"system", "user", "assistant", "tool"}


class Bad(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise Bad(msg)


def nonempty_str(v):
    return isinstance(v, str) and v != ""


def check_tool_call(c):
    need(isinstance(c, dict), "tool call is not an object")
    need(nonempty_str(c.get("id")), "tool call without id")
    need(c.get("type") == "function", "tool call type is not function")
    fn = c.get("function")
    need(isinstance(fn, dict) and nonempty_str(fn.get("name")), "tool call without name")
    args = fn.get("arguments")
    need(isinstance(args, str), "tool call arguments are not a string")
    try:
        json.loads(args)
    except ValueError:
        raise Bad("tool call arguments are not valid JSON")


def check_assistant(m):
    calls = m.get("tool_calls", [])
    need(isinstance(calls, list), "tool_calls is not a list")
    need(nonempty_str(m.get("content")) or len(calls) > 0, "assistant message is empty")
    for c in calls:
        check_tool_call(c)
    return [c["id"] for c in calls]


def check_chat(msgs, assistant_last):
    need(isinstance(msgs, list) and msgs, "messages is not a non-empty list")
    pending = []
    for i, m in enumerate(msgs):
        need(isinstance(m, dict), "message is not an object")
        role = m.get("role")
        need(role in ROLES, "bad role %r" % role)
        if "weight" in m:
            need(m["weight"] in (0, 1) and role == "assistant", "bad weight")
        if role == "system":
            need(i == 0, "system message not first")
            need(nonempty_str(m.get("content")), "empty system message")
        elif role == "user":
            need(not pending, "tool call not answered before user message")
            need(nonempty_str(m.get("content")), "empty user message")
        elif role == "assistant":
            need(not pending, "tool call not answered before assistant message")
            pending = check_assistant(m)
        else:
            tid = m.get("tool_call_id")
            need(tid in pending, "tool message %r answers no pending call" % tid)
            pending.remove(tid)
            need(isinstance(m.get("content"), str), "tool content is not a string")
    first = [m["role"] for m in msgs if m["role"] != "system"]
    need(first and first[0] == "user", "first non-system message is not user")
    if assistant_last:
        need(msgs[-1]["role"] == "assistant", "last message is not assistant")


def check_outputs(out):
    need(isinstance(out, list) and out, "output is not a non-empty list")
    for m in out:
        need(isinstance(m, dict) and m.get("role") == "assistant", "output message is not assistant")
        check_assistant(m)


def check_tools(t):
    need(isinstance(t, list), "tools is not a list")
    for x in t:
        need(x.get("type") == "function" and nonempty_str(x.get("function", {}).get("name")),
             "bad tool definition")


def only_keys(o, allowed):
    extra = set(o) - set(allowed)
    need(not extra, "unexpected keys %s" % sorted(extra))


def check_line(fmt, o):
    need(isinstance(o, dict), "line is not an object")
    if fmt == "openai-chat":
        only_keys(o, ["messages", "tools"])
        check_chat(o["messages"], True)
        if "tools" in o:
            check_tools(o["tools"])
        return {"messages": o["messages"], "tools": o.get("tools")}
    if fmt == "preference":
        only_keys(o, ["input", "preferred_output", "non_preferred_output"])
        check_chat(o["input"]["messages"], False)
        need(o["input"]["messages"][-1]["role"] != "assistant", "prompt ends with assistant")
        check_outputs(o["preferred_output"])
        check_outputs(o["non_preferred_output"])
        need(o["preferred_output"] != o["non_preferred_output"], "identical pair")
        return o
    if fmt == "trl":
        only_keys(o, ["prompt", "chosen", "rejected", "tools"])
        check_chat(o["prompt"], False)
        if "tools" in o:
            check_tools(o["tools"])
        check_outputs(o["chosen"])
        check_outputs(o["rejected"])
        return o
    if fmt == "eval":
        only_keys(o, ["id", "input", "ideal", "expected", "labels", "metadata"])
        need(nonempty_str(o.get("id")), "eval line without id")
        check_chat(o["input"]["messages"], False)
        check_outputs(o["expected"])
        need(isinstance(o.get("labels"), dict), "labels is not an object")
        need(isinstance(o.get("metadata"), dict) and o["metadata"].get("event_id") == o["id"],
             "metadata.event_id differs from id")
        if "ideal" in o:
            need(o["ideal"] == o["expected"][-1].get("content"), "ideal differs from expected")
        return {"input": o["input"], "expected": o["expected"]}
    if fmt == "classifier":
        only_keys(o, ["text", "label", "event_id", "message", "part", "start", "end", "context"])
        need(nonempty_str(o.get("text")) and nonempty_str(o.get("label")), "empty text or label")
        need(isinstance(o["start"], int) and isinstance(o["end"], int) and 0 <= o["start"] < o["end"],
             "bad range")
        need(len(o["text"]) == o["end"] - o["start"], "text length differs from its range")
        return {"text": o["text"], "label": o["label"]}
    if fmt == "reward":
        only_keys(o, ["id", "messages", "tools", "score", "field"])
        check_chat(o["messages"], True)
        need(isinstance(o.get("score"), (int, float, bool)), "score is not a number or boolean")
        return {"messages": o["messages"], "tools": o.get("tools"), "score": o["score"]}
    raise Bad("unknown format %s" % fmt)


def normalise(v):
    if isinstance(v, str):
        return re.sub(r"[ \t\n\r\f\v]+", " ", v).strip(" ")
    if isinstance(v, list):
        return [normalise(x) for x in v]
    if isinstance(v, dict):
        return {k: normalise(x) for k, x in v.items()}
    return v


def main():
    fmt, files = sys.argv[1], sys.argv[2:]
    problems, seen, n = [], {}, 0
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        need_nl = data == b"" or data.endswith(b"\n")
        if not need_nl:
            problems.append("%s: does not end with a newline" % path)
        for no, raw in enumerate(data.decode("utf-8").splitlines(), 1):
            n += 1
            try:
                o = json.loads(raw)
                content = check_line(fmt, o)
            except (ValueError, Bad, KeyError, TypeError, AttributeError, IndexError) as e:
                problems.append("%s:%d: %s" % (path, no, e))
                continue
            key = json.dumps(normalise(content), sort_keys=True, ensure_ascii=False)
            if key in seen:
                problems.append("%s:%d: duplicate of %s" % (path, no, seen[key]))
            seen[key] = "%s:%d" % (path, no)
    if problems:
        print("\n".join(problems[:20]), file=sys.stderr)
        sys.exit(1)
    print("%s: %d lines ok" % (fmt, n))


if __name__ == "__main__":
    main()
