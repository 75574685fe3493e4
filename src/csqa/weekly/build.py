"""From audit output folders to the report's tables (pandas), ready for any renderer.

The rules of counting, also in the README:

- runs are grouped by ruleset hash; only runs of one ruleset (the latest run's, or the one
  chosen with ``ruleset_hash``) are counted, the others are listed as not included;
- a call audited by several runs counts once: the run audited last (run.json ``started_at``,
  then the later folder on the command line) wins;
- a call belongs to the local day of its ``started_at`` in the report's time zone
  (timestamps with an offset are converted; timestamps without one are taken as local time);
  calls without ``started_at`` cannot be placed and are counted in a note;
- the previous period is the same number of days right before the period.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from csqa.errors import CsqaError
from csqa.runs import AuditRun, RunError, open_run
from csqa.weekly.labels import WEEKDAYS, label


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


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end`` inclusive; ``name`` is how the report titles it."""

    start: date
    end: date
    name: str

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def previous(self) -> Period:
        n = (self.end - self.start).days + 1
        start, end = self.start - timedelta(days=n), self.start - timedelta(days=1)
        return period_named(start, end)


def period_named(start: date, end: date) -> Period:
    """A period, named ``2026-W47`` when it is exactly one ISO week, else ``start – end``."""
    iso = start.isocalendar()
    if iso.weekday == 1 and (end - start).days == 6:
        return Period(start, end, f"{iso.year}-W{iso.week:02d}")
    return Period(start, end, f"{start.isoformat()} – {end.isoformat()}")


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

    def table(self, key: str) -> pd.DataFrame:
        return self.tables[key].frame

    def label(self, key: str) -> str:
        return label(key, self.lang)


def sparkline(values: list[float]) -> str:
    """``▁▃█``-style line of ``values`` (empty days, NaN, are shown as a space)."""
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


def _r(value: float, digits: int) -> float:
    return float("nan") if value is None or math.isnan(value) else round(float(value), digits)


def _choose_runs(runs: list[AuditRun], ruleset_hash: str | None) -> tuple[str, list[AuditRun]]:
    if ruleset_hash:
        hashes = sorted({r.ruleset_hash for r in runs if r.ruleset_hash.startswith(ruleset_hash)})
        if not hashes:
            known = ", ".join(sorted({r.ruleset_hash for r in runs}))
            raise ReportError(f"--ruleset-hash {ruleset_hash}: no run used it (runs used: {known})")
        if len(hashes) > 1:
            raise ReportError(f"--ruleset-hash {ruleset_hash}: ambiguous ({', '.join(hashes)})")
        chosen = hashes[0]
    else:
        chosen = max(runs, key=lambda r: r.sort_key).ruleset_hash
    return chosen, [r for r in runs if r.ruleset_hash == chosen]


def _merge_calls(used: list[AuditRun], tz: ZoneInfo) -> pd.DataFrame:
    ordered = sorted(used, key=lambda r: r.sort_key)
    frames = [r.calls.assign(run=r.order) for r in ordered if len(r.calls)]
    if not frames:
        return pd.DataFrame(columns=[*used[0].calls.columns, "run", "local", "day"])
    calls = pd.concat(frames, ignore_index=True)
    calls = calls.drop_duplicates("call_id", keep="last").reset_index(drop=True)
    local = [local_time(v, tz) for v in calls["started_at"]]
    calls["local"] = pd.Series([pd.NaT if t is None else pd.Timestamp(t) for t in local],
                               dtype="datetime64[ns]")
    calls["day"] = [None if t is None else t.date() for t in local]
    calls["team"] = calls["team"].astype(str)
    return calls


def _select_period(calls: pd.DataFrame, week: str | None, date_from: str | None,
                   date_to: str | None) -> Period:
    if week and (date_from or date_to):
        raise ReportError("give either --week or --from/--to, not both")
    if week:
        return week_period(week)
    if date_from or date_to:
        if not (date_from and date_to):
            raise ReportError("--from and --to go together (both dates are included)")
        start, end = _day(date_from, "--from"), _day(date_to, "--to")
        if end < start:
            raise ReportError(f"--to {end} is before --from {start}")
        return period_named(start, end)
    days = [d for d in calls["day"] if d is not None]
    if not days:
        raise ReportError("no call has a started_at, so calls cannot be placed in a week; "
                          "give --from/--to or --week")
    latest = max(days)
    return period_named(latest - timedelta(days=latest.weekday()),
                        latest + timedelta(days=6 - latest.weekday()))


def _in(calls: pd.DataFrame, p: Period) -> pd.DataFrame:
    mask = [d is not None and p.start <= d <= p.end for d in calls["day"]]
    return calls[mask]


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


def _top_rules(counts: pd.Series, names: dict[str, str], n: int = 3) -> str:
    items = [(str(rid), int(v)) for rid, v in counts.items() if int(v) > 0]
    order = {rid: i for i, rid in enumerate(counts.index)}
    items.sort(key=lambda kv: (-kv[1], order[kv[0]]))
    return "; ".join(f"{names.get(rid, rid)} ×{v}" for rid, v in items[:n])


def _groups(cur: pd.DataFrame, prev: pd.DataFrame, key: str, rule_ids: list[str],
            names: dict[str, str]) -> pd.DataFrame:
    cols = ["rank", key]
    if key == "agent_id":
        cols += ["agent_name", "team"]
    else:
        cols += ["agents"]
    cols += ["calls", "mean_score", "pass_rate", "vetoes", "findings", "top_rules",
             "prev_calls", "prev_mean_score", "d_mean_score", "prev_pass_rate", "d_pass_rate"]
    if not len(cur):
        return pd.DataFrame(columns=cols)
    rows = []
    prev_groups = dict(tuple(prev.groupby(key, sort=False))) if len(prev) else {}
    for k, g in cur.sort_values("local", kind="stable").groupby(key, sort=True):
        s = _stats(g)
        row: dict[str, Any] = {key: k, **{m: s[m] for m in ("calls", "mean_score", "pass_rate",
                                                            "vetoes", "findings")}}
        if key == "agent_id":
            row["agent_name"] = next((v for v in reversed(g["agent_name"].tolist()) if v), "")
            row["team"] = next((v for v in reversed(g["team_raw"].tolist()) if v), "")
        else:
            row["agents"] = g["agent_id"].nunique()
        row["top_rules"] = _top_rules(g[rule_ids].sum(), names)
        pg = prev_groups.get(k)
        ps = _stats(pg) if pg is not None else {"calls": 0, "mean_score": float("nan"),
                                                "pass_rate": float("nan")}
        row["prev_calls"] = ps["calls"]
        row["prev_mean_score"] = ps["mean_score"]
        row["d_mean_score"] = _delta(s["mean_score"], ps["mean_score"], 2)
        row["prev_pass_rate"] = ps["pass_rate"]
        row["d_pass_rate"] = _delta(s["pass_rate"], ps["pass_rate"], 4)
        rows.append(row)
    out = pd.DataFrame(rows)
    out["rank"] = out["mean_score"].rank(method="min", ascending=False).astype(int)
    out = out.sort_values(["rank", key], kind="stable").reset_index(drop=True)
    return out[cols]


def _rules(cur: pd.DataFrame, prev: pd.DataFrame, period: Period, rule_ids: list[str],
           names: dict[str, str]) -> tuple[pd.DataFrame, dict[str, list[int]]]:
    rows, daily = [], {}
    n, pn = len(cur), len(prev)
    by_day = cur.groupby("day")[rule_ids].sum() if n else None
    for rid in rule_ids:
        hits = int(cur[rid].sum()) if n else 0
        prev_hits = int(prev[rid].sum()) if pn else 0
        per_100 = _r(100 * hits / n, 1) if n else float("nan")
        prev_per_100 = _r(100 * prev_hits / pn, 1) if pn else float("nan")
        series = [int(by_day.at[d, rid]) if by_day is not None and d in by_day.index  # type: ignore[arg-type]
                  else 0 for d in period.days]
        daily[rid] = series
        rows.append({"rule_id": rid, "rule_name": names.get(rid, rid), "hits": hits,
                     "calls_affected": int((cur[rid] > 0).sum()) if n else 0,
                     "per_100": per_100, "prev_per_100": prev_per_100,
                     "d_per_100": _delta(per_100, prev_per_100, 1),
                     "trend": sparkline([float(v) for v in series])})
    order = {rid: i for i, rid in enumerate(rule_ids)}
    frame = pd.DataFrame(rows, columns=["rule_id", "rule_name", "hits", "calls_affected",
                                        "per_100", "prev_per_100", "d_per_100", "trend"])
    frame = frame.sort_values(["hits", "rule_id"], ascending=[False, True], kind="stable",
                              key=lambda s: s.map(order) if s.name == "rule_id" else s)
    return frame.reset_index(drop=True), daily


def _daily(cur: pd.DataFrame, period: Period, lang: str) -> pd.DataFrame:
    rows = []
    groups = dict(tuple(cur.groupby("day"))) if len(cur) else {}
    for d in period.days:
        g = groups.get(d)
        s = _stats(g) if g is not None else {"calls": 0, "mean_score": float("nan"),
                                             "pass_rate": float("nan"), "vetoes": 0,
                                             "findings": 0}
        rows.append({"date": d, "weekday": WEEKDAYS[lang][d.weekday()], **s})
    return pd.DataFrame(rows, columns=["date", "weekday", "calls", "mean_score", "pass_rate",
                                       "vetoes", "findings"])


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


def _worst(cur: pd.DataFrame, findings: dict[str, list[dict[str, Any]]], top: int
           ) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    bad = cur[(cur["n_findings"] > 0) | ~cur["passed"]]
    bad = bad.assign(_v=~bad["vetoed"]).sort_values(
        ["score", "_v", "n_findings", "call_id"], ascending=[True, True, False, True],
        kind="stable").head(top)
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


@functools.cache
def _extractor() -> Any:
    """jieba's TF-IDF keyword extractor, built once per process (loading its IDF table takes
    seconds)."""
    import jieba
    import jieba.analyse

    jieba.setLogLevel(logging.WARNING)
    extractor = jieba.analyse.TFIDF()
    extractor.stop_words = set(extractor.stop_words) | FILLER_WORDS
    return extractor


#: Customer speech tokenised for the keywords, at most (characters): jieba segments some tens of
#: thousands of characters a second, so a big week is sampled (see :func:`keyword_sample`).
KEYWORD_CHARS = 150_000


def keyword_sample(texts: dict[str, str], budget: int = KEYWORD_CHARS) -> list[str]:
    """The call ids whose text the keywords are computed from: all of them when their text fits
    in ``budget`` characters, else calls taken in the order of a hash of their id until the
    budget is spent (a fixed pseudo-random sample: the same runs give the same keywords)."""
    if sum(len(t) for t in texts.values()) <= budget:
        return sorted(texts)
    chosen, used = [], 0
    for cid in sorted(texts, key=lambda c: hashlib.sha1(c.encode("utf-8")).hexdigest()):
        if used >= budget:
            break
        chosen.append(cid)
        used += len(texts[cid])
    return sorted(chosen)


def customer_keywords(texts: dict[str, str], top: int, budget: int = KEYWORD_CHARS
                      ) -> tuple[pd.DataFrame, int]:
    """Top ``top`` keywords of customer speech (jieba TF-IDF) and the number of calls they were
    computed from; ``calls_mentioning`` counts over all calls of ``texts``."""
    cols = ["keyword", "weight", "calls_mentioning"]
    sample = keyword_sample(texts, budget)
    joined = "\n".join(texts[cid] for cid in sample if texts[cid])
    if top <= 0:
        return pd.DataFrame(columns=cols), len(texts)
    if not joined.strip():
        return pd.DataFrame(columns=cols), len(sample)
    tags = _extractor().extract_tags(joined, topK=None, withWeight=True)
    # Ties are broken by the word so the list never depends on the order of the runs.
    ranked = sorted(((w, round(float(wt), 4)) for w, wt in tags if _meaningful(w)),
                    key=lambda kv: (-kv[1], kv[0]))[:top]
    all_texts = list(texts.values())
    rows = [{"keyword": w, "weight": wt, "calls_mentioning": sum(w in t for t in all_texts)}
            for w, wt in ranked]
    return pd.DataFrame(rows, columns=cols), len(sample)


def _meaningful(word: str) -> bool:
    """Chinese words, and Latin words of 3+ letters (not ``A1``, ``ok``, numbers)."""
    if any("\u4e00" <= ch <= "\u9fff" for ch in word):
        return True
    return len(word) >= 3 and word.isalpha()


def build_report(run_dirs: list[str | Path], *, week: str | None = None,
                 date_from: str | None = None, date_to: str | None = None, by: str = "agent",
                 tz: str = "Asia/Shanghai", ruleset_hash: str | None = None, top: int = 10,
                 keywords: int = 20, lang: str = "zh",
                 now: datetime | None = None) -> Report:
    """Read ``run_dirs`` (csqa audit output folders, through :func:`csqa.runs.open_run`) and
    build the report for one period.

    Raises :class:`ReportError` for unreadable input or bad options.
    """
    try:
        return _build(run_dirs, week, date_from, date_to, by, tz, ruleset_hash, top, keywords,
                      lang, now)
    except RunError as exc:
        raise ReportError(str(exc)) from None


def _build(run_dirs: list[str | Path], week: str | None, date_from: str | None,
           date_to: str | None, by: str, tz: str, ruleset_hash: str | None, top: int,
           keywords: int, lang: str, now: datetime | None) -> Report:
    if by not in ("agent", "team"):
        raise ReportError(f"--by: expected agent or team, got {by!r}")
    if lang not in ("zh", "en"):
        raise ReportError(f"--lang: expected zh or en, got {lang!r}")
    if not run_dirs:
        raise ReportError("give at least one csqa audit output folder")
    zone = resolve_timezone(tz)
    runs = [open_run(p, i) for i, p in enumerate(run_dirs)]
    chosen, used = _choose_runs(runs, ruleset_hash)
    ruleset = next(r.ruleset for r in used)
    rule_ids = list(used[-1].rule_ids)
    calls = _merge_calls(used, zone)
    period = _select_period(calls, week, date_from, date_to)
    previous = period.previous()
    calls["team_raw"] = calls["team"]
    calls["team"] = [t or label("no_team", lang) for t in calls["team"]]
    cur, prev = _in(calls, period), _in(calls, previous)

    # Findings and customer text, each from the run whose audit of the call won.
    wanted = pd.concat([cur, prev])
    findings: dict[str, list[dict[str, Any]]] = {}
    texts: dict[str, str] = {}
    names: dict[str, str] = {}
    no_text: list[str] = []
    for run in used:
        ids = set(wanted.loc[wanted["run"] == run.order, "call_id"])
        # Rule names: from run.json's rule_scoring (newer runs), else from every finding of the
        # ruleset's runs, so a rule nobody broke this week still shows its name.
        scoring = run.ruleset.get("rule_scoring")
        if isinstance(scoring, dict):
            for rid, spec in scoring.items():
                if isinstance(spec, dict) and spec.get("name"):
                    names.setdefault(str(rid), str(spec["name"]))
        for f in run.findings():
            if f.get("rule_id") and f.get("name"):
                names.setdefault(str(f["rule_id"]), str(f["name"]))
            if f["call_id"] in ids:
                findings.setdefault(f["call_id"], []).append(f)
        cur_ids = set(cur.loc[cur["run"] == run.order, "call_id"])
        if cur_ids and keywords > 0:
            got = run.customer_text(cur_ids)
            if got is None:
                no_text.append(str(run.path))
            else:
                texts.update((cid, got.get(cid, "")) for cid in cur_ids)

    notes: list[str] = []
    zh = lang == "zh"
    others = [r for r in runs if r.ruleset_hash != chosen]
    if others:
        desc = "; ".join(f"{r.path} ({r.ruleset.get('name')} {r.ruleset.get('version')}, "
                         f"{r.ruleset_hash})" for r in others)
        notes.append(f"{len(others)} 个审计批次使用了不同的规则集,未计入本报告:{desc}" if zh
                     else f"{len(others)} run(s) used a different ruleset, not included: {desc}")
    undated = int(sum(d is None for d in calls["day"]))
    if undated:
        notes.append(f"{undated} 通通话没有开始时间(started_at),无法归入日期,未计入" if zh else
                     f"{undated} call(s) have no started_at and cannot be placed on a day; "
                     "not counted")
    if no_text:
        notes.append(("以下批次没有 customer_text.jsonl(旧版 csqa 生成),其通话未计入客户关键词:"
                      if zh else "these runs have no customer_text.jsonl (older csqa); their calls "
                      "are left out of the customer keywords: ") + ", ".join(no_text))

    worst_calls, worst_rows = _worst(cur, findings, top)
    rules_frame, rule_daily = _rules(cur, prev, period, rule_ids, names)
    daily = _daily(cur, period, lang)
    runs_frame = _runs_table(runs, calls, cur, chosen, zone)
    group_tables = [("t_agents", _groups(cur, prev, "agent_id", rule_ids, names)),
                    ("t_teams", _groups(cur, prev, "team", rule_ids, names))]
    if by == "team":
        group_tables.reverse()
    tables = {"t_headline": _headline(cur, prev)}
    tables.update({k: Table(k, f) for k, f in group_tables})
    tables["t_rules"] = Table("t_rules", rules_frame)
    tables["t_daily"] = Table("t_daily", daily)
    tables["t_worst"] = Table("t_worst", worst_rows)
    keyword_table, sampled = customer_keywords(texts, keywords)
    if sampled < len(texts):
        notes.append(f"客户关键词取自 {sampled}/{len(texts)} 通通话的固定抽样(按通话编号散列),"
                     "提及通话数按全部通话计" if zh else
                     f"customer keywords come from a fixed sample of {sampled} of {len(texts)} "
                     "calls (by a hash of the call id); calls mentioning counts all calls")
    tables["t_keywords"] = Table("t_keywords", keyword_table)
    tables["t_runs"] = Table("t_runs", runs_frame)
    return Report(lang=lang, by=by, tz=tz, period=period, previous=previous, ruleset=ruleset,
                  pass_mark=float(ruleset.get("pass_mark", 80)), tables=tables, daily=daily,
                  rule_daily=rule_daily, worst_calls=worst_calls,
                  generated=now or datetime.now(UTC).astimezone(zone).replace(tzinfo=None),
                  notes=notes)


def _naive_local(ts: datetime | None, zone: ZoneInfo) -> datetime | None:
    if ts is None:
        return None
    return (ts.astimezone(zone) if ts.tzinfo else ts).replace(tzinfo=None)


def _runs_table(runs: list[AuditRun], calls: pd.DataFrame, cur: pd.DataFrame, chosen: str,
                zone: ZoneInfo) -> pd.DataFrame:
    rows = []
    won = calls["run"].value_counts()
    used_now = cur["run"].value_counts()
    for r in sorted(runs, key=lambda r: r.sort_key):
        ok = r.ruleset_hash == chosen
        n = len(r.calls)
        rows.append({"run": str(r.path),
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
