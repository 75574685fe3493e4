"""hangup: the agent must not hang up before the customer (坐席先挂机).

Fires once per call when the call record says ``hangup_by: agent`` (the norms: 待客户挂断后
再挂断电话; 客户挂机前主动挂机 is a 服务禁忌). ``customer`` and ``system`` pass. An unknown
hang-up side (null, or no record) is *not evaluable*: never counted as a violation.

Example (fires)::

    # hangup_by: agent

Passes with ``hangup_by: customer``; not evaluable with no hang-up side.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import Field

from csqa.matching import CallView, PhraseBank
from csqa.model import AGENT, Hit
from csqa.rules.base import NotEvaluable
from csqa.rules.base import Params as BaseParams

KIND = "hangup"


class Params(BaseParams):
    forbidden_side: Literal["agent", "customer"] = Field(
        "agent", description="the side that must not end the call first")


def prepare(params: Params, bank: PhraseBank) -> Params:
    return params


def check(call: CallView, params: Params) -> Iterator[Hit]:
    side = call.transcript.hangup_by
    if side is None:
        raise NotEvaluable("挂机方未知")
    if side != params.forbidden_side:
        return
    end = call.transcript.length
    last = next((u for u in reversed(call.utterances) if u.speaker == AGENT), None)
    if last is None:
        yield Hit(None, end, end, matched=side, values={"side": side, "detail": "坐席在客户之前挂机"})
    else:
        yield Hit(last.index, last.start, last.end, matched=side, values={"side": side, "detail": "坐席在客户之前挂机"})
