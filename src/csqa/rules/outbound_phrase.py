"""outbound_phrase: what the agent must say at the start of a call the agent places (外呼).

The norms (拨打电话规范): 拨打电话时应明确拨打电话的目的; 向对方说明原因,并说声“对不起,
打扰了”. The agent's first ``first_utterances`` utterances must contain the ``phrases``
(any one) and every one of the ``groups``, e.g. the purpose (给您来电是想…) or the apology
(打扰了), matched as ``required_phrase`` matches them (``tolerance: pinyin`` by default).

Only outbound calls are judged: the call's ``direction`` comes from the transcript or the
call record (``--calls``). An inbound call passes, as a sequence rule passes a call without
its trigger (a *not evaluable* would re-weigh the score of every inbound call, see "Scoring");
a call whose direction is unknown is *not evaluable*.

Example (fires on the span of the agent's first utterances: an outbound call that never says why)::

    # direction: outbound
    [00:00:01.0-00:00:03.0] 坐席: 您好,请问是王先生吗?

Passes::

    # direction: outbound
    [00:00:01.0-00:00:06.0] 坐席: 您好,打扰您了,给您来电是想回访一下您的维修情况。
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from csqa.matching import CallView
from csqa.model import Hit
from csqa.rules import required_phrase
from csqa.rules.base import Scope, outbound_only
from csqa.rules.required_phrase import RequiredParams
from csqa.rules.required_phrase import prepare as prepare

KIND = "outbound_phrase"


class Params(RequiredParams):
    first_utterances: int = Field(3, ge=1, description="the wording must be in the agent's first N utterances")

    def effective_scope(self) -> Scope:
        return Scope(first_utterances=self.first_utterances)


def check(call: CallView, prep: required_phrase.Prepared) -> Iterator[Hit]:
    if outbound_only(call):
        yield from required_phrase.check(call, prep)
