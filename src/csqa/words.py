"""Word segmentation (jieba), for rules where words matter and substrings lie.

jieba is loaded lazily, the first time a rule actually needs words, and initialised once per
process (its prefix dictionary takes about a second to build); its log on stderr is silenced.
A ruleset's own ``dictionary`` (product names, company terms) and a jargon rule's terms are
added to a *copy* of jieba's word table, one copy per distinct word list, so two rulesets
audited in one process never change each other's segmentation.

Segmentation is done without jieba's HMM guesser: unknown text is cut into single characters
instead of being glued into invented words, which is what a word-boundary test wants (``给我滚``
stays 给/我/滚, and 滚 is still a word of its own). Rules call this module only on utterances
a cheap pre-filter (the Aho-Corasick pass) selected, because segmentation costs ~100x a phrase
search; results are cached per call in :attr:`csqa.matching.CallView.memo`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from csqa.matching import CallView

_LOCK = threading.Lock()
_BASE: Any = None
_POS_TABLE: dict[str, str] | None = None
_SEGMENTERS: dict[frozenset[str], Segmenter] = {}


def _load() -> tuple[Any, dict[str, str]]:
    """jieba's default tokenizer and part-of-speech table, loaded once per process."""
    global _BASE, _POS_TABLE
    with _LOCK:
        if _BASE is None or _POS_TABLE is None:
            import jieba
            import jieba.posseg

            jieba.setLogLevel(logging.WARNING)
            jieba.dt.check_initialized()
            _POS_TABLE = jieba.posseg.dt.word_tag_tab
            _BASE = jieba.dt
        return _BASE, _POS_TABLE


@dataclass(slots=True, frozen=True)
class Token:
    """One word of an utterance: its text, POS tag, and offsets in the original text."""

    word: str
    tag: str
    start: int
    end: int


class Segmenter:
    """jieba with one set of user words; get one with :func:`segmenter`."""

    def __init__(self, user_words: frozenset[str]) -> None:
        import jieba

        base, tags = _load()
        if not user_words:
            self._tk = base
            self._tags = tags
            return
        tk = jieba.Tokenizer()
        tk.FREQ = dict(base.FREQ)
        tk.total = base.total
        tk.initialized = True
        for word in sorted(user_words):
            tk.add_word(word)
        self._tk = tk
        self._tags = {**tags, **{w: tags.get(w, "nz") for w in user_words}}

    def tokens(self, text: str) -> list[Token]:
        """The words of ``text`` with their POS tags (``x`` for punctuation and unknowns)."""
        out: list[Token] = []
        pos = 0
        for word in self._tk.cut(text, HMM=False):
            end = pos + len(word)
            if word.strip():
                out.append(Token(word, self._tags.get(word, "x"), pos, end))
            pos = end
        return out

    def tagged(self, tags: Iterable[str]) -> frozenset[str]:
        """Every dictionary word whose POS tag is one of ``tags``."""
        wanted = set(tags)
        return frozenset(w for w, t in self._tags.items() if t in wanted)


def segmenter(user_words: Iterable[str] = ()) -> Segmenter:
    """The process-wide segmenter for this set of user words (built on first use)."""
    key = frozenset(w.strip() for w in user_words if w.strip())
    seg = _SEGMENTERS.get(key)
    if seg is None:
        seg = Segmenter(key)
        with _LOCK:
            seg = _SEGMENTERS.setdefault(key, seg)
    return seg


def call_tokens(call: CallView, index: int, user_words: frozenset[str]) -> list[Token]:
    """The words of utterance ``index`` of ``call``, segmented once per call and word list."""
    key = ("words", user_words, index)
    toks = call.memo.get(key)
    if toks is None:
        toks = call.memo[key] = segmenter(user_words).tokens(call.utterances[index].text)
    return toks  # type: ignore[no-any-return]


def boundaries(call: CallView, index: int, user_words: frozenset[str]) -> tuple[set[int], set[int]]:
    """(word starts, word ends) of utterance ``index``, as offsets in its original text."""
    key = ("bounds", user_words, index)
    b = call.memo.get(key)
    if b is None:
        toks = call_tokens(call, index, user_words)
        b = call.memo[key] = ({t.start for t in toks}, {t.end for t in toks})
    return b  # type: ignore[no-any-return]


def on_word_boundaries(call: CallView, index: int, start: int, end: int,
                       user_words: frozenset[str]) -> bool:
    """Whether original-text span ``[start, end)`` begins and ends on word boundaries."""
    starts, ends = boundaries(call, index, user_words)
    return start in starts and end in ends
