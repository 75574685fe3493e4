"""response_delay: the agent is slow to answer (响应不及时).

Two measures: the agent's first words must come within ``first_response`` seconds of the
call start (the norms: 电话接通后3声内响应), and after the customer finishes a turn the
agent's next turn must start within ``max_delay`` seconds, unless a wait was announced
(the same hold phrases as ``silence``). Delays longer than ``ignore_above`` are left to the
``silence`` rule so that one pause is not deducted twice. The finding points at the agent's
late utterance, from the moment the customer stopped to the moment the agent spoke.

Not evaluable for a transcript without per-utterance times (``timing: none``).

Example (fires on utterance 1, 7.0 s)::

    [00:00:05.0-00:00:08.0] 客户: 我想查一下维修进度。
    [00:00:15.0-00:00:17.0] 坐席: 好的。

Passes when the agent answers within 5 s.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from csqa.matching import CallView
from csqa.model import AGENT, CUSTOMER, Hit
from csqa.rules.base import announced_hold, gaps, require_timing
from csqa.rules.holds import HoldParams, HoldPrepared, prepare_hold

KIND = "response_delay"


class Params(HoldParams):
    first_response: float | None = Field(
        5.0, ge=0, description="the agent must speak within N s of the call start (null: not checked)")
    max_delay: float = Field(5.0, gt=0, description="seconds the customer may wait for the agent's answer")
    ignore_above: float | None = Field(None, gt=0, description="longer pauses are left to the silence rule")


prepare = prepare_hold  # registers the hold phrase sets


def check(call: CallView, prep: HoldPrepared) -> Iterator[Hit]:
    require_timing(call)
    p = prep.params
    first = next((u for u in call.utterances if u.speaker == AGENT), None)
    if first is not None and p.first_response is not None and first.start > p.first_response:
        yield Hit(first.index, 0.0, first.start, matched="",
                  values={"delay": round(first.start, 2),
                          "detail": f"接通后 {first.start:.1f} 秒才应答(上限 {p.first_response:g} 秒)"})
    for before, after, gap_start in gaps(call):
        if before.speaker != CUSTOMER or after.speaker != AGENT:
            continue
        delay = after.start - gap_start
        if delay <= p.max_delay or (p.ignore_above is not None and delay > p.ignore_above):
            continue
        if announced_hold(call, before, prep.hold, prep.customer_hold, p.max_delay):
            continue
        yield Hit(after.index, round(gap_start, 3), round(after.start, 3), matched="",
                  values={"delay": round(delay, 2),
                          "detail": f"客户说完后 {delay:.1f} 秒才回应(上限 {p.max_delay:g} 秒)"})
