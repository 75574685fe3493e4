"""Backtest: re-audit a run's recorded inputs with a candidate ruleset and diff exactly.

Calls and the version-1 ruleset are in review_fixtures. The candidate (version 2) removes the
phrase 你听明白了吗 from ``blame`` and adds 你着急什么; so C1 and C2 each lose one finding and
C4 gains one.
"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from review_fixtures import make_world
from typer.testing import CliRunner

from csqa.api import audit
from csqa.backtest import backtest
from csqa.cli import app

runner = CliRunner()


def candidate(tmp: Path, rules: Path, phrases: str = "[我怎么知道, 你着急什么]") -> Path:
    text = rules.read_text("utf-8").replace('version: "1"', 'version: "2"')
    text = text.replace("phrases: [我怎么知道, 你听明白了吗]", f"phrases: {phrases}")
    path = tmp / "candidate.yaml"
    path.write_text(text, "utf-8")
    return path


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, Path, Path]:
    calls, rules = make_world(tmp_path)
    run = tmp_path / "run"
    audit([calls.resolve()], rules, run)
    return calls, rules, run


def test_backtest_of_one_phrase_added_and_one_removed(world: tuple[Path, Path, Path],
                                                      tmp_path: Path) -> None:
    _, rules, run = world
    bt = backtest([run], candidate(tmp_path, rules))
    assert [(f["change"], f["call_id"], f["rule_id"], f["utterance"], f["matched"])
            for f in bt.findings] == [
        ("removed", "C1", "blame", 2, "你听明白了吗"),
        ("removed", "C2", "blame", 1, "你听明白了吗"),
        ("added", "C4", "blame", 1, "你着急什么"),
    ]
    assert [(c.call_id, c.score_before, c.score_after, c.passed_before, c.passed_after,
             c.added, c.removed) for c in bt.calls] == [
        ("C1", 90.0, 90.0, True, True, 0, 1),   # 3 -> 2 findings, still at the 10-point cap
        ("C2", 95.0, 100.0, True, True, 0, 1),
        ("C3", 100.0, 100.0, False, False, 0, 0),
        ("C4", 100.0, 95.0, True, True, 1, 0),
    ]
    rules_diff = {r.rule_id: (r.before, r.after, r.added, r.removed, r.status) for r in bt.rules}
    assert rules_diff == {"blame": (4, 3, 1, 2, ""), "abuse": (1, 1, 0, 0, "")}
    blame = next(r for r in bt.rules if r.rule_id == "blame")
    assert [f["call_id"] for f in blame.added_examples] == ["C4"]
    assert [f["call_id"] for f in blame.removed_examples] == ["C1", "C2"]
    assert [(g.key, g.calls, g.mean_before, g.mean_after, g.mean_delta, g.pass_rate_before,
             g.pass_rate_after, g.pass_rate_delta, g.added, g.removed) for g in bt.agents] == [
        ("A1", 2, 95.0, 92.5, -2.5, 1.0, 1.0, 0.0, 1, 1),
        ("A2", 2, 97.5, 100.0, 2.5, 0.5, 0.5, 0.0, 0, 1),
    ]
    o = bt.overall
    assert (o.calls, o.mean_before, o.mean_after, o.pass_rate_before, o.pass_rate_after) == \
        (4, 96.25, 96.25, 0.75, 0.75)
    assert bt.pass_rate_drop == 0.0
    assert bt.missing == [] and bt.problems == []
    assert bt.baseline_versions == ["1"] and bt.ruleset.version == "2"


def test_backtest_cli_prints_and_writes_the_full_diff(world: tuple[Path, Path, Path],
                                                      tmp_path: Path) -> None:
    _, rules, run = world
    cand = candidate(tmp_path, rules)
    xlsx = tmp_path / "diff.xlsx"
    res = runner.invoke(app, ["backtest", str(run), "--ruleset", str(cand), "--out", str(xlsx),
                              "--max-pass-rate-drop", "0"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "+ blame C4#1 “你着急什么” 你着急什么" in res.output
    assert "- blame C1#2 “你听明白了吗”" in res.output
    assert "- blame C2#1 “你听明白了吗”" in res.output
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["summary", "scoring", "rules", "agents", "calls", "findings"]
    found = [tuple(r) for r in wb["findings"].iter_rows(min_row=2, max_col=6, values_only=True)]
    assert found == [("removed", "C1", "A1", "blame", "责问", 2),
                     ("removed", "C2", "A2", "blame", "责问", 1),
                     ("added", "C4", "A1", "blame", "责问", 1)]
    agents = [tuple(r) for r in wb["agents"].iter_rows(min_row=2, max_col=5, values_only=True)]
    assert agents == [("A1", 2, 95, 92.5, -2.5), ("A2", 2, 97.5, 100, 2.5)]
    out_csv = tmp_path / "diff.csv"
    res = runner.invoke(app, ["backtest", str(run), "-r", str(cand), "-o", str(out_csv)])
    assert res.exit_code == 0, res.output
    with out_csv.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["change"], r["call_id"], r["time"], r["matched"]) for r in rows] == [
        ("removed", "C1", "00:00:10.5", "你听明白了吗"),
        ("removed", "C2", "00:00:05.5", "你听明白了吗"),
        ("added", "C4", "00:00:05.5", "你着急什么")]
    with (tmp_path / "diff.rules.csv").open(encoding="utf-8-sig") as fh:
        rules_rows = {r["rule_id"]: r for r in csv.DictReader(fh)}
    assert (rules_rows["blame"]["added"], rules_rows["blame"]["removed"]) == ("1", "2")
    for name in ("summary", "agents", "calls"):
        assert (tmp_path / f"diff.{name}.csv").exists()


def test_max_pass_rate_drop_gates_the_change(world: tuple[Path, Path, Path],
                                             tmp_path: Path) -> None:
    _, rules, run = world
    # 20 points a finding, no cap: C1 (2 findings) -> 60 and C4 -> 80 fail; pass rate 75% -> 25%
    harsh = candidate(tmp_path, rules)
    text = harsh.read_text("utf-8")
    assert "    points: 5\n    max_points: 10\n" in text
    harsh.write_text(text.replace("    points: 5\n    max_points: 10\n", "    points: 20\n"),
                     "utf-8")
    bt = backtest([run], harsh)
    assert (bt.overall.pass_rate_before, bt.overall.pass_rate_after, bt.pass_rate_drop) == \
        (0.75, 0.25, 0.5)
    res = runner.invoke(app, ["backtest", str(run), "-r", str(harsh),
                              "--max-pass-rate-drop", "0.4"])
    assert res.exit_code == 1
    assert "合格率将下降 50.0 个百分点(75.0% → 25.0%),超过允许的 40.0" in res.output
    res = runner.invoke(app, ["backtest", str(run), "-r", str(harsh),
                              "--max-pass-rate-drop", "50%"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["backtest", str(run), "-r", str(harsh),
                              "--max-pass-rate-drop", "lots"])
    assert res.exit_code == 2 and "应为小数(如 0.05)或百分数(如 5%)" in res.output


def test_backtest_reports_calls_gone_from_the_inputs(world: tuple[Path, Path, Path],
                                                     tmp_path: Path) -> None:
    calls, rules, run = world
    (calls / "C4.txt").unlink()
    bt = backtest([run], candidate(tmp_path, rules))
    assert bt.missing == ["C4"]
    assert [c.call_id for c in bt.calls] == ["C1", "C2", "C3"]
    res = runner.invoke(app, ["backtest", str(run), "-r", str(candidate(tmp_path, rules))])
    assert res.exit_code == 0
    assert "警告:运行中有 1 通通话在其输入中已找不到,未参与比较:C4" in res.output


def test_backtest_errors_name_the_folder(world: tuple[Path, Path, Path], tmp_path: Path) -> None:
    calls, rules, run = world
    res = runner.invoke(app, ["backtest", str(tmp_path), "-r", str(rules)])
    assert res.exit_code == 2
    assert f"{tmp_path}: 不是 csqa audit 的输出目录(没有 run.json)" in res.output
    for f in calls.iterdir():
        f.unlink()
    calls.rmdir()
    res = runner.invoke(app, ["backtest", str(run), "-r", str(rules)])
    assert res.exit_code == 2
    assert f"记录的输入 {calls.resolve()} 已不存在" in res.output


@pytest.mark.parametrize("command", [["review"], ["backtest"], ["rules", "stats"], ["audit"]])
def test_review_loop_commands_have_help(command: list[str]) -> None:
    res = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    options = {"review": ["--out", "--sample", "--by", "--seed"],
               "backtest": ["--ruleset", "--out", "--max-pass-rate-drop"],
               "stats": ["--reviews", "--examples"], "audit": ["--reviews"]}[command[-1]]
    for opt in options:
        assert opt in res.output


def test_a_scoring_change_alone_is_reported_with_the_calls_it_moves(
        world: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """#17: a candidate that changes only pass_mark and points has no finding changes, but the
    pass rate drops; that is reported, and diff.xlsx carries the pass marks."""
    _, rules, run = world
    cand = tmp_path / "strict.yaml"
    cand.write_text(rules.read_text("utf-8").replace("pass_mark: 90", "pass_mark: 96")
                    .replace("points: 5", "points: 3"), "utf-8")
    bt = backtest([run], cand)
    assert bt.findings == []
    assert [(c.what, c.before, c.after) for c in bt.scoring] == [
        ("pass_mark", "90", "96"), ("blame.points", "5", "3")]
    assert [(c.call_id, c.score_before, c.score_after, c.passed_before, c.passed_after)
            for c in bt.calls] == [
        ("C1", 90.0, 91.0, True, False),  # 3 findings × 3 = 9, under the cap of 10
        ("C2", 95.0, 97.0, True, True),
        ("C3", 100.0, 100.0, False, False),  # vetoed
        ("C4", 100.0, 100.0, True, True),
    ]
    xlsx = tmp_path / "diff.xlsx"
    res = runner.invoke(app, ["backtest", str(run), "-r", str(cand), "-o", str(xlsx)],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "违规变化:无(没有新增或消失的违规)" in res.output
    assert "计分变化: pass_mark 90 → 96; blame.points 5 → 3" in res.output
    assert "得分变化 2 通;结论变化 1 通(合格 → 不合格 1,不合格 → 合格 0)" in res.output
    wb = openpyxl.load_workbook(xlsx)
    calls = [tuple(r) for r in wb["calls"].iter_rows(values_only=True)]
    assert calls[0][5:9] == ("pass_mark_before", "pass_mark_after", "passed_before",
                             "passed_after")
    assert calls[1][0] == "C1" and calls[1][5:9] == (90, 96, True, False)
    assert [tuple(r) for r in wb["scoring"].iter_rows(values_only=True)] == [
        ("setting", "before", "after"), ("pass_mark", "90", "96"), ("blame.points", "5", "3")]
