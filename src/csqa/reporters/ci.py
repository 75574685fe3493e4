"""Output of ``csqa check`` for people (one line per failing call), JSON and GitHub annotations.

GitHub workflow commands (``::error file=…,line=…,title=…::message``) make findings show up
on the transcript's line in a pull request. Values are escaped as the runner expects:
``%`` ``\\r`` ``\\n`` in the message, and also ``:`` ``,`` in properties.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from csqa.gate import CallVerdict, CheckReport
from csqa.model import Finding, Transcript, shown_name


def clock(seconds: float) -> str:
    """``75.4`` -> ``01:15``; ``3725`` -> ``1:02:05``."""
    whole = int(seconds)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def when(f: Finding) -> str:
    """Where a finding is: its utterance's start (``01:15``), or for a finding not on one
    utterance the stretch it is about (``00:12–01:21``: where missing wording was expected)."""
    return clock(f.start) if f.utterance is not None else f"{clock(f.start)}–{clock(f.end)}"


def finding_brief(f: Finding) -> str:
    """``forbidden.shirk −5 @00:40 “没办法”``: a finding in a few words."""
    # quote only words actually said (a hang-up finding's "matched" is the side, not speech)
    matched = f.matched if f.matched and f.matched in f.evidence else ""
    if len(matched) > 20:
        matched = matched[:19] + "…"
    text = f"{f.rule_id} −{f.points:g} @{when(f)}"
    return text + (f" “{matched}”" if matched else "")


def failing_line(v: CallVerdict, n_top: int = 3) -> str:
    """One line per failing call: where, which call, why, and its top findings."""
    t = v.result.transcript
    top = v.top_findings(n_top)
    more = len(v.result.findings) - len(top)
    parts = [f"不合格 {t.location} [{t.call_id}] 坐席 {t.agent_id}: {';'.join(v.reasons)}"]
    if top:
        parts.append(" | " + "; ".join(finding_brief(f) for f in top))
        if more > 0:
            parts.append(f" …另 {more} 条")
    return "".join(parts)


def summary_line(report: CheckReport) -> str:
    n = len(report.verdicts)
    failed = len(report.failed)
    text = f"检查 {n} 通通话:合格 {n - failed},不合格 {failed}(合格线 {report.min_score:g}"
    if report.fail_on:
        text += f",{report.fail_on} 及以上违规即不合格"
    text += ")"
    if report.input_errors:
        text += f";{len(report.input_errors)} 个输入无法读取"
    return text


def text_lines(report: CheckReport) -> Iterator[str]:
    """The default, quiet output: failing calls only, then one summary line."""
    for v in report.failed:
        yield failing_line(v)
    yield summary_line(report)


def as_json(report: CheckReport) -> bytes:
    """The whole decision as JSON (``kind`` and the other finding fields as in findings.jsonl)."""
    rs = report.ruleset
    doc: dict[str, Any] = {
        "ruleset": {"name": rs.name, "version": rs.version, "hash": rs.hash},
        "min_score": report.min_score,
        "fail_on": report.fail_on,
        "exit_code": report.exit_code,
        "counts": {"calls": len(report.verdicts), "failed": len(report.failed),
                   "input_errors": len(report.input_errors)},
        "calls": [
            {"call_id": v.result.transcript.call_id, "agent_id": v.result.transcript.agent_id,
             "source": v.result.transcript.location, "score": v.result.score,
             "passed": not v.failed, "vetoed": v.result.vetoed, "reasons": v.reasons,
             "findings": [f.as_dict() for f in v.result.findings]}
            for v in report.verdicts
        ],
        "problems": [{"file": p.file, "line": p.line, "reason": p.reason, "status": p.status}
                     for p in report.problems],
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, message: str, file: str | None = None, line: int | None = None,
               title: str | None = None) -> str:
    """One GitHub workflow command, e.g. ``::error file=a.txt,line=3,title=x::message``."""
    props = []
    if file:
        props.append(f"file={_escape_property(shown_name(file))}")
    if line is not None:
        props.append(f"line={line}")
    if title:
        props.append(f"title={_escape_property(title)}")
    head = f"::{level} {','.join(props)}" if props else f"::{level}"
    return f"{head}::{shown_name(_escape_data(message))}"


def _lines_of(t: Transcript) -> dict[int, int]:
    """Utterance index -> line of its source file, where that can be told (best effort)."""
    suffix = Path(t.source).suffix.lower()
    if suffix == ".txt":
        from csqa.loaders.text import utterance_lines

        return utterance_lines(t)
    if suffix not in (".json", ".csv"):
        return {}  # .jsonl: the call's own line (t.line) is the best there is
    try:
        from csqa.loaders.common import decode

        lines = decode(Path(t.source).read_bytes()).splitlines()
    except Exception:  # the file changed or vanished since it was read: no line numbers
        return {}
    # a CSV holds many calls: only rows of this call; a JSON file holds one call
    wanted = [i for i, line in enumerate(lines) if suffix != ".csv" or t.call_id in line]
    out: dict[int, int] = {}
    pos = 0
    for u in t.utterances:
        if not u.text:
            continue
        hit = next((k for k in range(pos, len(wanted)) if u.text in lines[wanted[k]]), None)
        if hit is None:
            hit = next((k for k in range(len(wanted)) if u.text in lines[wanted[k]]), None)
        if hit is not None:
            out[u.index] = wanted[hit] + 1
            pos = hit + 1
    return out


def github_lines(report: CheckReport) -> Iterator[str]:
    """Annotations: an error per failing call and per blocking finding, a warning per other
    finding of a failing call, an error per unreadable input. Passing calls stay quiet."""
    for v in report.failed:
        t = v.result.transcript
        lines = _lines_of(t)
        yield annotation("error", f"通话 {t.call_id} 不合格:{';'.join(v.reasons)}",
                         t.source, t.line, title=f"csqa check: {t.call_id}")
        blocking = {id(f) for f in v.blocking}
        for f in v.result.findings:
            line = lines.get(f.utterance, t.line) if f.utterance is not None else t.line
            level = "error" if id(f) in blocking else "warning"
            yield annotation(level, f"[{when(f)}] {f.message}(−{f.points:g} 分)",
                             t.source, line, title=f"{f.rule_id} {f.name}")
    for p in report.input_errors:
        yield annotation("error", p.reason, p.file, p.line, title="csqa: 输入无法读取")
