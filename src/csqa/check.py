"""``csqa check``: audit calls and decide pass or fail for CI, like a linter over transcripts.

See :mod:`csqa.gate` for when a call fails and for the exit codes; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from csqa.api import audit_calls, resolve_ruleset
from csqa.engine import Engine
from csqa.errors import InputError
from csqa.gate import EXIT_FAIL, EXIT_INPUT, EXIT_PASS, EXIT_USAGE, CheckReport, judge
from csqa.loaders import load_all
from csqa.model import InputProblem
from csqa.redact import redact_problem, redact_result
from csqa.ruleset import SEVERITIES, Ruleset

__all__ = ["EXIT_FAIL", "EXIT_INPUT", "EXIT_PASS", "EXIT_USAGE", "CheckReport", "run_check"]


def run_check(paths: Iterable[str | Path], ruleset: Ruleset | str | Path | None = None,
              min_score: float | None = None, fail_on: str | None = None,
              redact: bool = True) -> CheckReport:
    """Audit every call under ``paths`` (nothing is written) and judge each one.

    ``redact`` masks personal numbers in what the report shows (see :mod:`csqa.redact`).

    Raises :class:`~csqa.errors.RulesetError` for a bad ruleset and
    :class:`~csqa.errors.InputError` for a missing path, a bad ``fail_on``, or no transcripts.
    """
    rs = resolve_ruleset(ruleset)
    if fail_on is not None and fail_on not in SEVERITIES:
        raise InputError(f"--fail-on: must be one of: {', '.join(SEVERITIES)} (got {fail_on!r})")
    threshold = rs.pass_mark if min_score is None else float(min_score)
    paths = [Path(p) for p in paths]
    veto_ids = {r.id for r in rs.rules if r.veto}
    report = CheckReport(ruleset=rs, min_score=threshold, fail_on=fail_on)
    for item in audit_calls(load_all(paths), Engine(rs)):
        if isinstance(item, InputProblem):
            report.problems.append(redact_problem(item) if redact else item)
            continue
        if redact:
            item = redact_result(item)
        report.verdicts.append(judge(item, veto_ids, threshold, fail_on))
    if not report.verdicts and not report.input_errors:
        where = ", ".join(str(p) for p in paths)
        raise InputError(f"{where}: no transcripts found (supported: .json .jsonl .txt .csv)")
    return report
