"""The report as one self-contained HTML page: inline CSS, inline SVG charts, a little inline JS.

Nothing is fetched: no fonts, scripts or images from anywhere (a Content-Security-Policy
``default-src 'none'`` makes the browser refuse any request). Every piece of text from the
runs (names, transcript lines, messages, paths) goes through :func:`html.escape`, so a
transcript line ``<script>…`` is shown as text. Tables sort when a header is clicked.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from csqa.weekly.build import Report, Table
from csqa.weekly.cells import (
    cell_kind,
    format_cell,
    headers,
    missing,
    period_line,
    text_rows,
    tone,
)

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC","Hiragino Sans GB",
"WenQuanYi Micro Hei",system-ui,sans-serif;margin:24px;color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de}
.meta{color:#57606a;font-size:13px}.note{background:#fff8c5;border:1px solid #d4a72c;
padding:6px 10px;margin:8px 0;font-size:13px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{border:1px solid #d0d7de;border-radius:6px;padding:10px 14px;min-width:130px}
.card .v{font-size:24px;font-weight:600}.card .k{color:#57606a;font-size:12px}
.card .d{font-size:12px}
table{border-collapse:collapse;font-size:13px;margin:4px 0 12px}
th,td{border:1px solid #d0d7de;padding:4px 8px;vertical-align:top}
th{background:#f6f8fa;cursor:pointer;user-select:none;white-space:nowrap}
th.asc::after{content:" ▲"}th.desc::after{content:" ▼"}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.good{color:#1a7f37}.warn{color:#9a6700}.bad{color:#cf222e;font-weight:600}
.call{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;margin:10px 0}
.call h3{font-size:14px;margin:0 0 6px}.ev{white-space:pre-wrap}
.kw{display:inline-block;margin:3px 6px;color:#0550ae}
svg text{font-size:11px;fill:#57606a}.hint{color:#57606a;font-size:12px}
"""

_JS = """
(function(){
  function val(td){var v=td.getAttribute('data-v');return v===null?td.textContent:v;}
  document.querySelectorAll('table.sortable').forEach(function(table){
    var ths=table.tHead.rows[0].cells;
    Array.prototype.forEach.call(ths,function(th,i){
      th.addEventListener('click',function(){
        var asc=!th.classList.contains('asc');
        Array.prototype.forEach.call(ths,function(h){h.classList.remove('asc','desc');});
        th.classList.add(asc?'asc':'desc');
        var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
        var num=rows.every(function(r){var v=val(r.cells[i]);return v===''||!isNaN(Number(v));});
        rows.sort(function(a,b){
          var x=val(a.cells[i]),y=val(b.cells[i]);
          if(num){if(x===''&&y==='')return 0;if(x==='')return 1;if(y==='')return -1;
            return asc?Number(x)-Number(y):Number(y)-Number(x);}
          return asc?x.localeCompare(y,'zh'):y.localeCompare(x,'zh');
        });
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
  });
})();
"""

_CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
        "img-src data:")


def _e(text: Any) -> str:
    return escape(str(text), quote=True)


def _sort_value(value: Any, how: str) -> str | None:
    if missing(value):
        return ""
    if how in ("int", "score", "num", "pct", "dpct", "delta", "delta_bad", "delta_int"):
        return repr(float(value))
    if how in ("date", "datetime"):
        return value.isoformat()
    return None


def html_table(report: Report, table: Table) -> str:
    cols = list(table.frame.columns)
    out = [f'<table class="sortable" id="tbl-{_e(table.key)}"><thead><tr>']
    out += [f"<th>{_e(h)}</th>" for h in headers(report, table)]
    out.append("</tr></thead><tbody>")
    for i, (row, rec) in enumerate(zip(text_rows(report, table),
                                       table.frame.itertuples(index=False), strict=True)):
        out.append("<tr>")
        for col, (text, shade), value in zip(cols, row, rec, strict=True):
            how = cell_kind(table, i, col)
            classes = []
            if how not in ("text", "label", "bool", "date", "datetime"):
                classes.append("n")
            if shade:
                classes.append(shade)
            if col == "evidence":
                classes.append("ev")
            sv = _sort_value(value, how)
            attrs = f' class="{" ".join(classes)}"' if classes else ""
            if sv is not None:
                attrs += f' data-v="{_e(sv)}"'
            out.append(f"<td{attrs}>{_e(text)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _cards(report: Report) -> str:
    table = report.tables["t_headline"]
    rows = text_rows(report, table)
    out = ['<div class="cards">']
    for row in rows:
        metric, cur, prev, change = row
        out.append(f'<div class="card"><div class="k">{_e(metric[0])}</div>'
                   f'<div class="v {cur[1] or ""}">{_e(cur[0])}</div>'
                   f'<div class="d {change[1] or ""}">{_e(change[0])} · '
                   f'{_e(report.label("prev"))} {_e(prev[0])}</div></div>')
    out.append("</div>")
    return "".join(out)


def daily_chart(report: Report) -> str:
    """Mean score (line) and pass rate (bars) per day, both on a 0–100 scale."""
    daily = report.daily
    n = len(daily)
    w, h, left, top, bottom = max(360, 70 * n + 60), 240, 40, 16, 40
    ph = h - top - bottom
    step = (w - left - 20) / max(n, 1)

    def y(v: float) -> float:
        return top + ph * (1 - v / 100)

    parts = [f'<svg id="chart-daily" xmlns="http://www.w3.org/2000/svg" width="{w}" '
             f'height="{h}" viewBox="0 0 {w} {h}" role="img">',
             f"<title>{_e(report.label('chart_daily'))}</title>"]
    for v in (0, 25, 50, 75, 100):
        parts.append(f'<line x1="{left}" x2="{w - 20}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                     f'stroke="#eaeef2"/><text x="{left - 6}" y="{y(v) + 4:.1f}" '
                     f'text-anchor="end">{v}</text>')
    pm = report.pass_mark
    parts.append(f'<line class="pass-mark" x1="{left}" x2="{w - 20}" y1="{y(pm):.1f}" '
                 f'y2="{y(pm):.1f}" stroke="#cf222e" stroke-dasharray="4 3"/>')
    points: list[tuple[float, float, Any, bool]] = []
    gap = True
    recs: list[dict[str, Any]] = daily.to_dict("records")  # type: ignore[assignment]
    for i, rec in enumerate(recs):
        cx = left + step * (i + 0.5)
        if not missing(rec["pass_rate"]):
            bh = ph * float(rec["pass_rate"])
            parts.append(f'<rect class="bar" x="{cx - step * 0.3:.1f}" y="{top + ph - bh:.1f}" '
                         f'width="{step * 0.6:.1f}" height="{bh:.1f}" fill="#b6e3ff">'
                         f'<title>{_e(report.label("pass_rate"))} '
                         f'{_e(format_cell(rec["pass_rate"], "pct", report.lang))}</title></rect>')
        if not missing(rec["mean_score"]):
            points.append((cx, y(float(rec["mean_score"])), rec, gap))
            gap = False
        else:
            gap = True  # a day without calls breaks the line
        parts.append(f'<text x="{cx:.1f}" y="{h - 22}" text-anchor="middle">'
                     f'{_e(rec["date"].strftime("%m-%d"))}</text><text x="{cx:.1f}" y="{h - 8}" '
                     f'text-anchor="middle">{_e(rec["weekday"])}</text>')
    if points:
        d = " ".join(f"{'M' if starts else 'L'}{x:.1f},{yy:.1f}" for x, yy, _, starts in points)
        parts.append(f'<path class="line" d="{d}" fill="none" stroke="#0969da" '
                     f'stroke-width="2"/>')
        for x, yy, rec, _ in points:
            parts.append(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="3.5" fill="#0969da">'
                         f'<title>{_e(rec["date"].isoformat())} {_e(report.label("mean_score"))} '
                         f'{_e(format_cell(rec["mean_score"], "score", report.lang))}</title>'
                         f'</circle>')
    parts.append("</svg>")
    legend = (f'<div class="hint"><span style="color:#0969da">━</span> '
              f'{_e(report.label("mean_score"))} &nbsp; <span style="color:#b6e3ff">█</span> '
              f'{_e(report.label("pass_rate"))} &nbsp; <span style="color:#cf222e">┅</span> '
              f'{_e(report.label("pass_mark"))} {report.pass_mark:g}</div>')
    return "".join(parts) + legend


def group_chart(report: Report) -> str:
    """Mean score per agent (or team): horizontal bars, coloured against the pass mark."""
    key = "t_agents" if report.by == "agent" else "t_teams"
    frame = report.table(key)
    name_col = "agent_id" if report.by == "agent" else "team"
    n = len(frame)
    row_h, left, w = 22, 170, 560
    h = row_h * n + 30
    scale = (w - left - 50) / 100

    parts = [f'<svg id="chart-groups" xmlns="http://www.w3.org/2000/svg" width="{w}" '
             f'height="{h}" viewBox="0 0 {w} {h}" role="img">',
             f"<title>{_e(report.label('chart_groups_' + report.by))}</title>"]
    colours = {"bad": "#ff8182", "warn": "#eac54f", "good": "#4ac26b"}
    rows: list[dict[str, Any]] = frame.to_dict("records")  # type: ignore[assignment]
    for i, row in enumerate(rows):
        score = float(row["mean_score"])
        name = str(row[name_col])
        if report.by == "agent" and row.get("agent_name"):
            name = f"{row['agent_name']} ({name})"
        yy = 10 + i * row_h
        colour = colours[tone(score, "score", report.pass_mark) or "good"]
        parts.append(f'<text x="{left - 6}" y="{yy + 14}" text-anchor="end">{_e(name[:24])}</text>'
                     f'<rect class="bar" x="{left}" y="{yy + 3}" width="{score * scale:.1f}" '
                     f'height="{row_h - 6}" fill="{colour}"><title>{_e(name)} '
                     f'{_e(format_cell(score, "score", report.lang))}</title></rect>'
                     f'<text x="{left + score * scale + 4:.1f}" y="{yy + 14}">'
                     f'{_e(format_cell(score, "score", report.lang))}</text>')
    px = left + report.pass_mark * scale
    parts.append(f'<line class="pass-mark" x1="{px:.1f}" x2="{px:.1f}" y1="6" y2="{h - 18}" '
                 f'stroke="#cf222e" stroke-dasharray="4 3"/>'
                 f'<text x="{px:.1f}" y="{h - 6}" text-anchor="middle">{report.pass_mark:g}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _worst_calls(report: Report) -> str:
    lab = report.label
    out = []
    for c in report.worst_calls:
        verdict = lab("v_vetoed") if c["vetoed"] else lab("v_passed" if c["passed"] else "v_failed")
        who = f"{c['agent_name']} ({c['agent_id']})" if c["agent_name"] else c["agent_id"]
        score = format_cell(c["score"], "score", report.lang)
        tone_cls = "bad" if c["score"] < report.pass_mark or c["vetoed"] else "warn"
        team = c["team"] or lab("no_team")
        out.append(f'<div class="call"><h3>{_e(c["call_id"])} · {_e(who)} · {_e(team)} · '
                   f'{_e(format_cell(c["started"], "datetime", report.lang))} · '
                   f'{_e(lab("score"))} <span class="{tone_cls}">{_e(score)}</span> '
                   f'{_e(verdict)}</h3>')
        out.append(f'<table class="findings"><thead><tr><th>{_e(lab("at"))}</th>'
                   f'<th>{_e(lab("speaker"))}</th><th>{_e(lab("rule_name"))}</th>'
                   f'<th>{_e(lab("evidence"))}</th><th>{_e(lab("message"))}</th></tr></thead>'
                   "<tbody>")
        for f in c["findings"]:
            speaker = lab(f["speaker"]) if f["speaker"] else ""
            out.append(f'<tr><td>{_e(f["at"])}</td><td>{_e(speaker)}</td>'
                       f'<td>{_e(f["rule_name"])}</td><td class="ev">{_e(f["evidence"])}</td>'
                       f'<td>{_e(f["message"])}</td></tr>')
        out.append("</tbody></table></div>")
    return "".join(out)


def _keywords(report: Report) -> str:
    frame = report.table("t_keywords")
    if not len(frame):
        return ""
    top = float(frame["weight"].max()) or 1.0
    chips = "".join(f'<span class="kw" style="font-size:{12 + 14 * math.sqrt(w / top):.0f}px">'
                    f"{_e(k)}</span>" for k, w in zip(frame["keyword"], frame["weight"],
                                                      strict=True))
    return f"<div>{chips}</div>"


def render_html(report: Report) -> str:
    """The whole page as a string."""
    lab = report.label
    lang = "zh-CN" if report.lang == "zh" else "en"
    title = f"{lab('title')} {report.period.name}"
    body = [f"<h1>{_e(title)}</h1>", f'<div class="meta">{_e(period_line(report))}</div>']
    body += [f'<div class="note">{_e(n)}</div>' for n in report.notes]
    body.append(_cards(report))
    body.append(f"<h2>{_e(lab('chart_daily'))}</h2>{daily_chart(report)}")
    body.append(f"<h2>{_e(lab('chart_groups_' + report.by))}</h2>{group_chart(report)}")
    body.append(f'<p class="hint">{_e(lab("sort_hint"))}</p>')
    for key, table in report.tables.items():
        if key == "t_headline":
            continue
        body.append(f'<h2 id="sec-{_e(key)}">{_e(lab(key))}</h2>')
        if key == "t_worst":
            body.append(_worst_calls(report) or f"<p>{_e(lab('no_data'))}</p>")
            continue
        if key == "t_keywords":
            body.append(_keywords(report))
        body.append(html_table(report, table) if len(table.frame)
                    else f"<p>{_e(lab('no_data'))}</p>")
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
            + "\n".join(body) + f"<script>{_JS}</script></body></html>\n")
