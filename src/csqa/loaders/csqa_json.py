"""csqa JSON: one call object per ``*.json`` file (a list of call objects is accepted too).

``{"call_id", "agent_id", "agent_name", "team", "started_at", "hangup_by", "utterances": [
{"speaker", "start", "end", "text"}, …]}``; ``call_id`` defaults to the file stem.
``"direction"`` (``inbound``/``outbound``, also 呼入/呼出/外呼) says who placed the call.

What the recording can show (optional): ``"timing": "none"`` for a transcript without
per-utterance times (``start``/``end`` may then be left out; a call whose utterances have no
``start``/``end`` at all is read so too), ``"channels": "mono"`` for a one-channel recording
without overlap information, ``"truncated": "start"|"end"|"both"`` for an export known to be
cut. See the README, "Not evaluable".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from csqa.loaders.common import LoadProblem, decode, from_mapping
from csqa.model import InputProblem, Transcript


def load(path: Path) -> Iterator[Transcript | InputProblem]:
    name = str(path)
    try:
        text = decode(path.read_bytes())
        data = orjson.loads(text)
    except LoadProblem as exc:
        yield InputProblem(name, None, exc.reason)
        return
    except orjson.JSONDecodeError as exc:
        yield InputProblem(name, exc.lineno, f"JSON 格式有误:{exc.msg}(第 {exc.colno} 列)")
        return
    yield from from_data(data, name, path.stem)


def from_data(data: object, name: str, stem: str) -> Iterator[Transcript | InputProblem]:
    """The calls of already-parsed csqa JSON (one call object, or a list of them)."""
    items = data if isinstance(data, list) else [data]
    for i, obj in enumerate(items):
        default_id = stem if len(items) == 1 else f"{stem}#{i}"
        try:
            yield from_mapping(obj, name, default_id)
        except LoadProblem as exc:
            where = f"[{i}] " if len(items) > 1 else ""
            cid = obj.get("call_id") if isinstance(obj, dict) else None
            yield InputProblem(name, exc.line, where + exc.reason,
                               call_id=cid if isinstance(cid, str) else None)
