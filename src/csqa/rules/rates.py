"""What the per-agent-minute measures (``filler_words``, ``jargon``) share.

Each counts occurrences in the agent's speech, divides by the agent's speaking minutes (the
sum of the agent's utterance durations), and gives one call-level finding when the rate is
above ``max_per_minute`` and at least ``min_count`` occurrences were found. Calls with less
than ``min_agent_seconds`` of agent speech are not judged (a rate over a few seconds says
nothing) and pass; a call where the agent never speaks is not evaluable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pydantic import Field

from csqa.matching import CallView
from csqa.model import AGENT, Hit
from csqa.rules.base import NotEvaluable
from csqa.rules.base import Params as BaseParams


class RateParams(BaseParams):
    """Thresholds of a per-agent-minute measure."""

    max_per_minute: float = Field(2.0, ge=0, description="most occurrences allowed per agent minute")
    min_count: int = Field(3, ge=1, description="fewer occurrences than this never fire")
    min_agent_seconds: float = Field(20.0, ge=0, description="below this much agent speech the rate is not judged")


@dataclass(slots=True, frozen=True)
class Counted:
    """One occurrence: the utterance it is in and the word as said."""

    utterance: int
    word: str


def agent_seconds(call: CallView) -> float:
    """How long the agent spoke, in seconds (once per call)."""
    got = call.facts.agent_seconds
    if got is None:
        # the sum of max(0.0, end - start) over the agent's utterances: the ones that do not
        # end after they start add nothing, and a list is summed faster than a generator
        got = call.facts.agent_seconds = float(sum(
            [u.end - u.start for u in call.utterances if u.speaker == AGENT and u.end > u.start]))
    return got


def rate_hits(call: CallView, params: RateParams, found: list[Counted], what: str) -> Iterator[Hit]:
    """The call-level finding for ``found`` occurrences of ``what`` (e.g. 语气词), if over the limit."""
    seconds = agent_seconds(call)
    if seconds <= 0:
        raise NotEvaluable("坐席在通话中没有发言")
    if seconds < params.min_agent_seconds:
        return
    rate = len(found) / (seconds / 60.0)
    if len(found) < params.min_count or rate <= params.max_per_minute:
        return
    counts = Counter(c.word for c in found)
    matched = "、".join(f"{w}×{n}" for w, n in counts.most_common())
    detail = (f"{what} {len(found)} 次,每分钟 {rate:.1f} 次(上限 {params.max_per_minute:g}):"
              f"{matched}")
    yield Hit(None, 0.0, call.transcript.length, matched=matched,
              values={"count": len(found), "per_minute": round(rate, 2),
                      "utterances": sorted({c.utterance for c in found}), "detail": detail})


def may_fire(call: CallView, params: RateParams, most: Callable[[], int | None]) -> bool:
    """Whether :func:`rate_hits` can give a finding when at most ``most()`` occurrences are
    found (``None``: no bound known); ``most`` is asked only when the agent's speaking time
    leaves it open. ``True`` when the call is not evaluable, so that :func:`rate_hits` says so."""
    seconds = agent_seconds(call)
    if seconds <= 0:
        return True
    if seconds < params.min_agent_seconds:
        return False
    bound = most()
    if bound is None:
        return True
    # the rate grows with the count, so the bound's rate bounds the rate found
    return bound >= params.min_count and bound / (seconds / 60.0) > params.max_per_minute
