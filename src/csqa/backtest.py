"""Backtesting a ruleset change: what would a candidate ruleset have done to past runs?

:func:`backtest` re-reads the inputs recorded in each run's run.json, audits them with the
candidate ruleset, and compares, call by call, with what the run recorded (its findings.jsonl
and calls.csv machine scores):

- findings are matched by call, rule, utterance and matched text (punctuation ignored), the
  n-th identical one with the n-th; what the candidate finds and the run did not is *added*,
  the reverse *removed* (a change of message or points alone is not a finding change, but
  shows in the scores);
- per rule: findings before/after, added, removed, with examples;
- per agent and overall: mean score and pass rate before/after and their deltas;
- scoring: what the candidate changes in how findings are counted (pass mark, base score, a
  rule's points, cap or veto), and how many calls' scores and verdicts move, so a change of
  scoring alone is never reported as "nothing changed".

Calls the run audited that cannot be found in the inputs any more are listed in
:attr:`Backtest.missing`, never silently dropped; calls in the inputs that the run did not
audit are left out (they have no "before"). When several runs audited the same call, the
last run given is its "before".

Like every output, the diff masks personal numbers by default (``redact``): the re-audit's
findings and problems and the runs' recorded findings alike. Findings are compared by their
masked matched text whatever ``redact`` says, so a run written masked and a re-audit kept
raw (or the reverse) compare like with like.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csqa import safeio
from csqa.api import resolve_ruleset
from csqa.errors import CsqaError
from csqa.gate import NOT_INPUT_ERRORS
from csqa.model import CallResult, InputProblem
from csqa.normalize import fold
from csqa.pipeline import Sink, audit_paths
from csqa.reading import ReadOptions
from csqa.redact import redact as masked
from csqa.reporters.sheets import Sheet, write_sheets
from csqa.review import format_time
from csqa.ruleset import Ruleset
from csqa.runs import AuditRun, RunError, open_run, safe_cell

ADDED, REMOVED = "added", "removed"
FINDING_COLUMNS = ["change", "call_id", "agent_id", "rule_id", "name", "utterance", "time",
                   "speaker", "matched", "evidence", "message"]


@dataclass
class CallDiff:
    call_id: str
    agent_id: str
    score_before: float
    score_after: float
    passed_before: bool
    passed_after: bool
    added: int = 0
    removed: int = 0
    pass_mark_before: float = 0.0
    pass_mark_after: float = 0.0

    @property
    def score_delta(self) -> float:
        return round(self.score_after - self.score_before, 2)

    @property
    def flipped(self) -> bool:
        """Whether the verdict (pass/fail) changes."""
        return self.passed_before != self.passed_after


@dataclass(frozen=True)
class ScoringChange:
    """One setting that counts findings differently in the candidate: ``what`` is
    ``pass_mark``, ``base`` or ``RULE.points`` / ``RULE.max_points`` / ``RULE.veto``."""

    what: str
    before: str
    after: str


@dataclass
class RuleDiff:
    rule_id: str
    name: str
    before: int = 0
    after: int = 0
    added: int = 0
    removed: int = 0
    calls_added: set[str] = field(default_factory=set)
    calls_removed: set[str] = field(default_factory=set)
    added_examples: list[dict[str, Any]] = field(default_factory=list)
    removed_examples: list[dict[str, Any]] = field(default_factory=list)
    status: str = ""  # "new" / "dropped" when only one side has the rule

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.status)


@dataclass
class GroupDiff:
    """Mean score and pass rate before/after for a set of calls (an agent, or all)."""

    key: str
    calls: int
    mean_before: float
    mean_after: float
    pass_rate_before: float
    pass_rate_after: float
    added: int
    removed: int

    @property
    def mean_delta(self) -> float:
        return round(self.mean_after - self.mean_before, 2)

    @property
    def pass_rate_delta(self) -> float:
        return round(self.pass_rate_after - self.pass_rate_before, 4)


@dataclass
class Backtest:
    """The diff of a candidate ruleset against recorded runs."""

    runs: list[Path]
    ruleset: Ruleset
    baseline_versions: list[str]
    calls: list[CallDiff]
    rules: list[RuleDiff]
    agents: list[GroupDiff]
    overall: GroupDiff
    findings: list[dict[str, Any]]  # every added/removed finding, with "change"
    missing: list[str]  # calls of the runs not found in their inputs now
    problems: list[InputProblem]  # inputs that could not be read now
    scoring: list[ScoringChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how the inputs were read, where it matters

    @property
    def rescored(self) -> list[CallDiff]:
        """The calls whose score changes."""
        return [c for c in self.calls if c.score_delta]

    @property
    def flipped(self) -> list[CallDiff]:
        """The calls whose verdict changes (pass to fail or back)."""
        return [c for c in self.calls if c.flipped]

    @property
    def pass_rate_drop(self) -> float:
        """How much the overall pass rate falls (a fraction; negative when it rises)."""
        return round(self.overall.pass_rate_before - self.overall.pass_rate_after, 4)


def _key(f: dict[str, Any]) -> tuple[str, int | None, str]:
    # masked on both sides: a run's findings.jsonl is masked unless it ran with --no-redact
    return (str(f["rule_id"]), f.get("utterance"), fold(masked(str(f.get("matched") or ""))))


_FREE_TEXT = ("matched", "evidence", "message")


def _masked_finding(f: dict[str, Any]) -> dict[str, Any]:
    """A recorded finding with its free text masked (as the run wrote it, unless --no-redact)."""
    return {**f, **{k: masked(v) for k in _FREE_TEXT if isinstance(v := f.get(k), str)}}


def _diff(before: list[dict[str, Any]], after: list[dict[str, Any]]
          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(added, removed): multiset difference of findings by rule, utterance, matched text."""
    n_before = Counter(_key(f) for f in before)
    n_after = Counter(_key(f) for f in after)
    added, removed = [], []
    seen: Counter[tuple[str, int | None, str]] = Counter()
    for f in after:
        k = _key(f)
        seen[k] += 1
        if seen[k] > n_before[k]:
            added.append(f)
    seen.clear()
    for f in before:
        k = _key(f)
        seen[k] += 1
        if seen[k] > n_after[k]:
            removed.append(f)
    return added, removed


def _truth(text: str) -> bool:
    return text.strip().lower() in ("true", "1", "yes")


def backtest(run_dirs: Sequence[str | Path], ruleset: Ruleset | str | Path | None,
             examples: int = 3, options: ReadOptions | None = None,
             redact: bool = True) -> Backtest:
    """Re-audit the inputs of ``run_dirs`` with ``ruleset`` and diff against the runs.

    Each run's inputs are read as the run read them (the reading options its run.json
    records: format, call records, speaker roles), except for what ``options`` sets (not None,
    empty or False), which wins, as on the command line; a run made before run.json kept them
    is read with ``options`` alone (said in :attr:`Backtest.notes`). They are audited by the
    same pipeline as ``csqa audit``, redacted as its outputs are unless ``redact=False``
    (personal numbers masked in the diff, see :mod:`csqa.redact`).

    Each call is compared as soon as it is re-audited, so memory holds the runs' recorded
    findings, not a second copy. Raises :class:`~csqa.runs.RunError` for a folder that is not
    an audit run or whose recorded inputs are gone, :class:`~csqa.errors.RulesetError` for a
    bad ruleset.
    """
    rs = resolve_ruleset(ruleset)
    runs = [open_run(d) for d in run_dirs]
    baseline: dict[str, tuple[dict[str, str], list[dict[str, Any]], float]] = {}
    for run in runs:  # the last run given wins for a call audited twice
        by_call: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for f in run.findings():
            by_call[str(f["call_id"])].append(_masked_finding(f) if redact else f)
        for c in run.table("calls.csv"):
            baseline[c["call_id"]] = (c, by_call.pop(c["call_id"], []), run.pass_mark)
    diff = _Differ(runs, rs, examples)
    differ = DifferSink(diff, baseline)
    notes: list[str] = []
    for reading, inputs in _readings(runs, options or ReadOptions(), notes):
        audit_paths(inputs, rs, reading, [differ], redact)
    missing = sorted(cid for cid in baseline if cid not in diff.seen)
    return diff.result(missing, differ.problems, notes)


class DifferSink(Sink):
    """``backtest``'s sink: compares each re-audited call with what the run recorded."""

    def __init__(self, diff: _Differ,
                 baseline: dict[str, tuple[dict[str, str], list[dict[str, Any]], float]]
                 ) -> None:
        self.diff = diff
        self.baseline = baseline
        self.problems: list[InputProblem] = []

    def call(self, outcome: CallResult) -> None:
        t, diff = outcome.transcript, self.diff
        cid = t.call_id
        for rid, error in outcome.rule_errors.items():
            self.problems.append(InputProblem(t.source, t.line, f"规则 {rid} 运行失败:{error}",
                                              status="rule_error", call_id=cid))
        if cid in self.baseline and cid not in diff.seen:
            row, old, pass_mark = self.baseline[cid]
            diff.add(row, old, [f.as_dict() for f in outcome.findings], outcome.score,
                     outcome.passed, pass_mark)

    def problem(self, problem: InputProblem, of_input: bool = True) -> None:
        if problem.status not in NOT_INPUT_ERRORS and not (
                problem.call_id and problem.call_id in self.diff.seen):
            self.problems.append(problem)


def _readings(runs: list[AuditRun], given: ReadOptions, notes: list[str]
              ) -> list[tuple[ReadOptions, list[Path]]]:
    """The runs' inputs, grouped by how they are to be read (each input once, with the first
    run that lists it)."""
    groups: dict[str, tuple[ReadOptions, list[Path]]] = {}
    seen: set[Path] = set()
    for run in runs:
        recorded = run.reading
        if recorded is None:
            notes.append(f"{run.path / 'run.json'}: 未记录读取选项(由较早的 csqa 写出),"
                         "按本次命令给出的读取选项重新读取")
        reading = (ReadOptions() if recorded is None else ReadOptions.from_record(recorded)
                   ).overridden(**vars(given))
        key = repr(sorted(reading.record().items()))
        paths = groups.setdefault(key, (reading, []))[1]
        for path in _inputs(run):
            if path.resolve() not in seen:
                seen.add(path.resolve())
                paths.append(path)
    return [group for group in groups.values() if group[1]]


def _inputs(run: AuditRun) -> list[Path]:
    if not run.inputs:
        raise RunError(f"{run.path / 'run.json'}: 没有记录可重新审计的输入")
    paths: list[Path] = []
    for p in run.inputs:
        path = Path(p)
        if not path.exists():
            raise RunError(f"{run.path / 'run.json'}: 记录的输入 {p} 已不存在"
                           "(请在当初运行审计的目录下运行 backtest)")
        paths.append(path)
    return paths


class _Differ:
    """Accumulates the per-call, per-rule and finding-level diff, one call at a time."""

    def __init__(self, runs: list[AuditRun], rs: Ruleset, examples: int) -> None:
        self.runs, self.rs, self.examples = runs, rs, examples
        self.rules: dict[str, RuleDiff] = {}
        old_rules: set[str] = set()
        for run in runs:
            for rid, cost in run.rules.items():
                self.rules.setdefault(rid, RuleDiff(rid, cost.name))
                old_rules.add(rid)
        for r in rs.rules:
            self.rules.setdefault(r.id, RuleDiff(r.id, r.name))
        new_rules = {r.id for r in rs.rules}
        for rid, rd in self.rules.items():
            rd.status = ("new" if rid not in old_rules else
                         "dropped" if rid not in new_rules else "")
        self.calls: list[CallDiff] = []
        self.changes: list[dict[str, Any]] = []
        self.seen: set[str] = set()

    def _rule(self, f: dict[str, Any]) -> RuleDiff:
        return self.rules.setdefault(f["rule_id"], RuleDiff(f["rule_id"], f.get("name", "")))

    def add(self, row: dict[str, str], old: list[dict[str, Any]], new: list[dict[str, Any]],
            score: float, passed: bool, pass_mark: float) -> None:
        cid = row["call_id"]
        self.seen.add(cid)
        added, removed = _diff(old, new)
        self.calls.append(CallDiff(cid, row.get("agent_id", ""), float(row["score"]), score,
                                   _truth(row["passed"]), passed, len(added), len(removed),
                                   pass_mark, self.rs.pass_mark))
        for f in old:
            self._rule(f).before += 1
        for f in new:
            self._rule(f).after += 1
        for f in added:
            rd = self._rule(f)
            rd.added += 1
            rd.calls_added.add(cid)
            if len(rd.added_examples) < self.examples:
                rd.added_examples.append(f)
            self.changes.append({"change": ADDED, **f})
        for f in removed:
            rd = self._rule(f)
            rd.removed += 1
            rd.calls_removed.add(cid)
            if len(rd.removed_examples) < self.examples:
                rd.removed_examples.append(f)
            self.changes.append({"change": REMOVED, **f})

    def result(self, missing: list[str], problems: list[InputProblem], notes: list[str]
               ) -> Backtest:
        calls = sorted(self.calls, key=lambda c: c.call_id)
        changes = sorted(self.changes, key=lambda f: (str(f["call_id"]), f.get("start") or 0.0,
                                                      str(f["rule_id"]), f["change"]))
        per_agent: dict[str, list[CallDiff]] = defaultdict(list)
        for c in calls:
            per_agent[c.agent_id].append(c)
        return Backtest(runs=[r.path for r in self.runs], ruleset=self.rs,
                        baseline_versions=sorted({r.ruleset_version for r in self.runs}),
                        calls=calls, rules=list(self.rules.values()),
                        agents=[_group(a, cs) for a, cs in sorted(per_agent.items())],
                        overall=_group("all", calls), findings=changes, missing=missing,
                        problems=problems, scoring=_scoring_changes(self.runs, self.rs),
                        notes=notes)


def _scoring_changes(runs: list[AuditRun], rs: Ruleset) -> list[ScoringChange]:
    """What the candidate counts differently from the runs (rules in both; a new or dropped
    rule shows in the rules table)."""
    changes: list[ScoringChange] = []

    def note(what: str, before: set[str], after: str) -> None:
        if before - {after}:
            changes.append(ScoringChange(what, "/".join(sorted(before)), after))

    note("pass_mark", {f"{r.pass_mark:g}" for r in runs}, f"{rs.pass_mark:g}")
    note("base", {f"{r.base_score:g}" for r in runs}, f"{rs.base_score:g}")
    for rule in rs.rules:
        old = [run.rules[rule.id] for run in runs if rule.id in run.rules]
        if not old:
            continue
        note(f"{rule.id}.points", {f"{c.points:g}" for c in old}, f"{rule.points:g}")
        note(f"{rule.id}.max_points", {_cap(c.max_points) for c in old}, _cap(rule.max_points))
        note(f"{rule.id}.veto", {str(c.veto).lower() for c in old}, str(rule.veto).lower())
    return changes


def _cap(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _group(key: str, calls: list[CallDiff]) -> GroupDiff:
    n = len(calls)

    def mean(xs: list[float]) -> float:
        return round(sum(xs) / n, 2) if n else 0.0

    def rate(xs: list[bool]) -> float:
        return round(sum(xs) / n, 4) if n else 0.0

    return GroupDiff(key, n, mean([c.score_before for c in calls]),
                     mean([c.score_after for c in calls]),
                     rate([c.passed_before for c in calls]), rate([c.passed_after for c in calls]),
                     sum(c.added for c in calls), sum(c.removed for c in calls))


# --------------------------------------------------------------------------- output

def scoring_lines(bt: Backtest) -> list[str]:
    """What changes in the counting (pass mark, points …) and how many scores and verdicts
    move, for the terminal: a scoring change with no finding change is not "nothing changed"."""
    lines = []
    if bt.scoring:
        lines.append("计分变化: " + "; ".join(f"{c.what} {c.before or '无'} → {c.after or '无'}"
                                              for c in bt.scoring))
    if bt.rescored or bt.flipped:
        to_fail = sum(c.passed_before and not c.passed_after for c in bt.flipped)
        lines.append(f"得分变化 {len(bt.rescored)} 通;结论变化 {len(bt.flipped)} 通"
                     f"(合格 → 不合格 {to_fail},不合格 → 合格 {len(bt.flipped) - to_fail})")
    return lines


def tables(bt: Backtest) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The diff as named tables (columns, rows): summary, scoring, rules, agents, calls,
    findings."""
    o = bt.overall
    group_cols = ["calls", "mean_before", "mean_after", "mean_delta", "pass_rate_before",
                  "pass_rate_after", "pass_rate_delta", "findings_added", "findings_removed"]

    def group_row(g: GroupDiff) -> list[Any]:
        return [g.calls, g.mean_before, g.mean_after, g.mean_delta, g.pass_rate_before,
                g.pass_rate_after, g.pass_rate_delta, g.added, g.removed]

    return {
        "summary": (["candidate_ruleset", "candidate_version", "baseline_versions", "runs",
                     "pass_mark_before", "pass_mark_after", *group_cols, "calls_rescored",
                     "calls_flipped", "missing_calls", "input_problems"],
                    [[bt.ruleset.name, bt.ruleset.version, " ".join(bt.baseline_versions),
                      " ".join(str(p) for p in bt.runs),
                      " ".join(sorted({f"{c.pass_mark_before:g}" for c in bt.calls})),
                      bt.ruleset.pass_mark, *group_row(o), len(bt.rescored), len(bt.flipped),
                      len(bt.missing), len(bt.problems)]]),
        "scoring": (["setting", "before", "after"],
                    [[c.what, c.before, c.after] for c in bt.scoring]),
        "rules": (["rule_id", "name", "status", "before", "after", "added", "removed",
                   "calls_added", "calls_removed"],
                  [[r.rule_id, r.name, r.status, r.before, r.after, r.added, r.removed,
                    len(r.calls_added), len(r.calls_removed)] for r in bt.rules]),
        "agents": (["agent_id", *group_cols], [[g.key, *group_row(g)] for g in bt.agents]),
        "calls": (["call_id", "agent_id", "score_before", "score_after", "score_delta",
                   "pass_mark_before", "pass_mark_after", "passed_before", "passed_after",
                   "findings_added", "findings_removed"],
                  [[c.call_id, c.agent_id, c.score_before, c.score_after, c.score_delta,
                    c.pass_mark_before, c.pass_mark_after, c.passed_before, c.passed_after,
                    c.added, c.removed] for c in bt.calls]),
        "findings": (FINDING_COLUMNS,
                     [[f["change"], f["call_id"], f.get("agent_id", ""), f["rule_id"],
                       f.get("name", ""), f.get("utterance"), format_time(f.get("start")),
                       f.get("speaker") or "", f.get("matched", ""), f.get("evidence", ""),
                       f.get("message", "")] for f in bt.findings]),
    }


def write_backtest(bt: Backtest, out: str | Path) -> list[Path]:
    """Write the full diff: ``.xlsx`` one sheet per table; ``.csv`` the finding changes in
    ``out`` and the other tables next to it (``NAME.summary.csv``, ``NAME.scoring.csv``,
    ``NAME.rules.csv``, ``NAME.agents.csv``, ``NAME.calls.csv``). Returns the files written."""
    out = Path(out)
    suffix = out.suffix.lower()
    named = tables(bt)
    if suffix == ".xlsx":
        _write_xlsx(out, named)
        return [out]
    if suffix != ".csv":
        raise CsqaError(f"{out}: --out 须以 .xlsx 或 .csv 结尾")
    written = []
    for name, (cols, rows) in named.items():
        path = out if name == "findings" else out.with_name(f"{out.stem}.{name}.csv")
        with safeio.replacing(path) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            w.writerows([[safe_cell("" if v is None else v) for v in row] for row in rows])
        written.append(path)
    return written


def _write_xlsx(out: Path, named: dict[str, tuple[list[str], list[list[Any]]]]) -> None:
    with safeio.replacing(out) as tmp:  # the folder is checked before any sheet is begun
        write_sheets(tmp, [Sheet(name, cols, [[safe_cell(v) for v in row] for row in rows])
                           for name, (cols, rows) in named.items()])
