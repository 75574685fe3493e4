"""The per-agent-minute shortcut (``rates.may_fire`` with ``filler_words.most`` and
``jargon.most``) skips only calls that cannot fire: the bound is never below what the full
count finds, and ``check`` gives exactly what the full count through ``rate_hits`` gives."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from csqa.matching import CallView, PhraseBank
from csqa.model import Transcript, Utterance
from csqa.normalize import Normalizer
from csqa.rules import filler_words, jargon
from csqa.rules.base import NotEvaluable
from csqa.rules.rates import rate_hits

FAST = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

BANK = PhraseBank(Normalizer(["嗯", "嘛呀"]))  # 嘛 inside a filler: not paired
FILLERS = [filler_words.prepare(filler_words.Params.model_validate(p), BANK) for p in (
    {"words": ["喽", "嘛", "然后呢"], "min_count": 1, "max_per_minute": 1,
     "min_agent_seconds": 5},
    {"words": ["嘛", "吗"], "pos": [], "min_count": 2, "max_per_minute": 4,
     "min_agent_seconds": 5},
)]
JARGON = [jargon.prepare(jargon.Params.model_validate(p), BANK) for p in (
    {"terms": ["主板", "固件", "DNS"], "min_count": 1, "max_per_minute": 1,
     "min_agent_seconds": 5},
    {"terms": ["主板", "压缩机"], "min_count": 2, "max_per_minute": 3,
     "min_agent_seconds": 20},
)]
BANK.build()
PIECES = ["喽", "嘍", "呀", "呢", "嘛", "干嘛", "然后呢", "吗", "啦", "呗", "嗯", "主板", "主板块", "固件", "DNS", "ＤＮＳ",
          "dnsx", "压缩机", "也就是说", "“", "”", ",", "好的", "查一下"]


@st.composite
def calls(draw: Any) -> Transcript:
    utts = []
    at = 0.0
    for i in range(draw(st.integers(min_value=0, max_value=6))):
        length = draw(st.sampled_from([0.0, 2.0, 8.0, 30.0]))
        text = "".join(draw(st.lists(st.sampled_from(PIECES), max_size=6)))
        utts.append(Utterance(i, draw(st.sampled_from(["agent", "customer"])), at, at + length, text))
        at += length + 1
    return Transcript(call_id="R", agent_id="A", utterances=utts)


def _call(*texts: str, seconds: float = 10.0) -> Transcript:
    return Transcript(call_id="R", agent_id="A", utterances=[
        Utterance(i, "agent", i * seconds, (i + 1) * seconds, t) for i, t in enumerate(texts)])


def _run(gen: Any) -> list[Any] | str:
    try:
        return list(gen)
    except NotEvaluable as exc:
        return f"not evaluable: {exc}"


@FAST
@given(calls())
@example(_call("好嘛,查一下喽,然后呢嘛", "干嘛啦"))
@example(_call("主板坏了,DNS不对,ＤＮＳ", "“固件”主板块", seconds=3.0))
@example(_call("主板,也就是说电路板"))
@example(_call("好的嘛呀,嘛呀,查一下嘛呀"))  # 嘛 inside the filler 嘛呀: no phrase match there
def test_bound_covers_the_count_and_check_equals_the_full_count(t: Transcript) -> None:
    kinds: list[tuple[Any, list[Any], Any, str]] = [
        (filler_words, FILLERS, filler_words.fillers, "语气词/口头禅"),
        (jargon, JARGON, jargon.unexplained, "未解释的专业术语")]
    for module, preps, count, label in kinds:
        for prep in preps:
            found = count(CallView(t, BANK), prep)
            bound = module.most(CallView(t, BANK), prep)
            assert bound is not None and bound >= len(found)
            full = _run(rate_hits(CallView(t, BANK), prep.params, found, label))
            assert _run(module.check(CallView(t, BANK), prep)) == full


def test_the_bound_decides_quiet_calls_and_leaves_busy_ones() -> None:
    """Not a shortcut that never takes: one filler in a minute is told without the count."""
    quiet = _call("好的,查一下喽", seconds=60.0)
    assert filler_words.most(CallView(quiet, BANK), FILLERS[1]) == 0
    assert list(filler_words.check(CallView(quiet, BANK), FILLERS[1])) == []
    busy = _call("好嘛,查一下喽,您稍等嘛", "查到了嘛")
    hits = list(filler_words.check(CallView(busy, BANK), FILLERS[0]))
    assert [h.values["count"] for h in hits] == [4]
    terms = _call("主板和压缩机,还有主板块")
    assert jargon.most(CallView(terms, BANK), JARGON[1]) == 3
    assert [h.values["count"] for h in jargon.check(CallView(terms, BANK), JARGON[1])] == []


def test_paired_words_are_the_ones_the_phrase_scan_finds_as_written() -> None:
    assert FILLERS[0].paired == frozenset({"喽"})  # 嘛 is inside the filler 嘛呀; 然后呢 is long
    assert FILLERS[1].paired == frozenset({"吗"})
