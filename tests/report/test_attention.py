"""需要关注: which agents, teams and rules are raised, why (one line) and which call to open."""

from __future__ import annotations

from typing import Any

import pandas as pd

from csqa.weekly import Report
from csqa.weekly.attention import Thresholds, attention
from report.conftest import records


def test_w47_raises_the_new_veto_of_b1_and_its_team(w47: Report) -> None:
    assert records(w47.table("t_attention")) == [
        {"kind": "agent", "who": "B1", "name": "王五", "team": "二组",
         "reason": "新出现一票否决 1 通(上期 0)", "call_id": "w47-b1-1"},
        {"kind": "team", "who": "二组", "name": "", "team": "",
         "reason": "新出现一票否决 1 通(上期 0)", "call_id": "w47-b1-1"},
    ]
    assert list(w47.tables)[:3] == ["t_headline", "t_attention", "t_agents"]


def _calls(agent: str, scores: list[float], vetoed: int = 0, blame: list[int] | None = None
           ) -> list[dict[str, Any]]:
    return [{"call_id": f"{agent}-{i}", "agent_id": agent, "team": "一组", "score": s,
             "passed": s >= 80, "vetoed": i < vetoed, "n_findings": int(s < 100),
             "blame": (blame or [0] * len(scores))[i]} for i, s in enumerate(scores)]


def _agents(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    cols = ["agent_id", "agent_name", "team", "calls", "mean_score", "pass_rate", "vetoes",
            "prev_calls", "prev_mean_score", "d_mean_score", "prev_pass_rate", "d_pass_rate"]
    return pd.DataFrame([dict(zip(cols, r, strict=True)) for r in rows], columns=cols)


def test_thresholds_and_decoys() -> None:
    cur = pd.DataFrame(_calls("A", [70, 75, 90, 95]) + _calls("B", [88, 86, 84])
                       + _calls("C", [50, 100]) + _calls("D", [96, 97, 98], blame=[1, 1, 1])
                       + _calls("E", [50], vetoed=1))
    prev = pd.DataFrame(_calls("A", [90, 92, 94, 96]) + _calls("B", [90, 90, 90])
                        + _calls("C", [100, 100, 100]) + _calls("D", [99, 99, 99]))
    agents = _agents([
        # pass rate 100% -> 50% and mean 93 -> 82.5: both reasons, the pass rate first
        ("A", "甲", "一组", 4, 82.5, 0.5, 0, 4, 93.0, -10.5, 1.0, -0.5),
        # decoy: mean down 4 (< 5), pass rate unchanged
        ("B", "乙", "一组", 3, 86.0, 1.0, 0, 3, 90.0, -4.0, 1.0, 0.0),
        # decoy: a big fall on 2 calls (< min_calls 3)
        ("C", "丙", "一组", 2, 75.0, 0.5, 0, 3, 100.0, -25.0, 1.0, -0.5),
        ("D", "丁", "一组", 3, 97.0, 1.0, 0, 3, 99.0, -2.0, 1.0, 0.0),
        # decoy: a veto, but no calls in the period before (new agent): nothing to call new
        ("E", "戊", "一组", 1, 50.0, 0.0, 1, 0, float("nan"), float("nan"), float("nan"),
         float("nan")),
    ])
    teams = pd.DataFrame(columns=["team", "calls", "mean_score", "pass_rate", "vetoes",
                                  "prev_calls", "prev_mean_score", "d_mean_score",
                                  "prev_pass_rate", "d_pass_rate"])
    rules = pd.DataFrame([
        {"rule_id": "blame", "rule_name": "责问客户", "hits": 3, "per_100": 23.1,
         "prev_per_100": 0.0, "d_per_100": 23.1},
        # decoy: a rise of 4.9 per 100 calls
        {"rule_id": "greeting", "rule_name": "开场白", "hits": 9, "per_100": 69.2,
         "prev_per_100": 64.3, "d_per_100": 4.9},
    ])
    cur["greeting"] = 0
    got = records(attention(agents, teams, rules, cur, prev, "zh", Thresholds()))
    assert got == [
        {"kind": "agent", "who": "A", "name": "甲", "team": "一组",
         "reason": "合格率 100.0% → 50.0%(下降 50.0 个百分点);平均分 93.0 → 82.5(下降 10.5 分)",
         "call_id": "A-0"},
        {"kind": "rule", "who": "blame", "name": "责问客户", "team": "",
         "reason": "每百通 0.0 → 23.1 次(上升 23.1)", "call_id": "D-0"},
    ]
    # a stricter lead: a mean fall of 3 is enough
    got = attention(agents, teams, rules, cur, prev, "en", Thresholds(score_drop=3.0))
    assert got["who"].tolist() == ["A", "B", "blame"]
    assert got["reason"].tolist()[1] == "mean score 90.0 → 86.0 (down 4.0)"
