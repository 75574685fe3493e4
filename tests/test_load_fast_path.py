"""The loader's fast paths (a whole plain call at once, a plain utterance at once) give exactly
what the field-by-field checked path gives: the same Transcript (down to the float type and
sign of every time), the same warnings, the same LoadProblem message, the same limits."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csqa.loaders import common, jsonl
from csqa.loaders.common import Limits, LoadProblem, from_mapping, use_limits
from csqa.model import Transcript
from csqa.parallel import prepare_call

SETTINGS = settings(max_examples=400, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

ABSENT = object()  # a field left out of the object altogether

SPEAKER = st.sampled_from(["agent", "customer", "坐席", "客户", "客服", "顾客", " Customer ", "AGENT",
                           "A", "c", "nobody", "", "speaker_1", 3, 1.0, True, None, ["agent"],
                           ABSENT])
PLAIN_TIME = st.floats(min_value=0, max_value=4000, allow_nan=False, allow_infinity=False)
TIME = st.one_of(
    PLAIN_TIME, PLAIN_TIME.map(round),  # ints, as orjson gives "12"
    st.integers(-3, 300_000),  # negative, and big enough to look like milliseconds
    st.sampled_from([-0.0, 0.0, -1.5, 1e300, 2.0**53 + 1, 2**64 + 1, 10**400, float("nan"),
                     float("inf"), -float("inf"), True, False, None, "1.5", " 2 ", "", "x",
                     [1], ABSENT]))
TEXT = st.one_of(
    st.sampled_from(["您好,很高兴为您服务", "请您稍等", "好的", "", " ", "\t缩进", "x" * 30]),
    st.text(max_size=12),
    st.text(alphabet="ab\x00\x07\x1b\x7f\x85\x9f\t\n\u3000 ", max_size=8),
    st.sampled_from([None, 3, 1.5, True, ["t"], {"t": 1}, ABSENT]))
EXTRA = st.sampled_from([ABSENT, None, "x", {"nested": [1, 2]}])


@st.composite
def utterance(draw: Any) -> Any:
    if draw(st.integers(0, 30)) == 0:  # not an object at all
        return draw(st.sampled_from([None, "agent", 3, ["agent", 1, 2, "t"]]))
    u = {"speaker": draw(SPEAKER), "start": draw(TIME), "end": draw(TIME), "text": draw(TEXT),
         "confidence": draw(EXTRA)}
    return {k: v for k, v in u.items() if v is not ABSENT}


@st.composite
def plainish_utterances(draw: Any) -> list[dict[str, Any]]:
    """Mostly well-formed utterances (so the fast path is taken), now and then in
    milliseconds, out of order, swapped, or with one awkward field."""
    n = draw(st.integers(1, 8))
    ms = draw(st.booleans())
    out, t = [], 0.0
    for _ in range(n):
        start = t + draw(st.floats(0, 5, allow_nan=False))
        end = start + draw(st.floats(0, 20, allow_nan=False))
        if ms:
            start, end = round(start * 1000), round(end * 1000)
        elif draw(st.booleans()):
            start, end = round(start), round(end)
        t = end if draw(st.booleans()) else start
        out.append({"speaker": draw(st.sampled_from(["agent", "customer", "坐席", "客户"])),
                    "start": start, "end": end, "text": draw(TEXT.filter(lambda x: x is not
                                                                           ABSENT))})
    if draw(st.booleans()):
        out = draw(st.permutations(out))
    if draw(st.integers(0, 3)) == 0:
        out[draw(st.integers(0, n - 1))] = draw(utterance())
    return list(out)


CALL_ID = st.sampled_from(["P-1", " P-2 ", "", " ", "P\x07", "P\t3", "\x85", 12, 0, True, 1.5,
                           None, ["x"], ABSENT])
NAME = st.sampled_from(["田浩然", " 售后 ", "", "a\x1bb", 7, False, None, {"x": 1}, ABSENT])
STARTED = st.sampled_from(["2026-11-21T09:15:02+08:00", " 2026-11-21T09:15:02 ", "2026-11-21",
                           "yesterday", "", "\x00", 20261121, None, ABSENT])
HANGUP = st.sampled_from(["agent", "customer", "system", " Customer", "坐席", "未知", "unknown",
                          "", "null", "nobody", 1, True, None, ["agent"], ABSENT])
DURATION = st.one_of(PLAIN_TIME, st.integers(0, 400_000), st.sampled_from(
    [-1, -0.0, float("nan"), float("inf"), "12", "", " ", True, 2**64 + 1, 10**400, None,
     [1], ABSENT]))
TIMING = st.sampled_from(["utterance", "utterances", "yes", "", " Utterance", "none", "no", "无",
                          "bogus", 1, None, ["x"], ABSENT])
CHANNELS = st.sampled_from(["stereo", "mono", "dual", "2", "1", "双声道", " Mono", "", 2, "bad",
                            None, ["x"], ABSENT])
TRUNCATED = st.sampled_from(["start", "end", "both", "none", "no", "", " End", "bad", 1, None,
                             ABSENT])


@st.composite
def calls(draw: Any) -> Any:
    utts = draw(st.one_of(plainish_utterances(), st.lists(utterance(), max_size=6),
                          st.sampled_from([None, "x", {"a": 1}, [], ABSENT])))
    plain = draw(st.booleans())  # plain call-level fields half the time
    obj = {
        "call_id": "C-1" if plain else draw(CALL_ID),
        "agent_id": "A1" if plain else draw(CALL_ID),
        "agent_name": "田浩然" if plain else draw(NAME),
        "team": ABSENT if plain else draw(NAME),
        "started_at": "2026-11-21T09:15:02+08:00" if plain else draw(STARTED),
        "hangup_by": "customer" if plain else draw(HANGUP),
        "duration": ABSENT if plain else draw(DURATION),
        "timing": ABSENT if plain else draw(TIMING),
        "channels": ABSENT if plain else draw(CHANNELS),
        "truncated": ABSENT if plain else draw(TRUNCATED),
        "utterances": utts,
        "extra_field": draw(EXTRA),
    }
    return {k: v for k, v in obj.items() if v is not ABSENT}


LIMITS = st.sampled_from([Limits(), Limits(max_utterance_chars=8, max_utterances=4),
                          Limits(max_utterance_chars=0, max_utterances=1)])


def _outcome(obj: Any, default_call_id: str | None) -> Any:
    """The Transcript's repr (which shows 1 vs 1.0 and -0.0), or the error raised."""
    try:
        t = from_mapping(obj, "<p>", default_call_id, 7)
    except LoadProblem as exc:
        return ("LoadProblem", exc.reason, exc.line)
    except Exception as exc:  # the checked path's own failures must be the fast path's too
        return (type(exc).__name__, str(exc))
    return repr(t), t


def _checked_only(m: pytest.MonkeyPatch) -> None:
    m.setattr(common, "_quick_call", lambda obj, source, default_call_id, line: None)
    m.setattr(common, "_quick_utterance", lambda u, limit, index: None)


@SETTINGS
@given(calls(), st.sampled_from([None, "", "D-9"]), LIMITS)
def test_fast_paths_give_exactly_what_the_checked_path_gives(obj: Any, default: str | None,
                                                              limits: Limits) -> None:
    with use_limits(limits):
        fast = _outcome(obj, default)
        with pytest.MonkeyPatch.context() as m:
            _checked_only(m)
            checked = _outcome(obj, default)
    assert fast == checked


def _lines(objs: list[Any]) -> jsonl.Lines:
    raws = []
    for o in objs:
        try:
            raws.append(orjson.dumps(o))
        except TypeError:  # 10**400, ABSENT-free but not JSON: write it as Python's json does
            raws.append(json.dumps(o, ensure_ascii=False).encode())
    raws += [b"[1, 2]", b'{"call_id": "x", "utterances": [', b"\xff\xfe junk", b"  \n"]
    return jsonl.Lines("f.jsonl", list(enumerate(raws, start=1)))


def _loaded(lines: jsonl.Lines) -> list[str]:
    out = []
    for item in lines.load():
        ready = prepare_call(item, None) if isinstance(item, Transcript) else item
        out.append(repr(ready))
    return out


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(calls(), max_size=5), LIMITS)
def test_lines_load_gives_exactly_what_the_checked_path_gives(objs: list[Any],
                                                               limits: Limits) -> None:
    lines = _lines(objs)
    with use_limits(limits):
        fast = _loaded(lines)
        with pytest.MonkeyPatch.context() as m:
            _checked_only(m)
            checked = _loaded(lines)
    assert fast == checked


def _plain_call(n: int = 12) -> dict[str, Any]:
    return {"call_id": "SYN-1", "agent_id": "A1152", "agent_name": "田浩然", "team": "售后三组",
            "started_at": "2026-11-21T08:00:00+08:00", "hangup_by": "customer",
            "duration": 110.61,
            "utterances": [{"speaker": "坐席" if i % 2 == 0 else "客户", "start": i * 2.5,
                            "end": i * 2.5 + 2, "text": f"第{i}句"} for i in range(n)]}


def _counting(m: pytest.MonkeyPatch) -> list[bool]:
    taken: list[bool] = []
    real = common._quick_call

    def spy(*args: Any) -> Transcript | None:
        t = real(*args)
        taken.append(t is not None)
        return t

    m.setattr(common, "_quick_call", spy)
    return taken


@pytest.mark.parametrize("change", [
    {}, {"agent_name": None, "team": None, "started_at": None, "hangup_by": None},
    {"duration": 110}, {"timing": "utterance", "channels": "mono", "truncated": "end"},
])
def test_a_plain_call_takes_the_fast_path(change: dict[str, Any]) -> None:
    """The fast path is really used for ordinary calls (else the tests above prove nothing)."""
    with pytest.MonkeyPatch.context() as m:
        taken = _counting(m)
        t = from_mapping({**_plain_call(), **change}, "f", None, 3)
    assert taken == [True]
    assert [(u.index, u.speaker, u.start, u.end, u.text) for u in t.utterances[:2]] == [
        (0, "agent", 0.0, 2.0, "第0句"), (1, "customer", 2.5, 4.5, "第1句")]
    assert all(type(u.start) is float and type(u.end) is float for u in t.utterances)


def _utts(call: dict[str, Any], **fields: Any) -> dict[str, Any]:
    call["utterances"][1].update(fields)
    return call


@pytest.mark.parametrize("make, warning", [
    (lambda c: _utts(c, start=9.0, end=8.0), "end 8 is before start 9; clamped"),
    (lambda c: {**c, "utterances": [{**u, "start": round(u["start"] * 1000),
                                     "end": round(u["end"] * 1000)} for u in c["utterances"]]},
     "times look like milliseconds"),
])
def test_calls_needing_a_repair_take_the_checked_path_and_warn(make: Any, warning: str) -> None:
    with pytest.MonkeyPatch.context() as m:
        taken = _counting(m)
        t = from_mapping(make(_plain_call()), "f", None, 3)
    assert taken == [False]
    assert len(t.warnings) == 1 and warning in t.warnings[0]


def test_out_of_order_utterances_are_sorted_on_the_fast_path() -> None:
    call = _plain_call(4)
    call["utterances"].reverse()
    call["utterances"].append({"speaker": "agent", "start": 0.0, "end": 1.0, "text": "同时"})
    with pytest.MonkeyPatch.context() as m:
        taken = _counting(m)
        t = from_mapping(call, "f", None, 3)
    assert taken == [True]
    assert [(u.index, u.start, u.end, u.text) for u in t.utterances] == [
        (0, 0.0, 1.0, "同时"), (1, 0.0, 2.0, "第0句"), (2, 2.5, 4.5, "第1句"),
        (3, 5.0, 7.0, "第2句"), (4, 7.5, 9.5, "第3句")]


def test_control_characters_are_cleaned_on_the_fast_path() -> None:
    call = _utts(_plain_call(3), text="a\x1b[31mb\x85c\td")
    with pytest.MonkeyPatch.context() as m:
        taken = _counting(m)
        t = from_mapping(call, "f", None, 3)
    assert taken == [True]
    assert t.utterances[1].text == "a[31mbc\td"


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0, True, "1.5", None, 10**400])
def test_bad_times_take_the_checked_path(value: Any) -> None:
    with pytest.MonkeyPatch.context() as m:
        taken = _counting(m)
        with contextlib.suppress(LoadProblem, OverflowError):
            from_mapping(_utts(_plain_call(3), start=value), "f", None, 3)
    assert taken == [False]


def test_speaker_cache_is_bounded() -> None:
    def label_calls() -> Iterator[dict[str, Any]]:
        for i in range(1100):
            call = _plain_call(2)
            call["utterances"][0]["speaker"] = "agent" + " " * (i % 60) + "\u3000" * (i // 60)
            yield call

    for call in label_calls():
        assert from_mapping(call, "f", None, 1).utterances[0].speaker == "agent"
    assert len(common._ROLES) <= 1000
