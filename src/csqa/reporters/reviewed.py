"""Terminal table of reviewed scores: per agent, the machine score next to the reviewed one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.table import Table
from rich.text import Text


def reviewed_table(agents: Iterable[Mapping[str, Any]], pass_mark: float) -> Table | None:
    """Agents whose reviewed numbers differ from the machine's (or that had verdicts), worst
    reviewed mean first; ``None`` when no agent had a verdict."""
    rows = [a for a in agents
            if int(a["confirmed"]) or int(a["false_alarms"]) or int(a["missed"])]
    if not rows:
        return None
    table = Table(title="复核后成绩 (machine → reviewed)", title_justify="left")
    for col in ("坐席", "平均分 机器", "复核", "合格率 机器", "复核", "确认", "误报", "漏报"):
        table.add_column(col, justify="left" if col == "坐席" else "right")
    for a in sorted(rows, key=lambda a: (float(a["reviewed_mean_score"]), str(a["agent_id"]))):
        mean = float(a["reviewed_mean_score"])
        table.add_row(str(a["agent_id"]), f"{float(a['mean_score']):.1f}",
                      Text(f"{mean:.1f}", style="bold red" if mean < pass_mark else ""),
                      f"{float(a['pass_rate']):.0%}", f"{float(a['reviewed_pass_rate']):.0%}",
                      str(a["confirmed"]), str(a["false_alarms"]), str(a["missed"]))
    return table
