"""The report as an Excel workbook: one sheet per table (xlsxwriter).

Every cell is written with an explicit type: numbers as numbers (with a number format),
dates and times as Excel dates, yes/no as booleans, and all text with ``write_string`` (the
workbook is also opened with ``strings_to_formulas`` off), so a transcript line or name that
starts with ``= + - @`` is text in Excel, never a formula. Each sheet has its header row frozen,
an autofilter, column widths from its content, and scores coloured against the pass mark.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import xlsxwriter

from csqa.weekly.build import Report, Table
from csqa.weekly.cells import cell_kind, format_cell, missing
from csqa.weekly.html import Links

_NUMBER_FORMATS = {
    "int": "0", "delta_int": "+0;-0;0", "score": "0.00", "num": "0.0#",
    "pct": "0.0%", "dpct": "+0.0%;-0.0%;0.0%", "delta": "+0.00;-0.00;0", "delta_bad": "+0.0;-0.0;0",
    "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm",
}
_FILLS = {"bad": ("#FFC7CE", "#9C0006"), "warn": ("#FFEB9C", "#9C5700"),
          "good": ("#C6EFCE", "#006100")}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _Writer:
    def __init__(self, report: Report, path: Path, links: Links | None = None) -> None:
        self.report = report
        self.links = links
        self.wb = xlsxwriter.Workbook(str(path), {
            "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
        })
        self.header = self.wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                          "text_wrap": True, "valign": "top"})
        self.text = self.wb.add_format({"valign": "top"})
        self.title = self.wb.add_format({"bold": True, "font_size": 16})
        self.url = self.wb.add_format({"font_color": "#0969DA", "underline": 1, "valign": "top"})
        self.fmt = {k: self.wb.add_format({"num_format": v, "valign": "top"})
                    for k, v in _NUMBER_FORMATS.items()}
        self.fill = {k: self.wb.add_format({"bg_color": bg, "font_color": fg})
                     for k, (bg, fg) in _FILLS.items()}

    def write(self, value: Any, ws: Any, r: int, c: int, how: str) -> str:
        """Write one cell; returns its text (for the column width)."""
        lang = self.report.lang
        if missing(value):
            ws.write_blank(r, c, None, self.fmt.get(how, self.text))
            return ""
        if how in ("int", "delta_int"):
            ws.write_number(r, c, int(value), self.fmt[how])
        elif how in ("score", "num", "pct", "dpct", "delta", "delta_bad"):
            ws.write_number(r, c, float(value), self.fmt[how])
        elif how == "date" and isinstance(value, date):
            ws.write_datetime(r, c, datetime.combine(value, time()), self.fmt["date"])
        elif how == "datetime" and isinstance(value, datetime):
            ws.write_datetime(r, c, value, self.fmt["datetime"])
        elif how == "bool":
            ws.write_boolean(r, c, bool(value), self.text)
        else:
            ws.write_string(r, c, format_cell(value, how, lang), self.text)
        return format_cell(value, how, lang)

    def sheet(self, table: Table) -> None:
        report = self.report
        ws = self.wb.add_worksheet(report.label(table.key)[:31])
        frame = table.frame
        cols = list(frame.columns)
        # the first sheet opens with the title and the period above its table
        top = 3 if table.key == "t_headline" else 0
        if top:
            from csqa.weekly.cells import period_line

            ws.write_string(0, 0, report.title, self.title)
            ws.write_string(1, 0, period_line(report), self.text)
        widths = [_width(report.label(c)) for c in cols]
        for c, col in enumerate(cols):
            ws.write_string(top, c, report.label(col), self.header)
        for r, rec in enumerate(frame.itertuples(index=False)):
            for c, (col, value) in enumerate(zip(cols, rec, strict=True)):
                text = self.write(value, ws, top + r + 1, c, cell_kind(table, r, col))
                widths[c] = max(widths[c], _width(text))
                self.link(ws, table, top + r + 1, c, col, value, rec)
        for c, w in enumerate(widths):
            ws.set_column(c, c, min(max(w + 2, 6), 60))
        n = len(frame)
        # header row and first column stay in view (15 columns of agents scroll sideways)
        ws.freeze_panes(top + 1, 0 if top else 1)
        ws.autofilter(top, 0, top + max(n, 1), len(cols) - 1)
        if n:
            self.colour(ws, table, n, top)
            self.chart(ws, table, n, len(cols))
        if table.key == "t_headline":
            self.footer(ws, top + n + 2)

    def link(self, ws: Any, table: Table, r: int, c: int, col: str, value: Any,
             rec: Any) -> None:
        """A call id or an agent id as a hyperlink to its page of the drill-down folder."""
        if self.links is None or missing(value):
            return
        if col == "call_id":
            href = self.links.calls.get(str(value))
        elif (col, table.key) == ("agent_id", "t_agents") or (
                (col, table.key) == ("who", "t_attention") and rec[0] == "agent"):
            href = self.links.agents.get(str(value))
        else:
            return
        if href:
            ws.write_url(r, c, f"external:{href}", self.url, string=str(value))

    def chart(self, ws: Any, table: Table, n: int, width: int) -> None:
        """Native charts: the trend (mean score line, pass rate columns) and mean score per
        team, beside their tables."""
        name = ws.get_name()
        lab = self.report.label
        if table.key == "t_daily":
            cols = list(table.frame.columns)
            cats = [name, 1, 0, n, 0]
            bars = self.wb.add_chart({"type": "column"})
            bars.add_series({"name": lab("pass_rate"), "categories": cats,
                             "values": [name, 1, cols.index("pass_rate"), n,
                                        cols.index("pass_rate")],
                             "fill": {"color": "#B6E3FF"}, "y2_axis": True})
            line = self.wb.add_chart({"type": "line"})
            line.add_series({"name": lab("mean_score"), "categories": cats,
                             "values": [name, 1, cols.index("mean_score"), n,
                                        cols.index("mean_score")],
                             "line": {"color": "#0969DA", "width": 2.25},
                             "marker": {"type": "circle"}})
            bars.combine(line)
            bars.set_title({"name": lab("chart_daily")})
            bars.set_y2_axis({"min": 0, "max": 1, "num_format": "0%"})
            line.set_y_axis({"name": lab("mean_score")})
            bars.set_x_axis({"date_axis": False, "num_format": "mm-dd"})
            bars.set_size({"width": 720, "height": 320})
            ws.insert_chart(1, width + 1, bars)
        elif table.key == "t_teams":
            cols = list(table.frame.columns)
            chart = self.wb.add_chart({"type": "bar"})
            chart.add_series({"name": lab("mean_score"),
                              "categories": [name, 1, cols.index("team"), n, cols.index("team")],
                              "values": [name, 1, cols.index("mean_score"), n,
                                         cols.index("mean_score")],
                              "data_labels": {"value": True}, "fill": {"color": "#4AC26B"}})
            chart.set_title({"name": lab("chart_groups_team")})
            chart.set_x_axis({"min": max(0, int(table.frame["mean_score"].min()) // 5 * 5 - 5),
                              "max": 100})
            chart.set_y_axis({"reverse": True})
            chart.set_legend({"none": True})
            chart.set_size({"width": 560, "height": 60 + 28 * n})
            ws.insert_chart(1, width + 1, chart)

    def colour(self, ws: Any, table: Table, n: int, top: int = 0) -> None:
        pm = self.report.pass_mark
        for c, col in enumerate(table.frame.columns):
            rows = range(n)
            if table.row_kinds is not None:
                rows = range(n) if col in ("current", "prev") else range(0)
                for r in rows:
                    if table.row_kinds[r] == "score":
                        self._score_rules(ws, top + r + 1, c, top + r + 1, c, pm)
                continue
            how = cell_kind(table, 0, col)
            if how == "score":
                self._score_rules(ws, 1, c, n, c, pm)
            elif how in ("delta", "dpct", "delta_bad"):
                worse = ">" if how == "delta_bad" else "<"
                better = "<" if how == "delta_bad" else ">"
                ws.conditional_format(1, c, n, c, {"type": "cell", "criteria": worse, "value": 0,
                                                   "format": self.fill["bad"]})
                ws.conditional_format(1, c, n, c, {"type": "cell", "criteria": better,
                                                   "value": 0, "format": self.fill["good"]})

    def _score_rules(self, ws: Any, r0: int, c0: int, r1: int, c1: int, pm: float) -> None:
        """Below the pass mark red, less than 10 above it yellow, else green (first match wins)."""
        low = int(pm) if float(pm).is_integer() else pm
        high = int(pm + 10) if float(pm).is_integer() else pm + 10
        for criteria, value, fill in (("<", low, "bad"), ("<", high, "warn"),
                                      (">=", high, "good")):
            ws.conditional_format(r0, c0, r1, c1, {"type": "cell", "criteria": criteria,
                                                   "value": value, "format": self.fill[fill],
                                                   "stop_if_true": True})

    def footer(self, ws: Any, row: int) -> None:
        """Below the headline: the notes, as text."""
        for i, line in enumerate(self.report.notes):
            ws.write_string(row + i, 0, line, self.text)

    def close(self) -> None:
        self.wb.close()


def write_xlsx(report: Report, path: Path, links: Links | None = None) -> None:
    """The workbook; with ``links`` (a drill-down folder's pages, relative to the workbook),
    call and agent ids are hyperlinks to their pages."""
    w = _Writer(report, path, links)
    for table in report.tables.values():
        w.sheet(table)
    w.close()
