"""Announced waits (请您稍等/我帮您查询一下, or the customer's 我找一下), shared by the kinds
that must not count an announced wait against the agent (silence, response_delay, sequence)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field

from csqa.matching import PhraseBank
from csqa.rules.base import Params, Phrase

DEFAULT_HOLD = ["请您稍等", "请稍等", "稍等一下", "请稍候", "您稍等", "麻烦您稍等", "我帮您查询一下",
                "我帮您查一下", "我帮您查询", "我为您查询", "我这边查一下", "我帮您核实一下"]
DEFAULT_CUSTOMER_HOLD = ["我找一下", "我看一下", "我查一下", "等一下", "稍等", "我去拿"]


class HoldParams(Params):
    """The phrases that announce a wait; a kind's own Params extend this."""

    hold_phrases: list[Phrase] = Field(default_factory=lambda: list(DEFAULT_HOLD),
                                       description="agent phrases that announce a hold")
    customer_hold_phrases: list[Phrase] = Field(default_factory=lambda: list(DEFAULT_CUSTOMER_HOLD),
                                                description="customer phrases asking the agent to wait")


@dataclass(slots=True, frozen=True)
class HoldPrepared:
    """A kind's params with its two hold phrase sets registered in the bank."""

    params: Any
    hold: int
    customer_hold: int


def prepare_hold(params: HoldParams, bank: PhraseBank) -> HoldPrepared:
    return HoldPrepared(params, bank.add(params.hold_phrases), bank.add(params.customer_hold_phrases))
