"""Normalisation (one place for utterances and phrases) and offsets back to the original text."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_call, ruleset_with

from csqa.engine import Engine
from csqa.errors import RulesetError
from csqa.matching import CallView, PhraseBank, fold
from csqa.normalize import DEFAULT_FILLERS, Normalizer


def test_fold_converts_traditional_width_case_and_punctuation() -> None:
    assert fold("很高興為您服務，感謝您的來電！ＡＰＰ Ok") == "很高兴为您服务感谢您的来电appok"


def test_fold_is_character_for_character() -> None:
    # t2s never changes length: each kept character maps to exactly one character
    text = "這個帳戶已經註銷了"
    assert len(fold(text)) == len(text)


def test_normalize_removes_fillers_and_maps_back() -> None:
    text = "您,嗯,好!這裡是那個客服中心"
    norm, positions = Normalizer().normalize(text)
    assert norm == "您好这里是客服中心"
    assert [text[i] for i in positions] == list("您好這裡是客服中心")


def test_longest_filler_wins_and_phrases_are_normalised_the_same() -> None:
    n = Normalizer(["那", "那个"])
    assert n.key("那个订单") == "订单"
    assert n.normalize("那個訂單")[0] == "订单"


def test_default_fillers() -> None:
    assert DEFAULT_FILLERS == ("呃", "嗯", "啊", "那个")
    assert Normalizer([]).normalize("呃嗯啊")[0] == "呃嗯啊"


@pytest.mark.parametrize(("text", "phrase", "span"), [
    ("唉,這個沒辦法。", "这个没办法", "這個沒辦法"),
    ("这个真的没,呃,办法。", "没办法", "没,呃,办法"),
    ("你那个ＡＰＰ 闪退", "app闪退", "ＡＰＰ 闪退"),
    ("嗯，這事與我門無關啊。", "这事与我们无关", "這事與我門無關"),
])
def test_match_offsets_map_back_to_the_original(text: str, phrase: str, span: str) -> None:
    bank = PhraseBank()
    exact = bank.add([phrase])
    pinyin = bank.add([phrase], "pinyin")
    bank.build()
    view = CallView(make_call(f"[00:00:01.0-00:00:02.0] 坐席: {text}"), bank)
    want = text.index(span), text.index(span) + len(span)
    if "門" not in text:
        [m] = view.find(exact, 0)
        assert (m.start, m.end, m.phrase) == (*want, phrase)
    [t] = view.find(pinyin, 0)
    assert (t.start, t.end) == want
    assert text[t.start : t.end] == span


def _audit(tmp_path: Path, text: str, **top: object) -> list[str]:
    rs = ruleset_with(tmp_path, [{"id": "r", "kind": "forbidden_phrase", "points": 1,
                                  "phrases": ["没办法"]}], **top)
    result = Engine(rs).audit(make_call(f"[00:00:01.0-00:00:02.0] 坐席: {text}"))
    return [f.matched for f in result.findings]


def test_ruleset_fillers_are_configurable(tmp_path: Path) -> None:
    assert _audit(tmp_path, "没呃办法") == ["没呃办法"]
    assert _audit(tmp_path, "没呃办法", normalize={"fillers": []}) == []
    assert _audit(tmp_path, "没哈办法", normalize={"fillers": ["哈"]}) == ["没哈办法"]


def test_filler_only_phrase_is_a_ruleset_error(tmp_path: Path) -> None:
    with pytest.raises(RulesetError) as exc:
        ruleset_with(tmp_path, [{"id": "r", "kind": "forbidden_phrase",
                                 "phrases": ["嗯嗯", "不行"]}])
    [problem] = exc.value.problems
    assert problem.startswith(f"{tmp_path / 'rules.yaml'}:")
    assert "rules.r: 短语 '嗯嗯' 只由语气词(呃、嗯、啊、那个)组成" in problem


@pytest.mark.parametrize(("normalize", "message"), [
    ({"filers": ["嗯"]}, "normalize.filers: 未知的键(是否应为 'fillers'?)"),
    ({"fillers": "嗯"}, "normalize.fillers: 应为非空词语的列表"),
    ([1], "normalize: 应为映射,如"),
])
def test_bad_normalize_block(tmp_path: Path, normalize: object, message: str) -> None:
    with pytest.raises(RulesetError) as exc:
        ruleset_with(tmp_path, [{"id": "r", "kind": "hangup"}], normalize=normalize)
    assert any(message in p for p in exc.value.problems), exc.value.problems


WHOLE_CALL = """[00:00:01.0-00:00:02.0] 坐席: 喂
[00:00:02.5-00:00:03.0] 客户: 喂!喂!
[00:00:03.5-00:00:05.0] 坐席: 喂,您好,呃,没办
[00:00:05.5-00:00:06.0] 坐席: 法。
[00:00:06.1-00:00:06.4] 坐席: 喂喂
[00:00:06.5-00:00:08.0] 坐席: 那\ue000个没办法,你找物流问去"""


def test_whole_call_pass_equals_utterance_by_utterance(tmp_path: Path) -> None:
    """The call is folded and scanned in one pass (its utterances joined by a separator);
    nothing matches across two utterances, anchors still mean one utterance, and an utterance
    holding the separator character itself is still read right."""
    rs = ruleset_with(tmp_path, [
        {"id": "bare", "kind": "forbidden_phrase", "points": 1, "regexes": ["^(喂)+$"]},
        {"id": "start", "kind": "forbidden_phrase", "points": 1, "regexes": [r"\A喂喂"]},
        {"id": "phrase", "kind": "forbidden_phrase", "points": 1, "phrases": ["没办法"],
         "regexes": ["你找.{1,12}问去"]},
    ])
    for text in (WHOLE_CALL, WHOLE_CALL.replace("\ue000", "")):
        result = Engine(rs).audit(make_call(text))
        got = [(f.rule_id, f.utterance, f.matched) for f in result.findings]
        assert got == [("bare", 0, "喂"), ("bare", 4, "喂喂"), ("start", 4, "喂喂")] + [
            ("phrase", 5, m) for m in ("没办法", "你找物流问去")], repr(text)


def test_a_phrase_holding_the_separator_never_spans_two_utterances(tmp_path: Path) -> None:
    """A ruleset phrase containing the joining character itself makes the call matched
    utterance by utterance: 法 (end of one utterance) + 喂 (start of the next) is no match."""
    rs = ruleset_with(tmp_path, [{"id": "cross", "kind": "forbidden_phrase", "points": 1,
                                  "phrases": ["法\ue000喂"]}])
    text = WHOLE_CALL.replace("\ue000", "")
    assert Engine(rs).audit(make_call(text)).findings == []
    said = text.replace("坐席: 法。", "坐席: 法\ue000喂。")
    assert [f.matched for f in Engine(rs).audit(make_call(said)).findings] == ["法\ue000喂"]
