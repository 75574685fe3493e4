"""Masking cannot be bypassed (issue #19 item 2).

The separator class of the number finder once held `` -‐`` unescaped, a range U+0020–U+2010, so a
"number run" spanned every ASCII punctuation mark and letter: ``13812345678,13912345678`` was
one run that matched no number (neither masked nor caught by ``privacy.disclosure``), while
dates and times were masked (``2026-**-** **:15:02``). Property tests: any valid phone, ID or
card number, surrounded or joined by any other character, is masked; dates, times and order
numbers of other lengths are not.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from conftest import make_call
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csqa.api import audit
from csqa.engine import Engine
from csqa.model import InputProblem
from csqa.redact import find_pii, id_checksum_ok, luhn_ok, redact, redact_problem
from csqa.ruleset import load_ruleset

PROPERTY = settings(max_examples=200, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
DIGITS = "0123456789０１２３４５６７８９零〇一二三四五六七八九幺"
FULL = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
SPOKEN = str.maketrans("0123456789", "零幺二三四五六七八九")
ENGINE = Engine(load_ruleset(None))

# Any character that is not a digit in any script csqa reads (the number would go on).
OTHER = st.characters(blacklist_characters=DIGITS, blacklist_categories=("Cs",))


@st.composite
def phones(draw: st.DrawFn) -> str:
    return "1" + draw(st.sampled_from("3456789")) + draw(st.text("0123456789", min_size=9,
                                                                 max_size=9))


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    region = draw(st.text("0123456789", min_size=6, max_size=6))
    born = draw(st.dates(min_value=datetime(1900, 1, 1).date(),
                         max_value=datetime(2025, 12, 31).date()))
    seq = draw(st.text("0123456789", min_size=3, max_size=3))
    return _completed(f"{region}{born:%Y%m%d}{seq}", "0123456789X", id_checksum_ok)


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    start = draw(st.sampled_from(["62", "4", "51", "55", "2221", "2720", "34", "35", "6011",
                                  "9558", "95599"]))
    length = draw(st.integers(13, 19))
    body = start + draw(st.text("0123456789", min_size=length - len(start) - 1,
                                max_size=length - len(start) - 1))
    return _completed(body, "0123456789", luhn_ok)


def _completed(body: str, checks: str, valid: Callable[[str], bool]) -> str:
    """``body`` with the check character that makes it ``valid``."""
    return next(body + check for check in checks if valid(body + check))


@st.composite
def written(draw: st.DrawFn) -> str:
    """A number as an agent or ASR writes it: ASCII, full-width or spoken digits, phones also
    grouped 3-4-4 by a space or hyphen."""
    kind = draw(st.sampled_from(["phone", "id", "card"]))
    if kind == "id":
        number = draw(id_numbers())
        return number.translate(FULL) if draw(st.booleans()) else number
    number = draw(phones() if kind == "phone" else card_numbers())
    if kind == "phone" and draw(st.booleans()):
        sep = draw(st.sampled_from([" ", "-"]))
        number = f"{number[:3]}{sep}{number[3:7]}{sep}{number[7:]}"
    script = draw(st.sampled_from([None, FULL, SPOKEN]))
    return number.translate(script) if script else number


def _covered(text: str, at: int, number: str) -> bool:
    """Whether a number found in ``text`` covers the one written at ``at``."""
    return any(p.start <= at and at + len(number) <= p.end for p in find_pii(text))


@PROPERTY
@given(written(), OTHER, OTHER)
def test_a_number_surrounded_by_any_character_is_masked(number: str, before: str,
                                                        after: str) -> None:
    text = f"{before}{number}{after}"
    masked = redact(text)
    assert number not in masked
    assert masked.startswith(before) and masked.endswith(after)
    assert _covered(text, len(before), number)


@PROPERTY
@given(st.lists(st.one_of(phones(), id_numbers(), card_numbers()), min_size=2, max_size=4),
       OTHER)
def test_numbers_joined_by_any_character_are_each_masked(numbers: list[str], join: str) -> None:
    text = join.join(numbers)
    masked = redact(text)
    at = 0
    for number in numbers:
        assert number not in masked
        assert _covered(text, at, number), (number, text)
        at += len(number) + len(join)
    assert masked.count(join) >= text.count(join) - sum(n.count(join) for n in numbers)


DATE_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y/%m/%d %H:%M", "%Y年%m月%d日 %H:%M",
                "%Y%m%d%H%M%S", "%Y%m%d", "%H:%M:%S", "%Y-%m-%dT%H:%M:%S+08:00", "%Y.%m.%d",
                "%m-%d %H:%M", "%Y-%m-%d %H:%M:%S.%f"]


@PROPERTY
@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31)),
       st.sampled_from(DATE_FORMATS), OTHER, OTHER)
def test_dates_and_times_are_not_masked(when: datetime, fmt: str, before: str,
                                        after: str) -> None:
    text = f"{before}{when.strftime(fmt)}{after}"
    assert redact(text) == text
    assert find_pii(text) == []


@PROPERTY
@given(st.one_of(st.integers(5, 10), st.just(12), st.integers(20, 40)), st.data(), OTHER, OTHER)
def test_order_numbers_of_other_lengths_are_not_masked(length: int, data: st.DataObject,
                                                       before: str, after: str) -> None:
    number = data.draw(st.text("0123456789", min_size=length, max_size=length))
    text = f"{before}{number}{after}"
    assert redact(text) == text


def test_joined_numbers_are_masked_exactly() -> None:
    card = "6222021234567890128"
    assert redact("13812345678,13912345678") == "138****5678,139****5678"
    for join in "/;|x":
        assert redact(f"13812345678{join}13912345678") == f"138****5678{join}139****5678"
    assert redact(f"{card},13812345678") == "6222***********0128,138****5678"
    assert redact(f"{card}x13812345678") == "6222***********0128x138****5678"
    assert redact("11010519491231002X13812345678") == "110***********002X138****5678"


def test_dates_are_not_masked_exactly() -> None:
    for text in ("2026-11-21 09:15:02", "于2026-11-21 09:15:02来电", "20261121091502",
                 "工单 2026112100012 已受理"):
        assert redact(text) == text


def test_the_privacy_rule_catches_joined_numbers() -> None:
    call = make_call("[00:00:01.0-00:00:06.0] 坐席: 您登记的是13812345678,13912345678,"
                     "卡号6222021234567890128/13712345678对吗?\n"
                     "[00:00:07.0-00:00:09.0] 坐席: 回访时间2026-11-21 09:15:02。\n")
    hits = [(f.rule_id, f.utterance, f.start, f.matched) for f in ENGINE.audit(call).findings
            if f.rule_id == "privacy.disclosure"]
    assert hits == [("privacy.disclosure", 0, 1.0, "13812345678"),
                    ("privacy.disclosure", 0, 1.0, "13912345678"),
                    ("privacy.disclosure", 0, 1.0, "6222021234567890128"),
                    ("privacy.disclosure", 0, 1.0, "13712345678")]


def test_dates_in_error_messages_are_not_masked(tmp_path: Path) -> None:
    bad = {"call_id": "D1", "agent_id": "A1", "started_at": "2026-11-21 09:15:02 晚",
           "utterances": [{"speaker": "agent", "start": 0, "end": 1, "text": "您好"}]}
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "d.json").write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    summary = audit([tmp_path / "in"], load_ruleset(None), tmp_path / "out")
    reasons = [p.reason for p in summary.problems]
    assert reasons == ["started_at: 应为 ISO 8601 日期时间,如 "
                       "2026-11-21T09:15:02+08:00,实际是 '2026-11-21 09:15:02 晚'"]
    errors = (tmp_path / "out" / "errors.csv").read_text(encoding="utf-8-sig")
    assert "'2026-11-21 09:15:02 晚'" in errors
    p = InputProblem("f.json", 3, "时间 2026-11-21 09:15:02,手机13812345678,13912345678")
    assert redact_problem(p).reason == "时间 2026-11-21 09:15:02,手机138****5678,139****5678"
