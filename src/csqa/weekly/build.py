"""From audit output folders to the report's tables (pandas), ready for any renderer.

The rules of counting, also in the README:

- runs of every ruleset count, each call under the ruleset that audited it, and a change of
  ruleset is said and marked on the trend; with ``ruleset_hash`` only that ruleset's runs are
  counted and the others are listed as not included;
- a call audited by several runs counts once: the run audited last (run.json ``started_at``,
  then the later folder on the command line) wins;
- a call belongs to the local day of its ``started_at`` in the report's time zone
  (timestamps with an offset are converted; timestamps without one are taken as local time);
  calls without ``started_at`` cannot be placed and are counted in a note;
- the previous period is the same number of days right before the period.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from csqa.errors import CsqaError
from csqa.runs import RunError
from csqa.weekly.attention import Thresholds, attention, worst_of
from csqa.weekly.labels import WEEKDAYS, label
from csqa.weekly.rescore import rescore, version_of, versions_note
from csqa.weekly.source import FolderSource, ReportSource, RunInfo, in_days
from csqa.weekly.source import keyword_sample as sample_of


class ReportError(CsqaError):
    """Input a report cannot be built from; the message names the file (and line)."""

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
SPARKS = "▁▂▃▄▅▆▇█"

#: Conversational words that say nothing about why a customer called (jieba's IDF table
#: rates some of them high); they are left out of the customer keywords.
_FILLERS = """
你好 您好 谢谢 好的 那个 这个 就是 一下 什么 怎么 可以 没有 还是 然后
已经 现在 知道 我们 你们 他们 是不是 对吧 嗯嗯 喂喂 麻烦 请问 一个 不是
这样 那样 为什么 怎么办 还有 的话 时候 一直 那么 这边 那边 问下 问一下 帮我
给我 需要 不要 不会 感觉 觉得 有点 真的 还要 好吧 行吧 对对 是的 嗯
"""
FILLER_WORDS = frozenset(_FILLERS.split())

#: Call speech that is no topic: greetings and closings, and what ASR makes of digits read out.
_CALL_SPEECH = """
再见 拜拜 再会 您好啊 你好啊 喂喂喂 谢谢您 谢谢你 感谢 不客气 没事 没关系 好嘞 好滴 行的
对的 是吗 是啊 哦哦 啊啊 嗯嗯嗯 稍等 请讲 您说 你说 听得见 听不见 听到 能听到
"""
CALL_SPEECH_WORDS = frozenset(_CALL_SPEECH.split())
#: Digits as spoken (phone and order numbers read out: 二一, 三八, 幺八六).
_SPOKEN_DIGITS = frozenset("零〇一二两三四五六七八九十幺百千万亿点")
#: A demonstrative or question word glued to one more character by the segmenter (那款, 这要,
#: 哪个): a fragment, not a topic.
_FRAGMENT_HEADS = frozenset("那这哪")


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end`` inclusive; ``name`` is how the report titles it, ``kind`` is
    ``week``, ``month`` or ``range``."""

    start: date
    end: date
    name: str
    kind: str = "range"

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def previous(self) -> Period:
        """The period compared with: the month before a month, else the same number of days
        right before."""
        if self.kind == "month":
            end = self.start - timedelta(days=1)
            return period_named(end.replace(day=1), end)
        n = (self.end - self.start).days + 1
        start, end = self.start - timedelta(days=n), self.start - timedelta(days=1)
        return period_named(start, end)

    @property
    def bucket(self) -> str:
        """How the trend is cut, from the span: ``day`` up to five weeks, ``week`` up to about
        half a year, else ``month``."""
        n = (self.end - self.start).days + 1
        return "day" if n <= 35 else "week" if n <= 190 else "month"

    def buckets(self) -> list[tuple[date, str]]:
        """The trend's buckets: (first day, label), the first one starting at ``start``."""
        if self.bucket == "day":
            return [(d, "") for d in self.days]
        out: list[tuple[date, str]] = []
        for d in self.days:
            first = bucket_start(d, self.bucket)
            if not out or bucket_start(out[-1][0], self.bucket) != first:
                iso = d.isocalendar()
                out.append((d, f"W{iso.week:02d}" if self.bucket == "week" else f"{d:%Y-%m}"))
        return out


def bucket_start(day: date, bucket: str) -> date:
    """The first day of ``day``'s bucket (a Monday for weeks)."""
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def period_named(start: date, end: date) -> Period:
    """A period, named ``2026-W47`` when it is exactly one ISO week, ``2026-11`` when it is one
    calendar month, else ``start – end``."""
    iso = start.isocalendar()
    if iso.weekday == 1 and (end - start).days == 6:
        return Period(start, end, f"{iso.year}-W{iso.week:02d}", "week")
    if start.day == 1 and (end + timedelta(days=1)).day == 1 and end.month == start.month:
        return Period(start, end, f"{start:%Y-%m}", "month")
    return Period(start, end, f"{start.isoformat()} – {end.isoformat()}")


def month_period(text: str) -> Period:
    """``2026-11`` -> the first to the last day of that month."""
    m = re.match(r"^(\d{4})-(\d{1,2})$", text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ReportError(f"--month: expected a month such as 2026-11, got {text!r}")
    start = date(int(m.group(1)), int(m.group(2)), 1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return period_named(start, end)


def week_period(text: str) -> Period:
    """``2026-W47`` (or ``2026W47``) -> Monday to Sunday of that ISO week."""
    m = _WEEK.match(text.strip())
    if not m:
        raise ReportError(f"--week: expected an ISO week such as 2026-W47, got {text!r}")
    try:
        start = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise ReportError(f"--week: {text!r} is not a week of year {m.group(1)}") from None
    return period_named(start, start + timedelta(days=6))


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ReportError(f"{what}: expected a date such as 2026-11-16, got {text!r}") from None


def resolve_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(f"--tz: unknown time zone {name!r} (e.g. Asia/Shanghai, UTC)") from None


def local_time(value: str, tz: ZoneInfo) -> datetime | None:
    """``started_at`` as a naive local date-time in ``tz`` (``None`` when empty)."""
    if not value:
        return None
    ts = datetime.fromisoformat(value)
    if ts.tzinfo is not None:
        ts = ts.astimezone(tz)
    return ts.replace(tzinfo=None)


@dataclass
class Table:
    """One table of the report: ``key`` names it (a label key), ``frame`` has English columns.

    ``row_kinds`` overrides the number format of the value columns row by row (the headline,
    where one row is a count and the next a rate).
    """

    key: str
    frame: pd.DataFrame
    row_kinds: list[str] | None = None


@dataclass
class Report:
    """Everything a renderer needs; ``tables`` in the order they are shown."""

    lang: str
    by: str
    tz: str
    period: Period
    previous: Period
    ruleset: dict[str, Any]
    pass_mark: float
    tables: dict[str, Table]
    daily: pd.DataFrame
    rule_daily: dict[str, list[int]]
    worst_calls: list[dict[str, Any]]
    generated: datetime
    notes: list[str] = field(default_factory=list)
    #: the period's calls (one row each, with ``local``, ``bucket`` and per-rule counts), the
    #: ruleset's rule ids, and each agent's mean score per bucket: for the drill-down pages
    calls: pd.DataFrame = field(default_factory=pd.DataFrame)
    rule_ids: list[str] = field(default_factory=list)
    agent_trends: dict[Any, list[float]] = field(default_factory=dict)
    source: Any = None  # the ReportSource it was built from (drill-down pages read findings)
    #: bucket indices where the ruleset that audited the calls changes (trends mark them)
    ruleset_breaks: list[int] = field(default_factory=list)

    def table(self, key: str) -> pd.DataFrame:
        return self.tables[key].frame

    @property
    def title(self) -> str:
        """``客服质检周报 2026-W47``, ``客服质检月报 2026-11``, or ``客服质检报告 <from – to>``."""
        key = {"week": "title", "month": "title_month"}.get(self.period.kind, "title_range")
        return f"{self.label(key)} {self.period.name}"

    def label(self, key: str) -> str:
        """The shown label of ``key``; the trend's labels say how it is cut (每周趋势 …)."""
        if key in ("t_daily", "chart_daily", "weekday") and self.period.bucket != "day":
            key = f"{key}_{self.period.bucket}"
        return label(key, self.lang)


def sparkline(values: list[float], breaks: list[int] | None = None) -> str:
    """``▁▃█``-style line of ``values`` (empty days, NaN, are shown as a space); a ``|`` before
    each bucket index of ``breaks`` (where the ruleset changed)."""
    if breaks:
        cuts = [0, *sorted(breaks), len(values)]
        return "|".join(sparkline_parts(values, cuts[i], cuts[i + 1])
                        for i in range(len(cuts) - 1))
    real = [v for v in values if not (isinstance(v, float) and math.isnan(v))]
    if not real:
        return " " * len(values)
    lo, hi = min(real), max(real)
    out = []
    for v in values:
        if isinstance(v, float) and math.isnan(v):
            out.append(" ")
        elif hi == lo:
            out.append(SPARKS[0] if hi == 0 else SPARKS[3])
        else:
            out.append(SPARKS[round((v - lo) / (hi - lo) * (len(SPARKS) - 1))])
    return "".join(out)


def sparkline_parts(values: list[float], start: int, end: int) -> str:
    """The part ``start:end`` of ``sparkline(values)`` (scaled over all of ``values``)."""
    return sparkline(values)[start:end]


def _r(value: float, digits: int) -> float:
    return float("nan") if value is None or math.isnan(value) else round(float(value), digits)


def _choose_runs(runs: list[RunInfo], ruleset_hash: str | None) -> tuple[str, list[RunInfo]]:
    if ruleset_hash:
        hashes = sorted({r.ruleset_hash for r in runs if r.ruleset_hash.startswith(ruleset_hash)})
        if not hashes:
            known = ", ".join(sorted({r.ruleset_hash for r in runs}))
            raise ReportError(f"--ruleset-hash {ruleset_hash}: no run used it (runs used: {known})")
        if len(hashes) > 1:
            raise ReportError(f"--ruleset-hash {ruleset_hash}: ambiguous ({', '.join(hashes)})")
        chosen = hashes[0]
    else:
        return "", list(runs)  # every ruleset: the ruleset changes are marked, not dropped
    return chosen, [r for r in runs if r.ruleset_hash == chosen]


def _select_period(latest: date | None, week: str | None, date_from: str | None,
                   date_to: str | None, month: str | None = None) -> Period:
    if sum(map(bool, (week, month, date_from or date_to))) > 1:
        raise ReportError("give one of --week, --month or --from/--to")
    if week:
        return week_period(week)
    if month:
        return month_period(month)
    if date_from or date_to:
        if not (date_from and date_to):
            raise ReportError("--from and --to go together (both dates are included)")
        start, end = _day(date_from, "--from"), _day(date_to, "--to")
        if end < start:
            raise ReportError(f"--to {end} is before --from {start}")
        return period_named(start, end)
    if latest is None:
        raise ReportError("no call has a started_at, so calls cannot be placed in a week; "
                          "give --from/--to or --week")
    return period_named(latest - timedelta(days=latest.weekday()),
                        latest + timedelta(days=6 - latest.weekday()))


def _stats(frame: pd.DataFrame) -> dict[str, float]:
    n = len(frame)
    return {"calls": n,
            "mean_score": _r(frame["score"].mean(), 2) if n else float("nan"),
            "pass_rate": _r(frame["passed"].mean(), 4) if n else float("nan"),
            "vetoes": int(frame["vetoed"].sum()),
            "findings": int(frame["n_findings"].sum())}


def _delta(a: float, b: float, digits: int) -> float:
    return _r(a - b, digits) if not (math.isnan(a) or math.isnan(b)) else float("nan")


def _headline(cur: pd.DataFrame, prev: pd.DataFrame) -> Table:
    c, p = _stats(cur), _stats(prev)
    rows, kinds = [], []
    for key, kind, digits in (("calls", "int", 0), ("mean_score", "score", 2),
                              ("pass_rate", "pct", 4), ("vetoes", "int", 0),
                              ("findings", "int", 0)):
        prev_v = float("nan") if not p["calls"] else p[key]
        rows.append({"metric": f"m_{key}", "current": c[key], "prev": prev_v,
                     "change": _delta(float(c[key]), float(prev_v), digits)})
        kinds.append(kind)
    return Table("t_headline", pd.DataFrame(rows, columns=["metric", "current", "prev", "change"]),
                 kinds)


def _top_rules(counts: pd.Series, names: dict[str, str], expected: pd.Series | None = None,
               n: int = 3) -> str:
    """The group's ``n`` most broken rules, those it breaks more than the centre does first
    (``expected``: the centre's count at the group's number of calls), so that three rules
    breaking on most calls do not make every agent's list the same."""
    items = [(str(rid), int(v)) for rid, v in counts.items() if int(v) > 0]
    order = {rid: i for i, rid in enumerate(counts.index)}
    excess = {rid: v - float(expected[rid]) if expected is not None else 0.0 for rid, v in items}
    items.sort(key=lambda kv: (-(excess[kv[0]] > 1e-9), -kv[1], order[kv[0]]))
    return "; ".join(f"{names.get(rid, rid)} ×{v}" for rid, v in items[:n])


def _group_stats(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """:func:`_stats` of every group of ``key`` at once (rounded the same way)."""
    g = frame.groupby(key, sort=True)
    out = pd.DataFrame({"calls": g.size(), "mean_score": g["score"].mean(),
                        "pass_rate": g["passed"].mean(), "vetoes": g["vetoed"].sum(),
                        "findings": g["n_findings"].sum()})
    out["mean_score"] = [_r(v, 2) for v in out["mean_score"]]
    out["pass_rate"] = [_r(v, 4) for v in out["pass_rate"]]
    return out


def _latest_given(frame: pd.DataFrame, key: str, col: str) -> dict[Any, str]:
    """Per group: ``col`` of its latest call (by local time) where it is not empty."""
    given = frame.loc[frame[col] != "", [key, col, "local"]]
    # the group's calls at its latest time, the last of them as given (what a stable sort by
    # time and the last row would pick, without sorting millions of rows)
    at_latest = given[given["local"] == given.groupby(key, sort=False)["local"].transform("max")]
    latest = at_latest.groupby(key, sort=False)[col].last()
    return {k: str(v) for k, v in latest.items()}


def _groups(cur: pd.DataFrame, prev: pd.DataFrame, key: str, rule_ids: list[str],
            names: dict[str, str], trends: dict[Any, list[float]], breaks: list[int]
            ) -> pd.DataFrame:
    """The agent or team table; ``trends``: :func:`group_trends` of ``cur`` by ``key``."""
    cols = ["rank", key]
    if key == "agent_id":
        cols += ["agent_name", "team"]
    else:
        cols += ["agents"]
    cols += ["calls", "mean_score", "pass_rate", "vetoes", "findings", "top_rules",
             "prev_calls", "prev_mean_score", "d_mean_score", "prev_pass_rate", "d_pass_rate",
             "trend"]
    if not len(cur):
        return pd.DataFrame(columns=cols)
    # one group-by for all groups (a quarter of calls is millions of rows)
    stats = _group_stats(cur, key)
    prev_stats = _group_stats(prev, key) if len(prev) else None
    rule_ids = [rid for rid in rule_ids if rid in cur]  # a source may leave out rules not hit
    sums = cur.groupby(key, sort=True)[rule_ids].sum()
    centre = cur[rule_ids].sum() / len(cur)
    if key == "agent_id":
        names_now = _latest_given(cur, key, "agent_name")
        teams_now = _latest_given(cur, key, "team_raw")
    else:
        agents = cur.groupby(key, sort=True)["agent_id"].nunique()
    rows = []
    for k, st in stats.iterrows():
        k = cast(Any, k)
        row: dict[str, Any] = {key: k, **cast(dict[str, Any], st.to_dict())}
        row["calls"] = int(row["calls"])
        row["vetoes"] = int(row["vetoes"])
        row["findings"] = int(row["findings"])
        if key == "agent_id":
            row["agent_name"] = names_now.get(k, "")
            row["team"] = teams_now.get(k, "")
        else:
            row["agents"] = int(agents[k])
        row["top_rules"] = _top_rules(sums.loc[k], names, centre * row["calls"])
        has_prev = prev_stats is not None and k in prev_stats.index
        ps = prev_stats.loc[k] if has_prev else None  # type: ignore[union-attr]
        row["prev_calls"] = int(ps["calls"]) if ps is not None else 0
        row["prev_mean_score"] = float(ps["mean_score"]) if ps is not None else float("nan")
        row["d_mean_score"] = _delta(row["mean_score"], row["prev_mean_score"], 2)
        row["prev_pass_rate"] = float(ps["pass_rate"]) if ps is not None else float("nan")
        row["d_pass_rate"] = _delta(row["pass_rate"], row["prev_pass_rate"], 4)
        row["trend"] = sparkline(trends.get(k, []), breaks)
        rows.append(row)
    out = pd.DataFrame(rows)
    out["rank"] = out["mean_score"].rank(method="min", ascending=False).astype(int)
    out = out.sort_values(["rank", key], kind="stable").reset_index(drop=True)
    return out[cols]


def _rules(cur: pd.DataFrame, prev: pd.DataFrame, period: Period, rule_ids: list[str],
           names: dict[str, str], breaks: list[int]) -> tuple[pd.DataFrame, dict[str, list[int]]]:
    rows, daily = [], {}
    n, pn = len(cur), len(prev)
    starts = [pd.Timestamp(d) for d, _ in period.buckets()]
    hit = [rid for rid in rule_ids if rid in cur]  # a source may leave out rules not hit
    by_bucket = cur.groupby("bucket")[hit].sum().reindex(starts, fill_value=0) if n else None
    sums = cur[hit].sum() if n else pd.Series(dtype="int64")
    affected = (cur[hit] > 0).sum() if n else pd.Series(dtype="int64")
    prev_hit = [rid for rid in rule_ids if rid in prev]
    prev_sums = prev[prev_hit].sum() if pn else pd.Series(dtype="int64")
    for rid in rule_ids:
        hits = int(sums.get(rid, 0))
        prev_hits = int(prev_sums.get(rid, 0))
        per_100 = _r(100 * hits / n, 1) if n else float("nan")
        prev_per_100 = _r(100 * prev_hits / pn, 1) if pn else float("nan")
        series = ([int(v) for v in by_bucket[rid]] if by_bucket is not None and rid in hit
                  else [0] * len(starts))
        daily[rid] = series
        rows.append({"rule_id": rid, "rule_name": names.get(rid, rid), "hits": hits,
                     "calls_affected": int(affected.get(rid, 0)),
                     "per_100": per_100, "prev_per_100": prev_per_100,
                     "d_per_100": _delta(per_100, prev_per_100, 1),
                     "trend": sparkline([float(v) for v in series], breaks)})
    order = {rid: i for i, rid in enumerate(rule_ids)}
    frame = pd.DataFrame(rows, columns=["rule_id", "rule_name", "hits", "calls_affected",
                                        "per_100", "prev_per_100", "d_per_100", "trend"])
    frame = frame.sort_values(["hits", "rule_id"], ascending=[False, True], kind="stable",
                              key=lambda s: s.map(order) if s.name == "rule_id" else s)
    return frame.reset_index(drop=True), daily


def with_buckets(calls: pd.DataFrame, period: Period) -> pd.DataFrame:
    """``calls`` with a ``bucket`` column: the first day of the call's trend bucket (the first
    bucket starts at the period's start)."""
    day = calls["day"]
    if period.bucket == "week":
        first = day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    elif period.bucket == "month":
        first = day.dt.to_period("M").dt.start_time
    else:
        first = day
    return calls.assign(bucket=first.clip(lower=pd.Timestamp(period.start)))


def _bucket_stats(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Calls, mean score, pass rate, vetoes and findings per group of ``by`` (rounded as in
    the tables)."""
    g = frame.groupby(by, sort=True)
    out = pd.DataFrame({"calls": g.size(), "mean_score": g["score"].mean().round(2),
                        "pass_rate": g["passed"].mean().round(4),
                        "vetoes": g["vetoed"].sum(), "findings": g["n_findings"].sum()})
    return out


def _daily(cur: pd.DataFrame, period: Period, lang: str) -> pd.DataFrame:
    """The centre's trend: one row per bucket (day, week or month) of the period."""
    buckets = period.buckets()
    stats = _bucket_stats(cur, ["bucket"]) if len(cur) else None
    rows = []
    for d, name in buckets:
        t = pd.Timestamp(d)
        if stats is not None and t in stats.index:
            st: dict[str, Any] = stats.loc[t].to_dict()  # type: ignore[assignment]
            s = {"calls": int(st["calls"]), "mean_score": float(st["mean_score"]),
                 "pass_rate": float(st["pass_rate"]), "vetoes": int(st["vetoes"]),
                 "findings": int(st["findings"])}
        else:
            s = {"calls": 0, "mean_score": float("nan"), "pass_rate": float("nan"), "vetoes": 0,
                 "findings": 0}
        rows.append({"date": d, "weekday": name or WEEKDAYS[lang][d.weekday()], **s})
    return pd.DataFrame(rows, columns=["date", "weekday", "calls", "mean_score", "pass_rate",
                                       "vetoes", "findings"])


def group_trends(cur: pd.DataFrame, key: str, period: Period) -> dict[Any, list[float]]:
    """Mean score per bucket of each group of ``key`` (NaN where the group had no call)."""
    if not len(cur):
        return {}
    starts = [pd.Timestamp(d) for d, _ in period.buckets()]
    means = cur.groupby([key, "bucket"])["score"].mean().unstack("bucket")
    means = means.reindex(columns=starts)
    return {k: [float(v) for v in row] for k, row in zip(means.index, means.to_numpy(),
                                                          strict=True)}


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"


def _at(f: dict[str, Any]) -> str:
    """A finding's time: its utterance's start, or the stretch a finding on no utterance is
    about (where missing wording was expected), so no unrelated line stands for it."""
    start = _clock(float(f.get("start") or 0.0))
    if f.get("utterance") is not None:
        return start
    return f"{start}–{_clock(float(f.get('end') or 0.0))}"


def _worst(cur: pd.DataFrame, source: ReportSource, top: int
           ) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    bad = worst_of(cur[(cur["n_findings"] > 0) | ~cur["passed"]], top)
    findings = source.findings(bad)
    calls, rows = [], []
    for _, c in bad.iterrows():
        fs = sorted(findings.get(c["call_id"], []), key=lambda f: (f.get("start") or 0.0))
        call = {"call_id": c["call_id"], "agent_id": c["agent_id"], "agent_name": c["agent_name"],
                "team": c["team_raw"], "started": c["local"].to_pydatetime(),
                "score": float(c["score"]), "passed": bool(c["passed"]),
                "vetoed": bool(c["vetoed"]), "n_findings": int(c["n_findings"]),
                "findings": [{"rule_name": f.get("name") or f.get("rule_id", ""),
                              "at": _at(f),
                              "speaker": f.get("speaker") or "",
                              "evidence": f.get("evidence") or "",
                              "message": f.get("message") or ""} for f in fs]}
        calls.append(call)
        base = {k: call[k] for k in ("call_id", "agent_id", "agent_name", "team", "started",
                                     "score", "vetoed", "n_findings")}
        for f in call["findings"] or [{"rule_name": "", "at": "", "speaker": "", "evidence": "",
                                       "message": ""}]:
            rows.append({**base, **f})
    cols = ["call_id", "agent_id", "agent_name", "team", "started", "score", "vetoed",
            "n_findings", "rule_name", "at", "speaker", "evidence", "message"]
    return calls, pd.DataFrame(rows, columns=cols)


@dataclass(frozen=True)
class _Idf:
    """jieba's IDF table (``jieba/analyse/idf.txt``) as its TF-IDF extractor reads it."""

    idf: dict[str, float]
    median: float  # of a word not in the table


@functools.cache
def _idf() -> _Idf:
    """Read once per process. (Not through ``jieba.analyse``: importing it builds a
    part-of-speech tagger and TextRank that keywords never use, half a second.)"""
    import jieba

    table = Path(jieba.__file__).parent / "analyse" / "idf.txt"
    idf = {}
    for line in table.read_text(encoding="utf-8").splitlines():
        word, value = line.strip().split(" ")
        idf[word] = float(value)
    return _Idf(idf, sorted(idf.values())[len(idf) // 2])


def _tf_idf(text: str) -> dict[str, float]:
    """Each word of ``text`` (jieba's default segmentation) with its TF-IDF weight, as
    ``jieba.analyse.extract_tags``: words of one character, English function words and the
    report's stop words left out; term frequency × IDF."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    freq: dict[str, float] = {}
    for word in jieba.cut(text):
        if len(word.strip()) < 2 or word.lower() in _STOP_WORDS:
            continue
        freq[word] = freq.get(word, 0.0) + 1.0
    total = sum(freq.values())
    table = _idf()
    return {w: n * table.idf.get(w, table.median) / total for w, n in freq.items()}


#: jieba's extractor's English stop words, and the conversational words above.
_STOP_WORDS = frozenset({
    "the", "of", "is", "and", "to", "in", "that", "we", "for", "an", "are", "by", "be", "as",
    "on", "with", "can", "if", "from", "which", "you", "it", "this", "then", "at", "have", "all",
    "not", "one", "has", "or"}) | FILLER_WORDS | CALL_SPEECH_WORDS


#: Customer speech tokenised for the keywords, at most (characters): jieba segments some tens of
#: thousands of characters a second, so a big week is sampled (see :func:`keyword_sample`).
KEYWORD_CHARS = 150_000


def keyword_sample(texts: dict[str, str] | dict[str, int], budget: int = KEYWORD_CHARS
                   ) -> list[str]:
    """:func:`csqa.weekly.source.keyword_sample` with the report's budget by default."""
    return sample_of(texts, budget)


def top_keywords(texts: list[str], top: int) -> list[tuple[str, float]]:
    """The ``top`` keywords of ``texts`` (jieba TF-IDF) with their weights, best first."""
    joined = "\n".join(t for t in texts if t)
    if top <= 0 or not joined.strip():
        return []
    # Ties are broken by the word so the list never depends on the order of the runs.
    return sorted(((w, round(wt, 4)) for w, wt in _tf_idf(joined).items() if _meaningful(w)),
                  key=lambda kv: (-kv[1], kv[0]))[:top]


def keyword_frame(ranked: list[tuple[str, float]], mentions: dict[str, int]) -> pd.DataFrame:
    """The keyword table: word, weight, calls mentioning it."""
    rows = [{"keyword": w, "weight": wt, "calls_mentioning": mentions.get(w, 0)}
            for w, wt in ranked]
    return pd.DataFrame(rows, columns=["keyword", "weight", "calls_mentioning"])


def _meaningful(word: str) -> bool:
    """Chinese words, and Latin words of 3+ letters (not ``A1``, ``ok``, numbers); not
    greetings and closings, digits read out (二一, 三八), nor fragments such as 那款."""
    if word in CALL_SPEECH_WORDS or word in FILLER_WORDS:
        return False
    if any("\u4e00" <= ch <= "\u9fff" for ch in word):
        if all(ch in _SPOKEN_DIGITS for ch in word):
            return False
        return not (len(word) == 2 and word[0] in _FRAGMENT_HEADS)
    return len(word) >= 3 and word.isalpha()


def build_report(run_dirs: list[str | Path] | ReportSource, *, week: str | None = None,
                 month: str | None = None, date_from: str | None = None,
                 date_to: str | None = None, by: str = "agent", tz: str = "Asia/Shanghai",
                 ruleset_hash: str | None = None, top: int = 10, keywords: int = 20,
                 lang: str = "zh", now: datetime | None = None,
                 thresholds: Thresholds | None = None) -> Report:
    """Build the report for one period from ``run_dirs`` (csqa audit output folders, read
    through :func:`csqa.runs.open_run`) or a :class:`~csqa.weekly.source.ReportSource` (a run
    history database).

    Raises :class:`ReportError` for unreadable input or bad options.
    """
    try:
        return _build(run_dirs, week=week, month=month, date_from=date_from, date_to=date_to,
                      by=by, tz=tz, ruleset_hash=ruleset_hash, top=top, keywords=keywords,
                      lang=lang, now=now, thresholds=thresholds)
    except RunError as exc:
        raise ReportError(str(exc)) from None


def _build(run_dirs: list[str | Path] | ReportSource, *, week: str | None, month: str | None,
           date_from: str | None, date_to: str | None, by: str, tz: str,
           ruleset_hash: str | None, top: int, keywords: int, lang: str, now: datetime | None,
           thresholds: Thresholds | None) -> Report:
    if by not in ("agent", "team"):
        raise ReportError(f"--by: expected agent or team, got {by!r}")
    if lang not in ("zh", "en"):
        raise ReportError(f"--lang: expected zh or en, got {lang!r}")
    if isinstance(run_dirs, list) and not run_dirs:
        raise ReportError("give at least one csqa audit output folder")
    zone = resolve_timezone(tz)
    source = FolderSource(run_dirs) if isinstance(run_dirs, list) else run_dirs
    runs = source.runs()
    if not runs:
        raise ReportError("no audit runs to report on")
    chosen, used = _choose_runs(runs, ruleset_hash)
    latest_run = max(used, key=lambda r: r.sort_key)
    ruleset = latest_run.ruleset
    # the latest ruleset's rules first, then rules only earlier versions had
    rule_ids = list(dict.fromkeys(rid for r in sorted(used, key=lambda r: r.sort_key,
                                                      reverse=True) for rid in r.rule_ids))
    given = week or month or date_from or date_to
    period = _select_period(None if given else source.latest_day(chosen, zone), week, date_from,
                            date_to, month)
    previous = period.previous()
    calls = source.calls(chosen, rule_ids, zone, previous.start, period.end)  # ours to change
    # group keys as categories: a quarter is millions of rows, grouped many times
    for col in ("agent_id", "agent_name", "team"):
        calls[col] = calls[col].astype(str).astype("category") \
            if not isinstance(calls[col].dtype, pd.CategoricalDtype) else calls[col]
    calls["team_raw"] = calls["team"]
    no_team = label("no_team", lang)
    teams = calls["team"].cat.categories
    if no_team not in teams:
        calls["team"] = calls["team"].cat.rename_categories(
            [t if t != "" else no_team for t in teams])
    else:
        calls["team"] = calls["team_raw"].astype(str).where(calls["team_raw"] != "", no_team)
    calls, rescored = rescore(calls, used)
    cur = with_buckets(in_days(calls, period.start, period.end), period)
    prev = in_days(calls, previous.start, previous.end)
    names = source.rule_names(chosen)

    notes: list[str] = []
    zh = lang == "zh"
    others = [r for r in runs if chosen and r.ruleset_hash != chosen]
    versions = ruleset_changes(used, [prev, cur])
    if len(versions) > 1:
        notes.append(versions_note(versions, rescored, lang))
    if others:
        desc = "; ".join(f"{r.label} ({r.ruleset.get('name')} {r.ruleset.get('version')}, "
                         f"{r.ruleset_hash})" for r in others)
        notes.append(f"{len(others)} 个审计批次使用了不同的规则集,未计入本报告:{desc}" if zh
                     else f"{len(others)} run(s) used a different ruleset, not included: {desc}")
    undated = source.undated(chosen)
    if undated:
        notes.append(f"{undated} 通通话没有开始时间(started_at),无法归入日期,未计入" if zh else
                     f"{undated} call(s) have no started_at and cannot be placed on a day; "
                     "not counted")
    cur_runs = set(cur["run"])
    no_text = [r.label for r in used if r.order in cur_runs and not r.has_text]
    if no_text and keywords > 0:
        notes.append(("以下批次没有 customer_text.jsonl(旧版 csqa 生成),其通话未计入客户关键词:"
                      if zh else "these runs have no customer_text.jsonl (older csqa); their calls "
                      "are left out of the customer keywords: ") + ", ".join(no_text))

    worst_calls, worst_rows = _worst(cur, source, top)
    daily = _daily(cur, period, lang)
    breaks: list[int] = []
    if len(versions) > 1:
        daily = _with_versions(daily, cur, used, period)
        breaks = ruleset_breaks(daily)
    if rescored.separate:
        daily = _with_separate(daily, cur, period)
    rules_frame, rule_daily = _rules(cur, prev, period, rule_ids, names, breaks)
    runs_frame = _runs_table(runs, source.held(chosen), cur, chosen, zone)
    agent_trends = group_trends(cur, "agent_id", period)
    group_tables = [("t_agents", _groups(cur, prev, "agent_id", rule_ids, names, agent_trends,
                                         breaks)),
                    ("t_teams", _groups(cur, prev, "team", rule_ids, names,
                                        group_trends(cur, "team", period), breaks))]
    if by == "team":
        group_tables.reverse()
    tables = {"t_headline": _headline(cur, prev)}
    groups = dict(group_tables)
    tables["t_attention"] = Table("t_attention", attention(
        groups["t_agents"], groups["t_teams"], rules_frame, cur, prev, lang, thresholds))
    tables.update({k: Table(k, f) for k, f in group_tables})
    tables["t_rules"] = Table("t_rules", rules_frame)
    tables["t_daily"] = Table("t_daily", daily)
    tables["t_worst"] = Table("t_worst", worst_rows)
    keyword_table, sampled, n_texts = _keywords(source, cur, keywords)
    if sampled < n_texts:
        notes.append(f"客户关键词取自 {sampled}/{n_texts} 通通话的固定抽样(按通话编号散列),"
                     "提及通话数按全部通话计" if zh else
                     f"customer keywords come from a fixed sample of {sampled} of {n_texts} "
                     "calls (by a hash of the call id); calls mentioning counts all calls")
    tables["t_keywords"] = Table("t_keywords", keyword_table)
    tables["t_runs"] = Table("t_runs", runs_frame)
    return Report(lang=lang, by=by, tz=tz, period=period, previous=previous, ruleset=ruleset,
                  pass_mark=float(ruleset.get("pass_mark", 80)), tables=tables, daily=daily,
                  rule_daily=rule_daily, worst_calls=worst_calls,
                  generated=now or datetime.now(UTC).astimezone(zone).replace(tzinfo=None),
                  notes=notes, calls=cur, rule_ids=rule_ids,
                  agent_trends=agent_trends, source=source,
                  ruleset_breaks=breaks)


def _keywords(source: ReportSource, cur: pd.DataFrame, top: int) -> tuple[pd.DataFrame, int, int]:
    """The keyword table, how many calls it was computed from, and of how many."""
    if top <= 0:
        return keyword_frame([], {}), 0, 0
    sample, with_text = source.keyword_sample(cur, KEYWORD_CHARS)
    ranked = top_keywords(list(source.texts(sample).values()), top)
    return (keyword_frame(ranked, source.mentions([w for w, _ in ranked], cur)), len(sample),
            with_text)


def _naive_local(ts: datetime | None, zone: ZoneInfo) -> datetime | None:
    if ts is None:
        return None
    return (ts.astimezone(zone) if ts.tzinfo else ts).replace(tzinfo=None)


def ruleset_changes(used: list[RunInfo], parts: list[pd.DataFrame]) -> list[tuple[str, date]]:
    """The rulesets the calls of ``parts`` (the periods' calls, in order) were scored under,
    oldest first: (name and version, the local day of its first call)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return []
    by_run = {r.order: r for r in used}
    # each part's first call per run, then the earliest of those (no copy of millions of rows
    # into one frame); runs in the order they first appear, as in one group-by of the parts
    firsts = pd.concat([p.groupby("run", sort=False)["local"].min() for p in parts])
    first = firsts.groupby(level=0, sort=False).min()
    seen: dict[str, date] = {}
    for order, when in sorted(first.items(), key=lambda kv: kv[1]):
        run = by_run[int(str(order))]
        key = run.ruleset_hash
        if key not in seen:
            seen[key] = when.date()
    names = {r.ruleset_hash: version_of(r) for r in used}
    return [(names[h], d) for h, d in sorted(seen.items(), key=lambda kv: kv[1])]


def _with_separate(daily: pd.DataFrame, cur: pd.DataFrame, period: Period) -> pd.DataFrame:
    """The trend with ``separate_mean``: the mean score of the calls whose ruleset could not be
    scored again under the newest one (a series of its own)."""
    apart = cur[cur["separate"].fillna(False).astype(bool)] if "separate" in cur else cur.iloc[:0]
    means = apart.groupby("bucket")["score"].mean()
    starts = [pd.Timestamp(d) for d, _ in period.buckets()]
    return daily.assign(separate_mean=[_r(means.get(t, float("nan")), 2) for t in starts])


def ruleset_breaks(daily: pd.DataFrame) -> list[int]:
    """The bucket indices of the trend where the ruleset that audited its calls changes."""
    out, last = [], ""
    for i, value in enumerate(daily["ruleset"]):
        if value and last and value != last:
            out.append(i)
        last = value or last
    return out


def _with_versions(daily: pd.DataFrame, cur: pd.DataFrame, used: list[RunInfo],
                   period: Period) -> pd.DataFrame:
    """The trend with a ``ruleset`` column: the versions that scored each bucket's calls."""
    version = {r.order: version_of(r) for r in used}
    named = cur.assign(_v=[version[int(o)] for o in cur["run"]])
    per = named.groupby("bucket")["_v"].agg(lambda v: " / ".join(sorted(set(v))))
    starts = [pd.Timestamp(d) for d, _ in period.buckets()]
    return daily.assign(ruleset=[per.get(t, "") for t in starts])


def _runs_table(runs: list[RunInfo], won: dict[int, int], cur: pd.DataFrame, chosen: str,
                zone: ZoneInfo) -> pd.DataFrame:
    rows = []
    used_now = cur["run"].value_counts()
    for r in sorted(runs, key=lambda r: r.sort_key):
        ok = r.ruleset_hash == chosen or not chosen
        n = r.calls_in_run
        rows.append({"run": r.label,
                     "audited_at": _naive_local(r.audited_at, zone),
                     "ruleset_name": str(r.ruleset.get("name", "")),
                     "ruleset_version": str(r.ruleset.get("version", "")),
                     "ruleset_hash": r.ruleset_hash, "calls_in_run": n,
                     "calls_used": int(used_now.get(r.order, 0)) if ok else 0,
                     "calls_superseded": n - int(won.get(r.order, 0)) if ok else 0,
                     "status": "s_used" if ok else "s_other_ruleset"})
    return pd.DataFrame(rows, columns=["run", "audited_at", "ruleset_name", "ruleset_version",
                                       "ruleset_hash", "calls_in_run", "calls_used",
                                       "calls_superseded", "status"])
