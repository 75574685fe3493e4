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
        f"{f}:5:15: warning: rules[0].phrases[0]: phrase '找别人去' is also a phrase of rule "
        f"'greet' ({f}:12:19): one rule requires it and the other forbids it [duplicate-phrase]",
        f"{f}:5:21: warning: rules[0].phrases[1]: phrase '你找别人去吧' is shadowed by '找别人去' "
        "(phrases[0]) of the same rule: wherever it is said, '找别人去' matches too "
        "[shadowed-phrase]",
        f"{f}:5:29: warning: rules[0].phrases[2]: phrase '!!' is only punctuation or spaces: "
        "it can never match [empty-phrase]",
        f"{f}:5:35: warning: rules[0].phrases[3]: phrase '不归我管' is also a phrase of rule "
        f"'blame' ({f}:9:23): one utterance is deducted twice [duplicate-phrase]",
        f"{f}:5:41: warning: rules[0].phrases[4]: phrase '不 归我管' is also a phrase of rule "
        f"'blame' ({f}:9:23): one utterance is deducted twice [duplicate-phrase]",
        f"{f}:5:41: warning: rules[0].phrases[4]: phrase '不 归我管' repeats '不归我管' "
        "(phrases[3]) once punctuation and spaces are ignored [shadowed-phrase]",
        f"{f}:6:30: warning: rules[0].regexes[1]: regex '请问,您' has ',', which matching removes "
        "or changes (regexes run on text without punctuation or spaces, in lower case): that part "
        "can never match [regex-never-matches]",
        f"{f}:6:38: warning: rules[0].regexes[2]: regex '(喂+)+' nests a repetition inside a "
        "repetition: safe on csqa's RE2, but catastrophic backtracking on other regex engines; "
        "simplify it [regex-backtracking]",
        f"{f}:6:47: warning: rules[0].regexes[3]: regex 'Hello' has 'H', which matching removes or "
        "changes (regexes run on text without punctuation or spaces, in lower case): that part can "
        "never match [regex-never-matches]",
        f"{f}:9:23: warning: rules[1].phrases[1]: phrase '不归我管' is also a phrase of rule "
        f"'shirk' ({f}:5:35): one utterance is deducted twice [duplicate-phrase]",
        f"{f}:12:19: warning: rules[2].phrases[1]: phrase '找别人去' is also a phrase of rule "
        f"'shirk' ({f}:5:15): one rule requires it and the other forbids it [duplicate-phrase]",
        f"{f}:13:28: warning: rules[2].scope.first_seconds: a window of 0 s holds only an "
        "utterance touching the very start of the call: the scope (almost) never holds "
        "[scope-never-holds]",
        f"{f}:17:19: warning: rules[3].ignore_above: ignore_above (10) is not above "
        "max_delay (12): a late answer can never fire [scope-never-holds]",
        f"{f}:20:15: warning: rules[4].hold_max: hold_max (5) is below max_gap (10): announcing a "
        "wait allows less silence than not announcing it [scope-never-holds]",
        f"{f}:23:28: warning: rules[5].backchannel_max_chars: backchannel_max_chars is 0: no "
        "backchannel (嗯/好的) is ever excused [scope-never-holds]",
        f"{f}:27:14: warning: rules[6].enabled: rule 'old' is disabled where it is defined and "
        "enabled nowhere: it never runs (delete it, or set enabled: true) [disabled-rule]",
        f"{f}:30:21: warning: rules[7].within_seconds: a window of 0 s holds only an utterance "
        "touching the very start of the call: the rule fires on (almost) every call "
        "[scope-never-holds]",
        f"{f}:33:15: warning: rules[8].phrases[0]: phrase '我想不出办法了' can never fire: it "
        "contains the unless phrase '办法' (unless[0]), which cancels it whenever it is said "
        "[shadowed-phrase]",
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
        f"{f}:6:7: warning: rules[0].examples: replaces the 8 example(s) rule 'forbidden.shirk' "
        "has in <builtin:default> (examples are not added to the parent's): repeat those to "
        "keep them tested [examples-replaced]"]
