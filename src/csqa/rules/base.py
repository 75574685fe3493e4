"""What every rule kind shares: the params base model, scopes, and the "not evaluable" signal.

A rule kind is a module in ``csqa.rules`` with:

- ``KIND``: its name, as it appears in rulesets and in findings' ``kind`` field;
- ``Params``: a pydantic model of its options, each with a default and a description;
- ``prepare(params, bank)``: compiles the params once per ruleset (registers phrase sets
  with the shared :class:`~csqa.matching.PhraseBank`) and returns what ``check`` needs;
- ``check(call, prepared)``: yields :class:`~csqa.model.Hit` for each violation, or raises
  :class:`NotEvaluable` when the call cannot show whether the rule was kept.

The module docstring is the kind's user documentation (``csqa rules``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from csqa.facts import Gap
from csqa.matching import CallView, PhraseBank
from csqa.meaning import DEFAULT_MARGIN, DEFAULT_MIN_SIMILARITY
from csqa.model import Utterance
from csqa.tolerant import DEFAULT_SIMILARITY, Tolerance

Speaker = Literal["agent", "customer", "any"]


class NotEvaluable(Exception):
    """The call cannot show whether the rule was kept (e.g. hang-up side unknown)."""


class Params(BaseModel):
    """Base of every kind's params: unknown keys are errors, values are checked strictly."""

    model_config = ConfigDict(extra="forbid", frozen=True)


TOLERANCE_HELP = "exact, fuzzy (edit distance) or pinyin (homophones too)"


class TolerantParams(Params):
    """Options of the phrase rules that can match tolerantly (see :mod:`csqa.tolerant`)."""

    tolerance: Tolerance = Field("exact", description=TOLERANCE_HELP)
    similarity: float = Field(DEFAULT_SIMILARITY, ge=0.5, le=1.0,
                              description="for fuzzy/pinyin: how similar (0.5–1) a stretch "
                                          "must be to a phrase")


class MeaningParams(Params):
    """Options of the rules that can match by meaning (see :mod:`csqa.meaning`)."""

    like: list[Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]] = Field(
        default_factory=list, description="example sentences of what the rule looks for (by meaning)")
    unlike: list[Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]] = Field(
        default_factory=list, description="counter-examples: sentences near in words that must not count")
    margin: float = Field(DEFAULT_MARGIN, ge=-0.2, le=1,
                          description="how much nearer (−0.2–1) the nearest like example must be than the "
                                      "nearest unlike one; for a rule judged by its classifier (forbidden "
                                      "rules), added to the probability it must give (0.40 at the default)")
    like_similarity: float = Field(DEFAULT_MIN_SIMILARITY, ge=0, le=1,
                                   description="how similar (0–1) the nearest like example must be at least")

    def add_meaning(self, bank: PhraseBank, like: list[str], shared: bool) -> int | None:
        """Register ``like`` (the rule's examples, its phrases among them) and ``unlike``;
        ``shared`` weighs them against the ruleset's shared counter-examples too."""
        return bank.meaning.add(like, self.unlike, shared=shared, margin=self.margin,
                                min_similarity=self.like_similarity)


def require_timing(call: CallView) -> None:
    """Raise :class:`NotEvaluable` when the transcript has no per-utterance times."""
    if not call.transcript.has_timing:
        raise NotEvaluable("转写没有逐句时间,无法评估")


def require_overlap(call: CallView) -> None:
    """Raise :class:`NotEvaluable` unless overlapping speech can be seen (times, two channels)."""
    require_timing(call)
    if not call.transcript.has_overlap:
        raise NotEvaluable("单声道录音,无重叠语音信息,无法评估")


def outbound_only(call: CallView) -> bool:
    """Whether a rule about calls the agent places applies: ``True`` for an outbound call,
    ``False`` for an inbound one (nothing to judge, the rule passes); raise
    :class:`NotEvaluable` when the direction is unknown."""
    direction = call.transcript.direction
    if direction is None:
        raise NotEvaluable("呼叫方向未知(呼入/外呼),无法评估")
    return direction == "outbound"


class Scope(BaseModel):
    """Where in the call a phrase rule looks. At most one bound of each family may be given.

    ``first_seconds``/``last_seconds`` bound by time from the call start/end;
    ``first_utterances``/``last_utterances`` take the first/last N utterances *of the rule's
    speaker*. A time bound and an utterance bound may be combined (both must hold).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_seconds: float | None = Field(None, ge=0, description="only utterances starting within N s of the call start")
    last_seconds: float | None = Field(None, ge=0, description="only utterances ending within N s of the call end")
    first_utterances: int | None = Field(None, ge=1, description="only the speaker's first N utterances")
    last_utterances: int | None = Field(None, ge=1, description="only the speaker's last N utterances")

    @model_validator(mode="after")
    def _one_of_each(self) -> Scope:
        if self.first_seconds is not None and self.last_seconds is not None:
            raise ValueError("first_seconds 和 last_seconds 只能给一个")
        if self.first_utterances is not None and self.last_utterances is not None:
            raise ValueError("first_utterances 和 last_utterances 只能给一个")
        return self

    def describe(self) -> str:
        parts = []
        if self.first_seconds is not None:
            parts.append(f"前 {self.first_seconds:g} 秒")
        if self.last_seconds is not None:
            parts.append(f"最后 {self.last_seconds:g} 秒")
        if self.first_utterances is not None:
            parts.append(f"前 {self.first_utterances} 句")
        if self.last_utterances is not None:
            parts.append(f"最后 {self.last_utterances} 句")
        return "、".join(parts) or "全程"


def speaker_utterances(call: CallView, speaker: str) -> list[Utterance]:
    """The utterances of ``speaker`` (``any`` for all), in order."""
    if speaker == "any":
        return list(call.utterances)
    by_speaker = call.facts.by_speaker
    got = by_speaker.get(speaker)
    if got is None:  # once per call and speaker, however many rules ask
        got = by_speaker[speaker] = [u for u in call.utterances if u.speaker == speaker]
    return list(got)


def in_scope(call: CallView, speaker: str, scope: Scope | None) -> list[Utterance]:
    """The utterances of ``speaker`` that fall inside ``scope`` (all of them when no scope)."""
    utts = speaker_utterances(call, speaker)
    if scope is None:
        return utts
    if scope.first_utterances is not None:
        utts = utts[: scope.first_utterances]
    elif scope.last_utterances is not None:
        utts = utts[-scope.last_utterances :]
    if not call.transcript.has_timing:  # time bounds cannot be applied; utterance bounds still are
        return utts
    if scope.first_seconds is not None:
        limit = scope.first_seconds
        utts = [u for u in utts if u.start <= limit]
    elif scope.last_seconds is not None:
        limit = call.transcript.length - scope.last_seconds
        utts = [u for u in utts if u.end >= limit]
    return utts


Phrase = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
"""A phrase to look for: a non-empty string, matched after folding (see :mod:`csqa.matching`)."""


def gaps(call: CallView) -> list[Gap]:
    """Every stretch where nobody speaks: (last utterance before, first after, gap start).

    Found once per call (silence, response delays and hold conditions all ask).
    """
    found = call.facts.gaps
    if found is None:
        found = call.facts.gaps = []
        last: Utterance | None = None
        for u in call.utterances:
            if last is not None and u.start > last.end:
                found.append((last, u, last.end))
            if last is None or u.end > last.end:
                last = u
    return found


def announced_hold(call: CallView, before: Utterance, agent_set: int, customer_set: int,
                   allowance: float, lookback: int = 2) -> bool:
    """Whether one of the last ``lookback`` utterances up to ``before`` announced a wait that
    is still going on.

    The agent announces with 请您稍等/我帮您查询一下; the customer asking for a moment
    (我找一下) counts too, for the wait is then theirs. The agent's return ends the hold: an
    agent utterance that announces nothing and comes after more than ``allowance`` seconds of
    silence (让您久等了 after the wait) stops the look back, so the dead air after it is not
    excused by the announcement before it.
    """
    for u in reversed(call.utterances[max(0, before.index - lookback + 1) : before.index + 1]):
        set_id = agent_set if u.speaker == "agent" else customer_set
        if call.contains(set_id, u.index):
            return True
        if u.speaker == "agent" and any(
            after is u and after.start - start > allowance for _, after, start in gaps(call)
        ):
            return False
    return False
