"""filler_words: modal particles and habitual fillers (喽、嘛…) the agent uses too often.

Norm: 「频繁使用口头禅、非礼貌性语气助词(如:喽、嘛等)」. Counted in the agent's speech:

- every word of ``words`` (particles such as 喽/嘛/呗 and habitual fillers such as 然后呢)
  that jieba cuts as a word of its own, so 干嘛, 哈密瓜 or 喽啰 are not fillers;
- every one-character word jieba tags with one of ``pos`` (by default ``y``, 语气词),
  except those in ``allowed`` (吗/呢/吧… end polite questions and are not fillers).

One call-level finding when there are more than ``max_per_minute`` per agent minute and at
least ``min_count`` in all; ``{count}``, ``{per_minute}`` and ``{detail}`` fill the message.
jieba only runs on agent utterances that contain a candidate character.

Example (fires: 4 fillers in 30 s of agent speech)::

    [00:00:05.0-00:00:20.0] 坐席: 好嘛,我帮您查一下喽,您稍等嘛。
    [00:00:21.0-00:00:36.0] 坐席: 查到了嘛,明天就到了。

Passes::

    [00:00:05.0-00:00:35.0] 坐席: 好的,请问您还有其他需要吗?
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from csqa.matching import CallView, PhraseBank, fold
from csqa.model import AGENT, Hit
from csqa.rules.base import Phrase
from csqa.rules.conditions import PhraseMatcher, PhraseOptions
from csqa.rules.rates import Counted, RateParams, may_fire, rate_hits
from csqa.words import chars_tagged, token_tag

KIND = "filler_words"

DEFAULT_WORDS = ["喽", "嘛", "呗", "咯", "啦", "嘞"]
DEFAULT_ALLOWED = ["吗", "呢", "吧", "呀", "啊", "哦", "么"]


class Params(RateParams):
    words: list[Phrase] = Field(default_factory=lambda: list(DEFAULT_WORDS),
                                description="particles and habitual fillers counted as words of their own")
    pos: list[str] = Field(default_factory=lambda: ["y"],
                           description="jieba POS tags counted as fillers (y: 语气词); [] to count only words")
    allowed: list[Phrase] = Field(default_factory=lambda: list(DEFAULT_ALLOWED),
                                  description="words never counted (polite question particles)")


@dataclass(slots=True)
class Prepared:
    params: Params
    words: PhraseMatcher
    allowed: frozenset[str]
    #: one-character ``words`` matched as they are written (folding and the fillers leave them
    #: alone): the phrase scan finds every place the agent says one, so the POS pre-filter
    #: need not look for them (see :func:`fillers`)
    paired: frozenset[str] = field(default=frozenset())
    tags: frozenset[str] = field(default=frozenset())
    _pos_chars: frozenset[str] | None = field(default=None)
    #: the POS pre-filter's characters that are not ``paired``, and as a compiled class
    _unpaired_chars: str = field(default="")
    _unpaired: Any = field(default=None)
    _fold_safe: bool = field(default=False)

    def pos_chars(self, user_words: frozenset[str]) -> frozenset[str]:
        """The one-character words jieba tags with ``pos`` (the POS pre-filter), computed once."""
        if self._pos_chars is None:
            if self.params.pos:
                self._pos_chars = chars_tagged(self.params.pos) - self.allowed
            else:
                self._pos_chars = frozenset()
            unpaired = "".join(sorted(self._pos_chars - self.paired))
            self._unpaired_chars = unpaired
            # folding leaves them as they are: one in an utterance is one in the folded call
            self._fold_safe = fold(unpaired) == unpaired
            self._unpaired = re.compile(f"[{re.escape(unpaired)}]") if unpaired else None
        return self._pos_chars


def prepare(params: Params, bank: PhraseBank) -> Prepared:
    opts = PhraseOptions.model_validate({"match": "word"})
    norm = bank.normalizer
    paired = frozenset(w for w in params.words if len(w) == 1 and norm.key(w) == w
                       and not any(w in f for f in norm.fillers))
    return Prepared(params, PhraseMatcher(params.words, opts, bank, speaker=AGENT),
                    frozenset(params.allowed), paired=paired, tags=frozenset(params.pos))


def fillers(call: CallView, prep: Prepared) -> list[Counted]:
    """Every filler the agent said, in order.

    The POS pre-filter looks only for its characters that are not ``paired``: where the agent
    says a paired character, the phrase scan found it too, and that place either counts as the
    listed word or is no word of its own (the same word-boundary test :func:`token_tag` makes
    first), so its POS tag could not count it either."""
    found: list[tuple[int, int, str]] = []  # (utterance, offset, word)
    where = prep.words.where(call)
    allowed = prep.allowed
    utts = call.utterances
    for i, matches in where.items():
        text = utts[i].text
        for m in matches:
            word = text[m.start : m.end]
            if word not in allowed:
                found.append((i, m.start, word))
    candidates = pos_candidates(call, prep) if prep.tags else []
    if candidates:
        seg = prep.words.segmenter
        # characters already inside a listed word
        listed = {(i, k) for i, matches in where.items() for m in matches
                  for k in range(m.start, m.end)}
        for index, offset, char in candidates:
            if (index, offset) in listed:
                continue
            if token_tag(call, index, offset, offset + 1, seg) in prep.tags:
                found.append((index, offset, char))
    return [Counted(i, w) for i, _, w in sorted(found)]


def pos_candidates(call: CallView, prep: Prepared) -> list[tuple[int, int, str]]:
    """``(utterance, offset, character)`` of every character of the POS pre-filter that is not
    ``paired`` in the agent's utterances, in order (once per call). First a look for each such
    character in all the call's text at once (a fast substring search each, in the folded text
    the phrase scan already made when folding keeps them), which most often finds none;
    jieba's dictionary is consulted only for the characters found."""
    prep.pos_chars(prep.words.user_words)
    chars = prep._unpaired_chars
    if not chars:
        return []
    got = call.facts.filler_chars.get(chars)
    if got is None:
        got = []
        utts = call.utterances
        joined = call.joined_folded() if prep._fold_safe else None
        if joined is None:
            joined = "\n".join([u.text for u in utts])
        for char in chars:
            if char in joined:
                finditer = prep._unpaired.finditer
                got = [(u.index, m.start(), m.group()) for u in utts if u.speaker == AGENT
                       for m in finditer(u.text)]
                break
        call.facts.filler_chars[chars] = got
    return got


def most(call: CallView, prep: Prepared) -> int | None:
    """At most how many fillers :func:`fillers` can find: every occurrence of ``words`` in the
    agent's utterances plus every candidate character of the POS pre-filter that is not
    ``paired`` in them, before word boundaries, ``allowed`` and POS tags are looked at."""
    total = prep.words.most(call)
    if total is None:
        return None
    if prep.tags:
        total += len(pos_candidates(call, prep))
    return total


def check(call: CallView, prep: Prepared) -> Iterator[Hit]:
    if not may_fire(call, prep.params, lambda: most(call, prep)):
        return
    yield from rate_hits(call, prep.params, fillers(call, prep), "语气词/口头禅")
