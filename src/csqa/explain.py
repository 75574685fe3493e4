"""``csqa explain``: audit one call and keep everything a reviewer needs to check a deduction.

:func:`explain_call` picks one call out of a file (``--call-id`` when the file holds several)
and audits it; :mod:`csqa.reporters.explain` renders the result as a conversation (rich) or
as a single-call HTML page.
"""

from __future__ import annotations

from pathlib import Path

from csqa.api import resolve_ruleset
from csqa.engine import Engine
from csqa.errors import CsqaError, InputError
from csqa.loaders import load_all
from csqa.model import InputProblem, Transcript
from csqa.redact import redact_result
from csqa.reporters.explain import Explained
from csqa.ruleset import Ruleset

__all__ = ["Explained", "UnreadableCall", "explain_call", "pick_call"]


class UnreadableCall(CsqaError):
    """The call asked for (or every call of the file) could not be read."""

    def __init__(self, problems: list[InputProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def pick_call(path: str | Path, call_id: str | None = None) -> Transcript:
    """The call ``call_id`` of ``path`` (its only call when ``call_id`` is ``None``).

    ``path`` is a transcript file; an archive member as ``calls.csv`` names it in ``source``
    (``ali.zip!alibaba/X.json``); or a ``csqa audit`` output folder, in which ``call_id`` is
    looked up in calls.csv and read again from its ``source``.

    Raises :class:`InputError` for a missing file, an unknown id or an ambiguous file, and
    :class:`UnreadableCall` when the call (or the whole file) could not be read.
    """
    p = Path(path)
    if p.is_dir() and (p / "run.json").is_file():
        return _from_run(p, call_id)
    member = None
    if not p.exists() and "!" in str(path):
        outer, _, member = str(path).partition("!")
        p = Path(outer)
    if not p.is_file():
        raise InputError(f"{p}: no such file" if not p.is_dir() else
                         f"{p}: is a folder; explain takes one transcript file, an archive "
                         "member (ali.zip!alibaba/X.json) or a csqa audit output folder")
    calls: list[Transcript] = []
    problems: list[InputProblem] = []
    for item in load_all([p]):
        where = item.file if isinstance(item, InputProblem) else item.source
        if member is not None and where.partition("!")[2] != member:
            continue
        if isinstance(item, InputProblem):
            problems.append(item)
        else:
            calls.append(item)
    if member is not None and not calls and not problems:
        raise InputError(f"{path}: no such member in {p}")
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
        raise InputError(f"{p}: no call with call_id {call_id!r}"
                         + (f" (calls in this file: {known})" if calls else ""))
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
    raise InputError(f"{p}: holds {len(ids)} calls{copies}; choose one with --call-id "
                     f"(e.g. {known})")


def _from_run(run: Path, call_id: str | None) -> Transcript:
    """The call ``call_id`` of a ``csqa audit`` output folder, read again from its source."""
    from csqa.runs import open_run

    if call_id is None:
        raise InputError(f"{run}: an audit output folder; choose a call with --call-id")
    rows = [r for r in open_run(run).table("calls.csv") if r["call_id"] == call_id]
    if not rows:
        raise InputError(f"{run}: no call with call_id {call_id!r} in calls.csv")
    source = rows[0]["source"]
    if not Path(source.partition("!")[0]).is_file():
        raise InputError(f"{run}: call {call_id!r} was read from {source}, which is not there "
                         "any more (run explain from the folder the audit was run in)")
    try:
        return pick_call(source, call_id)
    except InputError:
        # the call records may have given the call its id: then the file's only call is it
        return pick_call(source)


def explain_call(path: str | Path, call_id: str | None = None,
                 ruleset: Ruleset | str | Path | None = None,
                 redact: bool = True) -> Explained:
    """Load one call and audit it under ``ruleset`` (default: the built-in one).

    ``redact`` masks personal numbers in the transcript and findings shown (see
    :mod:`csqa.redact`).
    """
    rs = resolve_ruleset(ruleset)
    transcript = pick_call(path, call_id)
    result = Engine(rs).audit(transcript)
    return Explained(result=redact_result(result) if redact else result, ruleset=rs)
