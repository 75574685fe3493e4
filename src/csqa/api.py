"""The library's front door: audit paths with a ruleset and write the output folder.

``cli`` is a thin layer over these functions; other programs (a scheduler, a notebook) can
call them directly::

    from csqa.api import audit
    summary = audit(["exports/2026-11-21"], ruleset="my-rules.yaml", out="csqa-out")
    print(summary.calls_audited, summary.agents)
"""

from __future__ import annotations

import gc
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csqa import __version__
from csqa.accounting import Ledger
from csqa.engine import Engine
from csqa.errors import InputError, OutputsInPlace
from csqa.loaders import archive, discover_names, formats, jsonl, load_all, loader_for
from csqa.loaders.common import Limits, current_limits, read_guarded, use_limits
from csqa.model import CallResult, InputProblem, Transcript
from csqa.profile import Profile, load_profile
from csqa.records import CallRecords, load_records
from csqa.redact import redact_problem
from csqa.reporters.files import OutputFolder, RenderedCall, csv_like_pandas
from csqa.roles import RoleOptions, assign_roles
from csqa.ruleset import Ruleset, load_ruleset
from csqa.scoring import Scorecards

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class RunSummary:
    """What a run did: counts, problems, the agent scorecards, and where the files are."""

    out_dir: Path
    ruleset: Ruleset
    files_seen: int = 0
    calls_audited: int = 0
    calls_passed: int = 0
    findings: int = 0
    input_errors: int = 0
    skipped: int = 0
    calls_cached: int = 0
    seconds: float = 0.0
    problems: list[InputProblem] = field(default_factory=list)
    #: the per-agent scorecards (``agents`` is the same as a pandas table)
    scorecards: Scorecards | None = None
    #: Where every input went (see :mod:`csqa.accounting`); also in run.json.
    accounting: dict[str, Any] = field(default_factory=dict)
    #: Calls audited with speaker roles flagged ``uncertain`` (see calls.csv role_source).
    roles_uncertain: int = 0
    #: With call records: transcripts that had no record, and records that had no transcript.
    transcripts_without_record: int = 0
    records_without_transcript: int = 0

    _agents: pd.DataFrame | None = field(default=None, init=False, repr=False)

    @property
    def calls_failed(self) -> int:
        return self.calls_audited - self.calls_passed

    @property
    def agents(self) -> pd.DataFrame | None:
        """The scorecards as a pandas table, one row per agent (the rows of agents.csv);
        built on first use, so that runs that do not ask never load pandas."""
        if self._agents is None and self.scorecards is not None:
            self._agents = self.scorecards.frame()
        return self._agents


def resolve_ruleset(ruleset: Ruleset | str | Path | None) -> Ruleset:
    return ruleset if isinstance(ruleset, Ruleset) else load_ruleset(ruleset)


def audit_calls(items: Iterable[Transcript | InputProblem], engine: Engine
                ) -> Iterator[CallResult | InputProblem]:
    """Audit a stream of loaded calls; duplicate call ids after the first are rejected."""
    seen: dict[str, str] = {}
    for item in items:
        if isinstance(item, InputProblem):
            yield item
            continue
        first = seen.get(item.call_id)
        if first is not None:
            yield InputProblem(item.source, item.line,
                               f"duplicate call_id {item.call_id!r}: already audited from {first}; "
                               "this copy was not audited (call ids must be unique across all "
                               "inputs)", call_id=item.call_id)
            continue
        seen[item.call_id] = item.location
        yield engine.audit(item)


@dataclass
class ExportOptions:
    """How to read real exports: forced format, speaker roles, call records (all optional)."""

    format: str | None = None
    agent_channel: int | None = None
    speakers: dict[str, str] = field(default_factory=dict)
    strict_roles: bool = False
    calls: str | Path | None = None
    column_map: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_profile(cls, profile: Profile | str | Path, **overrides: Any) -> ExportOptions:
        """A profile file's settings, with ``overrides`` (not None) taking precedence."""
        p = profile if isinstance(profile, Profile) else load_profile(profile)
        opts = cls(format=p.format, agent_channel=p.agent_channel, speakers=dict(p.speakers),
                   strict_roles=p.strict_roles, calls=p.calls, column_map=dict(p.map))
        for key, value in overrides.items():
            if value is not None and value != {} and value is not False:
                setattr(opts, key, value)
        return opts

    def roles(self) -> RoleOptions:
        return RoleOptions(self.agent_channel, dict(self.speakers), self.strict_roles)


def prepare_calls(items: Iterable[Transcript | InputProblem], options: ExportOptions,
                  records: CallRecords | None = None) -> Iterator[Transcript | InputProblem]:
    """Join each loaded call to its call record, then settle its speaker roles."""
    roles = options.roles()
    for item in items:
        if isinstance(item, InputProblem):
            yield item
            continue
        if records is not None:
            item, missing = records.join(item)
            if missing is not None:
                yield missing
        if not item.agent_id:
            item.agent_id = "unknown"
        yield assign_roles(item, roles)


def audit(paths: Iterable[str | Path], ruleset: Ruleset | str | Path | None = None,
          out: str | Path = "csqa-out",
          on_file: Callable[[Path, int, int], None] | None = None,
          options: ExportOptions | None = None,
          limits: Limits | None = None, redact: bool = True,
          jobs: int | None = None, engine: str = "local", scheduler: str | None = None,
          incremental: bool = False,
          on_call: Callable[[int], None] | None = None) -> RunSummary:
    """Audit every transcript under ``paths`` and write the output folder ``out``.

    ``on_file(path, done, total)`` is called before each file is read, with the number of
    files already read, and ``on_call(audited)`` with the number of calls audited so far, every
    :data:`CALLS_PER_PROGRESS` calls and at the end (for progress bars: one file may hold
    20,000 calls).
    ``options`` says how to read vendor exports (format, roles, call records).
    ``limits`` bounds input sizes (see :class:`~csqa.loaders.common.Limits`); ``redact``
    masks phone, ID, bank card numbers and e-mail addresses in every output (see
    :mod:`csqa.redact`). Every input file and record is accounted for in
    ``summary.accounting`` (see :mod:`csqa.accounting`).
    ``jobs`` worker processes audit in parallel (default: all cores); ``engine="dask"`` runs
    on a Dask cluster instead (``scheduler`` address, or a local cluster). The outputs are the
    same bytes whatever ``jobs`` and ``engine`` are. ``incremental`` reuses the results of the
    last run in ``out`` for calls whose content, ruleset and options did not change.
    Raises :class:`~csqa.errors.RulesetError` for a bad ruleset (before reading any input)
    and :class:`~csqa.errors.InputError` for a path that does not exist, an unknown format
    or an unusable call-record file, or an unusable engine.
    """
    with use_limits(limits):
        return _audit(paths, ruleset, out, on_file, options, redact,
                      _Scale(jobs, engine, scheduler, incremental), on_call)


#: how often ``on_call`` hears of progress (a callback per call would cost the main process)
CALLS_PER_PROGRESS = 50


@dataclass
class _Scale:
    jobs: int | None = None
    engine: str = "local"
    scheduler: str | None = None
    incremental: bool = False


def _audit(paths: Iterable[str | Path], ruleset: Ruleset | str | Path | None, out: str | Path,
           on_file: Callable[[Path, int, int], None] | None, options: ExportOptions | None,
           redact: bool, scale: _Scale, on_call: Callable[[int], None] | None = None
           ) -> RunSummary:
    from csqa import parallel
    from csqa.parallel import Job, default_jobs

    started = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    rs = resolve_ruleset(ruleset)
    options = options or ExportOptions()
    inputs: list[Path] = [Path(p) for p in paths]
    if options.format:
        from csqa.loaders.formats import forced

        forced(options.format)  # an unknown name fails before anything is read
    records = load_records(options.calls, options.column_map) if options.calls else None
    files = list(discover_names(inputs, options.format))
    n_jobs = default_jobs() if scale.jobs is None or scale.jobs < 1 else scale.jobs
    job = Job(rs, redact, repr((options.format, options.roles())), options.roles(),
              current_limits())
    runner = _runner(scale.engine, scale.scheduler, job, n_jobs)
    rule_ids = [r.id for r in rs.rules]
    out_dir = Path(out)
    folder = OutputFolder(out_dir, rule_ids)
    cache = None
    # call id -> where it was first read, packed as file number << 32 | line (small at 1M calls)
    seen: dict[str, int] = {}
    file_numbers: dict[str, int] = {}
    file_names: list[str] = []
    cards = Scorecards(rule_ids)
    summary = RunSummary(out_dir=out_dir, ruleset=rs, files_seen=len(files))
    ledger = Ledger(files_expected=len(files))

    def work() -> Iterator[Any]:
        for done, (name, loader) in enumerate(files):
            if on_file is not None:
                on_file(Path(name), done, len(files))
            if (loader is formats.load_json and records is None and not scale.incremental
                    and scale.engine == "local"):
                yield ("file", name)  # a worker reads and parses it (same machine)
                continue
            path = Path(name)
            yield ("begin", name)
            if loader is jsonl.load and records is None and not scale.incremental:
                # the workers parse the lines: this process only reads them
                for chunk in read_guarded(path, partial(jsonl.chunks, size=parallel.BATCH_ITEMS)):
                    yield ("lines", chunk) if isinstance(chunk, jsonl.Lines) else ("ready", chunk)
                continue
            if (archive.kind(path.name) and not options.format and records is None
                    and not scale.incremental):
                # JSON Lines inside an archive too: this process unpacks, the workers parse
                for got in read_guarded(path, partial(archive.load, pick=_raw_lines_pick)):
                    if isinstance(got, jsonl.Lines):
                        yield ("lines", got)
                    else:
                        for item in prepare_calls([got], options):
                            yield ("ready", item)
                continue
            for item in prepare_calls(load_all([path], options.format), options, records):
                yield ("ready", item)

    def problem(item: InputProblem, from_inputs: bool = True) -> None:
        if redact:
            item = redact_problem(item)
        if from_inputs:
            ledger.problem(item)
        folder.write_problem(item)
        summary.problems.append(item)
        if item.status == "skipped":
            summary.skipped += 1
        elif item.status == "no_record":
            summary.transcripts_without_record += 1
        elif item.status == "no_transcript":
            summary.records_without_transcript += 1
        elif item.status == "warning":  # told, and audited all the same
            pass
        else:
            summary.input_errors += 1

    try:
        if scale.incremental:
            from csqa.cache import Cache

            cache = Cache(out_dir, folder.staging)
        for p in records.problems if records else []:
            problem(p, from_inputs=False)
        from csqa.parallel import FileStart, ready_batches

        calls = passed = n_findings = uncertain = 0
        last_source: str | None = None
        fnum = 0
        write_rendered, add_card, count_call = folder.write_rendered, cards.add_values, ledger.call
        with _quiet_collector():
            for item in _outcomes(ready_batches(work()), runner, cache, job.key, summary):
                if type(item) is RenderedCall:
                    source = item.source
                    if source is not last_source:  # calls of one file share their source
                        got = file_numbers.get(source)
                        if got is None:
                            got = file_numbers[source] = len(file_names)
                            file_names.append(source)
                        fnum, last_source = got, source
                    first = seen.get(item.call_id)
                    if first is not None:
                        line = first & 0xFFFFFFFF
                        where = file_names[first >> 32] + ("" if line == 0xFFFFFFFF else f":{line}")
                        problem(InputProblem(source, item.line,
                                             f"duplicate call_id {item.call_id!r}: already audited "
                                             f"from {where}; this copy was not audited",
                                             call_id=item.call_id))
                        continue
                    seen[item.call_id] = fnum << 32 | (0xFFFFFFFF if item.line is None else item.line)
                elif isinstance(item, FileStart):
                    ledger.begin_file(item.file)
                    continue
                else:
                    problem(item)
                    continue
                count_call()
                if item.warnings:
                    for warning in item.warnings:
                        repaired = InputProblem(source, item.line, warning, status="warning",
                                                call_id=item.call_id)
                        ledger.problem(repaired)
                        folder.write_problem(repaired)
                        summary.problems.append(repaired)
                uncertain += item.role_source == "uncertain"
                write_rendered(item)
                add_card(item.agent_id, item.agent_name, item.team, item.call_id, item.score,
                         item.passed, item.vetoed, item.n_findings, item.rule_counts,
                         item.n_not_evaluable)
                calls += 1
                if on_call is not None and not calls % CALLS_PER_PROGRESS:
                    on_call(calls)
                passed += item.passed
                n_findings += item.n_findings
                for rid, err in item.rule_errors:
                    ledger.rule_error()
                    summary.problems.append(InputProblem(source, item.line,
                                                         f"rule {rid} failed: {err}",
                                                         status="rule_error", call_id=item.call_id))
        summary.calls_audited += calls
        if on_call is not None:
            on_call(calls)
        summary.calls_passed += passed
        summary.findings += n_findings
        summary.roles_uncertain += uncertain
        for p in records.unmatched() if records else []:
            problem(p, from_inputs=False)
        audited = time.perf_counter()
        summary.scorecards = cards
        summary.seconds = round(time.perf_counter() - started, 3)
        summary.accounting = ledger.close()
        timings = {"audit": round(audited - started, 3),
                   "aggregate": round(time.perf_counter() - audited, 3)}
        if cache is not None:
            cache.finish()  # keyed by content: a cache newer than the outputs does no harm
        folder.finish(csv_like_pandas(cards.rows(), cards.columns),
                      _run_record(summary, inputs, started_at, timings))
    except BaseException as exc:
        if cache is not None:
            cache.abort()
        folder.abort()
        if folder.committed and isinstance(exc, KeyboardInterrupt):
            raise OutputsInPlace(out_dir) from None
        raise
    return summary


@contextmanager
def _quiet_collector() -> Iterator[None]:
    """While outcomes stream through the main process: the run's long-lived objects (modules,
    ruleset, compiled engine) are kept out of the garbage collector's passes, and its youngest
    generation is collected every 20,000 allocations rather than 700 (each batch's outcomes
    would otherwise be scanned over and over). Left alone when the caller froze objects."""
    if gc.get_freeze_count():
        yield
        return
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(20_000, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _raw_lines_pick(member: Any) -> Any:
    """An archive member's loader for ``csqa audit``: JSON Lines members as raw line chunks
    (parsed by the workers), every other member as :func:`csqa.loaders.loader_for` reads it."""
    from csqa import parallel

    loader = loader_for(member)
    return partial(jsonl.chunks, size=parallel.BATCH_ITEMS) if loader is jsonl.load else loader


def _runner(engine: str, scheduler: str | None, job: Any, jobs: int
            ) -> Callable[[Iterable[list[Any]]], Iterator[list[list[Any]]]]:
    """The function that audits batches in order: local processes, or a Dask cluster."""
    if engine == "local":
        if scheduler is not None:
            raise InputError("--scheduler is only used with --engine dask")
        from csqa.parallel import run_local

        return lambda work: run_local(work, job, jobs)
    if engine == "dask":
        from csqa.dask_engine import run_dask

        return lambda work: run_dask(work, job, scheduler, jobs)
    raise InputError(f"unknown engine {engine!r}: expected local or dask")


def _outcomes(work: Iterable[list[Any]],
              runner: Callable[[Iterable[list[Any]]], Iterator[list[list[Any]]]],
              cache: Any, job_key: str, summary: RunSummary) -> Iterator[Any]:
    """Every outcome, in input order; with a cache, cached items skip the runner."""
    if cache is None:
        for per_item in runner(work):
            for outcomes in per_item:
                yield from outcomes
        return
    from csqa.cache import item_key

    pending: deque[tuple[list[bytes], dict[bytes, list[Any]]]] = deque()

    def to_audit() -> Iterator[list[Any]]:
        for batch in work:
            keys = [item_key(item, job_key) for item in batch]
            hits = cache.lookup(keys)
            pending.append((keys, hits))
            yield [item for item, key in zip(batch, keys, strict=True) if key not in hits]

    for audited in runner(to_audit()):
        keys, hits = pending.popleft()
        fresh = iter(audited)
        per_item = [hits[k] if k in hits else next(fresh) for k in keys]
        cache.store(list(zip(keys, per_item, strict=True)))
        summary.calls_cached += sum(isinstance(o, RenderedCall) for k in hits for o in hits[k])
        for outcomes in per_item:
            yield from outcomes



def _run_record(s: RunSummary, paths: list[Path], started_at: str,
                timings: dict[str, float]) -> dict[str, Any]:
    rs = s.ruleset
    return {
        "csqa_version": __version__,
        "started_at": started_at,
        "seconds": s.seconds,
        "timings": timings,
        "inputs": [str(p) for p in paths],
        "ruleset": {"name": rs.name, "version": rs.version, "hash": rs.hash, "files": rs.files,
                    "rules": [r.id for r in rs.rules], "disabled": rs.disabled,
                    "base_score": rs.base_score, "pass_mark": rs.pass_mark,
                    # what each rule costs, so reviews can re-score a run from its folder alone
                    "rule_scoring": {r.id: {"name": r.name, "kind": r.kind, "points": r.points,
                                            "max_points": r.max_points, "veto": r.veto}
                                     for r in rs.rules}},
        "counts": {"files_seen": s.files_seen, "calls_audited": s.calls_audited,
                   "calls_passed": s.calls_passed, "calls_failed": s.calls_failed,
                   "findings": s.findings, "input_errors": s.input_errors,
                   "skipped_files": s.skipped, "agents": 0 if s.scorecards is None else len(s.scorecards),
                   "roles_uncertain": s.roles_uncertain,
                   "transcripts_without_record": s.transcripts_without_record,
                   "records_without_transcript": s.records_without_transcript},
        "accounting": s.accounting,
    }
