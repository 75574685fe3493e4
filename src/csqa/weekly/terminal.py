"""The report on the terminal: rich tables, with sparklines for the daily trends."""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

from csqa.weekly.build import Report, Table, sparkline
from csqa.weekly.cells import headers, period_line, text_rows
from csqa.weekly.labels import kind

_STYLE = {"good": "green", "warn": "yellow", "bad": "bold red", None: ""}

#: The columns that fit a terminal; the files have them all.
TERMINAL_COLUMNS = {
    "t_agents": ["rank", "agent_id", "agent_name", "calls", "mean_score", "pass_rate",
                 "d_mean_score", "top_rules"],
    "t_teams": ["rank", "team", "calls", "mean_score", "pass_rate", "d_mean_score",
                "top_rules"],
    "t_rules": ["rule_id", "rule_name", "hits", "calls_affected", "per_100", "d_per_100", "trend"],
    "t_worst": ["call_id", "score", "at", "rule_name", "evidence"],
    "t_runs": ["run", "audited_at", "ruleset_hash", "calls_used", "status"],
}


def _narrow(table: Table) -> Table:
    cols = TERMINAL_COLUMNS.get(table.key)
    if cols is None:
        return table
    return Table(table.key, table.frame[cols], table.row_kinds)


def rich_table(report: Report, table: Table) -> RichTable:
    out = RichTable(title=report.label(table.key), title_justify="left")
    for col, head in zip(table.frame.columns, headers(report, table), strict=True):
        numeric = kind(col) not in ("text", "label", "bool", "date", "datetime") or (
            table.row_kinds is not None and col != "metric")
        fixed = numeric or col in ("trend", "call_id", "date", "started", "audited_at", "rank")
        out.add_column(head, justify="right" if numeric else "left", no_wrap=fixed,
                       min_width=cell_len(head) if fixed else None)
    for row in text_rows(report, table):
        out.add_row(*[Text(text, style=_STYLE[t]) for text, t in row])
    return out


def render_terminal(report: Report) -> RenderableType:
    """Everything, top to bottom: the period, notes, sparklines, then every table."""
    daily = report.daily
    lines = [Text(report.title, style="bold"),
             Text(period_line(report), style="dim")]
    for note in report.notes:
        lines.append(Text("! " + note, style="yellow"))
    lines.append(Text(f"{report.label('chart_daily')}: "
                      f"{report.label('mean_score')} {sparkline(daily['mean_score'].tolist())}  "
                      f"{report.label('pass_rate')} {sparkline(daily['pass_rate'].tolist())}"))
    parts: list[RenderableType] = [*lines]
    for table in report.tables.values():
        if len(table.frame):
            parts.append(rich_table(report, _narrow(table)))
        else:
            parts.append(Text(f"{report.label(table.key)}: {report.label('no_data')}"))
    return Group(*parts)
