"""The xlsx report re-read with openpyxl: cells, types, frozen headers, filters, colours."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from support.runs import reseal

from csqa.weekly import Report, write_report


@pytest.fixture(scope="module")
def book(w47: Report, tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    path = write_report(w47, tmp_path_factory.mktemp("xlsx") / "w47.xlsx")
    return openpyxl.load_workbook(path)


def _rows(ws: object) -> list[list[object]]:
    return [list(r) for r in ws.iter_rows(values_only=True)]  # type: ignore[attr-defined]


def test_one_sheet_per_table(book: openpyxl.Workbook) -> None:
    assert book.sheetnames == ["概览", "需要关注", "坐席", "班组", "规则", "每日趋势", "最差通话", "客户关键词",
                               "审计批次"]


def test_every_sheet_has_frozen_header_filter_and_widths(book: openpyxl.Workbook) -> None:
    for ws in book:
        # the first sheet: title and period on top; the others keep their first column in view
        first = ws.title == "概览"
        assert ws.freeze_panes == ("A5" if first else "B2"), ws.title
        assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith(
            "A4:" if first else "A1:"), ws.title
        assert ws.column_dimensions["A"].width > 6, ws.title
    assert book["坐席"].auto_filter.ref == "A1:P5"
    assert book["坐席"].column_dimensions["J"].width >= 24  # 主要问题, CJK counted double


def test_headline_cells(book: openpyxl.Workbook) -> None:
    ws = book["概览"]
    assert ws["A1"].value == "客服质检周报 2026-W47" and ws["A1"].font.b
    assert str(ws["A2"].value).startswith("统计周期 2026-W47 (2026-11-16 – 2026-11-22)")
    assert _rows(ws)[3:9] == [
        ["指标", "本期", "上期", "变化"],
        ["质检通话数", 7, 3, 4],
        ["平均分", 83.57, 88.33, -4.76],
        ["合格率", 0.7143, 0.6667, 0.0476],
        ["一票否决", 1, 0, 1],
        ["违规条数", 8, 3, 5],
    ]
    assert ws["B7"].number_format == "0.0%"
    assert ws["D7"].number_format == "+0.0%;-0.0%;0.0%"
    assert ws["B6"].data_type == "n" and ws["B6"].number_format == "0.00"


def test_agent_sheet_numbers_and_formula_text(book: openpyxl.Workbook) -> None:
    ws = book["坐席"]
    rows = _rows(ws)
    assert rows[0][:7] == ["排名", "坐席工号", "姓名", "班组", "通话数", "平均分", "合格率"]
    assert rows[1] == [1, "A1", "张三", "一组", 3, 95, 1, 0, 1, "责问客户 ×1", 2, 85, 10, 0.5, 0.5,
                       "█▁█    "]
    assert rows[2][10:15] == [0, None, None, None, None]  # no previous week: empty, not 0
    # a name that looks like a formula is a text cell holding exactly that text
    name = ws["C4"]
    assert name.value == "=cmd|' /C calc'!A0"
    assert name.data_type == "s"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert ws["F2"].data_type == "n" and ws["G2"].number_format == "0.0%"


def test_conditional_formats_on_scores_and_changes(book: openpyxl.Workbook) -> None:
    ws = book["坐席"]
    rules = {str(cf.sqref): [(r.operator, r.formula) for r in cf.rules]
             for cf in ws.conditional_formatting}
    # red below the pass mark, yellow below 90, green from 90 (the first rule that matches)
    assert rules["F2:F5"] == [("lessThan", ["80"]), ("lessThan", ["90"]),
                              ("greaterThanOrEqual", ["90"])]
    assert all(r.stopIfTrue for cf in ws.conditional_formatting for r in cf.rules
               if str(cf.sqref) == "F2:F5")
    fills = [r.dxf.fill.bgColor.rgb for cf in ws.conditional_formatting for r in cf.rules
             if str(cf.sqref) == "F2:F5"]
    assert fills == ["FFFFC7CE", "FFFFEB9C", "FFC6EFCE"]
    assert rules["M2:M5"] == [("lessThan", ["0"]), ("greaterThan", ["0"])]
    rules_ws = book["规则"]
    per100 = {str(cf.sqref): [r.operator for r in cf.rules]
              for cf in rules_ws.conditional_formatting}
    assert per100["G2:G4"] == ["greaterThan", "lessThan"]  # more hits is worse: red first
    head = {str(cf.sqref) for cf in book["概览"].conditional_formatting}
    assert head == {"B6", "C6"}  # only the mean-score row of the headline is a score


def test_dates_are_dates(book: openpyxl.Workbook) -> None:
    ws = book["每日趋势"]
    assert ws["A2"].value == datetime(2026, 11, 16)
    assert ws["A2"].is_date and ws["A2"].number_format == "yyyy-mm-dd"
    assert _rows(ws)[6] == [datetime(2026, 11, 21), "周六", 0, None, None, 0, 0]
    worst = book["最差通话"]
    assert worst["E2"].value == datetime(2026, 11, 22, 23, 59)
    assert worst["E2"].number_format == "yyyy-mm-dd hh:mm"
    assert worst["G2"].value is True  # vetoed: a boolean cell


def test_worst_calls_sheet_has_the_evidence(book: openpyxl.Workbook) -> None:
    rows = _rows(book["最差通话"])
    assert rows[0] == ["通话编号", "坐席工号", "姓名", "班组", "开始时间", "得分", "否决", "违规数",
                       "规则名称", "时间点", "说话人", "原话", "问题"]
    assert rows[1][8:] == ["责问客户", "00:09", "坐席", "我怎么知道<script>alert(1)</script>",
                           "责问客户:“我怎么知道”"]
    assert len(rows) == 9


def test_rules_keywords_and_runs_sheets(book: openpyxl.Workbook) -> None:
    assert _rows(book["规则"])[1] == ["blame", "责问客户", 5, 4, 71.4, 66.7, 4.7, "█▅▁▅▁▁▅"]
    assert _rows(book["客户关键词"])[1] == ["宽带", 2.7458, 5]
    runs = _rows(book["审计批次"])
    assert [Path(str(r[0])).name for r in runs[1:]] == ["nightly-1118", "old-rules",
                                                         "nightly-1122"]
    assert runs[2][8] == "规则集不同,未计入"
    assert runs[1][1] == datetime(2026, 11, 19, 4, 0)


def test_text_starting_with_formula_characters_stays_text(
        runs: dict[str, Path], tmp_path: Path) -> None:
    """Evidence lines starting with = + - @ are strings in the workbook, never formulas."""
    import json
    import shutil

    from csqa.weekly import build_report

    run = tmp_path / "run"
    shutil.copytree(runs["run2"], run)
    lines = (run / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    tricky = ["=1+1", "+86 我怎么知道", "-2", "@SUM(A1)"]
    out = []
    for i, line in enumerate(lines):
        obj = json.loads(line)
        obj["evidence"] = tricky[i % len(tricky)]
        out.append(json.dumps(obj, ensure_ascii=False))
    (run / "findings.jsonl").write_text("\n".join(out) + "\n", encoding="utf-8")
    reseal(run)
    path = write_report(build_report([run], week="2026-W47"), tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(path)["最差通话"]
    cells = [c for c in ws["L"][1:]]
    assert {c.value for c in cells} <= set(tricky) and len(cells) >= 4
    assert all(c.data_type == "s" for c in cells)


def test_native_charts_beside_the_trend_and_the_teams(w47: Report, tmp_path: Path) -> None:
    import zipfile

    path = write_report(w47, tmp_path / "c.xlsx")
    with zipfile.ZipFile(path) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        xml = [z.read(n).decode("utf-8") for n in charts]
    assert len(charts) == 2
    trend = next(x for x in xml if "<c:lineChart>" in x)
    assert "<c:barChart>" in trend  # pass-rate columns with the mean-score line
    assert "每日趋势!$D$2:$D$8" in trend and "每日趋势!$E$2:$E$8" in trend  # mean, pass rate
    teams = next(x for x in xml if x is not trend)
    assert '<c:barDir val="bar"/>' in teams and "班组!$E$2:$E$4" in teams
