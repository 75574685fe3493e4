"""The sinks of ``csqa audit``: the run summary, the input ledger, the agent scorecards and the
output folder, each consuming the rendered outcomes with the life-cycle of
:class:`csqa.pipeline.Sink`. :func:`csqa.api.audit` wires them together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csqa.accounting import Ledger
from csqa.model import InputProblem
from csqa.pipeline import Sink
from csqa.reporters.files import OutputFolder, RenderedCall, csv_like_pandas
from csqa.ruleset import Ruleset
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


def repairs(call: RenderedCall) -> list[InputProblem]:
    """The warnings of a call that was audited after a repair (listed in errors.csv)."""
    return [InputProblem(call.source, call.line, warning, status="warning", call_id=call.call_id)
            for warning in call.warnings]


class SummarySink(Sink):
    """Counts calls, passes, findings and problems into a :class:`RunSummary`."""

    def __init__(self, summary: RunSummary) -> None:
        self.summary = summary

    def call(self, outcome: RenderedCall) -> None:
        s = self.summary
        if outcome.warnings:
            s.problems.extend(repairs(outcome))
        s.roles_uncertain += outcome.role_source == "uncertain"
        s.calls_audited += 1
        s.calls_passed += outcome.passed
        s.findings += outcome.n_findings
        for rid, err in outcome.rule_errors:
            s.problems.append(InputProblem(outcome.source, outcome.line, f"规则 {rid} 运行失败:{err}",
                                           status="rule_error", call_id=outcome.call_id))

    def problem(self, problem: InputProblem, of_input: bool = True) -> None:
        s = self.summary
        s.problems.append(problem)
        if problem.status == "skipped":
            s.skipped += 1
        elif problem.status == "no_record":
            s.transcripts_without_record += 1
        elif problem.status == "no_transcript":
            s.records_without_transcript += 1
        elif problem.status == "warning":  # told, and audited all the same
            pass
        else:
            s.input_errors += 1


#: how often ``on_call`` hears of progress (a callback per call would cost the main process)
CALLS_PER_PROGRESS = 50


class ProgressSink(Sink):
    """Tells ``on_call(audited)`` how many calls were audited, every
    :data:`CALLS_PER_PROGRESS` calls and when the run finishes."""

    def __init__(self, on_call: Callable[[int], None]) -> None:
        self.on_call = on_call
        self.calls = 0

    def call(self, outcome: Any) -> None:
        self.calls += 1
        if not self.calls % CALLS_PER_PROGRESS:
            self.on_call(self.calls)

    def finish(self) -> None:
        self.on_call(self.calls)


class LedgerSink(Sink):
    """Accounts for every input file and record (see :mod:`csqa.accounting`)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def begin_file(self, file: str) -> None:
        self.ledger.begin_file(file)

    def call(self, outcome: RenderedCall) -> None:
        ledger = self.ledger
        ledger.call()
        if outcome.warnings:
            for repaired in repairs(outcome):
                ledger.problem(repaired)
        for _ in outcome.rule_errors:
            ledger.rule_error()

    def problem(self, problem: InputProblem, of_input: bool = True) -> None:
        if of_input:
            self.ledger.problem(problem)


class ScorecardSink(Sink):
    """Adds every call to its agent's scorecard."""

    def __init__(self, cards: Scorecards) -> None:
        self.cards = cards
        self._add = cards.add_values

    def call(self, o: RenderedCall) -> None:
        self._add(o.agent_id, o.agent_name, o.team, o.call_id, o.score, o.passed, o.vetoed,
                  o.n_findings, o.rule_counts, o.n_not_evaluable)


class FolderSink(Sink):
    """Writes the output folder: findings.jsonl, calls.csv, customer_text.jsonl and errors.csv
    as outcomes arrive; at the end agents.csv and run.json (``run_record()``, asked for when
    every other sink has finished), then everything is moved into place at once."""

    def __init__(self, folder: OutputFolder, cards: Scorecards,
                 run_record: Callable[[], dict[str, Any]]) -> None:
        self.folder = folder
        self.cards = cards
        self.run_record = run_record
        self._write = folder.write_rendered

    def call(self, outcome: RenderedCall) -> None:
        if outcome.warnings:
            for repaired in repairs(outcome):
                self.folder.write_problem(repaired)
        self._write(outcome)

    def problem(self, problem: InputProblem, of_input: bool = True) -> None:
        self.folder.write_problem(problem)

    def finish(self) -> None:
        record = self.run_record()
        self.folder.finish(csv_like_pandas(self.cards.rows(), self.cards.columns), record)

    def abort(self) -> None:
        self.folder.abort()
