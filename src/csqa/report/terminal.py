"""The report on the terminal: rich tables, with sparklines for the daily trends."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

from csqa.report.build import Report, Table, sparkline
from csqa.report.cells import headers, period_line, text_rows
from csqa.report.labels import kind

_STYLE = {"good": "green", "warn": "yellow", "bad": "bold red", None: ""}


def rich_table(report: Report, table: Table) -> RichTable:
    out = RichTable(title=report.label(table.key), title_justify="left")
    for col, head in zip(table.frame.columns, headers(report, table), strict=True):
        numeric = kind(col) not in ("text", "label", "bool", "date", "datetime") or (
            table.row_kinds is not None and col != "metric")
        out.add_column(head, justify="right" if numeric else "left",
                       no_wrap=col in ("trend", "call_id", "date", "started"))
    for row in text_rows(report, table):
        out.add_row(*[Text(text, style=_STYLE[t]) for text, t in row])
    return out


def render_terminal(report: Report) -> RenderableType:
    """Everything, top to bottom: the period, notes, sparklines, then every table."""
    daily = report.daily
    lines = [Text(f"{report.label('title')} {report.period.name}", style="bold"),
             Text(period_line(report), style="dim")]
    for note in report.notes:
        lines.append(Text("! " + note, style="yellow"))
    lines.append(Text(f"{report.label('chart_daily')}: "
                      f"{report.label('mean_score')} {sparkline(daily['mean_score'].tolist())}  "
                      f"{report.label('pass_rate')} {sparkline(daily['pass_rate'].tolist())}"))
    parts: list[RenderableType] = [*lines]
    for table in report.tables.values():
        if len(table.frame):
            parts.append(rich_table(report, table))
        else:
            parts.append(Text(f"{report.label(table.key)}: {report.label('no_data')}"))
    return Group(*parts)
