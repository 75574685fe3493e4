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
finding points at the agent's first reply after a trigger of the customer's, where the
behaviour was missing (at the explanation, when that came first), and at the trigger itself
when the agent said it or said nothing after it, with a ``{detail}`` sentence, the
``{trigger}`` text and, when the behaviour came too late, ``{delay}``. A ``direction: before``
finding points at the trigger.
A call where the trigger never happens passes. ``first_only: true`` checks only the first
trigger (the customer's first statement of the problem). ``expect: absent`` turns the rule
round: the behaviour must *not* happen in the window (a farewell before the satisfaction
question), and the finding points at the utterance where it did.

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

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from csqa.matching import CallView, Match, PhraseBank
from csqa.model import AGENT, Hit, Utterance
from csqa.rules.base import Params as BaseParams
from csqa.rules.conditions import (
    Compiled,
    Condition,
    Occurrence,
    compile_condition,
    first_occurrence,
    occurrences,
)

KIND = "sequence"


class Window(BaseModel):
    """How soon the required behaviour must come: seconds and/or agent turns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seconds: float | None = Field(None, ge=0, description="within N s of the trigger")
    agent_turns: int | None = Field(None, ge=1, description="within the agent's next N utterances")

    @model_validator(mode="after")
    def _some_bound(self) -> Window:
        if self.seconds is None and self.agent_turns is None:
            raise ValueError("需要给出 seconds 或 agent_turns(或两者)")
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
    expect: Literal["present", "absent"] = Field(
        "present", description="present: the behaviour is required; absent: it must not happen there")
    first_only: bool = Field(False, description="check only the first trigger of the call")

    @model_validator(mode="after")
    def _before_only_after(self) -> Params:
        if self.then_before is not None and (self.direction == "before" or self.expect == "absent"):
            raise ValueError("then_before 只能与 direction: after 和 expect: present 一起使用")
        return self


@dataclass(slots=True, frozen=True)
class Prepared:
    params: Params
    when: Compiled
    then: Compiled
    then_before: Compiled | None
    #: what findings call the trigger and the behaviour, and the window (" 坐席 2 句内"/"")
    when_label: str = ""
    then_label: str = ""
    within: str = ""


def prepare(params: Params, bank: PhraseBank) -> Prepared:
    when = compile_condition(params.when, bank)
    then = compile_condition(params.then, bank)
    win = params.then_within
    return Prepared(
        params=params,
        when=when,
        then=then,
        then_before=compile_condition(params.then_before, bank) if params.then_before else None,
        when_label=params.when_label or when.label(),
        then_label=params.then_label or then.label(),
        within=win.describe() if win is not None else "",
    )


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


def _places(call: CallView, cond: Compiled) -> list[int]:
    """The utterances where ``cond`` may hold, in order: its candidates (a superset of where it
    holds, told from the call's phrase scan), else where it holds. Asking :func:`_holds_at`
    about one of them costs less than ``where``, which places every match of the call."""
    got = cond.candidates(call)
    return sorted(cond.where(call)) if got is None else got


def _holds_at(call: CallView, cond: Compiled, index: int) -> bool:
    """Whether ``cond`` holds in utterance ``index``, one of its :func:`_places` (where an exact
    condition holds by definition)."""
    return cond.exact or bool(cond.at(call, index))


def _first_match(call: CallView, cond: Compiled, index: int) -> Match | None:
    """The first of ``cond``'s matches in utterance ``index`` (the least start, then the least
    end; ``None``: none there)."""
    found = cond.at(call, index)
    return found[0] if found else None


def _in_window(win: Window | None, seconds_away: float, agent_turns: int) -> bool:
    if win is None:
        return True
    if win.seconds is not None and seconds_away > win.seconds:
        return False
    return not (win.agent_turns is not None and agent_turns > win.agent_turns)


def _scan(call: CallView, occ: Occurrence, win: Window | None,
          backwards: bool) -> Iterator[tuple[Utterance, int | None, int | None]]:
    """The utterances inside the window, nearest first, each with the (after, before) offset
    bounds for conditions in it: only the trigger's own utterance is bounded, by the trigger."""
    t_index = -1 if occ.utterance is None else occ.utterance
    if backwards:
        if t_index < 0:
            return
        t = call.utterances[t_index]
        order = list(reversed(call.utterances[: t_index + 1]))
        ref = t.start
    else:
        order = call.utterances[max(t_index, 0):]
        ref = call.utterances[t_index].end if t_index >= 0 else 0.0
    agent_turns = 0
    for u in order:
        same = u.index == t_index
        if not same:
            if u.speaker == AGENT:
                agent_turns += 1
            away = (ref - u.end) if backwards else (u.start - ref)
            if not _in_window(win, away, agent_turns):
                return
        if same:
            yield u, (None if backwards else occ.match.end), (occ.match.start if backwards else None)
        else:
            yield u, None, None


def check(call: CallView, prep: Prepared) -> Iterator[Hit]:
    if not quiet(call, prep):
        yield from findings(call, prep)


def findings(call: CallView, prep: Prepared) -> Iterator[Hit]:
    """The rule's findings in the call, every trigger looked at (:func:`check` first asks
    :func:`quiet`, which tells most calls without finding apart cheaply). The walk goes over
    the utterances the trigger may be in (:func:`_places`) and works out where in one it was
    said only when it needs to: not for one inside an earlier trigger's answer, nor, for an
    exact trigger, for one that no finding points at."""
    p = prep.params
    when = prep.when
    labels = (prep.when_label, prep.then_label)
    triggers: Sequence[int | None]
    occ_at: Callable[[int | None], Occurrence | None]
    if p.first_only or when.call_level:
        given = {o.utterance: o for o in (first_occurrence(call, when) if p.first_only
                                          else occurrences(call, when))}
        triggers, occ_at = list(given), given.get
    else:
        triggers, occ_at = _places(call, when), partial(_placed, call, when)
    if not triggers:
        return
    if p.expect == "absent":
        occs = [o for o in map(occ_at, triggers) if o is not None]
        yield from _check_absent(call, prep, occs, *labels)
    elif p.direction == "before":  # a trigger of the call as a whole has nothing before it
        held = [i for i in triggers if i is not None and _holds_at(call, when, i)]
        yield from _check_before(call, prep, held, lambda i: Occurrence(i, when.at(call, i)[0]),
                                 *labels)
    else:
        yield from _check_after(call, prep, triggers, occ_at, *labels)


def _placed(call: CallView, when: Compiled, index: int | None) -> Occurrence | None:
    """The trigger's occurrence in utterance ``index``: its first match there (``None``: the
    trigger is not there)."""
    m = None if index is None else _first_match(call, when, index)
    return None if m is None else Occurrence(index, m)


def quiet(call: CallView, prep: Prepared) -> bool:
    """Whether the rule surely finds nothing in this call, told from the utterances the call's
    phrase scan found the phrases in (``Compiled.candidates``), without placing matches.

    Most calls end here: no trigger at all, or every possible trigger clearly answered (the
    behaviour in a later utterance inside the window, before any explanation; clearly absent
    from the window with ``expect: absent``). Anything less clear, e.g. both in one utterance,
    is left to the full check (``False``), so the findings are the same either way.
    """
    trig = prep.when.candidates(call)
    if trig is None:
        return False
    if not trig:
        return True
    then = prep.then.candidates(call)
    if then is None:
        return False
    p = prep.params
    win = p.then_within
    expl: list[int] = []
    if prep.then_before is not None:
        found = prep.then_before.candidates(call)
        if found is None:
            return False
        expl = found
    when = prep.when
    for t in trig:
        if p.expect == "absent":
            ok = not _then_in_window(call, t, then, win, p.direction == "before")
        elif p.direction == "before":
            ok = _surely_before(call, prep.then, t, then, win)
        else:
            ok = _surely_answered(call, prep, t, then, expl, win)
        # a candidate that is no trigger (a phrase option ruled it out) does not count
        if ok:
            if p.first_only and _holds_at(call, when, t):
                return True  # the first trigger is the only one checked
        elif _holds_at(call, when, t):
            return False
    return True


def _reaches(call: CallView, t: int, j: int, win: Window | None) -> bool:
    """Whether utterance ``j`` lies inside the window of the trigger in utterance ``t`` (after
    it, or before it when ``j < t``), as :func:`_scan` walks it."""
    if win is None:
        return True
    utts = call.utterances
    turns = 0
    if j > t:
        ref = utts[t].end
        for u in utts[t + 1 : j + 1]:
            if u.speaker == AGENT:
                turns += 1
            if not _in_window(win, u.start - ref, turns):
                return False
    else:
        ref = utts[t].start
        for u in reversed(utts[j:t]):
            if u.speaker == AGENT:
                turns += 1
            if not _in_window(win, ref - u.end, turns):
                return False
    return True


def _then_in_window(call: CallView, t: int, then: list[int], win: Window | None,
                    backwards: bool) -> bool:
    """Whether a candidate of ``then`` may lie in the window of the trigger utterance ``t``."""
    k = bisect_left(then, t)
    if k < len(then) and then[k] == t:
        return True
    if backwards:
        return k > 0 and _reaches(call, t, then[k - 1], win)
    return k < len(then) and _reaches(call, t, then[k], win)


def _surely_before(call: CallView, cond: Compiled, t: int, then: list[int],
                   win: Window | None) -> bool:
    """Whether ``then`` surely came before the trigger utterance ``t`` (:func:`_came_before`)."""
    k = bisect_left(then, t)
    if k == 0 or (k < len(then) and then[k] == t):
        return False
    j = then[k - 1]
    if not _holds_at(call, cond, j):
        return False
    if win is None:
        return True
    utts = call.utterances
    turns = sum(1 for v in utts[j:t] if v.speaker == AGENT)
    return _in_window(win, utts[t].start - utts[j].end, turns)


def _surely_answered(call: CallView, prep: Prepared, t: int, then: list[int], expl: list[int],
                     win: Window | None) -> bool:
    """Whether the trigger utterance ``t`` is surely answered (:func:`_check_after`): the
    first place after the trigger holding either ``then`` or an explanation holds ``then``,
    inside the window. ``True`` also when ``t`` turns out to hold no trigger."""
    k = bisect_left(then, t)
    e = bisect_left(expl, t)
    if (k < len(then) and then[k] == t) or (e < len(expl) and expl[e] == t):
        # in the trigger's own utterance only what comes after the trigger counts
        first = _first_match(call, prep.when, t)
        if first is None:
            return True
        after = first.end
        then_at = _first_from(prep.then.at(call, t), after)
        expl_at = (_first_from(prep.then_before.at(call, t), after)
                   if prep.then_before is not None else None)
        if expl_at is not None and (then_at is None or expl_at < then_at):
            return False
        if then_at is not None:
            return True
        k = bisect_right(then, t)
        e = bisect_right(expl, t)
    if k == len(then):
        return False
    j = then[k]
    if e < len(expl) and expl[e] <= j:
        return False
    return _reaches(call, t, j, win) and _holds_at(call, prep.then, j)


def _first_from(matches: list[Match], after: int) -> int | None:
    """Where the first of ``matches`` starting at ``after`` or later starts (:func:`_first`)."""
    return next((m.start for m in matches if m.start >= after), None)


def _trigger_hit(call: CallView, occ: Occurrence, values: dict[str, Any]) -> Hit:
    if occ.utterance is None:
        return Hit(None, 0.0, call.transcript.length, matched="", values=values)
    u = call.utterances[occ.utterance]
    return Hit(u.index, u.start, u.end, matched=values["trigger"], values=values)


def _trigger_text(call: CallView, occ: Occurrence) -> str:
    if occ.utterance is None:
        return ""
    return call.utterances[occ.utterance].text[occ.match.start : occ.match.end]


def _window_last(call: CallView, occ: Occurrence, win: Window | None) -> int:
    """Index of the last utterance inside the window after the trigger (the last one
    :func:`_scan` gives going forwards)."""
    utts = call.utterances
    if win is None:
        return len(utts) - 1
    t_index = -1 if occ.utterance is None else occ.utterance
    last = occ.utterance or 0
    ref = utts[t_index].end if t_index >= 0 else 0.0
    seconds, most = win.seconds, win.agent_turns
    turns = 0
    for k in range(max(t_index, 0), len(utts)):
        u = utts[k]
        if u.index != t_index:
            if u.speaker == AGENT:
                turns += 1
            if (seconds is not None and u.start - ref > seconds) or (most is not None and turns > most):
                break
        last = u.index
    return last


def _check_after(call: CallView, prep: Prepared, triggers: Sequence[int | None],
                 occ_at: Callable[[int | None], Occurrence | None], when_label: str,
                 then_label: str) -> Iterator[Hit]:
    """``triggers``: the utterances the trigger may hold in, in order (``None``: the call as a
    whole); ``occ_at``: its occurrence there (``None``: it does not hold there)."""
    win = prep.params.then_within
    then, expl = prep.then, prep.then_before
    # only utterances where the behaviour or an explanation may happen need a look, and only
    # the ones inside a window are asked whether it does (not the whole call's ``where``)
    then_c = _places(call, then)
    expl_c = _places(call, expl) if expl is not None else []
    candidates = sorted({*then_c, *expl_c}) if expl_c else then_c
    busy_until = -1  # utterances up to here belong to a trigger already handled
    for t in triggers:
        if t is not None and t <= busy_until:
            continue
        occ = occ_at(t)
        if occ is None:
            continue
        values: dict[str, Any] = {"trigger": _trigger_text(call, occ), "when": when_label,
                                  "then": then_label, "delay": None}
        t_index = -1 if occ.utterance is None else occ.utterance
        t_end = call.utterances[t_index].end if t_index >= 0 else 0.0
        last = _window_last(call, occ, win)
        outcome: tuple[str, Utterance] | None = None
        for i in candidates[bisect_left(candidates, max(t_index, 0)):]:
            if i > last:
                break
            u = call.utterances[i]
            if i == t_index:
                after_pos = occ.match.end
                then_at = _first(call, then, u, after_pos, None)
                expl_at = _first(call, expl, u, after_pos, None) if expl is not None else None
                explained = expl_at is not None and (then_at is None or expl_at < then_at)
                done = then_at is not None
            else:  # whether each holds there; where, only when both do
                done = (not expl_c or i in then_c) and _holds_at(call, then, i)
                explained = expl is not None and i in expl_c and _holds_at(call, expl, i)
                if explained and done and expl is not None:  # both: whichever comes first
                    expl_at = _first(call, expl, u, None, None)
                    then_at = _first(call, then, u, None, None)
                    explained = expl_at is not None and (then_at is None or expl_at < then_at)
            if explained:
                outcome = ("explained", u)
                break
            if done:
                outcome = ("done", u)
                break
        if outcome is not None and outcome[0] == "done":
            busy_until = outcome[1].index
            continue
        if outcome is not None:
            u = outcome[1]
            busy_until = u.index
            detail = f"{when_label}(第 {t_end:.1f} 秒)后,未先{then_label}就先作解释"
            yield Hit(u.index, u.start, u.end, matched=u.text, values={**values, "detail": detail})
            continue
        busy_until = last if win is not None else len(call.utterances)
        late = next((call.utterances[i] for i in then_c if i > last and _holds_at(call, then, i)),
                    None)
        where = f" {prep.within}内" if win is not None else ""
        said = f"“{values['trigger']}”(第 {t_end:.1f} 秒)" if t_index >= 0 else ""
        detail = f"{when_label}{said}后{where}未{then_label}"
        if late is not None:
            values["delay"] = round(late.start - t_end, 2)
            detail += f"(第 {late.start:.1f} 秒才做到,晚了 {values['delay']:g} 秒)"
        reply = (_agent_reply(call, t_index, last)
                 if t_index >= 0 and call.utterances[t_index].speaker != AGENT else None)
        if reply is not None:  # the agent's answer is where the behaviour was missing
            yield Hit(reply.index, reply.start, reply.end, matched="",
                      values={**values, "detail": detail})
        else:
            yield _trigger_hit(call, occ, {**values, "detail": detail})


def _agent_reply(call: CallView, t_index: int, last: int) -> Utterance | None:
    """The agent's first real answer after the trigger (within the window when there is one):
    a backchannel such as 嗯/好的 (three characters or fewer) is passed over when a longer
    answer follows."""
    replies = [u for u in call.utterances[t_index + 1 : last + 1] if u.speaker == AGENT]
    return next((u for u in replies if len(call.folded(u.index)) > 3), replies[0] if replies else None)


def _check_before(call: CallView, prep: Prepared, triggers: list[int],
                  occ_at: Callable[[int], Occurrence], when_label: str,
                  then_label: str) -> Iterator[Hit]:
    """``triggers``: the utterances the trigger holds in, in order (a call-level trigger has
    nothing before it); ``occ_at``: its occurrence in one of them."""
    win = prep.params.then_within
    then = prep.then
    then_at = _places(call, then)
    reported_at: int | None = None  # one omission is reported once, until the behaviour is seen
    for t_index in triggers:
        if _came_before(call, then, then_at, t_index, occ_at, win):
            reported_at = None
            continue
        if reported_at is not None and not any(reported_at < i <= t_index
                                               and _holds_at(call, then, i) for i in then_at):
            continue
        reported_at = t_index
        occ = occ_at(t_index)
        where = f"前{prep.within}内" if win is not None else "之前"
        yield _trigger_hit(call, occ, {"trigger": _trigger_text(call, occ), "when": when_label,
                                       "then": then_label, "delay": None,
                                       "detail": f"{when_label}{where}未{then_label}"})


def _came_before(call: CallView, then: Compiled, then_at: list[int], t_index: int,
                 occ_at: Callable[[int], Occurrence], win: Window | None) -> bool:
    """Whether ``then`` held before the trigger in utterance ``t_index``, inside the window
    counted backwards (``then_at``: where it may hold, :func:`_places`)."""
    t = call.utterances[t_index]
    for i in reversed(then_at):
        if i > t.index:
            continue
        if i == t.index:
            if _first(call, then, t, None, occ_at(t_index).match.start) is None:
                continue
            return True
        if not _holds_at(call, then, i):
            continue
        if win is None:
            return True
        u = call.utterances[i]
        turns = sum(1 for v in call.utterances[i : t.index] if v.speaker == AGENT)
        return _in_window(win, t.start - u.end, turns)
    return False


def _check_absent(call: CallView, prep: Prepared, occs: list[Occurrence], when_label: str,
                  then_label: str) -> Iterator[Hit]:
    win = prep.params.then_within
    backwards = prep.params.direction == "before"
    then = prep.then
    may = set(_places(call, then))  # the others need no look
    reported: set[int] = set()
    for occ in occs:
        for u, a, b in _scan(call, occ, win, backwards=backwards):
            if u.index in reported or u.index not in may:
                continue
            # bounded by the trigger in its own utterance; elsewhere whether it holds at all
            if (_first(call, then, u, a, b) is None if a is not None or b is not None
                    else not _holds_at(call, then, u.index)):
                continue
            reported.add(u.index)
            side = "之前" if backwards else "之后"
            detail = f"{then_label}出现在{when_label}{side}(第 {u.start:.1f} 秒)"
            yield Hit(u.index, u.start, u.end, matched=u.text,
                      values={"trigger": _trigger_text(call, occ), "when": when_label,
                              "then": then_label, "delay": None, "detail": detail})
