"""Report periods: week, month, any range; the trend's bucket from the span; 主要问题 relative
to the centre."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from csqa.weekly.build import _top_rules, month_period, period_named, week_period


def test_period_names_kinds_and_the_period_compared_with() -> None:
    w = week_period("2026-W47")
    assert (w.name, w.kind, w.bucket) == ("2026-W47", "week", "day")
    assert w.previous().name == "2026-W46"
    m = month_period("2026-03")
    assert (m.start, m.end, m.name, m.kind) == (date(2026, 3, 1), date(2026, 3, 31), "2026-03", "month")
    # the month before, not the 31 days before
    assert (m.previous().start, m.previous().end, m.previous().name) == (
        date(2026, 2, 1), date(2026, 2, 28), "2026-02")
    three = period_named(date(2026, 11, 16), date(2026, 12, 6))
    assert (three.name, three.kind, three.bucket) == ("2026-11-16 – 2026-12-06", "range", "day")
    quarter = period_named(date(2026, 9, 1), date(2026, 11, 29))
    assert quarter.bucket == "week"
    assert quarter.buckets()[:3] == [(date(2026, 9, 1), "W36"), (date(2026, 9, 7), "W37"),
                                     (date(2026, 9, 14), "W38")]
    year = period_named(date(2026, 1, 1), date(2026, 12, 31))
    assert year.bucket == "month"
    assert [b for b, _ in year.buckets()][:2] == [date(2026, 1, 1), date(2026, 2, 1)]
    assert year.buckets()[-1] == (date(2026, 12, 1), "2026-12")


def test_top_rules_put_what_the_group_breaks_more_than_the_centre_first() -> None:
    names = {"closing": "结束语", "greeting": "开场白", "blame": "责问客户", "abuse": "辱骂客户"}
    counts = pd.Series({"closing": 9, "greeting": 8, "blame": 2, "abuse": 0})
    # the centre: closing and greeting on ~every call, blame on 5% of them
    expected = pd.Series({"closing": 9.5, "greeting": 9.0, "blame": 0.5, "abuse": 0.1})
    assert _top_rules(counts, names, expected) == "责问客户 ×2; 结束语 ×9; 开场白 ×8"
    # without the centre: by count
    assert _top_rules(counts, names) == "结束语 ×9; 开场白 ×8; 责问客户 ×2"
    # decoy: a rule not broken at all is never listed, however rare at the centre
    assert "辱骂客户" not in _top_rules(counts, names, expected)


def test_customer_keywords_leave_out_greetings_read_out_digits_and_fragments() -> None:
    from csqa.weekly.build import _meaningful, top_keywords

    noise = ["再见", "拜拜", "二一", "三八", "幺八六", "一百", "那款", "那要", "这个", "哪个"]
    topics = ["宽带", "退款", "套餐", "发票", "信号差", "refund"]
    assert [w for w in noise if _meaningful(w)] == []
    assert [w for w in topics if _meaningful(w)] == topics
    # in a real extraction: the noisy words are gone, the topics stay
    texts = {f"c{i}": "喂你好,我家宽带又断了,宽带账号是二一三八六七八八,那款套餐那要怎么退款,好的再见"
             for i in range(5)}
    words = [w for w, _ in top_keywords(list(texts.values()), 10)]
    assert {"宽带", "退款", "套餐"} <= set(words)
    assert not {"再见", "二一", "三八", "那款", "那要", "六七", "八八"} & set(words)


def test_a_ruleset_change_is_marked_not_dropped(runs: dict[str, Path]) -> None:
    """Without --ruleset-hash every run counts, each call under the ruleset that scored it; the
    change is said in one sentence and marked on the trend (run3 is weekly v0, from 11-19)."""
    from csqa.weekly import build_report

    rep = build_report([runs["run2"], runs["run1"], runs["run3"]], week="2026-W47", keywords=0)
    head = rep.table("t_headline").set_index("metric")
    assert head.at["m_calls", "current"] == 8  # old-1, audited under v0, is counted
    assert rep.notes[0] == ("规则集在本报告范围内有变化:weekly 1(2026-11-10 起) → weekly 0"
                            "(2026-11-19 起);weekly 0 的通话已按 weekly 1 重新计分(只计两版都有的"
                            "规则,扣分与合格线按 weekly 1,新增规则按不可评估处理);趋势图中的虚线、"
                            "趋势线中的“|”与趋势表的“规则集”一列标出变化处。")
    trend = rep.table("t_daily")
    assert trend["ruleset"].tolist() == ["weekly 1", "weekly 1", "weekly 1", "weekly 0 / weekly 1",
                                         "weekly 1", "", "weekly 1"]
    # the HTML trend marks where the versions change (Thu, when v0 appears, and Fri, back to v1)
    from csqa.weekly.html import daily_chart

    assert daily_chart(rep).count('class="ruleset-change"') == 2
    # and so do the trend lines of every agent, team and rule
    assert rep.ruleset_breaks == [3, 4]
    for key in ("t_agents", "t_teams", "t_rules"):
        assert all(t.count("|") == 2 and t.index("|") == 3 for t in rep.table(key)["trend"]), key
    assert not any("不同的规则集" in n for n in rep.notes)  # no run left out
    assert set(rep.table("t_runs")["status"]) == {"s_used"}
