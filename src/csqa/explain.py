"""``csqa explain``: audit one call and keep everything a reviewer needs to check a deduction.

:func:`explain_call` picks one call out of a file (``--call-id`` when the file holds several),
read and prepared as ``csqa audit`` reads it (format, call records, speaker roles), and audits
it through the same pipeline into a sink that keeps the one result;
:mod:`csqa.reporters.conversation` renders it as a conversation (rich) or as a single-call HTML page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from csqa.api import resolve_ruleset
from csqa.errors import CsqaError, InputError
from csqa.model import CallResult, InputProblem, Transcript
from csqa.parallel import Job
from csqa.pipeline import AuditStage, Sink, run
from csqa.reading import ReadOptions, ReadyCall, read, read_files
from csqa.reporters.conversation import Explained
from csqa.ruleset import Ruleset
from csqa.safeio import BROKEN_LINK, NOT_REGULAR

__all__ = ["Explained", "UnreadableCall", "explain_call", "pick_call"]


class UnreadableCall(CsqaError):
    """The call asked for (or every call of the file) could not be read."""

    def __init__(self, problems: list[InputProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def pick_call(path: str | Path, call_id: str | None = None,
              options: ReadOptions | None = None) -> Transcript:
    """The call ``call_id`` of ``path`` (its only call when ``call_id`` is ``None``).

    ``path`` is a transcript file; an archive member as ``calls.csv`` names it in ``source``
    (``ali.zip!alibaba/X.json``); or a ``csqa audit`` output folder, in which ``call_id`` is
    looked up in calls.csv and read again from its ``source``. The file is read and prepared
    with ``options`` as ``csqa audit`` reads it (format, call records, speaker roles).

    Raises :class:`InputError` for a missing file, an unknown id or an ambiguous file, and
    :class:`UnreadableCall` when the call (or the whole file) could not be read.
    """
    p = Path(path)
    if p.is_dir() and (p / "run.json").is_file():
        return _from_run(p, call_id, options)
    member = None
    if not p.exists() and "!" in str(path):
        outer, _, member = str(path).partition("!")
        p = Path(outer)
    if p.is_dir():
        raise InputError(f"{p}: 是文件夹;explain 接受一个转写文件、压缩包成员"
                         "(ali.zip!alibaba/X.json)或 csqa audit 的输出目录")
    if not p.exists():
        raise InputError(f"{p}: {BROKEN_LINK}" if p.is_symlink() else f"{p}: 文件不存在")
    if not p.is_file():
        raise InputError(f"{p}: {NOT_REGULAR}")
    options = options or ReadOptions()
    options.check()
    prepare = options.preparation()
    calls: list[Transcript] = []
    problems: list[InputProblem] = []
    for got in read(read_files([p], options), prepare, options.format):
        if type(got) is not ReadyCall:
            continue
        item = got.call
        where = item.file if isinstance(item, InputProblem) else item.source
        if member is not None and where.partition("!")[2] != member:
            continue
        if isinstance(item, Transcript):
            calls.append(item)
        elif item.status != "no_record":  # a call without its record is still shown
            problems.append(item)
    if member is not None and not calls and not problems:
        raise InputError(f"{path}: {p} 中没有这个成员")
    skipped = [x for x in problems if x.status == "skipped"]
    if skipped and not calls and len(skipped) == len(problems):
        raise InputError(skipped[0].__str__())
    if call_id is not None:
        for t in calls:
            if t.call_id == call_id:
                return t
        bad = [x for x in problems if x.call_id == call_id]
        if bad:
            raise UnreadableCall(bad)
        known = ", ".join(t.call_id for t in calls[:10]) + (" …" if len(calls) > 10 else "")
        raise InputError(f"{p}: 没有 call_id 为 {call_id!r} 的通话"
                         + (f"(这个文件中的通话:{known})" if calls else ""))
    unreadable = [x for x in problems if x.status != "skipped"]
    if len(calls) == 1 and not unreadable:
        return calls[0]
    if not calls:
        raise UnreadableCall(unreadable)
    # a call counted once however many copies of it there are (one per vendor in a zip) and
    # however many files were skipped as not transcripts
    ids = list(dict.fromkeys([t.call_id for t in calls]
                             + [x.call_id for x in unreadable if x.call_id]))
    known = ", ".join(ids[:10]) + (" …" if len(ids) > 10 else "")
    copies = f"({len(calls)} 份转写:有的通话不止一份)" if len(calls) > len(set(ids)) else ""
    raise InputError(f"{p}: 含 {len(ids)} 通通话{copies};请用 --call-id 选一通"
                     f"(如 {known})")


class _Keep(Sink):
    """``explain``'s sink: keeps the one audited call."""

    result: CallResult | None = None

    def call(self, outcome: Any) -> None:
        self.result = outcome


def _from_run(run: Path, call_id: str | None, options: ReadOptions | None) -> Transcript:
    """The call ``call_id`` of a ``csqa audit`` output folder, read again from its source."""
    from csqa.runs import open_run

    if call_id is None:
        raise InputError(f"{run}: 是审计输出目录;请用 --call-id 选一通通话")
    rows = [r for r in open_run(run).table("calls.csv") if r["call_id"] == call_id]
    if not rows:
        raise InputError(f"{run}: calls.csv 中没有 call_id 为 {call_id!r} 的通话")
    source = rows[0]["source"]
    if not Path(source.partition("!")[0]).is_file():
        raise InputError(f"{run}: 通话 {call_id!r} 读自 {source},该文件已不存在"
                         "(请在当初运行审计的目录下运行 explain)")
    try:
        return pick_call(source, call_id, options)
    except InputError:
        # the call records may have given the call its id: then the file's only call is it
        return pick_call(source, None, options)


def explain_call(path: str | Path, call_id: str | None = None,
                 ruleset: Ruleset | str | Path | None = None,
                 redact: bool = True, options: ReadOptions | None = None) -> Explained:
    """Load one call and audit it under ``ruleset`` (default: the built-in one).

    ``options`` say how to read it (format, call records, speaker roles), as for
    ``csqa audit``; ``redact`` masks personal numbers in the transcript and findings shown
    (see :mod:`csqa.redact`).
    """
    rs = resolve_ruleset(ruleset)
    transcript = pick_call(path, call_id, options)
    keep = _Keep()
    run([ReadyCall(transcript)], AuditStage(Job(rs, redact, render=False)), [keep])
    assert keep.result is not None
    return Explained(result=keep.result, ruleset=rs)
