"""The review loop: stable finding ids, reviews files, verdicts applied to scores, precision,
reproducible samples. The world (calls, ruleset, expected scores) is in review_fixtures."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from review_fixtures import make_world
from typer.testing import CliRunner

from csqa.api import audit
from csqa.cli import app
from csqa.review import (
    ReviewsError,
    apply_reviews,
    read_reviews,
    rule_stats,
    sample_findings,
    update_reviews,
)

runner = CliRunner()


def findings(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "findings.jsonl").read_text("utf-8").splitlines()]


def table(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    key = "call_id" if "call_id" in rows[0] else "agent_id"
    return {r[key]: r for r in rows}


def ids(run: Path) -> list[tuple[str, str, int | None, str, str]]:
    return [(f["call_id"], f["rule_id"], f["utterance"], f["matched"], f["finding_id"])
            for f in findings(run)]


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    cols: list[str] = []
    for r in rows:
        cols.extend(k for k in r if k not in cols)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(calls, ruleset, run folder audited with it)."""
    calls, rules = make_world(tmp_path)
    run = tmp_path / "run"
    audit([calls], rules, run)
    return calls, rules, run


def fid(run: Path, call_id: str, matched: str, nth: int = 1) -> str:
    hits = [f["finding_id"] for f in findings(run)
            if f["call_id"] == call_id and f["matched"] == matched]
    return hits[nth - 1]


# --------------------------------------------------------------------------- finding ids

def test_finding_ids_are_stable_across_runs_and_distinct(world: tuple[Path, Path, Path],
                                                          tmp_path: Path) -> None:
    calls, rules, run = world
    again = tmp_path / "again"
    audit([calls], rules, again)
    assert ids(run) == ids(again)
    got = [i[-1] for i in ids(run)]
    assert all(re.fullmatch(r"F[0-9a-f]{16}", i) for i in got)
    # C1 says 我怎么知道 twice in one utterance: two findings, two ids
    assert len(set(got)) == len(got) == 5
    assert [i[:4] for i in ids(run)] == [
        ("C1", "blame", 2, "我怎么知道"), ("C1", "blame", 2, "你听明白了吗"),
        ("C1", "blame", 2, "我怎么知道"), ("C2", "blame", 1, "你听明白了吗"),
        ("C3", "abuse", 1, "滚")]


def test_finding_ids_are_the_same_from_json_and_text(world: tuple[Path, Path, Path],
                                                     tmp_path: Path) -> None:
    _, rules, run = world
    json_calls, _ = make_world(tmp_path, fmt="json")
    run_json = tmp_path / "run-json"
    audit([json_calls], rules, run_json)
    assert ids(run_json) == ids(run)


def test_finding_ids_change_with_the_ruleset_version(world: tuple[Path, Path, Path],
                                                     tmp_path: Path) -> None:
    calls, rules, run = world
    v2 = tmp_path / "rules-v2.yaml"
    v2.write_text(rules.read_text("utf-8").replace('version: "1"', 'version: "2"'), "utf-8")
    audit([calls], v2, tmp_path / "run2")
    old, new = ids(run), ids(tmp_path / "run2")
    assert [i[:4] for i in old] == [i[:4] for i in new]
    assert not {i[-1] for i in old} & {i[-1] for i in new}


# --------------------------------------------------------------------------- reviews file

def test_review_writes_one_row_per_finding_then_appends_keeping_verdicts(
        world: tuple[Path, Path, Path]) -> None:
    _, _, run = world
    res = runner.invoke(app, ["review", str(run)])
    assert res.exit_code == 0, res.output
    path = run / "reviews.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["call_id"], r["rule_id"], r["utterance"], r["time"], r["matched"], r["verdict"])
            for r in rows] == [
        ("C1", "blame", "2", "00:00:10.5", "我怎么知道", ""),
        ("C1", "blame", "2", "00:00:10.5", "你听明白了吗", ""),
        ("C1", "blame", "2", "00:00:10.5", "我怎么知道", ""),
        ("C2", "blame", "1", "00:00:05.5", "你听明白了吗", ""),
        ("C3", "abuse", "1", "00:00:05.5", "滚", "")]
    assert rows[0]["evidence"] == "我怎么知道?你听明白了吗,我怎么知道。"
    assert rows[0]["rule_name"] == "责问" and rows[0]["ruleset_version"] == "1"
    assert {"note", "reviewer", "finding_id", "agent_id"} <= set(rows[0])
    # a reviewer fills in one verdict and adds a missed violation; review again appends nothing
    rows[0]["verdict"], rows[0]["note"], rows[0]["reviewer"] = "false_alarm", "引用", "王"
    rows.append({"call_id": "C4", "rule_id": "blame", "utterance": "1", "verdict": "missed"})
    write_csv(path, rows)
    res = runner.invoke(app, ["review", str(run)])
    assert res.exit_code == 0, res.output
    again = read_reviews(path)
    assert len(again.rows) == 6
    assert again.verdicts[rows[0]["finding_id"]].note == "引用"
    assert [(m.call_id, m.rule_id, m.utterance) for m in again.missed] == [("C4", "blame", 1)]


def test_review_xlsx_round_trip(world: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, _, run = world
    path = tmp_path / "reviews.xlsx"
    done = update_reviews(run, path)
    assert (done.added, done.kept) == (5, 0)
    wb = openpyxl.load_workbook(path)
    ws = wb["reviews"]
    header = [c.value for c in ws[1]]
    assert ws.cell(2, header.index("utterance") + 1).value == 2  # a number, not text
    ws.cell(2, header.index("verdict") + 1).value = "误报"
    ws.cell(5, header.index("verdict") + 1).value = "confirmed"
    wb.save(path)
    rv = read_reviews(path)
    assert {v.finding_id: v.verdict for v in rv.verdicts.values()} == {
        fid(run, "C1", "我怎么知道"): "false_alarm", fid(run, "C2", "你听明白了吗"): "confirmed"}
    assert rv.pending == 3
    done = update_reviews(run, path)
    assert (done.added, done.kept) == (0, 5)


def test_bad_reviews_file_is_rejected_with_every_problem(world: tuple[Path, Path, Path],
                                                         tmp_path: Path) -> None:
    calls, rules, _ = world
    path = tmp_path / "bad.csv"
    write_csv(path, [
        {"finding_id": "Fx", "call_id": "C1", "rule_id": "blame", "verdict": "maybe"},
        {"finding_id": "", "call_id": "C1", "rule_id": "blame", "verdict": "confirmed"},
        {"finding_id": "Fy", "call_id": "C1", "rule_id": "blame", "verdict": "missed"},
        {"finding_id": "", "call_id": "", "rule_id": "blame", "verdict": "missed",
         "utterance": "two"},
    ])
    with pytest.raises(ReviewsError) as exc:
        read_reviews(path)
    assert exc.value.problems == [
        f"{path}:2: verdict: 'maybe' 不是 confirmed, false_alarm, missed 之一"
        "(或 确认、误报、漏报)",
        f"{path}:3: finding_id: 结论为 confirmed 时必须填写",
        f"{path}:4: verdict: missed(漏报)用于机器没发现的违规:请新增一行,填 call_id 和 "
        "rule_id,finding_id 留空(机器发现的违规请用 confirmed 或 false_alarm)",
        f"{path}:5: call_id: 漏报必须填写",
        f"{path}:5: utterance: 应为句子编号(0、1 …),实际是 'two'",
    ]
    res = runner.invoke(app, ["audit", str(calls), "-r", str(rules), "-o", str(tmp_path / "x"),
                              "--reviews", str(path)])
    assert res.exit_code == 2
    assert "复核表有误(共 5 个问题)" in res.output
    assert not (tmp_path / "x").exists()  # checked before auditing


# --------------------------------------------------------------------------- verdicts

def crafted_reviews(run: Path, path: Path) -> None:
    """false alarms on two of C1's three blame findings and on C3's veto; C2 confirmed;
    a missed blame on C4, a missed veto on C4, and verdicts on a call of another run."""
    write_csv(path, [
        {"finding_id": fid(run, "C1", "我怎么知道", 1), "call_id": "C1", "rule_id": "blame",
         "verdict": "false_alarm", "note": "客户原话", "reviewer": "王"},
        {"finding_id": fid(run, "C1", "我怎么知道", 2), "call_id": "C1", "rule_id": "blame",
         "verdict": "confirmed"},
        {"finding_id": fid(run, "C1", "你听明白了吗"), "call_id": "C1", "rule_id": "blame",
         "verdict": "false alarm"},
        {"finding_id": fid(run, "C1", "我怎么知道", 2), "call_id": "C1", "rule_id": "blame",
         "verdict": "误报", "note": "复核后改判"},  # later row wins
        {"finding_id": fid(run, "C2", "你听明白了吗"), "call_id": "C2", "rule_id": "blame",
         "verdict": "confirmed"},
        {"finding_id": fid(run, "C3", "滚"), "call_id": "C3", "rule_id": "abuse",
         "verdict": "false_alarm", "note": "ASR 误识别"},
        {"call_id": "C4", "rule_id": "blame", "utterance": "1", "time": "00:00:05.5",
         "verdict": "missed", "note": "你着急什么"},
        {"call_id": "C4", "rule_id": "abuse", "verdict": "漏报"},
        {"finding_id": "F0000000000000000", "call_id": "OTHER", "rule_id": "blame",
         "verdict": "confirmed"},
        {"call_id": "OTHER", "rule_id": "blame", "verdict": "missed"},
        {"finding_id": "", "call_id": "C2", "rule_id": "blame", "verdict": ""},
    ])


def test_verdicts_are_applied_to_scores_exactly(world: tuple[Path, Path, Path],
                                                tmp_path: Path) -> None:
    _, _, run = world
    path = tmp_path / "reviews.csv"
    crafted_reviews(run, path)
    rv = read_reviews(path)
    assert (rv.overridden, rv.pending, len(rv.missed)) == (1, 1, 3)
    reviewed = apply_reviews(run, rv)
    got = {c: (r.score, r.passed, r.reviewed_score, r.reviewed_passed, r.reviewed_vetoed,
               r.confirmed, r.false_alarms, r.missed, r.unreviewed)
           for c, r in reviewed.results.items()}
    assert got == {
        # 3 blame findings (capped at 10) -> all three false alarms: 100
        "C1": (90.0, True, 100.0, True, False, 0, 3, 0, 0),
        "C2": (95.0, True, 95.0, True, False, 1, 0, 0, 0),
        # the veto was a false alarm: the call passes
        "C3": (100.0, False, 100.0, True, False, 0, 1, 0, 0),
        # a missed blame deducts 5; a missed veto fails the call
        "C4": (100.0, True, 95.0, False, True, 0, 0, 2, 0),
    }
    assert dict(reviewed.applied) == {"confirmed": 1, "false_alarm": 4, "missed": 2}
    assert reviewed.stale == [] and reviewed.problems == []
    assert (reviewed.machine_mean, reviewed.reviewed_mean) == (96.25, 97.5)
    assert (reviewed.machine_pass_rate, reviewed.reviewed_pass_rate) == (0.75, 0.75)
    missed = [f for f in reviewed.findings if f["verdict"] == "missed"]
    assert [(f["call_id"], f["rule_id"], f["utterance"], f["start"]) for f in missed] == [
        ("C4", "blame", 1, 5.5), ("C4", "abuse", None, None)]


def test_audit_with_reviews_keeps_machine_and_reviewed_scores(world: tuple[Path, Path, Path],
                                                              tmp_path: Path) -> None:
    calls, rules, run = world
    path = tmp_path / "reviews.csv"
    crafted_reviews(run, path)
    out = tmp_path / "reviewed"
    for _ in range(2):  # verdicts survive a re-run: the ids are the same
        res = runner.invoke(app, ["audit", str(calls), "-r", str(rules), "-o", str(out), "-q",
                                  "--reviews", str(path)])
        assert res.exit_code == 0, res.output
        assert "确认 1 · 误报 4 · 漏报 2" in res.output
        assert "平均分 机器 96.25 → 复核 97.50" in res.output
        calls_csv = table(out / "calls.csv")
        assert {c: (r["score"], r["passed"], r["reviewed_score"], r["reviewed_passed"],
                    r["false_alarms"], r["missed"]) for c, r in calls_csv.items()} == {
            "C1": ("90.0", "True", "100.0", "True", "3", "0"),
            "C2": ("95.0", "True", "95.0", "True", "0", "0"),
            "C3": ("100.0", "False", "100.0", "True", "1", "0"),
            "C4": ("100.0", "True", "95.0", "False", "0", "2"),
        }
        assert list(calls_csv["C1"])[-2:] == ["blame", "abuse"]  # rule columns stay last
        agents = table(out / "agents.csv")
        assert {a: (r["mean_score"], r["pass_rate"], r["reviewed_mean_score"],
                    r["reviewed_pass_rate"], r["reviewed_vetoes"]) for a, r in agents.items()} == {
            "A1": ("95.0", "1.0", "97.5", "0.5", "1"),
            "A2": ("97.5", "0.5", "97.5", "1.0", "0"),
        }
    record = json.loads((out / "run.json").read_text("utf-8"))
    assert record["reviews"]["false_alarm"] == 4 and record["reviews"]["stale"] == 0
    res = runner.invoke(app, ["audit", str(calls), "-r", str(rules), "-o", str(out),
                              "--reviews", str(path)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    shown = r"\s*│\s*".join(["A1", "95.0", "97.5", "100%", "50%", "0", "3", "2"])
    assert re.search(shown, res.output), res.output


def test_verdicts_of_another_ruleset_version_are_reported_not_applied(
        world: tuple[Path, Path, Path], tmp_path: Path) -> None:
    calls, rules, run = world
    path = tmp_path / "reviews.csv"
    crafted_reviews(run, path)
    v2 = tmp_path / "rules-v2.yaml"
    v2.write_text(rules.read_text("utf-8").replace('version: "1"', 'version: "2"'), "utf-8")
    res = runner.invoke(app, ["audit", str(calls), "-r", str(v2), "-o", str(tmp_path / "r2"),
                              "-q", "--reviews", str(path)])
    assert res.exit_code == 0, res.output
    assert "5 条复核结论对应的违规在本次运行中不存在" in res.output
    assert table(tmp_path / "r2" / "calls.csv")["C1"]["reviewed_score"] == "90.0"


def test_missed_violation_of_an_unknown_rule_is_a_warning(world: tuple[Path, Path, Path],
                                                          tmp_path: Path) -> None:
    _, _, run = world
    path = tmp_path / "reviews.csv"
    write_csv(path, [{"finding_id": "", "call_id": "C4", "rule_id": "blam", "verdict": "missed"}])
    reviewed = apply_reviews(run, path)
    assert reviewed.problems == [
        f"{path}:2: rule_id: 'blam' 不是这次运行的规则集(t 1)中的规则;这条漏报未计入"]
    assert reviewed.results["C4"].reviewed_score == 100.0


# --------------------------------------------------------------------------- rule stats

def test_precision_per_rule_from_a_crafted_review_file(world: tuple[Path, Path, Path],
                                                       tmp_path: Path) -> None:
    calls, rules, run = world
    path = tmp_path / "reviews.csv"
    write_csv(path, [
        {"finding_id": fid(run, "C1", "我怎么知道", 1), "call_id": "C1", "rule_id": "blame",
         "verdict": "confirmed"},
        {"finding_id": fid(run, "C1", "你听明白了吗"), "call_id": "C1", "rule_id": "blame",
         "verdict": "false_alarm", "note": "客户在复述", "reviewer": "李"},
        {"finding_id": fid(run, "C2", "你听明白了吗"), "call_id": "C2", "rule_id": "blame",
         "verdict": "confirmed"},
        {"finding_id": fid(run, "C3", "滚"), "call_id": "C3", "rule_id": "abuse",
         "verdict": "false_alarm", "note": "ASR"},
        {"call_id": "C4", "rule_id": "blame", "verdict": "missed"},
    ])
    again = tmp_path / "again"
    audit([calls], rules, again)  # the same calls twice: counted once
    stats = rule_stats([run, again], path)
    assert [(s.rule_id, s.findings, s.reviewed, s.confirmed, s.false_alarms, s.precision,
             s.missed) for s in stats] == [
        ("abuse", 1, 1, 0, 1, 0.0, 0),
        ("blame", 4, 3, 2, 1, 0.6667, 1),
    ]
    ex = stats[1].examples
    assert [(e["call_id"], e["utterance"], e["matched"], e["note"], e["reviewer"]) for e in ex] \
        == [("C1", 2, "你听明白了吗", "客户在复述", "李")]
    res = runner.invoke(app, ["rules", "stats", str(run), "--reviews", str(path)],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    cells = r"\s*│\s*".join(["blame", "责问", "4", "3", "2", "1", "67%", "1"])
    assert re.search(cells, res.output)
    assert "误报示例 blame 责问: C1#2 00:00:10.5 “你听明白了吗” — 客户在复述 (李)" in res.output
    assert "误报示例 abuse 辱骂: C3#1 00:00:05.5 “滚” — ASR" in res.output


# --------------------------------------------------------------------------- sampling

def _fake(n_per_rule: dict[str, int]) -> list[dict[str, Any]]:
    out = []
    for rule, n in n_per_rule.items():
        for i in range(n):
            out.append({"finding_id": f"F{rule}{i:03d}", "rule_id": rule,
                        "agent_id": f"A{i % 3}", "call_id": f"C{i}"})
    return out


def test_samples_are_stratified_and_reproducible() -> None:
    pool = _fake({"blame": 40, "abuse": 2, "hangup": 9})
    a = sample_findings(pool, 5, by="rule", seed=7)
    b = sample_findings(list(reversed(pool)), 5, by="rule", seed=7)
    assert a == b  # same seed, any input order: same sample
    assert sorted((r, sum(f["rule_id"] == r for f in a)) for r in ("abuse", "blame", "hangup")) \
        == [("abuse", 2), ("blame", 5), ("hangup", 5)]
    assert sample_findings(pool, 5, by="rule", seed=8) != a
    by_agent = sample_findings(pool, 4, by="agent", seed=1)
    assert sorted(f["agent_id"] for f in by_agent) == ["A0"] * 4 + ["A1"] * 4 + ["A2"] * 4
    assert len(sample_findings(pool, 10, seed=1)) == 10
    # a finding added to the pool does not reshuffle the others
    grown = sample_findings([*pool, {"finding_id": "Fnew", "rule_id": "blame",
                                     "agent_id": "A9"}], 5, by="rule", seed=7)
    assert len({f["finding_id"] for f in grown} ^ {f["finding_id"] for f in a}) in (0, 2)


def test_review_sample_cli_is_reproducible(world: tuple[Path, Path, Path],
                                           tmp_path: Path) -> None:
    _, _, run = world
    outs = []
    for name in ("s1.csv", "s2.csv"):
        res = runner.invoke(app, ["review", str(run), "-o", str(tmp_path / name),
                                  "--sample", "1", "--by", "rule", "--seed", "3"])
        assert res.exit_code == 0, res.output
        # 5 findings, 2 sampled: 3 are still not in the sheet (#17: it said 5)
        assert res.output.strip().endswith(
            "抽样 2 条 (abuse 1, blame 1)待复核 · 保留已有 0 行 · 本次运行仍未入表的发现 3 条")
        outs.append((tmp_path / name).read_bytes())
    assert outs[0] == outs[1]
    # sampling again into the same file adds findings not yet in it
    done = update_reviews(run, tmp_path / "s1.csv", sample=1, by="rule", seed=3)
    assert (done.added, done.kept, done.by_stratum) == (1, 2, {"blame": 1})
    res = runner.invoke(app, ["review", str(run), "--by", "team", "--sample", "1"])
    assert res.exit_code == 2 and "--by:应为 rule、agent 之一" in res.output


def test_formula_text_stays_text_through_review_rounds(tmp_path: Path) -> None:
    calls, rules = make_world(tmp_path)
    (calls / "C9.txt").write_text("# call_id: C9\n# agent_id: A9\n"
                                  "[0.5-4.0] 坐席: =cmd|' /C calc'!A0 我怎么知道\n", "utf-8")
    run = tmp_path / "run"
    audit([calls], rules, run)
    path = tmp_path / "r.csv"
    update_reviews(run, path)
    text = path.read_text("utf-8-sig")
    assert ",'=cmd|' /C calc'!A0 我怎么知道," in text
    rows = read_reviews(path).rows
    rows[-1]["verdict"] = "false_alarm"
    write_csv(path, rows)
    update_reviews(run, path)  # appending rewrites the rows as they are: no double quoting
    assert path.read_text("utf-8-sig").count("'=cmd") == 1
    assert "''=cmd" not in path.read_text("utf-8-sig")
    assert apply_reviews(run, path).results["C9"].reviewed_score == 100.0
    xlsx = tmp_path / "r.xlsx"
    update_reviews(run, xlsx)
    ws = openpyxl.load_workbook(xlsx)["reviews"]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_unreadable_reviews_workbook_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    path.write_text("not a workbook", "utf-8")
    with pytest.raises(ReviewsError) as exc:
        read_reviews(path)
    assert exc.value.problems[0].startswith(f"{path}: 无法作为 Excel 工作簿读取")
    with pytest.raises(ReviewsError) as exc:
        read_reviews(tmp_path / "nope.csv")
    assert exc.value.problems == [f"{tmp_path / 'nope.csv'}: 复核表不存在"
                                  "(csqa review RUN_DIR 可生成)"]
