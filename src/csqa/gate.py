"""The CI gate's decision: which audited calls pass, which fail and why, and the exit code.

A call fails the check when any of these holds:

- its score is below ``min_score`` (default: the ruleset's ``scoring.pass_mark``);
- a veto rule (一票否决) fired on it;
- a finding has severity at or above ``fail_on`` (when given: info < minor < major < critical);
- a rule could not run on it (a rule error: the call cannot be vouched for).

Exit codes (precedence from the top: the first that applies wins)::

    2  bad ruleset or usage, or no transcript found: nothing was checked
    3  some inputs could not be read: the check cannot vouch for them (calls that were
       read are still checked and reported)
    1  at least one call failed
    0  every call passed

This module only decides (it sits beside ``scoring``); :func:`csqa.check.run_check` audits
the inputs and fills a :class:`CheckReport`, which ``reporters/ci.py`` (text, JSON,
GitHub annotations) and ``reporters/junit.py`` render.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from csqa.model import CallResult, Finding, InputProblem
from csqa.ruleset import SEVERITIES, Ruleset

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_INPUT = 3

#: problem statuses that lose no call: files that are not transcripts, and call-record notes
NOT_INPUT_ERRORS = ("skipped", "no_record", "no_transcript")


def severity_rank(severity: str) -> int:
    """Position of ``severity`` in ``info < minor < major < critical``."""
    return SEVERITIES.index(severity)


@dataclass(slots=True)
class CallVerdict:
    """One call's check result: the audit, whether it failed the gate, and why."""

    result: CallResult
    failed: bool
    reasons: list[str]
    #: findings that fail the call on their own (veto rules, severity at or above fail_on)
    blocking: list[Finding]

    def top_findings(self, n: int = 3) -> list[Finding]:
        """The findings a reviewer should see first: blocking, then costliest, then earliest."""
        blocking = {id(f) for f in self.blocking}
        return sorted(self.result.findings,
                      key=lambda f: (id(f) not in blocking, -f.points, -severity_rank(f.severity),
                                     f.start))[:n]


@dataclass
class CheckReport:
    """Everything ``csqa check`` decided, in input order."""

    ruleset: Ruleset
    min_score: float
    fail_on: str | None
    verdicts: list[CallVerdict] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)

    @property
    def input_errors(self) -> list[InputProblem]:
        """Inputs that should have been calls and could not be read (not skipped files, nor
        notes on call records: a call without one is still checked, as audit counts them)."""
        return [p for p in self.problems if p.status not in NOT_INPUT_ERRORS]

    @property
    def failed(self) -> list[CallVerdict]:
        return [v for v in self.verdicts if v.failed]

    @property
    def exit_code(self) -> int:
        """3 if inputs were unreadable, else 1 if any call failed, else 0 (see module doc)."""
        if self.input_errors:
            return EXIT_INPUT
        if self.failed:
            return EXIT_FAIL
        return EXIT_PASS


def judge(result: CallResult, veto_ids: set[str], min_score: float,
          fail_on: str | None) -> CallVerdict:
    """Decide whether one audited call passes the gate (``veto_ids``: the veto rules' ids)."""
    reasons: list[str] = []
    if result.score < min_score:
        reasons.append(f"得分 {result.score:g} 低于 {min_score:g}")
    blocking = [f for f in result.findings if f.rule_id in veto_ids]
    if blocking:
        reasons.append("一票否决:" + "、".join(dict.fromkeys(f.name for f in blocking)))
    if fail_on is not None:
        limit = severity_rank(fail_on)
        severe = [f for f in result.findings
                  if severity_rank(f.severity) >= limit and f.rule_id not in veto_ids]
        if severe:
            reasons.append(f"{len(severe)} 条 {fail_on} 及以上违规")
            blocking.extend(severe)
    for rid, error in result.rule_errors.items():
        reasons.append(f"规则 {rid} 无法运行({error})")
    return CallVerdict(result=result, failed=bool(reasons), reasons=reasons, blocking=blocking)
