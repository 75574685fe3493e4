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
from csqa.reading import Preparation

SETTINGS = settings(max_examples=300, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

ABSENT = object()  # a field left out of the object altogether

ODD_TIMES = [-0.0, 0.0, -1.5, -1, -3, 0, 2, 4000, 10.0, 1e300, 2.0**53 + 1, 2**64 + 1, 10**400,
             float("nan"), float("inf"), -float("inf"), True, False, None, "1.5", " 2 ", "", "x",
             [1], ABSENT]
#: Awkward values for each utterance field (ABSENT: the field left out).
ODD_UTTERANCE_VALUES: dict[str, list[Any]] = {
    "speaker": ["agent", "customer", "坐席", "客户", "客服", "顾客", " Customer ", "AGENT", "A",
                "c", "nobody", "", "speaker_1", 3, 1.0, True, None, ["agent"], ABSENT],
    "start": ODD_TIMES,
    "end": ODD_TIMES,
    "text": ["您好,很高兴为您服务", "", " ", "\t缩进", "x" * 30, "a\x1b[31mb", "\x00", "\x7f\x85\x9f",
             "\u3000", None, 3, 1.5, True, ["t"], {"t": 1}, ABSENT],
    "confidence": [ABSENT, None, "x", {"nested": [1, 2]}],
}
SPEAKER = st.sampled_from(ODD_UTTERANCE_VALUES["speaker"])
PLAIN_TIME = st.floats(min_value=0, max_value=4000, allow_nan=False, allow_infinity=False)
ODD_TIME = st.sampled_from(ODD_TIMES)
TIME = st.one_of(
    PLAIN_TIME, PLAIN_TIME.map(round),  # ints, as orjson gives "12"
    st.integers(-3, 300_000),  # negative, and big enough to look like milliseconds
    ODD_TIME)
TEXT = st.one_of(
    st.sampled_from(ODD_UTTERANCE_VALUES["text"]),
    st.text(max_size=12),
    st.text(alphabet="ab\x00\x07\x1b\x7f\x85\x9f\t\n\u3000 ", max_size=8))
EXTRA = st.sampled_from(ODD_UTTERANCE_VALUES["confidence"])


@st.composite
def utterance(draw: Any) -> Any:
    if draw(st.integers(0, 30)) == 0:  # not an object at all
        return draw(st.sampled_from([None, "agent", 3, ["agent", 1, 2, "t"]]))
    u = {"speaker": draw(SPEAKER), "start": draw(TIME), "end": draw(TIME), "text": draw(TEXT),
         "confidence": draw(EXTRA)}
    return {k: v for k, v in u.items() if v is not ABSENT}


AWKWARD_UTTERANCE_FIELD = {"speaker": SPEAKER, "start": ODD_TIME, "end": ODD_TIME, "text": TEXT,
                           "confidence": EXTRA}


@st.composite
def plainish_utterances(draw: Any) -> list[Any]:
    """Mostly well-formed utterances (so the fast path is taken), now and then in
    milliseconds, out of order, with equal times, or with a field or two made awkward."""
    n = draw(st.integers(1, 8))
    ms = draw(st.integers(0, 4)) == 0
    whole = draw(st.booleans())
    out: list[Any] = []
    t = 0.0
    for _ in range(n):
        start = t + draw(st.sampled_from([0.0, 0.0, 0.5, 1.25, 3.0]) | st.floats(0, 5))
        end = start + draw(st.sampled_from([0.0, 0.5, 2.0, 150.0]) | st.floats(0, 20))
        if ms:
            start, end = round(start * 1000), round(end * 1000)
        elif whole:
            start, end = round(start), round(end)
        t = end if draw(st.booleans()) else start
        out.append({"speaker": draw(st.sampled_from(["agent", "customer", "坐席", "客户"])),
                    "start": start, "end": end, "text": draw(st.sampled_from(
                        ["您好,很高兴为您服务", "请您稍等", "好的", "", "x" * 9, "a\x1bb"]))})
    if draw(st.booleans()):
        out = list(draw(st.permutations(out)))
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2]))):
        i = draw(st.integers(0, n - 1))
        if draw(st.integers(0, 9)) == 0:
            out[i] = draw(utterance())
        elif isinstance(out[i], dict):
            key = draw(st.sampled_from(sorted(AWKWARD_UTTERANCE_FIELD)))
            value = draw(AWKWARD_UTTERANCE_FIELD[key])
            out[i] = {k: v for k, v in {**out[i], key: value}.items() if v is not ABSENT}
    return out


IDS = ["P-1", " P-2 ", "", " ", "P\x07", "P\t3", "\x85", 12, 0, True, 1.5, None, ["x"], ABSENT]
NAMES = ["田浩然", " 售后 ", "", "a\x1bb", "\t", 7, False, None, {"x": 1}, ABSENT]
#: Awkward values for each call-level field (ABSENT: the field left out).
ODD_CALL_VALUES: dict[str, list[Any]] = {
    "call_id": IDS,
    "agent_id": IDS,
    "agent_name": NAMES,
    "team": NAMES,
    "started_at": ["2026-11-21T09:15:02+08:00", " 2026-11-21T09:15:02 ", "2026-11-21",
                   "yesterday", "", "\x00", 20261121, None, ABSENT],
    "hangup_by": ["agent", "customer", "system", " Customer", "坐席", "未知", "unknown", "",
                  "null", "nobody", 1, True, None, ["agent"], ABSENT],
    "duration": [0, 12, 300_000, 12.5, -1, -0.0, float("nan"), float("inf"), "12", "", " ", True,
                 2**64 + 1, 10**400, None, [1], ABSENT],
    "timing": ["utterance", "utterances", "yes", "", " Utterance", "none", "no", "无", "bogus",
               1, None, ["x"], ABSENT],
    "channels": ["stereo", "mono", "dual", "2", "1", "双声道", " Mono", "", 2, "bad", None,
                 ["x"], ABSENT],
    "truncated": ["start", "end", "both", "none", "no", "", " End", "bad", 1, None, ABSENT],
    "extra_field": ODD_UTTERANCE_VALUES["confidence"],
}
AWKWARD_CALL_FIELD = {
    k: st.one_of(PLAIN_TIME, st.sampled_from(v)) if k == "duration" else st.sampled_from(v)
    for k, v in ODD_CALL_VALUES.items()}


@st.composite
def calls(draw: Any) -> Any:
    """A plain call with up to three call-level fields made awkward (or left out), and
    plain-ish utterances, or now and then utterances of any shape."""
    utts = draw(st.one_of(plainish_utterances(), plainish_utterances(),
                          st.lists(utterance(), max_size=6),
                          st.sampled_from([None, "x", {"a": 1}, [], ABSENT])))
    obj = {"call_id": "C-1", "agent_id": "A1", "agent_name": "田浩然", "team": "售后一组",
           "started_at": "2026-11-21T09:15:02+08:00", "hangup_by": "customer",
           "duration": 110.5, "utterances": utts}
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(sorted(AWKWARD_CALL_FIELD)))
        obj[key] = draw(AWKWARD_CALL_FIELD[key])
    return {k: v for k, v in obj.items() if v is not ABSENT}


LIMITS = st.sampled_from([Limits(), Limits(max_utterance_chars=8, max_utterances=4),
                          Limits(max_utterance_chars=0), Limits(max_utterances=1)])


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
    m.setattr(common, "_quick_call", lambda *args: None)
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


def _one_field_changed() -> Iterator[dict[str, Any]]:
    """A plain call (in seconds, in milliseconds, out of order) with each awkward value, in
    turn, in one call-level field or in one field of its first or last utterance."""
    sec = _plain_call(4)
    ms = _plain_call(4)
    ms["utterances"] = [{**u, "start": round(u["start"] * 1000), "end": round(u["end"] * 1000)}
                        for u in ms["utterances"]]
    unordered = _plain_call(4)
    unordered["utterances"].reverse()
    for base in (sec, ms, unordered):
        yield base
        for key, values in ODD_CALL_VALUES.items():
            for value in values:
                call = {**base, key: value}
                yield {k: v for k, v in call.items() if v is not ABSENT}
        for i in (0, -1):
            for key, values in ODD_UTTERANCE_VALUES.items():
                for value in values:
                    utts = [dict(u) for u in base["utterances"]]
                    utts[i][key] = value
                    utts[i] = {k: v for k, v in utts[i].items() if v is not ABSENT}
                    yield {**base, "utterances": utts}


def test_every_awkward_field_of_a_plain_call_gives_what_the_checked_path_gives() -> None:
    cases = list(_one_field_changed())
    for limits in [Limits(), Limits(max_utterance_chars=8, max_utterances=4),
                   Limits(max_utterance_chars=0), Limits(max_utterances=3)]:
        with use_limits(limits):
            fast = [_outcome(obj, default) for obj in cases for default in (None, "D-9")]
            with pytest.MonkeyPatch.context() as m:
                _checked_only(m)
                checked = [_outcome(obj, default) for obj in cases for default in (None, "D-9")]
        for got, want, obj in zip(fast, checked, [c for c in cases for _ in (0, 1)],
                                  strict=True):
            assert got == want, obj


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
        ready = Preparation().one(item) if isinstance(item, Transcript) else item
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
    (lambda c: _utts(c, start=9.0, end=8.0), "结束 8 早于开始 9;已改为"),
    (lambda c: {**c, "utterances": [{**u, "start": round(u["start"] * 1000),
                                     "end": round(u["end"] * 1000)} for u in c["utterances"]]},
     "时间看起来是毫秒"),
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


def test_raw_bytes_without_escapes_hold_no_control_character() -> None:
    """The byte scan that lets JSON Lines skip the per-character check never misses one: every
    character, as orjson and as Python's json write it (escaped or not), is either seen as a
    possible control character or is none."""
    control = set(common._CONTROL_TABLE) | set(common._CONTROL_TABLE_ID)
    for cp in [*range(0x800), *range(0x800, 0x110000, 97), 0xFFFF, 0x10FFFF]:
        ch = chr(cp)
        if 0xD800 <= cp <= 0xDFFF:
            continue
        for raw in (orjson.dumps({"text": f"a{ch}b"}),
                    json.dumps({"text": f"a{ch}b"}, ensure_ascii=False).encode(),
                    json.dumps({"text": f"a{ch}b"}).encode()):
            assert orjson.loads(raw)["text"] == f"a{ch}b"
            if common.no_control_characters(raw):
                assert cp not in control, (cp, raw)
