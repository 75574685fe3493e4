"""``csqa rules test``: rules' own examples, the default ruleset's included (run by make test)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from csqa.cli import app
from csqa.ruleset import load_ruleset
from csqa.ruletests import example_transcript_text, run_rule_tests

runner = CliRunner()
DEFAULT = Path(__file__).resolve().parent.parent / "src" / "csqa" / "data" / "default.yaml"


def _default_line(text: str) -> int:
    lines = DEFAULT.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if line.strip() == text)


def rules_test(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["rules", "test", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_default_ruleset_examples_all_pass_and_every_rule_has_some() -> None:
    code, out, _ = rules_test("--require-examples")
    assert code == 0, out
    report = run_rule_tests(load_ruleset())
    n_rules, n = len(load_ruleset().rules), len(report.outcomes)
    assert out.splitlines() == [f"规则样例:{n_rules} 条规则,{n} 个样例,通过 {n},失败 0"]
    assert report.without_examples == []
    for rule in load_ruleset().rules:
        kinds = {o.example.expect for o in report.outcomes if o.example.rule_id == rule.id}
        assert kinds == {"fire", "pass"}, f"{rule.id} needs fire and pass examples"


def test_editing_a_parent_phrase_list_shows_which_example_broke(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text(
        "extends: default\n"
        "meaning: false\n"  # strings alone: the examples said in other words still fire by meaning
        "rules:\n"
        "  - id: forbidden.shirk\n"
        "    phrases: [不关我的事]\n"
        "    regexes: []\n", encoding="utf-8")
    code, out, _ = rules_test(str(mine))
    assert code == 1
    lines = out.splitlines()
    line = _default_line("- 这个不归我管。")
    assert lines[:3] == [
        f"✗ forbidden.shirk fire[0]  (<builtin:default>:{line}:11)",
        "    应触发,却没有触发",
        "    | 这个不归我管。",
    ]
    assert f"✗ forbidden.shirk fire[2]  (<builtin:default>:{line + 2}:11)" in lines
    n_rules = len(load_ruleset().rules)
    n = len(run_rule_tests(load_ruleset()).outcomes)
    assert lines[-1] == f"规则样例:{n_rules} 条规则,{n} 个样例,通过 {n - 4},失败 4"


def test_pass_example_that_fires_and_matched_mismatch(tmp_path: Path) -> None:
    f = tmp_path / "r.yaml"
    f.write_text(
        "rules:\n"
        "  - id: shirk\n"
        "    kind: forbidden_phrase\n"
        "    phrases: [没办法, 不归我管]\n"
        "    examples:\n"
        "      fire:\n"
        "        - {call: 这个不归我管。, matched: 没办法}\n"
        "      pass:\n"
        "        - 我来想想办法。\n"
        "        - |\n"
        "          客户: 我要退货。\n"
        "          坐席: 这个没办法退。\n", encoding="utf-8")
    code, out, _ = rules_test(str(f))
    assert code == 1
    assert out.splitlines() == [
        f"✗ shirk fire[0]  ({f}:7:11)",
        "    应触发(匹配“没办法”),实际:第 0 句 “不归我管”",
        "    | 这个不归我管。",
        f"✗ shirk pass[1]  ({f}:10:11)",
        "    应不触发,却触发了 1 条:第 1 句 “没办法”",
        "    | 客户: 我要退货。",
        "    | 坐席: 这个没办法退。",
        "规则样例:1 条规则,3 个样例,通过 1,失败 2",
    ]


def test_sibling_tests_file_adds_examples_and_rejects_unknown_rules(tmp_path: Path) -> None:
    f = tmp_path / "r.yaml"
    f.write_text("rules:\n  - id: shirk\n    kind: forbidden_phrase\n    phrases: [没办法]\n"
                 "  - id: blame\n    kind: forbidden_phrase\n    phrases: [你听明白了吗]\n",
                 encoding="utf-8")
    sibling = tmp_path / "r.tests.yaml"
    sibling.write_text("shirk:\n  fire: [这个没办法。]\n  pass: [我想办法。]\n", encoding="utf-8")
    code, out, _ = rules_test(str(f), "-v")
    assert code == 0
    assert out.splitlines() == [
        "✓ shirk  fire 1 · pass 1",
        "规则样例:1 条规则,2 个样例,通过 2,失败 0;1 条规则没有样例:blame",
    ]
    assert rules_test(str(f), "--require-examples")[0] == 1
    sibling.write_text("shrik:\n  fire: [这个没办法。]\nblame:\n  fires: []\n", encoding="utf-8")
    code, _, err = rules_test(str(f))
    assert code == 2
    assert f"{sibling}:1:1: shrik: 规则集中没有这条规则(是否应为 'shirk'?)" in err
    assert (f"{sibling}:4:3: blame.fires: 未知的键(是否应为 'fire'?)"
            "(应为 fire 或 pass)") in err


def test_times_and_speakers_are_filled_in() -> None:
    assert example_transcript_text("客户: 你好\n您好,请讲。\n<挂机: 坐席>", "agent") == (
        "# agent_id: EXAMPLE\n"
        "[0.0-1.0] 客户: 你好\n"
        "[1.5-3.5] 坐席: 您好,请讲。\n"
        "[3.5] <挂机: 坐席>\n"
    )


def test_disabled_rules_are_named_not_tested(tmp_path: Path) -> None:
    f = tmp_path / "r.yaml"
    f.write_text("rules:\n  - id: a\n    kind: forbidden_phrase\n    phrases: [没办法]\n"
                 "    examples: {fire: [没办法。]}\n"
                 "  - id: b\n    kind: forbidden_phrase\n    phrases: [x]\n    enabled: false\n"
                 "    examples: {fire: [y]}\n", encoding="utf-8")
    code, out, _ = rules_test(str(f))
    assert code == 0
    assert out == "规则样例:1 条规则,1 个样例,通过 1,失败 0;已停用未测试:b\n"


def test_examples_with_the_same_call_id_are_each_judged(tmp_path: Path) -> None:
    """fire[0] in the ruleset and fire[0] in its tests file are the same call id: each is run
    on its own through the pipeline, so the second is judged, not dropped as a duplicate."""
    rules = tmp_path / "mine.yaml"
    rules.write_text(
        "rules:\n"
        "  - id: shirk\n"
        "    kind: forbidden_phrase\n"
        "    phrases: [没办法]\n"
        "    examples:\n"
        "      fire: [这个没办法。]\n", encoding="utf-8")
    (tmp_path / "mine.tests.yaml").write_text("shirk:\n  fire: [您好请讲。]\n",
                                              encoding="utf-8")
    code, out, _ = rules_test(str(rules))
    assert code == 1
    assert out.splitlines() == [
        f"✗ shirk fire[0]  ({tmp_path / 'mine.tests.yaml'}:2:10)",
        "    应触发,却没有触发",
        "    | 您好请讲。",
        "规则样例:1 条规则,2 个样例,通过 1,失败 1",
    ]
