"""The shared rule language above single phrases: word matching, guards, ``near``, conditions.

Every phrase-based kind (``forbidden_phrase``, ``required_phrase``, ``sequence``, ``jargon``,
``filler_words``) matches through a :class:`PhraseMatcher`, so these options mean the same
thing everywhere:

``match: word``
    a phrase counts only where it begins and ends on jieba word boundaries, so 滚 does not
    fire inside 滚筒洗衣机. The ruleset's ``dictionary`` (product names, company terms) is
    added to jieba's words. ``substring`` (the default) is the plain, fast phrase search.
``near: {phrases: […], within: 10, unit: chars, turns: 0, side: either, speaker: any}``
    a match counts only when one of ``phrases`` is within ``within`` characters (or words)
    of it in the same utterance, or anywhere in the next ``turns`` utterances of ``speaker``.
``unless_before: […]``
    negation / reporting guard: a match is cancelled when one of these phrases comes before
    it in the same clause (之前同事说“没办法”, 不是没办法). Clauses end at 。!?;, and commas.
``ignore_quoted: true``
    a match inside quotation marks (“”「」『』"") is someone else's words, not the speaker's.

Conditions (``when``/``then`` of :mod:`csqa.rules.sequence`) are built from these atoms:
``agent_says``/``customer_says``/``says`` (with the phrase options above), ``call_longer_than``
(seconds), ``hold`` (the call had a hold: announced and followed by ≥ N s of silence, or the
call record says so), ``tag`` (a tag of the call record, ``extra["tags"]``), and the logic
``all``/``any``/``not``. Conditions are evaluated per utterance (``a && (b || !c)`` holds at
an utterance when each part does); a condition made only of call-level atoms
(``call_longer_than``, ``hold``, ``tag``) holds for the call as a whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from operator import attrgetter
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from csqa.matching import CallView, Match, PhraseBank
from csqa.model import AGENT, CUSTOMER, Utterance
from csqa.rules.base import Phrase, Speaker, announced_hold, gaps
from csqa.words import Segmenter, call_tokens, on_word_boundaries, segmenter

#: where a clause ends, in the raw text: ASCII and full-width punctuation (ASR writes ，？！),
#: written as escapes so that no editor folds the full-width ones into ASCII
CLAUSE_ENDS = frozenset(",.!?;:\u3002\uff0c\uff0e\uff01\uff1f\uff1b\uff1a\u2026\n\t")
#: what a distance in characters does not count: white space (as ``str.isspace``) and clause ends
_UNCOUNTED = re.compile("[\\s" + "".join(re.escape(ch) for ch in sorted(CLAUSE_ENDS)) + "]")
QUOTE_PAIRS = {"“": "”", "「": "」", "『": "』", "‘": "’", "《": "》"}
SAME_QUOTES = frozenset("\"'")
#: a character that can open a quotation: without one before a match, it is not quoted
_OPENING = re.compile("[" + re.escape("".join(sorted({*QUOTE_PAIRS, *SAME_QUOTES}))) + "]")


class Near(BaseModel):
    """Another phrase that must be close to the match for it to count."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    phrases: list[Phrase] = Field(min_length=1, description="phrases that must be near the match")
    within: int = Field(10, ge=0, description="at most this many characters/words between them")
    unit: Literal["chars", "words"] = Field("chars", description="count the distance in chars or jieba words")
    turns: int = Field(0, ge=0, description="also accept them anywhere in the next N utterances")
    side: Literal["either", "after", "before"] = Field("either", description="where the near phrase may be")
    speaker: Speaker = Field("any", description="whose next utterances count for turns")


class PhraseOptions(BaseModel):
    """How a list of phrases is matched; mixed into the params of phrase-based kinds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    match: Literal["substring", "word"] = Field(
        "substring", description="substring (fast) or word: only on jieba word boundaries")
    near: Near | None = Field(None, description="count a match only when another phrase is near it")
    unless_before: list[Phrase] = Field(
        default_factory=list, description="cancel a match when one of these precedes it in the same clause")
    ignore_quoted: bool = Field(False, description="ignore matches inside quotation marks")


class PhraseMatcher:
    """Phrases plus their options, compiled against a bank; ``find`` gives the matches that count."""

    def __init__(self, phrases: Iterable[str], opts: PhraseOptions, bank: PhraseBank,
                 speaker: str = "any", tolerance: str = "exact",
                 similarity: float | None = None) -> None:
        self.opts = opts
        self.speaker = speaker
        self.phrases = tuple(phrases)
        self.set_id = bank.add(self.phrases, tolerance, similarity)
        self.before_id = bank.add(opts.unless_before) if opts.unless_before else None
        self.near_id = bank.add(opts.near.phrases) if opts.near else None
        self._bank = bank
        #: names this matcher's facts in a call (:class:`csqa.facts.CallFacts`)
        self.key = bank.fact_key()
        #: the near phrases must be in the match's own utterance
        self._near_here = opts.near is not None and not opts.near.turns

    @cached_property
    def user_words(self) -> frozenset[str]:
        # read once, at the first check: every rule has added its words by then
        return frozenset(self._bank.dictionary)

    @cached_property
    def segmenter(self) -> Segmenter:
        """jieba with the ruleset's words, for ``match: word`` and distances in words."""
        return segmenter(self.user_words)

    def speaks(self, u: Utterance) -> bool:
        return self.speaker == "any" or u.speaker == self.speaker

    def find(self, call: CallView, index: int) -> list[Match]:
        """The phrases said in utterance ``index`` that count, in original-text offsets."""
        if self.speaker != "any" and call.utterances[index].speaker != self.speaker:
            return []
        # once per call: sequence's quiet() and the full check ask the same utterances
        matches = call.facts.matches
        got = matches.get((self.key, index))
        if got is None:
            got = call.find(self.set_id, index)
            if got and self._filters:
                got = self.keep(call, index, got)
            matches[self.key, index] = got
        return got

    def said(self, call: CallView, index: int) -> bool:
        """Whether the phrases count in utterance ``index`` (a dict lookup without options)."""
        if not self._filters:
            return self.speaks(call.utterances[index]) and call.contains(self.set_id, index)
        return bool(self.find(call, index))

    def said_any(self, call: CallView, utts: Iterable[Utterance]) -> bool:
        """Whether the phrases count in any of ``utts`` (exact occurrences are looked up in
        all of them before any tolerant pass)."""
        if self._filters:
            return any(self.find(call, u.index) for u in utts)
        return call.contains_any(self.set_id, (u.index for u in utts if self.speaks(u)))

    def where(self, call: CallView) -> dict[int, list[Match]]:
        """Every utterance where the phrases count, with their matches (once per call)."""
        got = call.facts.where.get(self.key)
        if got is None:
            got = call.facts.where[self.key] = {}
            for i in self.having(call):
                found = self.find(call, i)
                if found:
                    got[i] = found
        return got

    def having(self, call: CallView) -> list[int]:
        """The speaker's utterances holding any of the phrases, in order: where ``find`` can
        give something (the options are not applied, except that a ``near`` without ``turns``
        needs its phrases in the same utterance)."""
        got = call.facts.candidates.get(self.key)
        if got is None:
            got = call.having(self.set_id, None if self.speaker == "any" else self.speaker)
            if self._near_here and got:
                near = call.having(self.near_id)  # type: ignore[arg-type]
                got = [i for i in got if i in near]
            call.facts.candidates[self.key] = got
        return got

    def most(self, call: CallView) -> int | None:
        """At most how many matches :meth:`find` can give over the whole call: every exact
        occurrence in the utterances :meth:`having` names, before the options are applied
        (``None`` for tolerant phrases: no cheap bound)."""
        total = 0
        for i in self.having(call):
            n = call.count(self.set_id, i)
            if n is None:
                return None
            total += n
        return total

    @cached_property
    def _filters(self) -> bool:
        o = self.opts
        return (o.match == "word" or o.ignore_quoted or self.before_id is not None
                or self.near_id is not None)

    def keep(self, call: CallView, index: int, matches: list[Match]) -> list[Match]:
        """Filter matches of utterance ``index`` (also regex matches) through the options."""
        o = self.opts
        text = call.utterances[index].text
        if o.match == "word" and matches:
            matches = [m for m in matches
                       if on_word_boundaries(call, index, m.start, m.end, self.segmenter)]
        if o.ignore_quoted and matches:
            matches = [m for m in matches if not quoted(text, m.start, m.end)]
        if self.before_id is not None and matches:
            guards = phrase_hits(call, self.before_id, index)
            if guards:  # most often none: nothing can cancel a match
                matches = [m for m in matches if not preceded_in_clause(text, m, guards)]
        if o.near is not None and self.near_id is not None and matches:
            matches = [m for m in matches if self.near_ok(call, index, m)]
        return matches

    def near_ok(self, call: CallView, index: int, m: Match) -> bool:
        """Whether the ``near`` phrases are close enough to match ``m`` of utterance ``index``."""
        near = self.opts.near
        assert near is not None and self.near_id is not None
        for n in phrase_hits(call, self.near_id, index):
            if n.start < m.end and m.start < n.end:
                continue  # the near phrase is (part of) the match itself
            after = n.start >= m.end
            if (near.side == "after" and not after) or (near.side == "before" and after):
                continue
            if self._distance(call, index, m, n) <= near.within:
                return True
        if near.turns:
            left = near.turns
            for u in call.utterances[index + 1:]:
                if near.speaker != "any" and u.speaker != near.speaker:
                    continue
                if call.contains(self.near_id, u.index):
                    return True
                left -= 1
                if not left:
                    break
        return False

    def _distance(self, call: CallView, index: int, a: Match, b: Match) -> int:
        lo, hi = (a.end, b.start) if a.end <= b.start else (b.end, a.start)
        if self.opts.near is not None and self.opts.near.unit == "words":
            toks = call_tokens(call, index, self.segmenter, lo, hi)
            return sum(1 for t in toks if t.start >= lo and t.end <= hi and t.tag != "x")
        return counted_chars(call.utterances[index].text[lo:hi])


def counted_chars(text: str) -> int:
    """How many characters of ``text`` count in a distance: neither white space nor clause ends
    (one regex pass instead of a test per character)."""
    return len(_UNCOUNTED.sub("", text))


def phrase_hits(call: CallView, set_id: int, index: int) -> list[Match]:
    """``call.find`` once per call: guard and near phrases are asked about once per match."""
    hits = call.facts.phrase_hits
    got = hits.get((set_id, index))
    if got is None:
        got = hits[set_id, index] = call.find(set_id, index)
    return got


def quoted(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` lies inside quotation marks."""
    if _OPENING.search(text, 0, start) is None:
        return False  # no quotation opens before it (the most common case: one search)
    before, after = text[:start], text[end:]
    for open_q, close_q in QUOTE_PAIRS.items():
        if before.count(open_q) > before.count(close_q) and close_q in after:
            return True
    return any(before.count(q) % 2 == 1 and q in after for q in SAME_QUOTES)


def clause_start(text: str, pos: int) -> int:
    """Offset where the clause holding ``pos`` begins."""
    i = pos - 1
    while i >= 0 and text[i] not in CLAUSE_ENDS:
        i -= 1
    return i + 1


def preceded_in_clause(text: str, m: Match, guards: list[Match]) -> bool:
    """Whether a guard phrase ends before ``m`` begins, inside ``m``'s clause."""
    begin = clause_start(text, m.start)
    return any(g.end <= m.start and g.start >= begin for g in guards)


# ---- conditions --------------------------------------------------------------------------

ATOMS = ("agent_says", "customer_says", "says", "call_longer_than", "hold", "tag", "all", "any", "not")
SAYS = {"agent_says": AGENT, "customer_says": CUSTOMER, "says": "any"}
_PLACE = attrgetter("start", "end")  # the order of merged matches
_CALL_START = Match("", 0, 0)


class Condition(PhraseOptions):
    """One condition: exactly one of the atoms (the phrase options go with the ``*_says`` ones)."""

    agent_says: list[Phrase] | None = Field(None, description="the agent says any of these")
    customer_says: list[Phrase] | None = Field(None, description="the customer says any of these")
    says: list[Phrase] | None = Field(None, description="either side says any of these")
    call_longer_than: float | None = Field(None, ge=0, description="the call lasts longer than N s")
    hold: bool | float | None = Field(
        None, description="the call had a hold (true: ≥ 10 s; a number: at least that many seconds)")
    tag: str | list[str] | None = Field(None, description="the call record carries this tag (any of these)")
    all: list[Condition] | None = Field(None, min_length=1, description="every sub-condition holds")
    any: list[Condition] | None = Field(None, min_length=1, description="at least one sub-condition holds")
    not_: Condition | None = Field(None, alias="not", description="the sub-condition does not hold")
    like: list[Phrase] | None = Field(
        None, description="with a *_says atom: also holds where the speaker says one of these in other "
                          "words (by meaning, see csqa.meaning)")
    unlike: list[Phrase] = Field(default_factory=list,
                                 description="with like: counter-examples that must not count")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        given = [a for a in ATOMS if getattr(self, "not_" if a == "not" else a) is not None]
        if len(given) != 1:
            what = "一个也没有" if not given else "、".join(given)
            raise ValueError(f"一个条件必须且只能给出 {'、'.join(ATOMS)} 中的一个(给出的是:{what})")
        uses_options = (self.match == "word" or self.near is not None or bool(self.unless_before)
                        or self.ignore_quoted)
        if given[0] not in SAYS and uses_options:
            raise ValueError("match、near、unless_before 和 ignore_quoted 只能与 agent_says、"
                             "customer_says 或 says 一起使用")
        if given[0] not in SAYS and (self.like is not None or self.unlike):
            raise ValueError("like 和 unlike 只能与 agent_says、customer_says 或 says 一起使用")
        if isinstance(self.hold, (int, float)) and not isinstance(self.hold, bool) and self.hold < 0:
            raise ValueError("hold:应为 true 或不小于 0 的秒数")
        return self


Condition.model_rebuild()


class Compiled:
    """A condition ready to evaluate. Rules ask it three things:

    - :meth:`candidates`: the utterances where it may hold, told cheaply from the call's phrase
      scan (``None`` when that cannot tell); with ``exact``, exactly where it holds;
    - :meth:`where`: every utterance where it holds, with its matches (once per call);
    - :meth:`at`: its matches in one utterance, without working out the whole call.

    A call-level condition (``call_level``: ``call_longer_than``, ``hold``, ``tag`` and their
    combinations) holds for the call as a whole, at the start of every utterance.
    """

    call_level: bool = False
    #: whether :meth:`candidates` are exactly the utterances where the condition holds
    exact: bool = False

    def __init__(self, bank: PhraseBank) -> None:
        #: names the condition's facts in a call (:class:`csqa.facts.CallFacts`)
        self.key = bank.fact_key()

    def candidates(self, call: CallView) -> list[int] | None:
        """The utterances where the condition may hold, in order: a superset of :meth:`where`'s,
        from the call's shared phrase scan alone (no offsets, no phrase options); ``None`` when
        that cannot tell (call-level atoms, ``not``)."""
        return None

    def where(self, call: CallView) -> dict[int, list[Match]]:
        """Utterance -> the condition's matches there (in order of place), for every utterance
        where it holds."""
        got = call.facts.where.get(self.key)
        if got is None:
            got = call.facts.where[self.key] = self._where(call)
        return got

    def at(self, call: CallView, index: int) -> list[Match]:
        """The condition's matches in utterance ``index`` (``where(call).get(index, [])``);
        phrase atoms and ``any`` look at that utterance alone."""
        if self.call_level:
            return [_CALL_START] if self.holds(call) else []
        return self.where(call).get(index, [])

    def _where(self, call: CallView) -> dict[int, list[Match]]:
        """For a call-level condition: every utterance when it holds."""
        if self.holds(call):
            return {i: [_CALL_START] for i in range(len(call.utterances))}
        return {}

    def holds(self, call: CallView) -> bool:
        """For call-level conditions: whether it holds for this call."""
        raise NotImplementedError

    def label(self) -> str:
        raise NotImplementedError


class _Says(Compiled):
    def __init__(self, key: str, phrases: list[str], opts: PhraseOptions, bank: PhraseBank) -> None:
        super().__init__(bank)
        self.says = key
        self.matcher = PhraseMatcher(phrases, opts, bank, speaker=SAYS[key])
        self.exact = not self.matcher._filters and bank.space(self.matcher.set_id) is None

    def candidates(self, call: CallView) -> list[int] | None:
        return self.matcher.having(call)

    def where(self, call: CallView) -> dict[int, list[Match]]:
        return self.matcher.where(call)

    def at(self, call: CallView, index: int) -> list[Match]:
        return self.matcher.find(call, index)

    def label(self) -> str:
        who = {"agent_says": "坐席", "customer_says": "客户", "says": ""}[self.says]
        shown = "/".join(self.matcher.phrases[:3]) + ("…" if len(self.matcher.phrases) > 3 else "")
        return f"{who}说“{shown}”"


#: a condition's ``like`` holds when an utterance is this similar to one of its examples
#: (and nearer to it than to its ``unlike`` ones)
CONDITION_LIKE_SIMILARITY = 0.55


class _Means(Compiled):
    """The speaker says one of ``like`` in other words: the whole utterance is the match."""

    def __init__(self, key: str, set_id: int, like: list[str], bank: PhraseBank) -> None:
        super().__init__(bank)
        self.says = key
        self.speaker = SAYS[key]
        self.set_id = set_id
        self.like = like

    def _where(self, call: CallView) -> dict[int, list[Match]]:
        judge = call.bank.meaning.judge
        found = {}
        for u in call.utterances:
            if self.speaker != "any" and u.speaker != self.speaker:
                continue
            j = judge(self.set_id, call.plain(u.index))
            if j is not None and j.holds:
                found[u.index] = [Match(j.like, 0, len(u.text), j.like_similarity)]
        return found

    def label(self) -> str:
        who = {"agent_says": "坐席", "customer_says": "客户", "says": ""}[self.says]
        return f"{who}说(语义)“{self.like[0]}”" + ("等" if len(self.like) > 1 else "")


class _CallLevel(Compiled):
    call_level = True


class _Longer(_CallLevel):
    def __init__(self, seconds: float, bank: PhraseBank) -> None:
        super().__init__(bank)
        self.seconds = seconds

    def holds(self, call: CallView) -> bool:
        return call.transcript.length > self.seconds

    def label(self) -> str:
        return f"通话超过 {self.seconds:g} 秒"


class _Hold(_CallLevel):
    def __init__(self, min_seconds: float, bank: PhraseBank) -> None:
        from csqa.rules.holds import DEFAULT_CUSTOMER_HOLD, DEFAULT_HOLD

        super().__init__(bank)
        self.min_seconds = min_seconds
        self.agent_set = bank.add(DEFAULT_HOLD)
        self.customer_set = bank.add(DEFAULT_CUSTOMER_HOLD)

    def holds(self, call: CallView) -> bool:
        known = call.facts.holds  # by the seconds: every hold condition has the same phrases
        got = known.get(self.min_seconds)
        if got is None:
            got = known[self.min_seconds] = self._holds(call)
        return got

    def _holds(self, call: CallView) -> bool:
        extra = call.transcript.extra
        recorded = extra.get("hold_seconds")
        if isinstance(recorded, (int, float)) and not isinstance(recorded, bool):
            if recorded >= max(self.min_seconds, 1e-9):
                return True
        elif extra.get("hold") is True:
            return True
        return any(after.start - start >= self.min_seconds
                   and announced_hold(call, before, self.agent_set, self.customer_set,
                                      self.min_seconds)
                   for before, after, start in gaps(call))

    def label(self) -> str:
        return f"通话中有等待(≥{self.min_seconds:g} 秒)"


class _Tag(_CallLevel):
    def __init__(self, tags: list[str], bank: PhraseBank) -> None:
        super().__init__(bank)
        self.tags = frozenset(t.strip() for t in tags)

    def holds(self, call: CallView) -> bool:
        return not self.tags.isdisjoint(call_tags(call))

    def label(self) -> str:
        return "通话标签为“" + "/".join(sorted(self.tags)) + "”"


def call_tags(call: CallView) -> set[str]:
    """The call record's tags: ``extra["tags"]`` as a list or a comma-separated string."""
    raw = call.transcript.extra.get("tags")
    if isinstance(raw, str):
        raw = raw.replace(",", ",").split(",")
    if not isinstance(raw, (list, tuple, set)):
        return set()
    return {str(t).strip() for t in raw if str(t).strip()}


class _All(Compiled):
    def __init__(self, parts: list[Compiled], bank: PhraseBank) -> None:
        super().__init__(bank)
        self.parts = parts
        self.call_level = all(p.call_level for p in parts)
        # the position of an all is where its first utterance-level part matched
        self.anchor = next((p for p in parts if not p.call_level), parts[0])

    def candidates(self, call: CallView) -> list[int] | None:
        return None if self.call_level else self.anchor.candidates(call)

    def holds(self, call: CallView) -> bool:
        return all(p.holds(call) for p in self.parts)

    def _where(self, call: CallView) -> dict[int, list[Match]]:
        if self.call_level:
            return super()._where(call)
        if not all(p.holds(call) for p in self.parts if p.call_level):
            return {}
        others = [p.where(call) for p in self.parts if p is not self.anchor and not p.call_level]
        return {i: found for i, found in self.anchor.where(call).items()
                if all(i in o for o in others)}

    def label(self) -> str:
        return "且".join(p.label() for p in self.parts)


class _Any(Compiled):
    def __init__(self, parts: list[Compiled], bank: PhraseBank) -> None:
        super().__init__(bank)
        self.parts = parts
        self.call_level = all(p.call_level for p in parts)
        self.exact = all(p.exact for p in parts)

    def candidates(self, call: CallView) -> list[int] | None:
        known = call.facts.candidates
        if self.key in known:
            return known[self.key]
        lists = []
        got: list[int] | None = []
        for p in self.parts:
            part = p.candidates(call)
            if part is None:
                got = None
                break
            if part:
                lists.append(part)
        else:
            if len(lists) == 1:
                got = lists[0]
            elif lists:
                got = sorted(set().union(*lists))
        known[self.key] = got
        return got

    def at(self, call: CallView, index: int) -> list[Match]:
        if self.call_level:
            return super().at(call, index)
        merged: set[Match] = set()
        for p in self.parts:  # as in _where, so that equal places come in the same order
            merged.update(p.at(call, index))
        return sorted(merged, key=_PLACE)

    def holds(self, call: CallView) -> bool:
        return any(p.holds(call) for p in self.parts)

    def _where(self, call: CallView) -> dict[int, list[Match]]:
        if self.call_level:
            return super()._where(call)
        merged: dict[int, set[Match]] = {}
        for p in self.parts:
            for i, found in p.where(call).items():
                merged.setdefault(i, set()).update(found)
        return {i: sorted(ms, key=_PLACE) for i, ms in sorted(merged.items())}

    def label(self) -> str:
        return "或".join(p.label() for p in self.parts)


class _Not(Compiled):
    def __init__(self, part: Compiled, bank: PhraseBank) -> None:
        super().__init__(bank)
        self.part = part
        self.call_level = part.call_level

    def holds(self, call: CallView) -> bool:
        return not self.part.holds(call)

    def _where(self, call: CallView) -> dict[int, list[Match]]:
        if self.call_level:
            return super()._where(call)
        inner = self.part.where(call)
        return {i: [_CALL_START] for i in range(len(call.utterances)) if i not in inner}

    def label(self) -> str:
        return f"非({self.part.label()})"


def compile_condition(cond: Condition, bank: PhraseBank) -> Compiled:
    """Register a condition's phrases with the bank and return its evaluator."""
    for key in SAYS:
        phrases = getattr(cond, key)
        if phrases is not None:
            says = _Says(key, phrases, cond, bank)
            meaning = bank.meaning.add(cond.like, cond.unlike, shared=False,
                                       min_similarity=CONDITION_LIKE_SIMILARITY) if cond.like else None
            if meaning is None:
                return says
            return _Any([says, _Means(key, meaning, cond.like or [], bank)], bank)
    if cond.call_longer_than is not None:
        return _Longer(cond.call_longer_than, bank)
    if cond.hold is not None:
        if cond.hold is True:
            return _Hold(10.0, bank)
        if cond.hold is False:
            return _Not(_Hold(10.0, bank), bank)
        return _Hold(float(cond.hold), bank)
    if cond.tag is not None:
        return _Tag([cond.tag] if isinstance(cond.tag, str) else list(cond.tag), bank)
    if cond.all is not None:
        return _All([compile_condition(c, bank) for c in cond.all], bank)
    if cond.any is not None:
        return _Any([compile_condition(c, bank) for c in cond.any], bank)
    assert cond.not_ is not None
    return _Not(compile_condition(cond.not_, bank), bank)


@dataclass(slots=True, unsafe_hash=True)  # not frozen: built often (see model.Utterance)
class Occurrence:
    """Where a condition held: utterance index (``None``: the call as a whole) and match."""

    utterance: int | None
    match: Match

    def key(self) -> tuple[int, int]:
        return (-1 if self.utterance is None else self.utterance, self.match.start)


def occurrences(call: CallView, cond: Compiled) -> list[Occurrence]:
    """Every place ``cond`` holds, in call order (one call-level occurrence if it is call-level)."""
    if cond.call_level:
        return [Occurrence(None, _CALL_START)] if cond.holds(call) else []
    return [Occurrence(i, found[0]) for i, found in sorted(cond.where(call).items())]


def first_occurrence(call: CallView, cond: Compiled) -> list[Occurrence]:
    """``occurrences(call, cond)[:1]``, asking only the candidate utterances up to the first
    where the condition holds (:meth:`Compiled.at`) instead of the whole call's ``where``."""
    cands = None if cond.call_level else cond.candidates(call)
    if cands is None:
        return occurrences(call, cond)[:1]
    for i in cands:
        found = cond.at(call, i)
        if found:
            return [Occurrence(i, found[0])]
    return []
