#!/usr/bin/env python3
"""Stands in for human reviewers in the quick start.

    auto_label.py --flywheel PATH --queue NAME --labels N REVIEWER...

For each reviewer, up to N times: `flywheel review claim --json`, a label for
the answer-quality rubric, `flywheel review submit`. It stops for a reviewer
when the queue has nothing left for them. The "reviewer" knows two facts the
demo model sometimes gets wrong (the X200 warranty is 2 years, not 3) and
prefers short answers; the second reviewer is a little stricter about style,
so the two sometimes disagree and agreement statistics have something to show.

One process for the whole loop: on a busy machine starting an interpreter per
label cost more than the labelling itself.
"""
import argparse
import json
import subprocess
import sys


def label_for(reviewer, item):
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
    if not text:  # an error: nothing was answered
        return {"correct": False, "score": 1}
    if "3-year warranty" in text:
        start = text.find("3-year warranty")
        return {
            "correct": False,
            "score": 2,
            "issues": [{"message": mi, "part": pi, "start": start,
                        "end": start + len("3-year warranty"), "category": "factual error"}],
            "corrected": [{"role": "assistant", "parts": [{"type": "text", "content":
                           "The X200 headphones have a 2-year warranty covering manufacturing defects."}]}],
        }
    if len(text) > 110 and reviewer == "bob":
        return {"correct": True, "score": 3,
                "issues": [{"message": mi, "part": pi, "start": 0, "end": len(text), "category": "style"}]}
    return {"correct": True, "score": 5 if len(text) < 80 else 4}


def main():
    ap = argparse.ArgumentParser(description="label a review queue as stand-in reviewers")
    ap.add_argument("--flywheel", required=True, help="path of the flywheel program")
    ap.add_argument("--queue", required=True)
    ap.add_argument("--labels", type=int, required=True, help="labels per reviewer at most")
    ap.add_argument("reviewers", nargs="+")
    args = ap.parse_args()
    labelled = 0
    for reviewer in args.reviewers:
        for _ in range(args.labels):
            claim = subprocess.run([args.flywheel, "review", "claim", "--queue", args.queue,
                                    "--as", reviewer, "--json"], capture_output=True, text=True)
            if claim.returncode != 0:
                break  # nothing left to claim for this reviewer
            item = json.loads(claim.stdout)
            submit = subprocess.run([args.flywheel, "review", "submit", "--item", str(item["item_id"]),
                                     "--as", reviewer, "--json", "-"],
                                    input=json.dumps(label_for(reviewer, item)), text=True,
                                    stdout=subprocess.DEVNULL)
            if submit.returncode != 0:
                sys.exit(f"auto_label: flywheel review submit failed for item {item['item_id']} "
                         f"as {reviewer} (exit status {submit.returncode})")
            labelled += 1
    print(f"{labelled} labels submitted", file=sys.stderr)


if __name__ == "__main__":
    main()
