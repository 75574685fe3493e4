"""Terminal output: the per-agent scorecard table, the one-line run summary (rich), and the
input problems summarised by reason."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rich.table import Table
from rich.text import Text

from csqa.model import InputProblem

if TYPE_CHECKING:
    pass


class RunCounts(Protocol):
    """What the summary line needs of a run (``csqa.api.RunSummary`` has it)."""

    out_dir: Path
    calls_audited: int
    calls_passed: int
    findings: int
    input_errors: int
    skipped: int
    calls_cached: int
    seconds: float
    roles_uncertain: int
    transcripts_without_record: int
    records_without_transcript: int

    @property
    def calls_failed(self) -> int: ...


def _score_style(score: float, pass_mark: float) -> str:
    if score < pass_mark:
        return "bold red"
    if score < pass_mark + 10:
        return "yellow"
    return "green"


def scorecard_table(agents: Iterable[Mapping[str, Any]], rule_names: dict[str, str],
                    pass_mark: float, top: int = 0) -> Table:
    """Agents (scorecard rows, see :meth:`csqa.scoring.Scorecards.rows`), worst mean score
    first, with their most-broken rule; only the ``top`` worst when ``top`` > 0 (a night of
    200 agents does not fit a terminal; agents.csv has them all)."""
    rows = sorted(agents, key=lambda r: (r["mean_score"], r["agent_id"]))
    hidden = max(0, len(rows) - top) if top > 0 else 0
    table = Table(title="坐席质检成绩单 (per-agent scorecards)"
                        + (f" · 最差 {top} 名" if hidden else ""), title_justify="left",
                  caption=(f"另有 {hidden} 名坐席未列出:全部见 agents.csv(--top 0 全部显示)"
                           if hidden else None), caption_justify="left")
    for col, justify in (("坐席", "left"), ("姓名", "left"), ("班组", "left"), ("通话", "right"),
                         ("平均分", "right"), ("最低分", "right"), ("合格率", "right"),
                         ("违规", "right"), ("每百通", "right"), ("最常见问题", "left"),
                         ("最差通话", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    rule_ids = list(rule_names)
    for row in rows[:top] if hidden else rows:
        counts = {rid: int(row[rid]) for rid in rule_ids if int(row[rid]) > 0}
        common = max(counts, key=lambda r: (counts[r], -rule_ids.index(r))) if counts else None
        top_text = f"{rule_names[common]} ×{counts[common]}" if common else "—"
        # Text(), not str: names come from the input and must not be read as rich markup.
        table.add_row(
            Text(str(row["agent_id"])), Text(str(row["agent_name"])), Text(str(row["team"])),
            str(row["calls"]),
            Text(f"{row['mean_score']:.1f}", style=_score_style(row["mean_score"], pass_mark)),
            Text(f"{row['min_score']:.0f}", style=_score_style(row["min_score"], pass_mark)),
            f"{row['pass_rate']:.0%}", str(row["findings"]),
            f"{row['findings_per_100_calls']:.0f}", top_text, Text(str(row["worst_call"])),
        )
    return table


def summary_line(s: RunCounts) -> str:
    parts = [f"审计 {s.calls_audited} 通通话", f"合格 {s.calls_passed}", f"不合格 {s.calls_failed}",
             f"{s.findings} 条违规"]
    if s.input_errors:
        parts.append(f"{s.input_errors} 个输入无法读取(见 errors.csv)")
    if s.roles_uncertain:
        parts.append(f"{s.roles_uncertain} 通角色不确定(见 calls.csv role_source)")
    if s.transcripts_without_record:
        parts.append(f"{s.transcripts_without_record} 通无通话记录")
    if s.records_without_transcript:
        parts.append(f"{s.records_without_transcript} 条通话记录无转写")
    if s.skipped:
        parts.append(f"跳过 {s.skipped} 个非转写文件")
    if s.calls_cached:
        parts.append(f"{s.calls_cached} 通未变化,沿用上次结果")
    parts.append(f"用时 {s.seconds:.2f} 秒")
    return " · ".join(parts) + f"  →  {s.out_dir}"


def accounting_line(acc: dict[str, int | bool]) -> str:
    """Where every input went: files audited / unreadable / skipped, records audited / lost."""
    line = (f"输入文件 {acc['files_seen']} 个 = 已审计 {acc['files_audited']} + 无法读取 "
            f"{acc['files_failed']} + 跳过 {acc['files_skipped']};记录 {acc['records_read']} 条 = "
            f"审计 {acc['calls_audited']} 通 + 出错 {acc['records_rejected']} 条(见 errors.csv)")
    if acc.get("warnings"):
        line += f";已修复并警告 {acc['warnings']} 处"
    return line


#: what makes two reasons "the same problem": the text before the first quoted value or path,
#: with numbers (line, utterance, index) as N
_VARYING = re.compile(r"[\'\"“/\\!]")


def reason_kind(reason: str) -> str:
    """``重复的 call_id 'X':已从 … 审计过`` -> ``重复的 call_id``: a reason without the
    values (ids, paths, numbers) that differ from one occurrence to the next."""
    head = _VARYING.split(re.sub(r"\d+", "N", reason), maxsplit=1)[0]
    return head.strip(" :;,(") or reason[:40]


def problem_lines(problems: Iterable[InputProblem], shown: int = 3) -> list[str]:
    """The input problems for the terminal, in order, but at most ``shown`` of each kind of
    reason, then one line per kind that repeats more saying how many there are in all (1,200
    duplicate calls are 3 examples and a count; errors.csv keeps every one). Files skipped as
    not transcripts are left out (they are counted in the summary line)."""
    lines: list[str] = []
    groups: dict[tuple[str, str], int] = {}
    for p in problems:
        if p.status == "skipped":
            continue
        key = (p.status, reason_kind(p.reason))
        n = groups[key] = groups.get(key, 0) + 1
        if n <= shown:
            lines.append(("警告:" if p.status == "warning" else "") + str(p))
    for (_, kind), n in groups.items():
        if n > shown:
            lines.append(f"… 同类问题“{kind}”共 {n} 条,以上只列出 {shown} 条;全部见 errors.csv")
    return lines
