"""JSON Lines: one csqa call object per line (``*.jsonl``), the shape of a nightly bulk export.

Read line by line: a bad line loses that line only, reported with its line number.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from csqa.loaders.common import LoadProblem, decode, from_mapping
from csqa.model import InputProblem, Transcript


def load(path: Path) -> Iterator[Transcript | InputProblem]:
    name = str(path)
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            item = parse_line(raw, name, lineno)
            if item is not None:
                yield item


def parse_line(raw: bytes, name: str, lineno: int) -> Transcript | InputProblem | None:
    """One line of a JSON Lines file: a call, the problem with it, or ``None`` for a blank line."""
    if not raw.strip():
        return None
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            obj = orjson.loads(decode(raw))
        except (orjson.JSONDecodeError, LoadProblem) as exc:
            msg = exc.reason if isinstance(exc, LoadProblem) else exc.msg
            return InputProblem(name, lineno, f"invalid JSON: {msg}")
    try:
        return from_mapping(obj, name, None, lineno)
    except LoadProblem as exc:
        cid = obj.get("call_id") if isinstance(obj, dict) else None
        return InputProblem(name, lineno, exc.reason, call_id=cid if isinstance(cid, str) else None)
