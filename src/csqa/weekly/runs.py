"""Reading ``csqa audit`` output folders back: run.json, calls.csv, findings.jsonl, customer text.

Every problem is a :class:`ReportError` naming the file (and line) so the command can print
one line a person can act on. Text cells that ``csqa audit`` protected against spreadsheet
formulas (a leading ``'`` before ``= + - @``) are unprotected here; the renderers protect them
again in their own way.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from csqa.errors import CsqaError

CALL_TEXT = ["call_id", "agent_id", "agent_name", "team", "started_at", "not_evaluable", "source"]
CALL_REQUIRED = ["call_id", "agent_id", "agent_name", "team", "started_at", "score", "passed",
                 "vetoed", "n_findings"]
_PROTECTED = ("'=", "'+", "'-", "'@", "'\t", "'\r")


class ReportError(CsqaError):
    """Input a report cannot be built from; the message names the file (and line)."""


def unprotect(value: str) -> str:
    """Undo :func:`csqa.reporters.files.safe_cell` (``'=1+1`` back to ``=1+1``)."""
    return value[1:] if value.startswith(_PROTECTED) else value


@dataclass
class Run:
    """One ``csqa audit`` output folder."""

    path: Path
    order: int
    audited_at: datetime | None
    ruleset: dict[str, Any]
    calls: pd.DataFrame
    rule_ids: list[str] = field(default_factory=list)

    @property
    def ruleset_hash(self) -> str:
        return str(self.ruleset.get("hash", ""))

    @property
    def sort_key(self) -> tuple[float, int]:
        """Later audit wins; runs audited at the same time: the later on the command line."""
        ts = self.audited_at.timestamp() if self.audited_at is not None else float("-inf")
        return (ts, self.order)


def _parse_bool(value: str, where: str) -> bool:
    if value in ("True", "true", "1"):
        return True
    if value in ("False", "false", "0"):
        return False
    raise ReportError(f"{where}: expected True or False, got {value!r}")


def _read_run_json(path: Path) -> dict[str, Any]:
    f = path / "run.json"
    try:
        data = orjson.loads(f.read_bytes())
    except FileNotFoundError:
        raise ReportError(f"{path}: not a csqa audit output folder (no run.json)") from None
    except orjson.JSONDecodeError as exc:
        raise ReportError(f"{f}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("ruleset"), dict):
        raise ReportError(f"{f}: no 'ruleset' object (was this written by csqa audit?)")
    return data


def _read_calls(path: Path, rule_ids: list[str]) -> pd.DataFrame:
    f = path / "calls.csv"
    try:
        fh = f.open(encoding="utf-8", newline="")
    except FileNotFoundError:
        raise ReportError(f"{path}: not a csqa audit output folder (no calls.csv)") from None
    with fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise ReportError(f"{f}: empty file (no header row)")
        missing = [c for c in CALL_REQUIRED if c not in header]
        if missing:
            raise ReportError(f"{f}:1: missing column(s) {', '.join(missing)}")
        idx = {c: i for i, c in enumerate(header)}
        counts = [r for r in rule_ids if r in idx]
        rows: list[dict[str, Any]] = []
        for line, rec in enumerate(reader, start=2):
            if not rec:
                continue
            if len(rec) != len(header):
                raise ReportError(f"{f}:{line}: {len(rec)} fields, the header has {len(header)}")
            where = f"{f}:{line}"
            row: dict[str, Any] = {c: unprotect(rec[idx[c]]) for c in CALL_TEXT if c in idx}
            try:
                row["score"] = float(rec[idx["score"]])
                row["n_findings"] = int(rec[idx["n_findings"]])
                for rid in counts:
                    row[rid] = int(rec[idx[rid]])
            except ValueError as exc:
                raise ReportError(f"{where}: expected a number: {exc}") from None
            row["passed"] = _parse_bool(rec[idx["passed"]], f"{where}: passed")
            row["vetoed"] = _parse_bool(rec[idx["vetoed"]], f"{where}: vetoed")
            if row["started_at"]:
                try:
                    datetime.fromisoformat(row["started_at"])
                except ValueError:
                    raise ReportError(f"{where}: started_at: not an ISO 8601 date-time: "
                                      f"{row['started_at']!r}") from None
            row["line"] = line
            rows.append(row)
    columns = [*CALL_TEXT, "score", "passed", "vetoed", "n_findings", *rule_ids, "line"]
    frame = pd.DataFrame(rows, columns=columns)
    for rid in rule_ids:
        if rid not in counts:
            frame[rid] = 0
    return frame.astype({"score": float, "passed": bool, "vetoed": bool, "n_findings": int,
                         **{rid: int for rid in rule_ids}})


def load_run(path: str | Path, order: int = 0) -> Run:
    """Read one audit output folder's run.json and calls.csv (findings are read on demand)."""
    path = Path(path)
    if not path.is_dir():
        raise ReportError(f"{path}: not a folder (give csqa audit output folders)")
    meta = _read_run_json(path)
    rs = meta["ruleset"]
    rule_ids = [str(r) for r in rs.get("rules", [])]
    audited_at = None
    if isinstance(meta.get("started_at"), str):
        try:
            audited_at = datetime.fromisoformat(meta["started_at"])
        except ValueError:
            raise ReportError(f"{path / 'run.json'}: started_at: not an ISO 8601 date-time: "
                              f"{meta['started_at']!r}") from None
    calls = _read_calls(path, rule_ids)
    return Run(path=path, order=order, audited_at=audited_at, ruleset=rs, calls=calls,
               rule_ids=rule_ids)


def _jsonl(f: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with f.open("rb") as fh:
        for line, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise ReportError(f"{f}:{line}: invalid JSON: {exc.msg}") from None
            if not isinstance(obj, dict) or not isinstance(obj.get("call_id"), str):
                raise ReportError(f"{f}:{line}: expected an object with a call_id")
            yield line, obj


def read_findings(run: Run, call_ids: set[str] | None = None) -> list[dict[str, Any]]:
    """The findings of ``run`` (only of ``call_ids`` when given), in file order."""
    f = run.path / "findings.jsonl"
    if not f.exists():
        raise ReportError(f"{run.path}: no findings.jsonl (incomplete csqa audit output folder)")
    return [obj for _, obj in _jsonl(f) if call_ids is None or obj["call_id"] in call_ids]


def read_customer_text(run: Run, call_ids: set[str]) -> dict[str, str] | None:
    """Customer speech per call from customer_text.jsonl; ``None`` if the run has no such file
    (it was written by a csqa older than ``csqa report``)."""
    f = run.path / "customer_text.jsonl"
    if not f.exists():
        return None
    out: dict[str, str] = {}
    for line, obj in _jsonl(f):
        if obj["call_id"] in call_ids:
            text = obj.get("text", "")
            if not isinstance(text, str):
                raise ReportError(f"{f}:{line}: text: expected text")
            out[obj["call_id"]] = text
    return out
