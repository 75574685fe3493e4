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
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                try:
                    obj = orjson.loads(decode(raw))
                except (orjson.JSONDecodeError, LoadProblem) as exc:
                    msg = exc.reason if isinstance(exc, LoadProblem) else exc.msg
                    yield InputProblem(name, lineno, f"invalid JSON: {msg}")
                    continue
            try:
                yield from_mapping(obj, name, None, lineno)
            except LoadProblem as exc:
                cid = obj.get("call_id") if isinstance(obj, dict) else None
                yield InputProblem(name, lineno, exc.reason,
                                   call_id=cid if isinstance(cid, str) else None)
