"""The report as Markdown: the same tables, for pasting into chat or a wiki.

Cell text is escaped so that a transcript line can neither break the table (``|``, newlines)
nor become HTML where the wiki renders it (``<``, ``>``, ``&``).
"""

from __future__ import annotations

from csqa.weekly.build import Report, Table
from csqa.weekly.cells import headers, period_line, text_rows
from csqa.weekly.labels import kind

_ESCAPES = str.maketrans({"|": "\\|", "<": "&lt;", ">": "&gt;", "&": "&amp;", "\n": " ",
                          "\r": " ", "`": "\\`", "*": "\\*", "_": "\\_", "[": "\\[", "]": "\\]"})


def md_escape(text: str) -> str:
    return text.translate(_ESCAPES)


def md_table(report: Report, table: Table) -> str:
    cols = list(table.frame.columns)
    head = "| " + " | ".join(md_escape(h) for h in headers(report, table)) + " |"
    align = "|" + "|".join("---:" if kind(c) not in ("text", "label", "bool", "date", "datetime")
                           or (table.row_kinds is not None and c != "metric") else "---"
                           for c in cols) + "|"
    lines = [head, align]
    for row in text_rows(report, table):
        lines.append("| " + " | ".join(md_escape(text) for text, _ in row) + " |")
    return "\n".join(lines)


def render_markdown(report: Report) -> str:
    parts = [f"# {md_escape(report.title)}", "",
             md_escape(period_line(report)), ""]
    for note in report.notes:
        parts += [f"> {md_escape(note)}", ""]
    for key, table in report.tables.items():
        parts += [f"## {md_escape(report.label(key))}", ""]
        if len(table.frame):
            parts += [md_table(report, table), ""]
        else:
            parts += [f"*{md_escape(report.label('no_data'))}*", ""]
    return "\n".join(parts)
