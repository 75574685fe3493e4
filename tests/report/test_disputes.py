"""The coaching page shows the agent's reviewed disputes: the verdicts ``csqa audit --reviews``
applied to the run (the reviews file run.json names), read from the run folder or from the run
history database, which stores them on append."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from csqa.history import HistorySource, import_runs
from csqa.review import apply_reviews, update_reviews, write_reviewed
from csqa.weekly import build_report
from csqa.weekly.folder import write_folder
from report.fixtures import RUN2, _make_run


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("disputes")
    run = _make_run(base, "nightly-1122", RUN2, "2026-11-22T20:00:00+00:00")
    sheet = update_reviews(run).path  # RUN_DIR/reviews.csv, one row per finding
    with sheet.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if (row["call_id"], row["rule_id"]) == ("w47-b1-1", "blame"):
            row.update(verdict="误报", note="客户先说的,坐席在复述", reviewer="赵六")
        elif (row["call_id"], row["rule_id"]) == ("w47-b1-1", "abuse"):
            row.update(verdict="确认", reviewer="赵六")
    rows.append({**{k: "" for k in rows[0]}, "call_id": "w47-a2-2", "rule_id": "blame",
                 "time": "00:09", "verdict": "漏报", "note": "推诿没有识别", "reviewer": "钱七"})
    with sheet.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    write_reviewed(apply_reviews(run, sheet))  # what csqa audit --reviews does
    return run


def _pages(site: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in (site / "agents").iterdir()}


def test_the_coaching_page_lists_the_agents_disputes(reviewed: Path, tmp_path: Path) -> None:
    rep = build_report([reviewed], week="2026-W47", keywords=0)
    pages = _pages(write_folder(rep, rep.source, tmp_path / "site").parent)
    b1 = pages["B1.html"]
    assert re.search(r'<p id="reviewed">([^<]*)</p>', b1).group(1) == \
        "本期复核:确认 1 条 · 误报 1 条 · 漏报 0 条"  # type: ignore[union-attr]
    assert re.findall(r'<table id="disputes">.*?<tbody>(.*?)</tbody>', b1) == [
        '<tr><td><a href="../calls/w47-b1-1.html">w47-b1-1</a></td><td>00:09</td><td>责问客户</td>'
        '<td>误报</td><td class="ev">我怎么知道&lt;script&gt;alert(1)&lt;/script&gt;</td>'
        "<td>客户先说的,坐席在复述</td><td>赵六</td></tr>"]
    assert re.findall(r'<table id="disputes">.*?<tbody>(.*?)</tbody>', pages["A2.html"]) == [
        '<tr><td><a href="../calls/w47-a2-2.html">w47-a2-2</a></td><td>00:09</td><td>责问客户</td>'
        '<td>漏报(复核补充)</td><td class="ev"></td><td>推诿没有识别</td><td>钱七</td></tr>']
    assert 'id="disputes"' not in pages["X1.html"] and "本期没有复核结论" in pages["X1.html"]


def test_the_database_keeps_the_disputes(reviewed: Path, tmp_path: Path) -> None:
    rep = build_report([reviewed], week="2026-W47", keywords=0)
    from_folder = _pages(write_folder(rep, rep.source, tmp_path / "a").parent)
    db = tmp_path / "qa.duckdb"
    import_runs(db, [reviewed])
    (reviewed / "reviews.csv").rename(tmp_path / "moved.csv")  # the database has its own copy
    try:
        source = HistorySource(db)
        try:
            rep = build_report(source, week="2026-W47", keywords=0)
            from_db = _pages(write_folder(rep, source, tmp_path / "b").parent)
        finally:
            source.close()
    finally:
        (tmp_path / "moved.csv").rename(reviewed / "reviews.csv")
    assert from_db == from_folder
