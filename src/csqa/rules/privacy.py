"""privacy: the agent must not read out a customer's full ID, bank card or phone number.

The norms (信息保密): 严禁向无关人员透露客户隐私信息(证件号码、家庭住址等). A call is
recorded, monitored and forwarded, so an agent saying a full number aloud discloses it. Fires
once per full number the agent says: an 18-digit ID number with a valid checksum, a bank card
number passing the Luhn check, a mainland mobile number (and an e-mail address when listed in
``numbers``). Digits may be written, full-width or spoken (幺三八…), grouped by spaces.

The customer saying their own number is not a finding (``speaker`` is the agent by default),
and neither is the agent quoting a part of it (尾号5678, 后四位) or an ordinary number
(order number, hotline). The finding's ``matched`` text is the number, masked like every
output unless ``--no-redact``.

Example (fires on utterance 1, 坐席读出完整身份证号码)::

    - id: privacy.disclosure
      kind: privacy

    [00:00:20.0-00:00:26.0] 客户: 我的身份证号是 11010519491231002X。
    [00:00:27.0-00:00:33.0] 坐席: 好的,您的身份证号是11010519491231002X,对吗?

Passes::

    [00:00:27.0-00:00:33.0] 坐席: 好的,您身份证尾号002X,对吗?
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from csqa.matching import CallView, PhraseBank
from csqa.model import Hit
from csqa.redact import BANK_CARD, EMAIL, ID_CARD, MOBILE, find_pii, may_hold_pii
from csqa.rules.base import Params as BaseParams
from csqa.rules.base import Scope, Speaker, in_scope

KIND = "privacy"

Number = Literal["id_card", "bank_card", "mobile", "email"]
DEFAULT_NUMBERS: list[Number] = ["id_card", "bank_card", "mobile"]
LABELS = {ID_CARD: "身份证号码", BANK_CARD: "银行卡号", MOBILE: "手机号码", EMAIL: "电子邮箱"}


class Params(BaseParams):
    numbers: list[Number] = Field(
        default_factory=lambda: list(DEFAULT_NUMBERS), min_length=1,
        description="which personal numbers must not be read out in full: "
                    "id_card, bank_card, mobile, email")
    speaker: Speaker = Field("agent",
                             description="whose utterances are checked: agent, customer or any")
    scope: Scope | None = Field(None,
                                description="where in the call to look (default: the whole call)")


@dataclass(slots=True, frozen=True)
class Prepared:
    params: Params
    kinds: frozenset[str]


def prepare(params: Params, bank: PhraseBank) -> Prepared:
    return Prepared(params=params, kinds=frozenset(params.numbers))


def check(call: CallView, prep: Prepared) -> Iterator[Hit]:
    utts = in_scope(call, prep.params.speaker, prep.params.scope)
    if not may_hold_pii([u.text for u in utts]):
        return
    for u in utts:
        for p in find_pii(u.text):
            if p.kind in prep.kinds:
                label = LABELS[p.kind]
                yield Hit(u.index, u.start, u.end, matched=u.text[p.start : p.end],
                          values={"number": label, "detail": f"完整读出客户{label}"})
