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
search; results are kept per call in :attr:`csqa.matching.CallView.facts`.
"""

from __future__ import annotations

import logging
import re
import threading
from bisect import bisect_right
from collections.abc import Iterable
from typing import Any

from csqa.facts import Token
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


_LONGEST: list[int] = []
# jieba 0.42's one-character 语气词 (tag y), so that the default filler rule's pre-filter needs
# no dictionary scan at all; tests/test_conversation.py checks it against jieba's dictionary.
KNOWN_Y_CHARS = frozenset("么兮吗吧呀呃呐呗呢呵哇哉哩唔啦啵嘛嘞欤")
_CHARS_TAGGED: dict[frozenset[str], frozenset[str]] = {frozenset({"y"}): KNOWN_Y_CHARS}


def chars_tagged(tags: Iterable[str], scan: bool = False) -> frozenset[str]:
    """One-character dictionary words whose POS tag is one of ``tags``, read from jieba's
    dictionary file without building jieba's tables (a pre-filter must stay cheap: this takes
    ~0.2 s once per process, building the segmenter ~2 s). User words never add to this set:
    they are tagged ``nz`` unless jieba already knows them (see :class:`Segmenter`)."""
    wanted = frozenset(tags)
    with _LOCK:
        cached = None if scan else _CHARS_TAGGED.get(wanted)
        if cached is None:
            import jieba

            path = jieba.get_dict_file()
            found = set()
            with path as fh:
                for raw in fh:
                    parts = raw.decode("utf-8").split()
                    if len(parts) == 3 and len(parts[0]) == 1 and parts[2] in wanted:
                        found.add(parts[0])
            cached = frozenset(found)
            if not scan:
                _CHARS_TAGGED[wanted] = cached
        return cached


def _longest_word(tk: Any) -> int:
    """Length of the longest word of jieba's own dictionary (computed once)."""
    if not _LONGEST:
        _LONGEST.append(max(len(w) for w, f in tk.FREQ.items() if f))
    return _LONGEST[0]


class Segmenter:
    """jieba with one set of user words; get one with :func:`segmenter`."""

    def __init__(self, user_words: frozenset[str]) -> None:
        import jieba

        #: the user words it segments with (what names its words among a call's facts)
        self.user_words = user_words
        base, tags = _load()
        if not user_words:
            self._tk = base
            self._tags = tags
            self.longest = _longest_word(base)
            return
        tk = jieba.Tokenizer()
        tk.FREQ = dict(base.FREQ)
        tk.total = base.total
        tk.initialized = True
        for word in sorted(user_words):
            tk.add_word(word)
        self._tk = tk
        self._tags = {**tags, **{w: tags.get(w, "nz") for w in user_words}}
        self.longest = max(_longest_word(base), *(len(w) for w in user_words))

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

    def crossed(self, text: str, pos: int, lo: int, hi: int) -> bool:
        """Whether a word boundary at ``pos`` could be crossed: a dictionary word of two or
        more characters inside ``text[lo:hi]`` spans it, or ASCII letters/digits (which jieba
        glues together) touch it from both sides.

        Without HMM, jieba only ever emits dictionary words and single characters, so when
        nothing crosses ``pos`` it is a boundary in any segmentation: no need to run jieba.
        """
        if not lo < pos < hi:
            return False  # no word inside text[lo:hi] has characters on both sides of pos
        left, right = text[pos - 1], text[pos]
        if left.isascii() and right.isascii() and left.isalnum() and right.isalnum():
            return True  # jieba glues ASCII letters and digits together
        freq = self._tk.FREQ
        past = pos + 1
        for a in range(pos - 1, max(lo, pos - self.longest) - 1, -1):
            if text[a:past] not in freq:
                continue  # no word (nor prefix of one) from a reaches past pos
            b = pos + 1
            while b <= hi:
                frag = text[a:b]
                if frag not in freq:
                    break
                if b > pos and b - a > 1 and freq[frag]:
                    return True
                b += 1
        return False

    def tag(self, word: str) -> str:
        """The POS tag of a dictionary word (``x`` when unknown)."""
        return self._tags.get(word, "x")

    def tagged(self, tags: Iterable[str]) -> frozenset[str]:
        """Every dictionary word whose POS tag is one of ``tags``."""
        wanted = set(tags)
        return frozenset(w for w, t in self._tags.items() if t in wanted)


def segmenter(user_words: Iterable[str] = ()) -> Segmenter:
    """The process-wide segmenter for this set of user words (built on first use). A rule asks
    once, when it first needs words, and keeps it (see ``PhraseMatcher.segmenter``)."""
    key = frozenset(w.strip() for w in user_words if w.strip())
    seg = _SEGMENTERS.get(key)
    if seg is None:
        seg = Segmenter(key)
        with _LOCK:
            seg = _SEGMENTERS.setdefault(key, seg)
    return seg


def _in_block(ch: str) -> bool:
    """Whether jieba keeps ``ch`` inside a block it segments (its ``re_han_default`` class)."""
    return "\u4e00" <= ch <= "\u9fd5" or (ch.isascii() and (ch.isalnum() or ch in "+#&._%-"))


_BLOCKS = re.compile("[\u4e00-\u9fd5a-zA-Z0-9+#&._%\\-]+")  # jieba's re_han_default


def block_edges(call: CallView, index: int) -> list[int]:
    """The edges of utterance ``index``'s jieba blocks, once per call: ``[lo0, hi0, lo1, hi1,
    …]``, strictly increasing (blocks are not empty, and two are apart by a character)."""
    edges = call.facts.block_edges
    got = edges.get(index)
    if got is None:
        got = edges[index] = [at for m in _BLOCKS.finditer(call.utterances[index].text)
                              for at in m.span()]
    return got


def call_block_span(call: CallView, index: int, start: int, end: int) -> tuple[int, int]:
    """:func:`block_span` for an utterance, from its block edges found once per call: two
    binary searches (a block holds ``start`` when it begins at or before it and ends at or
    after it; the same for ``end``)."""
    edges = block_edges(call, index)
    k = bisect_right(edges, start)
    if k & 1:  # inside a block, or where one begins
        start = edges[k - 1]
    elif k and edges[k - 1] == start:  # where one ends
        start = edges[k - 2]
    k = bisect_right(edges, end)
    if k & 1:  # inside a block, or where one begins
        end = edges[k]
    return start, end


def block_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The smallest run of whole jieba blocks covering ``text[start:end]``.

    jieba cuts text into blocks at punctuation and spaces and segments each block on its own,
    so segmenting just these blocks gives exactly the words of the whole utterance there, at
    a fraction of the cost (an utterance has several clauses; a match needs one).
    """
    while start > 0 and _in_block(text[start - 1]):
        start -= 1
    while end < len(text) and _in_block(text[end]):
        end += 1
    return start, end


def call_tokens(call: CallView, index: int, seg: Segmenter,
                start: int = 0, end: int | None = None) -> list[Token]:
    """The words of utterance ``index`` around ``[start, end)`` (default: all of it), with
    offsets in the original text; segmented once per call, word list and block."""
    text = call.utterances[index].text
    lo, hi = block_span(text, start, len(text) if end is None else end)
    words = call.facts.words
    key = (seg.user_words, index, lo, hi)
    toks = words.get(key)
    if toks is None:
        toks = words[key] = [Token(t.word, t.tag, t.start + lo, t.end + lo)
                             for t in seg.tokens(text[lo:hi])]
    return toks


def on_word_boundaries(call: CallView, index: int, start: int, end: int,
                       seg: Segmenter) -> bool:
    """Whether original-text span ``[start, end)`` begins and ends on word boundaries."""
    lo, hi = call_block_span(call, index, start, end)
    if lo == start and hi == end:
        return True  # a whole block (between punctuation): its edges are boundaries, no jieba
    text = call.utterances[index].text
    # no word crosses where a block begins or ends (crossed() says so too; not asked there)
    if not (lo < start and seg.crossed(text, start, lo, hi)) and not (
            end < hi and seg.crossed(text, end, lo, hi)):
        return True  # no word can span either edge: a boundary whatever jieba chooses
    toks = call_tokens(call, index, seg, start, end)
    return any(t.start == start for t in toks) and any(t.end == end for t in toks)


def token_tag(call: CallView, index: int, start: int, end: int, seg: Segmenter) -> str | None:
    """The POS tag of ``text[start:end]`` when it is one word of the utterance, else ``None``."""
    if not on_word_boundaries(call, index, start, end, seg):
        return None
    text = call.utterances[index].text
    if end - start == 1:
        return seg.tag(text[start])  # one character between two boundaries is a word
    for t in call_tokens(call, index, seg, start, end):
        if t.start == start:
            return t.tag if t.end == end else None
    return None
