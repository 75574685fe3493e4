"""Golden numbers of the weekly report over the fixture runs (tests/report/fixtures.py).

Every figure below is worked out by hand from the fixture's call shapes (G 100, N 95, B 85,
BB 70, VB 55 vetoed, NB 80) and the ISO-week / time-zone placement documented there.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from support.runs import reseal

from csqa.weekly import Report, ReportError, build_report
from report.conftest import records, ruleset_hash

N = None


def test_headline_against_previous_week(w47: Report) -> None:
    # W47: 100 85 100 70 95 55 80 -> 585/7; passed 5/7; W46: 70 100 95 -> 265/3, passed 2/3
    assert w47.period.name == "2026-W47" and w47.previous.name == "2026-W46"
    assert (w47.period.start, w47.period.end) == (date(2026, 11, 16), date(2026, 11, 22))
    assert records(w47.table("t_headline")) == [
        {"metric": "m_calls", "current": 7, "prev": 3, "change": 4},
        {"metric": "m_mean_score", "current": 83.57, "prev": 88.33, "change": -4.76},
        {"metric": "m_pass_rate", "current": 0.7143, "prev": 0.6667, "change": 0.0476},
        {"metric": "m_vetoes", "current": 1, "prev": 0, "change": 1},
        {"metric": "m_findings", "current": 8, "prev": 3, "change": 5},
    ]


def test_agent_table(w47: Report) -> None:
    cols = ["rank", "agent_id", "agent_name", "team", "calls", "mean_score", "pass_rate",
            "vetoes", "findings", "top_rules", "prev_calls", "prev_mean_score", "d_mean_score",
            "prev_pass_rate", "d_pass_rate", "trend"]
    # trend: mean score per day, Mon–Sun (A1: 100 Mon, 85 Tue, 100 Wed; blank: no call)
    rows = [
        [1, "A1", "张三", "一组", 3, 95.0, 1.0, 0, 1, "责问客户 ×1", 2, 85.0, 10.0, 0.5, 0.5,
         "█▁█    "],
        [2, "A2", "李四", "一组", 2, 82.5, 0.5, 0, 3, "责问客户 ×2; 开场白 ×1", 0, N, N, N, N,
         "▁   █  "],
        [3, "X1", "=cmd|' /C calc'!A0", "", 1, 80.0, 1.0, 0, 2, "责问客户 ×1; 开场白 ×1",
         0, N, N, N, N, "   ▄   "],
        [4, "B1", "王五", "二组", 1, 55.0, 0.0, 1, 2, "责问客户 ×1; 辱骂客户 ×1",
         1, 95.0, -40.0, 1.0, -1.0, "      ▄"],
    ]
    assert records(w47.table("t_agents")) == [dict(zip(cols, r, strict=True)) for r in rows]


def test_team_table(w47: Report) -> None:
    cols = ["rank", "team", "agents", "calls", "mean_score", "pass_rate", "vetoes", "findings",
            "top_rules", "prev_calls", "prev_mean_score", "d_mean_score", "prev_pass_rate",
            "d_pass_rate", "trend"]
    rows = [
        [1, "一组", 2, 5, 90.0, 0.8, 0, 4, "责问客户 ×3; 开场白 ×1", 2, 85.0, 5.0, 0.5, 0.3,
         "▁▁█ ▆  "],
        [2, "(未分班组)", 1, 1, 80.0, 1.0, 0, 2, "责问客户 ×1; 开场白 ×1", 0, N, N, N, N,
         "   ▄   "],
        [3, "二组", 1, 1, 55.0, 0.0, 1, 2, "责问客户 ×1; 辱骂客户 ×1", 1, 95.0, -40.0, 1.0, -1.0,
         "      ▄"],
    ]
    assert records(w47.table("t_teams")) == [dict(zip(cols, r, strict=True)) for r in rows]


def test_rule_table_and_daily_hits(w47: Report) -> None:
    # blame: 1 (w47-a1-2) + 2 (w47-a2-1) + 1 (w47-b1-1) + 1 (w47-x-1) over 7 calls; W46: 2 / 3
    assert records(w47.table("t_rules")) == [
        {"rule_id": "blame", "rule_name": "责问客户", "hits": 5, "calls_affected": 4,
         "per_100": 71.4, "prev_per_100": 66.7, "d_per_100": 4.7, "trend": "█▅▁▅▁▁▅"},
        {"rule_id": "greeting", "rule_name": "开场白", "hits": 2, "calls_affected": 2,
         "per_100": 28.6, "prev_per_100": 33.3, "d_per_100": -4.7, "trend": "▁▁▁██▁▁"},
        {"rule_id": "abuse", "rule_name": "辱骂客户", "hits": 1, "calls_affected": 1,
         "per_100": 14.3, "prev_per_100": 0.0, "d_per_100": 14.3, "trend": "▁▁▁▁▁▁█"},
    ]
    assert w47.rule_daily == {"blame": [2, 1, 0, 1, 0, 0, 1], "abuse": [0, 0, 0, 0, 0, 0, 1],
                              "greeting": [0, 0, 0, 1, 1, 0, 0]}


def test_daily_trend_places_calls_by_local_day(w47: Report) -> None:
    # Mon: w47-a1-1 (00:00 +08) and w47-a2-1 (12:30 -05:00 on Sun = 01:30 Mon in Shanghai);
    # Sun: w47-b1-1 (15:59Z = 23:59); w48-b1-1 (16:00Z = Mon 00:00) is not in W47.
    cols = ["date", "weekday", "calls", "mean_score", "pass_rate", "vetoes", "findings"]
    rows = [
        [date(2026, 11, 16), "周一", 2, 85.0, 0.5, 0, 2],
        [date(2026, 11, 17), "周二", 1, 85.0, 1.0, 0, 1],
        [date(2026, 11, 18), "周三", 1, 100.0, 1.0, 0, 0],
        [date(2026, 11, 19), "周四", 1, 80.0, 1.0, 0, 2],
        [date(2026, 11, 20), "周五", 1, 95.0, 1.0, 0, 1],
        [date(2026, 11, 21), "周六", 0, N, N, 0, 0],
        [date(2026, 11, 22), "周日", 1, 55.0, 0.0, 1, 2],
    ]
    assert records(w47.table("t_daily")) == [dict(zip(cols, r, strict=True)) for r in rows]


def test_worst_calls_with_evidence(w47: Report) -> None:
    worst = w47.worst_calls
    assert [(c["call_id"], c["score"], c["vetoed"]) for c in worst] == [
        ("w47-b1-1", 55.0, True), ("w47-a2-1", 70.0, False), ("w47-x-1", 80.0, False),
        ("w47-a1-2", 85.0, False), ("w47-a2-2", 95.0, False)]
    assert worst[0]["started"] == datetime(2026, 11, 22, 23, 59)
    assert worst[0]["findings"] == [
        {"rule_name": "责问客户", "at": "00:09", "speaker": "agent",
         "evidence": "我怎么知道<script>alert(1)</script>", "message": "责问客户:“我怎么知道”"},
        {"rule_name": "辱骂客户", "at": "00:14", "speaker": "agent", "evidence": "你有病吧",
         "message": "辱骂客户:“你有病吧”"}]
    flat = w47.table("t_worst")
    assert len(flat) == 8  # one row per finding: 2 + 2 + 2 + 1 + 1
    assert flat["call_id"].tolist()[:3] == ["w47-b1-1", "w47-b1-1", "w47-a2-1"]
    assert flat["evidence"].tolist()[3] == "你问我我怎么知道"
    # a missing greeting is about the span where it was expected, with no utterance as its
    # evidence (#17)
    assert worst[4]["findings"] == [
        {"rule_name": "开场白", "at": "00:00–00:11", "speaker": "", "evidence": "",
         "message": "开场白不完整"}]


def test_worst_calls_top_n(runs: dict[str, Path]) -> None:
    rep = build_report([runs["run1"], runs["run2"]], week="2026-W47", top=2)
    assert [c["call_id"] for c in rep.worst_calls] == ["w47-b1-1", "w47-a2-1"]


def test_dedup_latest_run_wins(w47: Report, runs: dict[str, Path]) -> None:
    # dup-1 was B (85) in run1 and G (100) in run2: Wednesday shows 100 and no finding
    wed = w47.table("t_daily").iloc[2]
    assert (wed["calls"], wed["mean_score"], wed["findings"]) == (1, 100.0, 0)
    assert "dup-1" not in {c["call_id"] for c in w47.worst_calls}
    runs_rows = records(w47.table("t_runs"))
    assert [(Path(r["run"]).name, r["calls_in_run"], r["calls_used"], r["calls_superseded"],
             r["status"]) for r in runs_rows] == [
        ("nightly-1118", 7, 3, 1, "s_used"),
        ("old-rules", 1, 0, 0, "s_other_ruleset"),
        ("nightly-1122", 6, 4, 0, "s_used")]
    assert runs_rows[0]["audited_at"] == datetime(2026, 11, 19, 4, 0)  # 20:00Z in Shanghai
    # the customer text comes from the winning run too: run1's 积分 is gone, run2's 套餐 is there
    kw = w47.table("t_keywords")["keyword"].tolist()
    assert "积分" not in kw
    full = build_report([runs["run1"], runs["run2"]], week="2026-W47", keywords=50)
    assert "套餐" in full.table("t_keywords")["keyword"].tolist()
    assert "积分" not in full.table("t_keywords")["keyword"].tolist()


def test_dedup_does_not_depend_on_command_line_order(runs: dict[str, Path]) -> None:
    a = build_report([runs["run1"], runs["run2"]], week="2026-W47")
    b = build_report([runs["run2"], runs["run1"]], week="2026-W47")
    for key in ("t_headline", "t_agents", "t_rules", "t_daily", "t_keywords"):
        assert records(a.table(key)) == records(b.table(key)), key


def test_customer_keywords(w47: Report) -> None:
    # 宽带 is said in w47-a1-1, w47-a1-2, dup-1 (run2), w47-b1-1, w47-x-1
    assert records(w47.table("t_keywords")) == [
        {"keyword": "宽带", "weight": 2.7458, "calls_mentioning": 5},
        {"keyword": "断网", "weight": 1.7078, "calls_mentioning": 3},
        {"keyword": "退款", "weight": 1.442, "calls_mentioning": 2},
        {"keyword": "SUM", "weight": 0.5693, "calls_mentioning": 1},
        {"keyword": "连不上", "weight": 0.5693, "calls_mentioning": 1},
    ]
    # W48's 发票 and the other ruleset's 销户 are not this week's themes
    kw = set(w47.table("t_keywords")["keyword"])
    assert not kw & {"发票", "销户", "A1", "A9"}


def test_different_ruleset_is_reported_not_mixed(w47: Report, runs: dict[str, Path]) -> None:
    assert w47.ruleset["version"] == "1"
    assert "old-1" not in set(w47.table("t_worst")["call_id"])
    assert any("old-rules" in n and "de5054a79a54e028" in n and "不同的规则集" in n
               for n in w47.notes)
    # asking for the old ruleset reports only its run (and notes the other two)
    old = build_report([runs["run1"], runs["run2"], runs["run3"]], week="2026-W47",
                       ruleset_hash="de50")
    assert old.ruleset["version"] == "0"
    assert records(old.table("t_headline"))[0] == {"metric": "m_calls", "current": 1,
                                                   "prev": None, "change": None}
    assert any("2 个审计批次" in n for n in old.notes)


def test_undated_calls_are_counted_in_a_note(w47: Report) -> None:
    assert "1 通通话没有开始时间(started_at),无法归入日期,未计入" in w47.notes


def test_week_boundary_next_week(runs: dict[str, Path]) -> None:
    w48 = build_report([runs["run1"], runs["run2"]], week="2026-W48")
    assert w48.table("t_daily")["calls"].tolist() == [1, 0, 0, 0, 0, 0, 0]
    head = records(w48.table("t_headline"))
    assert head[0] == {"metric": "m_calls", "current": 1, "prev": 7, "change": -6}
    assert head[1] == {"metric": "m_mean_score", "current": 100.0, "prev": 83.57,
                       "change": 16.43}


def test_default_period_is_the_week_of_the_latest_call(runs: dict[str, Path]) -> None:
    rep = build_report([runs["run1"], runs["run2"]])
    assert rep.period.name == "2026-W48"  # w48-b1-1 is Mon 2026-11-23 00:00 in Shanghai


def test_time_zone_moves_calls_across_the_week_boundary(runs: dict[str, Path]) -> None:
    utc = build_report([runs["run1"], runs["run2"]], week="2026-W47", tz="UTC")
    # in UTC w47-a1-1 (Sun 16:00Z) and w47-a2-1 (Sun 17:30Z) fall in W46, w48-b1-1 (Sun 16:00Z)
    # falls in W47; the naive dup-1 stays at its wall-clock time
    days = utc.table("t_daily")
    assert days["calls"].tolist() == [0, 1, 1, 1, 1, 0, 2]
    ids = {c["call_id"] for c in utc.worst_calls}
    assert ids == {"w47-a1-2", "w47-x-1", "w47-a2-2", "w47-b1-1"}
    assert records(utc.table("t_headline"))[0]["current"] == 6
    assert records(utc.table("t_headline"))[0]["prev"] == 5


def test_from_to_period_and_its_previous(runs: dict[str, Path]) -> None:
    rep = build_report([runs["run1"], runs["run2"]], date_from="2026-11-16",
                       date_to="2026-11-18")
    assert rep.period.name == "2026-11-16 – 2026-11-18"
    assert (rep.previous.start, rep.previous.end) == (date(2026, 11, 13), date(2026, 11, 15))
    head = records(rep.table("t_headline"))
    # 100 70 85 100 | previous three days: w46-a1-1 (70) only
    assert head[0] == {"metric": "m_calls", "current": 4, "prev": 1, "change": 3}
    assert head[1] == {"metric": "m_mean_score", "current": 88.75, "prev": 70.0,
                       "change": 18.75}


def test_week_crossing_the_year(runs: dict[str, Path]) -> None:
    rep = build_report([runs["run1"]], week="2027-W01")
    assert (rep.period.start, rep.period.end) == (date(2027, 1, 4), date(2027, 1, 10))
    assert rep.previous.name == "2026-W53"


def test_english_labels(runs: dict[str, Path]) -> None:
    rep = build_report([runs["run1"], runs["run2"]], week="2026-W47", lang="en")
    assert rep.label("t_agents") == "Agents"
    assert rep.table("t_daily")["weekday"].tolist()[0] == "Mon"
    assert rep.table("t_teams")["team"].tolist()[1] == "(no team)"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"week": "2026-47"}, "--week: expected an ISO week such as 2026-W47, got '2026-47'"),
    ({"week": "2026-W60"}, "--week: '2026-W60' is not a week of year 2026"),
    ({"date_from": "2026-11-16"}, "--from and --to go together"),
    ({"date_from": "2026-11-16", "date_to": "2026-11-01"}, "--to 2026-11-01 is before --from"),
    ({"week": "2026-W47", "date_from": "2026-11-16"}, "give one of --week, --month or --from/--to"),
    ({"week": "2026-W47", "month": "2026-11"}, "give one of --week, --month or --from/--to"),
    ({"month": "2026-13"}, "--month: expected a month such as 2026-11, got '2026-13'"),
    ({"tz": "Mars/Olympus"}, "--tz: unknown time zone 'Mars/Olympus'"),
    ({"by": "desk"}, "--by: expected agent or team"),
    ({"ruleset_hash": "ffff"}, "--ruleset-hash ffff: no run used it"),
])
def test_bad_options(runs: dict[str, Path], kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ReportError) as exc:
        build_report([runs["run1"]], **kwargs)  # type: ignore[arg-type]
    assert message in str(exc.value)


def test_bad_run_folders(tmp_path: Path, runs: dict[str, Path]) -> None:
    import shutil

    with pytest.raises(ReportError, match="不是文件夹"):
        build_report([tmp_path / "missing"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ReportError, match=r"empty: 不是 csqa audit 的输出目录\(没有 run.json\)"):
        build_report([empty])
    broken = tmp_path / "broken"
    shutil.copytree(runs["run1"], broken)
    lines = (broken / "calls.csv").read_text(encoding="utf-8").splitlines()
    i = next(i for i, line in enumerate(lines) if ",2026-11-18T09:00:00," in line)
    lines[i] = lines[i].replace(",2026-11-18T09:00:00,", ",yesterday,")
    (broken / "calls.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ReportError, match=r"calls.csv: 与 run.json 记录的不一致"):
        build_report([broken])  # edited after the audit: refused as it is
    reseal(broken)
    with pytest.raises(ReportError) as exc:
        build_report([broken])
    assert str(exc.value) == (f"{broken / 'calls.csv'}:{i + 1}: started_at: 不是 ISO 8601 "
                              "日期时间:'yesterday'")
    (broken / "calls.csv").write_text("call_id,agent_id\nx,y\n", encoding="utf-8")
    reseal(broken)
    with pytest.raises(ReportError, match=r"calls.csv:1: 缺少列:agent_name, team"):
        build_report([broken])


def test_bad_findings_line_names_file_and_line(tmp_path: Path, runs: dict[str, Path]) -> None:
    import shutil

    broken = tmp_path / "run"
    shutil.copytree(runs["run2"], broken)
    with (broken / "findings.jsonl").open("a", encoding="utf-8") as fh:
        fh.write("{not json\n")
    reseal(broken)
    n = len((broken / "findings.jsonl").read_text(encoding="utf-8").splitlines())
    with pytest.raises(ReportError, match=rf"findings.jsonl:{n}: JSON 格式有误"):
        build_report([broken], week="2026-W47")


def test_run_without_customer_text_is_noted(tmp_path: Path, runs: dict[str, Path]) -> None:
    import shutil

    old = tmp_path / "older-csqa"
    shutil.copytree(runs["run2"], old)
    (old / "customer_text.jsonl").unlink()
    reseal(old)
    rep = build_report([runs["run1"], old], week="2026-W47", keywords=3)
    assert any("customer_text.jsonl" in n and "older-csqa" in n for n in rep.notes)
    # run1's W47 calls still give keywords
    assert rep.table("t_keywords")["keyword"].tolist() == ["宽带", "断网", "退款"]


def test_audit_writes_customer_text(runs: dict[str, Path]) -> None:
    import json

    lines = (runs["run2"] / "customer_text.jsonl").read_text(encoding="utf-8").splitlines()
    got = {json.loads(x)["call_id"]: json.loads(x)["text"] for x in lines}
    assert got["w47-x-1"] == "=SUM(A1:A9) 宽带"
    assert got["dup-1"] == "宽带套餐怎么升级"
    assert len(got) == 6


def test_empty_period_still_names_every_rule(runs: dict[str, Path]) -> None:
    rep = build_report([runs["run1"], runs["run2"]], week="2026-W40")
    assert records(rep.table("t_headline"))[0] == {"metric": "m_calls", "current": 0,
                                                   "prev": None, "change": None}
    assert rep.table("t_rules")["rule_name"].tolist() == ["责问客户", "辱骂客户", "开场白"]
    assert rep.table("t_rules")["hits"].tolist() == [0, 0, 0]
    assert len(rep.table("t_agents")) == 0 and rep.worst_calls == []
    assert rep.table("t_daily")["calls"].tolist() == [0] * 7


def test_keyword_sample_is_fixed_and_bounded() -> None:
    from csqa.weekly.build import keyword_sample

    texts = {f"c{i}": "宽带断网" * 10 for i in range(100)}  # 40 characters each
    assert keyword_sample(texts, budget=4000) == sorted(texts)  # fits: every call
    sample = keyword_sample(texts, budget=400)
    assert len(sample) == 10  # calls are taken until 400 characters are used
    assert sample == keyword_sample(dict(reversed(list(texts.items()))), budget=400)


def test_keywords_from_a_sample_still_count_mentions_over_every_call(
        runs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A week too big for the keyword budget: the keywords come from the sample, and the report
    says so, but "calls mentioning" counts every call of the week."""
    from csqa.weekly import build

    monkeypatch.setattr(build, "KEYWORD_CHARS", 30)
    rep = build_report([runs["run2"], runs["run1"], runs["run3"]], week="2026-W47",
                       keywords=5, ruleset_hash=ruleset_hash(runs["run1"]))
    [note] = [n for n in rep.notes if n.startswith("客户关键词取自")]
    sampled = int(note.removeprefix("客户关键词取自 ").split("/")[0])
    assert note == f"客户关键词取自 {sampled}/7 通通话的固定抽样(按通话编号散列),提及通话数按全部通话计"
    assert 0 < sampled < 7
    mentions = dict(zip(rep.table("t_keywords")["keyword"],
                        rep.table("t_keywords")["calls_mentioning"], strict=True))
    assert mentions.get("宽带", 5) == 5  # said in five of the week's calls (test_customer_keywords)
    texts = rep.source.texts(list(rep.calls["call_id"]))
    assert mentions == {w: sum(w in t for t in texts.values()) for w in mentions}
    assert max(mentions.values()) > sampled  # more calls than the sample holds


def test_rule_names_from_run_json_when_no_finding_has_them(runs: dict[str, Path],
                                                          tmp_path: Path) -> None:
    import json
    import shutil

    run = tmp_path / "run"
    shutil.copytree(runs["run2"], run)
    (run / "findings.jsonl").write_text("", encoding="utf-8")
    reseal(run)
    rec = json.loads((run / "run.json").read_text(encoding="utf-8"))
    assert rec["ruleset"]["rule_scoring"]["abuse"]["name"] == "辱骂客户"
    rep = build_report([run], week="2026-W47")
    assert sorted(rep.table("t_rules")["rule_name"]) == sorted(["责问客户", "辱骂客户", "开场白"])
    rec["ruleset"].pop("rule_scoring")
    (run / "run.json").write_text(json.dumps(rec), encoding="utf-8")
    rep = build_report([run], week="2026-W47")
    assert sorted(rep.table("t_rules")["rule_name"]) == ["abuse", "blame", "greeting"]
