"""Where a report's calls come from: audit output folders (:class:`FolderSource`) or a run
history database (:class:`csqa.history.HistorySource`), behind one small interface.

A source answers the few questions :func:`csqa.weekly.build.build_report` asks: which runs
there are, the calls of one ruleset in a span of local days (a call audited by several runs
counted once, the latest audit winning), the findings and customer text of some calls.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import pandas as pd

from csqa.review import recorded_verdicts
from csqa.runs import CALL_TEXT, AuditRun, Spoken, open_run

_OFFSET = r"(?:Z|[+-]\d\d:?\d\d)$"


@dataclass
class RunInfo:
    """One audit run as the report lists it."""

    label: str  # the folder, as given (or as stored)
    order: int
    audited_at: datetime | None
    ruleset: dict[str, Any]
    rule_ids: list[str]
    calls_in_run: int
    has_text: bool = True

    @property
    def ruleset_hash(self) -> str:
        return str(self.ruleset.get("hash", ""))

    @property
    def sort_key(self) -> tuple[float, int]:
        """Later audit wins; runs audited at the same time: the later given (or appended)."""
        return (_ts(self.audited_at), self.order)


@dataclass
class StoredCall:
    """What a call page shows beyond the report's call row: the conversation as audited
    (``None`` when the run stored none: a csqa older than conversation.jsonl) and the call's
    record."""

    utterances: list[Spoken] | None
    started_at: str = ""
    duration: float | None = None
    hangup_by: str = ""
    source: str = ""
    not_evaluable: list[str] = field(default_factory=list)


class ReportSource(Protocol):
    """What a report reads; every method is about the runs of one ruleset hash, or of every
    ruleset when the hash is ``""``."""

    def runs(self) -> list[RunInfo]:
        """Every run, whatever its ruleset."""

    def calls(self, ruleset_hash: str, rule_ids: list[str], zone: ZoneInfo,
              start: date | None = None, end: date | None = None) -> pd.DataFrame:
        """Calls (one row each) of local days ``start``–``end`` (all placed calls when not
        given): the run reader's call columns, ``rule_ids`` counts, ``run`` (the run's order),
        ``local`` (naive local date-time) and ``day`` (``local`` at midnight)."""

    def latest_day(self, ruleset_hash: str, zone: ZoneInfo) -> date | None:
        """The local day of the latest placed call."""

    def undated(self, ruleset_hash: str) -> int:
        """Calls without started_at (they cannot be placed on a day)."""

    def held(self, ruleset_hash: str) -> dict[int, int]:
        """Per run order: how many of its calls count (not replaced by a later audit)."""

    def rule_names(self, ruleset_hash: str) -> dict[str, str]:
        """Rule id -> name."""

    def findings(self, calls: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
        """The findings of ``calls`` (rows of :meth:`calls`), per call id, in file order."""

    def keyword_sample(self, calls: pd.DataFrame, budget: int) -> tuple[list[str], int]:
        """The :func:`keyword_sample` of the customer texts of ``calls`` (runs without text
        left out), and how many of ``calls`` have a text."""

    def texts(self, call_ids: list[str]) -> dict[str, str]:
        """Customer text of some calls."""

    def stored_calls(self, calls: pd.DataFrame) -> dict[str, StoredCall]:
        """What the run that won each of ``calls`` (rows of :meth:`calls`) stored of it."""

    def reviews(self, calls: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
        """Reviewers' verdicts on ``calls`` (those ``csqa audit --reviews`` applied to the run
        that won each call), per call id: :data:`csqa.review.VERDICT_FIELDS`."""

    def mentions(self, words: list[str], calls: pd.DataFrame) -> dict[str, int]:
        """How many of ``calls`` have each word in their customer text."""


def stored_call(utterances: list[Spoken] | None, row: dict[str, Any]) -> StoredCall:
    """A :class:`StoredCall` from calls.csv's text cells (or the database's calls row)."""
    duration = row.get("duration")
    try:
        length = float(duration) if duration not in (None, "") else None
    except ValueError:
        length = None
    return StoredCall(utterances, str(row.get("started_at") or ""), length,
                      str(row.get("hangup_by") or ""), str(row.get("source") or ""),
                      [r for r in str(row.get("not_evaluable") or "").split(";") if r])


def keyword_sample(texts: dict[str, str] | dict[str, int], budget: int) -> list[str]:
    """The call ids whose text the keywords are computed from (``texts``: call id -> text, or
    its length): all of them when their text fits in ``budget`` characters, else calls taken in
    the order of a hash of their id until the budget is spent (a fixed pseudo-random sample: the
    same runs give the same keywords)."""
    lengths = {cid: t if isinstance(t, int) else len(t) for cid, t in texts.items()}
    if sum(lengths.values()) <= budget:
        return sorted(lengths)
    chosen, used = [], 0
    for cid in sorted(lengths, key=lambda c: hashlib.sha1(c.encode("utf-8")).hexdigest()):
        if used >= budget:
            break
        chosen.append(cid)
        used += lengths[cid]
    return sorted(chosen)


def local_times(started: pd.Series, zone: ZoneInfo) -> pd.Series:
    """``started_at`` texts as naive local date-times in ``zone`` (NaT when empty): a timestamp
    with an offset is converted, one without is taken as local time."""
    s = started.fillna("").astype(str)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    offset = s.str.contains(_OFFSET, regex=True)
    naive = ~offset & (s != "")
    if offset.any():
        out[offset] = (pd.to_datetime(s[offset], utc=True, format="ISO8601")
                       .dt.tz_convert(zone).dt.tz_localize(None).astype("datetime64[ns]"))
    if naive.any():
        out[naive] = pd.to_datetime(s[naive], format="ISO8601").astype("datetime64[ns]")
    return out


def in_days(calls: pd.DataFrame, start: date | None, end: date | None) -> pd.DataFrame:
    """The rows of ``calls`` whose local day is ``start``–``end`` (both included)."""
    if start is None or end is None:
        return calls[calls["local"].notna()]
    lo, hi = pd.Timestamp(start), pd.Timestamp(end + timedelta(days=1))
    return calls[(calls["local"] >= lo) & (calls["local"] < hi)]


class FolderSource:
    """Audit output folders, read with the one run-folder reader, :func:`csqa.runs.open_run`."""

    def __init__(self, run_dirs: list[str | Path]) -> None:
        self._runs: list[AuditRun] = [open_run(p, i) for i, p in enumerate(run_dirs)]
        self._merged: dict[str, pd.DataFrame] = {}
        self._placed: dict[tuple[str, str], pd.DataFrame] = {}
        self._texts: dict[str, str] = {}
        self._texts_read: set[int] = set()

    def runs(self) -> list[RunInfo]:
        return [RunInfo(str(r.path), r.order, r.audited_at, r.ruleset, r.rule_ids, len(r.calls),
                        r.has("customer_text.jsonl")) for r in self._runs]

    def _used(self, ruleset_hash: str) -> list[AuditRun]:
        return [r for r in self._runs if r.ruleset_hash == ruleset_hash or not ruleset_hash]

    def _merged_calls(self, ruleset_hash: str) -> pd.DataFrame:
        if ruleset_hash not in self._merged:
            used = sorted(self._used(ruleset_hash), key=lambda r: (_ts(r.audited_at), r.order))
            frames = [r.calls.assign(run=r.order) for r in used if len(r.calls)]
            if frames:
                calls = pd.concat(frames, ignore_index=True)
                calls = calls.drop_duplicates("call_id", keep="last").reset_index(drop=True)
            else:
                rule_ids = used[-1].rule_ids if used else []
                calls = pd.DataFrame(columns=[*CALL_TEXT, "score", "passed", "vetoed",
                                              "n_findings", *rule_ids, "line", "run"])
            self._merged[ruleset_hash] = calls
        return self._merged[ruleset_hash]

    def _all(self, ruleset_hash: str, zone: ZoneInfo) -> pd.DataFrame:
        key = (ruleset_hash, str(zone))
        if key not in self._placed:
            calls = self._merged_calls(ruleset_hash).copy()
            calls["local"] = local_times(calls["started_at"], zone)
            calls["day"] = calls["local"].dt.normalize()
            self._placed[key] = calls
        return self._placed[key]

    def calls(self, ruleset_hash: str, rule_ids: list[str], zone: ZoneInfo,
              start: date | None = None, end: date | None = None) -> pd.DataFrame:
        calls = self._all(ruleset_hash, zone)
        for rid in rule_ids:
            if rid not in calls:
                calls[rid] = 0
        return in_days(calls, start, end)

    def latest_day(self, ruleset_hash: str, zone: ZoneInfo) -> date | None:
        latest = self._all(ruleset_hash, zone)["local"].max()
        return None if pd.isna(latest) else latest.date()

    def undated(self, ruleset_hash: str) -> int:
        return int((self._merged_calls(ruleset_hash)["started_at"].fillna("") == "").sum())

    def held(self, ruleset_hash: str) -> dict[int, int]:
        runs = self._merged_calls(ruleset_hash)["run"].value_counts()
        return {int(str(k)): int(v) for k, v in runs.items()}

    def rule_names(self, ruleset_hash: str) -> dict[str, str]:
        # From run.json's rule_scoring (newer runs), else from every finding of the ruleset's
        # runs, so a rule nobody broke this week still shows its name.
        names: dict[str, str] = {}
        for run in self._used(ruleset_hash):
            scoring = run.ruleset.get("rule_scoring")
            if isinstance(scoring, dict):
                for rid, spec in scoring.items():
                    if isinstance(spec, dict) and spec.get("name"):
                        names.setdefault(str(rid), str(spec["name"]))
            if not isinstance(scoring, dict):
                for f in run.findings():
                    if f.get("rule_id") and f.get("name"):
                        names.setdefault(str(f["rule_id"]), str(f["name"]))
        return names

    def findings(self, calls: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for run in self._runs:
            ids = set(calls.loc[calls["run"] == run.order, "call_id"])
            if ids:
                for f in run.findings(ids):
                    out.setdefault(f["call_id"], []).append(f)
        return out

    def _read_texts(self, calls: pd.DataFrame) -> None:
        """The customer text of ``calls`` (the period's), each from the run that won it."""
        for run in self._runs:
            ids = set(calls.loc[calls["run"] == run.order, "call_id"])
            if run.order in self._texts_read or not ids:
                continue
            self._texts_read.add(run.order)
            got = run.customer_text(ids)
            if got is not None:
                self._texts.update((cid, got.get(cid, "")) for cid in ids)

    def keyword_sample(self, calls: pd.DataFrame, budget: int) -> tuple[list[str], int]:
        self._read_texts(calls)
        lengths = {cid: len(self._texts[cid]) for cid in calls["call_id"] if cid in self._texts}
        return keyword_sample(lengths, budget), len(lengths)

    def texts(self, call_ids: list[str]) -> dict[str, str]:
        return {cid: self._texts[cid] for cid in call_ids}

    def stored_calls(self, calls: pd.DataFrame) -> dict[str, StoredCall]:
        out: dict[str, StoredCall] = {}
        for run in self._runs:
            ids = set(calls.loc[calls["run"] == run.order, "call_id"])
            if not ids:
                continue
            talk = run.conversations(ids) or {}
            for row in run.table("calls.csv"):
                cid = row["call_id"]
                if cid in ids:
                    out[cid] = stored_call(talk.get(cid), row)
        return out

    def reviews(self, calls: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for run in self._runs:
            ids = set(calls.loc[calls["run"] == run.order, "call_id"])
            for v in recorded_verdicts(run) if ids else []:
                if v["call_id"] in ids:
                    out.setdefault(str(v["call_id"]), []).append(v)
        return out

    def mentions(self, words: list[str], calls: pd.DataFrame) -> dict[str, int]:
        texts = [self._texts[cid] for cid in calls["call_id"] if cid in self._texts]
        return {w: sum(w in t for t in texts) for w in words}


def _ts(ts: datetime | None) -> float:
    return ts.timestamp() if ts is not None else float("-inf")
