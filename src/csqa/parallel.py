"""Streaming, parallel audit: batches of work items to workers, compact results back.

The reader (:mod:`csqa.reading`) turns the inputs into typed work items; what a worker may
parse itself is declared in the loader table: a JSON Lines file (also one inside an archive)
comes as :class:`~csqa.reading.RawLines`, a ``.json`` file as a
:class:`~csqa.reading.WorkerFile` (local engine), so the main process only reads and unpacks.
Everything else (other archive members, text, CSV, subtitle files, joins with call records,
``--incremental`` runs) is loaded and prepared by the main process and sent as
:class:`~csqa.reading.ReadyCall`. Both go through the same
:class:`~csqa.reading.Preparation` (roles, default agent id). Each worker compiles the ruleset
once and turns a batch into outcomes: an
:class:`~csqa.reporters.files.RenderedCall` per call (audited, redacted, and already formatted
as its findings.jsonl bytes, calls.csv line, customer_text.jsonl line and scorecard numbers),
or the whole :class:`~csqa.model.CallResult` when the job asks for it (``check``, ``explain``,
``backtest``), the :class:`~csqa.model.InputProblem` items as they came, and a
:class:`~csqa.reading.FileStart` where each input file begins (for the run's accounting).
:mod:`csqa.pipeline` keeps outcomes in input order, so the output is the same bytes whatever
the number of workers or the engine (a local process pool, or Dask:
:mod:`csqa.dask_engine`). Nothing per utterance outlives its batch.

For Spark or any other framework, :func:`audit_records` is the function to map over
partitions: records in, findings and call rows out (see its docstring).
"""

from __future__ import annotations

import csv
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csqa.engine import Engine
from csqa.loaders.common import Limits, use_limits
from csqa.model import CallResult, InputProblem, Transcript
from csqa.reading import FileStart, Preparation, RawLines, ReadyCall, WorkItem, parse
from csqa.redact import redact_result
from csqa.reporters.files import CALL_COLUMNS, RenderedCall, render_call
from csqa.roles import RoleOptions
from csqa.ruleset import Ruleset, load_ruleset

Item = WorkItem

Outcome = RenderedCall | CallResult | InputProblem | FileStart

BATCH_ITEMS = 256

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
    """What a worker needs besides the calls: the ruleset, whether outputs are redacted, how
    calls it parses itself are prepared, and what it sends back."""

    ruleset: Ruleset
    redact: bool = True
    #: how the calls were read (``--input-format``, roles): part of the incremental cache key
    reading: str = ""
    #: the prepare step for calls the workers parse themselves (never with call records)
    prepare: Preparation = field(default_factory=Preparation)
    #: input size limits for those calls (the reader's ``--max-utterances`` etc.)
    limits: Limits | None = None
    #: send each audited call back as its output lines (:class:`RenderedCall`), or whole
    #: (:class:`~csqa.model.CallResult`, for a report that shows findings and utterances)
    render: bool = True

    @property
    def key(self) -> str:
        """Everything about the job that changes results (for the incremental cache)."""
        rs = self.ruleset  # finding ids carry the ruleset's name and version
        return f"{rs.hash}|{rs.name}|{rs.version}|{self.redact}|{self.reading}"


def audit_items(items: list[Item], job: Job) -> list[list[Outcome]]:
    """Audit one batch: for each item, its outcomes in order (what a worker runs)."""
    engine, rule_ids = engine_for(job.ruleset)
    out: list[list[Outcome]] = []
    for item in items:
        if type(item) is ReadyCall:
            out.append([_audit_one(item.call, engine, rule_ids, job)])
        elif type(item) is FileStart:
            out.append([item])
        else:  # parsed here rather than in the reader
            with use_limits(job.limits):
                loaded = parse(item, job.prepare)  # type: ignore[arg-type]
            out.append([x if type(x) is FileStart else _audit_one(x, engine, rule_ids, job)
                        for x in loaded])
    return out


def _audit_one(loaded: Transcript | InputProblem | FileStart, engine: Engine,
               rule_ids: list[str], job: Job) -> Outcome:
    if isinstance(loaded, (InputProblem, FileStart)):
        return loaded
    result = engine.audit(loaded)
    if job.redact:
        result = redact_result(result)
    return render_call(result, rule_ids) if job.render else result


# ---- the public per-partition function (Dask, Spark mapInPandas, anything) ------------------

@dataclass
class AuditedRecords:
    """What :func:`audit_records` returns: plain rows, ready for ``pandas.DataFrame(rows)``.

    ``findings``: one dict per finding (the fields of findings.jsonl); ``calls``: one dict per
    audited call (the columns of calls.csv, then one count per rule id, as the text written to
    calls.csv); ``problems``: one dict per record that could not be audited (``file, line,
    call_id, status, reason``).
    """

    findings: list[dict[str, Any]]
    calls: list[dict[str, Any]]
    problems: list[dict[str, Any]]


def audit_records(records: Iterable[dict[str, Any] | str | bytes],
                  ruleset: Ruleset | str | Path | None = None,
                  source: str = "<records>", roles: RoleOptions | None = None,
                  redact: bool = True) -> AuditedRecords:
    """Audit csqa call records (dicts, or JSON text/bytes of one call each); no files written.

    The function to map over partitions in another engine. The ruleset is compiled once per
    process and reused. In Spark, with a DataFrame ``df`` whose column ``json`` holds one call
    per row::

        from csqa.parallel import audit_records

        def audit_partition(frames):
            for frame in frames:
                rows = audit_records(frame["json"], ruleset="my-rules.yaml")
                yield pandas.DataFrame(rows.findings)

        findings = df.mapInPandas(audit_partition, schema=findings_schema)

    Each record is read as a line of a JSON Lines export, numbered from 1 in the order given
    (``source:N`` in messages); speaker roles are settled as ``csqa audit`` does (``roles``:
    its ``--agent-channel``/speakers options); outputs are redacted unless ``redact=False``.
    Duplicate call ids are *not* rejected here: a partition cannot see the others.
    """
    import orjson

    from csqa.loaders.jsonl import Lines  # each record read as one line of a JSONL export

    rs = ruleset if isinstance(ruleset, Ruleset) else load_ruleset(ruleset)
    lines: list[tuple[int, bytes]] = []
    for n, rec in enumerate(records, start=1):
        raw = orjson.dumps(rec) if isinstance(rec, dict) else rec
        lines.append((n, raw.encode("utf-8") if isinstance(raw, str) else raw))
    items: list[Item] = [RawLines(Lines(source, lines))]
    prepare = Preparation(roles or RoleOptions())
    rule_ids = [r.id for r in rs.rules]
    out = AuditedRecords([], [], [])
    for outcomes in audit_items(items, Job(rs, redact, prepare=prepare)):
        for o in outcomes:
            if isinstance(o, InputProblem):
                out.problems.append({"file": o.file, "line": o.line, "call_id": o.call_id,
                                     "status": o.status, "reason": o.reason})
            elif isinstance(o, RenderedCall):
                out.findings.extend(orjson.loads(line) for line in o.findings.splitlines())
                row = next(csv.reader([o.csv_row.decode("utf-8")]))
                out.calls.append(dict(zip(CALL_COLUMNS + rule_ids, row, strict=True)))
    return out


def ready_batches(items: Iterable[Item], size: int | None = None) -> Iterator[list[Item]]:
    """Work items cut into batches of about ``size`` calls (default ``BATCH_ITEMS``); a chunk of
    raw lines counts as its number of lines."""
    size = size or BATCH_ITEMS
    batch: list[Item] = []
    weight = 0
    for item in items:
        batch.append(item)
        weight += len(item.chunk.lines) if type(item) is RawLines else 1
        if weight >= size:
            yield batch
            batch = []
            weight = 0
    if batch:
        yield batch


# ---- running batches, in order, on a pool of processes ------------------------------------

_WORKER_JOB: Job | None = None


def _init_worker(job: Job, parent: int) -> None:
    global _WORKER_JOB
    _die_with_parent(parent)
    _WORKER_JOB = job
    engine_for(job.ruleset)  # compile once, before the first batch arrives


def _die_with_parent(parent: int) -> None:
    """End this worker when the run's process dies (killed, not just interrupted): an orphaned
    worker would go on auditing, and hold the run's stdout and stderr open."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        # SIGKILL, not SIGTERM: a worker inherits the CLI's SIGTERM handler (a clean "interrupted"
        # exit for the main process), which would keep an orphaned worker alive
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown has to do
        return
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


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
    engine, _ = engine_for(job.ruleset)  # compiled once here: forked workers inherit it
    if ctx.get_start_method() == "fork":
        engine.bank.meaning.warm()  # and the sentence model with it
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker,
                             initargs=(job, os.getpid())) as pool:
        window: deque[Any] = deque([pool.submit(_run_in_worker, first),
                                    pool.submit(_run_in_worker, second)])
        limit = 2 * jobs + 2
        for batch in it:
            window.append(pool.submit(_run_in_worker, batch))
            if len(window) >= limit:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


Runner = Callable[[Iterable[list[Item]]], Iterator[list[list[Outcome]]]]
