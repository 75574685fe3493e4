"""The HTML report as a folder a lead clicks through, offline: ``index.html`` (the report, its
agent rows, worst calls and attention items linked), ``report.xlsx`` (the same tables, call and
agent ids linked to the same pages), ``agents/<agent>.html`` (one agent: trend,
most frequent findings with two example calls each, their worst calls, against their team and
the centre; printable) and ``calls/<call>.html`` (one call: the ``csqa explain`` view of it,
rendered by :func:`csqa.reporters.conversation.html_body` from what the run stored, under a
timeline whose marks are its findings).

Every page is self-contained (inline CSS, no script but the report's own, a CSP forbidding any
request) and every link points at a file of the folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from csqa.model import CallResult, Finding, Transcript, Utterance
from csqa.reporters.conversation import HTML_CSS, Explained, html_body
from csqa.review import CONFIRMED, FALSE_ALARM, MISSED
from csqa.runs import RuleCost, rule_costs
from csqa.scoring import deduct
from csqa.weekly.build import Report, sparkline
from csqa.weekly.cells import format_cell, tone
from csqa.weekly.html import Links, page, render_html
from csqa.weekly.source import ReportSource, RunInfo, StoredCall
from csqa.weekly.xlsx import write_xlsx

PER_AGENT = 5  # worst calls listed on an agent page
EXAMPLES = 2  # example calls per frequent finding


def _e(text: Any) -> str:
    return escape(str(text), quote=True)


def file_name(key: str) -> str:
    """A safe file name for an id: itself when it is plain, else a slug and a short hash."""
    slug = re.sub(r"[^A-Za-z0-9._-]", "_", key)[:60].lstrip(".") or "_"
    if slug == key:
        return f"{slug}.html"
    return f"{slug}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:8]}.html"


def _clock(seconds: Any) -> str:
    s = int(float(seconds or 0.0))
    return f"{s // 60:02d}:{s % 60:02d}"


def _score(report: Report, value: float) -> str:
    return (f'<span class="{tone(value, "score", report.pass_mark) or ""}">'
            f'{_e(format_cell(value, "score", report.lang))}</span>')


def _trend_svg(values: list[float], pass_mark: float, breaks: list[int],
               width: int = 360) -> str:
    """A small line of mean scores per bucket, the pass mark dashed, and a dotted line before
    each bucket of ``breaks`` (where the ruleset changed)."""
    real = [v for v in values if v == v]
    if not real:
        return ""
    lo = min(min(real), pass_mark) - 5
    h, step = 60, width / max(len(values), 1)

    def y(v: float) -> float:
        return 4 + (h - 8) * (1 - (v - lo) / (100 - lo))

    pts: list[str] = []
    d: list[str] = []
    for i, v in enumerate(values):
        if v != v:
            continue
        x = step * (i + 0.5)
        d.append(f"{'M' if not d else 'L'}{x:.1f},{y(v):.1f}")
        pts.append(f'<circle cx="{x:.1f}" cy="{y(v):.1f}" r="2.5" fill="#0969da"/>')
    pts += [f'<line class="ruleset-change" x1="{step * b:.1f}" x2="{step * b:.1f}" y1="0" '
            f'y2="{h}" stroke="#8250df" stroke-dasharray="2 3"/>' for b in breaks]
    return (f'<svg class="trend" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" '
            f'viewBox="0 0 {width} {h}"><line x1="0" x2="{width}" y1="{y(pass_mark):.1f}" '
            f'y2="{y(pass_mark):.1f}" stroke="#cf222e" stroke-dasharray="4 3"/>'
            f'<path d="{" ".join(d)}" fill="none" stroke="#0969da" stroke-width="2"/>'
            + "".join(pts) + "</svg>")


def _timeline(call: dict[str, Any], findings: list[dict[str, Any]], length: float,
              call_level: str, width: int = 760) -> str:
    """The call as a bar from 0 to its end, each finding a mark at its time (hover: the rule)
    that jumps to its utterance in the conversation (``#u<n>``), or to ``call_level`` (the
    list of findings on no one utterance)."""
    ends = [float(f.get("end") or f.get("start") or 0.0) for f in findings]
    length = max([length, *ends, 1.0])
    scale = (width - 20) / length
    parts = [f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" height="54" '
             f'viewBox="0 0 {width} 54"><rect x="10" y="22" width="{width - 20}" height="8" '
             f'fill="#eaeef2"/>']
    for f in findings:
        start = float(f.get("start") or 0.0)
        end = float(f.get("end") or start)
        x = 10 + start * scale
        colour = "#cf222e" if f.get("severity") in ("critical", "major") else "#bf8700"
        target = f"u{f['utterance']}" if f.get("utterance") is not None else call_level
        parts.append(f'<a href="#{target}"><rect class="mark" x="{x:.1f}" y="14" '
                     f'width="{max(3.0, (end - start) * scale):.1f}" height="24" '
                     f'fill="{colour}"><title>{_e(_clock(start))} {_e(f.get("name") or "")}'
                     f"</title></rect></a>")
    parts.append(f'<text x="10" y="50">00:00</text><text x="{width - 10}" y="50" '
                 f'text-anchor="end">{_e(_clock(length))}</text></svg>')
    return "".join(parts)


@dataclass(frozen=True)
class _Scoring:
    """A run's ruleset as the explanation needs it (see csqa.reporters.conversation.Scoring)."""

    rules: list[RuleCost]
    base_score: float
    pass_mark: float


def _scoring(run: RunInfo) -> _Scoring:
    rs = run.ruleset
    return _Scoring(list(rule_costs(rs, run.label).values()),
                    float(rs.get("base_score", 100.0)), float(rs.get("pass_mark", 80.0)))


def _finding(f: dict[str, Any]) -> Finding:
    return Finding(str(f["call_id"]), str(f.get("agent_id") or ""), str(f["rule_id"]),
                   str(f.get("kind") or ""), str(f.get("name") or f["rule_id"]),
                   str(f.get("severity") or ""), float(f.get("points") or 0.0),
                   None if f.get("utterance") is None else int(f["utterance"]),
                   float(f.get("start") or 0.0), float(f.get("end") or 0.0),
                   f.get("speaker"), str(f.get("matched") or ""), str(f.get("evidence") or ""),
                   str(f.get("message") or ""), str(f.get("finding_id") or ""))


def explained(call: dict[str, Any], findings: list[dict[str, Any]], stored: StoredCall,
              scoring: _Scoring) -> Explained:
    """The call as ``csqa explain`` shows it, from what its run stored: the conversation
    (conversation.jsonl), its findings, its recorded score and verdict, and the costs of the
    rules of the ruleset that audited it (for the score breakdown)."""
    utterances = [Utterance(i, sp, start, end, text)
                  for i, (sp, start, end, text) in enumerate(stored.utterances or [])]
    transcript = Transcript(str(call["call_id"]), str(call["agent_id"]), utterances,
                            agent_name=str(call["agent_name"]) or None,
                            team=str(call.get("team_raw") or "") or None,
                            started_at=stored.started_at or None,
                            hangup_by=stored.hangup_by or None, duration=stored.duration,
                            source=stored.source)
    found = [_finding(f) for f in findings]
    counts: dict[str, int] = {}
    for f in found:
        counts[f.rule_id] = counts.get(f.rule_id, 0) + 1
    # scored as its audit scored it (the report may show it scored again under a newer ruleset)
    score, passed, vetoed, deductions = deduct(counts, scoring.rules, scoring.base_score,
                                               scoring.pass_mark, stored.not_evaluable)
    result = CallResult(transcript, found, score, passed, vetoed, counts, deductions,
                        {rid: "" for rid in stored.not_evaluable})
    return Explained(result, scoring)


def _call_page(report: Report, call: dict[str, Any], findings: list[dict[str, Any]],
               agent_href: str | None, stored: StoredCall, scoring: _Scoring) -> str:
    lab = report.label
    verdict = lab("v_vetoed") if call["vetoed"] else lab("v_passed" if call["passed"]
                                                         else "v_failed")
    who = f"{call['agent_name']} ({call['agent_id']})" if call["agent_name"] else call["agent_id"]
    who_html = f'<a href="{_e(agent_href)}">{_e(who)}</a>' if agent_href else _e(who)
    started = call["local"].strftime("%Y-%m-%d %H:%M") if pd.notna(call["local"]) else ""
    recorded = float(call.get("recorded_score", call["score"]))
    again = "" if recorded == float(call["score"]) else \
        f" · {lab('rescored')} {_score(report, float(call['score']))}"
    length = stored.duration or max([float(u[2]) for u in stored.utterances or []] + [0.0])
    body = [f'<p><a href="../index.html">{_e(report.title)}</a></p>',
            f'<div class="meta">{who_html} · {_e(call["team"])} · {_e(started)} · '
            f"{_e(lab('score'))} {_score(report, recorded)}{again} {_e(verdict)}</div>",
            f"<h2>{_e(lab('timeline'))}</h2>"]
    if stored.utterances is not None:
        body.append(_timeline(call, findings, length, "call-level"))
        body.append(f'<div id="conversation">{html_body(explained(call, findings, stored, scoring))}'
                    "</div>")
    else:  # a run written before conversation.jsonl: its findings as recorded
        body.append(_timeline(call, findings, length, "findings"))
        body.append(f'<p class="hint">{_e(lab("no_transcript"))}</p>')
        rows = "".join(
            f'<tr id="f{i}"><td>{_e(_clock(f.get("start")))}</td>'
            f'<td>{_e(lab(f["speaker"]) if f.get("speaker") else "")}</td>'
            f'<td>{_e(f.get("name") or f.get("rule_id") or "")}</td>'
            f'<td class="ev">{_e(f.get("evidence") or "")}</td>'
            f'<td>{_e(f.get("message") or "")}</td></tr>' for i, f in enumerate(findings))
        body.append(f"<h2 id=\"findings\">{_e(lab('findings_of'))}</h2>" + (
            f"<table><thead><tr><th>{_e(lab('at'))}</th><th>{_e(lab('speaker'))}</th>"
            f"<th>{_e(lab('rule_name'))}</th><th>{_e(lab('evidence'))}</th>"
            f"<th>{_e(lab('message'))}</th></tr></thead><tbody>{rows}</tbody></table>"
            if findings else f"<p>{_e(lab('no_findings'))}</p>"))
    return page(f"{call['call_id']} · {report.title}", body, report.lang, css=HTML_CSS)


def _disputes(report: Report, verdicts: list[dict[str, Any]], call_href: dict[str, str]) -> str:
    """The agent's reviewed findings: how many were confirmed, and the disputed ones (false
    alarms) and the violations reviewers added (missed), each with the reviewer's note."""
    lab = report.label
    n = {k: sum(v["verdict"] == k for v in verdicts) for k in (CONFIRMED, FALSE_ALARM, MISSED)}
    head = (f"<h2>{_e(lab('disputes'))}</h2>"
            f'<p id="reviewed">{_e(lab("reviewed_counts").format(**n))}</p>')
    shown = [v for v in verdicts if v["verdict"] != CONFIRMED]
    if not shown:
        return head + ("" if verdicts else f'<p class="hint">{_e(lab("no_reviews"))}</p>')
    rows = "".join(
        f"<tr><td>{_link(call_href, str(v['call_id']))}</td>"
        f"<td>{_e(_clock(v.get('start')))}</td><td>{_e(v.get('name') or v['rule_id'])}</td>"
        f"<td>{_e(lab('verdict_' + v['verdict']))}</td><td class=\"ev\">{_e(v.get('evidence') or '')}"
        f"</td><td>{_e(v.get('note') or '')}</td><td>{_e(v.get('reviewer') or '')}</td></tr>"
        for v in shown)
    return head + (f'<table id="disputes"><thead><tr><th>{_e(lab("call_id"))}</th>'
                   f"<th>{_e(lab('at'))}</th><th>{_e(lab('rule_name'))}</th>"
                   f"<th>{_e(lab('verdict'))}</th><th>{_e(lab('evidence'))}</th>"
                   f"<th>{_e(lab('review_note'))}</th><th>{_e(lab('reviewer'))}</th></tr></thead>"
                   f"<tbody>{rows}</tbody></table>")


def _agent_page(report: Report, agent: dict[str, Any], team: dict[str, Any] | None,
                calls: pd.DataFrame, rule_ids: list[str], names: dict[str, str],
                trend: list[float], call_href: dict[str, str],
                verdicts: list[dict[str, Any]]) -> str:
    lab = report.label
    head = report.table("t_headline").set_index("metric")
    who = f"{agent['agent_name']} ({agent['agent_id']})" if agent["agent_name"] else \
        str(agent["agent_id"])
    body = [f'<p><a href="../index.html">{_e(report.title)}</a></p>',
            f"<h1>{_e(lab('coaching'))} · {_e(who)}</h1>",
            f'<div class="meta">{_e(agent["team"])} · {_e(report.period.name)} '
            f"({report.period.start} – {report.period.end})</div>"]
    rows = [("calls", "int"), ("mean_score", "score"), ("pass_rate", "pct"), ("vetoes", "int")]
    cmp = [f"<tr><th></th><th>{_e(who)}</th><th>{_e(lab('prev'))}</th><th>{_e(lab('team'))} "
           f"{_e(agent['team'])}</th><th>{_e(lab('centre'))}</th></tr>"]
    for key, how in rows:
        prev = agent.get(f"prev_{key}", float("nan"))
        cmp.append(f"<tr><td>{_e(lab(key))}</td>"
                   f'<td class="n">{_e(format_cell(agent[key], how, report.lang))}</td>'
                   f'<td class="n">{_e(format_cell(prev, how, report.lang))}</td>'
                   f'<td class="n">{_e(format_cell(team[key] if team else None, how, report.lang))}'
                   f'</td><td class="n">{_e(format_cell(head.at["m_" + key, "current"], how, report.lang))}'
                   "</td></tr>")
    body.append(f'<table id="compare">{"".join(cmp)}</table>')
    body.append(f"<h2>{_e(lab('trend'))}</h2>"
                f"{_trend_svg(trend, report.pass_mark, report.ruleset_breaks)}"
                f'<p class="hint">{_e(sparkline(trend, report.ruleset_breaks))}</p>')
    # most frequent findings, two example calls each (the worst calls that have them)
    counts = calls[rule_ids].sum() if len(calls) else pd.Series(dtype=int)
    frequent = [(rid, int(n)) for rid, n in counts.sort_values(ascending=False, kind="stable")
                .items() if int(n) > 0][:5]
    items = []
    ordered = calls.sort_values(["score", "call_id"], kind="stable")
    for rid, n in frequent:
        examples = ordered.loc[ordered[rid] > 0, "call_id"].head(EXAMPLES).tolist()
        links = " · ".join(f'<a href="{_e(call_href[c])}">{_e(c)}</a>' if c in call_href
                           else _e(c) for c in examples)
        items.append(f"<li>{_e(names.get(str(rid), rid))} ×{n}:{links}</li>")
    body.append(f"<h2>{_e(lab('frequent_findings'))}</h2>"
                + (f'<ol id="frequent">{"".join(items)}</ol>' if items
                   else f"<p>{_e(lab('no_findings'))}</p>"))
    worst = ordered.head(PER_AGENT)
    trs = "".join(
        f"<tr><td>{_link(call_href, c['call_id'])}</td>"
        f"<td>{_e(c['local'].strftime('%m-%d %H:%M') if pd.notna(c['local']) else '')}</td>"
        f'<td class="n">{_score(report, float(c["score"]))}</td>'
        f'<td class="n">{int(c["n_findings"])}</td></tr>'
        for c in _records(worst))
    body.append(f"<h2>{_e(lab('worst_of_agent'))}</h2><table><thead><tr>"
                f"<th>{_e(lab('call_id'))}</th><th>{_e(lab('started'))}</th>"
                f"<th>{_e(lab('score'))}</th><th>{_e(lab('n_findings'))}</th></tr></thead>"
                f"<tbody>{trs}</tbody></table>")
    body.append(_disputes(report, verdicts, call_href))
    return page(f"{who} · {report.title}", body, report.lang)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records")  # type: ignore[return-value]


def _link(hrefs: dict[str, str], key: str) -> str:
    return f'<a href="{_e(hrefs[key])}">{_e(key)}</a>' if key in hrefs else _e(key)


def write_folder(report: Report, source: ReportSource, folder: str | Path) -> Path:
    """Write the drill-down folder (replacing one written before); returns its index.html."""
    folder = Path(folder)
    calls = report.calls
    agents = report.table("t_agents")
    teams = {str(t["team"]): t for t in _records(report.table("t_teams"))}
    rule_ids = [c for c in report.rule_ids if c in calls]
    names = dict(zip(report.table("t_rules")["rule_id"], report.table("t_rules")["rule_name"],
                     strict=True))
    by_agent = dict(tuple(calls.groupby("agent_id"))) if len(calls) else {}
    # the calls with a page: worst calls, attention items' calls, each agent's worst calls and
    # examples of their frequent findings
    wanted: set[str] = {c["call_id"] for c in report.worst_calls}
    wanted |= {str(c) for c in report.table("t_attention")["call_id"] if c}
    verdicts = source.reviews(calls) if len(calls) else {}
    wanted |= {cid for cid, vs in verdicts.items() if any(v["verdict"] != CONFIRMED for v in vs)}
    for g in by_agent.values():
        ordered = g.sort_values(["score", "call_id"], kind="stable")
        wanted |= set(ordered["call_id"].head(PER_AGENT))
        for rid in rule_ids:
            wanted |= set(ordered.loc[ordered[rid] > 0, "call_id"].head(EXAMPLES))
    paged = calls[calls["call_id"].isin(wanted)]
    call_href = {cid: f"calls/{file_name(cid)}" for cid in paged["call_id"]}
    agent_href = {str(a): f"agents/{file_name(str(a))}" for a in agents["agent_id"]}

    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "calls").mkdir(parents=True)
    (tmp / "agents").mkdir()
    try:
        links = Links(agent_href, call_href)
        (tmp / "index.html").write_text(render_html(report, links), encoding="utf-8")
        write_xlsx(report, tmp / "report.xlsx", links)
        findings = source.findings(paged)
        stored = source.stored_calls(paged)
        scorings: dict[int, _Scoring] = {}
        runs = {r.order: r for r in source.runs()}
        up = {cid: f"../{href}" for cid, href in call_href.items()}
        for call in _records(paged):
            fs = sorted(findings.get(call["call_id"], []), key=lambda f: f.get("start") or 0.0)
            href = agent_href.get(str(call["agent_id"]))
            order = int(call["run"])
            if order not in scorings:
                scorings[order] = _scoring(runs[order])
            text = _call_page(report, call, fs, f"../{href}" if href else None,
                              stored.get(call["call_id"], StoredCall(None)), scorings[order])
            (tmp / call_href[call["call_id"]]).write_text(text, encoding="utf-8")
        trends = report.agent_trends
        for agent in _records(agents):
            aid = str(agent["agent_id"])
            own = by_agent.get(agent["agent_id"], calls.iloc[:0])
            text = _agent_page(report, agent, teams.get(str(agent["team"]) or report.label("no_team")),
                               own, rule_ids, names, trends.get(agent["agent_id"], []), up,
                               [v for cid in own["call_id"] for v in verdicts.get(cid, [])])
            (tmp / agent_href[aid]).write_text(text, encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder / "index.html"
