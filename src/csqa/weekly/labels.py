"""Report labels (Chinese by default, English with ``--lang en``) and what each column holds.

Tables are built with English column keys; renderers look the shown label up here, and the
column's *kind* decides how it is formatted (a score is coloured, a rate is a percentage, a
date is a date cell in Excel).
"""

from __future__ import annotations

LANGS = ("zh", "en")

_LABELS: dict[str, tuple[str, str]] = {
    # tables (sheet names are ≤ 31 characters)
    "t_headline": ("概览", "Headline"),
    "t_attention": ("需要关注", "Needs attention"),
    "t_agents": ("坐席", "Agents"),
    "t_teams": ("班组", "Teams"),
    "t_rules": ("规则", "Rules"),
    "t_daily": ("每日趋势", "Daily trend"),
    "t_daily_week": ("每周趋势", "Weekly trend"),
    "t_daily_month": ("每月趋势", "Monthly trend"),
    "t_worst": ("最差通话", "Worst calls"),
    "t_keywords": ("客户关键词", "Customer keywords"),
    "t_runs": ("审计批次", "Audit runs"),
    "t_notes": ("说明", "Notes"),
    "title": ("客服质检周报", "Call QA weekly report"),
    "title_month": ("客服质检月报", "Call QA monthly report"),
    "title_range": ("客服质检报告", "Call QA report"),
    "period": ("统计周期", "Period"),
    "previous": ("对比周期", "Compared with"),
    "ruleset": ("规则集", "Ruleset"),
    "separate_mean": ("无法重新计分的规则集平均分", "mean score, rulesets not scored again"),
    "ruleset_change": ("规则集变化", "ruleset changed"),
    "timezone": ("时区", "Time zone"),
    "pass_mark": ("合格线", "Pass mark"),
    "generated": ("生成时间", "Generated"),
    "chart_daily": ("每日平均分与合格率", "Daily mean score and pass rate"),
    "chart_daily_week": ("每周平均分与合格率", "Weekly mean score and pass rate"),
    "chart_daily_month": ("每月平均分与合格率", "Monthly mean score and pass rate"),
    "chart_groups_agent": ("坐席平均分", "Mean score per agent"),
    "chart_groups_team": ("班组平均分", "Mean score per team"),
    "no_team": ("(未分班组)", "(no team)"),
    "no_data": ("本期无数据", "no data for this period"),
    "attention_none": ("本期没有需要特别关注的坐席、班组或规则", "nothing stands out this period"),
    "open_call": ("打开通话", "open call"),
    "attention_more": ("其余需要关注的项目(见 Excel 的“需要关注”表):", "more items (all in the xlsx): "),
    "timeline": ("时间轴", "Timeline"),
    "no_findings": ("无违规", "no findings"),
    "no_transcript": ("这次审计没有保存通话内容(csqa 旧版本的输出),只显示审计记录中的违规;"
                      "可用 csqa explain 查看原转写", "this run did not store the conversation "
                      "(an older csqa); the findings are those the audit recorded"),
    "coaching": ("坐席辅导", "Coaching"),
    "centre": ("全中心", "Centre"),
    "frequent_findings": ("最常见的问题(每项两通示例)", "Most frequent findings (two example calls each)"),
    "worst_of_agent": ("本期得分最低的通话", "Lowest-scoring calls of the period"),
    "disputes": ("复核争议", "Reviewed disputes"),
    "rescored": ("按本报告最新规则集重新计分", "scored again under the report's newest ruleset"),
    "reviewed_counts": ("本期复核:确认 {confirmed} 条 · 误报 {false_alarm} 条 · 漏报 {missed} 条",
                        "reviewed this period: {confirmed} confirmed · {false_alarm} false alarms "
                        "· {missed} missed"),
    "no_reviews": ("本期没有复核结论(csqa review 生成复核表,csqa audit --reviews 应用)",
                   "no reviews this period (csqa review, then csqa audit --reviews)"),
    "verdict": ("复核结论", "Verdict"),
    "verdict_false_alarm": ("误报", "false alarm"),
    "verdict_missed": ("漏报(复核补充)", "missed (added by the reviewer)"),
    "review_note": ("复核备注", "Reviewer's note"),
    "reviewer": ("复核人", "Reviewer"),
    "all": ("全部", "all"),
    "search": ("搜索", "Search"),
    "chart_top_bottom": ("坐席较多,只画出最低与最高各", "many rows: drawn are the bottom and top"),
    "sort_hint": ("点击表头排序", "click a header to sort"),
    "findings_of": ("违规明细", "Findings"),
    # headline metrics
    "m_calls": ("质检通话数", "Calls audited"),
    "m_mean_score": ("平均分", "Mean score"),
    "m_pass_rate": ("合格率", "Pass rate"),
    "m_vetoes": ("一票否决", "Vetoes"),
    "m_findings": ("违规条数", "Findings"),
    # columns
    "metric": ("指标", "Metric"),
    "current": ("本期", "This period"),
    "prev": ("上期", "Previous"),
    "change": ("变化", "Change"),
    "rank": ("排名", "Rank"),
    "agent_id": ("坐席工号", "Agent"),
    "agent_name": ("姓名", "Name"),
    "team": ("班组", "Team"),
    "agents": ("坐席数", "Agents"),
    "calls": ("通话数", "Calls"),
    "mean_score": ("平均分", "Mean score"),
    "pass_rate": ("合格率", "Pass rate"),
    "vetoes": ("一票否决", "Vetoes"),
    "findings": ("违规条数", "Findings"),
    "top_rules": ("主要问题", "Top broken rules"),
    "prev_calls": ("上期通话数", "Prev. calls"),
    "prev_mean_score": ("上期平均分", "Prev. mean"),
    "d_mean_score": ("平均分变化", "Δ mean"),
    "prev_pass_rate": ("上期合格率", "Prev. pass rate"),
    "d_pass_rate": ("合格率变化", "Δ pass rate"),
    "rule_id": ("规则", "Rule"),
    "rule_name": ("规则名称", "Rule name"),
    "severity": ("严重度", "Severity"),
    "hits": ("违规次数", "Hits"),
    "calls_affected": ("涉及通话", "Calls affected"),
    "per_100": ("每百通", "Per 100 calls"),
    "prev_per_100": ("上期每百通", "Prev. per 100"),
    "d_per_100": ("每百通变化", "Δ per 100"),
    "trend": ("走势", "Trend"),
    "kind": ("类别", "Kind"),
    "who": ("对象", "Who"),
    "name": ("名称", "Name"),
    "reason": ("原因", "Reason"),
    "rule": ("规则", "rule"),
    "date": ("日期", "Date"),
    "weekday": ("星期", "Weekday"),
    "weekday_week": ("周次", "Week"),
    "weekday_month": ("月份", "Month"),
    "call_id": ("通话编号", "Call"),
    "started": ("开始时间", "Started"),
    "score": ("得分", "Score"),
    "passed": ("合格", "Passed"),
    "vetoed": ("否决", "Vetoed"),
    "n_findings": ("违规数", "Findings"),
    "at": ("时间点", "At"),
    "speaker": ("说话人", "Speaker"),
    "evidence": ("原话", "Evidence"),
    "message": ("问题", "Problem"),
    "keyword": ("关键词", "Keyword"),
    "weight": ("权重", "Weight"),
    "calls_mentioning": ("提及通话数", "Calls mentioning"),
    "run": ("批次目录", "Run folder"),
    "audited_at": ("审计时间", "Audited at"),
    "ruleset_name": ("规则集", "Ruleset"),
    "ruleset_version": ("版本", "Version"),
    "ruleset_hash": ("规则集指纹", "Ruleset hash"),
    "calls_in_run": ("批次通话数", "Calls in run"),
    "calls_used": ("计入本期", "Used this period"),
    "calls_superseded": ("被新批次覆盖", "Superseded"),
    "status": ("状态", "Status"),
    "note": ("说明", "Note"),
    "s_used": ("已计入", "used"),
    "s_other_ruleset": ("规则集不同,未计入", "different ruleset, not included"),
    "v_passed": ("合格", "passed"),
    "v_failed": ("不合格", "failed"),
    "v_vetoed": ("一票否决", "vetoed"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "agent": ("坐席", "agent"),
    "customer": ("客户", "customer"),
}

WEEKDAYS = {"zh": ["周一", "周二", "周三", "周四", "周五", "周六", "周日"],
            "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}

#: How a column is shown: score (coloured against the pass mark), pct (0..1 as a percentage),
#: dpct (a change of a rate, in percentage points), delta (signed number), int, num, date,
#: datetime, label (a key of this table, translated), bool (yes/no), text.
COLUMN_KIND: dict[str, str] = {
    "rank": "int", "calls": "int", "agents": "int", "vetoes": "int", "findings": "int",
    "prev_calls": "int", "hits": "int", "calls_affected": "int", "n_findings": "int",
    "calls_mentioning": "int", "calls_in_run": "int", "calls_used": "int",
    "calls_superseded": "int",
    "mean_score": "score", "prev_mean_score": "score", "score": "score",
    "separate_mean": "score",
    "pass_rate": "pct", "prev_pass_rate": "pct",
    "d_pass_rate": "dpct", "d_mean_score": "delta", "d_per_100": "delta_bad",
    "per_100": "num", "prev_per_100": "num", "weight": "num", "at": "text",
    "date": "date", "started": "datetime", "audited_at": "datetime",
    "metric": "label", "speaker": "label", "kind": "label", "status": "label", "weekday": "text",
    "passed": "bool", "vetoed": "bool",
}


def label(key: str, lang: str = "zh") -> str:
    """The shown label of a table, column or word; unknown keys (rule ids) are shown as is."""
    pair = _LABELS.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]


def kind(column: str) -> str:
    return COLUMN_KIND.get(column, "text")
