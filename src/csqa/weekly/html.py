"""The report as one self-contained HTML page: inline CSS, inline SVG charts, a little inline JS.

Nothing is fetched: no fonts, scripts or images from anywhere (a Content-Security-Policy
``default-src 'none'`` makes the browser refuse any request). Every piece of text from the
runs (names, transcript lines, messages, paths) goes through :func:`html.escape`, so a
transcript line ``<script>…`` is shown as text. Tables sort when a header is clicked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
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
svg a text,svg text a{fill:#0969da}a{color:#0969da}
#attention{margin:6px 0 12px;padding-left:22px;font-size:14px}#attention li{margin:3px 0}
.filters{display:flex;gap:14px;flex-wrap:wrap;margin:12px 0;padding:8px 10px;
background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;font-size:13px}
svg{max-width:100%;height:auto}
@media print{.filters,.hint{display:none}}
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

_FILTER_JS = """
(function(){
  var bar=document.getElementById('filters');if(!bar)return;
  function v(id){return document.getElementById(id).value;}
  function apply(){
    var team=v('f-team'),agent=v('f-agent'),rule=v('f-rule'),q=v('f-q').trim().toLowerCase();
    document.querySelectorAll('[data-f]').forEach(function(el){
      var d=el.dataset,ok=true;
      if(team&&d.team!==undefined&&d.team!==team)ok=false;
      if(agent&&d.agent!==undefined&&d.agent!==agent)ok=false;
      if(rule&&d.rules!==undefined&&d.rules.split('|').indexOf(rule)<0)ok=false;
      if(q&&el.textContent.toLowerCase().indexOf(q)<0)ok=false;
      el.style.display=ok?'':'none';
    });
  }
  bar.addEventListener('input',apply);bar.addEventListener('change',apply);
})();
"""

_CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
        "img-src data:")


def _e(text: Any) -> str:
    return escape(str(text), quote=True)


@dataclass(frozen=True)
class Links:
    """Where a drill-down report's rows link to: agent and call pages, relative to the page.
    Only what has a page is linked, so every link opens a file."""

    agents: dict[str, str] = field(default_factory=dict)
    calls: dict[str, str] = field(default_factory=dict)

    def a(self, kind: str, key: Any, text: str) -> str:
        """``text`` (escaped) as a link to the page of ``key``, or as is when it has none."""
        href = (self.agents if kind == "agent" else self.calls).get(str(key))
        return f'<a href="{_e(href)}">{_e(text)}</a>' if href else _e(text)


def _row_data(table: Table, rec: dict[str, Any]) -> str:
    """The attributes the filters read (``data-team``, ``data-agent``, ``data-rules``)."""
    attrs: dict[str, str] = {}
    if table.key in ("t_agents", "t_worst"):
        attrs = {"agent": str(rec["agent_id"]), "team": str(rec["team"])}
    elif table.key == "t_teams":
        attrs = {"team": str(rec["team"])}
    elif table.key == "t_rules":
        attrs = {"rules": str(rec["rule_name"])}
    elif table.key == "t_attention":
        if rec["kind"] == "agent":
            attrs = {"agent": str(rec["who"]), "team": str(rec["team"])}
        elif rec["kind"] == "team":
            attrs = {"team": str(rec["who"])}
        else:
            attrs = {"rules": str(rec["name"])}
    if table.key in ("t_agents", "t_teams") and rec.get("top_rules"):
        attrs["rules"] = "|".join(part.rsplit(" ×", 1)[0]
                                  for part in str(rec["top_rules"]).split("; "))
    if not attrs:
        return ""
    return " data-f" + "".join(f' data-{k}="{_e(v)}"' for k, v in attrs.items())


def _linked(table: Table, col: str, rec: dict[str, Any], text: str, links: Links | None) -> str:
    if links is None:
        return _e(text)
    if col == "agent_id" and table.key == "t_agents":
        return links.a("agent", rec[col], text)
    if col == "who" and table.key == "t_attention" and rec["kind"] == "agent":
        return links.a("agent", rec[col], text)
    if col == "call_id" and rec.get(col):
        return links.a("call", rec[col], text)
    return _e(text)


def _sort_value(value: Any, how: str) -> str | None:
    if missing(value):
        return ""
    if how in ("int", "score", "num", "pct", "dpct", "delta", "delta_bad", "delta_int"):
        return repr(float(value))
    if how in ("date", "datetime"):
        return value.isoformat()
    return None


def html_table(report: Report, table: Table, links: Links | None = None) -> str:
    cols = list(table.frame.columns)
    out = [f'<table class="sortable" id="tbl-{_e(table.key)}"><thead><tr>']
    out += [f"<th>{_e(h)}</th>" for h in headers(report, table)]
    out.append("</tr></thead><tbody>")
    for i, (row, rec) in enumerate(zip(text_rows(report, table),
                                       table.frame.itertuples(index=False), strict=True)):
        values = dict(zip(cols, rec, strict=True))
        out.append(f"<tr{_row_data(table, values)}>")
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
            out.append(f"<td{attrs}>{_linked(table, col, values, text, links)}</td>")
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
    # A bucket is 70 px wide for a week of days, narrower for many (the SVG scales to the page,
    # never wider than it); labels are thinned so they do not run into each other.
    step = max(18.0, min(70.0, 1100 / max(n, 1)))
    w, h, left, top, bottom = max(360, int(step * n) + 60), 240, 40, 16, 40
    ph = h - top - bottom
    every = max(1, math.ceil(44 / step))

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
        if i % every == 0:
            parts.append(f'<text x="{cx:.1f}" y="{h - 22}" text-anchor="middle">'
                         f'{_e(rec["date"].strftime("%m-%d"))}</text><text x="{cx:.1f}" '
                         f'y="{h - 8}" text-anchor="middle">{_e(rec["weekday"])}</text>')
    # where the ruleset that scored the calls changes: a dashed line and the new version
    last = ""
    for i, rec in enumerate(recs):
        version = str(rec.get("ruleset") or "")
        if version and last and version != last:
            cx = left + step * i
            parts.append(f'<line class="ruleset-change" x1="{cx:.1f}" x2="{cx:.1f}" y1="{top}" '
                         f'y2="{top + ph}" stroke="#8250df" stroke-dasharray="2 3"><title>'
                         f'{_e(report.label("ruleset_change"))}: {_e(version)}</title></line>')
        last = version or last
    if points:
        d = " ".join(f"{'M' if starts else 'L'}{x:.1f},{yy:.1f}" for x, yy, _, starts in points)
        parts.append(f'<path class="line" d="{d}" fill="none" stroke="#0969da" '
                     f'stroke-width="2"/>')
        for x, yy, rec, _ in points:
            parts.append(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="3.5" fill="#0969da">'
                         f'<title>{_e(rec["date"].isoformat())} {_e(report.label("mean_score"))} '
                         f'{_e(format_cell(rec["mean_score"], "score", report.lang))}</title>'
                         f'</circle>')
    if "separate_mean" in daily:  # rulesets that could not be scored again: their own line
        apart = [(left + step * (i + 0.5), y(float(rec["separate_mean"])))
                 for i, rec in enumerate(recs) if not missing(rec["separate_mean"])]
        d = " ".join(f"{'M' if j == 0 else 'L'}{x:.1f},{yy:.1f}" for j, (x, yy) in enumerate(apart))
        parts.append(f'<path class="separate" d="{d}" fill="none" stroke="#8250df" '
                     f'stroke-width="2" stroke-dasharray="5 3"/>')
        parts += [f'<circle class="separate" cx="{x:.1f}" cy="{yy:.1f}" r="3" fill="#8250df"/>'
                  for x, yy in apart]
    parts.append("</svg>")
    legend = (f'<div class="hint"><span style="color:#0969da">━</span> '
              f'{_e(report.label("mean_score"))} &nbsp; <span style="color:#b6e3ff">█</span> '
              f'{_e(report.label("pass_rate"))} &nbsp; <span style="color:#cf222e">┅</span> '
              f'{_e(report.label("pass_mark"))} {report.pass_mark:g}'
              + (f' &nbsp; <span style="color:#8250df">┅</span> '
                 f'{_e(report.label("separate_mean"))}' if "separate_mean" in daily else "")
              + "</div>")
    return "".join(parts) + legend


#: More agents (or teams) than this and the chart shows the bottom and top halves of it.
CHART_ROWS = 30


def group_chart(report: Report, links: Links | None = None) -> str:
    """Mean score per agent (or team) as dots around the pass mark, on an axis that starts
    just below the lowest score (not at 0), so 83.5 and 86.8 look different; with more than
    :data:`CHART_ROWS` rows, the bottom and the top 15 are drawn and the chart says so."""
    key = "t_agents" if report.by == "agent" else "t_teams"
    frame = report.table(key)
    name_col = "agent_id" if report.by == "agent" else "team"
    if not len(frame):
        return ""
    rows: list[dict[str, Any]] = frame.to_dict("records")  # type: ignore[assignment]
    hidden = 0
    if len(rows) > CHART_ROWS:
        half = CHART_ROWS // 2
        hidden = len(rows) - 2 * half
        rows = [*rows[:half], {}, *rows[-half:]]  # {}: the gap between top and bottom
    scores = [float(r["mean_score"]) for r in rows if r]
    lo = max(0.0, math.floor(min([*scores, report.pass_mark]) / 5) * 5 - 5)
    row_h, left, w = 20, 190, 640
    h = row_h * len(rows) + 36
    scale = (w - left - 60) / (100 - lo)

    def x(v: float) -> float:
        return left + (v - lo) * scale

    parts = [f'<svg id="chart-groups" xmlns="http://www.w3.org/2000/svg" width="{w}" '
             f'height="{h}" viewBox="0 0 {w} {h}" role="img">',
             f"<title>{_e(report.label('chart_groups_' + report.by))}</title>"]
    for v in range(int(lo), 101, 5):
        parts.append(f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="6" y2="{h - 24}" '
                     f'stroke="#eaeef2"/><text x="{x(v):.1f}" y="{h - 10}" '
                     f'text-anchor="middle">{v}</text>')
    colours = {"bad": "#cf222e", "warn": "#bf8700", "good": "#1a7f37"}
    px = x(report.pass_mark)
    for i, row in enumerate(rows):
        yy = 10 + i * row_h
        if not row:
            parts.append(f'<text class="gap" x="{left - 6}" y="{yy + 13}" text-anchor="end">'
                         f"⋯ {hidden} ⋯</text>")
            continue
        score = float(row["mean_score"])
        name = str(row[name_col])
        if report.by == "agent" and row.get("agent_name"):
            name = f"{row['agent_name']} ({name})"
        colour = colours[tone(score, "score", report.pass_mark) or "good"]
        label_text = _e(name[:26])
        if links is not None and report.by == "agent":
            label_text = links.a("agent", row[name_col], name[:26])
        shown = _e(format_cell(score, "score", report.lang))
        parts.append(f'<text x="{left - 6}" y="{yy + 13}" text-anchor="end">{label_text}</text>'
                     f'<line x1="{px:.1f}" x2="{x(score):.1f}" y1="{yy + 9}" y2="{yy + 9}" '
                     f'stroke="{colour}" stroke-width="2"/>'
                     f'<circle class="dot" cx="{x(score):.1f}" cy="{yy + 9}" r="5" '
                     f'fill="{colour}"><title>{_e(name)} {shown}</title></circle>'
                     f'<text x="{x(score) + (8 if score >= report.pass_mark else -8):.1f}" '
                     f'y="{yy + 13}" text-anchor="{"start" if score >= report.pass_mark else "end"}"'
                     f">{shown}</text>")
    parts.append(f'<line class="pass-mark" x1="{px:.1f}" x2="{px:.1f}" y1="6" y2="{h - 24}" '
                 f'stroke="#cf222e" stroke-dasharray="4 3"/>')
    parts.append("</svg>")
    note = ""
    if hidden:
        note = (f'<p class="hint">{_e(report.label("chart_top_bottom"))} '
                f"{CHART_ROWS // 2} · {len(frame)}</p>")
    return "".join(parts) + note


def _worst_calls(report: Report, links: Links | None = None) -> str:
    lab = report.label
    out = []
    for c in report.worst_calls:
        rules = "|".join(sorted({f["rule_name"] for f in c["findings"]}))
        call_text = links.a("call", c["call_id"], c["call_id"]) if links else _e(c["call_id"])
        verdict = lab("v_vetoed") if c["vetoed"] else lab("v_passed" if c["passed"] else "v_failed")
        who = f"{c['agent_name']} ({c['agent_id']})" if c["agent_name"] else c["agent_id"]
        score = format_cell(c["score"], "score", report.lang)
        tone_cls = "bad" if c["score"] < report.pass_mark or c["vetoed"] else "warn"
        team = c["team"] or lab("no_team")
        out.append(f'<div class="call" data-f data-agent="{_e(c["agent_id"])}" '
                   f'data-team="{_e(c["team"])}" data-rules="{_e(rules)}">'
                   f'<h3>{call_text} · {_e(who)} · {_e(team)} · '
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


#: Attention items listed at the top; the rest are counted (and all are in the xlsx sheet).
ATTENTION_SHOWN = 12


def attention_list(report: Report, links: Links | None = None) -> str:
    """需要关注 as a short list: who, the reason in one line, and the call to open."""
    frame = report.tables["t_attention"].frame if "t_attention" in report.tables else None
    if frame is None or not len(frame):
        return f'<p class="hint" id="attention-none">{_e(report.label("attention_none"))}</p>'
    items = []
    table = report.tables["t_attention"]
    recs: list[dict[str, Any]] = frame.to_dict("records")  # type: ignore[assignment]
    for rec in recs[:ATTENTION_SHOWN]:
        kind = str(rec["kind"])
        who = f"{rec['name']} ({rec['who']})" if rec["name"] and kind == "agent" else \
            str(rec["name"] or rec["who"])
        shown = links.a("agent", rec["who"], who) if links and kind == "agent" else _e(who)
        team = f" · {_e(rec['team'])}" if rec["team"] else ""
        call = ""
        if rec["call_id"]:
            call_text = f"{report.label('open_call')} {rec['call_id']}"
            call = " · " + (links.a("call", rec["call_id"], call_text) if links
                            else _e(call_text))
        items.append(f"<li{_row_data(table, rec)}><b>{_e(report.label(kind))}</b> {shown}{team}"
                     f":{_e(rec['reason'])}{call}</li>")
    more = len(recs) - ATTENTION_SHOWN
    if more > 0:
        items.append(f'<li class="hint">{_e(report.label("attention_more"))} {more}</li>')
    return f'<ol id="attention">{"".join(items)}</ol>'


def filter_bar(report: Report) -> str:
    """Team, agent and rule filters and a search box; they hide the rows that do not match."""
    lab = report.label

    def select(ident: str, what: str, options: list[tuple[str, str]]) -> str:
        opts = "".join(f'<option value="{_e(v)}">{_e(t)}</option>' for v, t in options)
        return (f'<label>{_e(lab(what))} <select id="{ident}"><option value="">'
                f'{_e(lab("all"))}</option>{opts}</select></label>')

    agents = report.table("t_agents")
    teams = sorted({str(t) for t in report.table("t_teams")["team"]})
    rules = [str(r) for r in report.table("t_rules")["rule_name"]]
    people = sorted((str(a), f"{n} ({a})" if n else str(a))
                    for a, n in zip(agents.get("agent_id", []), agents.get("agent_name", []),
                                    strict=True))
    return (f'<div id="filters" class="filters">{select("f-team", "team", [(t, t) for t in teams])}'
            f'{select("f-agent", "agent_id", people)}'
            f'{select("f-rule", "rule_name", [(r, r) for r in rules])}'
            f'<label>{_e(lab("search"))} <input id="f-q" type="search"></label></div>')


def page(title: str, body: list[str], lang: str = "zh", script: str = "", css: str = "") -> str:
    """A whole self-contained page: inline CSS (the report's, then ``css``) and script, a CSP
    that forbids any request."""
    html_lang = "zh-CN" if lang == "zh" else "en"
    js = f"<script>{script}</script>" if script else ""
    return (f'<!DOCTYPE html>\n<html lang="{html_lang}"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}{css}</style></head><body>"
            + "\n".join(body) + f"{js}</body></html>\n")


def render_html(report: Report, links: Links | None = None) -> str:
    """The whole page as a string; with ``links``, agent rows, worst calls and attention items
    link to the agent and call pages of a drill-down folder."""
    lab = report.label
    body = [f"<h1>{_e(report.title)}</h1>", f'<div class="meta">{_e(period_line(report))}</div>']
    body += [f'<div class="note">{_e(n)}</div>' for n in report.notes]
    body.append(_cards(report))
    body.append(f'<h2 id="sec-t_attention">{_e(lab("t_attention"))}</h2>'
                f"{attention_list(report, links)}")
    body.append(filter_bar(report))
    daily = daily_chart(report) if report.daily["calls"].sum() else ""
    body.append(f"<h2>{_e(lab('chart_daily'))}</h2>{daily or _no_data(report)}")
    body.append(f"<h2>{_e(lab('chart_groups_' + report.by))}</h2>"
                f"{group_chart(report, links) or _no_data(report)}")
    body.append(f'<p class="hint">{_e(lab("sort_hint"))}</p>')
    for key, table in report.tables.items():
        if key in ("t_headline", "t_attention"):
            continue
        body.append(f'<h2 id="sec-{_e(key)}">{_e(lab(key))}</h2>')
        if key == "t_worst":
            body.append(_worst_calls(report, links) or _no_data(report))
            continue
        if key == "t_keywords":
            body.append(_keywords(report))
        body.append(html_table(report, table, links) if len(table.frame) else _no_data(report))
    return page(report.title, body, report.lang, _JS + _FILTER_JS)


def _no_data(report: Report) -> str:
    return f"<p>{_e(report.label('no_data'))}</p>"
