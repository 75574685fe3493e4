"""Reviewer calibration in ``csqa rules stats``: when two or more reviewers rule on the same
findings, their agreement per rule and overall (percent agreement, Cohen's kappa), with
样本不足 below :data:`csqa.review.MIN_PAIRED` and nothing shown with one reviewer.

The kappa values are worked out by hand in each test's docstring."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from review_fixtures import RULESET_V1
from typer.testing import CliRunner

from csqa.api import audit
from csqa.cli import app
from csqa.review import (
    CONFIRMED,
    FALSE_ALARM,
    MIN_PAIRED,
    Agreement,
    agreement_rows,
    combine_reviews,
    overall_agreement,
    read_reviews,
    rule_stats,
)

runner = CliRunner()
C, F = CONFIRMED, FALSE_ALARM


def agreement(**cells: int) -> Agreement:
    """An agreement from cell counts named cc, cf, fc, ff (first's verdict, second's)."""
    words = {"c": C, "f": F}
    return Agreement("甲", "乙", Counter({(words[k[0]], words[k[1]]): n for k, n in cells.items()}))


# --------------------------------------------------------------------------- the arithmetic

def test_kappa_worked_by_hand() -> None:
    """20 findings: both confirm 9, 甲 confirms and 乙 rejects 2, the reverse 3, both reject 6.
    p_o = 15/20 = 0.75; 甲 confirms 11, 乙 12: p_e = (11·12 + 9·8)/400 = 204/400 = 0.51;
    kappa = (0.75 − 0.51)/(1 − 0.51) = 0.24/0.49 = 0.4898 (moderate)."""
    a = agreement(cc=9, cf=2, fc=3, ff=6)
    assert (a.paired, a.agreed, a.agreement, a.kappa, a.level, a.sufficient) == \
        (20, 15, 0.75, 0.4898, "中等", True)


def test_perfect_agreement_is_kappa_one() -> None:
    a = agreement(cc=6, ff=4)
    assert (a.paired, a.agreement, a.kappa, a.level) == (10, 1.0, 1.0, "几乎完全一致")


def test_agreement_at_chance_level_is_kappa_zero() -> None:
    """Each confirms half, independently: p_o = 0.5 = p_e, kappa 0 although half agree."""
    a = agreement(cc=5, cf=5, fc=5, ff=5)
    assert (a.agreement, a.kappa, a.level) == (0.5, 0.0, "轻微")


def test_worse_than_chance_is_negative() -> None:
    """p_o = 2/10; both confirm 5: p_e = 0.5; kappa = (0.2 − 0.5)/0.5 = −0.6."""
    a = agreement(cc=1, cf=4, fc=4, ff=1)
    assert (a.agreement, a.kappa, a.level) == (0.2, -0.6, "低于随机")


def test_one_verdict_throughout_has_no_kappa() -> None:
    """Both confirmed all 12: p_e = 1, kappa is 0/0 (undefined), not 1 and not 0."""
    a = agreement(cc=12)
    assert (a.agreement, a.kappa, a.level) == (1.0, None, "")


def test_rows_say_what_the_figures_cannot() -> None:
    """As shown: 样本不足 under MIN_PAIRED shared findings, — for an undefined kappa."""
    from csqa.review import RuleStats

    st = RuleStats("r", "规则", agreements=[agreement(cc=12), agreement(cc=5, ff=4)])
    assert agreement_rows([st]) == [
        ["r", "规则", "甲 / 乙", "12", "12", "100%", "—", "无法计算(结论全相同)"],
        ["r", "规则", "甲 / 乙", "9", "9", "样本不足", "样本不足", ""],
        ["全部", "", "甲 / 乙", "12", "12", "100%", "—", "无法计算(结论全相同)"],
        ["全部", "", "甲 / 乙", "9", "9", "样本不足", "样本不足", ""],
    ]


def test_no_shared_findings() -> None:
    a = agreement()
    assert (a.paired, a.agreement, a.kappa, a.sufficient) == (0, None, None, False)


# --------------------------------------------------------------------------- from review sheets

N_BLAME = 20


@pytest.fixture
def run(tmp_path: Path) -> Path:
    """20 calls with one blame finding each (B00..B19) and 3 with an abuse finding (X0..X2)."""
    calls = tmp_path / "calls"
    calls.mkdir()
    lines = {f"B{i:02d}": "坐席: 你听明白了吗" for i in range(N_BLAME)}
    lines.update({f"X{i}": "坐席: 滚" for i in range(3)})
    for cid, line in lines.items():
        (calls / f"{cid}.txt").write_text(
            f"# call_id: {cid}\n# agent_id: A1\n[0.5-4.0] 客户: 喂。\n[5.5-9.0] {line}\n",
            encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULESET_V1, encoding="utf-8")
    out = tmp_path / "run"
    audit([calls], rules, out)
    return out


def finding_ids(run: Path) -> dict[str, str]:
    """call id -> its one finding's id."""
    import json

    rows = [json.loads(x) for x in (run / "findings.jsonl").read_text("utf-8").splitlines()]
    assert len(rows) == N_BLAME + 3
    return {f["call_id"]: f["finding_id"] for f in rows}


def sheet(path: Path, run: Path, verdicts: dict[str, str], reviewer: str | None) -> Path:
    """A reviews file with ``verdicts`` by call id, signed by ``reviewer`` (None: an old sheet
    with no reviewer column at all)."""
    fids = finding_ids(run)
    cols = ["finding_id", "call_id", "rule_id", "verdict", "note"]
    if reviewer is not None:
        cols.append("reviewer")
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for cid, verdict in verdicts.items():
            rule = "abuse" if cid.startswith("X") else "blame"
            w.writerow([fids[cid], cid, rule, verdict, ""] + ([reviewer] if reviewer is not None else []))
    return path


def hand_pattern() -> tuple[dict[str, str], dict[str, str]]:
    """The hand-worked table on the 20 blame findings: cc 9, cf 2, fc 3, ff 6."""
    cells = [(C, C)] * 9 + [(C, F)] * 2 + [(F, C)] * 3 + [(F, F)] * 6
    first = {f"B{i:02d}": a for i, (a, _) in enumerate(cells)}
    second = {f"B{i:02d}": b for i, (_, b) in enumerate(cells)}
    return first, second


def rows(stats: Any) -> list[tuple[Any, ...]]:
    return [(st.rule_id, a.first, a.second, a.paired, a.agreed, a.agreement, a.kappa)
            for st in stats for a in st.agreements]


def test_two_reviewers_in_two_sheets(run: Path, tmp_path: Path) -> None:
    first, second = hand_pattern()
    # abuse: both rule on all 3, and disagree on one: too few to show figures
    first.update({"X0": C, "X1": C, "X2": F})
    second.update({"X0": C, "X1": F, "X2": F})
    a = sheet(tmp_path / "wang.csv", run, first, "王")
    b = sheet(tmp_path / "li.csv", run, second, "李")
    stats = rule_stats([run], [a, b])
    # names sorted: 李 (U+674E) before 王 (U+738B), so 李 is the first of the pair
    # rules in precision order, worst first, as in the precision table
    assert rows(stats) == [
        ("abuse", "李", "王", 3, 2, 0.6667, 0.4),
        ("blame", "李", "王", 20, 15, 0.75, 0.4898),
    ]
    total = overall_agreement(stats)
    # pooled 23: agreed 17; 李 confirms 12+1, 王 11+2: p_e = (13·13 + 10·10)/529 = 269/529
    # kappa = (23·17 − 269)/(529 − 269) = 122/260 = 0.4692
    assert [(t.first, t.second, t.paired, t.agreed, t.kappa) for t in total] == \
        [("李", "王", 23, 17, 0.4692)]
    assert agreement_rows(stats) == [
        ["abuse", "辱骂", "李 / 王", "3", "2", "样本不足", "样本不足", ""],
        ["blame", "责问", "李 / 王", "20", "15", "75%", "0.49", "中等"],
        ["全部", "", "李 / 王", "23", "17", "74%", "0.47", "中等"],
    ]
    # precision reads the sheets as one, in the order given: the later sheet's verdict wins
    assert [(s.rule_id, s.confirmed, s.false_alarms) for s in stats] == \
        [("abuse", 1, 2), ("blame", 12, 8)]

    res = runner.invoke(app, ["rules", "stats", str(run), "--reviews", str(a), "--reviews",
                              str(b)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert f"复核一致性 (reviewer agreement) · 共同复核少于 {MIN_PAIRED} 条为样本不足" in res.output
    for cells in (["blame", "责问", "李 / 王", "20", "15", "75%", "0.49", "中等"],
                  ["abuse", "辱骂", "李 / 王", "3", "2", "样本不足", "样本不足"],
                  ["全部", "", "李 / 王", "23", "17", "74%", "0.47", "中等"]):
        assert re.search(r"\s*│\s*".join(map(re.escape, cells)), res.output), cells
    assert "只有一位复核人" not in res.output


def test_three_reviewers_are_compared_pair_by_pair(run: Path, tmp_path: Path) -> None:
    """Two reviewers in one sheet (each one's own last row counts), a third in another."""
    first, second = hand_pattern()
    both = tmp_path / "team.csv"
    sheet(both, run, first, "王")
    with both.open("a", encoding="utf-8-sig", newline="") as fh:  # 张 agrees with 王 throughout
        w = csv.writer(fh)
        fids = finding_ids(run)
        for cid, verdict in first.items():
            w.writerow([fids[cid], cid, "blame", verdict, "", "张"])
    other = sheet(tmp_path / "li.csv", run, second, "李")
    team = read_reviews(both)
    assert (team.reviewers, team.overridden, len(team.verdicts)) == (["张", "王"], 20, 20)
    stats = rule_stats([run], [both, other])
    # 张 (U+5F20) < 李 < 王
    assert [r for r in rows(stats) if r[3]] == [
        ("blame", "张", "李", 20, 15, 0.75, 0.4898),
        ("blame", "张", "王", 20, 20, 1.0, 1.0),
        ("blame", "李", "王", 20, 15, 0.75, 0.4898),
    ]
    assert combine_reviews([team, read_reviews(other)]).reviewers == ["张", "李", "王"]


def test_one_reviewer_shows_no_agreement(run: Path, tmp_path: Path) -> None:
    first, _ = hand_pattern()
    one = sheet(tmp_path / "wang.csv", run, first, "王")
    stats = rule_stats([run], one)
    assert [st.agreements for st in stats] == [[], []]
    assert overall_agreement(stats) == []
    assert agreement_rows(stats) == []
    res = runner.invoke(app, ["rules", "stats", str(run), "--reviews", str(one)],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "复核一致性:只有一位复核人(王),需要两位以上复核人对同一批发现给出结论才能比较" \
        in res.output
    assert "kappa" not in res.output and "一致率" not in res.output
    res = runner.invoke(app, ["rules", "stats", str(run), "--reviews", str(one), "-q"],
                        env={"COLUMNS": "200"})
    assert "复核一致性" not in res.output


def test_old_sheets_without_a_reviewer_column_still_read(run: Path, tmp_path: Path) -> None:
    """A sheet made before the reviewer column: precision as before; agreement needs names,
    and a second sheet's unnamed verdicts are left out of it, said once."""
    first, second = hand_pattern()
    old = sheet(tmp_path / "old.csv", run, first, None)
    rv = read_reviews(old)
    assert (rv.reviewers, rv.unnamed, len(rv.verdicts)) == ([], 20, 20)
    stats = rule_stats([run], old)
    assert [(s.rule_id, s.confirmed, s.false_alarms, s.agreements) for s in stats] == \
        [("blame", 11, 9, []), ("abuse", 0, 0, [])]
    res = runner.invoke(app, ["rules", "stats", str(run), "--reviews", str(old)],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "复核一致性:复核表没有填写复核人(reviewer 列)" in res.output
    wang = sheet(tmp_path / "wang.csv", run, first, "王")
    li = sheet(tmp_path / "li.csv", run, second, "李")
    res = runner.invoke(app, ["rules", "stats", str(run), "--reviews", str(old), "--reviews",
                              str(wang), "--reviews", str(li)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "另有 20 条结论没有填写复核人,未计入复核一致性" in res.output
    assert re.search(r"\s*│\s*".join(["blame", "责问", "李 / 王", "20", "15", "75%", "0.49"]),
                     res.output)
