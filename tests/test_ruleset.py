"""Ruleset loading: validation errors with file:line:col, extends, overrides, safety."""

from __future__ import annotations

from pathlib import Path

import pytest

from csqa.errors import RulesetError
from csqa.rules import KINDS
from csqa.ruleset import load_ruleset

ROOT = Path(__file__).resolve().parent.parent


def _problems(tmp_path: Path, text: str, name: str = "r.yaml") -> list[str]:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    with pytest.raises(RulesetError) as exc:
        load_ruleset(p)
    return [line.replace(str(p), name) for line in exc.value.problems]


def test_default_ruleset_loads_and_covers_every_core_kind() -> None:
    rs = load_ruleset()
    assert rs.name == "default"
    kinds = {r.kind for r in rs.rules}
    assert {"forbidden_phrase", "greeting", "closing", "interruption", "hangup", "silence",
            "speech_rate", "required_phrase", "response_delay"} <= kinds
    assert all(r.kind in KINDS for r in rs.rules)
    assert len({r.id for r in rs.rules}) == len(rs.rules)


def test_rulesets_default_is_the_packaged_file() -> None:
    packaged = ROOT / "src" / "csqa" / "data" / "default.yaml"
    assert (ROOT / "rulesets" / "default.yaml").read_bytes() == packaged.read_bytes()


def test_default_forbidden_phrases_are_the_norms_wording() -> None:
    rs = load_ruleset()
    phrases = {p for r in rs.rules if r.kind == "forbidden_phrase" for p in r.params.phrases}  # type: ignore[attr-defined]
    for norm in ("我不是跟你说得很清楚了吗", "你问我,我问谁", "不行就是不行", "你要投诉就投诉吧",
                 "你小声一点行不行", "叫你旁边的人别说话", "不关我的事", "这事与我们无关",
                 "我要下班了", "这不是我们公司的责任", "是你自己造成的", "有意见找领导去"):
        assert norm in phrases, norm


def test_every_problem_listed_with_line_col_and_did_you_mean(tmp_path: Path) -> None:
    problems = _problems(tmp_path, """\
name: t
rules:
  - id: a
    kind: interruption
    min_overlap: -1
    allowd: 2
  - id: b
    kind: silense
  - id: c
    kind: forbidden_phrase
    phrases: [x]
    severity: huge
    points: lots
    scope: {first_second: 10}
  - id: d
    kind: forbidden_phrase
  - kind: greeting
ruels: []
""")
    assert problems == [
        "r.yaml:18:1: ruels: 未知的键(是否应为 'rules'?)",
        "r.yaml:17:5: rules[4]: id: 必填(简短的名称,如 forbidden.blame)",
        "r.yaml:6:5: rules[0].allowd: 未知的键:类型 interruption 没有这个键(是否应为 'allowed'?)",
        "r.yaml:5:18: rules[0].min_overlap: 应为 ≥ 0 的数",
        "r.yaml:8:11: rules[1].kind: 未知的规则类型 'silense'(是否应为 'silence'?)",
        "r.yaml:12:15: rules[2].severity: 应为以下之一:info, minor, major, critical",
        "r.yaml:13:13: rules[2].points: 应为 ≥ 0 的数",
        "r.yaml:14:13: rules[2].scope.first_second: 未知的键(是否应为 'first_seconds'?)",
        "r.yaml:15:5: rules[3]: phrases、regexes、like 至少要给一个",
    ]


def test_rule_without_id(tmp_path: Path) -> None:
    assert _problems(tmp_path, "rules:\n  - kind: greeting\n") == [
        "r.yaml:2:5: rules[0]: id: 必填(简短的名称,如 forbidden.blame)"]


def test_unsafe_regex_rejected(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, "rules:\n  - id: a\n    kind: forbidden_phrase\n"
                                    "    regexes: ['(a+)+\\1']\n")
    assert problem.startswith("r.yaml:4:14: rules[0].regexes: 正则表达式 '(a+)+\\\\1' 无效或不安全")


def test_yaml_safety(tmp_path: Path) -> None:
    [p] = _problems(tmp_path, "rules: !!python/object/apply:os.system ['echo hi']\n")
    assert p == ("r.yaml:1:8: rules: 不允许使用标签 'tag:yaml.org,2002:python/object/apply:os.system'"
                 "(只接受普通 YAML)")
    [p] = _problems(tmp_path, "name: a\nname: b\n")
    assert p == "r.yaml:2:1: name: 键重复"
    [p] = _problems(tmp_path, "rules: [\n")
    assert p.startswith("r.yaml:2:1: YAML 格式有误")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    [p] = _problems(tmp_path, bomb)
    assert "文档过大" in p


def test_extends_overrides_key_by_key_and_disables(tmp_path: Path) -> None:
    p = tmp_path / "mine.yaml"
    p.write_text("""\
name: mine
version: "1"
extends: default
scoring: {pass_mark: 90}
rules:
  - id: interruption
    allowed: 1
  - id: hangup
    enabled: false
  - id: forbidden.local
    kind: forbidden_phrase
    name: 本地禁语
    points: 4
    phrases: [搞不定]
""", encoding="utf-8")
    rs = load_ruleset(p)
    assert (rs.name, rs.version, rs.pass_mark, rs.base_score) == ("mine", "1", 90.0, 100.0)
    intr = rs.rule("interruption")
    assert intr.params.allowed == 1 and intr.params.min_overlap == 0.5  # type: ignore[attr-defined]
    assert intr.points == 3 and intr.name == "打断客户(抢话)"
    assert "hangup" in rs.disabled and all(r.id != "hangup" for r in rs.rules)
    assert rs.rules[-1].id == "forbidden.local" and rs.rules[-1].points == 4
    assert rs.files == ["<builtin:default>", str(p)]
    assert rs.hash != load_ruleset().hash


def test_extends_relative_path_and_cycle(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("rules:\n  - {id: g, kind: greeting, points: 1}\n", encoding="utf-8")
    (tmp_path / "child.yaml").write_text("extends: base.yaml\nrules:\n  - {id: g, points: 2}\n", encoding="utf-8")
    assert load_ruleset(tmp_path / "child.yaml").rule("g").points == 2
    (tmp_path / "x.yaml").write_text("extends: y.yaml\n", encoding="utf-8")
    (tmp_path / "y.yaml").write_text("extends: x.yaml\n", encoding="utf-8")
    with pytest.raises(RulesetError) as exc:
        load_ruleset(tmp_path / "x.yaml")
    assert "extends 循环引用" in exc.value.problems[0]


def test_missing_ruleset_file(tmp_path: Path) -> None:
    with pytest.raises(RulesetError) as exc:
        load_ruleset(tmp_path / "nope.yaml")
    assert exc.value.problems == [f"{tmp_path / 'nope.yaml'}: 找不到规则集"]
    with pytest.raises(RulesetError) as exc:
        load_ruleset("defualt")
    assert exc.value.problems == ["defualt: 找不到规则集(是否应为 'default'?)"]
