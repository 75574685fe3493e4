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
# str.translate looks every character up in the table, which is slow on Chinese text; the same
# result, faster: delete with one regex, then translate only when there is something to map.
_DELETE = re.compile("[" + "".join(sorted(re.escape(ch) for ch in _DELETED)) + "]+")
_MAPPED = re.compile("[A-Z\uFF01-\uFF5E]")


def fold(text: str) -> str:
    """The form text is matched in: no punctuation or spaces, half-width, lower-case."""
    text = _DELETE.sub("", text)
    if _MAPPED.search(text) is not None:
        return text.translate(_FOLD_TABLE)
    return text


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
        self._automaton: Any = None
        self._regexes: list[str] = []
        self._prefiltered: set[int] = set()
        #: one RE2 search over a whole call that is false only when no registered regex can
        #: match any utterance of it (``None``: no such pre-filter, run every regex)
        self.any_regex: Any = None

    def add_regex(self, pattern: str) -> Any:
        """Register a regex that rules will run through :meth:`CallView.regex`; returns it compiled.

        Registered regexes share a cheap pre-filter: most calls match none of them, and then
        one search per call replaces one search per regex per utterance.
        """
        if self._automaton is not None:
            raise RuntimeError("PhraseBank is already built")
        compiled = compile_safe_regex(pattern)
        self._regexes.append(pattern)
        self._prefiltered.add(id(compiled))
        return compiled

    def prefilters(self, pattern: Any) -> bool:
        """Whether ``pattern`` is covered by :attr:`any_regex`."""
        return self.any_regex is not None and id(pattern) in self._prefiltered

    def add(self, phrases: Iterable[str]) -> int:
        """Register a set of phrases; returns the set id to ask matches for."""
        if self._automaton is not None:
            raise RuntimeError("PhraseBank is already built")
        self._sets.append(tuple(phrases))
        return len(self._sets) - 1

    def build(self) -> None:
        self.any_regex = _joined_prefilter(self._regexes)
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


def _joined_prefilter(patterns: list[str]) -> Any:
    """One multi-line RE2 matching whenever any pattern matches any line (or ``None``).

    Utterances are joined with newlines; in multi-line mode ``^``/``$`` match at each line's
    ends, and ``.`` never crosses a newline, so a match inside one utterance is a match here.
    It may also match across lines (a pattern like ``[^x]`` can): that only costs the slow
    path. Patterns whose anchors do not work per line (``\\A``, ``\\z``, inline flags) get
    no pre-filter.
    """
    if not patterns or any("\\A" in p or "\\z" in p or "(?" in p.replace("(?:", "")
                           for p in patterns):
        return None
    try:
        import re2

        return re2.compile("(?m)" + "|".join(f"(?:{p})" for p in patterns))
    except Exception:  # the pre-filter is an optimisation: without it every regex just runs
        return None


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

    __slots__ = ("_by_speaker", "_folded", "_hits", "_positions", "_regex_possible", "bank",
                 "transcript", "utterances")

    def __init__(self, transcript: Transcript, bank: PhraseBank) -> None:
        self.transcript = transcript
        self.utterances: list[Utterance] = transcript.utterances
        self.bank = bank
        self._folded: dict[int, str] = {}
        self._hits: dict[int, dict[int, list[tuple[int, int, str]]]] = {}
        self._positions: dict[int, list[int]] = {}
        self._regex_possible: bool | None = None
        self._by_speaker: dict[str, list[Utterance]] = {}

    def by_speaker(self, speaker: str) -> list[Utterance]:
        """The utterances of one speaker role (``any``: all), in order; computed once per call.

        The list is shared: callers must not modify it.
        """
        utts = self._by_speaker.get(speaker)
        if utts is None:
            utts = self.utterances if speaker == "any" else [
                u for u in self.utterances if u.speaker == speaker]
            self._by_speaker[speaker] = utts
        return utts

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

    def sets_said_by(self, speaker: str) -> frozenset[int]:
        """The phrase sets found anywhere in the utterances of ``speaker`` (``any``: all)."""
        key = "sets:" + speaker
        found = self._by_speaker.get(key)
        if found is None:
            ids: set[int] = set()
            for u in self.by_speaker(speaker):
                ids.update(self._scan(u.index))
            found = self._by_speaker[key] = frozenset(ids)  # type: ignore[assignment]
        return found  # type: ignore[return-value]

    def regex_possible(self, patterns: Iterable[Any]) -> bool:
        """False when none of these (registered) regexes can match any utterance of the call."""
        for pattern in patterns:
            if not self.bank.prefilters(pattern):
                return True
            if self._regex_possible is None:
                joined = "\n".join(self.folded(i) for i in range(len(self.utterances)))
                self._regex_possible = self.bank.any_regex.search(joined) is not None
            return self._regex_possible
        return False

    def contains(self, set_id: int, index: int) -> bool:
        """Whether utterance ``index`` contains any phrase of set ``set_id``."""
        return set_id in self._scan(index)

    def find(self, set_id: int, index: int) -> list[Match]:
        """Every phrase of set ``set_id`` found in utterance ``index`` (original offsets)."""
        raw = self._scan(index).get(set_id)
        if not raw:
            return []
        return [self._to_original(index, s, e, p) for s, e, p in raw]

    def regex(self, pattern: Any, index: int) -> list[Match]:
        """Matches of a compiled (RE2) regex on the folded utterance, in original offsets."""
        if not self.regex_possible((pattern,)):
            return []
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
