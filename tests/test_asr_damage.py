"""Whole calls with realistic ASR damage, audited with the default ruleset.

Each call has one kind of damage in its opening and closing, and agent sentences that sit close
to forbidden phrases (我不太清楚, 有办法, 和我们有关). Each test asserts both sides: the opening and
closing are recognised (no greeting/closing finding), and no forbidden phrase is found — also when
every forbidden rule is switched to ``fuzzy`` or ``pinyin``.
"""

from __future__ import annotations

import dataclasses

import pytest
from conftest import make_call

from csqa.engine import Engine
from csqa.ruleset import Ruleset, load_ruleset

MIDDLE = """\
[00:00:09.5-00:00:13.0] 客户: 我的洗衣机一直漏水,你们什么时候来修?
[00:00:13.5-00:00:24.0] 坐席: 您是说洗衣机漏水,对吗?这个我不太清楚,我帮您问一下同事,请您稍等。
[00:00:40.0-00:00:53.0] 坐席: 让您久等了,这个问题我们有办法处理,和我们的售后有关。
[00:00:53.5-00:00:54.5] 客户: 好的。
[00:00:55.0-00:01:02.0] 坐席: 请问您还有其他需要帮助的地方吗?
[00:01:02.5-00:01:03.5] 客户: 没有了。
[00:01:04.0-00:01:10.0] 坐席: 请问您对本次服务是否满意?
[00:01:10.5-00:01:11.5] 客户: 满意。
"""

DAMAGE = {
    # name: (opening, closing)
    "dropped characters": ("您好,很高兴您服务。", "好的,感谢您来电。"),
    "homophones 在/再 已/以 帐/账": ("您好,很高兴位您服务,以为您查到帐户。", "好的,在见。"),
    "fillers": ("呃,您,嗯,好,这里是那个售后服务中心。", "啊,感谢,呃,您的来电,在见啊。"),
    "traditional characters": ("您好,很高興為您服務,我是客服代表小王。", "感謝您的來電,祝您生活愉快,再見!"),
    "full-width text and spaces": ("您 好 ， 我 是 客 服 代 表 ＡＢ", "感 谢 您 的 来 电 ！ 再 见 ！"),
}


def _call(opening: str, closing: str) -> str:
    # an inbound call: the outbound rules pass it
    return (f"# direction: inbound\n[00:00:00.8-00:00:09.0] 坐席: {opening}\n{MIDDLE}"
            f"[00:01:12.0-00:01:18.0] 坐席: {closing}\n[00:01:20.0] <挂机: 客户>\n")


def _default() -> Ruleset:
    """The default ruleset without greeting.identity: these openings are damaged versions of
    您好,很高兴为您服务 (no name), and the agent's name is not what they test."""
    rs = load_ruleset()
    return dataclasses.replace(rs, rules=[r for r in rs.rules if r.id != "greeting.identity"])


def _tolerant_forbidden(rs: Ruleset, tolerance: str) -> Ruleset:
    rules = [dataclasses.replace(r, params=r.params.model_copy(update={"tolerance": tolerance}))
             if r.kind == "forbidden_phrase" else r for r in rs.rules]
    return dataclasses.replace(rs, rules=rules)


@pytest.mark.parametrize("forbidden_tolerance", ["exact", "fuzzy", "pinyin"])
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_opening_and_closing_recognised_forbidden_not_overmatched(
        damage: str, forbidden_tolerance: str) -> None:
    rs = _tolerant_forbidden(_default(), forbidden_tolerance)
    result = Engine(rs).audit(make_call(_call(*DAMAGE[damage])))
    got = [(f.rule_id, f.utterance, f.matched) for f in result.findings]
    assert got == [], got
    assert result.not_evaluable == {}
    assert result.score == 100.0


def test_the_same_damage_with_exact_matching_is_what_tolerance_fixes() -> None:
    """The decoy for the test above: with every rule exact (and meaning off, the tolerant check
    of last resort), the damaged openings/closings fire."""
    rs = _default()
    exact = dataclasses.replace(rs, meaning=False, rules=[
        dataclasses.replace(r, params=r.params.model_copy(update={"tolerance": "exact"}))
        if "tolerance" in type(r.params).model_fields else r for r in rs.rules])
    fired = {}
    for damage, (opening, closing) in DAMAGE.items():
        result = Engine(exact).audit(make_call(_call(opening, closing)))
        fired[damage] = sorted(f.rule_id for f in result.findings)
    assert fired == {
        "dropped characters": ["closing", "greeting"],
        "homophones 在/再 已/以 帐/账": ["closing", "greeting"],
        # fillers, traditional and full-width text are normalisation's work, exact or not
        "fillers": [],
        "traditional characters": [],
        "full-width text and spaces": [],
    }


def test_real_forbidden_phrase_under_damage_is_still_found() -> None:
    call = _call("您好,很高兴为您服务。", "感谢您的来电,再见。").replace(
        "这个我不太清楚,我帮您问一下同事", "呃,這個沒辦法,不歸我管")
    result = Engine(_default()).audit(make_call(call))
    assert [(f.rule_id, f.utterance, f.matched) for f in result.findings] == [
        ("forbidden.shirk", 2, "沒辦法"), ("forbidden.shirk", 2, "不歸我管")]
