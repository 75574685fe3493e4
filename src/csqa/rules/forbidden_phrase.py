"""forbidden_phrase: phrases a speaker (by default the agent) must never say.

Fires once per occurrence (leftmost-longest, non-overlapping) of any listed phrase or regex in
an utterance of ``speaker`` inside ``scope``. A phrase in ``unless`` said in the same utterance
cancels the match (e.g. the agent quoting a colleague to apologise for it).

Phrases are matched after normalisation (punctuation, spaces and fillers ignored, full-width
and traditional characters folded), all rules' phrases in one Aho-Corasick pass per utterance.
Regexes run on RE2 (linear time) over the folded text (fillers kept).

``tolerance`` is ``exact`` by default: a forbidden phrase costs the agent points, so precision
comes first. ``fuzzy`` or ``pinyin`` (see :mod:`csqa.tolerant`) also catch an ASR-damaged
phrase (这事与我门无关), and apply to ``unless`` as well; phrases of up to 4 characters still
need every character (homophones aside), so 我不太清楚 never becomes a short phrase's match.

The phrase options of :mod:`csqa.rules.conditions` apply to phrases and regexes alike:
``match: word`` (only on jieba word boundaries: 滚 does not fire inside 滚筒洗衣机),
``near`` (only when another phrase is close by), ``unless_before`` (not when 同事说/不是
precedes it in the same clause) and ``ignore_quoted`` (not inside quotation marks).

Example (fires on utterance 1, 责问客户)::

    - id: forbidden.blame
      kind: forbidden_phrase
      phrases: [我不是跟你说得很清楚了吗, 你听明白了吗]

    [00:00:05.0-00:00:07.0] 客户: 我还是不太懂。
    [00:00:07.2-00:00:09.0] 坐席: 我不是跟你说得很清楚了吗?

Passes when only the customer says it, or the agent never does.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import Field, field_validator, model_validator

from csqa.matching import CallView, Match, PhraseBank, compile_safe_regex, leftmost_longest
from csqa.model import Hit
from csqa.rules.base import MeaningParams, Phrase, Scope, Speaker, TolerantParams, in_scope
from csqa.rules.conditions import PhraseMatcher, PhraseOptions

KIND = "forbidden_phrase"


class Params(TolerantParams, PhraseOptions, MeaningParams):
    phrases: list[Phrase] = Field(default_factory=list, description="phrases that must not be said")
    regexes: list[str] = Field(default_factory=list,
                               description="RE2 regexes over the folded text (no punctuation or spaces)")
    speaker: Speaker = Field("agent", description="whose utterances are checked: agent, customer or any")
    scope: Scope | None = Field(None, description="where in the call to look (default: the whole call)")
    unless: list[Phrase] = Field(default_factory=list, description="phrases that cancel a match in the same utterance")

    @field_validator("regexes")
    @classmethod
    def _regexes_compile(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                compile_safe_regex(pattern)
            except ValueError as exc:
                shown = pattern if len(pattern) <= 80 else pattern[:60] + "…"
                raise ValueError(f"正则表达式 {shown!r} 无效或不安全:{exc}") from None
        return value

    @model_validator(mode="after")
    def _something_to_match(self) -> Params:
        if not self.phrases and not self.regexes and not self.like:
            raise ValueError("phrases、regexes、like 至少要给一个")
        return self


@dataclass(slots=True, frozen=True)
class Prepared:
    params: Params
    phrases: PhraseMatcher
    unless: int | None
    regexes: tuple[Any, ...]
    meaning: int | None  # the MeaningBank set of like (with the phrases) and unlike examples


#: phrases at least this long are examples of the rule's meaning too: shorter ones (没办法, 滚)
#: say too little alone, and a sentence holding one would always look near it
EXAMPLE_PHRASE_CHARS = 5


def prepare(params: Params, bank: PhraseBank) -> Prepared:
    like = [*params.like, *(p for p in params.phrases if len(p) >= EXAMPLE_PHRASE_CHARS)]
    if not like:  # unlike alone: the phrases are what the counter-examples are weighed against
        like = list(params.phrases)
    meaning = params.add_meaning(bank, like, shared=True) if params.like or params.unlike else None
    phrases = PhraseMatcher(params.phrases, params, bank, tolerance=params.tolerance,
                            similarity=params.similarity)
    if meaning is not None and params.phrases:
        bank.meaning.keyword_sets.append(phrases.set_id)
    return Prepared(
        params=params,
        meaning=meaning,
        phrases=phrases,
        unless=(bank.add(params.unless, params.tolerance, params.similarity)
                if params.unless else None),
        regexes=tuple(bank.add_regex(p) for p in params.regexes),
    )


def check(call: CallView, prep: Prepared) -> Iterator[Hit]:
    said = yield from _said(call, prep)
    if prep.meaning is not None:
        yield from _meant(call, prep, said)


def _said(call: CallView, prep: Prepared) -> Generator[Hit, None, set[int]]:
    """The hits of the phrases and regexes (returns the utterances they were in)."""
    p = prep.params
    set_id = prep.phrases.set_id
    said: set[int] = set()
    regexes = [rx for rx in prep.regexes if call.may_match(rx)]
    if not regexes and call.bank.space(set_id) is None:
        # exact phrases only: visit just the utterances the call's phrase scan found them in
        found = call.having(set_id, None if p.speaker == "any" else p.speaker)
        if not found:
            return said
        if p.scope is None:  # found is already the speaker's (utterance i is the i-th)
            utts = [call.utterances[i] for i in found]
        else:
            wanted = set(found)
            utts = [u for u in in_scope(call, p.speaker, p.scope) if u.index in wanted]
    else:
        utts = in_scope(call, p.speaker, p.scope)
    for u in utts:
        matches = call.find(set_id, u.index)
        for rx in regexes:
            matches.extend(call.regex(rx, u.index))
        if matches:
            matches = prep.phrases.keep(call, u.index, matches)
        if not matches:
            continue
        if prep.unless is not None and call.contains(prep.unless, u.index):
            continue
        kept = matches if len(matches) == 1 else leftmost_longest(matches)
        if prep.meaning is not None:
            kept = [m for m in kept if not _sincere(call, prep.meaning, u.index, m)]
        if kept:
            said.add(u.index)
        for m in kept:
            matched = u.text[m.start : m.end]
            values: dict[str, Any] = {"phrase": m.phrase}
            if m.similarity < 1.0:
                values["similarity"] = m.similarity
            yield Hit(u.index, u.start, u.end, matched=matched, values=values)
    return said


#: what may come before a line's first words (a pause, a filler)
_LEAD = re.compile("[ ,.\u3000\uff0c\u3002\u3001呃嗯啊]*")  # (full-width as escapes)
#: where a sentence ends (the keyword's sentence is what its meaning is judged on)
_SENTENCE_END = re.compile("[!?;\u3002\uff01\uff1f\uff1b\n\u2026]+")  # on NFKC text


def _sincere(call: CallView, set_id: int, index: int, m: Match) -> bool:
    """A keyword said sincerely does not count: its sentence is clearly nearer in meaning to one
    of the rule's own counter-examples that uses the same word (an apology, a promise to follow
    up, a sincere question: 没办法 in 我没办法现在就给您答复,但我会跟进) than to any example."""
    text = call.plain(index)
    begin = max((e.end() for e in _SENTENCE_END.finditer(text, 0, m.start)), default=0)
    end = _SENTENCE_END.search(text, m.end)
    sentence = text[begin : end.end() if end else len(text)]
    return call.bank.meaning.sincere(set_id, sentence, m.phrase) is not None


def _restating(call: CallView, phrases: PhraseMatcher, index: int) -> bool:
    """Whether utterance ``index`` begins with one of the ``unless_before`` guards (您刚才说…):
    a whole line judged by meaning is then the customer's words restated."""
    if phrases.before_id is None:
        return False
    text = call.utterances[index].text
    lead = _LEAD.match(text).end()  # type: ignore[union-attr]  # a filler or a pause may come first
    return any(m.start <= lead for m in call.find(phrases.before_id, index))


def _meant(call: CallView, prep: Prepared, said: set[int]) -> Iterator[Hit]:
    """Utterances that say what the rule forbids in other words (its classifier, :mod:`csqa.meaning`)."""
    p = prep.params
    assert prep.meaning is not None
    bank = call.bank.meaning
    utts = [u for u in in_scope(call, p.speaker, p.scope) if u.index not in said]
    bank.read([call.plain(u.index) for u in utts])  # the call's new lines in one batch
    for u in utts:
        j = bank.judge(prep.meaning, call.plain(u.index))
        if j is None or not j.holds:
            continue
        if any(call.contains(k, u.index) for k in bank.keyword_sets):
            continue  # a line holding a keyword of a forbidden rule is that rule's to judge
        if prep.unless is not None and call.contains(prep.unless, u.index):
            continue
        if _restating(call, prep.phrases, u.index):
            continue
        yield Hit(u.index, u.start, u.end, matched=u.text,
                  values={"phrase": j.like, "similarity": round(j.like_similarity, 2), "meaning": j})
