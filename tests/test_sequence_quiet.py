"""The ``sequence`` shortcut (``rules.sequence.quiet``) skips only calls the full check finds
nothing in: checked on generated calls against every shape of rule (direction, expect,
then_before, windows, first_only, phrase options, call-level atoms, all/any/not)."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from csqa.matching import CallView, PhraseBank
from csqa.model import Transcript, Utterance
from csqa.normalize import Normalizer
from csqa.rules import sequence
from csqa.rules.conditions import CLAUSE_ENDS, counted_chars, first_occurrence, occurrences

FAST = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

WHENS: list[dict[str, Any]] = [
    {"customer_says": ["投诉"]},
    {"says": ["投诉", "工单"]},
    {"customer_says": ["投诉"], "unless_before": ["不是"]},
    {"agent_says": ["工单"], "near": {"phrases": ["创建"], "within": 2, "side": "before"}},
    {"any": [{"agent_says": ["工单", "升级"]},
             {"customer_says": ["投诉"], "unless_before": ["不是"]}]},
    # sequence.ticket_number's shape: an escalation, or 工单 with 创建 just before it (工单号
    # starts where 工单 does: the earlier end is the first match)
    {"any": [{"agent_says": ["升级", "工单号"]},
             {"agent_says": ["工单"], "near": {"phrases": ["创建"], "within": 2, "side": "before"}}]},
    {"all": [{"says": ["投诉"]}, {"call_longer_than": 50}]},
    {"all": [{"says": ["投诉"]}, {"says": ["工单"]}]},
    {"call_longer_than": 50},
    {"not": {"says": ["投诉"]}},
    {"any": [{"says": ["投诉"]}, {"tag": "VIP"}]},
]
THENS: list[dict[str, Any]] = [
    {"agent_says": ["抱歉"]},
    {"says": ["抱歉", "工单号"]},
    {"agent_says": ["抱歉"], "near": {"phrases": ["对吗"], "within": 3, "side": "after"}},
    {"any": [{"agent_says": ["抱歉"]}, {"customer_says": ["工单"]}]},
    {"all": [{"agent_says": ["抱歉"]}, {"not": {"says": ["因为"]}}]},
    {"not": {"says": ["抱歉"]}},
    {"tag": "VIP"},
]
EXPLAINS: list[dict[str, Any] | None] = [
    None, {"agent_says": ["因为"]}, {"says": ["因为", "抱歉"]},
    {"agent_says": ["因为"], "unless_before": ["不是"]}, {"call_longer_than": 50}]
SHAPES: list[dict[str, Any]] = [
    *({"then_before": e} if e else {} for e in EXPLAINS),
    {"direction": "before"},
    {"expect": "absent"},
    {"expect": "absent", "direction": "before"},
]
WINDOWS: list[dict[str, Any] | None] = [None, {"seconds": 10}, {"agent_turns": 1},
                                         {"seconds": 20, "agent_turns": 2}]


def _rules() -> tuple[PhraseBank, list[sequence.Prepared], sequence.Prepared]:
    bank = PhraseBank(Normalizer())
    answered = sequence.prepare(sequence.Params.model_validate(
        {"when": {"customer_says": ["投诉"]}, "then": {"says": ["抱歉"]},
         "then_within": {"agent_turns": 1}}), bank)
    prepared = []
    # every shape, window and first_only with every trigger, the behaviours taking turns
    for k, (shape, win, first) in enumerate(itertools.product(SHAPES, WINDOWS, [False, True])):
        for w, when in enumerate(WHENS):
            then = THENS[(k + w) % len(THENS)]
            params = {"when": when, "then": then, **shape, "first_only": first}
            if win:
                params["then_within"] = win
            prepared.append(sequence.prepare(sequence.Params.model_validate(params), bank))
    bank.build()
    return bank, prepared, answered


BANK, RULES, ANSWERED = _rules()
WORDS = ["投诉", "抱歉", "因为", "工单", "工单号", "升级", "创建", "对吗", "不是", "好的", ",", "。",
         "嗯"]


@st.composite
def calls(draw: Any) -> Transcript:
    utts = []
    at = 0.0
    for i in range(draw(st.integers(min_value=0, max_value=8))):
        # mostly one after the other, a few seconds apart; now and then out of order
        at += draw(st.sampled_from([0.0, 2.0, 5.0, 9.0, 25.0, -30.0]))
        start = max(at, 0.0)
        end = start + draw(st.sampled_from([0.0, 3.0, 12.0]))
        text = "".join(draw(st.lists(st.sampled_from(WORDS), max_size=4)))
        utts.append(Utterance(i, draw(st.sampled_from(["agent", "customer"])), start, end, text))
    t = Transcript(call_id="Q", agent_id="A", utterances=utts,
                   duration=draw(st.one_of(st.none(), st.floats(min_value=0, max_value=100))))
    if draw(st.booleans()):
        t.extra["tags"] = ["VIP"]
    return t


def _call(*utts: tuple[str, float, str]) -> Transcript:
    us = [Utterance(i, sp, at, at + 3, text) for i, (sp, at, text) in enumerate(utts)]
    return Transcript(call_id="Q", agent_id="A", utterances=us)


@FAST
@given(calls())
# the behaviour three agent turns before the trigger
@example(_call(("agent", 0, "抱歉"), ("agent", 4, "好的"), ("agent", 8, "好的"), ("customer", 12, "投诉")))
# the first candidate is no trigger (不是投诉), the first trigger goes unanswered
@example(_call(("customer", 0, "不是投诉"), ("agent", 4, "抱歉"), ("customer", 8, "投诉"),
               ("agent", 12, "好的")))
# trigger, explanation and behaviour in one utterance; the behaviour without its near phrase
@example(_call(("agent", 0, "投诉因为抱歉"), ("customer", 4, "工单因为抱歉")))
@example(_call(("customer", 0, "投诉"), ("agent", 4, "抱歉"), ("agent", 8, "抱歉对吗")))
def test_quiet_calls_have_no_findings_and_check_equals_the_full_check(t: Transcript) -> None:
    for prep in RULES:
        full = list(sequence.findings(CallView(t, BANK), prep))
        view = CallView(t, BANK)
        if sequence.quiet(view, prep):
            assert full == [], prep.params
        else:  # what the shortcut worked out on the way leaves the full check as it was
            assert list(sequence.findings(view, prep)) == full, prep.params


def _view(*utts: tuple[str, float, str]) -> CallView:
    return CallView(_call(*utts), BANK)


def test_quiet_decides_the_usual_calls_and_leaves_the_unclear_ones() -> None:
    """Not a shortcut that never takes: answered triggers are told apart without the full
    check, and a trigger answered in its own utterance or too late is left to it."""
    answered = ANSWERED
    assert sequence.quiet(_view(("customer", 0, "我要投诉"), ("agent", 4, "抱歉")), answered)
    assert sequence.quiet(_view(("customer", 0, "好的"), ("agent", 4, "好的")), answered)
    late = _view(("customer", 0, "我要投诉"), ("agent", 4, "好的"), ("agent", 8, "抱歉"))
    assert not sequence.quiet(late, answered)
    assert [h.utterance for h in sequence.check(late, answered)] == [1]
    # in one utterance: the apology after the complaint answers it, before it does not
    assert sequence.quiet(_view(("customer", 0, "我要投诉,抱歉"), ("agent", 4, "好的")), answered)
    early = _view(("customer", 0, "抱歉,我要投诉"), ("agent", 4, "好的"))
    assert not sequence.quiet(early, answered)
    assert [h.utterance for h in sequence.check(early, answered)] == [1]


@FAST
@given(calls())
@example(_call(("customer", 0, "不是投诉"), ("agent", 4, "创建工单"), ("customer", 8, "投诉")))
def test_first_occurrence_is_the_first_of_occurrences(t: Transcript) -> None:
    """``first_only`` rules look for the first trigger alone (``first_occurrence``): the same
    as the first of every occurrence, for every shape of trigger."""
    for prep in RULES[: len(WHENS)]:
        every = occurrences(CallView(t, BANK), prep.when)
        assert first_occurrence(CallView(t, BANK), prep.when) == every[:1], prep.params.when


@FAST
@given(calls())
@example(_call(("customer", 0, "不是投诉"), ("agent", 4, "创建工单"), ("customer", 8, "投诉")))
@example(_call(("agent", 0, "抱歉对吗"), ("agent", 4, "抱歉"), ("customer", 8, "因为抱歉")))
@example(_call(("agent", 0, "升级创建工单"), ("agent", 4, "创建工单升级"), ("agent", 8, "创建工单号")))
@example(_call(("agent", 0, "工单升级"), ("agent", 4, "工单创建工单")))
def test_places_and_at_answer_as_where_does(t: Transcript) -> None:
    """The full check looks only at ``_places`` (a condition's candidates) and asks ``at``
    there instead of computing the call's ``where``: for every condition of every rule shape,
    ``_places`` is in order and holds every utterance of ``where``; ``at`` gives what ``where``
    gives, on a fresh view and on one where ``where`` was worked out first; ``_holds_at`` (an
    exact condition holds at every candidate) says where ``where`` has matches."""
    conds = {}  # one of each condition (every rule compiles its own)
    for prep in RULES:
        p = prep.params
        for spec, cond in ((p.when, prep.when), (p.then, prep.then),
                           (p.then_before, prep.then_before)):
            if spec is not None and cond is not None:
                conds.setdefault(spec.model_dump_json(), cond)
    for cond in conds.values():
        shared = CallView(t, BANK)
        where = cond.where(shared)
        places = sequence._places(CallView(t, BANK), cond)
        assert places == sorted(set(places))
        assert set(where) <= set(places)
        for i in places:
            assert sequence._holds_at(CallView(t, BANK), cond, i) == (i in where)
        for i in range(len(t.utterances)):
            assert cond.at(CallView(t, BANK), i) == where.get(i, [])
            assert cond.at(shared, i) == where.get(i, [])


@FAST
@given(calls())
@example(_call(("customer", 0, "投诉"), ("agent", 4, "好的"), ("agent", 8, "好的"), ("agent", 30, "抱歉")))
def test_window_last_is_the_last_utterance_of_the_window_walk(t: Transcript) -> None:
    """``_window_last`` (one loop) ends where walking the window forwards (``_scan``) ends."""
    view = CallView(t, BANK)
    for prep in RULES:
        win = prep.params.then_within
        for occ in occurrences(view, prep.when):
            plain = len(t.utterances) - 1 if win is None else (occ.utterance or 0)
            if win is not None:
                for u, _, _ in sequence._scan(view, occ, win, backwards=False):
                    plain = u.index
            assert sequence._window_last(view, occ, win) == plain, prep.params


def test_counted_chars_counts_what_the_per_character_test_counts() -> None:
    """``near``'s distance in characters (one regex pass) leaves out exactly the characters the
    plain per-character test leaves out (white space as ``str.isspace``, clause ends): every
    code point, one by one."""
    for code in range(0x110000):
        ch = chr(code)
        assert counted_chars(ch) == (0 if ch.isspace() or ch in CLAUSE_ENDS else 1), hex(code)
    text = "您的意思是,\u3000洗衣机 漏水\t对吗?"
    assert counted_chars(text) == sum(1 for ch in text if not ch.isspace() and ch not in CLAUSE_ENDS)


def _findings_are_the_plain_walks(t: Transcript, direction: str) -> None:
    """Every generated rule of ``direction`` (expecting its behaviour present) gives the same
    findings as its plain check over every occurrence of the trigger."""
    for prep in RULES:
        if prep.params.direction != direction or prep.params.expect != "present":
            continue
        view = CallView(t, BANK)
        occs = (first_occurrence(view, prep.when) if prep.params.first_only
                else occurrences(view, prep.when))
        if direction == "before":
            given = {o.utterance: o for o in occs if o.utterance is not None}
            plain = list(sequence._check_before(view, prep, list(given), given.__getitem__,
                                                prep.when_label, prep.then_label))
        else:
            given = {o.utterance: o for o in occs}
            plain = list(sequence._check_after(view, prep, list(given), given.get,
                                               prep.when_label, prep.then_label))
        assert list(sequence.findings(CallView(t, BANK), prep)) == plain, prep.params

@FAST
@given(calls())
@example(_call(("customer", 0, "工单投诉"), ("agent", 4, "好的"), ("customer", 8, "投诉工单")))
@example(_call(("customer", 0, "抱歉投诉"), ("customer", 4, "投诉抱歉"), ("agent", 8, "投诉")))
def test_direction_before_places_only_the_reported_triggers(t: Transcript) -> None:
    """``direction: before`` with a trigger whose candidates are exact walks those candidates
    and works out where the trigger was said only where it needs to: the same findings as
    going over every occurrence of the trigger."""
    _findings_are_the_plain_walks(t, "before")


@FAST
@given(calls())
@example(_call(("customer", 0, "不是投诉"), ("agent", 4, "创建工单升级"), ("customer", 8, "投诉")))
@example(_call(("agent", 0, "升级创建工单因为"), ("agent", 4, "抱歉"), ("agent", 8, "工单创建工单")))
def test_direction_after_places_only_the_triggers_it_looks_at(t: Transcript) -> None:
    """``direction: after`` walks the trigger's candidates and places the trigger
    (the first of ``at``) only in those not inside an earlier trigger's answer: the same findings
    as going over every occurrence of the trigger."""
    _findings_are_the_plain_walks(t, "after")
