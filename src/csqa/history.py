"""Run history in an embedded DuckDB database: months of nightly runs, queried with SQL.

A finished ``csqa audit`` output folder is appended as it is (run.json, calls.csv, agents.csv,
findings.jsonl, customer_text.jsonl), read through the one run-folder reader :mod:`csqa.runs`,
never from the audit loop: ``audit --db`` appends the folder it has just written
and ``db import`` appends folders written before. The schema (:data:`SCHEMA`) is documented in the
README; users query it with any DuckDB client.

How an append counts, in one transaction (an interrupted append leaves the database as it was):

- a run is identified by its folder (absolute path) and run.json ``started_at``: importing the
  same folder twice replaces it;
- a call is held once: a run replaces the rows of each of its calls that an earlier-or-equal
  audit holds (``audited_at``, then the later append), as the report counts a call audited by
  several runs; so re-running a night replaces that night's rows. A call a later audit holds is
  kept; the run's own row for it is not stored;
- a run left with no calls because later runs replaced them all is removed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from csqa.errors import CsqaError
from csqa.review import VERDICT_FIELDS, ReviewsError, recorded_verdicts
from csqa.runs import AuditRun, RunError, open_run, spoken
from csqa.weekly.source import RunInfo, StoredCall, stored_call

#: The tables, as created in a new database (the README documents every column).
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id          VARCHAR NOT NULL,      -- 'R' + 16 hex digits of the folder and run start
    folder          VARCHAR NOT NULL,      -- the run folder, absolute path
    audited_at      TIMESTAMPTZ,           -- run.json started_at
    appended_at     TIMESTAMPTZ NOT NULL,  -- when it was appended to this database
    append_seq      BIGINT NOT NULL,       -- order of appends (ties of audited_at)
    csqa_version    VARCHAR,
    seconds         DOUBLE,
    ruleset_name    VARCHAR,
    ruleset_version VARCHAR,
    ruleset_hash    VARCHAR,
    pass_mark       DOUBLE,
    base_score      DOUBLE,
    rule_ids        VARCHAR[],             -- the ruleset's rules, in order
    calls_in_run    INTEGER NOT NULL,      -- calls the run audited (some may be held by later runs)
    has_customer_text BOOLEAN NOT NULL,
    counts          JSON,                  -- run.json counts
    accounting      JSON,                  -- run.json accounting (inputs = audited + failed + skipped)
    reviews         JSON,                  -- run.json reviews (when audit --reviews applied some)
    record          JSON NOT NULL          -- run.json as written
);
CREATE TABLE IF NOT EXISTS rules (
    run_id     VARCHAR NOT NULL,
    rule_id    VARCHAR NOT NULL,
    name       VARCHAR,
    kind       VARCHAR,
    points     DOUBLE,
    max_points DOUBLE,
    veto       BOOLEAN
);
CREATE TABLE IF NOT EXISTS calls (
    run_id          VARCHAR NOT NULL,
    call_id         VARCHAR NOT NULL,
    agent_id        VARCHAR,
    agent_name      VARCHAR,
    team            VARCHAR,
    started_at      VARCHAR,               -- as written in calls.csv ('' when unknown)
    started_utc     TIMESTAMPTZ,           -- started_at when it carries an offset
    started_local   TIMESTAMP,             -- started_at's wall-clock time as written
    duration        DOUBLE,
    score           DOUBLE NOT NULL,
    passed          BOOLEAN NOT NULL,
    vetoed          BOOLEAN NOT NULL,
    n_findings      INTEGER NOT NULL,
    not_evaluable   VARCHAR,
    source          VARCHAR,
    direction       VARCHAR,
    hangup_by       VARCHAR,
    reviewed_score  DOUBLE,                -- the reviewed columns: NULL unless audit --reviews
    reviewed_passed BOOLEAN,
    reviewed_vetoed BOOLEAN,
    confirmed       INTEGER,
    false_alarms    INTEGER,
    missed          INTEGER                -- a call_id is held by one run only
);
CREATE TABLE IF NOT EXISTS rule_counts (
    run_id  VARCHAR NOT NULL,
    call_id VARCHAR NOT NULL,
    rule_id VARCHAR NOT NULL,
    n       INTEGER NOT NULL                -- calls.csv's per-rule count (only counts above 0)
);
CREATE TABLE IF NOT EXISTS findings (
    run_id     VARCHAR NOT NULL,
    call_id    VARCHAR NOT NULL,
    seq        INTEGER NOT NULL,            -- order in findings.jsonl
    finding_id VARCHAR,
    agent_id   VARCHAR,
    rule_id    VARCHAR NOT NULL,
    kind       VARCHAR,
    name       VARCHAR,
    severity   VARCHAR,
    points     DOUBLE,
    utterance  INTEGER,
    start      DOUBLE,
    "end"      DOUBLE,
    speaker    VARCHAR,
    matched    VARCHAR,
    evidence   VARCHAR,
    message    VARCHAR
);
CREATE TABLE IF NOT EXISTS customer_text (
    run_id  VARCHAR NOT NULL,
    call_id VARCHAR NOT NULL,
    text    VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS conversations (
    run_id     VARCHAR NOT NULL,
    call_id    VARCHAR NOT NULL,
    utterances JSON NOT NULL               -- [[speaker, start, end, text], …] as audited (masked)
);
CREATE TABLE IF NOT EXISTS reviews (
    run_id     VARCHAR NOT NULL,           -- the verdicts csqa audit --reviews applied to the run
    call_id    VARCHAR NOT NULL,
    finding_id VARCHAR,                    -- '' for a missed violation the reviewer added
    agent_id   VARCHAR,
    rule_id    VARCHAR NOT NULL,
    name       VARCHAR,
    start      DOUBLE,
    evidence   VARCHAR,
    verdict    VARCHAR NOT NULL,           -- confirmed, false_alarm or missed
    note       VARCHAR,
    reviewer   VARCHAR
);
CREATE TABLE IF NOT EXISTS scorecards (
    run_id        VARCHAR NOT NULL,        -- agents.csv of the run, as the run wrote it
    agent_id      VARCHAR NOT NULL,
    agent_name    VARCHAR,
    team          VARCHAR,
    calls         INTEGER,
    mean_score    DOUBLE,
    min_score     DOUBLE,
    pass_rate     DOUBLE,
    vetoes        INTEGER,
    findings      INTEGER,
    worst_call    VARCHAR,
    reviewed_mean_score DOUBLE,
    reviewed_pass_rate  DOUBLE
);
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
"""

SCHEMA_VERSION = "1"
#: Tables holding one run's rows, keyed by run_id (calls are also keyed by call_id).
RUN_TABLES = ("rules", "calls", "rule_counts", "findings", "customer_text", "conversations",
              "reviews", "scorecards")
_FINDING_COLUMNS = ["finding_id", "agent_id", "rule_id", "kind", "name", "severity", "points",
                    "utterance", "start", "end", "speaker", "matched", "evidence", "message"]


class HistoryError(CsqaError):
    """A database or run folder that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Appended:
    """What one append did."""

    run_id: str
    folder: Path
    calls: int  # calls of the run now held by the database
    replaced: int  # calls whose earlier rows this run replaced
    kept_newer: int  # calls a later audit already held (this run's rows not stored)
    findings: int


def connect(path: str | Path, read_only: bool = False) -> Any:
    """Open (or create) a history database with its tables; HistoryError names the file."""
    import duckdb

    path = Path(path)
    if read_only and not path.exists():
        raise HistoryError(f"{path}: 没有这个数据库(用 csqa db import 或 csqa audit --db 创建)")
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except (duckdb.Error, OSError) as exc:
        raise HistoryError(f"{path}: 无法作为 DuckDB 数据库打开:"
                           f"{str(exc).splitlines()[0]}") from None
    if not read_only:
        try:
            _sql(con, SCHEMA)
            _sql(con, "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                        [SCHEMA_VERSION])
        except duckdb.Error as exc:
            con.close()
            raise HistoryError(f"{path}: 不是 csqa 运行历史数据库:"
                               f"{str(exc).splitlines()[0]}") from None
    return con


def run_key(folder: Path, record: dict[str, Any]) -> str:
    """The run's id: a hash of its folder's absolute path and its run.json ``started_at``."""
    text = f"{folder.resolve()}\0{record.get('started_at', '')}"
    return "R" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def append_run(db: str | Path, run_dir: str | Path) -> Appended:
    """Append one finished ``csqa audit`` output folder to the database ``db``."""
    con = connect(db)
    try:
        return _append(con, Path(run_dir), Path(db))
    finally:
        con.close()


def import_runs(db: str | Path, run_dirs: Sequence[str | Path]) -> list[Appended]:
    """Append several folders, oldest audit first (so the latest audit of a call wins whatever
    the order given); each is its own transaction."""
    order = sorted(((_audited_ts(Path(d)), i, Path(d)) for i, d in enumerate(run_dirs)),
                   key=lambda t: (t[0], t[1]))
    con = connect(db)
    try:
        return [_append(con, path, Path(db)) for _, _, path in order]
    finally:
        con.close()


def _audited_ts(path: Path) -> float:
    """When the run in ``path`` was audited (run.json ``started_at``), for the import order."""
    try:
        started = open_run(path).record.get("started_at")
    except RunError as exc:
        raise HistoryError(str(exc)) from None
    try:
        return datetime.fromisoformat(started).timestamp() if isinstance(started, str) \
            else float("-inf")
    except ValueError:
        raise HistoryError(f"{path / 'run.json'}: started_at: 不是 ISO 8601 日期时间:"
                           f"{started!r}") from None


def _read_folder(path: Path) -> AuditRun:
    try:
        return open_run(path)
    except RunError as exc:
        raise HistoryError(str(exc)) from None


def _append(con: Any, path: Path, db: Path) -> Appended:
    import duckdb

    run = _read_folder(path)
    try:
        frames = _frames(run)
    except (RunError, ReviewsError) as exc:
        raise HistoryError(str(exc)) from None
    run_id = frames["run_id"]
    try:
        _sql(con, "BEGIN TRANSACTION")
        result = _write(con, run, run_id, frames)
        _sql(con, "COMMIT")
    except duckdb.Error as exc:
        _sql(con, "ROLLBACK")
        raise HistoryError(f"{db}: 追加 {path} 失败,数据库未改动:"
                           f"{str(exc).splitlines()[0]}") from None
    except BaseException:
        _sql(con, "ROLLBACK")
        raise
    return result


def _frames(run: AuditRun) -> dict[str, Any]:
    """Everything the run folder holds, as data frames shaped like the tables."""
    record = run.record
    run_id = run_key(run.path, record)
    full_calls = pd.DataFrame(run.table("calls.csv"))
    calls = run.calls.copy()
    calls.insert(0, "run_id", run_id)
    extra = ["duration", "direction", "hangup_by", "reviewed_score", "reviewed_passed",
             "reviewed_vetoed", "confirmed", "false_alarms", "missed"]
    for col in extra:
        calls[col] = full_calls[col].to_numpy() if col in full_calls and len(calls) else None
    starts = calls["started_at"].fillna("")
    has_offset = starts.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
    calls["started_utc"] = pd.to_datetime(starts.where(has_offset & (starts != "")),
                                          utc=True, format="ISO8601")
    calls["started_local"] = pd.to_datetime(
        starts.str.replace(r"(?:Z|[+-]\d\d:?\d\d)$", "", regex=True).where(starts != ""),
        format="ISO8601")
    counts = calls.melt(id_vars=["call_id"], value_vars=run.rule_ids, var_name="rule_id",
                        value_name="n") if run.rule_ids and len(calls) else \
        pd.DataFrame(columns=["call_id", "rule_id", "n"])
    counts = counts[counts["n"] > 0].astype({"call_id": object, "rule_id": object, "n": "int64"})
    findings = pd.DataFrame(list(run.findings()))
    findings = findings.reindex(columns=["call_id", *_FINDING_COLUMNS]).astype(
        {c: "float64" if c in ("points", "start", "end") else "Int64" if c == "utterance"
         else object for c in ["call_id", *_FINDING_COLUMNS]})
    findings.insert(1, "seq", range(len(findings)))
    texts = run.customer_text(set(calls["call_id"]))
    talk = run.conversations(set(calls["call_id"]))
    reviews = pd.DataFrame(recorded_verdicts(run), columns=list(VERDICT_FIELDS)).astype(
        {c: "float64" if c == "start" else object for c in VERDICT_FIELDS})
    agents = pd.DataFrame(run.table("agents.csv"))
    rules = pd.DataFrame([{"rule_id": rid, "name": c.name, "kind": c.kind, "points": c.points,
                           "max_points": c.max_points, "veto": c.veto}
                          for rid, c in run.rules.items()],
                         columns=["rule_id", "name", "kind", "points", "max_points", "veto"])
    return {"run_id": run_id, "record": record, "calls": calls, "counts": counts,
            "findings": findings, "texts": texts, "talk": talk, "reviews": reviews, "agents": agents, "rules": rules}


def _numeric(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    for c in cols:
        if c in frame:
            frame[c] = pd.to_numeric(frame[c].replace("", None), errors="coerce")
    return frame


def _write(con: Any, run: AuditRun, run_id: str, f: dict[str, Any]) -> Appended:
    """The append's statements; the caller holds the transaction."""
    record = f["record"]
    rs = run.ruleset
    # The same folder appended again: its earlier rows go first.
    for table in (*RUN_TABLES, "runs"):
        _sql(con, f"DELETE FROM {table} WHERE run_id = ?", [run_id])
    seq = _sql(con, "SELECT coalesce(max(append_seq), 0) + 1 FROM runs")[0][0]
    _sql(con,
        "INSERT INTO runs VALUES (?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, str(run.path.resolve()), run.audited_at, seq, record.get("csqa_version"),
         record.get("seconds"), rs.get("name"), str(rs.get("version", "")), run.ruleset_hash,
         float(rs.get("pass_mark", 80.0)), float(rs.get("base_score", 100.0)), run.rule_ids,
         len(run.calls), f["texts"] is not None, _json(record.get("counts")),
         _json(record.get("accounting")), _json(record.get("reviews")), _json(record)])
    rules = f["rules"].assign(run_id=run_id)
    con.register("new_rules", rules)
    _sql(con, "INSERT INTO rules SELECT run_id, rule_id, name, kind, points, max_points, veto "
                "FROM new_rules")

    calls = _numeric(f["calls"], ["duration", "reviewed_score", "confirmed", "false_alarms",
                                  "missed"])
    for col in ("reviewed_passed", "reviewed_vetoed"):
        calls[col] = calls[col].map({"True": True, "False": False})
    con.register("new_calls", calls)
    # Which of the run's calls an earlier-or-equal audit holds (replaced) and which a later one
    # holds (kept); the run's row is stored for the first and for calls not held at all.
    _sql(con, """
        CREATE OR REPLACE TEMP TABLE held AS
        SELECT c.call_id, c.run_id,
               coalesce(r.audited_at, TIMESTAMPTZ '0001-01-01 00:00:00+00')
                 > coalesce(CAST(? AS TIMESTAMPTZ), TIMESTAMPTZ '0001-01-01 00:00:00+00') AS newer
        FROM calls c JOIN runs r USING (run_id)
        WHERE c.call_id IN (SELECT call_id FROM new_calls) AND c.run_id <> ?""",
                [run.audited_at, run_id])
    replaced = _sql(con, "SELECT count(*) FROM held WHERE NOT newer")[0][0]
    kept = _sql(con, "SELECT count(*) FROM held WHERE newer")[0][0]
    touched = [r[0] for r in _sql(con,
        "SELECT DISTINCT run_id FROM held WHERE NOT newer")]
    for table in RUN_TABLES:
        if table in ("rules", "scorecards"):
            continue
        _sql(con, f"DELETE FROM {table} t USING held h WHERE t.call_id = h.call_id "
                    "AND t.run_id = h.run_id AND NOT h.newer")
    _sql(con, "CREATE OR REPLACE TEMP TABLE mine AS SELECT call_id FROM new_calls "
                "WHERE call_id NOT IN (SELECT call_id FROM held WHERE newer)")
    _sql(con, """
        INSERT INTO calls SELECT run_id, call_id, agent_id, agent_name, team, started_at,
            started_utc, started_local, duration, score, passed, vetoed, n_findings,
            not_evaluable, source, direction, hangup_by, reviewed_score, reviewed_passed,
            reviewed_vetoed, confirmed, false_alarms, missed
        FROM new_calls WHERE call_id IN (SELECT call_id FROM mine)""")
    con.register("new_counts", f["counts"])
    _sql(con, "INSERT INTO rule_counts SELECT ?, call_id, rule_id, n FROM new_counts "
                "WHERE call_id IN (SELECT call_id FROM mine)", [run_id])
    con.register("new_findings", f["findings"])
    _sql(con, f"""
        INSERT INTO findings SELECT ?, call_id, seq, {', '.join(f'"{c}"' for c in _FINDING_COLUMNS)}
        FROM new_findings WHERE call_id IN (SELECT call_id FROM mine)""", [run_id])
    n_findings = _sql(con, "SELECT count(*) FROM findings WHERE run_id = ?",
                             [run_id])[0][0]
    if f["texts"] is not None:
        texts = pd.DataFrame({"call_id": list(f["texts"]), "text": list(f["texts"].values())})
        con.register("new_texts", texts.astype(object))
        _sql(con, "INSERT INTO customer_text SELECT ?, call_id, text FROM new_texts "
                    "WHERE call_id IN (SELECT call_id FROM mine)", [run_id])
    if f["talk"] is not None:
        talk = pd.DataFrame({"call_id": list(f["talk"]),
                             "utterances": [orjson.dumps(u).decode("utf-8")
                                            for u in f["talk"].values()]}, dtype=object)
        con.register("new_spoken", talk)
        _sql(con, "INSERT INTO conversations SELECT ?, call_id, utterances FROM new_spoken "
                  "WHERE call_id IN (SELECT call_id FROM mine)", [run_id])
        con.unregister("new_spoken")
    con.register("new_reviews", f["reviews"])
    _sql(con, f"INSERT INTO reviews SELECT ?, {', '.join(VERDICT_FIELDS)} FROM new_reviews "
              "WHERE call_id IN (SELECT call_id FROM mine)", [run_id])
    con.unregister("new_reviews")
    agents = _numeric(f["agents"].reindex(columns=[
        "agent_id", "agent_name", "team", "calls", "mean_score", "min_score", "pass_rate",
        "vetoes", "findings", "worst_call", "reviewed_mean_score", "reviewed_pass_rate"]),
        ["calls", "mean_score", "min_score", "pass_rate", "vetoes", "findings",
         "reviewed_mean_score", "reviewed_pass_rate"])
    con.register("new_agents", agents)
    _sql(con, "INSERT INTO scorecards SELECT ?, * FROM new_agents", [run_id])
    # Runs whose every call a later audit now holds say nothing any more.
    for other in touched:
        left = _sql(con, "SELECT count(*) FROM calls WHERE run_id = ?", [other])[0][0]
        if not left:
            for table in (*RUN_TABLES, "runs"):
                _sql(con, f"DELETE FROM {table} WHERE run_id = ?", [other])
    for name in ("new_rules", "new_calls", "new_counts", "new_findings", "new_agents"):
        con.unregister(name)
    if f["texts"] is not None:
        con.unregister("new_texts")
    held = _sql(con, "SELECT count(*) FROM mine")[0][0]
    return Appended(run_id, run.path, int(held), int(replaced), int(kept), int(n_findings))


def _sql(con: Any, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one statement to its end (DuckDB keeps a connection busy until a result is read)."""
    return list(con.execute(query, params or []).fetchall())


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode("utf-8")


# --------------------------------------------------------------------------- reading for reports

_RUN_ORDER = """
    SELECT run_id, CAST(row_number() OVER (ORDER BY audited_at NULLS FIRST, append_seq) - 1
                        AS INTEGER) AS ord
    FROM runs"""


class HistorySource:
    """A history database as a :class:`~csqa.weekly.source.ReportSource`: each question is
    one SQL query, so a report over months reads only the calls of its period. A ruleset hash
    ``""`` asks about every ruleset (``starts_with(hash, '')`` holds for all)."""

    def __init__(self, db: str | Path) -> None:
        self.path = Path(db)
        self.con = connect(self.path, read_only=True)
        self._selected = 0

    def close(self) -> None:
        self.con.close()

    def runs(self) -> list[RunInfo]:
        rows = _sql(self.con, f"""
            SELECT o.ord, r.folder, r.audited_at, r.record, r.rule_ids, r.calls_in_run,
                   r.has_customer_text
            FROM runs r JOIN ({_RUN_ORDER}) o USING (run_id) ORDER BY o.ord""")
        return [RunInfo(folder, int(ord_), audited, orjson.loads(record)["ruleset"],
                        list(rule_ids or []), int(n), bool(text))
                for ord_, folder, audited, record, rule_ids, n, text in rows]

    def calls(self, ruleset_hash: str, rule_ids: list[str], zone: Any,
              start: date | None = None, end: date | None = None) -> pd.DataFrame:
        span = ""
        params: list[Any] = [str(zone), ruleset_hash]
        if start is not None and end is not None:
            span = "AND local >= CAST(? AS TIMESTAMP) AND local < CAST(? AS TIMESTAMP)"
            params += [datetime.combine(start, datetime.min.time()),
                       datetime.combine(end, datetime.min.time()) + timedelta(days=1)]
        self.con.execute(f"""
            CREATE OR REPLACE TEMP TABLE selected AS
                SELECT c.call_id, c.agent_id, c.agent_name, c.team, c.score, c.passed,
                       c.vetoed, c.n_findings, c.not_evaluable, o.ord AS run,
                       coalesce(timezone(?, c.started_utc), c.started_local) AS local
                FROM calls c JOIN runs r USING (run_id) JOIN ({_RUN_ORDER}) o USING (run_id)
                WHERE starts_with(r.ruleset_hash, ?) AND local IS NOT NULL {span}""", params).fetchall()
        # agent, name and team come as categories (DuckDB ENUMs: their values once each):
        # millions of rows of text are slow to turn into Python strings
        coded = ("agent_id", "agent_name", "team", "not_evaluable")
        enums = "".join(f", {_enum(self.con, f'coalesce({col}, {_q()})', 'selected')} AS {col}"
                        for col in coded)
        calls = self.con.execute(f"SELECT s.* EXCLUDE ({', '.join(coded)}) {enums}, "
                                 "rowid AS i FROM selected s").df()
        for col in coded:  # categories of text, as the folder source's
            calls[col] = calls[col].cat.rename_categories(
                pd.Index(calls[col].cat.categories.astype(str), dtype=object))
        # calls.csv's per-rule counts as one column per rule, only rules hit in the selection
        # (45 rules of which 17 fire: 17 columns of millions of rows, not 45): the few count
        # rows are read as they are stored and put in their places with numpy
        long = self.con.execute(f"""
            SELECT s.rowid AS i, {_enum(self.con, "rule_id", "rule_counts", "rc.")} AS rule_id, rc.n
            FROM rule_counts rc JOIN selected s USING (call_id)""").df()
        cats = long["rule_id"].cat
        hit = {str(cats.categories[k]) for k in np.unique(cats.codes.to_numpy())}
        counted = [rid for rid in rule_ids if rid in hit]
        column = {rid: j for j, rid in enumerate(counted)}
        where = np.empty(len(calls), dtype=np.int64)
        where[calls["i"].to_numpy()] = np.arange(len(calls))
        matrix = np.zeros((len(calls), len(counted)), dtype=np.int64)
        codes = long["rule_id"].cat.categories.map(lambda r: column.get(str(r), -1)).to_numpy()
        wanted = codes[long["rule_id"].cat.codes.to_numpy()]
        keep = wanted >= 0  # one row per call and rule: a plain assignment adds nothing up
        matrix[where[long["i"].to_numpy()[keep]], wanted[keep]] = \
            long["n"].to_numpy(dtype=np.int64)[keep]
        calls = pd.concat([calls.drop(columns="i"), pd.DataFrame(matrix, columns=counted)],
                          axis=1)
        calls["local"] = calls["local"].astype("datetime64[ns]")
        calls["day"] = calls["local"].dt.normalize()
        return calls

    def latest_day(self, ruleset_hash: str, zone: Any) -> date | None:
        got = _sql(self.con, """
            SELECT max(coalesce(timezone(?, c.started_utc), c.started_local))
            FROM calls c JOIN runs r USING (run_id) WHERE starts_with(r.ruleset_hash, ?)""",
                   [str(zone), ruleset_hash])[0][0]
        return None if got is None else got.date()

    def undated(self, ruleset_hash: str) -> int:
        return int(_sql(self.con, """
            SELECT count(*) FROM calls c JOIN runs r USING (run_id)
            WHERE starts_with(r.ruleset_hash, ?) AND coalesce(c.started_at, '') = ''""",
                        [ruleset_hash])[0][0])

    def held(self, ruleset_hash: str) -> dict[int, int]:
        rows = _sql(self.con, f"""
            SELECT o.ord, count(*) FROM calls c JOIN runs r USING (run_id)
            JOIN ({_RUN_ORDER}) o USING (run_id) WHERE starts_with(r.ruleset_hash, ?) GROUP BY o.ord""",
                    [ruleset_hash])
        return {int(k): int(v) for k, v in rows}

    def rule_names(self, ruleset_hash: str) -> dict[str, str]:
        rows = _sql(self.con, """
            SELECT rule_id, name FROM rules JOIN runs USING (run_id)
            WHERE starts_with(ruleset_hash, ?) AND name IS NOT NULL
            UNION ALL
            SELECT DISTINCT f.rule_id, f.name FROM findings f JOIN runs USING (run_id)
            WHERE starts_with(ruleset_hash, ?) AND f.name IS NOT NULL""", [ruleset_hash, ruleset_hash])
        names: dict[str, str] = {}
        for rid, name in rows:
            names.setdefault(str(rid), str(name))
        return names

    def _with_ids(self, calls: pd.DataFrame | Sequence[str], period: bool = False) -> str:
        """A temporary relation of the call ids of ``calls``. With ``period``, ``calls`` are
        all the calls of the last :meth:`calls` in a span of days (a report's period): they are
        the selected calls between their first and last local time, so millions of ids are not
        sent back to the database."""
        self._selected += 1
        name = f"ids_{self._selected}"
        if period and isinstance(calls, pd.DataFrame) and len(calls):
            lo, hi = calls["local"].min(), calls["local"].max()
            _sql(self.con, f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT call_id FROM "
                           "selected WHERE local BETWEEN ? AND ?",
                 [lo.to_pydatetime(), hi.to_pydatetime()])
            return name
        ids = list(calls["call_id"]) if isinstance(calls, pd.DataFrame) else list(calls)
        self.con.register(name, pd.DataFrame({"call_id": ids}, dtype=object))
        return name

    def _drop(self, name: str) -> None:
        if _sql(self.con, "SELECT count(*) FROM duckdb_tables() WHERE temporary AND "
                          "table_name = ?", [name])[0][0]:
            _sql(self.con, f"DROP TABLE {name}")
        else:
            self.con.unregister(name)

    def _records(self, query: str, ids: str) -> list[dict[str, Any]]:
        """The rows of ``query`` (which joins the ids relation ``ids``, then dropped) as dicts,
        NULL as None."""
        frame = self.con.execute(query).df()
        self._drop(ids)
        return frame.astype(object).where(frame.notna(), None).to_dict("records")

    def findings(self, calls: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
        ids = self._with_ids(calls)
        return _by_call(self._records(f"""
            SELECT f.* EXCLUDE (run_id, seq) FROM findings f JOIN {ids} USING (call_id)
            ORDER BY f.run_id, f.seq""", ids))

    def keyword_sample(self, calls: pd.DataFrame, budget: int) -> tuple[list[str], int]:
        ids = self._with_ids(calls, period=True)
        # as keyword_sample: in the order of the id's SHA-1, while the text before is < budget;
        # the first calls in that order are a top-k (no sort of millions of hashes)
        _sql(self.con, f"""CREATE OR REPLACE TEMP TABLE sampled AS SELECT call_id,
            length(text) AS n, sha1(call_id) AS h FROM customer_text JOIN {ids} USING (call_id)""")
        self._drop(ids)
        count, total = _sql(self.con, "SELECT count(*), coalesce(sum(n), 0) FROM sampled")[0]
        if total <= budget:
            chosen = [str(r[0]) for r in _sql(self.con, "SELECT call_id FROM sampled")]
        else:
            k = 2 * budget * int(count) // max(int(total), 1) + 16
            while True:
                rows = _sql(self.con, "SELECT call_id, n FROM sampled ORDER BY h LIMIT ?", [k])
                chosen, used = [], 0
                for cid, n in rows:
                    if used >= budget:
                        break
                    chosen.append(str(cid))
                    used += int(n)
                if used >= budget or len(rows) >= count:
                    break
                k *= 2
        _sql(self.con, "DROP TABLE sampled")
        return sorted(chosen), int(count)

    def texts(self, call_ids: list[str]) -> dict[str, str]:
        ids = self._with_ids(call_ids)
        rows = _sql(self.con, f"SELECT call_id, text FROM customer_text JOIN {ids} USING (call_id)")
        self._drop(ids)
        return {str(c): str(t) for c, t in rows}

    def stored_calls(self, calls: pd.DataFrame) -> dict[str, StoredCall]:
        ids = self._with_ids(calls)
        out: dict[str, StoredCall] = {}
        for row in self._records(f"""
            SELECT c.call_id, c.started_at, c.duration, c.hangup_by, c.source, c.not_evaluable,
                   v.utterances
            FROM calls c JOIN {ids} USING (call_id)
            LEFT JOIN conversations v ON v.run_id = c.run_id AND v.call_id = c.call_id""", ids):
            cid = str(row["call_id"])
            talk = row.pop("utterances")
            out[cid] = stored_call(None if talk is None else spoken(
                orjson.loads(talk), f"{self.path}: conversations: {cid}"), row)
        return out

    def reviews(self, calls: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
        ids = self._with_ids(calls, period=True)
        return _by_call(self._records(f"""
            SELECT r.* EXCLUDE (run_id) FROM reviews r JOIN {ids} USING (call_id)
            JOIN calls c ON c.run_id = r.run_id AND c.call_id = r.call_id
            ORDER BY r.call_id, r.start""", ids))

    def mentions(self, words: list[str], calls: pd.DataFrame) -> dict[str, int]:
        if not words:
            return {}
        ids = self._with_ids(calls, period=True)
        counts = ", ".join("count(*) FILTER (WHERE contains(text, ?))" for _ in words)
        row = _sql(self.con, f"SELECT {counts} FROM customer_text JOIN {ids} USING (call_id)",
                   list(words))[0]
        self._drop(ids)
        return {w: int(n) for w, n in zip(words, row, strict=True)}


def _by_call(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        out.setdefault(str(rec["call_id"]), []).append(rec)
    return out


def _q(text: str = "") -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _enum(con: Any, expr: str, table: str, alias: str = "") -> str:
    """``expr`` (of ``table``, named ``alias`` in the query) cast to an ENUM of its values in
    ``table``: DuckDB gives it to pandas as a category, each value once."""
    values = [str(r[0]) for r in _sql(con, f"SELECT DISTINCT {expr} FROM {table} ORDER BY 1")
              if r[0] is not None]
    return f"({alias}{expr})::ENUM({', '.join(_q(v) for v in values) or _q()})"
