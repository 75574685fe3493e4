"""The scoring model: deductions, per-rule caps, veto, pass mark, floor, agent scorecards."""

from __future__ import annotations

from pathlib import Path

from conftest import make_call, ruleset_with

from csqa.engine import Engine
from csqa.scoring import Scorecards

CALL = """\
[00:00:01.0-00:00:03.0] 坐席: 没办法。
[00:00:04.0-00:00:06.0] 坐席: 没办法,不归我管。
[00:00:07.0-00:00:09.0] 坐席: 真没办法。
"""


def _rules(points: float, max_points: float | None = None, veto: bool = False) -> list[dict]:
    rule = {"id": "shirk", "kind": "forbidden_phrase", "phrases": ["没办法", "不归我管"],
            "points": points, "veto": veto}
    if max_points is not None:
        rule["max_points"] = max_points
    return [rule]


def test_each_finding_deducts(tmp_path: Path) -> None:
    r = Engine(ruleset_with(tmp_path, _rules(5))).audit(make_call(CALL))
    assert (len(r.findings), r.score, r.passed, r.deductions) == (4, 80.0, True, {"shirk": 20.0})


def test_cap_per_rule_and_pass_mark(tmp_path: Path) -> None:
    r = Engine(ruleset_with(tmp_path, _rules(5, max_points=12))).audit(make_call(CALL))
    assert (r.score, r.passed, r.rule_counts) == (88.0, True, {"shirk": 4})
    rs = ruleset_with(tmp_path, _rules(5), scoring={"pass_mark": 81})
    r = Engine(rs).audit(make_call(CALL))
    assert (r.score, r.passed) == (80.0, False)


def test_score_floor_and_base(tmp_path: Path) -> None:
    rs = ruleset_with(tmp_path, _rules(30), scoring={"base": 100, "pass_mark": 60})
    r = Engine(rs).audit(make_call(CALL))
    assert (r.score, r.passed) == (0.0, False)
    rs = ruleset_with(tmp_path, _rules(1), scoring={"base": 10, "pass_mark": 5})
    assert Engine(rs).audit(make_call(CALL)).score == 6.0


def test_veto_fails_whatever_the_score(tmp_path: Path) -> None:
    r = Engine(ruleset_with(tmp_path, _rules(0, veto=True))).audit(make_call(CALL))
    assert (r.score, r.vetoed, r.passed) == (100.0, True, False)


def test_not_evaluable_neither_deducts_nor_fails(tmp_path: Path) -> None:
    rs = ruleset_with(tmp_path, [{"id": "h", "kind": "hangup", "points": 50, "veto": True}])
    r = Engine(rs).audit(make_call(CALL))
    assert (r.score, r.passed, r.not_evaluable) == (100.0, True, {"h": "挂机方未知"})


def test_scorecards(tmp_path: Path) -> None:
    rs = ruleset_with(tmp_path, _rules(5))
    engine = Engine(rs)
    cards = Scorecards(["shirk"])
    clean = "[00:00:01.0-00:00:03.0] 坐席: 您好。\n"
    for i, text in enumerate([CALL, clean, clean, "# agent_id: B2\n" + clean]):
        cards.add(engine.audit(make_call(text, call_id=f"c{i}")))
    df = cards.frame()
    assert list(df["agent_id"]) == ["B2", "T1"]  # sorted by agent id
    a = df.iloc[1].to_dict()
    assert (a["agent_id"], a["calls"], a["mean_score"], a["min_score"], a["pass_rate"],
            a["findings"], a["findings_per_100_calls"], a["worst_call"], a["shirk"]) == (
        "T1", 3, 93.33, 80.0, 1.0, 4, 133.3, "c0", 4)
    b = df.iloc[0].to_dict()
    assert (b["calls"], b["mean_score"], b["findings"], b["worst_call"]) == (1, 100.0, 0, "c3")


def test_agents_csv_is_what_pandas_writes() -> None:
    """agents.csv is written without pandas; it is byte for byte the pandas table's CSV:
    a column with any float is written as floats, text is neutralised, quoting as pandas'."""
    from csqa.reporters.files import csv_like_pandas, safe_frame

    cards = Scorecards(["r1", "r.2"])
    cards.add_values("A2", "张,三", "一组", "C1", 100, True, False, 0, {})
    cards.add_values("A2", None, None, "C2", 87.5, True, False, 2, {"r1": 2}, 1)
    cards.add_values("=A1", '引"号', "", "C3", 100, True, False, 0, {})
    cards.add_values("A3", "@x", "+1", "-C4", 0, False, True, 1, {"r.2": 1})
    for subset in (cards, Scorecards(["r1"])):
        want = safe_frame(subset.frame()).to_csv(index=False)
        assert csv_like_pandas(subset.rows(), subset.columns) == want
    assert csv_like_pandas(cards.rows(), cards.columns).splitlines()[1].startswith(
        "'=A1,\"引\"\"号\",,1,100.0,100.0,1.0,0,0,0.0,C3,0,0,0,0")
