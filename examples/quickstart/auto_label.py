#!/usr/bin/env python3
"""Labels one claimed item for the quick start, standing in for a human.

Reads `flywheel review claim --json` output on stdin and writes a label for
the answer-quality rubric on stdout. The "reviewer" knows two facts the demo
model sometimes gets wrong (the X200 warranty is 2 years, not 3) and prefers
short answers; the second reviewer is a little stricter about style, so the
two sometimes disagree and agreement statistics have something to show.
"""
import json
import sys

reviewer = sys.argv[1] if len(sys.argv) > 1 else "alice"
item = json.load(sys.stdin)
gen = item.get("generation", {})
outputs = gen.get("output_messages") or []
text, mi, pi = "", 0, 0
for i, m in enumerate(outputs):
    for j, p in enumerate(m.get("parts", [])):
        if p.get("type") == "text":
            text, mi, pi = p.get("content", ""), i, j
            break
    if text:
        break

label = {}
if not text:  # an error: nothing was answered
    label = {"correct": False, "score": 1}
elif "3-year warranty" in text:
    start = text.find("3-year warranty")
    label = {
        "correct": False,
        "score": 2,
        "issues": [{"message": mi, "part": pi, "start": start,
                    "end": start + len("3-year warranty"), "category": "factual error"}],
        "corrected": [{"role": "assistant", "parts": [{"type": "text", "content":
                       "The X200 headphones have a 2-year warranty covering manufacturing defects."}]}],
    }
elif len(text) > 110 and reviewer == "bob":
    label = {"correct": True, "score": 3,
             "issues": [{"message": mi, "part": pi, "start": 0, "end": len(text), "category": "style"}]}
else:
    label = {"correct": True, "score": 5 if len(text) < 80 else 4}
json.dump(label, sys.stdout)
