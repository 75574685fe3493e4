"""``csqa report``: weekly team-lead reports built from ``csqa audit`` output folders.

:func:`build_report` reads the runs and computes every table (pandas); the renderers turn a
:class:`Report` into a file: :mod:`.xlsx`, :mod:`.html`, :mod:`.markdown`, or rich tables on
the terminal (:mod:`.terminal`). :func:`write_report` picks the renderer from the suffix.
"""

from __future__ import annotations

from pathlib import Path

from csqa import safeio
from csqa.weekly.build import Period, Report, ReportError, Table, build_report

FORMATS = {".xlsx": "xlsx", ".html": "html", ".htm": "html", ".md": "md"}

__all__ = ["FORMATS", "Period", "Report", "ReportError", "Table", "build_report",
           "format_for", "write_report"]


def format_for(path: Path, fmt: str | None = None) -> str:
    """The output format: ``fmt`` when given, else from the file suffix."""
    if fmt:
        if fmt not in ("xlsx", "html", "md"):
            raise ReportError(f"--format: expected xlsx, html or md, got {fmt!r}")
        return fmt
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise ReportError(f"{path}: unknown report format {path.suffix or '(no suffix)'!r}; "
                          "use .xlsx, .html or .md, or --format")
    return found


def write_report(report: Report, path: str | Path, fmt: str | None = None) -> Path:
    """Render ``report`` into ``path`` (written to a temporary file, then moved into place)."""
    path = Path(path)
    kind = format_for(path, fmt)
    with safeio.replacing(path) as tmp:
        if kind == "xlsx":
            from csqa.weekly.xlsx import write_xlsx

            write_xlsx(report, tmp)
        elif kind == "html":
            from csqa.weekly.html import render_html

            tmp.write_text(render_html(report), encoding="utf-8")
        else:
            from csqa.weekly.markdown import render_markdown

            tmp.write_text(render_markdown(report), encoding="utf-8")
    return path
