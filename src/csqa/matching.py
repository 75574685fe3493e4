"""The shared phrase matcher: one Aho-Corasick pass per utterance for every phrase of every rule.

Rule kinds never loop over their phrases. At compile time each rule registers its phrase
lists with a :class:`PhraseBank` and gets back a set id; at audit time a :class:`CallView`
scans each utterance once (lazily, only if some rule asks) and hands every rule the matches
of its own sets.

Matching is done on *folded* text: punctuation and white space removed, full-width ASCII
folded to half-width, Latin letters lower-cased. Phrases are folded the same way, so
``你问我,我问谁?`` in a ruleset matches ``你问我 我问谁`` in a transcript. Offsets are mapped
back to the original text, so evidence is always shown as it was said.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ahocorasick

from csqa.model import Transcript, Utterance


def _build_tables() -> tuple[dict[int, int | None], frozenset[str]]:
    """Translate table for folding, and the set of characters it deletes."""
    table: dict[int, int | None] = {}
    deleted: set[str] = set()
    ranges = [(0x00, 0x80), (0xA0, 0x100), (0x2000, 0x2070), (0x2E00, 0x2E80), (0x3000, 0x3040),
              (0xFE10, 0xFE20), (0xFE30, 0xFE70), (0xFF00, 0xFF66)]
    for lo, hi in ranges:
        for code in range(lo, hi):
            ch = chr(code)
            cat = unicodedata.category(ch)
            if cat[0] in "PZC" or cat in ("Sk", "Sm", "So") or ch in "~`^|":
                if cat != "Co":
                    table[code] = None
                    deleted.add(ch)
            elif 0xFF01 <= code <= 0xFF5E:  # full-width ASCII letters and digits
                table[code] = ord(chr(code - 0xFEE0).lower())
            elif "A" <= ch <= "Z":
                table[code] = ord(ch.lower())
    return table, frozenset(deleted)


_FOLD_TABLE, _DELETED = _build_tables()


def fold(text: str) -> str:
    """The form text is matched in: no punctuation or spaces, half-width, lower-case."""
    return text.translate(_FOLD_TABLE)


def folded_positions(text: str) -> list[int]:
    """For each character of ``fold(text)``, its index in ``text``."""
    return [i for i, ch in enumerate(text) if ch not in _DELETED]


@dataclass(slots=True, frozen=True)
class Match:
    """A phrase found in an utterance; ``start``/``end`` index the original text."""

    phrase: str
    start: int
    end: int


class PhraseBank:
    """All phrase sets of a ruleset, compiled into one automaton."""

    def __init__(self) -> None:
        self._sets: list[tuple[str, ...]] = []
        self._ids: dict[tuple[str, ...], int] = {}
        self._automaton: Any = None
        #: user words for word-level matching (the ruleset's ``dictionary``, jargon terms)
        self.dictionary: set[str] = set()

    def add(self, phrases: Iterable[str]) -> int:
        """Register a set of phrases; returns the set id to ask matches for."""
        if self._automaton is not None:
            raise RuntimeError("PhraseBank is already built")
        key = tuple(phrases)
        known = self._ids.get(key)
        if known is not None:
            return known  # rules with the same list share one set (and one hit per match)
        self._sets.append(key)
        self._ids[key] = len(self._sets) - 1
        return len(self._sets) - 1

    def build(self) -> None:
        entries: dict[str, list[tuple[int, str]]] = {}
        for set_id, phrases in enumerate(self._sets):
            for phrase in phrases:
                key = fold(phrase)
                if key:
                    entries.setdefault(key, []).append((set_id, phrase))
        automaton = ahocorasick.Automaton()
        for key, owners in entries.items():
            automaton.add_word(key, (len(key), tuple(owners)))
        if entries:
            automaton.make_automaton()
            self._automaton = automaton
        else:
            self._automaton = False

    def scan(self, folded: str) -> dict[int, list[tuple[int, int, str]]]:
        """One pass over folded text: ``{set_id: [(start, end, phrase), …]}`` in folded offsets."""
        out: dict[int, list[tuple[int, int, str]]] = {}
        if not self._automaton or not folded:
            return out
        for end_index, (length, owners) in self._automaton.iter(folded):
            start = end_index + 1 - length
            for set_id, phrase in owners:
                out.setdefault(set_id, []).append((start, end_index + 1, phrase))
        return out


def leftmost_longest(matches: Sequence[Match]) -> list[Match]:
    """Non-overlapping matches, preferring the earliest and then the longest."""
    chosen: list[Match] = []
    last_end = -1
    for m in sorted(matches, key=lambda m: (m.start, -(m.end - m.start))):
        if m.start >= last_end:
            chosen.append(m)
            last_end = m.end
    return chosen


@lru_cache(maxsize=256)
def compile_safe_regex(pattern: str) -> Any:
    """Compile a user regex on RE2 (linear time, no catastrophic backtracking).

    Raises ``ValueError`` with RE2's reason when the pattern is invalid or uses a feature
    that cannot run in linear time (back-references, look-around).
    """
    import re2

    try:
        return re2.compile(pattern)
    except Exception as exc:  # re2.error has no stable public base; message is what matters
        raise ValueError(str(exc) or "invalid regular expression") from None


def literal_alternation(phrases: Iterable[str]) -> re.Pattern[str]:
    """A Python regex that matches a whole string made only of the given (folded) phrases."""
    keys = sorted({fold(p) for p in phrases if fold(p)}, key=len, reverse=True)
    if not keys:
        return re.compile(r"(?!)")
    return re.compile("(?:" + "|".join(re.escape(k) for k in keys) + ")+")


class CallView:
    """A transcript as rules see it, with per-utterance folding and matching done once, lazily."""

    __slots__ = ("_by_set", "_folded", "_hits", "_positions", "bank", "memo", "transcript",
                 "utterances")

    def __init__(self, transcript: Transcript, bank: PhraseBank) -> None:
        self.transcript = transcript
        self.utterances: list[Utterance] = transcript.utterances
        self.bank = bank
        self._folded: dict[int, str] = {}
        self._hits: dict[int, dict[int, list[tuple[int, int, str]]]] = {}
        self._positions: dict[int, list[int]] = {}
        #: per-call scratch space that rule kinds share (word segmentation, see csqa.words)
        self.memo: dict[Any, Any] = {}
        self._by_set: dict[str | None, dict[int, list[int]]] = {}

    def folded(self, index: int) -> str:
        text = self._folded.get(index)
        if text is None:
            text = self._folded[index] = fold(self.utterances[index].text)
        return text

    def _scan(self, index: int) -> dict[int, list[tuple[int, int, str]]]:
        hits = self._hits.get(index)
        if hits is None:
            hits = self._hits[index] = self.bank.scan(self.folded(index))
        return hits

    def contains(self, set_id: int, index: int) -> bool:
        """Whether utterance ``index`` contains any phrase of set ``set_id``."""
        return set_id in self._scan(index)

    def having(self, set_id: int, speaker: str | None = None) -> list[int]:
        """Indexes of the utterances (of ``speaker``, or everyone's) containing a phrase of set
        ``set_id``: one pass over those utterances, then cached for the call.

        For rules that look for a few phrases across the whole call: they visit only the
        utterances that have them instead of asking every utterance.
        """
        index = self._by_set.get(speaker)
        if index is None:
            index = {}
            for u in self.utterances:
                if speaker is None or u.speaker == speaker:
                    for sid in self._scan(u.index):
                        index.setdefault(sid, []).append(u.index)
            self._by_set[speaker] = index
        return index.get(set_id, [])

    def find(self, set_id: int, index: int) -> list[Match]:
        """Every phrase of set ``set_id`` found in utterance ``index`` (original offsets)."""
        raw = self._scan(index).get(set_id)
        if not raw:
            return []
        return [self._to_original(index, s, e, p) for s, e, p in raw]

    def regex(self, pattern: Any, index: int) -> list[Match]:
        """Matches of a compiled (RE2) regex on the folded utterance, in original offsets."""
        return [
            self._to_original(index, m.start(), m.end(), m.group(0))
            for m in pattern.finditer(self.folded(index))
            if m.end() > m.start()
        ]

    def _to_original(self, index: int, start: int, end: int, phrase: str) -> Match:
        positions = self._positions.get(index)
        if positions is None:
            positions = self._positions[index] = folded_positions(self.utterances[index].text)
        if not positions:
            return Match(phrase, 0, 0)
        return Match(phrase, positions[start], positions[end - 1] + 1)
