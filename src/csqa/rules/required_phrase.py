"""required_phrase: something a speaker (by default the agent) must say within a scope.

Give ``phrases`` (any one of them will do) and/or ``groups``: named phrase lists that must
*all* be present, each by any of its phrases, possibly in different utterances of the scope
(``您好`` in the first sentence, ``工号3021`` in the second). When a group is missing the
finding names it; when the phrases were said but outside the scope (a greeting 40 s into the
call) the finding says where they were found. A missing part is a finding about where it was
expected, not about one utterance: ``utterance`` is null and ``start``/``end`` span the scope
(from the first to the last of the speaker's utterances in it), so no unrelated line is shown
as its evidence.

Matching is ``tolerance: pinyin`` by default (see :mod:`csqa.tolerant`): a missing required
phrase costs the agent points, and ASR homophones (感谢您的来店) or a swallowed character
(很高兴您服务) are not the agent's omission. When a part is still missing, the finding names
what came closest and how close (``最接近:“很高心为您”0.71``, also ``{closest}`` and
``{similarity}`` for message templates), so a reviewer sees at once whether it is an ASR slip
or a real omission. ``tolerance: exact`` turns this off.

The phrase options of :mod:`csqa.rules.conditions` (``match: word``, ``near``,
``unless_before``, ``ignore_quoted``) decide which occurrences count, for every group.

Not evaluable when the speaker says nothing at all in the call (a wrong channel or an
empty transcript is not the agent's omission), and when the wording is missing but the
transcript is visibly cut at the end the scope looks at (:mod:`csqa.coverage`): the start for
``first_*`` scopes (greeting), the end for ``last_*`` scopes (closing), either for no scope.

Example (fires: the agent never confirms the address)::

    - id: confirm_address
      kind: required_phrase
      phrases: [地址是, 核对一下地址]
      scope: {last_seconds: 120}

Passes when the agent says 我跟您核对一下地址 in the last two minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

from csqa.coverage import describe, truncation
from csqa.matching import CallView, NearMiss, PhraseBank
from csqa.model import Hit, Utterance
from csqa.rules.base import (
    TOLERANCE_HELP,
    MeaningParams,
    NotEvaluable,
    Phrase,
    Scope,
    Speaker,
    TolerantParams,
    in_scope,
    speaker_utterances,
)
from csqa.rules.conditions import PhraseMatcher, PhraseOptions
from csqa.tolerant import Tolerance

KIND = "required_phrase"

#: a reworded or damaged wording counts when this similar to a like example (no shared
#: counter-examples here: polite talk is what these rules want, so the bar is absolute)
REQUIRED_LIKE_SIMILARITY = 0.6


class Group(BaseModel):
    """A named part of the required wording, e.g. 问候语 or 自报身份."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, description="what this part is called in findings")
    phrases: list[Phrase] = Field(min_length=1, description="any of these satisfies the part")


class RequiredParams(TolerantParams, PhraseOptions, MeaningParams):
    """Options shared by every required-wording kind (required_phrase, greeting, closing)."""

    tolerance: Tolerance = Field("pinyin", description=TOLERANCE_HELP)
    like_similarity: float = Field(REQUIRED_LIKE_SIMILARITY, ge=0, le=1,
                                   description="how similar (0–1) the nearest like example must be at least")

    phrases: list[Phrase] = Field(default_factory=list, description="any one of these must be said")
    groups: list[Group] = Field(default_factory=list, description="named parts that must all be said")
    speaker: Speaker = Field("agent", description="who must say it: agent, customer or any")

    @model_validator(mode="after")
    def _something_required(self) -> RequiredParams:
        if not self.phrases and not self.groups:
            raise ValueError("需要给出 phrases 或 groups")
        return self

    def all_groups(self) -> list[Group]:
        extra = [Group(name="规定用语", phrases=self.phrases)] if self.phrases else []
        return extra + list(self.groups)

    def effective_scope(self) -> Scope | None:
        raise NotImplementedError


class Params(RequiredParams):
    scope: Scope | None = Field(None, description="where the phrase must appear (default: anywhere)")

    def effective_scope(self) -> Scope | None:
        return self.scope


@dataclass(slots=True, frozen=True)
class Prepared:
    params: RequiredParams
    scope: Scope | None
    groups: tuple[tuple[str, PhraseMatcher], ...]  # (group name, its phrases)
    meaning: int | None  # the MeaningBank set of the wording said in other words (``like``)


def prepare(params: RequiredParams, bank: PhraseBank) -> Prepared:
    groups = tuple((g.name, PhraseMatcher(g.phrases, params, bank, tolerance=params.tolerance,
                                          similarity=params.similarity))
                   for g in params.all_groups())
    meaning = params.add_meaning(bank, list(params.like), shared=False) if params.like else None
    return Prepared(params=params, scope=params.effective_scope(), groups=groups, meaning=meaning)


def _meant(call: CallView, set_id: int | None, utts: list[Utterance]) -> bool:
    """Whether one of ``utts`` says the wording in other words (an ASR-damaged or reworded
    opening: 您好高兴服务)."""
    if set_id is None:
        return False
    j = call.bank.meaning.judge_any(set_id, [call.plain(u.index) for u in utts])
    return j is not None and j.holds


def _missing(call: CallView, utts: list[Utterance],
             groups: tuple[tuple[str, PhraseMatcher], ...]) -> list[str]:
    return [name for name, m in groups if not m.said_any(call, utts)]


def check(call: CallView, prep: Prepared) -> Iterator[Hit]:
    speaker = prep.params.speaker
    everything = speaker_utterances(call, speaker)
    if not everything:
        raise NotEvaluable("该角色在通话中没有发言" if call.utterances else "转写为空")
    scoped = in_scope(call, speaker, prep.scope)
    missing = _missing(call, scoped, prep.groups)
    if not missing or _meant(call, prep.meaning, scoped):
        return
    where = prep.scope.describe() if prep.scope else "全程"
    if prep.scope is not None and not _missing(call, everything, prep.groups):
        found = next(u for u in everything if u not in scoped and any(
            m.said(call, u.index) for _, m in prep.groups))
        detail = f"在第 {found.start:.1f} 秒说出,不在规定范围({where})内"
        yield Hit(found.index, found.start, found.end, matched=found.text,
                  values={"detail": detail, "missing": "、".join(missing), "where": where})
        return
    cut = truncation(call.transcript) & _ends_looked_at(prep.scope)
    if cut:
        raise NotEvaluable(f"{describe(cut)},无法判断{where}是否说出:{'、'.join(missing)}")
    values: dict[str, object] = {"missing": "、".join(missing), "where": where,
                                 "closest": "", "similarity": ""}
    near: list[str] = []
    indexes = [u.index for u in scoped]
    for name, matcher in prep.groups:
        if name not in missing:
            continue
        miss = call.closest(matcher.set_id, indexes)
        if miss is None:
            continue
        near.append(_near_text(name, miss, len(missing) > 1))
        if not values["closest"]:
            values["closest"], values["similarity"] = miss.text, miss.similarity
    detail = f"{where}内缺少:{'、'.join(missing)}"
    if near:
        detail += "(" + ";".join(near) + ")"
    values["detail"] = detail
    start, end = _window(call, scoped, prep.scope)
    yield Hit(None, start, end, matched="", values=values)


def _window(call: CallView, scoped: list[Utterance], scope: Scope | None) -> tuple[float, float]:
    """Where the missing wording was expected: from the first to the last utterance in scope,
    or the scope's own time span when it holds none of the speaker's utterances.

    A finding about something absent points at that span, not at an utterance of it: the
    utterance would be shown as the evidence, and it is not what the finding is about.
    """
    if scoped:
        return scoped[0].start, scoped[-1].end
    length = call.transcript.length
    if scope is not None and call.transcript.has_timing:
        if scope.first_seconds is not None:
            return 0.0, min(scope.first_seconds, length)
        if scope.last_seconds is not None:
            return max(0.0, length - scope.last_seconds), length
    return 0.0, length


def _near_text(group: str, miss: NearMiss, named: bool) -> str:
    prefix = f"{group} " if named else ""
    return f"{prefix}最接近:“{miss.text}”{miss.similarity:.2f}"


def _ends_looked_at(scope: Scope | None) -> frozenset[str]:
    """Which ends of the call a scope depends on (truncation there hides the wording)."""
    if scope is None:
        return frozenset({"start", "end"})
    ends = set()
    if scope.first_utterances is not None or scope.first_seconds is not None:
        ends.add("start")
    if scope.last_utterances is not None or scope.last_seconds is not None:
        ends.add("end")
    return frozenset(ends)
