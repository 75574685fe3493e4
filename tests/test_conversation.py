"""Word segmentation and the conversation rule language, beyond the rule cases.

- the no-jieba fast path of the word-boundary test agrees with jieba's own segmentation;
- user dictionaries of different rulesets do not leak into each other;
- ruleset mistakes in conditions and ``dictionary`` are reported with file:line:col.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_call, ruleset_with
from hypothesis import given, settings
from hypothesis import strategies as st

from csqa.engine import Engine
from csqa.errors import RulesetError
from csqa.matching import CallView, PhraseBank
from csqa.model import Transcript, Utterance
from csqa.words import call_tokens, on_word_boundaries, segmenter, token_tag

PIECES = ["滚", "滚筒", "洗衣机", "你们", "好", "嘛", "干嘛", "喽", "喽啰", "主控板", "固件", "没", "办法",
          "之前", "同事", "说", "我们", "的", "失误", "DHCP", "dhcp", "12", "一", "下", "贴心宝", "贴心",
          "啦啦队", "啦", ",", "“", "”", " ", "。", "也就是说", "电路", "板"]


def _view(text: str) -> CallView:
    utterance = Utterance(0, "agent", 1.0, 5.0, text)
    return CallView(Transcript("T-1", "T1", [utterance]), PhraseBank())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=12), st.data())
def test_boundary_fast_path_agrees_with_jieba(pieces: list[str], data: st.DataObject) -> None:
    text = "".join(pieces)
    words = frozenset({"贴心宝"})
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    tokens = segmenter(words).tokens(text)
    exact = (any(t.start == start for t in tokens) or start == 0 or text[start - 1].isspace()) and \
        any(t.end == end for t in tokens)
    if text[start:end].strip() != text[start:end] or not text[start:end].strip():
        return  # spans with edge spaces are not phrase matches (folding removes spaces)
    assert on_word_boundaries(_view(text), 0, start, end, segmenter(words)) == exact, (text, start, end)


def test_token_tag_of_particles() -> None:
    view = _view("好的嘛,您买这个干嘛")
    seg = segmenter()
    assert token_tag(view, 0, 2, 3, seg) == "y"          # 嘛 on its own: a modal particle
    assert token_tag(view, 0, 9, 10, seg) is None         # 嘛 inside 干嘛
    assert [t.word for t in call_tokens(view, 0, seg, 8, 10)] == ["您", "买", "这个", "干嘛"]


def test_user_dictionaries_do_not_leak_between_rulesets() -> None:
    text = "您购买的是贴心宝套餐吗"
    with_word = segmenter(["贴心宝"]).tokens(text)
    without = segmenter().tokens(text)
    assert "贴心宝" in [t.word for t in with_word]
    assert "贴心宝" not in [t.word for t in without]
    assert "贴心宝" not in [t.word for t in segmenter(["套餐吗"]).tokens(text)]


def _errors(tmp_path: Path, rules: list[dict], **top: object) -> list[str]:
    with pytest.raises(RulesetError) as exc:
        ruleset_with(tmp_path, rules, **top)
    return exc.value.problems


def test_condition_with_two_atoms_is_reported_at_its_line(tmp_path: Path) -> None:
    problems = _errors(tmp_path, [{"id": "s", "kind": "sequence",
                                   "when": {"customer_says": ["投诉"], "tag": "x"},
                                   "then": {"agent_says": ["抱歉"]}}])
    assert len(problems) == 1
    assert "rules.yaml:" in problems[0]
    assert "rules[0].when: 一个条件必须且只能给出" in problems[0]
    assert "(给出的是:customer_says、tag)" in problems[0]


def test_misspelt_condition_key_gets_did_you_mean(tmp_path: Path) -> None:
    problems = _errors(tmp_path, [{"id": "s", "kind": "sequence",
                                   "when": {"custmer_says": ["投诉"]},
                                   "then": {"agent_says": ["抱歉"]}}])
    assert any("custmer_says: 未知的键(是否应为 'customer_says'?)" in p for p in problems)


def test_phrase_options_only_go_with_says(tmp_path: Path) -> None:
    problems = _errors(tmp_path, [{"id": "s", "kind": "sequence",
                                   "when": {"call_longer_than": 60, "match": "word"},
                                   "then": {"agent_says": ["抱歉"]}}])
    assert any("match、near、unless_before 和 ignore_quoted 只能与 agent_says" in p
               for p in problems)


def test_bad_match_mode_lists_the_choices(tmp_path: Path) -> None:
    problems = _errors(tmp_path, [{"id": "f", "kind": "forbidden_phrase", "phrases": ["滚"],
                                   "match": "words"}])
    assert any("rules[0].match: 应为以下之一:substring、word" in p for p in problems)


def test_dictionary_must_be_words(tmp_path: Path) -> None:
    problems = _errors(tmp_path, [], dictionary=["小天鹅", "two words", 3])
    assert [p.split(": ", 1)[1] for p in problems] == [
        "dictionary[1]: 应为一个词(不含空格的文本)",
        "dictionary[2]: 应为一个词(不含空格的文本)",
    ]
    assert problems[0].startswith(str(tmp_path / "rules.yaml") + ":")


def test_dictionary_extends_the_parents(tmp_path: Path) -> None:
    parent = tmp_path / "parent.yaml"
    parent.write_text("name: p\ndictionary: [小天鹅]\nrules: []\n", encoding="utf-8")
    child = ruleset_with(tmp_path, [], extends=str(parent), dictionary=["贴心宝", "小天鹅"])
    assert child.dictionary == ["小天鹅", "贴心宝"]


def test_default_ruleset_runs_the_conversation_rules_end_to_end() -> None:
    from csqa.ruleset import load_ruleset

    call = make_call(
        "[00:00:00.5-00:00:04.0] 坐席: 您好,很高兴为您服务,我是客服代表小王。\n"
        "[00:00:05.0-00:00:09.0] 客户: 你们的服务太差了,我要投诉!\n"
        "[00:00:09.5-00:00:13.0] 坐席: 系统显示您的快递在分拨中心。\n"
        "[00:00:13.5-00:00:16.0] 坐席: 不好意思让您久等了。\n")
    result = Engine(load_ruleset()).audit(call)
    fired = {(f.rule_id, f.utterance) for f in result.findings}
    assert ("sequence.empathy_after_complaint", 2) in fired
    assert result.rule_errors == {}


def test_call_record_tags_and_hold_drive_when(tmp_path: Path) -> None:
    """A CDR's 标签 and 保持时长 columns reach ``when: {tag: …}`` and ``when: {hold: …}``."""
    import orjson

    from csqa.api import ExportOptions, audit

    calls = tmp_path / "in"
    calls.mkdir()
    text = ("[00:00:00.5-00:00:04.0] 坐席: 您好,很高兴为您服务。\n"
            "[00:00:05.0-00:00:09.0] 坐席: 您的问题我已经提交给技术部门了。\n")
    for cid in ("C1", "C2"):
        (calls / f"{cid}.txt").write_text(f"# call_id: {cid}\n# agent_id: A1\n{text}",
                                          encoding="utf-8")
    cdr = tmp_path / "cdr.csv"
    cdr.write_text("通话ID,工号,标签,保持时长\nC1,A1,售后/升级,45\nC2,A1,咨询,\n", encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "name: t\nrules:\n"
        "  - {id: ticket, kind: sequence, points: 1, when: {tag: 升级},\n"
        "     then: {agent_says: [工单编号, 编号为]}}\n"
        "  - {id: hold, kind: sequence, points: 1, when: {hold: 30},\n"
        "     then: {agent_says: [感谢您的耐心等待]}}\n", encoding="utf-8")
    audit([calls], ruleset=rules, out=tmp_path / "out", options=ExportOptions(calls=cdr))
    lines = (tmp_path / "out" / "findings.jsonl").read_bytes().splitlines()
    got = sorted((f["call_id"], f["rule_id"], f["utterance"]) for f in map(orjson.loads, lines))
    assert got == [("C1", "hold", None), ("C1", "ticket", None)]


def test_known_filler_chars_are_jiebas_own() -> None:
    """The filler pre-filter's built-in set is exactly jieba's one-character 语气词 (tag y)."""
    from csqa.words import KNOWN_Y_CHARS, chars_tagged, segmenter

    scanned = chars_tagged(["y"], scan=True)
    assert scanned == KNOWN_Y_CHARS
    assert scanned == frozenset(w for w in segmenter(frozenset()).tagged(["y"]) if len(w) == 1)
