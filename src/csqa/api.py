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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from csqa import __version__
from csqa.accounting import Ledger
from csqa.errors import OutputsInPlace
from csqa.loaders.common import Limits, current_limits, use_limits
from csqa.parallel import Job
from csqa.pipeline import Scale, audit_into
from csqa.reading import ExportOptions, ReadOptions, read_files
from csqa.reporters.files import OutputFolder
from csqa.ruleset import Ruleset, load_ruleset
from csqa.scoring import Scorecards
from csqa.sinks import (
    CALLS_PER_PROGRESS,
    FolderSink,
    LedgerSink,
    ProgressSink,
    RunSummary,
    ScorecardSink,
    SummarySink,
)

__all__ = ["CALLS_PER_PROGRESS", "ExportOptions", "ReadOptions", "RunSummary", "Scale", "audit", "resolve_ruleset"]


def resolve_ruleset(ruleset: Ruleset | str | Path | None) -> Ruleset:
    return ruleset if isinstance(ruleset, Ruleset) else load_ruleset(ruleset)


def audit(paths: Iterable[str | Path], ruleset: Ruleset | str | Path | None = None,
          out: str | Path = "csqa-out",
          on_file: Callable[[Path, int, int], None] | None = None,
          options: ReadOptions | None = None,
          limits: Limits | None = None, redact: bool = True,
          jobs: int | None = None, engine: str = "local", scheduler: str | None = None,
          incremental: bool = False,
          on_call: Callable[[int], None] | None = None) -> RunSummary:
    """Audit every transcript under ``paths`` and write the output folder ``out``.

    ``on_file(path, done, total)`` is called before each file is read, with the number of
    files already read, and ``on_call(audited)`` with the number of calls audited so far, every
    :data:`~csqa.sinks.CALLS_PER_PROGRESS` calls and at the end (for progress bars: one file
    may hold 20,000 calls).
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
        return _audit(paths, ruleset, out, on_file, options or ReadOptions(), redact,
                      Scale(jobs, engine, scheduler, incremental), on_call)


def _audit(paths: Iterable[str | Path], ruleset: Ruleset | str | Path | None, out: str | Path,
           on_file: Callable[[Path, int, int], None] | None, options: ReadOptions,
           redact: bool, scale: Scale, on_call: Callable[[int], None] | None = None
           ) -> RunSummary:
    """The wiring: read → audit → the summary, ledger, scorecard and output-folder sinks."""
    started = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    rs = resolve_ruleset(ruleset)
    inputs: list[Path] = [Path(p) for p in paths]
    options.check()  # an unknown format fails before anything is read
    prepare = options.preparation()
    files = read_files(inputs, options)
    job = Job(rs, redact, repr((options.format, options.roles())), prepare.for_workers(),
              current_limits())
    scale.check()  # before the output folder is opened
    rule_ids = [r.id for r in rs.rules]
    out_dir = Path(out)
    folder = OutputFolder(out_dir, rule_ids)
    cards = Scorecards(rule_ids)
    summary = RunSummary(out_dir=out_dir, ruleset=rs, files_seen=len(files), scorecards=cards)
    ledger = Ledger(files_expected=len(files))

    def run_record() -> dict[str, Any]:
        audited = time.perf_counter()
        summary.accounting = ledger.close()
        summary.seconds = round(time.perf_counter() - started, 3)
        timings = {"audit": round(audited - started, 3),
                   "aggregate": round(time.perf_counter() - audited, 3)}
        return _run_record(summary, inputs, options, started_at, timings)

    sinks = [SummarySink(summary), LedgerSink(ledger), ScorecardSink(cards),
             FolderSink(folder, cards, run_record)]
    if on_call is not None:
        sinks.append(ProgressSink(on_call))
    try:
        with _quiet_collector():
            stage = audit_into(files, prepare, options.format, job, sinks, scale, out_dir,
                               on_file, staging=folder.staging)
    except KeyboardInterrupt:
        if folder.committed:  # interrupted while the outputs were switching into place
            raise OutputsInPlace(out_dir) from None
        raise
    summary.calls_cached = stage.calls_cached
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


def _run_record(s: RunSummary, paths: list[Path], options: ReadOptions, started_at: str,
                timings: dict[str, float]) -> dict[str, Any]:
    rs = s.ruleset
    return {
        "csqa_version": __version__,
        "started_at": started_at,
        "seconds": s.seconds,
        "timings": timings,
        "inputs": [str(p) for p in paths],
        "reading": options.record(),
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
