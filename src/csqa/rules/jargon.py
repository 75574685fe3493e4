"""jargon: technical terms the agent uses without explaining them, per agent minute.

Norm: 「解答过程中使用过多专业术语」「避免使用客户难以理解的专业词汇,如果必须使用,需用简单的语言
进行解释」. Every term of ``terms`` said by the agent counts, as a whole word (the terms are
added to jieba's dictionary, so 主板 is not found inside 主板块 and DNS not inside a longer
code) — unless the agent explains it right after: one of ``explainers`` (也就是说/简单来说/
就像…) follows within ``explain_within`` characters in the same utterance, or is in the agent's
next utterance. Terms the customer says are not counted, nor the agent echoing
them inside quotation marks.

One call-level finding when there are more than ``max_per_minute`` unexplained terms per
agent minute and at least ``min_count`` in all.

Example (fires: three unexplained terms in 20 s)::

    [00:00:10.0-00:00:30.0] 坐席: 应该是主控板的问题,要刷固件,再检查一下压缩机。

Passes (each term is explained)::

    [00:00:10.0-00:00:30.0] 坐席: 是主控板,也就是说控制电路的板子坏了。
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import Field

from csqa.matching import CallView, PhraseBank
from csqa.model import AGENT, Hit
from csqa.rules.base import Phrase
from csqa.rules.conditions import PhraseMatcher, PhraseOptions
from csqa.rules.rates import Counted, RateParams, may_fire, rate_hits

KIND = "jargon"

DEFAULT_EXPLAINERS = ["也就是说", "简单来说", "简单地说", "通俗地说", "通俗来讲", "换句话说", "意思是",
                      "就是说", "就像", "好比"]


class Params(RateParams):
    terms: list[Phrase] = Field(min_length=1, description="the technical terms (a dictionary)")
    explainers: list[Phrase] = Field(default_factory=lambda: list(DEFAULT_EXPLAINERS),
                                     description="phrases that start an explanation of a term")
    explain_within: int = Field(12, ge=0, description="the explanation starts within N characters after the term")


@dataclass(slots=True, frozen=True)
class Prepared:
    params: Params
    terms: PhraseMatcher
    explained: PhraseMatcher


def prepare(params: Params, bank: PhraseBank) -> Prepared:
    bank.dictionary.update(params.terms)
    plain = PhraseOptions.model_validate({"match": "word", "ignore_quoted": True})
    explained = PhraseOptions.model_validate({
        "match": "word", "ignore_quoted": True,
        "near": {"phrases": params.explainers, "within": params.explain_within, "side": "after",
                 "turns": 1, "speaker": AGENT}})
    return Prepared(params, PhraseMatcher(params.terms, plain, bank, speaker=AGENT),
                    PhraseMatcher(params.terms, explained, bank, speaker=AGENT))


def unexplained(call: CallView, prep: Prepared) -> list[Counted]:
    """Every term the agent used and did not explain right after, in order."""
    out: list[Counted] = []
    for i, found in sorted(prep.terms.where(call).items()):
        text = call.utterances[i].text
        out.extend(Counted(i, text[m.start : m.end]) for m in found
                   if not prep.explained.near_ok(call, i, m))
    return out


def most(call: CallView, prep: Prepared) -> int | None:
    """At most how many terms :func:`unexplained` can give: every occurrence in the agent's
    utterances, before word boundaries, quotation marks and explanations are looked at."""
    return prep.terms.most(call)


def check(call: CallView, prep: Prepared) -> Iterator[Hit]:
    if not may_fire(call, prep.params, lambda: most(call, prep)):
        return
    yield from rate_hits(call, prep.params, unexplained(call, prep), "未解释的专业术语")
