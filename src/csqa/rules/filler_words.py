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
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from csqa.matching import CallView, PhraseBank
from csqa.model import AGENT, Hit, Utterance
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
    _pos_chars: frozenset[str] | None = field(default=None)
    _pos_finditer: Any = field(default=None)
    #: one-character ``words`` matched as they are written (folding and the fillers leave them
    #: alone): where the POS pre-filter finds one, the phrase scan finds it too
    paired: frozenset[str] = field(default=frozenset())
    _pos_findall: Any = field(default=None)

    def pos_chars(self, user_words: frozenset[str]) -> frozenset[str]:
        """The one-character words jieba tags with ``pos`` (the POS pre-filter), computed once."""
        if self._pos_chars is None:
            if self.params.pos:
                self._pos_chars = chars_tagged(self.params.pos) - self.allowed
            else:
                self._pos_chars = frozenset()
            chars = "".join(sorted(self._pos_chars))
            pattern = re.compile(f"[{re.escape(chars)}]") if chars else None
            self._pos_finditer = pattern.finditer if pattern else None
            unpaired = "".join(sorted(self._pos_chars - self.paired))
            self._pos_findall = (re.compile(f"[{re.escape(unpaired)}]").findall if unpaired
                                 else None)
        return self._pos_chars


def prepare(params: Params, bank: PhraseBank) -> Prepared:
    opts = PhraseOptions.model_validate({"match": "word"})
    norm = bank.normalizer
    paired = frozenset(w for w in params.words if len(w) == 1 and norm.key(w) == w
                       and not any(w in f for f in norm.fillers))
    return Prepared(params, PhraseMatcher(params.words, opts, bank, speaker=AGENT),
                    frozenset(params.allowed), paired=paired)


def fillers(call: CallView, prep: Prepared) -> list[Counted]:
    """Every filler the agent said, in order."""
    user_words = prep.words.user_words
    found: list[tuple[int, int, str]] = []  # (utterance, offset, word)
    listed: set[tuple[int, int]] = set()  # characters already inside a listed word
    for i, matches in prep.words.where(call).items():
        text = call.utterances[i].text
        for m in matches:
            listed.update((i, k) for k in range(m.start, m.end))
            if text[m.start : m.end] not in prep.allowed:
                found.append((i, m.start, text[m.start : m.end]))
    tags = set(prep.params.pos)
    if tags:
        prep.pos_chars(user_words)
    if tags and prep._pos_finditer is not None:
        # the pre-filter: one C-level search over all the agent's text for candidate particles;
        # jieba's dictionary is consulted only for the characters it finds
        agent, starts, joined = _agent_text(call)
        for hit in prep._pos_finditer(joined):
            k = bisect_right(starts, hit.start()) - 1
            u, offset = agent[k], hit.start() - starts[k]
            if (u.index, offset) in listed:
                continue
            if token_tag(call, u.index, offset, offset + 1, user_words) in tags:
                found.append((u.index, offset, hit.group()))
    return [Counted(i, w) for i, _, w in sorted(found)]


def _agent_text(call: CallView) -> tuple[list[Utterance], list[int], str]:
    """The agent's utterances, where each starts in their texts joined by newlines, and that
    joined text (once per call)."""
    got: tuple[list[Utterance], list[int], str] | None = call.memo.get(_AGENT_TEXT)
    if got is None:
        agent = [u for u in call.utterances if u.speaker == AGENT]
        starts, pos = [], 0
        for u in agent:
            starts.append(pos)
            pos += len(u.text) + 1
        got = call.memo[_AGENT_TEXT] = (agent, starts, "\n".join(u.text for u in agent))
    return got


_AGENT_TEXT = ("filler_words", "agent text")


def most(call: CallView, prep: Prepared) -> int | None:
    """At most how many fillers :func:`fillers` can find: every occurrence of ``words`` in the
    agent's utterances plus every candidate character of the POS pre-filter in them, before
    word boundaries, ``allowed`` and POS tags are looked at. A candidate character that is
    itself one of ``words`` (``paired``) is not counted twice: the phrase scan found it at the
    same place, and :func:`fillers` counts that place once at most (as the listed word, or not
    at all when it is no word of its own, which rules out its POS tag too)."""
    total = prep.words.most(call)
    if total is None:
        return None
    if prep.params.pos:
        prep.pos_chars(prep.words.user_words)
        if prep._pos_findall is not None:
            total += len(prep._pos_findall(_agent_text(call)[2]))
    return total


def check(call: CallView, prep: Prepared) -> Iterator[Hit]:
    if not may_fire(call, prep.params, lambda: most(call, prep)):
        return
    yield from rate_hits(call, prep.params, fillers(call, prep), "语气词/口头禅")
