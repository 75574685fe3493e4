"""Like with like across ruleset versions: calls audited under an older ruleset are scored again
under the newest ruleset of the report, from the findings they stored (calls.csv's per-rule
counts), so a trend across a rule change compares the same yardstick.

How a call of an older ruleset is scored again (the README's scoring model, with the newest
ruleset's points, caps, vetoes, base score and pass mark):

- only its findings of rules the newest ruleset also has (same id and kind) count; findings of
  rules the newest ruleset dropped are left out;
- rules the newest ruleset added were never checked on the call: they are not evaluable for it
  (the N/A model: the deductions are weighed by ``W / W_e``), as are the rules the call itself
  could not evaluate (calls.csv ``not_evaluable``);
- a ruleset with no rule in common with the newest one cannot be compared: its calls keep their
  own scores and are marked ``separate``; the trend shows their mean as a series of its own
  (``separate_mean``), beside the mean of all calls.

Vectorised per ruleset and per distinct ``not_evaluable`` set (a quarter is millions of calls).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from csqa.runs import RuleCost, RunError, rule_costs
from csqa.scoring import rule_weight
from csqa.weekly.source import RunInfo


@dataclass
class Rescored:
    """What :func:`rescore` did: the ruleset it scored under (name and version), and the older
    versions it scored again or could not."""

    target: str = ""
    rescored: list[str] = field(default_factory=list)
    separate: list[str] = field(default_factory=list)


def version_of(run: RunInfo) -> str:
    """A run's ruleset as people name it: ``name version``."""
    return f"{run.ruleset.get('name', '')} {run.ruleset.get('version', '')}".strip()


def _costs(run: RunInfo) -> dict[str, RuleCost] | None:
    try:
        return rule_costs(run.ruleset, run.label)
    except RunError:
        return None


def rescore(calls: pd.DataFrame, used: list[RunInfo]) -> tuple[pd.DataFrame, Rescored]:
    """``calls`` (a report's rows: ``run``, ``score``, ``passed``, ``vetoed``, ``n_findings``,
    per-rule counts, ``not_evaluable``) with the calls of older rulesets scored under the newest
    ruleset among their runs, changed in place (a quarter is millions of rows: no copy); the
    recorded score stays in ``recorded_score``."""
    out = calls
    out["recorded_score"] = out["score"]
    if not len(calls):
        return out, Rescored()
    by_order = {r.order: r for r in used}
    present = [by_order[int(o)] for o in pd.unique(calls["run"])]
    newest = max(present, key=lambda r: r.sort_key)
    done = Rescored(version_of(newest))
    hashes = {r.ruleset_hash for r in present}
    if len(hashes) == 1:
        return out, done
    target = _costs(newest)
    if target is None:  # its costs are unknown: nothing can be scored again
        done.separate = sorted({version_of(r) for r in present} - {done.target})
        return out, done
    base = float(newest.ruleset.get("base_score", 100.0))
    pass_mark = float(newest.ruleset.get("pass_mark", 80.0))
    weights = {rid: rule_weight(c) for rid, c in target.items()}
    total_w = sum(weights.values())
    for h in sorted(hashes - {newest.ruleset_hash}):
        runs = [r for r in present if r.ruleset_hash == h]
        own = _costs(runs[0])
        common = [rid for rid in target
                  if rid in runs[0].rule_ids and (own is None or rid not in own
                                                  or own[rid].kind == target[rid].kind)]
        name = version_of(runs[0])
        if not common:  # a separate series: the report's trend draws its mean on its own
            done.separate.append(name)
            if "separate" not in out:
                out["separate"] = False
            out.loc[out["run"].isin([r.order for r in runs]), "separate"] = True
            continue
        done.rescored.append(name)
        rows = out["run"].isin([r.order for r in runs])
        part = out.loc[rows]
        counts = np.stack([part[rid].to_numpy(dtype=float) if rid in part
                           else np.zeros(len(part)) for rid in common], axis=1)
        points = np.array([target[rid].points for rid in common])
        caps = np.array([np.inf if target[rid].max_points is None else target[rid].max_points
                         for rid in common])
        lost = np.minimum(counts * points, caps).sum(axis=1)
        veto = np.array([target[rid].veto for rid in common])
        vetoed = (counts[:, veto] > 0).any(axis=1) if veto.any() else np.zeros(len(part), bool)
        # the share of the newest ruleset's weight that was evaluable, per not_evaluable set
        added = {rid for rid in target if rid not in common}
        skipped = part["not_evaluable"].astype(object).fillna("").astype(str) \
            if "not_evaluable" in part else pd.Series("", index=part.index)
        share = np.ones(len(part))
        for value in pd.unique(skipped):
            na = added | {r for r in str(value).split(";") if r}
            w_e = total_w - sum(weights[r] for r in na if r in weights)
            s = w_e / total_w if total_w > 0 else 1.0
            share[(skipped == value).to_numpy()] = s if s > 0 else 1.0
        score = np.round(np.clip(base - lost / share, 0.0, base), 2)
        out.loc[rows, "score"] = pd.Series(score, index=part.index)
        out.loc[rows, "vetoed"] = pd.Series(vetoed, index=part.index)
        out.loc[rows, "passed"] = pd.Series(~vetoed & (score >= pass_mark), index=part.index)
        out.loc[rows, "n_findings"] = pd.Series(counts.sum(axis=1).astype(int), index=part.index)
    return out, done


def versions_note(versions: list[tuple[str, date]], done: Rescored,
                  lang: str) -> str:
    """The one sentence that says the ruleset changed and how the figures compare across it."""
    zh = lang == "zh"
    steps = " → ".join(f"{v}({d} 起)" if zh else f"{v} (from {d})" for v, d in versions)
    again = "、".join(done.rescored) if zh else ", ".join(done.rescored)
    apart = "、".join(done.separate) if zh else ", ".join(done.separate)
    if zh:
        how = (f"{again} 的通话已按 {done.target} 重新计分(只计两版都有的规则,扣分与合格线按 "
               f"{done.target},新增规则按不可评估处理)" if done.rescored else "")
        sep = (f"{apart} 与 {done.target} 没有共同规则,无法重新计分,保留原分数、单列为另一序列"
               if done.separate else "")
        return (f"规则集在本报告范围内有变化:{steps};" + ";".join(x for x in (how, sep) if x)
                + ";趋势图中的虚线、趋势线中的“|”与趋势表的“规则集”一列标出变化处。")
    how = (f"calls of {again} are scored again under {done.target} (only rules both have "
           f"count, with {done.target}'s points and pass mark; its new rules count as not "
           "evaluable)" if done.rescored else "")
    sep = (f"{apart} shares no rule with {done.target}: its calls keep their own scores, a "
           "separate series" if done.separate else "")
    return (f"the ruleset changed within this report: {steps}; "
            + "; ".join(x for x in (how, sep) if x)
            + "; the chart's dashed line, the '|' in trend lines and the trend's ruleset column "
            "mark the change.")
