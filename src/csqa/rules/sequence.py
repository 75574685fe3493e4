"""sequence: when something happens, something else must follow (or must have come first).

``when`` is the trigger and ``then`` the required behaviour, both conditions of
:mod:`csqa.rules.conditions` (``agent_says``/``customer_says`` with the phrase options,
``call_longer_than``, ``hold``, ``tag``, ``all``/``any``/``not``). ``then_within`` bounds how
soon: ``seconds`` after the trigger utterance ends and/or ``agent_turns`` agent utterances
(both must hold when both are given; no bound means "by the end of the call"). ``then_before``
adds an order: the required behaviour must come before any of these (an apology *before* an
explanation). With ``direction: before`` the behaviour must instead come *before* the trigger
(identity verification before account details; the satisfaction question before the farewell),
within the same bounds counted backwards.

A trigger that comes while an earlier one is still being answered (the customer complaining
over several sentences) belongs to that earlier one, so one complaint gives one finding. The
finding points at the trigger utterance (at the explanation, when it came first), with a
``{detail}`` sentence, the ``{trigger}`` text and, when the behaviour came too late, ``{delay}``.
A call where the trigger never happens passes.

Example (fires on utterance 1: the empathy comes 40 s after the complaint)::

    - id: empathy_after_complaint
      kind: sequence
      when: {customer_says: [投诉, 太差, 生气]}
      then: {agent_says: [抱歉, 理解您的心情]}
      then_within: {seconds: 15, agent_turns: 2}
      then_before: {agent_says: [因为, 原因是]}

    [00:00:05.0-00:00:09.0] 客户: 你们的服务太差了,我要投诉!
    [00:00:49.0-00:00:52.0] 坐席: 非常抱歉给您带来不便。

Passes when the agent says 非常抱歉,我理解您的心情 in the next turn, before any explanation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from csqa.matching import CallView, PhraseBank
from csqa.model import AGENT, Hit, Utterance
from csqa.rules.base import Params as BaseParams
from csqa.rules.conditions import Compiled, Condition, Occurrence, compile_condition, occurrences

KIND = "sequence"


class Window(BaseModel):
    """How soon the required behaviour must come: seconds and/or agent turns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seconds: float | None = Field(None, ge=0, description="within N s of the trigger")
    agent_turns: int | None = Field(None, ge=1, description="within the agent's next N utterances")

    @model_validator(mode="after")
    def _some_bound(self) -> Window:
        if self.seconds is None and self.agent_turns is None:
            raise ValueError("give seconds, agent_turns or both")
        return self

    def describe(self) -> str:
        parts = []
        if self.seconds is not None:
            parts.append(f"{self.seconds:g} 秒")
        if self.agent_turns is not None:
            parts.append(f"坐席 {self.agent_turns} 句")
        return "且".join(parts)


class Params(BaseParams):
    when: Condition = Field(description="the trigger")
    then: Condition = Field(description="the behaviour required after (or before) the trigger")
    then_within: Window | None = Field(None, description="how soon (default: any time)")
    then_before: Condition | None = Field(None, description="the behaviour must come before any of this")
    direction: Literal["after", "before"] = Field("after", description="after: follow the trigger; before: precede it")
    when_label: str | None = Field(None, description="what the trigger is called in findings (e.g. 客户投诉)")
    then_label: str | None = Field(None, description="what the behaviour is called in findings (e.g. 安抚致歉)")

    @model_validator(mode="after")
    def _before_only_after(self) -> Params:
        if self.then_before is not None and self.direction == "before":
            raise ValueError("then_before goes with direction: after")
        return self


@dataclass(slots=True, frozen=True)
class Prepared:
    params: Params
    when: Compiled
    then: Compiled
    then_before: Compiled | None


def prepare(params: Params, bank: PhraseBank) -> Prepared:
    return Prepared(
        params=params,
        when=compile_condition(params.when, bank),
        then=compile_condition(params.then, bank),
        then_before=compile_condition(params.then_before, bank) if params.then_before else None,
    )


def _anchor(call: CallView, occ: Occurrence) -> tuple[float, float, int, str]:
    """(start, end, utterance index, text) of a trigger; a call-level trigger is the call start."""
    if occ.utterance is None:
        return 0.0, 0.0, -1, ""
    u = call.utterances[occ.utterance]
    return u.start, u.end, u.index, u.text[occ.match.start : occ.match.end]


def _first(call: CallView, cond: Compiled, u: Utterance, after_pos: int | None,
           before_pos: int | None) -> int | None:
    """Offset of the first place ``cond`` holds in ``u`` (restricted around the trigger)."""
    for m in cond.at(call, u.index):
        if after_pos is not None and m.start < after_pos:
            continue
        if before_pos is not None and m.end > before_pos:
            continue
        return m.start
    return None


def check(call: CallView, prep: Prepared) -> Iterator[Hit]:
    if prep.params.direction == "before":
        yield from _check_before(call, prep)
    else:
        yield from _check_after(call, prep)


def _labels(prep: Prepared) -> tuple[str, str]:
    p = prep.params
    return p.when_label or prep.when.label(), p.then_label or prep.then.label()


def _check_after(call: CallView, prep: Prepared) -> Iterator[Hit]:
    p = prep.params
    win = p.then_within
    when_label, then_label = _labels(prep)
    busy_until = -1  # utterances up to here belong to a trigger already handled
    for occ in occurrences(call, prep.when):
        if occ.utterance is not None and occ.utterance <= busy_until:
            continue
        t_start, t_end, t_index, t_text = _anchor(call, occ)
        agent_turns = 0
        outcome: tuple[str, Utterance] | None = None
        last_in_window = t_index
        for u in call.utterances[max(t_index, 0):]:
            same = u.index == t_index
            if not same:
                if u.speaker == AGENT:
                    agent_turns += 1
                if win is not None and not _in_window(win, u.start - t_end, agent_turns):
                    break
            last_in_window = u.index
            pos_after = occ.match.end if same else None
            then_at = _first(call, prep.then, u, pos_after, None)
            expl_at = (_first(call, prep.then_before, u, pos_after, None)
                       if prep.then_before is not None else None)
            if expl_at is not None and (then_at is None or expl_at < then_at):
                outcome = ("explained", u)
                break
            if then_at is not None:
                outcome = ("done", u)
                break
        if outcome is not None and outcome[0] == "done":
            busy_until = outcome[1].index
            continue
        values = {"trigger": t_text, "when": when_label, "then": then_label}
        if outcome is not None:  # explained before the required behaviour
            u = outcome[1]
            busy_until = u.index
            detail = f"{when_label}(第 {t_start:.1f} 秒)后,未先{then_label}就先作解释"
            yield Hit(u.index, u.start, u.end, matched=u.text,
                      values={**values, "detail": detail, "delay": None})
            continue
        busy_until = last_in_window if win is not None else len(call.utterances)
        late = _later(call, prep.then, max(last_in_window + 1, 0))
        where = f" {win.describe()}内" if win is not None else ""
        if late is not None:
            delay = round(late.start - t_end, 2)
            detail = f"{when_label}后{where}未{then_label}(第 {late.start:.1f} 秒才做到,晚了 {delay:g} 秒)"
        else:
            delay = None
            detail = f"{when_label}后{where}未{then_label}"
        if t_index < 0:
            yield Hit(None, 0.0, call.transcript.length, matched="",
                      values={**values, "detail": detail, "delay": delay})
        else:
            u = call.utterances[t_index]
            yield Hit(t_index, u.start, u.end, matched=t_text,
                      values={**values, "detail": detail, "delay": delay})


def _in_window(win: Window, seconds_after: float, agent_turns: int) -> bool:
    if win.seconds is not None and seconds_after > win.seconds:
        return False
    return not (win.agent_turns is not None and agent_turns > win.agent_turns)


def _later(call: CallView, cond: Compiled, start_index: int) -> Utterance | None:
    for u in call.utterances[start_index:]:
        if cond.at(call, u.index):
            return u
    return None


def _check_before(call: CallView, prep: Prepared) -> Iterator[Hit]:
    p = prep.params
    win = p.then_within
    when_label, then_label = _labels(prep)
    reported = False  # one omission is reported once, until the behaviour is seen again
    seen_then_upto = -1
    for occ in occurrences(call, prep.when):
        if occ.utterance is None:
            continue  # a call-level trigger has no "before"
        t = call.utterances[occ.utterance]
        agent_turns = 0
        found = False
        for u in reversed(call.utterances[: t.index + 1]):
            same = u.index == t.index
            if not same:
                if u.speaker == AGENT:
                    agent_turns += 1
                if win is not None and not _in_window(win, t.start - u.end, agent_turns):
                    break
            if _first(call, prep.then, u, None, occ.match.start if same else None) is not None:
                found = True
                break
        if found:
            reported = False
            continue
        if reported and not any(prep.then.at(call, i) for i in range(seen_then_upto + 1, t.index + 1)):
            continue
        reported = True
        seen_then_upto = t.index
        where = f"前{win.describe()}内" if win is not None else "之前"
        detail = f"{when_label}{where}未{then_label}"
        yield Hit(t.index, t.start, t.end, matched=t.text[occ.match.start : occ.match.end],
                  values={"trigger": t.text[occ.match.start : occ.match.end], "when": when_label,
                          "then": then_label, "detail": detail, "delay": None})
