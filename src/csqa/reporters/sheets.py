"""The one way csqa writes an .xlsx workbook of plain tables (reviews files, backtest diffs):
openpyxl in write-only mode (rows are streamed: fast and lean for big runs), a bold header
row, frozen panes and an auto-filter per table. The weekly report's formatted workbook is
:mod:`csqa.weekly.xlsx`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Sheet:
    """One sheet: a header row of ``columns`` (none: plain lines), then ``rows`` of values."""

    name: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    #: the top-left cell that is not frozen (``A2``: the header stays in view)
    freeze: str = "A2"
    #: column widths, by column letter
    widths: dict[str, float] = field(default_factory=dict)
    #: anything else to set on the sheet before its rows (e.g. a data validation)
    setup: Callable[[Any], None] | None = None


def write_sheets(path: Path, sheets: Iterable[Sheet]) -> None:
    """Write ``sheets`` to the workbook ``path`` (the caller makes the write atomic)."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = openpyxl.Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name)
        for letter, width in sheet.widths.items():
            ws.column_dimensions[letter].width = width
        if sheet.setup is not None:
            sheet.setup(ws)
        if sheet.columns:
            ws.freeze_panes = sheet.freeze
            ws.auto_filter.ref = (f"A1:{get_column_letter(len(sheet.columns))}"
                                  f"{len(sheet.rows) + 1}")
            header = []
            for c in sheet.columns:
                cell = WriteOnlyCell(ws, value=c)
                cell.font = bold
                header.append(cell)
            ws.append(header)
        for row in sheet.rows:
            ws.append(list(row))
    try:
        wb.save(path)
    except BaseException:
        # close the sheets' row streams now: left to the garbage collector, each would print
        # an "Exception ignored" traceback after the one-line error
        for ws in wb.worksheets:
            with suppress(Exception):
                ws.close()
        raise
