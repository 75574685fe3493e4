"""The rule kinds: one module each, collected in :data:`KINDS` by their ``KIND`` name."""

from __future__ import annotations

from types import ModuleType

from csqa.rules import (
    call_hours,
    closing,
    filler_words,
    forbidden_phrase,
    greeting,
    hangup,
    interruption,
    jargon,
    outbound_phrase,
    privacy,
    required_phrase,
    response_delay,
    sequence,
    silence,
    speech_rate,
)

_MODULES: tuple[ModuleType, ...] = (
    forbidden_phrase,
    required_phrase,
    greeting,
    closing,
    interruption,
    hangup,
    silence,
    speech_rate,
    response_delay,
    privacy,
    sequence,
    filler_words,
    jargon,
    outbound_phrase,
    call_hours,
)

#: kind name -> module (with ``Params``, ``prepare``, ``check`` and its docstring)
KINDS: dict[str, ModuleType] = {m.KIND: m for m in _MODULES}


def summary(kind: str) -> str:
    """The first line of a kind's documentation."""
    doc = KINDS[kind].__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else kind
