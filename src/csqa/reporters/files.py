"""The output folder of ``csqa audit``: findings.jsonl, calls.csv, agents.csv, errors.csv, run.json,
and customer_text.jsonl (one ``{"call_id", "text"}`` per call: the customer's utterances joined by
newlines, which ``csqa report`` needs for the period's customer keywords).

Rows stream to temporary files as calls are audited (memory does not grow with the number of
calls) and every file is moved into place only when the run completes, so an interrupted run
leaves the previous outputs, never half-written ones.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from dataclasses import dataclass, field, fields
from operator import attrgetter
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from csqa.model import CUSTOMER, CallResult, InputProblem, shown_name

if TYPE_CHECKING:
    import pandas as pd

CALL_COLUMNS = ["call_id", "agent_id", "agent_name", "team", "started_at", "duration", "score",
                "passed", "vetoed", "n_findings", "not_evaluable", "source",
                "format", "direction", "hangup_by",
                "role_source", "role_confidence", "role_evidence",
                "n_not_evaluable", "evaluated_share"]
ERROR_COLUMNS = ["file", "line", "call_id", "status", "reason"]
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


#: a cell that :func:`safe_cell` would change, in text cells joined by NULs (one search per row)
_MAY_BE_FORMULA = re.compile("\0[" + re.escape("".join(_DANGEROUS)) + "]")


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is prefixed with ' (numbers are kept)."""
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are neutralised with :func:`safe_cell`."""
    from pandas.api.types import is_numeric_dtype

    out = frame.copy()
    for col in out.columns:
        if not is_numeric_dtype(out[col]):
            out[col] = out[col].map(safe_cell)
    return out


def csv_like_pandas(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """What ``safe_frame(pd.DataFrame(rows, columns=columns)).to_csv(index=False)`` writes,
    without loading pandas (so that a one-call audit starts in well under a second): a column
    holding any float is written as floats, as its dtype would be; a column of text goes
    through :func:`safe_cell`."""
    cells: list[list[Any]] = [[row[c] for c in columns] for row in rows]
    for j, _ in enumerate(columns):
        values = [r[j] for r in cells]
        if all(isinstance(v, str) for v in values):
            for r in cells:
                r[j] = safe_cell(r[j])
        elif any(isinstance(v, float) for v in values):
            for r in cells:
                r[j] = repr(float(r[j]))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(cells)
    return buf.getvalue()


_UNSAFE_NAME = re.compile(r"[^0-9A-Za-z_\-\u4e00-\u9fff]+")


def safe_name(value: str, max_len: int = 60) -> str:
    """A file name made from an untrusted value (agent_id, call_id): never a path.

    Only letters, digits, ``_``, ``-`` and Chinese characters are kept, everything else
    (``/``, ``..``, ``\\``, NUL, drive letters) becomes ``_``; a short hash of the raw value
    keeps distinct values distinct (``a/b`` and ``a_b`` do not collide). Use it for every
    per-agent or per-call file; the result is always a plain name inside the output folder.
    """
    cleaned = _UNSAFE_NAME.sub("_", value).strip("_")[:max_len] or "x"
    if cleaned == value:
        return cleaned
    digest = hashlib.sha1(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned}-{digest}"


_TEMP_NAME = re.compile(r"^\..+\.(\d+)(?:\.[a-z]+)?\.tmp$")


def remove_stale_temp_files(out_dir: Path) -> list[Path]:
    """Remove the temp files of runs that were killed (``kill -9``) in ``out_dir``.

    Only files named like csqa's temp files whose process is no longer alive on this machine
    are removed, so a run still writing into the same folder is left alone.
    """
    removed = []
    for f in out_dir.glob(".*.tmp"):
        m = _TEMP_NAME.match(f.name)
        if m is None or _alive(int(m.group(1))):
            continue
        f.unlink(missing_ok=True)
        removed.append(f)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's), or cannot tell: keep its files
    return True


@dataclass(slots=True)
class RenderedCall:
    """One audited call, reduced to what the outputs and the scorecards need (small, picklable).

    ``findings`` is the call's findings.jsonl bytes, ``csv_row`` its calls.csv line (UTF-8) and
    ``customer`` its customer_text.jsonl line, so parallel workers do the formatting and the
    writer only appends.
    """

    call_id: str
    agent_id: str
    agent_name: str | None
    team: str | None
    source: str
    line: int | None
    score: float
    passed: bool
    vetoed: bool
    n_findings: int
    rule_counts: dict[str, int]
    findings: bytes
    csv_row: bytes
    rule_errors: list[tuple[str, str]]
    role_source: str = ""
    customer: bytes = b""
    n_not_evaluable: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def location(self) -> str:
        source = shown_name(self.source)
        return f"{source}:{self.line}" if self.line is not None else source

    def __reduce__(self) -> tuple[type[RenderedCall], tuple[Any, ...]]:
        # pickled as its fields in order: about half the time of a slotted dataclass's default
        # (a dict of slot names per call), on the main process's side of every worker batch
        return RenderedCall, _rendered_fields(self)


_rendered_fields = attrgetter(*(f.name for f in fields(RenderedCall)))


def render_call(result: CallResult, rule_ids: list[str]) -> RenderedCall:
    """The output bytes and cells of one audited call."""
    t = result.transcript
    findings = b"".join(orjson.dumps(f.as_dict()) + b"\n" for f in result.findings)
    row = [t.call_id, t.agent_id, t.agent_name or "", t.team or "", t.started_at or "",
           round(t.length, 2), result.score, result.passed, result.vetoed,
           len(result.findings), ";".join(sorted(result.not_evaluable)), t.location,
           t.format, t.direction or "", t.hangup_by or "", t.role_source,
           "" if t.role_confidence is None else t.role_confidence, t.role_evidence,
           len(result.not_evaluable), result.evaluated_share]
    if _MAY_BE_FORMULA.search("\0" + "\0".join(v for v in row if isinstance(v, str))):
        row = [safe_cell(v) for v in row]  # rare: one search rules it out for the whole row
    counts = result.rule_counts
    row.extend([counts.get(rid, 0) for rid in rule_ids] if counts else [0] * len(rule_ids))
    _ROW_WRITER.writerow(row)
    csv_row = _ROW_BUFFER.getvalue().encode("utf-8")  # encoded here, by the worker
    _ROW_BUFFER.seek(0)
    _ROW_BUFFER.truncate()
    customer = "\n".join([u.text for u in t.utterances if u.speaker == CUSTOMER and u.text])
    shared = _SHARED.setdefault if len(_SHARED) < 4096 else _SHARED.get
    return RenderedCall(t.call_id, shared(t.agent_id, t.agent_id),
                        t.agent_name and shared(t.agent_name, t.agent_name),
                        t.team and shared(t.team, t.team), t.source, t.line,
                        result.score, result.passed, result.vetoed, len(result.findings),
                        result.rule_counts, findings, csv_row, list(result.rule_errors.items()),
                        t.role_source,
                        orjson.dumps({"call_id": t.call_id, "text": customer}) + b"\n",
                        len(result.not_evaluable), list(t.warnings))


#: one object per distinct agent id, name and team in this process: the calls of a batch then
#: share them, and pickle sends each once per batch (the main process decodes it once)
_SHARED: dict[str, str] = {}

_ROW_BUFFER = io.StringIO(newline="")
_ROW_WRITER = csv.writer(_ROW_BUFFER)


class OutputFolder:
    """Writes one run's files into ``out_dir`` atomically (temp files, renamed at the end)."""

    def __init__(self, out_dir: Path, rule_ids: list[str]) -> None:
        self.out_dir = out_dir
        self.rule_ids = rule_ids
        out_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temp_files(out_dir)
        self._tmp: dict[str, Path] = {}
        self._findings = self._open("findings.jsonl", "wb")
        self._calls_fh = self._open("calls.csv", "wb")
        self._errors_fh = self._open("errors.csv", "w")
        self._customer = self._open("customer_text.jsonl", "wb")
        self._errors = csv.writer(self._errors_fh)
        header = io.StringIO(newline="")
        csv.writer(header).writerow(CALL_COLUMNS + rule_ids)
        self._calls_fh.write(header.getvalue().encode("utf-8"))
        self._errors.writerow(ERROR_COLUMNS)

    def _open(self, name: str, mode: str) -> IO[Any]:
        tmp = self.out_dir / f".{name}.{os.getpid()}.tmp"
        self._tmp[name] = tmp
        if "b" in mode:
            return tmp.open(mode)
        return tmp.open(mode, encoding="utf-8", newline="")

    def write_call(self, result: CallResult) -> None:
        self.write_rendered(render_call(result, self.rule_ids))

    def write_rendered(self, call: RenderedCall) -> None:
        """Write one call already turned into output bytes and cells (see :func:`render_call`)."""
        if call.findings:
            self._findings.write(call.findings)
        self._calls_fh.write(call.csv_row)
        self._customer.write(call.customer)
        for rid, err in call.rule_errors:
            self._errors.writerow([safe_cell(shown_name(call.source)), call.line or "",
                                   safe_cell(call.call_id),
                                   "rule_error", f"rule {rid} failed on this call: {err}"])

    def write_problem(self, p: InputProblem) -> None:
        self._errors.writerow([safe_cell(shown_name(p.file)), p.line if p.line is not None else "",
                               safe_cell(p.call_id or ""), p.status,
                               safe_cell(shown_name(p.reason))])

    def finish(self, agents_csv: str, run: dict[str, Any]) -> None:
        """Close the streams, write agents.csv and run.json, and move everything into place.

        Every file is flushed to disk before any is renamed, and run.json is renamed last:
        a run killed before this point leaves the previous outputs untouched.
        """
        for fh in (self._findings, self._calls_fh, self._errors_fh, self._customer):
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
        self._write_tmp("agents.csv", agents_csv.encode("utf-8"))
        self._write_tmp("run.json", orjson.dumps(run, option=orjson.OPT_INDENT_2) + b"\n")
        for name, tmp in self._tmp.items():
            os.replace(tmp, self.out_dir / name)

    def _write_tmp(self, name: str, data: bytes) -> None:
        tmp = self.out_dir / f".{name}.{os.getpid()}.tmp"
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        self._tmp[name] = tmp

    def abort(self) -> None:
        """Remove the temporary files of an interrupted run (the previous outputs stay)."""
        for fh in (self._findings, self._calls_fh, self._errors_fh, self._customer):
            fh.close()
        for tmp in self._tmp.values():
            tmp.unlink(missing_ok=True)
