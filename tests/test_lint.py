"""``csqa rules lint``: audit's errors with line:col, and each warning on crafted rulesets."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from csqa.cli import app
from csqa.lint import lint

runner = CliRunner()

CRAFTED = """\
name: crafted
rules:
  - id: shirk
    kind: forbidden_phrase
    phrases: [找别人去, 你找别人去吧, "!!", 不归我管, 不 归我管]
    regexes: ['你找.{1,12}问去', '请问,您', '(喂+)+', 'Hello']
  - id: blame
    kind: forbidden_phrase
    phrases: [你听明白了吗, 不归我管]
  - id: greet
    kind: required_phrase
    phrases: [您好, 找别人去]
    scope: {first_seconds: 0}
  - id: slow
    kind: response_delay
    max_delay: 12
    ignore_above: 10
  - id: quiet
    kind: silence
    hold_max: 5
  - id: talk_over
    kind: interruption
    backchannel_max_chars: 0
  - id: old
    kind: forbidden_phrase
    phrases: [老规矩]
    enabled: false
  - id: late_hello
    kind: greeting
    within_seconds: 0
  - id: cancelled
    kind: forbidden_phrase
    phrases: [我想不出办法了]
    unless: [办法]
"""


def rules_lint(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["rules", "lint", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_every_warning_kind_with_line_and_column(tmp_path: Path) -> None:
    f = tmp_path / "crafted.yaml"
    f.write_text(CRAFTED, encoding="utf-8")
    code, out, err = rules_lint(str(f))
    assert code == 0 and err == ""
    assert out.splitlines() == [
        f"{f}:5:15: 警告: rules[0].phrases[0]: 短语 '找别人去' 也是规则 'greet' 的短语({f}:12:19):"
        "一条规则要求说、另一条规则禁止说 [duplicate-phrase]",
        f"{f}:5:21: 警告: rules[0].phrases[1]: 短语 '你找别人去吧' 被同一规则的 '找别人去'(phrases[0])"
        "覆盖:凡说到它的地方,'找别人去' 也会匹配 [shadowed-phrase]",
        f"{f}:5:29: 警告: rules[0].phrases[2]: 短语 '!!' 只有标点或空格:永远不会匹配 [empty-phrase]",
        f"{f}:5:35: 警告: rules[0].phrases[3]: 短语 '不归我管' 也是规则 'blame' 的短语({f}:9:23):"
        "同一句话会被扣两次分 [duplicate-phrase]",
        f"{f}:5:41: 警告: rules[0].phrases[4]: 短语 '不 归我管' 也是规则 'blame' 的短语({f}:9:23):"
        "同一句话会被扣两次分 [duplicate-phrase]",
        f"{f}:5:41: 警告: rules[0].phrases[4]: 短语 '不 归我管' 去掉标点和空格后与 '不归我管'"
        "(phrases[3])重复 [shadowed-phrase]",
        f"{f}:6:30: 警告: rules[0].regexes[1]: 正则 '请问,您' 含有 ',',匹配前会被去掉或改变"
        "(正则在去掉标点和空格、转为小写的文本上运行):这部分永远不会匹配 [regex-never-matches]",
        f"{f}:6:38: 警告: rules[0].regexes[2]: 正则 '(喂+)+' 在重复里嵌套了重复:在 csqa 的 RE2 上安全,"
        "但在其他正则引擎上会灾难性回溯;请简化 [regex-backtracking]",
        f"{f}:6:47: 警告: rules[0].regexes[3]: 正则 'Hello' 含有 'H',匹配前会被去掉或改变"
        "(正则在去掉标点和空格、转为小写的文本上运行):这部分永远不会匹配 [regex-never-matches]",
        f"{f}:9:23: 警告: rules[1].phrases[1]: 短语 '不归我管' 也是规则 'shirk' 的短语({f}:5:35):"
        "同一句话会被扣两次分 [duplicate-phrase]",
        f"{f}:12:19: 警告: rules[2].phrases[1]: 短语 '找别人去' 也是规则 'shirk' 的短语({f}:5:15):"
        "一条规则要求说、另一条规则禁止说 [duplicate-phrase]",
        f"{f}:13:28: 警告: rules[2].scope.first_seconds: 0 秒的窗口只包含紧贴通话开头的话语:"
        "这个范围(几乎)永远不成立 [scope-never-holds]",
        f"{f}:17:19: 警告: rules[3].ignore_above: ignore_above(10)不大于 max_delay(12):"
        "回应过慢永远不会触发 [scope-never-holds]",
        f"{f}:20:15: 警告: rules[4].hold_max: hold_max(5)小于 max_gap(10):"
        "告知客户等待后允许的静默反而比不告知还短 [scope-never-holds]",
        f"{f}:23:28: 警告: rules[5].backchannel_max_chars: backchannel_max_chars 为 0:"
        "任何附和(嗯/好的)都不会被放过 [scope-never-holds]",
        f"{f}:27:14: 警告: rules[6].enabled: 规则 'old' 在定义处停用且没有任何地方启用:"
        "它永远不会运行(删除它,或设置 enabled: true) [disabled-rule]",
        f"{f}:30:21: 警告: rules[7].within_seconds: 0 秒的窗口只包含紧贴通话开头的话语:"
        "这条规则(几乎)每通电话都会触发 [scope-never-holds]",
        f"{f}:33:15: 警告: rules[8].phrases[0]: 短语 '我想不出办法了' 永远不会触发:它包含 unless 短语 "
        "'办法'(unless[0]),说到它时总会被取消 [shadowed-phrase]",
        f"{f}: 0 个错误,18 个警告",
    ]
    assert rules_lint(str(f), "--strict")[0] == 1


def test_clean_ruleset_and_inherited_values_are_not_warned_about(tmp_path: Path) -> None:
    f = tmp_path / "team.yaml"
    # the default's own shadowed phrases are not this file's business; disabling a parent's
    # rule is what enabled: false is for
    f.write_text("extends: default\nrules:\n  - id: hangup\n    enabled: false\n"
                 "  - id: forbidden.blame\n    points: 6\n", encoding="utf-8")
    code, out, _ = rules_lint(str(f), "--strict")
    assert code == 0
    assert out == f"{f}: 0 个错误,0 个警告\n"


def test_errors_are_audits_errors_all_at_once(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("rules:\n  - id: a\n    kind: forbidden_phrase\n    phrases: [x]\n"
                 "    regexes: ['(?<=a)b']\n  - id: b\n    kind: interruption\n"
                 "    min_overlap: -1\n    alowed: 2\n", encoding="utf-8")
    code, out, err = rules_lint(str(f))
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith(str(f))]
    assert len(lines) == 3
    assert lines[0].startswith(f"{f}:5:14: rules[0].regexes: 正则表达式 '(?<=a)b' 无效或不安全:")
    assert lines[1] == f"{f}:9:5: rules[1].alowed: 未知的键:类型 interruption 没有这个键" \
                       "(是否应为 'allowed'?)"
    assert lines[2].startswith(f"{f}:8:18: rules[1].min_overlap: 应为 ≥ 0 的数")
    assert out == f"{f}: 3 个错误,0 个警告\n"
    audit = runner.invoke(app, ["audit", str(tmp_path), "--ruleset", str(f), "-o",
                                str(tmp_path / "o")])
    assert audit.exit_code == 2
    assert [line for line in audit.stderr.splitlines() if line.startswith(str(f))] == lines


def test_malformed_examples_are_errors(tmp_path: Path) -> None:
    f = tmp_path / "ex.yaml"
    f.write_text("rules:\n  - id: a\n    kind: forbidden_phrase\n    phrases: [x]\n"
                 "    examples: {fires: [x], pass: [{cal: y}]}\n", encoding="utf-8")
    report = lint(f)
    assert report.errors == [
        f"{f}:5:16: rules[0].examples.fires: 未知的键(是否应为 'fire'?)(应为 fire 或 pass)",
        f"{f}:5:36: rules[0].examples.pass[0].cal: 未知的键(是否应为 'call'?)",
        f"{f}:5:35: rules[0].examples.pass[0].call: 必填(通话的文字)",
    ]


def test_default_ruleset_lints_clean() -> None:
    """#17: the default ruleset had 4 shadowed-phrase warnings of its own."""
    report = lint(None)
    assert (report.errors, report.warnings) == ([], [])


BROKEN = "name: broken\nrules:\n  - id: x\n    kind: forbidden_phrase\n    phrasez: [没办法]\n"


@pytest.mark.parametrize("where", ["before", "after", "positional"])
@pytest.mark.parametrize("command", ["lint", "test", "show"])
def test_rules_subcommands_take_the_ruleset_every_way(tmp_path: Path, command: str,
                                                      where: str) -> None:
    """#17: `csqa rules --ruleset X lint` linted the built-in default and exited 0."""
    f = tmp_path / "broken.yaml"
    f.write_text(BROKEN, encoding="utf-8")
    args = {"before": ["rules", "--ruleset", str(f), command],
            "after": ["rules", command, "-r", str(f)],
            "positional": ["rules", command, str(f)]}[where]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"{f}:5:5: rules[0].phrasez: 未知的键" in result.stderr


def test_rules_two_different_rulesets_is_an_error(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    for f in (a, b):
        f.write_text("name: x\nrules: []\n", encoding="utf-8")
    result = runner.invoke(app, ["rules", "-r", str(a), "lint", str(b)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"错误:给了两个不同的规则集:{b} 和 {a}"
                                     "(FILE 与 -r/--ruleset 只给一个)")
    same = runner.invoke(app, ["rules", "-r", str(a), "lint", str(a)])
    assert same.exit_code == 0, same.output


def test_examples_on_an_inherited_rule_warn_that_the_parents_are_replaced(tmp_path: Path) -> None:
    """#17: overriding examples dropped the default's 8 examples of the rule without a word."""
    f = tmp_path / "team.yaml"
    f.write_text("name: team\nextends: default\nrules:\n"
                 "  - id: forbidden.shirk\n    examples:\n      fire: [这个没办法。]\n"
                 "  - id: own\n    kind: forbidden_phrase\n    phrases: [不知道]\n"
                 "    examples:\n      fire: [我不知道。]\n", encoding="utf-8")
    report = lint(f)
    assert report.errors == []
    assert [str(w) for w in report.warnings] == [
        f"{f}:6:7: 警告: rules[0].examples: 替换了规则 'forbidden.shirk' 在 <builtin:default> 中的 8 个样例"
        "(样例不会追加到上级规则的样例中):如需继续测试它们,请在此重复列出 [examples-replaced]"]
