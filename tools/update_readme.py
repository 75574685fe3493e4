"""Regenerate the rule-kind reference in README.md from the code (python tools/update_readme.py).

tests/test_docs.py fails when README.md is out of date, so that the reference never drifts.
"""

from __future__ import annotations

import sys
from pathlib import Path

from csqa.rules.docs import reference_markdown

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- rule-kinds:start -->", "<!-- rule-kinds:end -->"


def updated(text: str) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{reference_markdown()}\n{END}{tail}"


if __name__ == "__main__":
    new = updated(README.read_text(encoding="utf-8"))
    README.write_text(new, encoding="utf-8")
    sys.stdout.write("README.md rule-kind reference updated\n")
