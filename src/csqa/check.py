"""``csqa check``: audit calls and decide pass or fail for CI, like a linter over transcripts.

See :mod:`csqa.gate` for when a call fails and for the exit codes; nothing here prints. The
calls are read and audited by the one pipeline (:mod:`csqa.pipeline`), so a call gets the
score here that ``csqa audit`` gives it; :class:`CheckSink` judges each.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from csqa.api import resolve_ruleset
from csqa.errors import InputError
from csqa.gate import EXIT_FAIL, EXIT_INPUT, EXIT_PASS, EXIT_USAGE, CheckReport, judge
from csqa.model import CallResult, InputProblem
from csqa.pipeline import Scale, Sink, audit_paths
from csqa.reading import ReadOptions
from csqa.ruleset import SEVERITIES, Ruleset

__all__ = ["EXIT_FAIL", "EXIT_INPUT", "EXIT_PASS", "EXIT_USAGE", "CheckReport", "CheckSink",
           "run_check"]


class CheckSink(Sink):
    """Judges every audited call into a :class:`~csqa.gate.CheckReport`."""

    def __init__(self, report: CheckReport) -> None:
        self.report = report
        self.veto_ids = {r.id for r in report.ruleset.rules if r.veto}

    def call(self, outcome: CallResult) -> None:
        r = self.report
        r.verdicts.append(judge(outcome, self.veto_ids, r.min_score, r.fail_on))

    def problem(self, problem: InputProblem, of_input: bool = True) -> None:
        self.report.problems.append(problem)


def run_check(paths: Iterable[str | Path], ruleset: Ruleset | str | Path | None = None,
              min_score: float | None = None, fail_on: str | None = None,
              redact: bool = True, options: ReadOptions | None = None,
              jobs: int | None = 1) -> CheckReport:
    """Audit every call under ``paths`` (nothing is written) and judge each one.

    ``options`` say how to read the inputs (format, call records, speaker roles), as for
    ``csqa audit``; ``redact`` masks personal numbers in what the report shows (see
    :mod:`csqa.redact`); ``jobs`` worker processes audit (``None``: all cores).

    Raises :class:`~csqa.errors.RulesetError` for a bad ruleset and
    :class:`~csqa.errors.InputError` for a missing path, a bad ``fail_on``, or no transcripts.
    """
    rs = resolve_ruleset(ruleset)
    if fail_on is not None and fail_on not in SEVERITIES:
        raise InputError(f"--fail-on:应为以下之一:{', '.join(SEVERITIES)}(实际是 {fail_on!r})")
    threshold = rs.pass_mark if min_score is None else float(min_score)
    paths = [Path(p) for p in paths]
    report = CheckReport(ruleset=rs, min_score=threshold, fail_on=fail_on)
    audit_paths(paths, rs, options, [CheckSink(report)], redact, Scale(jobs=jobs))
    if not report.verdicts and not report.input_errors:
        where = ", ".join(str(p) for p in paths)
        raise InputError(f"{where}: 没有找到转写(支持:.json .jsonl .txt .csv 等)")
    return report
