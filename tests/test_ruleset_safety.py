"""Hand-written and copied-from-the-web rulesets: YAML is plain data only, bounded, and user
regexes run on RE2 so that no pattern can hang an audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_call

from csqa.engine import Engine
from csqa.errors import RulesetError
from csqa.matching import compile_safe_regex
from csqa.ruleset import load_ruleset


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesetError) as exc:
        load_ruleset(path)
    return [p.replace(str(path), "R") for p in exc.value.problems]


RULE = "  - {id: f, kind: forbidden_phrase, phrases: [没办法]}\n"


def test_object_construction_tags_are_rejected_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = (f"name: !!python/object/apply:os.system ['touch {marker}']\n"
            "version: !!python/name:os.system\nrules:\n" + RULE)
    assert problems(tmp_path, text) == [
        "R:1:7: name: 不允许使用标签 'tag:yaml.org,2002:python/object/apply:os.system'"
        "(只接受普通 YAML)",
        "R:2:10: version: 不允许使用标签 'tag:yaml.org,2002:python/name:os.system'"
        "(只接受普通 YAML)",
    ]
    assert not marker.exists()


def test_duplicate_and_merge_keys_are_rejected(tmp_path: Path) -> None:
    text = ("name: a\nname: b\nbase: &b {points: 1}\nrules:\n"
            "  - {id: f, kind: forbidden_phrase, <<: *b, phrases: [x]}\n")
    assert problems(tmp_path, text) == [
        "R:2:1: name: 键重复",
        "R:5:37: rules[0]: 不支持合并键(<<)",
    ]


def test_billion_laughs_is_bounded(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    assert problems(tmp_path, "\n".join(lines) + "\nrules: []\n") == [
        "R: 文档过大(超过 100000 个节点;是否有别名炸弹?)"]


def test_recursive_alias_and_deep_nesting_are_errors(tmp_path: Path) -> None:
    assert problems(tmp_path, "name: x\nrules: &a [*a]\n") == [
        "R:2:8: rules[0]: 递归别名(锚点在自身内部被引用)"]
    assert problems(tmp_path, "rules: " + "[" * 1500) == ["R: YAML 格式有误:嵌套过深"]
    assert problems(tmp_path, "rules: " + "[" * 80 + "]" * 80 + "\n")[0].endswith(
        "嵌套超过 64 层")
    # read by the pure-Python parser: libyaml's (used for ordinary rulesets) crashes at this depth
    assert problems(tmp_path, "rules: " + "[" * 100_000 + "]" * 100_000 + "\n") == [
        "R: YAML 格式有误:嵌套过深"]


@pytest.mark.parametrize(("pattern", "why"), [
    (r"(\w+)\1", "invalid escape sequence: \\1"),  # back-reference: needs backtracking
    (r"(?=foo)bar", "invalid perl operator: (?="),  # look-ahead
    (r"(?<!a)b", "invalid perl operator: (?<"),  # look-behind
])
def test_non_linear_regex_features_are_rejected_at_load(tmp_path: Path, pattern: str,
                                                        why: str) -> None:
    text = f"rules:\n  - id: f\n    kind: forbidden_phrase\n    regexes: ['{pattern}']\n"
    (problem,) = problems(tmp_path, text)
    assert problem.startswith("R:4:14: rules[0].regexes: 正则表达式 ") and "无效或不安全" in problem
    assert why in problem


def test_pathological_regex_cannot_hang_an_audit(tmp_path: Path) -> None:
    # Catastrophic on a backtracking engine: (a+)+$ against "aaaa…ab" is exponential.
    # On RE2 it is linear; the audit of a 19 000-character utterance finishes at once.
    import re2

    evil = ["(a+)+$", "(a|aa)+$", "(a*)*b", "(.*a){20}"]
    for p in evil:
        assert isinstance(compile_safe_regex(p), re2._Regexp)
    text = "rules:\n  - id: f\n    kind: forbidden_phrase\n    regexes: [" + ", ".join(
        f"'{p}'" for p in evil) + "]\n"
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    engine = Engine(load_ruleset(path))
    call = make_call("[00:00:01.0-00:00:09.0] 坐席: " + "a" * 19_000 + "!\n")
    result = engine.audit(call)
    assert result.rule_errors == {}
    # (a+)+$ etc. match the folded text (no "!"); each regex gives one leftmost-longest hit
    assert [f.rule_id for f in result.findings] == ["f"]
    assert len(result.findings[0].matched) == 19_000


def test_values_their_tag_cannot_read_are_errors(tmp_path: Path) -> None:
    text = "scoring: {base: !!int abc}\nrules:\n" + RULE
    assert problems(tmp_path, text) == [
        "R:1:17: scoring.base: 无法把 'abc' 读作 int(ValueError)"]


def test_a_huge_repetition_is_rejected_not_compiled(tmp_path: Path) -> None:
    text = ("rules:\n  - id: f\n    kind: forbidden_phrase\n"
            "    regexes: ['((a{1000}){1000}){1000}']\n")
    (problem,) = problems(tmp_path, text)
    assert "无效或不安全" in problem


def test_rules_lint_rejects_a_regex_re2_cannot_run_in_linear_time(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from csqa.cli import app

    path = tmp_path / "rules.yaml"
    path.write_text("extends: default\nrules:\n  - id: f\n    kind: forbidden_phrase\n"
                    "    regexes: ['(\\w+)\\1']\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["rules", "lint", str(path)])
    assert result.exit_code == 2
    assert (f"{path}:5:14: rules[0].regexes: 正则表达式 '(\\\\w+)\\\\1' 无效或不安全:"
            "invalid escape sequence: \\1") in result.stderr
