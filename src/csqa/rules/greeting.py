"""greeting: the agent's opening (开场白) must come at the start of the call.

The agent's first ``first_utterances`` utterances that start within ``within_seconds`` of
the call start must contain every group of the opening: by default a greeting word (您好)
and a self-introduction or service phrase (我是…/工号/很高兴为您服务). An opening said later
than that is reported with the time it came; an opening never said is reported as missing,
naming the parts that were not said. Not evaluable when the agent never speaks.

Example (fires on utterance 0: no self-introduction)::

    [00:00:00.8-00:00:02.0] 坐席: 喂,什么事?

Passes::

    [00:00:00.8-00:00:04.6] 坐席: 您好,很高兴为您服务,我是客服代表小王。
"""

from __future__ import annotations

from pydantic import Field

from csqa.rules.base import Scope
from csqa.rules.required_phrase import Group, RequiredParams
from csqa.rules.required_phrase import check as check  # same evaluation, its own defaults
from csqa.rules.required_phrase import prepare as prepare

KIND = "greeting"

DEFAULT_GROUPS = [
    Group(name="问候语", phrases=["您好", "你好"]),
    Group(name="自报身份", phrases=["很高兴为您服务", "我是", "工号", "客服代表", "这里是"]),
]


class Params(RequiredParams):
    groups: list[Group] = Field(default_factory=lambda: list(DEFAULT_GROUPS),
                                description="parts of the opening that must all be said")
    within_seconds: float = Field(15.0, ge=0, description="the opening must start within N s of the call start")
    first_utterances: int = Field(2, ge=1, description="and be in the agent's first N utterances")

    def effective_scope(self) -> Scope:
        return Scope(first_seconds=self.within_seconds, first_utterances=self.first_utterances)
