"""Tolerant phrase matching: ``fuzzy`` (edit distance) and ``pinyin`` (homophones too).

A phrase rule's ``tolerance`` says how close an utterance must come to a phrase:

- ``exact``: the normalised phrase occurs in the normalised utterance (:mod:`csqa.matching`);
- ``fuzzy``: some stretch of the utterance is within a Levenshtein similarity of
  ``similarity`` (default 0.8) of the phrase, with at most ``floor(len × (1 − similarity))``
  edits: a phrase of up to 4 characters must be said exactly, 5–9 characters may lose, gain
  or change one (为 swallowed in 很高兴为您服务), 10–14 two;
- ``pinyin``: the same, but characters are compared by their toneless pinyin, so ASR
  homophones (在/再, 已/以, 帐/账, 门/们) cost nothing.

Similarity is ``1 − distance / max(len(phrase), len(stretch))``, computed by rapidfuzz.

Speed: nothing loops over every phrase for every utterance. Each *space* (characters for
``fuzzy``, syllables for ``pinyin``) has one Aho-Corasick automaton for the exact occurrences
and inverted bigram/character indexes: an utterance's bigrams vote for the phrases sharing
them, and only phrases with enough shared bigrams to be within their edit budget (the q-gram
lemma: each edit destroys at most two bigrams) are aligned. Near-miss search (what came
closest to a required phrase that was not said) runs only for a rule that is about to fire,
over its own scope.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import ahocorasick_rs

Tolerance = Literal["exact", "fuzzy", "pinyin"]
TOLERANCES: tuple[str, ...] = ("exact", "fuzzy", "pinyin")
DEFAULT_SIMILARITY = 0.8
#: Below this similarity a near miss is not worth showing: it is simply not there (two of
#: four characters alike, 盘不转一 for 满不满意, is noise).
NEAR_MISS_FLOOR = 0.6
#: Phrases shorter than this get no near-miss report.
NEAR_MISS_MIN_CHARS = 3

_EPS = 1e-9


def max_edits(length: int, similarity: float) -> int:
    """The edit budget of a phrase of ``length`` characters at ``similarity``."""
    return int(length * (1.0 - similarity) + _EPS)


_SYLLABLES: list[int] | None = None


def syllable_table() -> list[int]:
    """``str.translate`` table: Han character -> a private-use code point standing for its
    toneless pinyin syllable (homophones share one). From ``csqa/data/pinyin.json``, pypinyin's
    syllable of each character (written by ``tools/make_pinyin_table.py``); other characters
    stand for themselves. A list indexed by code point (see :func:`csqa.normalize.fold`);
    characters past the BMP (where it does not reach) are left as they are."""
    global _SYLLABLES
    if _SYLLABLES is None:
        from importlib.resources import files

        import orjson

        data = orjson.loads(files("csqa.data").joinpath("pinyin.json").read_bytes())
        table = list(range(0x10000))
        extra: dict[int, int] = {}
        for n, chars in enumerate(data.values()):
            for ch in chars:
                code = ord(ch)
                if code < 0x10000:
                    table[code] = 0xF0000 + n
                else:
                    extra[code] = 0xF0000 + n
        _SYLLABLES = table
        _EXTRA_SYLLABLES.update(extra)
    return _SYLLABLES


_EXTRA_SYLLABLES: dict[int, int] = {}  # Han characters past the BMP (extensions B and up)


def to_pinyin_space(text: str) -> str:
    """``text`` with every Han character replaced by a symbol for its syllable (same length)."""
    out = text.translate(_SYLLABLES if _SYLLABLES is not None else syllable_table())
    if text and max(text) >= "\U00010000":  # rare: a character past the BMP
        out = out.translate(_EXTRA_SYLLABLES)
    return out


def to_space(text: str, space: str) -> str:
    """Normalised text in a tolerance's comparison space (same length as ``text``)."""
    return to_pinyin_space(text) if space == "pinyin" else text


@dataclass(slots=True, frozen=True)
class _Entry:
    set_id: int
    phrase: str  # as written in the ruleset (reported in findings)
    key: str  # in the index's space
    similarity: float
    edits: int
    grams: frozenset[str]  # distinct bigrams (or characters, when bigrams cannot filter)
    min_shared: int  # grams an utterance must share to be within the edit budget
    by_bigrams: bool  # whether ``grams`` are bigrams (else characters)


@dataclass(slots=True, unsafe_hash=True)  # not frozen: built often (see model.Utterance)
class Tolerant:
    """A tolerant occurrence, in offsets of the normalised text."""

    start: int
    end: int
    phrase: str
    similarity: float


def _bigrams(s: str) -> set[str]:
    return {s[i : i + 2] for i in range(len(s) - 1)}


#: up to this many phrases, candidates are found by a set intersection each; beyond, through an
#: index of their grams
_FEW = 16

#: what :meth:`TolerantIndex.first_pass` gives: exact occurrences (entry, start, end), and the
#: text's bigrams and characters
FirstPass = tuple[list[tuple[int, int, int]], "set[str] | frozenset[str]", "set[str] | frozenset[str]"]


class TolerantIndex:
    """All phrase sets of one space (``fuzzy`` or ``pinyin``), compiled for one pass per
    utterance."""

    def __init__(self, space: str) -> None:
        self.space = space
        self._entries: list[_Entry] = []
        self._by_set: dict[int, list[int]] = {}
        self._automaton: Any = None  # ahocorasick_rs.AhoCorasick of the entries' keys
        self._ids: list[tuple[int, ...]] = []  # by key index: the entries with that key
        self._aligned: list[int] = []  # entries with an edit budget (aligned, not only exact)
        self._aligned_of: dict[int, list[int]] = {}  # the same, by set
        self._indexes: dict[int | None, tuple[dict[str, list[int]], dict[str, list[int]]]] = {}

    def add(self, set_id: int, phrases: Iterable[tuple[str, str]], similarity: float) -> None:
        """Register ``(phrase as written, normalised phrase)`` pairs under ``set_id``."""
        for phrase, norm in phrases:
            key = to_space(norm, self.space)
            if not key:
                continue
            edits = max_edits(len(key), similarity)
            grams: set[str] = set()
            need = 0
            if edits:
                grams = _bigrams(key)
                need = len(grams) - 2 * edits
                if need < 1:  # too short for bigrams to rule anything out: use characters
                    grams = set(key)
                    need = max(1, len(grams) - edits)
            self._by_set.setdefault(set_id, []).append(len(self._entries))
            self._entries.append(
                _Entry(set_id, phrase, key, similarity, edits, frozenset(grams), need,
                       all(len(g) == 2 for g in grams)))

    def build(self) -> None:
        keys: dict[str, list[int]] = {}
        for i, e in enumerate(self._entries):
            keys.setdefault(e.key, []).append(i)
        if keys:
            self._ids = [tuple(ids) for ids in keys.values()]  # entries, by key index
            self._automaton = ahocorasick_rs.AhoCorasick(list(keys))
        self._aligned = [i for i, e in enumerate(self._entries) if e.edits]
        for i in self._aligned:
            self._aligned_of.setdefault(self._entries[i].set_id, []).append(i)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def scan(self, sym: str) -> dict[int, list[Tolerant]]:
        """Every set's occurrences in ``sym`` (text already in this index's space)."""
        return self.occurrences(sym, self.first_pass(sym))

    def first_pass(self, sym: str) -> FirstPass:
        """The cheap part of a scan, shared by all sets: exact occurrences ``(entry, start,
        end)`` in order of their end, and the text's bigrams and characters (what decides
        which phrases are worth aligning)."""
        if self._automaton is None or not sym:
            return [], frozenset(), frozenset()
        by_key = self._ids
        exact = [(i, start, end)
                 for key, start, end in self._automaton.find_matches_as_indexes(sym, overlapping=True)
                 for i in by_key[key]]
        return exact, _bigrams(sym), set(sym)

    def occurrences(self, sym: str, first: FirstPass,
                    set_id: int | None = None) -> dict[int, list[Tolerant]]:
        """Occurrences in ``sym`` from its :meth:`first_pass`: of every set, or of ``set_id``
        only (the alignments, the costly part, are then done for that set's phrases alone).

        Exact occurrences come first, in order of their end; then the tolerant ones, phrase by
        phrase in the order they were added.
        """
        out: dict[int, list[Tolerant]] = {}
        exact: dict[int, list[tuple[int, int]]] = {}
        entries = self._entries
        for i, start, end in first[0]:
            e = entries[i]
            if set_id is not None and e.set_id != set_id:
                continue
            exact.setdefault(i, []).append((start, end))
            out.setdefault(e.set_id, []).append(Tolerant(start, end, e.phrase, 1.0))
        for i in self._candidates(first, set_id):
            e = entries[i]
            taken = exact.get(i, [])
            for start, end, score in _align_all(e.key, sym, e.edits, e.similarity):
                if all(end <= s or start >= t for s, t in taken):
                    out.setdefault(e.set_id, []).append(
                        Tolerant(start, end, e.phrase, round(score, 2)))
        return out

    def _candidates(self, first: FirstPass, set_id: int | None) -> list[int]:
        """The phrases (of ``set_id``, or all) worth aligning, in the order they were added: an
        alignment within the edit budget shares at least ``min_shared`` of the phrase's bigrams
        (or characters) with the text, so the others cannot match."""
        bigrams, chars = first[1], first[2]
        entries = self._entries
        pool = self._aligned if set_id is None else self._aligned_of.get(set_id, [])
        if len(pool) <= _FEW:  # a set intersection per phrase
            return [i for i in pool if len(entries[i].grams & (bigrams if entries[i].by_bigrams
                                                               else chars)) >= entries[i].min_shared]
        # many phrases: count shared grams through an index of the pool's grams
        by_bigram, by_char = self._gram_index(set_id, pool)
        votes: dict[int, int] = {}  # a plain dict: Counter's missing-key hook is Python code
        get = votes.get
        for grams, index in ((bigrams, by_bigram), (chars, by_char)):
            if index:
                for g in grams:
                    for i in index.get(g, ()):
                        votes[i] = get(i, 0) + 1
        return sorted(i for i, n in votes.items() if n >= entries[i].min_shared)

    def _gram_index(self, set_id: int | None, pool: list[int]
                    ) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        got = self._indexes.get(set_id)
        if got is None:
            by_bigram: dict[str, list[int]] = {}
            by_char: dict[str, list[int]] = {}
            for i in pool:
                e = self._entries[i]
                for g in e.grams:
                    (by_bigram if e.by_bigrams else by_char).setdefault(g, []).append(i)
            got = self._indexes[set_id] = (by_bigram, by_char)
        return got

    def closest(self, set_id: int, sym: str) -> Tolerant | None:
        """The stretch of ``sym`` most similar to any phrase of ``set_id`` (a near miss)."""
        entries = (self._entries[i] for i in self._by_set.get(set_id, ()))
        return closest(((e.phrase, e.key) for e in entries), sym)


def closest(phrases: Iterable[tuple[str, str]], sym: str) -> Tolerant | None:
    """The stretch of ``sym`` most similar to any ``(phrase, key)`` (key in ``sym``'s space).

    Phrases of fewer than :data:`NEAR_MISS_MIN_CHARS` characters are skipped: one shared
    character of 您好 says nothing. Stretches of up to half the phrase's length more or less
    are compared.
    """
    best: Tolerant | None = None
    for phrase, key in phrases:
        if len(key) < NEAR_MISS_MIN_CHARS:
            continue
        found = _align_best(key, sym, max(1, len(key) // 2))
        if found is not None and (best is None or found[2] > best.similarity):
            best = Tolerant(found[0], found[1], phrase, round(found[2], 2))
    return best


def _cannot_reach(key: str, sym: str, cutoff: float) -> bool:
    """Whether no stretch of ``sym`` can be ``cutoff`` similar to ``key``: an alignment matches
    at most the characters the two share (``c``), so the distance to any stretch is at least
    ``max(len) - c`` and the similarity at most ``c / len(key)``. Rules most texts out before
    comparing hundreds of stretches."""
    have = _counts(sym)
    shared = sum(min(n, have.get(ch, 0)) for ch, n in _counts(key).items())
    return shared < cutoff * len(key)


@lru_cache(maxsize=1024)
def _counts(text: str) -> dict[str, int]:
    """Character counts of a phrase key or an utterance (asked about for several phrases)."""
    return dict(Counter(text))


_RAPIDFUZZ: tuple[Any, Any] | None = None


def _rapidfuzz() -> tuple[Any, Any]:
    """rapidfuzz's ``process`` and ``Levenshtein``, imported on first use (55 ms: not at start-up,
    and not again per alignment)."""
    global _RAPIDFUZZ
    if _RAPIDFUZZ is None:
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        _RAPIDFUZZ = (process, Levenshtein)
    return _RAPIDFUZZ


def _windows(key: str, sym: str, edits: int) -> tuple[list[str], list[tuple[int, int]]]:
    m, n = len(key), len(sym)
    lengths = range(max(1, m - edits), min(n, m + edits) + 1)
    spans = [(start, start + length) for length in lengths for start in range(n - length + 1)]
    return [sym[s:e] for s, e in spans], spans


def _align_all(key: str, sym: str, edits: int, similarity: float) -> list[tuple[int, int, float]]:
    """Non-overlapping stretches of ``sym`` within ``edits`` of ``key`` and at ``similarity``,
    best first."""
    if _cannot_reach(key, sym, similarity - _EPS):
        return []
    texts, spans = _windows(key, sym, edits)
    if not texts:
        return []
    process, Levenshtein = _rapidfuzz()
    found = process.extract(key, texts, scorer=Levenshtein.normalized_similarity,
                            score_cutoff=similarity - _EPS, limit=None)
    m = len(key)
    ranked = sorted(((score, spans[idx]) for _, score, idx in found),
                    key=lambda t: (-t[0], abs((t[1][1] - t[1][0]) - m), t[1][0]))
    chosen: list[tuple[int, int, float]] = []
    for score, (s, e) in ranked:
        if Levenshtein.distance(key, sym[s:e], score_cutoff=edits) > edits:
            continue
        if all(e <= cs or s >= ce for cs, ce, _ in chosen):
            chosen.append((s, e, score))
    chosen.sort()
    return chosen


def _align_best(key: str, sym: str, edits: int) -> tuple[int, int, float] | None:
    """The most similar stretch at or above :data:`NEAR_MISS_FLOOR`, or ``None``."""
    if _cannot_reach(key, sym, NEAR_MISS_FLOOR - _EPS):
        return None
    texts, spans = _windows(key, sym, edits)
    if not texts:
        return None
    process, Levenshtein = _rapidfuzz()
    found = process.extract(key, texts, scorer=Levenshtein.normalized_similarity, limit=None,
                            score_cutoff=NEAR_MISS_FLOOR - _EPS)
    if not found:
        return None
    # ties: the stretch closest to the phrase's length (reads as the phrase would), then the first
    m = len(key)
    _, score, idx = min(found, key=lambda f: (-f[1], abs(spans[f[2]][1] - spans[f[2]][0] - m),
                                              f[2]))
    return spans[idx][0], spans[idx][1], float(score)
