"""Scoring: from findings to a call's score and verdict, and from calls to agent scorecards.

The model (also in the README):

- every call starts at ``scoring.base`` (100);
- each finding deducts its rule's ``points``; a rule's total deduction in one call is capped
  at its ``max_points`` when set;
- the score never goes below 0;
- a finding of a ``veto`` rule (一票否决) fails the call whatever its score;
- otherwise the call passes when its score is at least ``scoring.pass_mark`` (80).

Rules that were not evaluable for a call (unknown hang-up side, a transcript without times,
a truncated transcript …) neither deduct nor fail, and the score is computed over what *was*
evaluable — the N/A model of evaluation forms, where an item marked N/A is taken out of both
the points earned and the points possible:

- a rule's *weight* is the most it can normally take off a call: ``max_points`` when set,
  else ``points`` (one finding); ``W`` is the weight of all enabled rules, ``W_e`` that of the
  rules evaluable for this call;
- ``score = base − D × W / W_e`` (``D`` the capped deductions as above), clamped to
  ``[0, base]``. With everything evaluable ``W_e = W`` and this is ``base − D`` exactly;
  with part of the ruleset N/A, each point lost on what could be checked weighs ``W / W_e``,
  so the call keeps the same *share* of the points at stake, and an untimed transcript earns
  no free points from the timing rules it could not be checked against;
- ``evaluated_share = W_e / W`` is reported with the call (calls.csv); when no rule has
  weight (``W = 0``) the share is 1 and nothing is rescaled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from csqa.model import CallResult, Finding, Transcript

if TYPE_CHECKING:
    import pandas as pd

    from csqa.ruleset import Ruleset


class RuleCost(Protocol):
    """What scoring needs of a rule: a :class:`~csqa.ruleset.Rule`, or a run's recorded copy."""

    @property
    def id(self) -> str: ...
    @property
    def points(self) -> float: ...
    @property
    def max_points(self) -> float | None: ...
    @property
    def veto(self) -> bool: ...


def rule_weight(rule: RuleCost) -> float:
    """The most a rule normally takes off one call: ``max_points`` if set, else ``points``."""
    return rule.max_points if rule.max_points is not None else rule.points


def evaluated_share(rules: Iterable[RuleCost], not_evaluable: Collection[str] = ()) -> float:
    """``W_e / W``: the share of the rules' weight that was evaluable (1 when nothing weighs)."""
    if not not_evaluable:
        return 1.0  # W_e = W (the common case, without summing the weights)
    total = evaluable = 0.0
    for rule in rules:
        w = rule_weight(rule)
        total += w
        if rule.id not in not_evaluable:
            evaluable += w
    return evaluable / total if total > 0 else 1.0


def deduct(counts: Mapping[str, int], rules: Iterable[RuleCost], base: float, pass_mark: float,
           not_evaluable: Collection[str] = ()) -> tuple[float, bool, bool, dict[str, float]]:
    """``(score, passed, vetoed, deductions)`` of a call with ``counts`` findings per rule id,
    scored over what was evaluable (``not_evaluable``: rule ids that could not be judged)."""
    deductions: dict[str, float] = {}
    vetoed = False
    lost = 0.0
    if counts:  # a clean call (the common case) has nothing to add up
        rules = list(rules)
        for rule in rules:
            n = counts.get(rule.id, 0)
            if not n:
                continue
            total = n * rule.points
            if rule.max_points is not None:
                total = min(total, rule.max_points)
            deductions[rule.id] = total
            vetoed = vetoed or rule.veto
        lost = sum(deductions.values())
        share = evaluated_share(rules, not_evaluable)
        if share > 0:
            lost /= share  # = × W / W_e
    score = round(min(base, max(0.0, base - lost)), 2)
    return score, (not vetoed and score >= pass_mark), vetoed, deductions


def score_call(transcript: Transcript, findings: list[Finding], ruleset: Ruleset,
               not_evaluable: dict[str, str] | None = None,
               rule_errors: dict[str, str] | None = None) -> CallResult:
    """Score one call's findings under ``ruleset``'s scoring model."""
    counts = Counter(f.rule_id for f in findings)
    skipped = set(not_evaluable or ())
    score, passed, vetoed, deductions = deduct(counts, ruleset.rules, ruleset.base_score,
                                               ruleset.pass_mark, skipped)
    return CallResult(
        transcript=transcript, findings=findings, score=score,
        passed=passed, vetoed=vetoed,
        rule_counts=dict(counts), deductions=deductions,
        not_evaluable=not_evaluable or {}, rule_errors=rule_errors or {},
        evaluated_share=round(evaluated_share(ruleset.rules, skipped), 4),
    )


@dataclass(slots=True)
class _Agent:
    agent_id: str
    agent_name: str | None = None
    team: str | None = None
    calls: int = 0
    score_sum: float = 0.0
    min_score: float = float("inf")
    passed: int = 0
    vetoed: int = 0
    findings: int = 0
    worst_call: str = ""
    worst_key: tuple[int, float] = (2, float("inf"))
    not_evaluable: int = 0
    partly_evaluable: int = 0
    rule_counts: Counter[str] = field(default_factory=Counter)


class Scorecards:
    """Per-agent scorecards, accumulated call by call (memory grows with agents, not calls)."""

    def __init__(self, rule_ids: list[str]) -> None:
        self.rule_ids = rule_ids
        self._agents: dict[str, _Agent] = {}

    def add(self, result: CallResult) -> None:
        t = result.transcript
        self.add_values(t.agent_id, t.agent_name, t.team, t.call_id, result.score, result.passed,
                        result.vetoed, len(result.findings), result.rule_counts,
                        len(result.not_evaluable))

    def add_values(self, agent_id: str, agent_name: str | None, team: str | None, call_id: str,
                   score: float, passed: bool, vetoed: bool, n_findings: int,
                   rule_counts: dict[str, int], not_evaluable: int = 0) -> None:
        """Count one call given as plain values (what parallel workers send back);
        ``not_evaluable`` is the number of rules the call could not be judged on."""
        a = self._agents.get(agent_id)
        if a is None:
            a = self._agents[agent_id] = _Agent(agent_id)
        if agent_name:
            a.agent_name = agent_name
        if team:
            a.team = team
        a.calls += 1
        a.score_sum += score
        if score < a.min_score:
            a.min_score = score
        rank = 0 if vetoed else 1  # a vetoed call is worse than any score
        worst_rank, worst_score = a.worst_key
        if rank < worst_rank or (rank == worst_rank and score < worst_score):
            a.worst_key = (rank, score)
            a.worst_call = call_id
        a.passed += passed
        a.vetoed += vetoed
        a.findings += n_findings
        if not_evaluable:
            a.not_evaluable += not_evaluable
            a.partly_evaluable += 1
        if rule_counts:
            counts = a.rule_counts
            for rid, n in rule_counts.items():  # Counter.update is slow for a handful of keys
                counts[rid] += n

    def __len__(self) -> int:
        return len(self._agents)

    COLUMNS = ("agent_id", "agent_name", "team", "calls", "mean_score", "min_score",
               "pass_rate", "vetoes", "findings", "findings_per_100_calls", "worst_call",
               "not_evaluable", "calls_partly_evaluable")

    @property
    def columns(self) -> list[str]:
        return [*self.COLUMNS, *self.rule_ids]

    def rows(self) -> list[dict[str, Any]]:
        """The scorecards, one dict per agent (the columns of agents.csv), sorted by agent id."""
        rows = []
        for a in sorted(self._agents.values(), key=lambda a: a.agent_id):
            row: dict[str, Any] = {
                "agent_id": a.agent_id,
                "agent_name": a.agent_name or "",
                "team": a.team or "",
                "calls": a.calls,
                "mean_score": round(a.score_sum / a.calls, 2),
                "min_score": a.min_score,
                "pass_rate": round(a.passed / a.calls, 4),
                "vetoes": a.vetoed,
                "findings": a.findings,
                "findings_per_100_calls": round(100.0 * a.findings / a.calls, 1),
                "worst_call": a.worst_call,
                "not_evaluable": a.not_evaluable,
                "calls_partly_evaluable": a.partly_evaluable,
            }
            for rid in self.rule_ids:
                row[rid] = a.rule_counts.get(rid, 0)
            rows.append(row)
        return rows

    def frame(self) -> pd.DataFrame:
        """The scorecards as a pandas table, one row per agent, sorted by agent id."""
        import pandas as pd

        return pd.DataFrame(self.rows(), columns=self.columns)
