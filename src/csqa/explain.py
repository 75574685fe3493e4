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
    """The call ``call_id`` of file ``path`` (its only call when ``call_id`` is ``None``).

    Raises :class:`InputError` for a missing file, an unknown id or an ambiguous file, and
    :class:`UnreadableCall` when the call (or the whole file) could not be read.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file" if not p.is_dir() else
                         f"{p}: is a folder; explain takes one transcript file")
    calls: list[Transcript] = []
    problems: list[InputProblem] = []
    for item in load_all([p]):
        if isinstance(item, InputProblem):
            problems.append(item)
        else:
            calls.append(item)
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
