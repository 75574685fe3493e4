"""Text normalisation for matching: one place, applied to utterances and ruleset phrases alike.

ASR text differs from the way a ruleset writes a phrase in ways that say nothing about what
the agent said. Two steps remove those differences, each keeping, for every character of the
result, its index in the original text, so that evidence is always shown as it was said:

1. **fold** (:func:`fold`, character by character, never changing length except
   by deleting): punctuation, spaces and control characters removed; full-width ASCII folded to
   half-width; Latin letters lower-cased; traditional characters converted to simplified with
   OpenCC's ``t2s`` dictionary (``很高興為您服務`` → ``很高兴为您服务``). The conversion is done
   character by character (OpenCC's phrase table can change length, which would lose offsets;
   for *matching*, character conversion is what counts).
2. **filler removal**: the ruleset's ``normalize.fillers`` (default 呃 嗯 啊 那个) are removed
   from the folded text, so ``您好,呃,这里是那个客服中心`` matches ``您好这里是客服中心``.
   Fillers are removed from ruleset phrases the same way, so a phrase that itself contains
   a filler (``那个订单``) still matches.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from itertools import accumulate

# Han blocks converted by t2s: CJK Unified Ideographs, Extension A, compatibility ideographs.
_HAN_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))


@cache
def t2s_table() -> dict[int, int]:
    """Traditional -> simplified, one character to one character, from OpenCC's ``t2s`` data.

    Every Han character of the blocks above is converted in isolation (one per line, so that
    OpenCC's phrase table cannot join neighbours or change the length) and the ones that turn
    into a single other character are kept. Built once per process (about 10 ms, and more on
    a busy machine): callers that translate with it per utterance must not pay that each time;
    do not change the table returned.
    """
    import opencc

    chars = [chr(c) for lo, hi in _HAN_RANGES for c in range(lo, hi)]
    converted = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # pragma: no cover - would mean OpenCC ate a newline
        raise RuntimeError("OpenCC t2s changed the number of lines; cannot build the table")
    return {ord(a): ord(b) for a, b in zip(chars, converted, strict=True) if len(b) == 1 and a != b}


def _build_tables() -> tuple[list[int | None], frozenset[str]]:
    """Translate table for folding, and the set of characters it deletes."""
    table: dict[int, int | None] = dict(t2s_table())
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
    # A list indexed by code point, every other BMP character mapped to itself: str.translate
    # then indexes the list instead of paying a dict miss (a KeyError) per unchanged character,
    # three times faster on Chinese text; characters past the BMP are not in it, so left as they are.
    full: list[int | None] = list(range(0x10000))
    for code, value in table.items():
        full[code] = value
    return full, frozenset(deleted)


_FOLD_TABLE, _DELETED = _build_tables()

#: the punctuation and spaces transcripts are full of, deleted by str.replace (a memchr-like
#: scan) before the rest of the folding: str.translate pays a lookup per character
_COMMON_DELETED = tuple(",.?!:; ，。？！、：；")


def _changing_class() -> re.Pattern[str]:
    """A regex for runs of the characters folding changes (deletes or maps), past the common ones."""
    changing = sorted({chr(code) for code, value in enumerate(_FOLD_TABLE) if value != code}
                      - set(_COMMON_DELETED))
    return re.compile("[" + "".join(re.escape(ch) for ch in changing) + "]")


_CHANGING = _changing_class()


def _fold_run(m: re.Match[str]) -> str:
    return m.group().translate(_FOLD_TABLE)


def fold(text: str) -> str:
    """The form text is matched in: no punctuation or spaces, half-width, lower-case, simplified.

    Exactly ``text.translate(_FOLD_TABLE)`` (each character is folded on its own), done as a
    few ``str.replace`` for the common punctuation and one regex pass that translates only the
    runs of other characters folding changes (most Chinese text has none); a short text (one
    utterance, a phrase) in one translate, cheaper there.
    """
    if len(text) <= 24:
        return text.translate(_FOLD_TABLE)
    for ch in _COMMON_DELETED:
        if ch in text:  # a test is cheaper than a replace that finds nothing
            text = text.replace(ch, "")
    return _CHANGING.sub(_fold_run, text)


_DELETED_RE = re.compile("[" + "".join(re.escape(ch) for ch in sorted(_DELETED)) + "]")


def _lost_after(text: str) -> list[int]:
    """For each character of ``text`` that folding deletes, in order, how many kept characters
    come before it: the ``k``-th kept character is then at ``k + bisect_right(lost, k)``."""
    lost = list(accumulate(map(len, _DELETED_RE.split(text))))
    lost.pop()  # the last piece has no lost character after it
    return lost


def folded_positions(text: str) -> list[int]:
    """For each character of ``fold(text)``, its index in ``text``."""
    return [i for i, ch in enumerate(text) if ch not in _DELETED]


#: Fillers removed before matching unless the ruleset says otherwise (``normalize.fillers``).
DEFAULT_FILLERS: tuple[str, ...] = ("呃", "嗯", "啊", "那个")

class Normalizer:
    """Folding plus filler removal, with offsets back to the original text.

    ``Normalizer(fillers)`` is built once per ruleset; :meth:`normalize` is called once per
    utterance and once per phrase.
    """

    __slots__ = ("_filler_re", "fillers")

    def __init__(self, fillers: Iterable[str] = DEFAULT_FILLERS) -> None:
        folded = {fold(f) for f in fillers}
        # longest first, so that 那个 is removed whole before a shorter filler could split it
        self.fillers: tuple[str, ...] = tuple(sorted((f for f in folded if f),
                                                     key=lambda f: (-len(f), f)))
        self._filler_re = (re.compile("|".join(re.escape(f) for f in self.fillers))
                           if self.fillers else None)

    def strip(self, folded: str) -> tuple[str, list[int] | None]:
        """Remove fillers from folded text: (text, kept indices into ``folded`` or None if none
        was removed)."""
        if self._filler_re is None or not folded:
            return folded, None
        pieces: list[str] = []
        kept: list[int] = []
        last = 0
        for m in self._filler_re.finditer(folded):
            if m.start() > last:
                pieces.append(folded[last : m.start()])
                kept.extend(range(last, m.start()))
            last = m.end()
        if last == 0 and not pieces:
            return folded, None
        pieces.append(folded[last:])
        kept.extend(range(last, len(folded)))
        return "".join(pieces), kept

    def text(self, text: str) -> str:
        """The normalised text alone (no offsets): what phrases are looked for in."""
        return self.strip_folded(fold(text))

    def strip_folded(self, folded: str) -> str:
        """Already folded text without its fillers (no offsets)."""
        return self._filler_re.sub("", folded) if self._filler_re is not None else folded

    def normalize(self, text: str) -> tuple[str, list[int]]:
        """(normalised text, for each of its characters the index in ``text``)."""
        return self.normalize_folded(text, fold(text))

    def normalize_folded(self, text: str, folded: str) -> tuple[str, list[int]]:
        """:meth:`normalize` for a text already folded (``folded == fold(text)``)."""
        positions = folded_positions(text) if len(folded) != len(text) else list(range(len(text)))
        stripped, kept = self.strip(folded)
        if kept is None:
            return folded, positions
        return stripped, [positions[i] for i in kept]

    def key(self, phrase: str) -> str:
        """The normalised form of a ruleset phrase (what is looked for)."""
        return self.strip(fold(phrase))[0]
