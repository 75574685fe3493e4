"""Tolerant matching: edit budgets scaled to phrase length, homophones, the n-gram pre-filter."""

from __future__ import annotations

import random
from typing import Any

import pytest

from csqa import tolerant
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
    text = "好的感谢您来电祝您生活愉快"
    aligned: list[str] = []
    real = tolerant._align_all

    def counting(key: str, sym: str, edits: int, similarity: float) -> Any:
        aligned.append(key)
        return real(key, sym, edits, similarity)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(tolerant, "_align_all", counting)
        hits = index.scan(text)
    assert [(t.phrase, t.start, t.end) for t in hits[0]] == [("感谢您的来电", 2, 7)]
    assert "感谢您的来电" in aligned and len(aligned) <= 5  # not 501 alignments


@pytest.mark.parametrize("seed", range(6))
def test_candidates_by_index_and_by_intersection_agree(seed: int) -> None:
    """Many phrases go through a gram index, a few through one set intersection each: both
    give the same candidates, in the order the phrases were added."""
    rng = random.Random(seed)
    alphabet = "感谢您的来电再见祝生活愉快请问有什么可以帮好是否满意"
    phrases = ["".join(rng.choice(alphabet) for _ in range(rng.randint(2, 9))) for _ in range(40)]
    index = _index(rng.choice(["fuzzy", "pinyin"]), phrases)
    for _ in range(30):
        sym = tolerant.to_space("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25))),
                                index.space)
        first = index.first_pass(sym)
        by_index = index._candidates(first, 0)  # 40 phrases in set 0: the index
        pool = index._aligned_of.get(0, [])
        by_hand = [i for i in pool if len(index._entries[i].grams & (
            first[1] if index._entries[i].by_bigrams else first[2])) >= index._entries[i].min_shared]
        assert len(pool) > tolerant._FEW and by_index == by_hand


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


def test_tolerant_matches_come_in_the_same_order_whatever_the_hash_seed() -> None:
    """Two phrases of one set aligning in the same text: their order (which a sequence rule's
    first occurrence takes) must not depend on Python's per-process string hashing."""
    import os
    import subprocess
    import sys

    code = ("from csqa.tolerant import TolerantIndex\n"
            "i = TolerantIndex('fuzzy')\n"
            "i.add(0, [(p, p) for p in ['我帮您查询一下订单', '请您耐心稍等片刻', '马上为您处理好']], 0.7)\n"
            "i.build()\n"
            "print([(t.phrase, t.start) for t in i.scan('我帮您查一下订单请您耐心等片刻马上为您处理')[0]])\n")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout
               for seed in range(6)}
    assert len(outputs) == 1
    [out] = outputs
    assert out.count("(") == 3  # all three phrases aligned, in the order they were added
    assert out.index("我帮您查询一下订单") < out.index("请您耐心稍等片刻") < out.index("马上为您处理好")
