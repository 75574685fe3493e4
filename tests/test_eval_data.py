"""The shape of the judgement-quality development set (tests/eval/lines.yaml, `make eval`):
every category has its minimum number of lines in each split, no text is there twice (even
after folding punctuation, width and script), and the dev and test splits share nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from csqa.matching import fold

LINES = Path(__file__).parent / "eval" / "lines.yaml"
# Issue #16: each hostile category >= 40 lines, each new line-level norm >= 25, polite >= 200,
# openings and closings >= 60; half of each in a split (rounded down).
MIN_PER_SPLIT = {
    "blame": 20, "arrogant": 20, "command": 20, "shirk": 20, "abuse": 20, "argue": 20,
    "but": 12, "vague": 12, "chitchat": 12, "address": 12,
    "polite": 100, "opening": 15, "closing": 15,
}
KINDS = {"hostile", "norm", "polite", "opening", "closing"}
SLOTS = {"anything_else", "satisfaction", "farewell"}
FIELDS = {"text", "category", "split", "variant", "replaces", "note"}


@pytest.fixture(scope="module")
def data() -> dict:
    return yaml.safe_load(LINES.read_text(encoding="utf-8"))


def test_categories_are_the_expected_ones(data: dict) -> None:
    cats = data["categories"]
    assert set(cats) == set(MIN_PER_SPLIT)
    for name, spec in cats.items():
        assert spec["kind"] in KINDS, name
        assert spec["title"].strip(), name
        assert ("rule" in spec) == (spec["kind"] in ("hostile", "norm")), name


def test_every_line_is_well_formed(data: dict) -> None:
    for line in data["lines"]:
        assert set(line) <= FIELDS, line
        assert isinstance(line["text"], str) and line["text"].strip(), line
        assert line["text"] == line["text"].strip(), line
        assert line["category"] in data["categories"], line
        assert line["split"] in ("dev", "test"), line
        assert line["variant"] in ("plain", "asr"), line
        if line["category"] == "closing":
            assert line.get("replaces") in SLOTS, line
        else:
            assert "replaces" not in line, line


def test_each_category_has_its_minimum_in_each_split(data: dict) -> None:
    counts = Counter((line["category"], line["split"]) for line in data["lines"])
    short = {(cat, split): counts[(cat, split)] for cat, least in MIN_PER_SPLIT.items()
             for split in ("dev", "test") if counts[(cat, split)] < least}
    assert short == {}
    for split in ("dev", "test"):
        assert counts[("opening", split)] + counts[("closing", split)] >= 30


def test_about_a_third_of_each_category_is_asr_style(data: dict) -> None:
    for cat in data["categories"]:
        mine = [line for line in data["lines"] if line["category"] == cat]
        asr = sum(line["variant"] == "asr" for line in mine)
        assert 0.25 <= asr / len(mine) <= 0.5, (cat, asr, len(mine))


def test_no_text_twice_and_splits_disjoint(data: dict) -> None:
    texts = Counter(line["text"] for line in data["lines"])
    assert [t for t, n in texts.items() if n > 1] == []
    by_folded: dict[str, set[str]] = {}
    for line in data["lines"]:
        by_folded.setdefault(fold(line["text"]), set()).add(line["split"])
    folded_twice = Counter(fold(line["text"]) for line in data["lines"])
    assert [t for t, n in folded_twice.items() if n > 1] == []
    assert [t for t, splits in by_folded.items() if len(splits) > 1] == []
