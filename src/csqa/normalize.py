"""Text normalisation for matching: one place, applied to utterances and ruleset phrases alike.

ASR text differs from the way a ruleset writes a phrase in ways that say nothing about what
the agent said. Two steps remove those differences, each keeping, for every character of the
result, its index in the original text, so that evidence is always shown as it was said:

1. **fold** (:func:`csqa.matching.fold`, character by character, never changing length except
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
from collections.abc import Iterable

from csqa.matching import fold, folded_positions

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
