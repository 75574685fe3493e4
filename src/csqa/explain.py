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

__all__ = ["Explained", "UnreadableCall", "explain_call", "pick_call"]


class UnreadableCall(CsqaError):
    """The call asked for (or every call of the file) could not be read."""

    def __init__(self, problems: list[InputProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def pick_call(path: str | Path, call_id: str | None = None,
              options: ReadOptions | None = None) -> Transcript:
    """The call ``call_id`` of file ``path`` (its only call when ``call_id`` is ``None``),
    read and prepared with ``options`` as ``csqa audit`` reads it.

    Raises :class:`InputError` for a missing file, an unknown id or an ambiguous file, and
    :class:`UnreadableCall` when the call (or the whole file) could not be read.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file" if not p.is_dir() else
                         f"{p}: is a folder; explain takes one transcript file")
    options = options or ReadOptions()
    options.check()
    prepare = options.preparation()
    calls: list[Transcript] = []
    problems: list[InputProblem] = []
    for item in read(read_files([p], options), prepare, options.format):
        if type(item) is not ReadyCall:
            continue
        if isinstance(item.call, Transcript):
            calls.append(item.call)
        elif item.call.status != "no_record":  # a call without its record is still shown
            problems.append(item.call)
    skipped = [x for x in problems if x.status == "skipped"]
    if skipped and not calls:
        raise InputError(skipped[0].__str__())
    if call_id is not None:
        for t in calls:
            if t.call_id == call_id:
                return t
        bad = [x for x in problems if x.call_id == call_id]
        if bad:
            raise UnreadableCall(bad)
        known = ", ".join(t.call_id for t in calls[:10]) + (" …" if len(calls) > 10 else "")
        raise InputError(f"{p}: no call with call_id {call_id!r}"
                         + (f" (calls in this file: {known})" if calls else ""))
    if len(calls) == 1 and not problems:
        return calls[0]
    if not calls:
        raise UnreadableCall(problems)
    known = ", ".join(t.call_id for t in calls[:10]) + (" …" if len(calls) > 10 else "")
    raise InputError(f"{p}: holds {len(calls) + len(problems)} calls; choose one with --call-id "
                     f"(e.g. {known})")


class _Keep(Sink):
    """``explain``'s sink: keeps the one audited call."""

    result: CallResult | None = None

    def call(self, outcome: Any) -> None:
        self.result = outcome


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
