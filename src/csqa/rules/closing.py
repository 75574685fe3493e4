"""closing: the agent's closing words (结束语, or the satisfaction question) must end the call.

The agent's last ``last_utterances`` utterances (optionally only those in the last
``last_seconds`` seconds) must contain every group of the closing: by default a thanks or
farewell (感谢您的来电/祝您生活愉快/再见). A second rule of this kind with the satisfaction
question (请问您对本次服务是否满意) checks 满意度询问. Not evaluable when the agent never speaks.

Example (fires on the agent's last utterance)::

    [00:03:10.0-00:03:11.0] 坐席: 行,就这样。

Passes::

    [00:03:10.0-00:03:14.0] 坐席: 感谢您的来电,祝您生活愉快,再见!
"""

from __future__ import annotations

from pydantic import Field

from csqa.rules.base import Scope
from csqa.rules.required_phrase import Group, RequiredParams
from csqa.rules.required_phrase import check as check  # same evaluation, its own defaults
from csqa.rules.required_phrase import prepare as prepare

KIND = "closing"

DEFAULT_GROUPS = [
    Group(name="结束语", phrases=["感谢您的来电", "感谢来电", "祝您生活愉快", "再见"]),
]


class Params(RequiredParams):
    groups: list[Group] = Field(default_factory=lambda: list(DEFAULT_GROUPS),
                                description="parts of the closing that must all be said")
    last_utterances: int = Field(2, ge=1, description="the closing must be in the agent's last N utterances")
    last_seconds: float | None = Field(None, ge=0, description="and, if set, within the last N s of the call")

    def effective_scope(self) -> Scope:
        return Scope(last_utterances=self.last_utterances, last_seconds=self.last_seconds)
