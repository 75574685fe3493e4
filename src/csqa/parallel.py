"""Streaming, parallel audit: batches of calls to workers, compact results back.

The main process walks the inputs and cuts them into batches. The bulk formats are parsed
where they are audited: a JSON Lines file (also one inside an archive) goes to the workers as
chunks of raw lines, a ``.json`` file as its path (local engine), so the main process only reads
and unpacks. Everything else (other archive members, text, CSV, subtitle files, joins with call
records, ``--incremental`` runs) is
loaded by the main process exactly as a one-process run loads it (every loader, size limits,
encodings, speaker roles), and the loaded calls are sent. Each worker
compiles the ruleset once and turns a batch into outcomes: an
:class:`~csqa.reporters.files.RenderedCall` per call (audited, redacted, and already formatted
as its findings.jsonl bytes, calls.csv line, customer_text.jsonl line and scorecard numbers),
the :class:`~csqa.model.InputProblem` items as they came, and a :class:`FileStart` marker
where each input file begins (for the run's accounting). The main process writes outcomes in
input order, so the output is the same bytes whatever the number of workers or the engine (a
local process pool, or Dask: :mod:`csqa.dask_engine`). Nothing per utterance outlives its
batch.

For Spark or any other framework, :func:`audit_records` is the function to map over
partitions: records in, findings and call rows out (see its docstring).
"""

from __future__ import annotations

import csv
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csqa.engine import Engine
from csqa.loaders.common import Limits, read_guarded, use_limits
from csqa.model import InputProblem, Transcript
from csqa.redact import redact_result
from csqa.reporters.files import CALL_COLUMNS, RenderedCall, render_call
from csqa.roles import RoleOptions, assign_roles
from csqa.ruleset import Ruleset, load_ruleset

#: A unit of work: ``("begin", file)`` where an input file starts; ``("ready", item)`` a
#: loaded, prepared call (or an input problem, passed through in its place); ``("lines",
#: chunk)`` raw JSON Lines (:class:`csqa.loaders.jsonl.Lines`) that the worker parses;
#: ``("file", path)`` a ``.json`` file that the worker reads (local engine only).
Item = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class FileStart:
    """Marks, in the outcome stream, where the calls of the next input file begin."""

    file: str

    def __reduce__(self) -> tuple[type[FileStart], tuple[str]]:
        # rebuilt from its argument: a frozen slotted dataclass's default pickling restores
        # its state attribute by attribute, a cost paid per .json file by the main process
        return FileStart, (self.file,)


Outcome = RenderedCall | InputProblem | FileStart

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
    """What a worker needs besides the calls: the ruleset, and whether outputs are redacted."""

    ruleset: Ruleset
    redact: bool = True
    #: how the calls were read (``--format``, roles): part of the incremental cache key
    reading: str = ""
    #: speaker roles for calls the workers parse themselves (``("lines", …)`` items)
    roles: RoleOptions | None = None
    #: input size limits for those calls (the reader's ``--max-utterances`` etc.)
    limits: Limits | None = None

    @property
    def key(self) -> str:
        """Everything about the job that changes results (for the incremental cache)."""
        rs = self.ruleset  # finding ids carry the ruleset's name and version
        return f"{rs.hash}|{rs.name}|{rs.version}|{self.redact}|{self.reading}"


def prepare_call(t: Transcript, roles: RoleOptions | None) -> Transcript | InputProblem:
    """A loaded call made ready to audit: a default agent id, and its speaker roles settled."""
    if not t.agent_id:
        t.agent_id = "unknown"
    return assign_roles(t, roles)


def audit_items(items: list[Item], job: Job) -> list[list[Outcome]]:
    """Audit one batch: for each item, its outcomes in order (what a worker runs)."""
    engine, rule_ids = engine_for(job.ruleset)
    out: list[list[Outcome]] = []
    for item in items:
        if item[0] == "begin":
            out.append([FileStart(item[1])])
        elif item[0] == "lines":  # raw JSON Lines, parsed here rather than in the reader
            with use_limits(job.limits):
                calls = list(item[1].load())
            out.append([_audit_one(prepare_call(loaded, job.roles), engine, rule_ids, job)
                        if isinstance(loaded, Transcript) else loaded for loaded in calls])
        elif item[0] == "file":  # a .json file on this machine, read and parsed here
            from csqa.loaders.formats import load_json, plain_call_file

            with use_limits(job.limits):
                plain = plain_call_file(item[1])
                calls = [plain] if plain is not None else list(read_guarded(Path(item[1]),
                                                                            load_json))
            out.append([FileStart(item[1]), *(
                _audit_one(prepare_call(loaded, job.roles), engine, rule_ids, job)
                if isinstance(loaded, Transcript) else loaded for loaded in calls)])
        else:
            out.append([_audit_one(item[1], engine, rule_ids, job)])
    return out


def _audit_one(loaded: Transcript | InputProblem, engine: Engine, rule_ids: list[str],
               job: Job) -> Outcome:
    if isinstance(loaded, InputProblem):
        return loaded
    result = engine.audit(loaded)
    if job.redact:
        result = redact_result(result)
    return render_call(result, rule_ids)


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

    from csqa.loaders.jsonl import _load_line  # one line of a JSONL export, exactly

    rs = ruleset if isinstance(ruleset, Ruleset) else load_ruleset(ruleset)
    items: list[Item] = []
    for n, rec in enumerate(records, start=1):
        raw = orjson.dumps(rec) if isinstance(rec, dict) else rec
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        for loaded in _load_line(raw, source, n):
            ready = loaded if isinstance(loaded, InputProblem) else prepare_call(loaded, roles)
            items.append(("ready", ready))
    rule_ids = [r.id for r in rs.rules]
    out = AuditedRecords([], [], [])
    for outcomes in audit_items(items, Job(rs, redact)):
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
        weight += len(item[1].lines) if item[0] == "lines" else 1
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
    engine_for(job.ruleset)  # compiled once here: forked workers inherit it
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
