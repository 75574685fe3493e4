"""Table cells as text (Markdown, terminal, HTML) and their tone (good / warn / bad).

Excel gets the raw values instead (:mod:`.xlsx`), so numbers stay numbers there.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pandas as pd

from csqa.weekly.build import Report, Table
from csqa.weekly.labels import kind, label

#: The headline's change column: how a change of each row's kind is shown.
_CHANGE_KIND = {"int": "delta_int", "score": "delta", "pct": "dpct"}
#: Headline rows where a rise is bad news.
_RISE_IS_BAD = {"m_vetoes", "m_findings"}


def missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _num(value: float, digits: int, sign: bool = False) -> str:
    text = f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("+0", "-0") else text


def cell_kind(table: Table, row: int, column: str) -> str:
    """The kind of one cell: the column's, or the headline row's for its value columns."""
    if table.row_kinds is not None and column in ("current", "prev"):
        return table.row_kinds[row]
    if table.row_kinds is not None and column == "change":
        return _CHANGE_KIND[table.row_kinds[row]]
    return kind(column)


def format_cell(value: Any, how: str, lang: str) -> str:
    """``value`` as text for a cell of kind ``how``; missing values are an em dash."""
    if missing(value):
        return "—"
    if how == "int":
        return str(int(value))
    if how in ("score", "num"):
        return _num(float(value), 2)
    if how == "pct":
        return f"{float(value) * 100:.1f}%"
    if how == "dpct":
        return f"{float(value) * 100:+.1f}pp".replace("+0.0pp", "0.0pp").replace("-0.0pp", "0.0pp")
    if how in ("delta", "delta_bad"):
        return _num(float(value), 2, sign=True)
    if how == "delta_int":
        return f"{int(value):+d}" if int(value) else "0"
    if how == "date":
        return value.isoformat() if isinstance(value, date) else str(value)
    if how == "datetime":
        return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(value)
    if how == "label":
        return label(str(value), lang)
    if how == "bool":
        return label("yes" if value else "no", lang)
    return str(value)


def tone(value: Any, how: str, pass_mark: float, rise_is_bad: bool = False) -> str | None:
    """``good``, ``warn`` or ``bad`` for a coloured cell (scores and changes), else ``None``."""
    if missing(value) or how not in ("score", "delta", "dpct", "delta_bad", "delta_int"):
        return None
    v = float(value)
    if how == "score":
        return "bad" if v < pass_mark else "warn" if v < pass_mark + 10 else "good"
    if v == 0 or (how == "delta_int" and not rise_is_bad):
        return None
    bad = v > 0 if (how == "delta_bad" or rise_is_bad) else v < 0
    return "bad" if bad else "good"


def shown_columns(table: Table) -> list[str]:
    return list(table.frame.columns)


def text_rows(report: Report, table: Table) -> list[list[tuple[str, str | None]]]:
    """Every row of ``table`` as (text, tone) cells, in column order."""
    out = []
    frame = table.frame
    for i, rec in enumerate(frame.itertuples(index=False)):
        row = []
        for col, value in zip(frame.columns, rec, strict=True):
            how = cell_kind(table, i, col)
            rise_bad = table.row_kinds is not None and frame.iloc[i]["metric"] in _RISE_IS_BAD
            row.append((format_cell(value, how, report.lang),
                        tone(value, how, report.pass_mark, rise_bad)))
        out.append(row)
    return out


def headers(report: Report, table: Table) -> list[str]:
    return [report.label(c) for c in table.frame.columns]


def period_line(report: Report) -> str:
    """``统计周期 2026-W47 (2026-11-16 – 2026-11-22) · 对比周期 2026-W46 · …``."""
    p, q = report.period, report.previous
    rs = report.ruleset
    return (f"{report.label('period')} {p.name} ({p.start} – {p.end}) · {report.label('previous')} "
            f"{q.name} · {report.label('ruleset')} {rs.get('name')} {rs.get('version')} "
            f"({rs.get('hash')}) · {report.label('pass_mark')} {report.pass_mark:g} · "
            f"{report.label('timezone')} {report.tz}")
