"""Run history in DuckDB: 90 small nights appended, a night re-run, an append killed midway, and
reports from the database that agree with reports from the folders."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from support.nights import copy_night, make_nights
from typer.testing import CliRunner

from csqa.api import audit
from csqa.cli import app
from csqa.history import HistoryError, HistorySource, append_run, import_runs
from csqa.synth import write_corpus
from csqa.weekly import build_report

FIRST = date(2026, 9, 1)  # a Tuesday; 90 nights run to 2026-11-29
TABLES = ("runs", "rules", "calls", "rule_counts", "findings", "customer_text", "conversations",
          "scorecards")


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real audit of 12 synthetic calls (some with violations, one vetoed or failed)."""
    base = tmp_path_factory.mktemp("night")
    corpus = write_corpus(12, base / "synth", seed=3)
    out = base / "run"
    audit([corpus], out=out)
    return out


@pytest.fixture(scope="module")
def nights(night: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_nights(night, tmp_path_factory.mktemp("nights") / "n", 90, FIRST)


@pytest.fixture(scope="module")
def db(nights: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "qa.duckdb"
    # given newest first: the order must not matter
    import_runs(path, list(reversed(nights)))
    return path


def _count(db: Path, table: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def _lines(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def _folder_counts(folders: list[Path]) -> dict[str, int]:
    return {"runs": len(folders),
            "calls": sum(_lines(f / "calls.csv") - 1 for f in folders),
            "findings": sum(_lines(f / "findings.jsonl") for f in folders),
            "customer_text": sum(_lines(f / "customer_text.jsonl") for f in folders),
            "conversations": sum(_lines(f / "conversation.jsonl") for f in folders),
            "scorecards": sum(_lines(f / "agents.csv") - 1 for f in folders)}


def _dump(db: Path, when: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table; ``when=False`` leaves out when and in which order runs were
    appended."""
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"SELECT * {'' if when or t != 'runs' else 'EXCLUDE (appended_at, append_seq)'} "
                               f"FROM {t} ORDER BY ALL").fetchall() for t in TABLES}


def test_ninety_nights_match_the_folders(db: Path, nights: list[Path]) -> None:
    want = _folder_counts(nights)
    assert want["calls"] == 90 * 12
    for table, n in want.items():
        assert _count(db, table) == n, table
    # per-rule counts are calls.csv's columns, summed
    total = sum(pd.read_csv(f / "calls.csv").iloc[:, 20:].to_numpy().sum() for f in nights)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT sum(n) FROM rule_counts").fetchall()[0][0] == total
        # a night's calls are that night's: the SQL users write gives the folders' numbers
        got = con.execute("""SELECT count(*), round(avg(score), 6) FROM calls
                             WHERE started_local::DATE = DATE '2026-10-01'""").fetchall()[0]
    night = pd.read_csv(nights[30] / "calls.csv")
    assert got == (12, round(night["score"].mean(), 6))


def test_report_from_db_equals_report_from_folders(db: Path, nights: list[Path]) -> None:
    kw = {"date_from": "2026-10-05", "date_to": "2026-11-01", "keywords": 5}
    folders = build_report(list(nights), **kw)  # type: ignore[arg-type]
    source = HistorySource(db)
    try:
        from_db = build_report(source, **kw)  # type: ignore[arg-type]
    finally:
        source.close()
    assert from_db.period == folders.period
    assert int(from_db.table("t_headline").loc[0, "current"]) == 28 * 12
    for key in folders.tables:
        a, b = folders.table(key), from_db.table(key)
        if key == "t_runs":  # the database stores the folder's absolute path
            a = a.assign(run=[str(Path(p).resolve()) for p in a["run"]])
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True),
                                      check_dtype=False, obj=key)
    assert from_db.worst_calls == folders.worst_calls
    assert from_db.notes == folders.notes


def test_call_pages_from_db_equal_call_pages_from_folders(db: Path, nights: list[Path],
                                                          tmp_path: Path) -> None:
    from csqa.weekly.folder import write_folder

    kw = {"date_from": "2026-11-23", "date_to": "2026-11-29", "keywords": 0}
    folders = build_report(list(nights), **kw)  # type: ignore[arg-type]
    a = write_folder(folders, folders.source, tmp_path / "a").parent
    source = HistorySource(db)
    try:
        from_db = build_report(source, **kw)  # type: ignore[arg-type]
        b = write_folder(from_db, source, tmp_path / "b").parent
    finally:
        source.close()
    pages = sorted(p.name for p in (a / "calls").iterdir())
    assert len(pages) > 10 and pages == sorted(p.name for p in (b / "calls").iterdir())
    for name in pages:
        page = (a / "calls" / name).read_text(encoding="utf-8")
        assert '<div id="conversation">' in page and 'id="u0"' in page
        assert page == (b / "calls" / name).read_text(encoding="utf-8"), name


def test_rerunning_a_night_replaces_its_rows(night: Path, nights: list[Path],
                                             tmp_path: Path) -> None:
    db = tmp_path / "qa.duckdb"
    import_runs(db, nights[:5])
    before = _dump(db, when=False)
    # the same folder again: nothing changes
    import_runs(db, [nights[2]])
    assert _dump(db, when=False) == before
    # night 2 audited again later (same calls, a new run): its rows are replaced, not added
    rerun = copy_night(night, tmp_path / "rerun", 2, date(2026, 9, 3), audited_hour=23)
    done = append_run(db, rerun)
    assert (done.calls, done.replaced, done.kept_newer) == (12, 12, 0)
    assert _folder_counts(nights[:5]) == {t: _count(db, t) for t in
                                          ("runs", "calls", "findings", "customer_text",
                                           "conversations", "scorecards")}
    with duckdb.connect(str(db), read_only=True) as con:
        folders = [r[0] for r in con.execute("SELECT folder FROM runs ORDER BY audited_at").fetchall()]
    assert folders == [str(p.resolve()) for p in (nights[0], nights[1], rerun, nights[3],
                                                   nights[4])]
    # the older audit of night 2 given again does not take the night back
    done = append_run(db, nights[2])
    assert (done.calls, done.replaced, done.kept_newer) == (0, 0, 12)
    assert _count(db, "calls") == 60
    assert _count(db, "findings") == _folder_counts(nights[:5])["findings"]


CRASH = textwrap.dedent("""
    import os, sys
    from csqa import history
    real = history._sql
    def crash_after_findings(con, query, params=None):
        rows = real(con, query, params)
        if "INSERT INTO findings" in query:
            os._exit(9)  # the process dies mid-append, as under SIGKILL
        return rows
    history._sql = crash_after_findings
    history.append_run(sys.argv[1], sys.argv[2])
""")


def test_an_append_killed_midway_leaves_the_database_as_it_was(nights: list[Path],
                                                                tmp_path: Path) -> None:
    db = tmp_path / "qa.duckdb"
    import_runs(db, nights[:3])
    before = _dump(db)
    proc = subprocess.run([sys.executable, "-c", CRASH, str(db), str(nights[3])],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    assert _dump(db) == before
    # and the database still takes the run afterwards
    assert append_run(db, nights[3]).calls == 12
    assert _count(db, "runs") == 4


def test_cli_db_import_and_report(nights: list[Path], tmp_path: Path) -> None:
    runner = CliRunner()
    db = tmp_path / "qa.duckdb"
    res = runner.invoke(app, ["db", "import", *map(str, nights[:14]), "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert res.output.count("已写入运行历史") == 14
    out = tmp_path / "r.md"
    res = runner.invoke(app, ["report", "--db", str(db), "--week", "2026-W37", "--out", str(out),
                              "--keywords", "0"])
    assert res.exit_code == 0, res.output
    md = out.read_text(encoding="utf-8")
    assert "2026-W37" in md
    # a month as a folder of linked pages: the attention items open call pages of the folder
    site = tmp_path / "sep"
    res = runner.invoke(app, ["report", "--db", str(db), "--month", "2026-09", "--out",
                              str(site), "--keywords", "0"])
    assert res.exit_code == 0, res.output
    assert res.output.strip().endswith(f"客服质检月报 2026-09 → {site / 'index.html'}")
    index = (site / "index.html").read_text(encoding="utf-8")
    opened = re.findall(r'href="(calls/[^"]+)"', index)
    assert opened and all((site / href).is_file() for href in opened)
    assert '<div id="conversation">' in (site / opened[0]).read_text(encoding="utf-8")
    # folders and --db together, or neither, is a usage error
    res = runner.invoke(app, ["report", str(nights[0]), "--db", str(db)])
    assert res.exit_code == 2 and "二者选一" in res.output
    res = runner.invoke(app, ["report", "--db", str(tmp_path / "missing.duckdb")])
    assert res.exit_code == 2 and "missing.duckdb: 没有这个数据库" in res.output


def test_audit_db_appends_the_run(tmp_path: Path) -> None:
    corpus = write_corpus(4, tmp_path / "s", seed=5)
    profile = tmp_path / "profile.yaml"
    profile.write_text("db: hist/qa.duckdb\n", encoding="utf-8")
    (tmp_path / "hist").mkdir()
    res = CliRunner().invoke(app, ["audit", str(corpus), "--out", str(tmp_path / "o"), "-q",
                                   "--profile", str(profile)])
    assert res.exit_code == 0, res.output
    assert "已写入运行历史" in res.output
    assert _count(tmp_path / "hist" / "qa.duckdb", "calls") == 4


def test_a_file_that_is_not_a_database_is_one_line(tmp_path: Path, nights: list[Path]) -> None:
    bad = tmp_path / "qa.duckdb"
    bad.write_text("not a database", encoding="utf-8")
    with pytest.raises(HistoryError, match=r"qa.duckdb: 无法作为 DuckDB 数据库打开"):
        append_run(bad, nights[0])
    res = CliRunner().invoke(app, ["db", "import", str(tmp_path / "nope"), "--db",
                                   str(tmp_path / "x.duckdb")])
    assert res.exit_code == 2 and "nope: 不是文件夹(请给出 csqa audit 的输出目录)" in res.output


def test_a_quarter_is_cut_in_weeks_and_a_month_compares_with_the_month_before(db: Path) -> None:
    source = HistorySource(db)
    try:
        quarter = build_report(source, date_from="2026-09-01", date_to="2026-11-29", keywords=0)
        month = build_report(source, month="2026-10", keywords=0)
    finally:
        source.close()
    assert quarter.title == "客服质检报告 2026-09-01 – 2026-11-29"
    trend = quarter.table("t_daily")
    # Tue 09-01 … Sun 09-06, then twelve whole ISO weeks
    assert trend["weekday"].tolist() == [f"W{w}" for w in range(36, 49)]
    assert trend["date"].tolist()[:2] == [date(2026, 9, 1), date(2026, 9, 7)]
    assert trend["calls"].tolist() == [6 * 12] + [7 * 12] * 12
    assert all(len(t) == 13 for t in quarter.table("t_agents")["trend"])
    assert all(len(t) == 13 for t in quarter.table("t_rules")["trend"])
    assert month.title == "客服质检月报 2026-10"
    assert (month.previous.start, month.previous.end) == (date(2026, 9, 1), date(2026, 9, 30))
    head = month.table("t_headline").set_index("metric")
    assert (head.at["m_calls", "current"], head.at["m_calls", "prev"]) == (31 * 12, 30 * 12)
    assert len(month.table("t_daily")) == 31  # a month is cut in days


def test_the_keyword_sample_from_db_is_the_folders(db: Path, nights: list[Path]) -> None:
    """Big periods take a sample of customer text by the hash of the call id: the database
    draws the same calls as the folders, whatever the budget."""
    kw = {"date_from": "2026-10-05", "date_to": "2026-11-01", "keywords": 0}
    folders = build_report(list(nights), **kw)  # type: ignore[arg-type]
    source = HistorySource(db)
    try:
        from_db = build_report(source, **kw)  # type: ignore[arg-type]
        for budget in (1, 500, 5_000, 10**9):
            got = source.keyword_sample(from_db.calls, budget)
            assert got == folders.source.keyword_sample(folders.calls, budget), budget
            assert got[1] == 28 * 12 and (budget > 10**6) == (len(got[0]) == 28 * 12)
    finally:
        source.close()


def test_calls_mentioning_from_db_is_the_folders(db: Path, nights: list[Path]) -> None:
    """Calls mentioning each word, words inside one another among them, are counted as the
    folders count them (``word in text``)."""
    kw = {"date_from": "2026-10-05", "date_to": "2026-11-01", "keywords": 5}
    folders = build_report(list(nights), **kw)  # type: ignore[arg-type]
    texts = folders.source.texts(list(folders.calls["call_id"]))
    pieces = sorted({t[i:i + n] for t in list(texts.values())[:40] for n in (1, 2, 3)
                     for i in range(0, max(len(t) - n, 0), 7)})
    words = [*pieces[:60], "不在任何文本里"]
    source = HistorySource(db)
    try:
        from_db = build_report(source, **kw)  # type: ignore[arg-type]
        got = source.mentions(words, from_db.calls)
    finally:
        source.close()
    assert got == folders.source.mentions(words, folders.calls)
    assert got["不在任何文本里"] == 0 and sum(n > 0 for n in got.values()) > 30
