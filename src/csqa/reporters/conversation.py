"""One call as a reviewer reads it: a conversation with the findings on their utterances.

The terminal view (rich) has a row per utterance with its number and times, the agent's and
the customer's words in their own columns, overlaps (``⇄ 与 #3 重叠 2.0 秒``) and silences
(``⋯ 静音 25.0 秒``) marked, each finding under the utterance it points at (the matched words
highlighted, with the rule's name, id and points), call-level findings, the hang-up side, and
the score breakdown. :func:`html_page` gives the same as a self-contained HTML page, every
piece of text escaped.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from csqa.model import AGENT, CUSTOMER, CallResult, Finding, Transcript, Utterance
from csqa.scoring import RuleCost, rule_weight

SPEAKER = {AGENT: "坐席", CUSTOMER: "客户"}
HANGUP = {"agent": "坐席", "customer": "客户", "system": "系统"}
SILENCE_SHOWN = 3.0  # seconds of silence worth a row of their own


class RuleShown(RuleCost, Protocol):
    """What the score breakdown shows of a rule (what scoring needs, and its name and kind):
    a :class:`~csqa.ruleset.Rule`, or a run's recorded copy (:class:`csqa.runs.RuleCost`)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...


class Scoring(Protocol):
    """The ruleset's scoring as the explanation shows it: a :class:`~csqa.ruleset.Ruleset`, or
    what a run recorded of it (the report's call pages)."""

    @property
    def rules(self) -> Sequence[RuleShown]: ...
    @property
    def base_score(self) -> float: ...
    @property
    def pass_mark(self) -> float: ...


@dataclass(slots=True)
class Explained:
    """One audited call with the ruleset it was audited under."""

    result: CallResult
    ruleset: Scoring


def stamp(seconds: float) -> str:
    """``75.43`` -> ``01:15.4``; an hour or more -> ``1:01:15.4``."""
    tenths = round(seconds * 10)
    whole, tenth = divmod(tenths, 10)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return (f"{h}:{m:02d}:{s:02d}.{tenth}" if h else f"{m:02d}:{s:02d}.{tenth}")


@dataclass(slots=True)
class Row:
    """One line of the conversation: an utterance, or a silence between utterances."""

    utterance: Utterance | None
    silence: float = 0.0
    overlaps: tuple[tuple[int, float], ...] = ()  # (other utterance index, seconds)
    findings: tuple[Finding, ...] = ()


def rows(ex: Explained) -> Iterator[Row]:
    """The conversation in order, with silences, overlaps and findings attached."""
    t = ex.result.transcript
    by_utt: dict[int, list[Finding]] = defaultdict(list)
    for f in ex.result.findings:
        if f.utterance is not None:
            by_utt[f.utterance].append(f)
    reach = 0.0
    for u in t.utterances:
        if u.index and u.start - reach >= SILENCE_SHOWN:
            yield Row(None, silence=round(u.start - reach, 1))
        overlaps = tuple(
            (o.index, round(min(o.end, u.end) - u.start, 1))
            for o in t.utterances[: u.index]
            if o.speaker != u.speaker and o.start <= u.start < o.end
        )
        reach = max(reach, u.end)
        yield Row(u, overlaps=overlaps, findings=tuple(by_utt.get(u.index, ())))


def call_level(ex: Explained) -> list[Finding]:
    """Findings about the whole call (speech rate) or a stretch of it (a missing closing), not
    about one utterance."""
    return [f for f in ex.result.findings if f.utterance is None]


def span_note(f: Finding) -> str:
    """A finding not on one utterance, with the stretch it is about: where the missing
    wording was expected (``01:02.0–01:21.9 ▲ −2 需求确认 …``)."""
    return f"{stamp(f.start)}–{stamp(f.end)} {finding_note(f)}"


def _spans(text: str, findings: tuple[Finding, ...]) -> list[tuple[int, int]]:
    """Where each finding's matched words are in the utterance (the whole text when it is)."""
    spans: list[tuple[int, int]] = []
    for f in findings:
        if not f.matched or f.matched not in text:
            continue
        start = 0
        while True:
            i = text.find(f.matched, start)
            if i < 0:
                break
            if (i, i + len(f.matched)) not in spans:
                spans.append((i, i + len(f.matched)))
                break
            start = i + 1
    return spans


def finding_note(f: Finding) -> str:
    """``▲ −5 服务禁语·推诿客户 [forbidden.shirk] 服务禁语(推诿客户):“没办法”``."""
    return f"▲ −{f.points:g} {f.name} [{f.rule_id}] {f.message}"


def _header(ex: Explained) -> str:
    t = ex.result.transcript
    who = " ".join(x for x in (t.agent_id, t.agent_name, f"({t.team})" if t.team else "") if x)
    parts = [f"通话 {t.call_id}", f"坐席 {who}"]
    if t.started_at:
        parts.append(f"开始 {t.started_at}")
    parts.append(f"时长 {stamp(t.length)}")
    parts.append(f"来源 {t.location}")
    return " · ".join(parts)


def _hangup_text(ex: Explained) -> str:
    t = ex.result.transcript
    if t.hangup_by is None:
        note = ex.result.not_evaluable.get("hangup")
        return "挂机方:未知" + (f"(不可评估:{note})" if note else "")
    text = f"挂机方:{HANGUP.get(t.hangup_by, t.hangup_by)}"
    hung = [f for f in ex.result.findings if f.kind == "hangup"]
    if hung:
        text += f"(违规:{hung[0].name} −{hung[0].points:g})"
    return text


@dataclass(slots=True)
class Line:
    """A row of the score breakdown."""

    rule_id: str
    name: str
    kind: str
    count: int
    points: float
    cap: float | None
    deducted: float
    veto: bool


def breakdown(ex: Explained) -> list[Line]:
    """Per rule that fired: how often, points each, the cap, and what was deducted."""
    out = []
    for rule in ex.ruleset.rules:
        n = ex.result.rule_counts.get(rule.id, 0)
        if n:
            out.append(Line(rule.id, rule.name, rule.kind, n, rule.points, rule.max_points,
                            ex.result.deductions.get(rule.id, 0.0), rule.veto))
    return out


def _rescaled(ex: Explained, total: float) -> str:
    """`` × 160/146(按可评估规则折算)`` when rules were not evaluable: the deductions are
    weighed by ``W / W_e`` (README, scoring with N/A), so the arithmetic shown adds up."""
    if not total or not ex.result.not_evaluable:
        return ""
    weights = [(rule.id, rule_weight(rule)) for rule in ex.ruleset.rules]
    w = sum(x for _, x in weights)
    w_e = sum(x for rid, x in weights if rid not in ex.result.not_evaluable)
    if w_e <= 0 or w_e == w:
        return ""
    return f" × {w:g}/{w_e:g}(按可评估规则折算,不可评估规则权重 {w - w_e:g} 不计)"


def verdict_lines(ex: Explained) -> list[str]:
    r = ex.result
    rs = ex.ruleset
    total = sum(r.deductions.values())
    verdict = "合格" if r.passed else "不合格"
    vetoes = [line.name for line in breakdown(ex) if line.veto]
    if vetoes:
        verdict += f"(一票否决:{'、'.join(vetoes)})"
    elif not r.passed:
        verdict += f"(低于合格线 {rs.pass_mark:g})"
    lines = [f"基础分 {rs.base_score:g} − 扣分 {total:g}{_rescaled(ex, total)} = 得分 {r.score:g}"
             f" · 合格线 {rs.pass_mark:g} · 结论:{verdict}"]
    if r.not_evaluable:
        lines.append("不可评估:" + ";".join(f"{k}({v})" for k, v in r.not_evaluable.items()))
    if r.rule_errors:
        lines.append("规则出错:" + ";".join(f"{k}({v})" for k, v in r.rule_errors.items()))
    return lines


# ---- terminal (rich) --------------------------------------------------------------------

def _utterance_cell(u: Utterance, findings: tuple[Finding, ...]) -> Text:
    text = Text(u.text)
    for start, end in _spans(u.text, findings):
        text.stylize("bold white on red", start, end)
    for f in findings:
        text.append("\n")
        text.append(finding_note(f), style="bold red" if f.severity in ("major", "critical")
                    else "yellow")
    return text


def conversation(ex: Explained) -> RenderableType:
    """The whole explanation as one rich renderable."""
    t: Transcript = ex.result.transcript
    table = Table(title=_header(ex), title_justify="left", show_lines=False, expand=True)
    table.add_column("#/时间", no_wrap=True, min_width=19)
    table.add_column("坐席", ratio=1, overflow="fold")
    table.add_column("客户", ratio=1, overflow="fold")
    for row in rows(ex):
        if row.utterance is None:
            table.add_row(Text(f"⋯ 静音 {row.silence:g} 秒", style="dim"), "", "")
            continue
        u = row.utterance
        when = Text(f"#{u.index} {stamp(u.start)}–{stamp(u.end)}",
                    style="bold" if row.findings else "")
        for other, secs in row.overlaps:
            when.append(f"\n⇄ 与 #{other} 重叠 {secs:g} 秒", style="yellow")
        cell = _utterance_cell(u, row.findings)
        table.add_row(when, cell if u.speaker == AGENT else "", cell if u.speaker != AGENT else "")
    hang = Text(_hangup_text(ex), style="bold red" if any(
        f.kind == "hangup" for f in ex.result.findings) else "dim")
    side_col = 2 if t.hangup_by == "customer" else 1
    cells: list[RenderableType] = [Text(stamp(t.length)), "", ""]
    cells[side_col] = hang
    table.add_row(*cells)
    parts: list[RenderableType] = [table]
    whole = call_level(ex)
    if whole:
        parts.append(Text("整通或时段问题:", style="bold"))
        parts.extend(Text("  " + span_note(f), style="yellow") for f in whole)
    scores = Table(title="扣分明细", title_justify="left")
    for col, justify in (("规则", "left"), ("名称", "left"), ("类型", "left"), ("次数", "right"),
                         ("每次", "right"), ("扣分", "right")):
        scores.add_column(col, justify=justify)  # type: ignore[arg-type]
    for line in breakdown(ex):
        capped = line.cap is not None and line.count * line.points > line.cap
        veto = "(一票否决)" if line.veto and "否决" not in line.name else ""
        scores.add_row(line.rule_id, line.name + veto, line.kind, str(line.count),
                       f"{line.points:g}",
                       f"−{line.deducted:g}" + (f"(上限 {line.cap:g})" if capped else ""))
    parts.append(scores)
    style = "bold green" if ex.result.passed else "bold red"
    lines = verdict_lines(ex)
    parts.append(Text(lines[0], style=style))
    parts.extend(Text(line, style="dim") for line in lines[1:])
    return Group(*parts)


# ---- HTML --------------------------------------------------------------------------------

HTML_CSS = """
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.4rem;
vertical-align:top;text-align:left}td.t{white-space:nowrap;color:#555;font-size:.9em}
td.agent{background:#f4f8ff}td.customer{background:#fbfbf4}mark{background:#ffd0d0}
.f{display:block;color:#b00020;font-size:.9em;margin-top:.2rem}.f.minor,.f.info{color:#9a6700}
.ov{display:block;color:#9a6700}.sil{color:#888;font-style:italic}.pass{color:#0a7d28}
.fail{color:#b00020}.num{text-align:right}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _marked(text: str, findings: tuple[Finding, ...]) -> str:
    spans = sorted(_spans(text, findings))
    out, pos = [], 0
    for start, end in spans:
        if start < pos:
            continue
        out.append(_e(text[pos:start]))
        out.append(f"<mark>{_e(text[start:end])}</mark>")
        pos = end
    out.append(_e(text[pos:]))
    return "".join(out)


def html_page(ex: Explained) -> str:
    """A self-contained page for one call; every piece of call or ruleset text is escaped."""
    title = f"csqa · {ex.result.transcript.call_id}"
    return ("<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{HTML_CSS}</style></head><body>\n"
            + html_body(ex) + "\n</body></html>\n")


def html_body(ex: Explained) -> str:
    """The explanation as HTML without the page around it (styled by :data:`HTML_CSS`): the
    header line, the conversation (utterance ``#n`` is the row ``id="u<n>"``), call-level
    findings (``id="call-level"``), the score breakdown and the verdict."""
    t = ex.result.transcript
    body: list[str] = [f"<h1>{_e(_header(ex))}</h1>", "<table><thead><tr><th>#/时间</th>"
                       "<th>坐席</th><th>客户</th></tr></thead><tbody>"]
    for row in rows(ex):
        if row.utterance is None:
            body.append(f'<tr><td class="t sil" colspan="3">⋯ 静音 {row.silence:g} 秒</td></tr>')
            continue
        u = row.utterance
        when = f"#{u.index} {stamp(u.start)}–{stamp(u.end)}" + "".join(
            f'<span class="ov">⇄ 与 #{o} 重叠 {s:g} 秒</span>' for o, s in row.overlaps)
        notes = "".join(f'<span class="f {_e(f.severity)}">{_e(finding_note(f))}</span>'
                        for f in row.findings)
        cell = f'<td class="{_e(u.speaker)}">{_marked(u.text, row.findings)}{notes}</td>'
        empty = "<td></td>"
        speech = cell + empty if u.speaker == AGENT else empty + cell
        body.append(f'<tr id="u{u.index}"><td class="t">{when}</td>{speech}</tr>')
    body.append(f'<tr><td class="t">{stamp(t.length)}</td><td colspan="2">'
                f"{_e(_hangup_text(ex))}</td></tr></tbody></table>")
    whole = call_level(ex)
    if whole:
        body.append('<h2>整通或时段问题</h2><ul id="call-level">'
                    + "".join(f"<li>{_e(span_note(f))}</li>" for f in whole) + "</ul>")
    body.append("<h2>扣分明细</h2><table><thead><tr><th>规则</th><th>名称</th><th>类型</th>"
                '<th class="num">次数</th><th class="num">每次</th><th class="num">扣分</th>'
                "</tr></thead><tbody>")
    for line in breakdown(ex):
        body.append(f"<tr><td>{_e(line.rule_id)}</td><td>{_e(line.name)}</td>"
                    f'<td>{_e(line.kind)}</td><td class="num">{line.count}</td>'
                    f'<td class="num">{line.points:g}</td>'
                    f'<td class="num">−{line.deducted:g}</td></tr>')
    body.append("</tbody></table>")
    lines = verdict_lines(ex)
    cls = "pass" if ex.result.passed else "fail"
    body.append(f'<p class="{cls}"><strong>{_e(lines[0])}</strong></p>')
    body.extend(f"<p>{_e(line)}</p>" for line in lines[1:])
    return "\n".join(body)
