"""interruption: the agent starts talking while the customer is still speaking (抢话/打断).

An agent utterance that starts after a customer utterance started and before it ended, and
overlaps it by at least ``min_overlap`` seconds, is an interruption. Not counted:

- backchannels: agent utterances made only of short acknowledgements (嗯/好的/对/明白/是的/
  我理解 …) and fillers (呃/啊, the ruleset's ``normalize.fillers``), at most
  ``backchannel_max_chars`` characters long (punctuation and fillers excluded).
  The norms ask for these (用"嗯""好的""我理解"等简短回应给予反馈);
- the customer talking over the agent, which is not the agent's fault.

The first ``allowed`` interruptions of a call are tolerated; each one after that is a finding
on the agent's utterance, with the overlap in ``{overlap}`` and the customer's words in
``{customer_text}``.

Not evaluable for a transcript without per-utterance times or a mono recording
(``timing: none`` / ``channels: mono``): overlapping speech cannot be seen there.

Example (fires on utterance 1, overlap 2.0 s)::

    [00:00:10.0-00:00:16.0] 客户: 我上周买的洗衣机一直漏水,我打了好几次电话……
    [00:00:12.0-00:00:15.0] 坐席: 您先告诉我订单号。

Passes (backchannel)::

    [00:00:10.0-00:00:16.0] 客户: 我上周买的洗衣机一直漏水……
    [00:00:12.0-00:00:12.6] 坐席: 嗯嗯,好的。
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import Field

from csqa.matching import CallView, PhraseBank, literal_alternation
from csqa.model import AGENT, CUSTOMER, Hit
from csqa.rules.base import Params as BaseParams
from csqa.rules.base import Phrase, require_overlap

KIND = "interruption"

DEFAULT_BACKCHANNELS = ["嗯", "哦", "噢", "好", "好的", "对", "对的", "是", "是的", "明白", "我明白",
                        "理解", "我理解", "了解", "您说", "您接着说", "您请讲", "没错", "行"]


class Params(BaseParams):
    min_overlap: float = Field(0.5, ge=0, description="seconds of overlap that make an interruption")
    allowed: int = Field(0, ge=0, description="interruptions tolerated per call before findings fire")
    backchannels: list[Phrase] = Field(default_factory=lambda: list(DEFAULT_BACKCHANNELS),
                                       description="acknowledgements that never count as interrupting")
    backchannel_max_chars: int = Field(6, ge=0, description="a backchannel is at most N characters")


@dataclass(slots=True, frozen=True)
class Prepared:
    params: Params
    backchannel: re.Pattern[str]


def prepare(params: Params, bank: PhraseBank) -> Prepared:
    return Prepared(params=params, backchannel=literal_alternation(params.backchannels))


def check(call: CallView, prep: Prepared) -> Iterator[Hit]:
    require_overlap(call)
    p = prep.params
    seen = 0
    reach = None  # the customer utterance, started so far, that ends last
    for u in call.utterances:
        if u.speaker == CUSTOMER:
            if reach is None or u.end > reach.end:
                reach = u
            continue
        if u.speaker != AGENT or reach is None or not reach.start < u.start < reach.end:
            continue
        over = reach
        overlap = min(over.end, u.end) - u.start
        if overlap < p.min_overlap:
            continue
        said = call.norm_text(u.index)  # fillers (呃, 嗯 …) removed: a lone 呃 is no interruption
        if not said or (len(said) <= p.backchannel_max_chars and prep.backchannel.fullmatch(said)):
            continue
        seen += 1
        if seen <= p.allowed:
            continue
        yield Hit(u.index, u.start, u.end, matched=u.text,
                  values={"overlap": round(overlap, 2), "customer_text": over.text,
                          "customer_utterance": over.index,
                          "detail": f"客户讲话时插话 {overlap:.1f} 秒(客户:“{over.text}”)"})
