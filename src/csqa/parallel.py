"""Streaming, parallel audit: raw lines and files in batches to workers, compact results back.

The main process walks the inputs and cuts them into *batches* of raw work (JSONL lines and
``.json`` file bytes as they are on disk; calls of other formats already loaded). Each worker
compiles the ruleset once and turns a batch into one list of outcomes per input item: an
:class:`~csqa.reporters.files.RenderedCall` (the call's findings.jsonl bytes, its calls.csv row
and its scorecard numbers) or an :class:`~csqa.model.InputProblem`. The main process writes
them in input order, so the output is the same bytes whatever the number of workers or the
engine (a local process pool, or Dask: :mod:`csqa.dask_engine`). Nothing per utterance
outlives its batch.

For Spark or any other framework, :func:`audit_records` is the function to map over
partitions: records in, findings and call rows out (see its docstring).
"""

from __future__ import annotations

import csv
import io
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import IO, Any, Literal

from csqa.engine import Engine
from csqa.loaders import archive, jsonl, loader_for, supported
from csqa.model import InputProblem, Transcript
from csqa.reporters.files import CALL_COLUMNS, RenderedCall, render_call
from csqa.roles import RoleOptions, assign_roles
from csqa.ruleset import Ruleset, load_ruleset

#: A unit of work, as cut by the main process:
#: ``("line", file, line number, raw bytes)`` a JSONL line;
#: ``("file", file, raw bytes)`` a whole file, read by its own loader in the worker;
#: ``("obj", Transcript | InputProblem)`` a call (or problem) loaded in the main process
#: (archives); ``("ready", Transcript | InputProblem)`` the same, already prepared (joined to
#: its call record, roles settled);
#: ``("chunk", file, first line number, raw bytes)`` consecutive whole JSONL lines (one
#: pickled blob is far cheaper to ship to a worker than one object per line).
Item = tuple[Any, ...]
Outcome = RenderedCall | InputProblem

BATCH_ITEMS = 256
BATCH_BYTES = 1 << 19

_ENGINES: list[tuple[Ruleset, Engine, list[str]]] = []


def engine_for(ruleset: Ruleset) -> tuple[Engine, list[str]]:
    """The compiled engine of ``ruleset`` in this process (compiled once per process).

    Keyed by identity: a worker receives the ruleset once and keeps that object.
    """
    for rs, engine, rule_ids in _ENGINES:
        if rs is ruleset:
            return engine, rule_ids
    if len(_ENGINES) >= 4:
        _ENGINES.pop(0)
    entry = (ruleset, Engine(ruleset), [r.id for r in ruleset.rules])
    _ENGINES.append(entry)
    return entry[1], entry[2]


@dataclass(frozen=True)
class Job:
    """What a worker needs besides the input: the ruleset and how to read exports."""

    ruleset: Ruleset
    format: str | None = None
    roles: RoleOptions | None = None

    @property
    def key(self) -> str:
        """Everything about the job that changes results (for the incremental cache)."""
        rs = self.ruleset  # finding ids carry the ruleset's name and version
        return f"{rs.hash}|{rs.name}|{rs.version}|{self.format}|{self.roles!r}"


class FileBytes:
    """A file's bytes standing in for its path: what loaders use of a ``Path`` (the name, the
    stem, ``read_bytes``, ``open``), so a worker can read a file it cannot see."""

    def __init__(self, path: str, data: bytes) -> None:
        self._path = path
        self._data = data
        p = PurePath(path)
        self.name, self.stem, self.suffix = p.name, p.stem, p.suffix

    def __str__(self) -> str:
        return self._path

    def open(self, mode: str = "rb") -> IO[bytes]:
        if mode != "rb":
            raise ValueError("read-only, binary")
        return io.BytesIO(self._data)

    def read_bytes(self) -> bytes:
        return self._data

    def is_file(self) -> bool:
        return True


def prepare_call(t: Transcript, roles: RoleOptions | None) -> Transcript | InputProblem:
    """A loaded call made ready to audit: a default agent id, and its speaker roles settled."""
    if not t.agent_id:
        t.agent_id = "unknown"
    return assign_roles(t, roles)


def _load_item(item: Item, job: Job) -> Iterator[Transcript | InputProblem]:
    kind = item[0]
    if kind == "ready":
        yield item[1]
        return
    for loaded in _read_item(item, job.format):
        if isinstance(loaded, InputProblem):
            yield loaded
        else:
            yield prepare_call(loaded, job.roles)


def _read_item(item: Item, fmt: str | None) -> Iterator[Transcript | InputProblem]:
    kind = item[0]
    if kind == "chunk":
        name, lineno = item[1], item[2]
        lines = item[3].split(b"\n")
        if lines and not lines[-1]:
            lines.pop()
        for n, raw in enumerate(lines, start=lineno):
            loaded = jsonl.parse_line(raw, name, n)
            if loaded is not None:
                yield loaded
    elif kind == "line":
        loaded = jsonl.parse_line(item[3], item[1], item[2])
        if loaded is not None:
            yield loaded
    elif kind == "file":
        f = FileBytes(item[1], item[2])
        loader = loader_for(f, fmt)
        if loader is not None:  # the main process only ships files that have a loader
            yield from loader(f)  # type: ignore[arg-type]
    else:
        yield item[1]


def audit_items(items: list[Item], job: Job) -> list[list[Outcome]]:
    """Audit one batch: for each item, its outcomes in order (what a worker runs)."""
    engine, rule_ids = engine_for(job.ruleset)
    out: list[list[Outcome]] = []
    for item in items:
        outcomes: list[Outcome] = []
        for loaded in _load_item(item, job):
            if isinstance(loaded, InputProblem):
                outcomes.append(loaded)
            else:
                outcomes.append(render_call(engine.audit(loaded), rule_ids))
        out.append(outcomes)
    return out


# ---- the public per-partition function (Dask, Spark mapInPandas, anything) ------------------

@dataclass
class AuditedRecords:
    """What :func:`audit_records` returns: plain rows, ready for ``pandas.DataFrame(rows)``.

    ``findings``: one dict per finding (the fields of findings.jsonl); ``calls``: one dict per
    audited call (the columns of calls.csv, then one count per rule id, as the text written to
    calls.csv); ``problems``: one dict
    per record that could not be audited (``file, line, call_id, status, reason``).
    """

    findings: list[dict[str, Any]]
    calls: list[dict[str, Any]]
    problems: list[dict[str, Any]]


def audit_records(records: Iterable[dict[str, Any] | str | bytes],
                  ruleset: Ruleset | str | Path | None = None,
                  source: str = "<records>", roles: RoleOptions | None = None
                  ) -> AuditedRecords:
    """Audit csqa call records (dicts, or JSON text/bytes of one call each); no files written.

    This is the function the Dask engine maps over partitions, public so that other engines
    can do the same. The ruleset is compiled once per process and reused. In Spark, with a
    DataFrame ``df`` whose column ``json`` holds one call per row::

        from csqa.parallel import audit_records

        def audit_partition(frames):
            for frame in frames:
                rows = audit_records(frame["json"], ruleset="my-rules.yaml")
                yield pandas.DataFrame(rows.findings, columns=FINDING_FIELDS)

        findings = df.mapInPandas(audit_partition, schema=findings_schema)

    Records are numbered from 1 in the order given (``source:N`` in messages); speaker roles
    are settled as ``csqa audit`` does (``roles``: its ``--agent-channel``/speakers options).
    Duplicate call ids are *not* rejected here: a partition cannot see the others.
    """
    import orjson

    rs = ruleset if isinstance(ruleset, Ruleset) else load_ruleset(ruleset)
    items: list[Item] = []
    for n, rec in enumerate(records, start=1):
        raw = orjson.dumps(rec) if isinstance(rec, dict) else rec
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        items.append(("line", source, n, raw))
    rule_ids = [r.id for r in rs.rules]
    out = AuditedRecords([], [], [])
    for outcomes in audit_items(items, Job(rs, None, roles)):
        for o in outcomes:
            if isinstance(o, InputProblem):
                out.problems.append({"file": o.file, "line": o.line, "call_id": o.call_id,
                                     "status": o.status, "reason": o.reason})
                continue
            out.findings.extend(orjson.loads(line) for line in o.findings.splitlines())
            row = next(csv.reader([o.csv_row]))
            out.calls.append(dict(zip(CALL_COLUMNS + rule_ids, row, strict=True)))
    return out


# ---- cutting inputs into batches ----------------------------------------------------------

def _problem(path: Path, exc: OSError) -> Item:
    return ("obj", InputProblem(str(path), None, f"cannot read: {exc.strerror or exc}"))


def _chunks(path: Path) -> Iterator[tuple[Item, int]]:
    """A JSONL file as chunks of about ``BATCH_BYTES`` of whole lines."""
    name = str(path)
    lineno = 1
    rest = b""
    with path.open("rb") as fh:
        while True:
            block = fh.read(BATCH_BYTES)
            if not block:
                break
            block = rest + block
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                rest = block
                continue
            rest = block[cut:]
            yield ("chunk", name, lineno, block[:cut]), BATCH_BYTES
            lineno += block.count(b"\n", 0, cut)
    if rest:
        yield ("chunk", name, lineno, rest), BATCH_BYTES


def _items_of(path: Path, loader: Callable[..., Any] | None,
              per_line: bool) -> Iterator[tuple[Item, int]]:
    """The work items of one file, with their size in bytes (for batching)."""
    name = str(path)
    if loader is None:
        yield ("obj", InputProblem(name, None,
                                   f"not a transcript file type ({path.suffix or 'no suffix'}); "
                                   f"supported: {supported()}", status="skipped")), 0
        return
    try:
        if loader is jsonl.load and not per_line:
            yield from _chunks(path)
        elif loader is jsonl.load:
            with path.open("rb") as fh:
                for lineno, raw in enumerate(fh, start=1):
                    yield ("line", name, lineno, raw), len(raw)
        elif archive.kind(path.name):  # read here, member by member, in order
            for obj in loader(path):
                yield ("obj", obj), 2048
        else:
            data = path.read_bytes()
            yield ("file", name, data), len(data)
    except OSError as exc:
        yield _problem(path, exc), 0


def batches(files: list[tuple[Path, Callable[..., Any] | None]],
            on_file: Callable[[Path, int, int], None] | None = None,
            per_line: bool = False) -> Iterator[list[Item]]:
    """Every input item, in input order, cut into batches of about ``BATCH_ITEMS`` items.

    JSONL files are cut into chunks of whole lines, unless ``per_line`` (the incremental cache
    keys each line).
    """
    buf: list[Item] = []
    size = 0
    for done, (path, loader) in enumerate(files):
        if on_file is not None:
            on_file(path, done, len(files))
        for item, n in _items_of(path, loader, per_line):
            buf.append(item)
            size += n
            if len(buf) >= BATCH_ITEMS or size >= BATCH_BYTES:
                yield buf
                buf, size = [], 0
    if buf:
        yield buf


# ---- running batches, in order, on a pool of processes ------------------------------------

_WORKER_JOB: Job | None = None


def _init_worker(job: Job) -> None:
    global _WORKER_JOB
    _WORKER_JOB = job
    engine_for(job.ruleset)  # compile once, before the first batch arrives


def _run_in_worker(items: list[Item]) -> list[list[Outcome]]:
    assert _WORKER_JOB is not None
    return audit_items(items, _WORKER_JOB)


def default_jobs() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def run_local(work: Iterable[list[Item]], job: Job, jobs: int
              ) -> Iterator[list[list[Outcome]]]:
    """Audit batches on ``jobs`` worker processes; results come back in input order.

    At most ``2 × jobs + 2`` batches are in flight, so memory does not grow with the input. With
    one job, or when the input fits in one batch, everything runs in this process.
    """
    it = iter(work)
    first = next(it, None)
    if first is None:
        return
    second = next(it, None) if jobs > 1 else None
    if second is None:
        yield audit_items(first, job)
        for batch in it:
            yield audit_items(batch, job)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker,
                             initargs=(job,)) as pool:
        window: deque[Any] = deque([pool.submit(_run_in_worker, first),
                                    pool.submit(_run_in_worker, second)])
        limit = 2 * jobs + 2
        for batch in it:
            window.append(pool.submit(_run_in_worker, batch))
            if len(window) >= limit:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


EngineName = Literal["local", "dask"]
