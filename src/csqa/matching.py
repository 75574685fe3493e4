"""The shared phrase matcher: one Aho-Corasick pass per utterance for every phrase of every rule.

Rule kinds never loop over their phrases. At compile time each rule registers its phrase
lists with a :class:`PhraseBank` and gets back a set id; at audit time a :class:`CallView`
scans each utterance once (lazily, only if some rule asks) and hands every rule the matches
of its own sets.

Matching is done on *folded* text (:func:`csqa.normalize.fold`): punctuation and white space
removed, full-width ASCII folded to half-width, Latin letters lower-cased, traditional
characters converted to simplified (OpenCC ``t2s``, character by character). Phrases are
folded the same way, so
``你问我,我问谁?`` in a ruleset matches ``你问我 我问谁`` in a transcript. The phrase bank then
removes the ruleset's fillers (呃 嗯 啊 那个, see :mod:`csqa.normalize`) from both sides.
Offsets are mapped back to the original text, so evidence is always shown as it was said.

Phrase sets registered with ``tolerance: fuzzy`` or ``pinyin`` are matched by
:mod:`csqa.tolerant` instead of the exact automaton, through the same :class:`CallView`.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from operator import itemgetter
from typing import Any

import ahocorasick_rs

from csqa.facts import CallFacts
from csqa.meaning import MeaningBank
from csqa.model import Transcript, Utterance
from csqa.normalize import Normalizer, _lost_after, fold, t2s_table
from csqa.tolerant import NEAR_MISS_FLOOR, closest, to_space

_SEP = "\ue000"  # joins a call's utterances for one pass over them all (see CallView._prescan)
_NOWHERE: list[int] = []  # shared, never written to
_END = itemgetter(2)  # of an automaton hit (key index, start, end)


@dataclass(slots=True, unsafe_hash=True)  # not frozen: built often (see model.Utterance)
class Match:
    """A phrase found in an utterance; ``start``/``end`` index the original text.

    ``similarity`` is 1.0 for an exact match, less for a tolerant one (see :mod:`csqa.tolerant`).
    """

    phrase: str
    start: int
    end: int
    similarity: float = 1.0


@dataclass(slots=True, frozen=True)
class NearMiss:
    """What came closest to a phrase set in some utterances: the phrase, the original text of
    the closest stretch, the utterance it is in, and the similarity (0–1)."""

    phrase: str
    text: str
    utterance: int
    similarity: float


class PhraseBank:
    """All phrase sets of a ruleset, compiled into one automaton (and, for tolerant sets, one
    :class:`~csqa.tolerant.TolerantIndex` per comparison space).

    ``normalizer`` removes the ruleset's fillers from phrases and utterances alike (default:
    :data:`csqa.normalize.DEFAULT_FILLERS`).
    """

    def __init__(self, normalizer: Any = None) -> None:
        self.normalizer: Normalizer = normalizer if normalizer is not None else Normalizer()
        self._sets: list[tuple[str, ...]] = []
        self._ids: dict[tuple[Any, ...], int] = {}
        self._space: dict[int, str] = {}  # set id -> "fuzzy"/"pinyin" for tolerant sets
        self._tolerant: dict[str, Any] = {}
        #: ahocorasick_rs.AhoCorasick of every normalised phrase (False when there is none)
        self._automaton: Any = None
        self._find: Any = None  # its find_matches_as_indexes: (key index, start, end) in order of end
        self._owners: list[tuple[tuple[int, str], ...]] = []
        self._set_ids: list[tuple[int, ...]] = []
        self._regexes: dict[str, int] = {}  # pattern -> slot in the regex pre-filter
        self._regex_set: Any = None
        self._slot_of: dict[Any, int | None] = {}  # compiled regex -> regex_slot()
        self.sep_in_phrases = False
        self.unmatchable: list[str] = []  # phrases that normalise to nothing (only fillers)
        #: user words for word-level matching (the ruleset's ``dictionary``, jargon terms)
        self.dictionary: set[str] = set()
        #: the rules' meaning examples (off unless the engine gives one that is on)
        self.meaning = MeaningBank(enabled=False)
        self._fact_keys = 0

    def fact_key(self) -> int:
        """A new number for a compiled matcher or condition: what names its facts in a call
        (:class:`csqa.facts.CallFacts`)."""
        self._fact_keys += 1
        return self._fact_keys

    def add(self, phrases: Iterable[str], tolerance: str = "exact",
            similarity: float | None = None) -> int:
        """Register a set of phrases; returns the set id to ask matches for.

        ``tolerance`` is ``exact`` (default), ``fuzzy`` or ``pinyin``; ``similarity`` the bound
        for the tolerant ones (default :data:`csqa.tolerant.DEFAULT_SIMILARITY`).
        """
        if self._automaton is not None:
            raise RuntimeError("PhraseBank is already built")
        phrases = tuple(phrases)
        known = self._ids.get((phrases, tolerance, similarity))
        if known is not None:
            return known  # rules with the same list share one set (and one hit per match)
        set_id = len(self._sets)
        self._ids[(phrases, tolerance, similarity)] = set_id
        self._sets.append(phrases)
        for phrase in phrases:
            if fold(phrase) and not self.normalizer.key(phrase):
                self.unmatchable.append(phrase)
        if tolerance != "exact":
            from csqa.tolerant import DEFAULT_SIMILARITY, TolerantIndex

            index = self._tolerant.get(tolerance)
            if index is None:
                index = self._tolerant[tolerance] = TolerantIndex(tolerance)
            index.add(set_id, ((p, self.normalizer.key(p)) for p in phrases),
                      DEFAULT_SIMILARITY if similarity is None else similarity)
            self._space[set_id] = tolerance
        return set_id

    def add_regex(self, pattern: str) -> Any:
        """Register a user regex (RE2) for the per-call pre-filter; returns it compiled.

        At audit time one RE2 *set* pass over the whole call tells which registered regexes can
        match anywhere in it; the others are not run on any of its utterances.
        """
        if self._automaton is not None:
            raise RuntimeError("PhraseBank is already built")
        compiled = compile_safe_regex(pattern)
        self._regexes.setdefault(pattern, len(self._regexes))
        return compiled

    def build(self) -> None:
        self._build_regex_set()
        # Tolerant sets are in the exact automaton too: an exact occurrence answers contains()
        # without the tolerant pass, which is then only needed when the exact one finds nothing.
        entries: dict[str, list[tuple[int, str]]] = {}
        for set_id, phrases in enumerate(self._sets):
            for phrase in phrases:
                key = self.normalizer.key(phrase)
                if key:
                    entries.setdefault(key, []).append((set_id, phrase))
        #: a phrase holding the separator CallView joins utterances with could match across
        #: two of them: such a ruleset is matched utterance by utterance
        self.sep_in_phrases = any(_SEP in key for key in entries)
        if entries:
            keys = list(entries)
            # per key, by its index in the automaton: ((set id, phrase), …), the distinct set ids
            self._owners = [tuple(entries[k]) for k in keys]
            self._set_ids = [tuple(dict.fromkeys(set_id for set_id, _ in owners))
                             for owners in self._owners]
            self._automaton = ahocorasick_rs.AhoCorasick(keys)
            self._find = self._automaton.find_matches_as_indexes
        else:
            self._automaton = False
        for index in self._tolerant.values():
            index.build()
        self.meaning.build()

    def _build_regex_set(self) -> None:
        """One RE2 set of every registered regex, in multi-line mode over the call's folded
        utterances joined by newlines: a superset of each utterance's own matches (folded text
        has no newline; ``^``/``$`` then match at utterance bounds). Regexes that anchor to the
        whole text (``\\A``, ``\\z``) or switch flags off cannot be pre-filtered so; they always run.
        """
        if not self._regexes:
            return
        import re2

        rset = re2.Set.SearchSet()
        slots: dict[str, int] = {}
        for pattern in self._regexes:
            if "\\A" in pattern or "\\z" in pattern or "(?-" in pattern:
                continue
            try:
                slots[pattern] = rset.Add("(?m)" + pattern)
            except Exception:  # not pre-filtered: it still runs
                continue
        if slots:
            rset.Compile()
            self._regexes = slots
            self._regex_set = rset
        else:
            self._regexes = {}

    def regex_slots(self, folded_lines: str) -> frozenset[int]:
        """Slots of the registered regexes that may match in ``folded_lines``."""
        return frozenset(self._regex_set.Match(folded_lines) or ()) if self._regex_set else frozenset()

    def regex_slot(self, pattern: Any) -> int | None:
        """The pre-filter slot of a compiled regex, ``None`` when it is not pre-filtered."""
        try:
            return self._slot_of[pattern]  # by the compiled object: .pattern is a property
        except KeyError:
            slot = self._slot_of[pattern] = self._regexes.get(pattern.pattern)
            return slot

    def space(self, set_id: int) -> str | None:
        """``fuzzy``/``pinyin`` for a tolerant set, ``None`` for an exact one."""
        return self._space.get(set_id)

    def tolerant(self, space: str) -> Any:
        """The :class:`~csqa.tolerant.TolerantIndex` of a space (``fuzzy``/``pinyin``)."""
        return self._tolerant[space]

    def keys(self, set_id: int) -> list[tuple[str, str]]:
        """``(phrase as written, normalised phrase)`` of every phrase of a set."""
        return [(p, self.normalizer.key(p)) for p in self._sets[set_id]]

    def scan(self, folded: str) -> dict[int, list[tuple[int, int, str]]]:
        """One pass over normalised text: ``{set_id: [(start, end, phrase), …]}`` in its offsets
        (exact occurrences, of every set)."""
        out: dict[int, list[tuple[int, int, str]]] = {}
        if not self._automaton or not folded:
            return out
        owners = self._owners
        for key, start, end in self._find(folded, overlapping=True):
            for set_id, phrase in owners[key]:
                out.setdefault(set_id, []).append((start, end, phrase))
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


#: the longest user regex accepted (a real one is a few dozen characters)
MAX_REGEX_CHARS = 4096


@lru_cache(maxsize=256)
def compile_safe_regex(pattern: str) -> Any:
    """Compile a user regex on RE2 (linear time, no catastrophic backtracking).

    Raises ``ValueError`` with RE2's reason when the pattern is invalid or uses a feature
    that cannot run in linear time (back-references, look-around), or is longer than
    :data:`MAX_REGEX_CHARS` (compiling a pattern of many thousands of alternatives takes long
    in C, where a SIGTERM cannot interrupt it: a phrase list is the tool for that).
    """
    import re2

    if len(pattern) > MAX_REGEX_CHARS:
        raise ValueError(f"正则表达式长 {len(pattern)} 个字符,超过上限 {MAX_REGEX_CHARS};"
                         "大量备选词请写成 phrases 列表")
    try:
        return re2.compile(pattern)
    except Exception as exc:  # re2.error has no stable public base; message is what matters
        reason = exc.args[0] if exc.args else ""
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(str(reason) or "正则表达式无效") from None


def literal_alternation(phrases: Iterable[str]) -> re.Pattern[str]:
    """A Python regex that matches a whole string made only of the given (folded) phrases."""
    keys = sorted({fold(p) for p in phrases if fold(p)}, key=len, reverse=True)
    if not keys:
        return re.compile(r"(?!)")
    return re.compile("(?:" + "|".join(re.escape(k) for k in keys) + ")+")


class CallView:
    """A transcript as rules see it, with per-utterance folding and matching done once, lazily.

    Two forms of each utterance: :meth:`folded` (punctuation/width/case/traditional folded;
    what regexes and character counts use) and the *normalised* form (folded, then the
    ruleset's fillers removed; what phrases are matched in). Both map back to the original.
    """

    __slots__ = (
        "_by_set",
        "_folded",
        "_hits",
        "_joined",
        "_norm_text",
        "_plain",
        "_positions",
        "_prescanned",
        "_raw",
        "_regex_slots",
        "_spaces",
        "_starts",
        "_tfirst",
        "_thits",
        "_where",
        "bank",
        "facts",
        "transcript",
        "utterances",
    )

    #: fold, normalise and scan the call's utterances in one pass (see :meth:`_prescan`);
    #: ``False`` does it utterance by utterance (the plain path the tests compare with)
    whole_call = True

    def __init__(self, transcript: Transcript, bank: PhraseBank) -> None:
        self.transcript = transcript
        self.utterances: list[Utterance] = transcript.utterances
        self.bank = bank
        # per utterance, by index; None until _prescan (then None for one not yet computed)
        self._folded: list[str | None] | None = None
        self._plain: list[str | None] = [None] * len(self.utterances)  # see plain()
        self._norm_text: list[str | None] = []
        self._hits: list[dict[int, list[tuple[int, int, str]]] | None] = []
        self._positions: dict[int, tuple[list[int] | None, list[int] | None]] = {}
        self._spaces: dict[tuple[str, int], str] = {}
        self._thits: dict[tuple[str, int], dict[int, list[Any]]] = {}
        self._tfirst: dict[tuple[str, int], Any] = {}
        #: what the call's rules work out once and share (speaker turns, words, matches…)
        self.facts = CallFacts()
        #: {set id: [utterances holding it]} of the whole-call pass (None without it)
        self._where: dict[int, list[int]] | None = None
        self._by_set: dict[str | None, dict[int, list[int]]] = {}  # the same, utterance by utterance
        self._prescanned = False
        self._joined: str | None = None  # the folded utterances joined by _SEP, from _prescan
        #: the whole-call pass's automaton hits (key index, start, end) in the joined text
        self._raw: list[tuple[int, int, int]] | None = None
        #: how many characters the utterances before each have in the joined text (without
        #: the separators)
        self._starts: list[int] | None = None
        self._regex_slots: frozenset[int] | None = None

    def _prescan(self) -> None:
        """Fold, normalise and scan every utterance at once: the call's texts joined by a
        separator (a private-use character, kept by folding and in no phrase), one fold,
        one filler pass and one automaton pass for the whole call instead of one per utterance.
        Results are exactly the per-utterance ones: no phrase can match across the separator.

        The pass records which utterances hold each set (what :meth:`having`, :meth:`contains`
        and :meth:`contains_any` answer from); the per-utterance ``{set id: [(start, end,
        phrase)]}`` of :meth:`_scan` is made only for the utterances some rule asks ``find``.
        """
        self._prescanned = True
        n = len(self.utterances)
        self._folded = [None] * n
        self._norm_text = [None] * n
        self._hits = [None] * n
        if not self.whole_call or not n or self.bank.sep_in_phrases:
            return
        joined = _SEP.join([u.text for u in self.utterances])
        if joined.count(_SEP) != n - 1:
            return  # the separator is in the text itself: utterance by utterance
        folded = fold(joined)
        norm = self.bank.normalizer.strip_folded(folded)
        if norm.count(_SEP) != n - 1:  # a filler holding the separator: utterance by utterance
            return
        self._folded = folded.split(_SEP)  # type: ignore[assignment]
        self._joined = folded
        lines = self._norm_text = norm.split(_SEP)  # type: ignore[assignment]
        where: dict[int, list[int]] = {}
        self._where = where
        bank = self.bank
        if not bank._automaton:
            return
        # hits come in order of their end; no match spans a separator, so the utterance of a
        # hit is the one its start is in
        set_ids = bank._set_ids
        i = 0
        end = len(lines[0])  # offset of the separator after utterance i
        raw = self._raw = bank._find(norm, overlapping=True)  # kept for _scan
        for key, at, _ in raw:
            while at >= end:
                i += 1
                end += len(lines[i]) + 1
            for set_id in set_ids[key]:
                found = where.get(set_id)
                if found is None:
                    where[set_id] = [i]
                elif found[-1] != i:
                    found.append(i)

    def joined_folded(self) -> str | None:
        """All the call's utterances folded (:func:`fold`, character by character) and joined
        by a private-use separator, as the whole-call pass made them, for a cheap look for a
        character in the whole call; ``None`` when the call is matched utterance by utterance."""
        if not self._prescanned:
            self._prescan()
        return self._joined

    def folded(self, index: int) -> str:
        texts = self._folded
        if texts is None:
            self._prescan()
            texts = self._folded
            assert texts is not None
        text = texts[index]
        if text is None:
            text = texts[index] = fold(self.utterances[index].text)
        return text

    def plain(self, index: int) -> str:
        """Utterance ``index`` as the sentence model reads it: simplified characters, half-width
        (NFKC), punctuation kept (it carries the tone: 你大声点! vs 您大声一点好吗?); the t2s
        table is built once per process (:func:`csqa.normalize.t2s_table`)."""
        text = self._plain[index]
        if text is None:
            text = self._plain[index] = unicodedata.normalize(
                "NFKC", self.utterances[index].text).translate(t2s_table())
        return text

    def norm_text(self, index: int) -> str:
        """The normalised utterance without offsets (cheaper; offsets only when a match needs them)."""
        if not self._prescanned:
            self._prescan()
        texts = self._norm_text
        text = texts[index]
        if text is None:
            text = texts[index] = self.bank.normalizer.strip_folded(self.folded(index))
        return text

    def _scan(self, index: int) -> dict[int, list[tuple[int, int, str]]]:
        """``{set id: [(start, end, phrase)]}`` of utterance ``index`` (normalised offsets), once,
        when a rule asks (few utterances are asked about): the utterance's own hits of the
        whole-call pass, else the utterance scanned on its own (the same, see :meth:`_prescan`)."""
        if not self._prescanned:
            self._prescan()
        hits = self._hits[index]
        if hits is None:
            raw = self._raw
            hits = self._hits[index] = (self.bank.scan(self.norm_text(index)) if raw is None
                                        else self._own_hits(raw, index))
        return hits

    def _own_hits(self, raw: list[tuple[int, int, int]],
                  index: int) -> dict[int, list[tuple[int, int, str]]]:
        """:meth:`PhraseBank.scan` of utterance ``index`` from the whole-call pass's hits (in
        order of their end, none spanning a separator): the run of them inside the utterance,
        in its own offsets."""
        starts = self._starts
        if starts is None:
            lines: list[str] = self._norm_text  # type: ignore[assignment]  # all set by _prescan
            starts = self._starts = list(accumulate(map(len, lines), initial=0))
        lo = starts[index] + index  # the utterances before it, each with its separator
        hi = starts[index + 1] + index  # the separator after it
        owners = self.bank._owners
        out: dict[int, list[tuple[int, int, str]]] = {}
        k = bisect_left(raw, lo + 1, key=_END)  # the first hit ending inside it (none is empty)
        n = len(raw)
        while k < n:
            key, start, end = raw[k]
            if start >= hi:
                break
            for set_id, phrase in owners[key]:
                out.setdefault(set_id, []).append((start - lo, end - lo, phrase))
            k += 1
        return out

    def _in_space(self, space: str, index: int) -> str:
        key = (space, index)
        sym = self._spaces.get(key)
        if sym is None:
            sym = self._spaces[key] = to_space(self.norm_text(index), space)
        return sym

    def _tfound(self, space: str, index: int, set_id: int) -> list[Any]:
        """Tolerant occurrences of set ``set_id`` in utterance ``index``: the utterance's first
        pass once, then alignments only for the sets asked about."""
        key = (space, index)
        by_set = self._thits.get(key)
        if by_set is None:
            by_set = self._thits[key] = {}
        found = by_set.get(set_id)
        if found is None:
            tolerant = self.bank.tolerant(space)
            sym = self._in_space(space, index)
            first = self._tfirst.get(key)
            if first is None:
                first = self._tfirst[key] = tolerant.first_pass(sym)
            found = by_set[set_id] = tolerant.occurrences(sym, first, set_id).get(set_id, [])
        return found

    def _holding(self, set_id: int) -> list[int] | None:
        """The utterances holding exact occurrences of set ``set_id`` by the whole-call pass
        (``None`` without that pass: ask :meth:`_scan`)."""
        where = self._where
        if where is None:
            if self._prescanned:
                return None
            self._prescan()
            where = self._where
            if where is None:
                return None
        return where.get(set_id, _NOWHERE)

    def contains(self, set_id: int, index: int) -> bool:
        """Whether utterance ``index`` contains any phrase of set ``set_id``."""
        holding = self._holding(set_id)
        if index in holding if holding is not None else set_id in self._scan(index):
            return True
        space = self.bank._space.get(set_id)
        return space is not None and bool(self._tfound(space, index, set_id))

    def contains_any(self, set_id: int, indexes: Iterable[int]) -> bool:
        """Whether any of utterances ``indexes`` contains a phrase of set ``set_id``: exact
        occurrences first (dictionary lookups), the tolerant pass only when none is exact."""
        space = self.bank._space.get(set_id)
        holding = self._holding(set_id)
        if holding is None:
            indexes = list(indexes)
            for i in indexes:
                if set_id in self._scan(i):
                    return True
        else:
            if not holding and space is None:
                return False
            looked = []
            for i in indexes:  # stops at the first that has it: most often an early one
                if i in holding:
                    return True
                looked.append(i)
            indexes = looked
        return space is not None and any(self._tfound(space, i, set_id) for i in indexes)

    def having(self, set_id: int, speaker: str | None = None) -> list[int]:
        """Indexes of the utterances (of ``speaker``, or everyone's) containing a phrase of set
        ``set_id``, in order (do not change the list).

        For rules that look for a few phrases across the whole call: they visit only the
        utterances that have them instead of asking every utterance.
        """
        if set_id in self.bank._space:  # a tolerant set: ask each utterance
            return [u.index for u in self.utterances
                    if (speaker is None or u.speaker == speaker) and self.contains(set_id, u.index)]
        where = self._where
        if where is None:
            if not self._prescanned:
                self._prescan()
                where = self._where
            if where is None:
                return self._having_plain(set_id, speaker)
        found = where.get(set_id)
        if not found:
            return []
        if speaker is None:
            return found
        utts = self.utterances
        return [i for i in found if utts[i].speaker == speaker]

    def _having_plain(self, set_id: int, speaker: str | None) -> list[int]:
        """:meth:`having` without the whole-call pass: every utterance of the speaker scanned."""
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
        space = self.bank._space.get(set_id)
        if space is not None:
            found = self._tfound(space, index, set_id)
            if not found:
                return []
            maps = self._maps(index)
            return [_map_back(maps, t.start, t.end, t.phrase, t.similarity) for t in found]
        raw = self._scan(index).get(set_id)
        if not raw:
            return []
        maps = self._maps(index)  # fetched once for all the utterance's matches
        return [_map_back(maps, s, e, p) for s, e, p in raw]

    def count(self, set_id: int, index: int) -> int | None:
        """How many exact occurrences of set ``set_id`` utterance ``index`` holds (as many as
        :meth:`find` gives, without placing them); ``None`` for a tolerant set."""
        if set_id in self.bank._space:
            return None
        return len(self._scan(index).get(set_id, _NOWHERE))

    def closest(self, set_id: int, indexes: Iterable[int]) -> NearMiss | None:
        """What in utterances ``indexes`` came closest to set ``set_id`` (for a set that was not
        found there), from a similarity of 0.6 up; exact sets are compared character by
        character."""
        space = self.bank.space(set_id)
        best: NearMiss | None = None
        for i in indexes:
            if space is not None:
                t = self.bank.tolerant(space).closest(set_id, self._in_space(space, i))
            else:
                t = closest(self.bank.keys(set_id), self.norm_text(i))
            if t is None or t.similarity < NEAR_MISS_FLOOR:
                continue
            if best is None or t.similarity > best.similarity:
                m = self._from_norm(i, t.start, t.end, t.phrase)
                best = NearMiss(t.phrase, self.utterances[i].text[m.start : m.end], i, t.similarity)
        return best

    def may_match(self, pattern: Any) -> bool:
        """Whether a compiled regex can match anywhere in the call (one RE2 set pass for all the
        registered regexes, see :meth:`PhraseBank.add_regex`); ``True`` when not pre-filtered."""
        slot = self.bank.regex_slot(pattern)
        if slot is None:
            return True
        if self._regex_slots is None:
            if not self._prescanned:
                self._prescan()
            lines = (self._joined.replace(_SEP, "\n") if self._joined is not None
                     else "\n".join([self.folded(i) for i in range(len(self.utterances))]))
            self._regex_slots = self.bank.regex_slots(lines)
        return slot in self._regex_slots

    def regex(self, pattern: Any, index: int) -> list[Match]:
        """Matches of a compiled (RE2) regex on the folded utterance, in original offsets."""
        if not self.may_match(pattern):
            return []
        return [
            self._to_original(index, m.start(), m.end(), m.group(0))
            for m in pattern.finditer(self.folded(index))
            if m.end() > m.start()
        ]

    def _maps(self, index: int) -> tuple[list[int] | None, list[int] | None]:
        """How utterance ``index``'s offsets map back: the folded index of each normalised
        character (``None``: no filler removed, the same), and where the original text lost
        characters to folding (:func:`_lost_after`; ``None``: none lost, the same offsets).

        Only the two offsets of a match are mapped (see :meth:`_to_original`), instead of a
        list of every character's original index.
        """
        got = self._positions.get(index)
        if got is None:
            text = self.utterances[index].text
            folded = self.folded(index)
            # a filler removed shortens the text: no need to look for fillers again without one
            kept = (None if len(self.norm_text(index)) == len(folded)
                    else self.bank.normalizer.strip(folded)[1])
            lost = _lost_after(text) if len(folded) != len(text) else None
            got = self._positions[index] = (kept, lost)
        return got

    def _from_norm(self, index: int, start: int, end: int, phrase: str,
                   similarity: float = 1.0) -> Match:
        """A match in normalised offsets of utterance ``index`` -> original offsets."""
        return _map_back(self._maps(index), start, end, phrase, similarity)

    def _to_original(self, index: int, start: int, end: int, phrase: str,
                     similarity: float = 1.0) -> Match:
        """A match in folded offsets of utterance ``index`` -> original offsets."""
        return _map_back((None, self._maps(index)[1]), start, end, phrase, similarity)


def _map_back(maps: tuple[list[int] | None, list[int] | None], start: int, end: int,
              phrase: str, similarity: float = 1.0) -> Match:
    """A match in normalised offsets -> original offsets, by an utterance's
    :meth:`CallView._maps` (fillers removed, then characters folding deleted)."""
    kept, lost = maps
    if kept is not None:
        if not kept or end <= start:
            return Match(phrase, 0, 0, similarity)
        start, end = kept[start], kept[end - 1] + 1
    if end <= start:
        return Match(phrase, 0, 0, similarity)
    if lost is None:
        return Match(phrase, start, end, similarity)
    return Match(phrase, start + bisect_right(lost, start), end + bisect_right(lost, end - 1),
                 similarity)


def _to_original(positions: list[int], start: int, end: int, phrase: str,
                 similarity: float = 1.0) -> Match:
    """A match in normalised offsets -> the same match in offsets of the original text, given
    every character's original index (:meth:`Normalizer.normalize`, :func:`folded_positions`);
    :class:`CallView` maps just the two offsets without such a list (the same result)."""
    if not positions or end <= start:
        return Match(phrase, 0, 0, similarity)
    return Match(phrase, positions[start], positions[end - 1] + 1, similarity)
