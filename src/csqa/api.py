"""The library's front door: audit paths with a ruleset and write the output folder.

``cli`` is a thin layer over these functions; other programs (a scheduler, a notebook) can
call them directly::

    from csqa.api import audit
    summary = audit(["exports/2026-11-21"], ruleset="my-rules.yaml", out="csqa-out")
    print(summary.calls_audited, summary.agents)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csqa import __version__
from csqa.accounting import Ledger
from csqa.engine import Engine
from csqa.loaders import discover, load_all
from csqa.loaders.common import Limits, use_limits
from csqa.model import CallResult, InputProblem, Transcript
from csqa.profile import Profile, load_profile
from csqa.records import CallRecords, load_records
from csqa.redact import redact_problem, redact_result
from csqa.reporters.files import OutputFolder, safe_frame
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
    seconds: float = 0.0
    problems: list[InputProblem] = field(default_factory=list)
    agents: pd.DataFrame | None = None
    #: Where every input went (see :mod:`csqa.accounting`); also in run.json.
    accounting: dict[str, Any] = field(default_factory=dict)
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
          limits: Limits | None = None, redact: bool = True) -> RunSummary:
    """Audit every transcript under ``paths`` and write the output folder ``out``.

    ``on_file(path, done, total)`` is called before each file is read, with the number of
    files already read (for progress bars).
    ``options`` says how to read vendor exports (format, roles, call records).
    ``limits`` bounds input sizes (see :class:`~csqa.loaders.common.Limits`); ``redact``
    masks phone, ID, bank card numbers and e-mail addresses in every output (see
    :mod:`csqa.redact`). Every input file and record is accounted for in
    ``summary.accounting`` (see :mod:`csqa.accounting`).
    Raises :class:`~csqa.errors.RulesetError` for a bad ruleset (before reading any input)
    and :class:`~csqa.errors.InputError` for a path that does not exist, an unknown format
    or an unusable call-record file.
    """
    with use_limits(limits):
        return _audit(paths, ruleset, out, on_file, options, redact)


def _audit(paths: Iterable[str | Path], ruleset: Ruleset | str | Path | None, out: str | Path,
           on_file: Callable[[Path, int, int], None] | None, options: ExportOptions | None,
           redact: bool) -> RunSummary:
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
    engine = Engine(rs)
    rule_ids = [r.id for r in rs.rules]
    out_dir = Path(out)
    folder = OutputFolder(out_dir, rule_ids)
    cards = Scorecards(rule_ids)
    summary = RunSummary(out_dir=out_dir, ruleset=rs, files_seen=len(files))
    ledger = Ledger(files_expected=len(files))

    def loaded() -> Iterator[Transcript | InputProblem]:
        for done, (path, _) in enumerate(files):
            if on_file is not None:
                on_file(path, done, len(files))
            ledger.begin_file(str(path))
            yield from load_all([path], options.format)

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
        else:
            summary.input_errors += 1

    try:
        for p in records.problems if records else []:
            problem(p, from_inputs=False)
        for item in audit_calls(prepare_calls(loaded(), options, records), engine):
            if isinstance(item, InputProblem):
                problem(item)
                continue
            if redact:
                item = redact_result(item)
            ledger.call()
            t = item.transcript
            for warning in t.warnings:
                repaired = InputProblem(t.source, t.line, warning, status="warning",
                                        call_id=t.call_id)
                ledger.problem(repaired)
                folder.write_problem(repaired)
                summary.problems.append(repaired)
            summary.roles_uncertain += item.transcript.role_source == "uncertain"
            folder.write_call(item)
            cards.add(item)
            summary.calls_audited += 1
            summary.calls_passed += item.passed
            summary.findings += len(item.findings)
            for rid, err in item.rule_errors.items():
                ledger.rule_error()
                summary.problems.append(InputProblem(item.transcript.source, item.transcript.line,
                                                     f"rule {rid} failed: {err}",
                                                     status="rule_error",
                                                     call_id=item.transcript.call_id))
        for p in records.unmatched() if records else []:
            problem(p, from_inputs=False)
        audited = time.perf_counter()
        agents = cards.frame()
        summary.agents = agents
        summary.seconds = round(time.perf_counter() - started, 3)
        summary.accounting = ledger.close()
        timings = {"audit": round(audited - started, 3), "aggregate": round(time.perf_counter() - audited, 3)}
        folder.finish(safe_frame(agents).to_csv(index=False),
                      _run_record(summary, inputs, started_at, timings))
    except BaseException:
        folder.abort()
        raise
    return summary


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
        "accounting": s.accounting,
    }
