"""The one way from files to findings, shaped like flake8's manager, style guide and formatter::

    paths ─▶ read (csqa.reading) ─▶ work items ─▶ audit (this module) ─▶ outcomes ─▶ sinks
              formats, prepare:                    process pool or Dask,       output folder,
              call records, roles                  incremental cache,          scorecards, ledger,
                                                   first copy of each call id  run summary, check
                                                                               report, explain,
                                                                               backtest differ

Every command is a choice of sinks over the same reading and auditing, so the same call gets
the same findings and score from ``audit``, ``check``, ``explain``, ``backtest`` and the library.

:class:`AuditStage` turns work items into outcomes in input order: a
:class:`~csqa.reporters.files.RenderedCall` (or a whole :class:`~csqa.model.CallResult`, for
reports that show utterances) per call, an :class:`~csqa.model.InputProblem` per input that
could not be audited, a :class:`~csqa.reading.FileStart` where each file begins. A
:class:`Sink` consumes them with one life-cycle: ``begin_file``, ``call``, ``problem``, then
``finish`` (or ``abort`` when the run fails); :class:`Fanout` hands each outcome to every sink.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csqa.errors import InputError
from csqa.loaders.common import current_limits
from csqa.model import InputProblem
from csqa.parallel import BATCH_ITEMS, Job, Outcome, default_jobs, ready_batches
from csqa.reading import FileStart, Handover, Preparation, ReadOptions, WorkItem, read, read_files
from csqa.redact import redact_problem
from csqa.reporters.files import RenderedCall
from csqa.ruleset import Ruleset


@dataclass
class Scale:
    """Where the auditing runs: ``jobs`` local processes (default: all cores) or a Dask
    cluster (``engine="dask"``, ``scheduler`` address or a local one), and whether the last
    run's results in the output folder are reused (``incremental``)."""

    jobs: int | None = None
    engine: str = "local"
    scheduler: str | None = None
    incremental: bool = False

    @property
    def n_jobs(self) -> int:
        return default_jobs() if self.jobs is None or self.jobs < 1 else self.jobs

    def check(self) -> None:
        """InputError for an unknown engine, or a scheduler without Dask."""
        if self.engine not in ("local", "dask"):
            raise InputError(f"未知的引擎 {self.engine!r}:应为 local 或 dask")
        if self.engine == "local" and self.scheduler is not None:
            raise InputError("--scheduler 只和 --engine dask 一起使用")


Runner = Callable[[Iterable[list[Any]]], Iterator[list[list[Any]]]]


def runner(scale: Scale, job: Job) -> Runner:
    """The function that audits batches in order: local processes, or a Dask cluster."""
    scale.check()
    if scale.engine == "local":
        from csqa.parallel import run_local

        return lambda work: run_local(work, job, scale.n_jobs)
    from csqa.dask_engine import run_dask

    return lambda work: run_dask(work, job, scale.scheduler, scale.n_jobs)


class AuditStage:
    """Work items in, outcomes out, in input order: batches to the runner (with ``out_dir``
    and an incremental scale, cached items skip it), and only the first copy of each call id
    audited (later copies become input problems naming where the first was read)."""

    def __init__(self, job: Job, scale: Scale | None = None, out_dir: Path | None = None,
                 staging: Path | None = None) -> None:
        self.job = job
        self.scale = scale or Scale(jobs=1)
        self.run = runner(self.scale, job)
        self.out_dir = out_dir
        self.staging = staging
        self.cache: Any = None
        #: calls whose outcomes came from the incremental cache
        self.calls_cached = 0

    def outcomes(self, items: Iterable[WorkItem]) -> Iterator[Outcome]:
        """The outcomes of ``items``, in their order (opens the incremental cache first)."""
        if self.scale.incremental and self.out_dir is not None and self.staging is not None:
            from csqa.cache import Cache

            self.cache = Cache(self.out_dir, self.staging)
        return _first_copies(self._audited(ready_batches(items)))

    def finish(self) -> None:
        if self.cache is not None:
            self.cache.finish()

    def abort(self) -> None:
        if self.cache is not None:
            self.cache.abort()

    def _audited(self, work: Iterable[list[Any]]) -> Iterator[Outcome]:
        if self.cache is None:
            for per_item in self.run(work):
                for outcomes in per_item:
                    yield from outcomes
            return
        from csqa.cache import item_key

        cache, job_key = self.cache, self.job.key
        pending: deque[tuple[list[bytes], dict[bytes, list[Any]]]] = deque()

        def to_audit() -> Iterator[list[Any]]:
            for batch in work:
                keys = [item_key(item, job_key) for item in batch]
                hits = cache.lookup(keys)
                pending.append((keys, hits))
                yield [item for item, key in zip(batch, keys, strict=True) if key not in hits]

        for audited in self.run(to_audit()):
            keys, hits = pending.popleft()
            fresh = iter(audited)
            per_item = [hits[k] if k in hits else next(fresh) for k in keys]
            cache.store(list(zip(keys, per_item, strict=True)))
            self.calls_cached += sum(isinstance(o, RenderedCall) for k in hits for o in hits[k])
            for outcomes in per_item:
                yield from outcomes


def _first_copies(outcomes: Iterable[Outcome]) -> Iterator[Outcome]:
    """The outcomes with every call whose id was audited before replaced by a problem."""
    # call id -> where it was first read, packed as file number << 32 | line (small at 1M calls)
    seen: dict[str, int] = {}
    file_numbers: dict[str, int] = {}
    file_names: list[str] = []
    last_source: str | None = None
    fnum = 0
    for item in outcomes:
        if type(item) is FileStart or type(item) is InputProblem:
            yield item
            continue
        source = item.source  # type: ignore[union-attr]
        if source is not last_source:  # calls of one file share their source
            got = file_numbers.get(source)
            if got is None:
                got = file_numbers[source] = len(file_names)
                file_names.append(source)
            fnum, last_source = got, source
        call_id: str = item.call_id  # type: ignore[union-attr,assignment]
        line: int | None = item.line  # type: ignore[union-attr]
        first = seen.get(call_id)
        if first is not None:
            at = first & 0xFFFFFFFF
            where = file_names[first >> 32] + ("" if at == 0xFFFFFFFF else f":{at}")
            yield InputProblem(source, line,
                               f"重复的 call_id {call_id!r}:已从 {where} 审计过;"
                               "这一份未审计", call_id=call_id)
            continue
        seen[call_id] = fnum << 32 | (0xFFFFFFFF if line is None else line)
        yield item


class Sink:
    """A consumer of a run's outcomes (flake8's formatter life-cycle): ``begin_file`` where an
    input file begins, ``call`` per audited call, ``problem`` per input problem (``of_input``
    false for problems of the call records themselves), then ``finish`` when the run completed
    or ``abort`` when it did not. Each method does nothing unless a sink needs it."""

    def begin_file(self, file: str) -> None:
        """An input file begins."""

    def call(self, outcome: Any) -> None:
        """A call was audited (a RenderedCall or a CallResult, as the job asked)."""

    def problem(self, problem: InputProblem, of_input: bool = True) -> None:
        """An input, or a call record, could not be audited."""

    def finish(self) -> None:
        """The run completed."""

    def abort(self) -> None:
        """The run failed or was interrupted: leave nothing half-written."""


class Fanout(Sink):
    """Every outcome to every sink, in their order; problems redacted first with ``redact``."""

    def __init__(self, sinks: Sequence[Sink], redact: bool = True) -> None:
        self.sinks = list(sinks)
        self.redact = redact

    def feed(self, outcomes: Iterable[Outcome]) -> None:
        begins = [s.begin_file for s in self.sinks]
        calls = [s.call for s in self.sinks]
        problem = self.problem
        for o in outcomes:
            kind = type(o)
            if kind is FileStart:
                for begin in begins:
                    begin(o.file)  # type: ignore[union-attr]
            elif kind is InputProblem:
                problem(o)  # type: ignore[arg-type]
            else:
                for call in calls:
                    call(o)

    def problem(self, problem: InputProblem, of_input: bool = True) -> None:
        if self.redact:
            problem = redact_problem(problem)
        for s in self.sinks:
            s.problem(problem, of_input)

    def finish(self) -> None:
        for s in self.sinks:
            s.finish()

    def abort(self) -> None:
        for s in self.sinks:
            s.abort()


def run(items: Iterable[WorkItem], stage: AuditStage, sinks: Sequence[Sink],
        before: Iterable[InputProblem] = (),
        after: Callable[[], Iterable[InputProblem]] = tuple) -> None:
    """Audit ``items`` into ``sinks``: the problems ``before`` (of the call records), every
    outcome, the problems ``after()``, then finish; abort every sink (and the cache) when
    anything fails, interrupts included."""
    fan = Fanout(sinks, stage.job.redact)
    try:
        for p in before:
            fan.problem(p, of_input=False)
        fan.feed(stage.outcomes(items))
        for p in after():
            fan.problem(p, of_input=False)
        stage.finish()  # keyed by content: a cache newer than the outputs does no harm
        fan.finish()
    except BaseException:
        stage.abort()
        fan.abort()
        raise


def audit_into(files: list[tuple[str, Any]], prepare: Preparation, fmt: str | None, job: Job,
               sinks: Sequence[Sink], scale: Scale | None = None, out_dir: Path | None = None,
               on_file: Callable[[Path, int, int], None] | None = None,
               staging: Path | None = None) -> AuditStage:
    """Every command's run: read ``files`` (from :func:`csqa.reading.read_files`), prepare
    each call with ``prepare``, audit with ``job`` at ``scale``, into ``sinks``; the call
    records' own problems come first, their records without a transcript last.

    Workers parse what the loader table lets them, unless the incremental cache must see
    every loaded call; whole files only on this machine's workers. ``out_dir`` and ``staging``
    (the output folder's private staging folder) hold the incremental cache.
    """
    stage = AuditStage(job, scale, out_dir, staging)
    local = stage.scale.engine == "local"
    handover = Handover() if stage.scale.incremental else Handover(files=local,
                                                                   lines=BATCH_ITEMS)
    records = prepare.records
    run(read(files, prepare, fmt, handover, on_file), stage, sinks,
        before=records.problems if records is not None else (),
        after=records.unmatched if records is not None else tuple)
    return stage


def audit_paths(paths: Iterable[str | Path], ruleset: Ruleset, options: ReadOptions | None,
                sinks: Sequence[Sink], redact: bool = True, scale: Scale | None = None) -> None:
    """Audit every call under ``paths`` into ``sinks``, each call as a whole
    :class:`~csqa.model.CallResult` (what ``check`` and ``backtest`` run; ``audit`` renders)."""
    options = options or ReadOptions()
    options.check()
    prepare = options.preparation()
    files = read_files(paths, options)
    job = Job(ruleset, redact, prepare=prepare.for_workers(), limits=current_limits(),
              render=False)
    audit_into(files, prepare, options.format, job, sinks, scale)
