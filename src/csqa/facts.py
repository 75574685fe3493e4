"""The facts of one call that several rules share: each worked out once, when first asked.

A :class:`~csqa.matching.CallView` carries one :class:`CallFacts` (``call.facts``). Every field
is one fact with one place that computes it (named in its comment); the others only read it.
Facts about phrases and conditions are keyed by a phrase set id or by the number a matcher or a
condition was given when the ruleset was compiled (:meth:`csqa.matching.PhraseBank.fact_key`),
never by an object's identity. The text forms of each utterance (folded, normalised, plain for
the sentence model) and the phrase scan's hits stay inside ``CallView``, which computes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from csqa.model import Utterance

if TYPE_CHECKING:
    from csqa.matching import Match

#: a stretch where nobody speaks: the last utterance before it, the first after, when it began
Gap = tuple[Utterance, Utterance, float]


@dataclass(slots=True, frozen=True)
class Token:
    """One word of an utterance: its text, POS tag, and offsets in the original text."""

    word: str
    tag: str
    start: int
    end: int


@dataclass(slots=True)
class CallFacts:
    """What the rules of one call work out once and share (empty until asked)."""

    # -- the conversation
    #: the utterances of each speaker, in order (:func:`csqa.rules.base.speaker_utterances`)
    by_speaker: dict[str, list[Utterance]] = field(default_factory=dict)
    #: every stretch where nobody speaks, in order (:func:`csqa.rules.base.gaps`)
    gaps: list[Gap] | None = None
    #: how long the agent spoke, in seconds (:func:`csqa.rules.rates.agent_seconds`)
    agent_seconds: float | None = None

    # -- text
    #: the edges of each utterance's jieba blocks (:func:`csqa.words.block_edges`)
    block_edges: dict[int, list[int]] = field(default_factory=dict)
    #: words by (segmenter's user words, utterance, block span start, end) (:func:`csqa.words.call_tokens`)
    words: dict[tuple[frozenset[str], int, int, int], list[Token]] = field(default_factory=dict)

    # -- phrases and conditions
    #: every occurrence of a phrase set, options not applied, by (set id, utterance)
    #: (:func:`csqa.rules.conditions.phrase_hits`)
    phrase_hits: dict[tuple[int, int], list[Match]] = field(default_factory=dict)
    #: the matches of a matcher's phrases that count, by (matcher, utterance)
    #: (:meth:`csqa.rules.conditions.PhraseMatcher.find`)
    matches: dict[tuple[int, int], list[Match]] = field(default_factory=dict)
    #: the utterances where a matcher's phrases or a condition may hold, by matcher or condition
    #: (:meth:`~csqa.rules.conditions.PhraseMatcher.having`,
    #: :meth:`~csqa.rules.conditions.Compiled.candidates`)
    candidates: dict[int, list[int] | None] = field(default_factory=dict)
    #: where a matcher's phrases count or a condition holds, utterance -> matches
    #: (:meth:`~csqa.rules.conditions.PhraseMatcher.where`,
    #: :meth:`~csqa.rules.conditions.Compiled.where`)
    where: dict[int, dict[int, list[Match]]] = field(default_factory=dict)
    #: whether the call had a hold of at least so many seconds (``hold`` conditions)
    holds: dict[float, bool] = field(default_factory=dict)
    #: (utterance, offset, character) of the agent's characters that a ``filler_words`` POS
    #: pre-filter looks for, by those characters (:func:`csqa.rules.filler_words.pos_candidates`)
    filler_chars: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)
