"""需要关注: the short list at the top of a report, agents, teams and rules that need a look.

An item is raised, against the period compared with, when

- the pass rate fell by more than ``pass_drop`` (default 10 percentage points) or the mean score
  by more than ``score_drop`` (default 5 points), for an agent or team with at least
  ``min_calls`` calls in both periods (so one bad call of an agent with two calls is not news);
- an agent or team has a veto this period and none among its calls of the period before (a new
  veto; a group without calls then is not raised);
- a rule's hits per 100 calls rose by at least ``rule_jump`` (default 5) with at least
  ``min_calls`` hits this period.

Each item says why in one line and names the call to open (the group's worst call of the period,
or the worst call with the rule), so a lead gets from the list to a call in one click.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

COLUMNS = ["kind", "who", "name", "team", "reason", "call_id"]


@dataclass(frozen=True)
class Thresholds:
    """When a change is worth a look."""

    pass_drop: float = 0.10
    score_drop: float = 5.0
    rule_jump: float = 5.0
    min_calls: int = 3


def _nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def worst_first(calls: pd.DataFrame) -> pd.DataFrame:
    """``calls`` worst first: lowest score, vetoed before not, more findings, then call id."""
    return calls.assign(_v=~calls["vetoed"].astype(bool)).sort_values(
        ["score", "_v", "n_findings", "call_id"], ascending=[True, True, False, True],
        kind="stable")


def worst_of(calls: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` worst calls in :func:`worst_first` order, sorting only those that can be."""
    if len(calls) <= n or n <= 0:
        return worst_first(calls).head(max(n, 0))
    cut = calls["score"].nsmallest(n).max()
    return worst_first(calls[calls["score"] <= cut]).head(n)


def worst_per_group(calls: pd.DataFrame, key: str) -> pd.Series:
    """The worst call (its id) of each group of ``key``."""
    lowest = calls.groupby(key, sort=False)["score"].transform("min")
    return worst_first(calls[calls["score"] == lowest]).groupby(key, sort=False)["call_id"].first()


def _first_call(ordered: pd.DataFrame) -> str:
    return str(ordered["call_id"].iloc[0]) if len(ordered) else ""


def _group_reasons(row: dict[str, Any], prev_vetoes: int, t: Thresholds, zh: bool
                   ) -> list[tuple[int, str]]:
    """(rank, reason) of one agent or team row; a lower rank is more urgent."""
    out: list[tuple[int, str]] = []
    # new: vetoes now, none among the calls of the period before (without calls then, nothing
    # can be called new)
    if int(row["vetoes"]) > 0 and prev_vetoes == 0 and int(row["prev_calls"]) > 0:
        out.append((0, f"新出现一票否决 {int(row['vetoes'])} 通(上期 0)" if zh else
                    f"new veto: {int(row['vetoes'])} call(s) (none in the previous period)"))
    enough = int(row["calls"]) >= t.min_calls and int(row["prev_calls"]) >= t.min_calls
    d_pass, d_mean = row["d_pass_rate"], row["d_mean_score"]
    if enough and not _nan(d_pass) and d_pass < -t.pass_drop:
        out.append((1, f"合格率 {row['prev_pass_rate'] * 100:.1f}% → {row['pass_rate'] * 100:.1f}%"
                       f"(下降 {-d_pass * 100:.1f} 个百分点)" if zh else
                    f"pass rate {row['prev_pass_rate'] * 100:.1f}% → {row['pass_rate'] * 100:.1f}%"
                    f" (down {-d_pass * 100:.1f} points)"))
    if enough and not _nan(d_mean) and d_mean < -t.score_drop:
        out.append((2, f"平均分 {row['prev_mean_score']:.1f} → {row['mean_score']:.1f}"
                       f"(下降 {-d_mean:.1f} 分)" if zh else
                    f"mean score {row['prev_mean_score']:.1f} → {row['mean_score']:.1f}"
                    f" (down {-d_mean:.1f})"))
    return out


def attention(agents: pd.DataFrame, teams: pd.DataFrame, rules: pd.DataFrame,
              cur: pd.DataFrame, prev: pd.DataFrame, lang: str = "zh",
              t: Thresholds | None = None) -> pd.DataFrame:
    """The attention list: agents first, then teams, then rules; the most urgent first."""
    t = t or Thresholds()
    zh = lang == "zh"
    items: list[tuple[int, float, dict[str, Any]]] = []
    for kind, frame, key in (("agent", agents, "agent_id"), ("team", teams, "team")):
        prev_vetoes = prev.groupby(key)["vetoed"].sum() if len(prev) else pd.Series(dtype=int)
        worst: Any = worst_per_group(cur, key) if len(cur) and len(frame) else {}
        records: list[dict[str, Any]] = frame.to_dict("records")  # type: ignore[assignment]
        for row in records:
            reasons = _group_reasons(row, int(prev_vetoes.get(row[key], 0)), t, zh)
            if not reasons:
                continue
            reasons.sort()
            drop = row["d_pass_rate"] if not _nan(row["d_pass_rate"]) else 0.0
            name = str(row.get("agent_name") or "") if kind == "agent" else ""
            team = str(row.get("team") or "") if kind == "agent" else ""
            items.append((reasons[0][0] + (0 if kind == "agent" else 10), float(drop),
                          {"kind": kind, "who": str(row[key]), "name": name, "team": team,
                           "reason": (";" if zh else "; ").join(r for _, r in reasons),
                           "call_id": str(worst.get(row[key], ""))}))
    rule_rows: list[dict[str, Any]] = rules.to_dict("records")  # type: ignore[assignment]
    for row in rule_rows:
        rise = row["d_per_100"]
        if _nan(rise) or rise < t.rule_jump or int(row["hits"]) < t.min_calls:
            continue
        reason = (f"每百通 {row['prev_per_100']:.1f} → {row['per_100']:.1f} 次(上升 {rise:.1f})"
                  if zh else f"per 100 calls {row['prev_per_100']:.1f} → {row['per_100']:.1f}"
                  f" (up {rise:.1f})")
        rid = row["rule_id"]
        with_rule = worst_of(cur[cur[rid] > 0], 1) if rid in cur else cur.iloc[:0]
        items.append((20, -float(rise), {"kind": "rule", "who": str(rid),
                                         "name": str(row["rule_name"]), "team": "",
                                         "reason": reason, "call_id": _first_call(with_rule)}))
    items.sort(key=lambda it: (it[0], it[1], it[2]["who"]))
    return pd.DataFrame([it[2] for it in items], columns=COLUMNS)
