"""Tolerant matching: edit budgets scaled to phrase length, homophones, the n-gram pre-filter."""

from __future__ import annotations

import random

import pytest

from csqa.tolerant import TolerantIndex, closest, max_edits, to_pinyin_space


@pytest.mark.parametrize(("length", "edits"),
                         [(2, 0), (4, 0), (5, 1), (7, 1), (9, 1), (10, 2), (14, 2), (15, 3)])
def test_edit_budget_scales_with_length(length: int, edits: int) -> None:
    assert max_edits(length, 0.8) == edits


def test_homophones_share_a_symbol() -> None:
    for a, b in ("在再", "已以", "帐账", "门们"):
        assert to_pinyin_space(a) == to_pinyin_space(b)
    assert to_pinyin_space("您") != to_pinyin_space("你")
    assert to_pinyin_space("ab1") == "ab1"  # non-Han characters stay themselves


def _index(space: str, phrases: list[str], similarity: float = 0.8) -> TolerantIndex:
    index = TolerantIndex(space)
    index.add(0, [(p, p) for p in phrases], similarity)
    index.build()
    return index


def test_fuzzy_finds_dropped_character_with_similarity() -> None:
    [hit] = _index("fuzzy", ["很高兴为您服务"]).scan("您好很高兴您服务")[0]
    assert (hit.start, hit.end, hit.similarity) == (2, 8, 0.86)


def test_fuzzy_occurrences_do_not_overlap() -> None:
    hits = _index("fuzzy", ["这不是我们的责任"]).scan("这不是我们的责任这不是我们责任")[0]
    assert [(h.start, h.end) for h in hits] == [(0, 8), (8, 15)]


def test_short_phrases_need_every_character() -> None:
    assert _index("fuzzy", ["我不清楚"]).scan("我不太清楚") == {}
    assert _index("pinyin", ["不归我管"]).scan("不关你管") == {}


def test_prefilter_aligns_only_phrases_sharing_enough_bigrams() -> None:
    rng = random.Random(9)
    alphabet = ("的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着"
                "去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主"
                "行方又如前所本见经头面公同三已老从动两长")
    phrases = ["".join(rng.choice(alphabet) for _ in range(rng.randint(5, 12))) for _ in range(500)]
    index = _index("fuzzy", [*phrases, "感谢您的来电"])
    candidates = index._candidates("好的感谢您来电祝您生活愉快")
    assert len(index._entries) - 1 in candidates
    assert len(candidates) <= 5  # not a loop over 501 phrases


def test_closest_reports_best_stretch_and_skips_short_phrases() -> None:
    near = closest([("感谢您的来电", "感谢您的来电"), ("再见", "再见")], "好的感谢您的支持拜拜")
    assert near is not None
    assert (near.phrase, near.start, near.end, near.similarity) == ("感谢您的来电", 2, 8, 0.67)
    assert closest([("您好", "您好")], "您") is None


def test_syllable_table_is_pypinyins_and_current() -> None:
    """The shipped table (csqa/data/pinyin.json) is what tools/make_pinyin_table.py writes
    from the installed pypinyin, and reading it gives each character pypinyin's syllable."""
    import importlib.util
    from pathlib import Path

    from pypinyin import Style, lazy_pinyin

    tool = Path(__file__).resolve().parent.parent / "tools" / "make_pinyin_table.py"
    spec = importlib.util.spec_from_file_location("make_pinyin_table", tool)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.OUT.read_bytes() == module.table(), "stale: run python tools/make_pinyin_table.py"
    text = "绿路率嗯在再已以帐账门们〇a1,重𠀀𠀁"  # and two characters past the BMP
    symbols = to_pinyin_space(text)
    syllables = [lazy_pinyin(ch, style=Style.NORMAL)[0] for ch in text]
    for i, j in ((a, b) for a in range(len(text)) for b in range(len(text))):
        assert (symbols[i] == symbols[j]) == (syllables[i] == syllables[j]), (text[i], text[j])
    assert symbols[text.index("a")] == "a" and symbols[text.index(",")] == ","
