"""Like with like across ruleset versions: calls of an older ruleset are scored again under the
newest one from their stored findings (weekly v1: blame −15, abuse −30 veto, greeting −5; pass
mark 80)."""

from __future__ import annotations

from pathlib import Path

import pytest

from csqa.weekly import Report, build_report
from report.fixtures import RULESET, _make_run

# v0: blame −10 and no greeting rule (v1 added it); "other": no rule in common with v1
V0 = RULESET.format(version="0", blame=10).split("  - id: greeting")[0]
OTHER = V0.replace("id: blame", "id: blame_x").replace("id: abuse", "id: abuse_x").replace(
    'version: "0"', 'version: "9"').replace("name: weekly", "name: other")


def _run(base: Path, name: str, rules: str, calls: list[tuple[str, ...]], audited: str) -> Path:
    text = base / f"{name}.yaml"
    text.write_text(rules, encoding="utf-8")
    return _make_run(base, name, [(c[0], c[1], c[2], c[3], "宽带") for c in calls], audited,
                     rules_text=rules)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    base = tmp_path_factory.mktemp("rescore")
    old = _run(base, "v0", V0, [("o-b", "A1", "2026-11-17T10:00:00+08:00", "B"),
                                ("o-vb", "A2", "2026-11-17T11:00:00+08:00", "VB"),
                                ("o-n", "A1", "2026-11-17T12:00:00+08:00", "N")],
               "2026-11-17T20:00:00+00:00")
    other = _run(base, "other", OTHER, [("x-b", "A1", "2026-11-18T10:00:00+08:00", "B")],
                 "2026-11-18T20:00:00+00:00")
    new = _run(base, "v1", RULESET.format(version="1", blame=15),
               [("n-b", "A1", "2026-11-19T10:00:00+08:00", "B"),
                ("n-n", "A2", "2026-11-19T11:00:00+08:00", "N")], "2026-11-19T20:00:00+00:00")
    return build_report([old, other, new], week="2026-W47", keywords=0)


def test_older_calls_are_scored_again_under_the_newest_ruleset(report: Report) -> None:
    got = {c["call_id"]: (c["recorded_score"], c["score"], bool(c["passed"]), bool(c["vetoed"]),
                          int(c["n_findings"]))
           for c in report.calls.to_dict("records")}
    # v1's greeting rule was never checked on v0's calls: not evaluable, W/W_e = 50/45
    assert got["o-b"] == (90.0, round(100 - 15 * 50 / 45, 2), True, False, 1)
    assert got["o-vb"] == (60.0, round(100 - 45 * 50 / 45, 2), False, True, 2)
    # v0 had no greeting rule, so the missing greeting of o-n costs nothing, then and now
    assert got["o-n"] == (100.0, 100.0, True, False, 0)
    # the other ruleset shares no rule with v1: kept as it was (a separate series)
    assert got["x-b"] == (90.0, 90.0, True, False, 1)
    # v1's own calls are as audited
    assert got["n-b"] == (85.0, 85.0, True, False, 1)
    assert got["n-n"] == (95.0, 95.0, True, False, 1)


def test_the_figures_and_the_sentence_follow(report: Report) -> None:
    head = report.table("t_headline").set_index("metric")
    scores = [83.33, 50.0, 100.0, 90.0, 85.0, 95.0]
    assert head.at["m_mean_score", "current"] == round(sum(scores) / 6, 2)
    assert report.notes[0] == (
        "规则集在本报告范围内有变化:weekly 0(2026-11-17 起) → other 9(2026-11-18 起) → weekly 1"
        "(2026-11-19 起);weekly 0 的通话已按 weekly 1 重新计分(只计两版都有的规则,扣分与合格线按 "
        "weekly 1,新增规则按不可评估处理);other 9 与 weekly 1 没有共同规则,无法重新计分,保留原分数、"
        "单列为另一序列;趋势图中的虚线、趋势线中的“|”与趋势表的“规则集”一列标出变化处。")
    assert report.table("t_daily")["ruleset"].tolist() == [
        "", "weekly 0", "other 9", "weekly 1", "", "", ""]
    assert report.ruleset_breaks == [2, 3]


def test_a_ruleset_not_scored_again_is_a_series_of_its_own(report: Report) -> None:
    from csqa.weekly.html import daily_chart

    daily = report.table("t_daily")
    assert [None if v != v else v for v in daily["separate_mean"]] == [
        None, None, 90.0, None, None, None, None]  # other 9's one call, on Wednesday
    chart = daily_chart(report)
    assert chart.count('<circle class="separate"') == 1
    assert "无法重新计分的规则集平均分" in chart


def test_every_format_writes_the_separate_series(report: Report, tmp_path: Path) -> None:
    import openpyxl

    from csqa.weekly import write_report

    for suffix in ("xlsx", "html", "md"):
        write_report(report, tmp_path / f"r.{suffix}", None)
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["每日趋势"]
    header = [c.value for c in next(sheet.iter_rows(min_row=1, max_row=5))]
    assert "无法重新计分的规则集平均分" in header or any(
        "无法重新计分的规则集平均分" in [c.value for c in row] for row in sheet.iter_rows())
    assert "无法重新计分的规则集平均分" in (tmp_path / "r.md").read_text(encoding="utf-8")


def test_the_agent_page_marks_the_change_on_its_trend(report: Report, tmp_path: Path) -> None:
    from csqa.weekly.folder import write_folder

    folder = write_folder(report, report.source, tmp_path / "site").parent
    page = (folder / "agents" / "A1.html").read_text(encoding="utf-8")
    assert page.count('class="ruleset-change"') == 2


def test_a_call_page_shows_the_call_as_audited_and_as_scored_again(report: Report,
                                                                   tmp_path: Path) -> None:
    from csqa.weekly.folder import write_folder

    folder = write_folder(report, report.source, tmp_path / "site").parent
    page = (folder / "calls" / "o-b.html").read_text(encoding="utf-8")
    assert ('得分 <span class="good">90</span> · 按本报告最新规则集重新计分 '
            '<span class="warn">83.33</span> 合格</div>') in page
    # the explain view is the call under its own ruleset (v0: blame −10)
    assert "基础分 100 − 扣分 10 = 得分 90 · 合格线 80 · 结论:合格" in page
