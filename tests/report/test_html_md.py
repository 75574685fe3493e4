"""The HTML page (as text: self-contained, escaped) and the Markdown report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from csqa.weekly import Report, ReportError, build_report, format_for, write_report
from csqa.weekly.html import render_html
from csqa.weekly.markdown import render_markdown


@pytest.fixture(scope="module")
def page(w47: Report) -> str:
    return render_html(w47)


def test_html_is_self_contained(page: str) -> None:
    assert "default-src 'none'" in page  # the browser may fetch nothing at all
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert page.count("<script>") == 1  # our own inline sorter, nothing else


def test_html_escapes_every_transcript_text(page: str) -> None:
    assert "<script>alert(1)</script>" not in page
    assert "我怎么知道&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>投诉</b>" not in page
    assert "=cmd|&#x27; /C calc&#x27;!A0" in page


def test_html_charts_and_tables(page: str) -> None:
    assert '<svg id="chart-daily"' in page and '<svg id="chart-groups"' in page
    daily = page[page.index('<svg id="chart-daily"'):]
    daily = daily[:daily.index("</svg>")]
    assert daily.count("<circle") == 6  # six days with calls; Saturday has none
    assert daily.count('class="bar"') == 6
    line = re.search(r'class="line" d="([^"]+)"', daily)
    assert line is not None and line.group(1).count("M") == 2  # Saturday breaks the line
    groups = page[page.index('<svg id="chart-groups"'):]
    groups = groups[:groups.index("</svg>")]
    assert groups.count('class="dot"') == 4
    assert ">张三 (A1)</text>" in groups
    for key in ("t_agents", "t_teams", "t_rules", "t_daily", "t_keywords", "t_runs"):
        assert f'<table class="sortable" id="tbl-{key}">' in page
    assert '<td class="n good" data-v="95.0">95</td>' in page
    assert '<td class="n bad" data-v="55.0">55</td>' in page


def test_html_worst_calls(page: str) -> None:
    assert page.count('<div class="call" data-f') == 5
    assert "w47-b1-1 · 王五 (B1) · 二组 · 2026-11-22 23:59 · 得分" in page
    assert "w47-x-1 · =cmd|&#x27; /C calc&#x27;!A0 (X1) · (未分班组)" in page


def test_markdown_tables(w47: Report) -> None:
    md = render_markdown(w47)
    assert md.startswith("# 客服质检周报 2026-W47\n")
    assert "| 质检通话数 | 7 | 3 | +4 |" in md
    assert "| 平均分 | 83.57 | 88.33 | -4.76 |" in md
    assert "| 合格率 | 71.4% | 66.7% | +4.8pp |" in md
    assert ("| 1 | A1 | 张三 | 一组 | 3 | 95 | 100.0% | 0 | 1 | 责问客户 ×1 | 2 | 85 | +10 | "
            "50.0% | +50.0pp |") in md
    assert "| blame | 责问客户 | 5 | 4 | 71.4 | 66.7 | +4.7 | █▅▁▅▁▁▅ |" in md
    assert "| 2026-11-21 | 周六 | 0 | — | — | 0 | 0 |" in md
    # a | in a name cannot break the table, and HTML in a transcript is not HTML in the wiki
    assert "=cmd\\|' /C calc'!A0" in md
    assert "我怎么知道&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "<script>" not in md
    assert md.count("\n## ") == 9


def test_markdown_english(runs: dict[str, Path]) -> None:
    md = render_markdown(build_report([runs["run1"], runs["run2"]], week="2026-W47",
                                      lang="en"))
    assert "# Call QA weekly report 2026-W47" in md
    assert "| Calls audited | 7 | 3 | +4 |" in md


def test_format_from_suffix(tmp_path: Path, w47: Report) -> None:
    assert format_for(Path("a.XLSX")) == "xlsx" and format_for(Path("a.htm")) == "html"
    assert format_for(Path("a.txt"), "md") == "md"
    with pytest.raises(ReportError, match=r"a.pdf: unknown report format '.pdf'"):
        format_for(Path("a.pdf"))
    out = write_report(w47, tmp_path / "w.md")
    assert out.read_text(encoding="utf-8").startswith("# 客服质检周报")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.md"]  # no temp file left


def test_empty_period_renders_in_every_format(runs: dict[str, Path], tmp_path: Path) -> None:
    import openpyxl

    rep = build_report([runs["run1"]], week="2026-W40")
    page = write_report(rep, tmp_path / "e.html").read_text(encoding="utf-8")
    # no calls: no empty charts and no stray pass-mark "80" (the symptom), a plain note
    assert '<svg id="chart-daily"' not in page and '<svg id="chart-groups"' not in page
    assert 'class="pass-mark"' not in page and ">80<" not in page
    assert page.count("本期无数据") >= 3
    assert "本期没有需要特别关注的坐席、班组或规则" in page
    md = write_report(rep, tmp_path / "e.md").read_text(encoding="utf-8")
    assert "## 坐席\n\n*本期无数据*" in md
    book = openpyxl.load_workbook(write_report(rep, tmp_path / "e.xlsx"))
    assert book["坐席"].max_row == 1 and book["坐席"]["A1"].value == "排名"
