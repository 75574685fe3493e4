"""The output folder of ``csqa audit``: findings.jsonl, calls.csv, agents.csv, errors.csv, run.json,
customer_text.jsonl (one ``{"call_id", "text"}`` per call: the customer's utterances joined by
newlines, which ``csqa report`` needs for the period's customer keywords) and conversation.jsonl
(one ``{"call_id", "utterances": [[speaker, start, end, text], …]}`` per call, as audited and
masked: the report's call pages show the conversation from it, without the transcript files).

Rows stream to files in a private staging folder as calls are audited (memory does not grow
with the number of calls). When the run completes the files switch as one set (see
:mod:`csqa.runs`): run.json, which records the size and SHA-256 of the others, is renamed into
place first, then the others. An interrupted run leaves the previous outputs; one killed between
the renames leaves a folder that :func:`csqa.runs.open_run` reads as the new run, and that the
next audit completes. The folder is locked (``fcntl``) while an audit writes into it, and no
output is ever written through a symbolic link.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, fields
from operator import attrgetter
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from csqa import safeio
from csqa.errors import InputError
from csqa.model import CUSTOMER, CallResult, InputProblem, shown_name
from csqa.runs import (
    DANGEROUS,
    LOCK_NAME,
    OUTPUTS,
    RUN_JSON,
    STAGING_PREFIX,
    file_digest,
    is_staging,
    safe_cell,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CALL_COLUMNS", "ERROR_COLUMNS", "OutputFolder", "RenderedCall", "csv_like_pandas",
           "render_call", "safe_cell", "safe_frame", "safe_name"]

CALL_COLUMNS = ["call_id", "agent_id", "agent_name", "team", "started_at", "duration", "score",
                "passed", "vetoed", "n_findings", "not_evaluable", "source",
                "format", "direction", "hangup_by",
                "role_source", "role_confidence", "role_evidence",
                "n_not_evaluable", "evaluated_share"]
ERROR_COLUMNS = ["file", "line", "call_id", "status", "reason"]


#: a cell that :func:`safe_cell` would change, in text cells joined by NULs (one search per row)
_MAY_BE_FORMULA = re.compile("\0[" + re.escape("".join(DANGEROUS)) + "]")


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


@dataclass(slots=True)
class RenderedCall:
    """One audited call, reduced to what the outputs and the scorecards need (small, picklable).

    ``findings`` is the call's findings.jsonl bytes, ``csv_row`` its calls.csv line (UTF-8),
    ``customer`` its customer_text.jsonl line and ``conversation`` its conversation.jsonl line,
    so parallel workers do the formatting and the writer only appends.
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
    conversation: bytes = b""

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
                        len(result.not_evaluable), list(t.warnings),
                        orjson.dumps({"call_id": t.call_id, "utterances": [
                            (u.speaker, u.start, u.end, u.text) for u in t.utterances]}) + b"\n")


#: one object per distinct agent id, name and team in this process: the calls of a batch then
#: share them, and pickle sends each once per batch (the main process decodes it once)
_SHARED: dict[str, str] = {}

_ROW_BUFFER = io.StringIO(newline="")
_ROW_WRITER = csv.writer(_ROW_BUFFER)

_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def lock_folder(out_dir: Path) -> int:
    """Create ``out_dir`` if needed and lock it for this process (an open descriptor of its lock
    file; closing it unlocks). A folder or output that is a symbolic link is refused, a folder
    another csqa is writing into too; an earlier audit killed between its renames is completed
    and staging folders left by killed runs are removed (only while holding the lock, and only
    real folders of csqa's own naming)."""
    safeio.refuse_link(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (RUN_JSON, *OUTPUTS, LOCK_NAME):
        safeio.refuse_link(out_dir / name)
    fd = os.open(out_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"{out_dir}: 另一个 csqa 正在写入这个输出文件夹,本次未运行;"
                             "等它结束后再试,或换一个 --out") from None
        _complete_interrupted(out_dir)
        for entry in os.scandir(out_dir):
            if is_staging(entry.name) and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)  # fd-based: never follows a link
    except BaseException:
        os.close(fd)
        raise
    return fd


def _complete_interrupted(out_dir: Path) -> None:
    """Move into place the files an audit killed after its commit left in its staging folder."""
    try:
        record = orjson.loads(safeio.read_bytes(out_dir / RUN_JSON))
    except (OSError, orjson.JSONDecodeError):
        return
    staging = record.get("staging") if isinstance(record, dict) else None
    outputs = record.get("outputs") if isinstance(record, dict) else None
    if not (isinstance(staging, str) and is_staging(staging) and isinstance(outputs, dict)):
        return
    folder = out_dir / staging
    if folder.is_symlink() or not folder.is_dir():
        return
    for name, entry in outputs.items():
        if name not in OUTPUTS or not isinstance(entry, dict):
            continue
        staged = folder / name
        try:
            with os.fdopen(os.open(staged, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC), "rb") as fh:
                matches = file_digest(fh) == entry.get("sha256")
        except OSError:
            continue
        if matches:
            os.replace(staged, out_dir / name)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is done (the renames of a commit take
    milliseconds; stopping between them would leave the work of completing them to a reader)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _digest(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return {"bytes": os.fstat(fh.fileno()).st_size, "sha256": file_digest(fh)}


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Staged:
    """A private staging folder in an output folder (``mkdtemp``: a fresh unpredictable name,
    mode 0700) whose files switch into the folder as one set with :meth:`commit`."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.path = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out_dir))
        self.committed = False

    def create(self, name: str) -> IO[bytes]:
        """A new file in the staging folder, created exclusively, never through a link."""
        return os.fdopen(os.open(self.path / name, _NEW_FILE, 0o666), "wb")

    def write(self, name: str, data: bytes) -> None:
        with self.create(name) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    def commit(self, record: dict[str, Any], names: list[str]) -> None:
        """Write run.json (``record`` with the staging folder's name) and move it, then
        ``names``, into the output folder. After run.json's rename the new run is the folder's
        run: readers find a file not yet moved in the staging folder, by its SHA-256."""
        self.write(RUN_JSON, orjson.dumps({**record, "staging": self.path.name},
                                          option=orjson.OPT_INDENT_2) + b"\n")
        with _signals_held():
            os.replace(self.path / RUN_JSON, self.out_dir / RUN_JSON)
            self.committed = True
            for name in names:
                os.replace(self.path / name, self.out_dir / name)
            _fsync_dir(self.out_dir)
            self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class OutputFolder:
    """Writes one run's files into ``out_dir`` as one set (see the module doc)."""

    def __init__(self, out_dir: Path, rule_ids: list[str]) -> None:
        self.out_dir = out_dir
        self.rule_ids = rule_ids
        self._lock: int | None = lock_folder(out_dir)
        self._streams: list[IO[Any]] = []
        try:
            self._staged = _Staged(out_dir)
            self._findings = self._open("findings.jsonl")
            self._calls_fh = self._open("calls.csv")
            self._errors_fh = io.TextIOWrapper(self._open("errors.csv"), encoding="utf-8",
                                               newline="")
            self._streams[-1] = self._errors_fh
            self._customer = self._open("customer_text.jsonl")
            self._conversation = self._open("conversation.jsonl")
        except BaseException:
            self.abort()
            raise
        self._errors = csv.writer(self._errors_fh)
        header = io.StringIO(newline="")
        csv.writer(header).writerow(CALL_COLUMNS + rule_ids)
        self._calls_fh.write(header.getvalue().encode("utf-8"))
        self._errors.writerow(ERROR_COLUMNS)

    @property
    def staging(self) -> Path:
        """The private folder this run's files are written in until they switch into place."""
        return self._staged.path

    @property
    def committed(self) -> bool:
        """Whether this run's outputs are the folder's (run.json was moved into place)."""
        return self._staged.committed if hasattr(self, "_staged") else False

    def _open(self, name: str) -> IO[bytes]:
        fh = self._staged.create(name)
        self._streams.append(fh)
        return fh

    def write_call(self, result: CallResult) -> None:
        self.write_rendered(render_call(result, self.rule_ids))

    def write_rendered(self, call: RenderedCall) -> None:
        """Write one call already turned into output bytes and cells (see :func:`render_call`)."""
        if call.findings:
            self._findings.write(call.findings)
        self._calls_fh.write(call.csv_row)
        self._customer.write(call.customer)
        self._conversation.write(call.conversation)
        for rid, err in call.rule_errors:
            self._errors.writerow([safe_cell(shown_name(call.source)), call.line or "",
                                   safe_cell(call.call_id),
                                   "rule_error", f"规则 {rid} 在这通通话上运行失败:{err}"])

    def write_problem(self, p: InputProblem) -> None:
        self._errors.writerow([safe_cell(shown_name(p.file)), p.line if p.line is not None else "",
                               safe_cell(p.call_id or ""), p.status,
                               safe_cell(shown_name(p.reason))])

    def finish(self, agents_csv: str, run: dict[str, Any]) -> None:
        """Close the streams, write agents.csv and run.json, and switch the set into place.

        Every file is flushed to disk first; run.json, written last, records the size and
        SHA-256 of each of the others. A run killed before its rename leaves the previous
        outputs untouched.
        """
        for fh in self._streams:
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
        self._staged.write("agents.csv", agents_csv.encode("utf-8"))
        outputs = {name: _digest(self.staging / name) for name in OUTPUTS}
        self._staged.commit({**run, "outputs": outputs}, list(OUTPUTS))
        self._unlock()

    def abort(self) -> None:
        """Remove this run's files (the previous outputs stay), unless they are already the
        folder's; unlock the folder."""
        for fh in self._streams:
            with suppress(OSError):  # a full disk fails the last flush too: the file goes anyway
                fh.close()
        if hasattr(self, "_staged") and not self._staged.committed:
            self._staged.discard()
        self._unlock()

    def _unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def replace_outputs(out_dir: Path, files: dict[str, bytes], record: dict[str, Any]) -> None:
    """Replace some outputs of a finished run and its run.json (``record``) as one set,
    holding the folder's lock (``csqa audit --reviews`` adds reviewed columns so)."""
    fd = lock_folder(out_dir)
    try:
        staged = _Staged(out_dir)
        try:
            outputs = dict(record.get("outputs") or {})
            if not outputs:  # a run written before outputs were recorded
                outputs = {n: _digest(out_dir / n) for n in OUTPUTS if (out_dir / n).is_file()}
            for name, data in files.items():
                staged.write(name, data)
                outputs[name] = _digest(staged.path / name)
            staged.commit({**record, "outputs": outputs}, list(files))
        except BaseException:
            if not staged.committed:
                staged.discard()
            raise
    finally:
        os.close(fd)
