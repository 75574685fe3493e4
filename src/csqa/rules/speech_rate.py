"""speech_rate: the agent's speaking speed, in characters per minute (字/分钟).

Counts the agent's characters (punctuation and spaces excluded) over the agent's speaking time
(the sum of their utterances' durations, so pauses and the customer's turns do not count),
and fires once per call when the rate is below ``min_cpm`` or above ``max_cpm``. The norms:
语速适中,每分钟应保持在120个字左右. Not evaluable when the agent spoke for less than
``min_speaking_seconds`` *and* said fewer than ``min_chars`` characters (too little speech to
measure). Either is enough: over 20 s a timestamp off by half a second moves the rate by under
3 %; and 80 characters said in under 20 s are over 240 字/分钟, a third above the fast limit, by
their count alone (more than a second's timestamp error or a few misrecognised characters can
make up), so a fast agent who finishes sooner is still judged (83 characters in 17 s: 293 字/分钟).

Not evaluable for a transcript without per-utterance times (``timing: none``).

Example (fires: 90 characters in 15 s of speech is 360 字/分钟)::

    [00:00:00.0-00:00:15.0] 坐席: (90 characters)

Passes at 120 字/分钟.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field, model_validator

from csqa.matching import CallView, PhraseBank
from csqa.model import AGENT, Hit
from csqa.rules.base import NotEvaluable, require_timing
from csqa.rules.base import Params as BaseParams

KIND = "speech_rate"


class Params(BaseParams):
    min_cpm: float = Field(90.0, ge=0, description="slowest acceptable rate, characters per minute")
    max_cpm: float = Field(180.0, gt=0, description="fastest acceptable rate, characters per minute")
    min_speaking_seconds: float = Field(
        20.0, ge=0,
        description="below this much agent speech (and min_chars) the rate is not evaluable")
    min_chars: int = Field(
        80, ge=0, description="agent characters that are enough to measure the rate in less time")

    @model_validator(mode="after")
    def _range(self) -> Params:
        if self.min_cpm >= self.max_cpm:
            raise ValueError("min_cpm 应小于 max_cpm")
        return self


def prepare(params: Params, bank: PhraseBank) -> Params:
    return params


def agent_rate(call: CallView) -> tuple[float, float, int]:
    """(characters per minute, speaking seconds, characters) of the agent."""
    seconds = 0.0
    chars = 0
    for u in call.utterances:
        if u.speaker == AGENT:
            seconds += max(0.0, u.end - u.start)
            chars += len(call.folded(u.index))
    return (chars / seconds * 60.0 if seconds > 0 else 0.0), seconds, chars


def check(call: CallView, params: Params) -> Iterator[Hit]:
    require_timing(call)
    rate, seconds, chars = agent_rate(call)
    if seconds < params.min_speaking_seconds and chars < params.min_chars:
        raise NotEvaluable(f"坐席发言仅 {seconds:.0f} 秒、{chars} 字,不足以计算语速")
    if params.min_cpm <= rate <= params.max_cpm:
        return
    side = "过快" if rate > params.max_cpm else "过慢"
    detail = f"语速{side}:{rate:.0f} 字/分钟(规范 {params.min_cpm:g}–{params.max_cpm:g})"
    yield Hit(None, 0.0, call.transcript.length, matched=f"{rate:.0f} 字/分钟",
              values={"rate": round(rate, 1), "seconds": round(seconds, 1), "chars": chars,
                      "detail": detail})
