"""silence: dead air between turns (冷场), and holds that were not announced or ran too long.

A stretch where nobody speaks that is longer than ``max_gap`` seconds is a finding, unless
the wait was announced in one of the two utterances before it (the agent: 请您稍等/我帮您查询一下;
or the customer: 我找一下/您等一下), in which case up to ``hold_max`` seconds are allowed and
only a longer hold is a finding. The agent's return ends the hold: once the agent speaks again
after a silence (让您久等了), further dead air is judged without the announcement. The finding
points at the utterance before the silence, with the silence's own start and end times,
``{gap}`` seconds and a ``{detail}`` sentence.

Not evaluable for a transcript without per-utterance times (``timing: none``). A mono
recording is still measured: its utterance times show the gaps.

Example (fires on utterance 0: 25 s of unannounced silence)::

    [00:00:10.0-00:00:12.0] 坐席: 您的订单号是多少?
    [00:00:37.0-00:00:40.0] 客户: 二零二六一一二一。

Passes (announced, 40 s ≤ 60 s)::

    [00:00:10.0-00:00:12.0] 坐席: 好的,请您稍等,我帮您查询一下。
    [00:00:52.0-00:00:55.0] 坐席: 感谢您的耐心等待。
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from csqa.matching import CallView
from csqa.model import Hit
from csqa.rules.base import announced_hold, gaps, require_timing
from csqa.rules.holds import HoldParams, HoldPrepared, prepare_hold

KIND = "silence"



class Params(HoldParams):
    max_gap: float = Field(10.0, gt=0, description="seconds of silence allowed without an announced hold")
    hold_max: float = Field(60.0, gt=0, description="seconds of silence allowed after an announced hold")


prepare = prepare_hold  # registers the hold phrase sets


def check(call: CallView, prep: HoldPrepared) -> Iterator[Hit]:
    require_timing(call)
    p = prep.params
    for before, after, gap_start in gaps(call):
        gap = after.start - gap_start
        if gap <= p.max_gap:
            continue
        held = announced_hold(call, before, prep.hold, prep.customer_hold, p.max_gap)
        if held and gap <= p.hold_max:
            continue
        if held:
            detail = f"已告知等待,但等待 {gap:.0f} 秒,超过 {p.hold_max:g} 秒"
        else:
            detail = f"未告知客户等待,静音 {gap:.0f} 秒(上限 {p.max_gap:g} 秒)"
        yield Hit(before.index, round(gap_start, 3), round(after.start, 3), matched="",
                  values={"gap": round(gap, 2), "held": held, "detail": detail,
                          "limit": p.hold_max if held else p.max_gap})
