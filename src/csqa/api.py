"""The library's front door: audit paths with a ruleset and write the output folder.

``cli`` is a thin layer over these functions; other programs (a scheduler, a notebook) can
call them directly::

    from csqa.api import audit
    summary = audit(["exports/2026-11-21"], ruleset="my-rules.yaml", out="csqa-out")
    print(summary.calls_audited, summary.agents)
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csqa import __version__
from csqa.engine import Engine
from csqa.loaders import discover, load_all
from csqa.model import CallResult, InputProblem, Transcript
from csqa.profile import Profile, load_profile
from csqa.records import CallRecords, load_records
from csqa.reporters.files import OutputFolder, RenderedCall
from csqa.roles import RoleOptions
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
    agents: pd.DataFrame | None = None
    #: Calls audited with speaker roles flagged ``uncertain`` (see calls.csv role_source).
    roles_uncertain: int = 0
    #: With call records: transcripts that had no record, and records that had no transcript.
    transcripts_without_record: int = 0
    records_without_transcript: int = 0

    @property
    def calls_failed(self) -> int:
        return self.calls_audited - self.calls_passed


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
                               "this copy was not audited", call_id=item.call_id)
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
    from csqa.parallel import prepare_call  # the same preparation the workers do

    roles = options.roles()
    for item in items:
        if isinstance(item, InputProblem):
            yield item
            continue
        if records is not None:
            item, missing = records.join(item)
            if missing is not None:
                yield missing
        yield prepare_call(item, roles)


def audit(paths: Iterable[str | Path], ruleset: Ruleset | str | Path | None = None,
          out: str | Path = "csqa-out",
          on_file: Callable[[Path, int, int], None] | None = None,
          options: ExportOptions | None = None,
          jobs: int | None = None, engine: str = "local", scheduler: str | None = None,
          incremental: bool = False) -> RunSummary:
    """Audit every transcript under ``paths`` and write the output folder ``out``.

    ``on_file(path, done, total)`` is called before each file is read, with the number of
    files already read (for progress bars).
    ``options`` says how to read vendor exports (format, roles, call records).
    ``jobs`` worker processes audit in parallel (default: all cores); ``engine="dask"`` runs
    on a Dask cluster instead (``scheduler`` address, or a local cluster). The outputs are the
    same bytes whatever ``jobs`` and ``engine`` are. ``incremental`` reuses the results of the
    last run in ``out`` for inputs whose content, ruleset and read options did not change.
    Raises :class:`~csqa.errors.RulesetError` for a bad ruleset (before reading any input)
    and :class:`~csqa.errors.InputError` for a path that does not exist, an unknown format,
    an unusable call-record file or an unusable engine.
    """
    from csqa.parallel import Job, batches, default_jobs

    started = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    rs = resolve_ruleset(ruleset)
    options = options or ExportOptions()
    inputs: list[Path] = [Path(p) for p in paths]
    if options.format:
        from csqa.loaders.formats import forced

        forced(options.format)  # an unknown name fails before anything is read
    records = load_records(options.calls, options.column_map) if options.calls else None
    files = list(discover(inputs, options.format))
    n_jobs = default_jobs() if jobs is None or jobs < 1 else jobs
    job = Job(rs, options.format, options.roles())
    rule_ids = [r.id for r in rs.rules]
    out_dir = Path(out)
    runner = _runner(engine, scheduler, job, n_jobs)
    folder = OutputFolder(out_dir, rule_ids)
    cache = None
    cards = Scorecards(rule_ids)
    summary = RunSummary(out_dir=out_dir, ruleset=rs, files_seen=len(files))
    # call id -> where it was first read, packed as file number << 32 | line (small at 1M calls)
    seen: dict[str, int] = {}
    file_numbers: dict[str, int] = {}
    file_names: list[str] = []
    if records is None:
        work = batches(files, on_file, per_line=incremental)
    else:  # joining call records is sequential: load and prepare here, audit in the workers
        work = _ready_batches(prepare_calls(_loaded(files, on_file, options.format), options,
                                            records))

    def problem(item: InputProblem) -> None:
        folder.write_problem(item)
        summary.problems.append(item)
        if item.status == "skipped":
            summary.skipped += 1
        elif item.status == "no_record":
            summary.transcripts_without_record += 1
        elif item.status == "no_transcript":
            summary.records_without_transcript += 1
        else:
            summary.input_errors += 1

    try:
        if incremental:
            from csqa.cache import Cache

            cache = Cache(out_dir)
        for p in records.problems if records else []:
            problem(p)
        for item in _outcomes(work, runner, cache, job.key, summary):
            if isinstance(item, RenderedCall):
                fnum = file_numbers.get(item.source)
                if fnum is None:
                    fnum = file_numbers[item.source] = len(file_names)
                    file_names.append(item.source)
                first = seen.get(item.call_id)
                if first is not None:
                    line = first & 0xFFFFFFFF
                    where = file_names[first >> 32] + ("" if line == 0xFFFFFFFF else f":{line}")
                    item = InputProblem(item.source, item.line,
                                        f"duplicate call_id {item.call_id!r}: already audited "
                                        f"from {where}; this copy was not audited",
                                        call_id=item.call_id)
                else:
                    seen[item.call_id] = fnum << 32 | (0xFFFFFFFF if item.line is None
                                                       else item.line)
            if isinstance(item, InputProblem):
                problem(item)
                continue
            summary.roles_uncertain += item.role_source == "uncertain"
            folder.write_rendered(item)
            cards.add_values(item.agent_id, item.agent_name, item.team, item.call_id, item.score,
                             item.passed, item.vetoed, item.n_findings, item.rule_counts)
            summary.calls_audited += 1
            summary.calls_passed += item.passed
            summary.findings += item.n_findings
            for rid, err in item.rule_errors:
                summary.problems.append(InputProblem(item.source, item.line,
                                                     f"rule {rid} failed: {err}",
                                                     status="rule_error", call_id=item.call_id))
        for p in records.unmatched() if records else []:
            problem(p)
        audited = time.perf_counter()
        agents = cards.frame()
        summary.agents = agents
        summary.seconds = round(time.perf_counter() - started, 3)
        timings = {"audit": round(audited - started, 3),
                   "aggregate": round(time.perf_counter() - audited, 3)}
        folder.finish(agents.to_csv(index=False), _run_record(summary, inputs, started_at, timings))
        if cache is not None:
            cache.finish()
    except BaseException:
        folder.abort()
        if cache is not None:
            cache.abort()
        raise
    return summary


def _loaded(files: list[tuple[Path, Any]], on_file: Callable[[Path, int, int], None] | None,
            fmt: str | None) -> Iterator[Transcript | InputProblem]:
    for done, (path, _) in enumerate(files):
        if on_file is not None:
            on_file(path, done, len(files))
        yield from load_all([path], fmt)


def _ready_batches(items: Iterable[Transcript | InputProblem], size: int = 256
                   ) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(("ready", item))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _runner(engine: str, scheduler: str | None, job: Any, jobs: int
            ) -> Callable[[Iterable[list[Any]]], Iterator[list[list[Any]]]]:
    """The function that audits batches in order: local processes, or a Dask cluster."""
    from csqa.errors import InputError

    if engine == "local":
        if scheduler is not None:
            raise InputError("--scheduler is only used with --engine dask")
        from csqa.parallel import run_local

        return lambda work: run_local(work, job, jobs)
    if engine == "dask":
        from csqa.dask_engine import run_dask

        return lambda work: run_dask(work, job, scheduler, jobs)
    raise InputError(f"unknown engine {engine!r}: expected local or dask")


def _outcomes(work: Iterable[list[Any]], runner: Callable[[Iterable[list[Any]]],
                                                       Iterator[list[list[Any]]]],
              cache: Any, job_key: str, summary: RunSummary
              ) -> Iterator[RenderedCall | InputProblem]:
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
                   "skipped_files": s.skipped, "agents": 0 if s.agents is None else len(s.agents),
                   "roles_uncertain": s.roles_uncertain,
                   "transcripts_without_record": s.transcripts_without_record,
                   "records_without_transcript": s.records_without_transcript},
    }
