"""call_hours: the agent must not place a call in the customer's rest time (午休, late at night).

The norms (拨打电话规范): 如无急事,节假日期间、对方休息时间(午休或夜间22:00以后)尽量不要打电话.
Fires once per outbound call (a call-level finding) whose ``started_at`` falls inside one of
``quiet_hours`` (``"12:00-14:00"``; a window may wrap past midnight, ``"22:00-08:00"``), in
the customer's local time: a start time with a UTC offset is converted to ``utc_offset``
hours, one without an offset is taken as local time already.

Only outbound calls are judged (``direction`` from the transcript or the call record): an
inbound call passes; a call whose direction or start time is unknown is *not evaluable*.
Holidays are not known to csqa and are not checked.

Example (fires: an outbound call placed at 12:30)::

    # direction: outbound
    # started_at: 2026-11-21T12:30:00+08:00
    [00:00:01.0-00:00:03.0] 坐席: 您好,打扰了,这里是售后回访。

Passes at 15:00, or when the customer called in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from pydantic import Field, field_validator

from csqa.matching import CallView, PhraseBank
from csqa.model import Hit
from csqa.rules.base import NotEvaluable, outbound_only
from csqa.rules.base import Params as BaseParams

KIND = "call_hours"

_WINDOW = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-4]):([0-5]\d)$")


class Params(BaseParams):
    quiet_hours: list[str] = Field(
        default_factory=lambda: ["12:00-14:00", "22:00-08:00"],
        description="local times (HH:MM-HH:MM) when no call may be placed")
    utc_offset: float = Field(8.0, ge=-12, le=14,
                              description="the customers' local time, hours from UTC")

    @field_validator("quiet_hours")
    @classmethod
    def _windows(cls, value: list[str]) -> list[str]:
        for w in value:
            if not _WINDOW.match(w):
                raise ValueError(f"{w!r}: 应为时间段,如 12:00-14:00")
        return value


@dataclass(slots=True, frozen=True)
class Prepared:
    windows: tuple[tuple[str, time, time], ...]  # (as written, from, to)
    zone: timezone


def _parse(window: str) -> tuple[str, time, time]:
    m = _WINDOW.match(window)
    assert m is not None  # checked by the params model
    h1, m1, h2, m2 = (int(x) for x in m.groups())
    return window, time(h1, m1), (time.max if h2 == 24 else time(h2, m2))


def prepare(params: Params, bank: PhraseBank) -> Prepared:
    return Prepared(tuple(map(_parse, params.quiet_hours)),
                    timezone(timedelta(hours=params.utc_offset)))


def _inside(at: time, start: time, end: time) -> bool:
    return start <= at < end if start <= end else (at >= start or at < end)


def check(call: CallView, prep: Prepared) -> Iterator[Hit]:
    if not outbound_only(call):
        return
    started = call.transcript.started_at
    if not started:
        raise NotEvaluable("通话开始时间未知")
    at = datetime.fromisoformat(started)
    clock = (at.astimezone(prep.zone) if at.tzinfo is not None else at).time()
    for window, start, end in prep.windows:
        if _inside(clock, start, end):
            shown = f"{clock:%H:%M}"
            yield Hit(None, 0.0, 0.0, matched=shown, values={
                "detail": f"外呼时间 {shown} 在对方休息时间({window})内",
                "time": shown, "window": window})
            return
