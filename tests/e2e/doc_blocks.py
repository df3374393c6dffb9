#!/usr/bin/env python3
"""Prints the fenced code block that follows `<!-- runs: NAME -->` in a
markdown file, so a test runs the docs' examples exactly as written (the
docs and the test cannot drift). Exits 1 when the marker or its block is
missing.

    doc_blocks.py FILE NAME
"""
import re
import sys


def block(path, name):
    text = open(path, encoding="utf-8").read()
    marker = re.search(r"<!--\s*runs:\s*" + re.escape(name) + r"\s*-->\s*\n", text)
    if not marker:
        return None
    fence = re.match(r"```[a-z]*\n(.*?)\n```", text[marker.end():], re.S)
    return fence.group(1) + "\n" if fence else None


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: doc_blocks.py FILE NAME")
    body = block(sys.argv[1], sys.argv[2])
    if body is None:
        sys.exit(f"doc_blocks.py: no code block marked 'runs: {sys.argv[2]}' in {sys.argv[1]}")
    sys.stdout.write(body)
