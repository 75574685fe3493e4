"""required_phrase: something a speaker (by default the agent) must say within a scope.

Give ``phrases`` (any one of them will do) and/or ``groups``: named phrase lists that must
*all* be present, each by any of its phrases, possibly in different utterances of the scope
(``您好`` in the first sentence, ``工号3021`` in the second). When a group is missing the
finding names it; when the phrases were said but outside the scope (a greeting 40 s into the
call) the finding says where they were found.

The phrase options of :mod:`csqa.rules.conditions` (``match: word``, ``near``,
``unless_before``, ``ignore_quoted``) decide which occurrences count, for every group.

Not evaluable when the speaker says nothing at all in the call (a wrong channel or an
empty transcript is not the agent's omission).

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

from csqa.matching import CallView, PhraseBank
from csqa.model import Hit, Utterance
from csqa.rules.base import NotEvaluable, Phrase, Scope, Speaker, in_scope, speaker_utterances
from csqa.rules.base import Params as BaseParams
from csqa.rules.conditions import PhraseMatcher, PhraseOptions

KIND = "required_phrase"


class Group(BaseModel):
    """A named part of the required wording, e.g. 问候语 or 自报身份."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, description="what this part is called in findings")
    phrases: list[Phrase] = Field(min_length=1, description="any of these satisfies the part")


class RequiredParams(BaseParams, PhraseOptions):
    """Options shared by every required-wording kind (required_phrase, greeting, closing)."""

    phrases: list[Phrase] = Field(default_factory=list, description="any one of these must be said")
    groups: list[Group] = Field(default_factory=list, description="named parts that must all be said")
    speaker: Speaker = Field("agent", description="who must say it: agent, customer or any")

    @model_validator(mode="after")
    def _something_required(self) -> RequiredParams:
        if not self.phrases and not self.groups:
            raise ValueError("give phrases or groups")
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


def prepare(params: RequiredParams, bank: PhraseBank) -> Prepared:
    groups = tuple((g.name, PhraseMatcher(g.phrases, params, bank)) for g in params.all_groups())
    return Prepared(params=params, scope=params.effective_scope(), groups=groups)


def _missing(call: CallView, utts: list[Utterance],
             groups: tuple[tuple[str, PhraseMatcher], ...]) -> list[str]:
    return [name for name, m in groups if not any(m.said(call, u.index) for u in utts)]


def check(call: CallView, prep: Prepared) -> Iterator[Hit]:
    speaker = prep.params.speaker
    everything = speaker_utterances(call, speaker)
    if not everything:
        raise NotEvaluable("该角色在通话中没有发言" if call.utterances else "转写为空")
    scoped = in_scope(call, speaker, prep.scope)
    missing = _missing(call, scoped, prep.groups)
    if not missing:
        return
    where = prep.scope.describe() if prep.scope else "全程"
    anchor = scoped[0] if scoped else (everything[-1] if _looks_at_end(prep.scope) else everything[0])
    if prep.scope is not None and not _missing(call, everything, prep.groups):
        found = next(u for u in everything if u not in scoped and any(
            m.said(call, u.index) for _, m in prep.groups))
        detail = f"在第 {found.start:.1f} 秒说出,不在规定范围({where})内"
        yield Hit(found.index, found.start, found.end, matched=found.text,
                  values={"detail": detail, "missing": "、".join(missing), "where": where})
        return
    detail = f"{where}内缺少:{'、'.join(missing)}"
    yield Hit(anchor.index, anchor.start, anchor.end, matched="",
              values={"detail": detail, "missing": "、".join(missing), "where": where})


def _looks_at_end(scope: Scope | None) -> bool:
    return scope is not None and (scope.last_seconds is not None or scope.last_utterances is not None)
