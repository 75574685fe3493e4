"""iFlytek 录音文件转写 (lfasr v2 ``getResult``).

``{"code": "000000", "content": {"orderInfo": {"status": 4, …}, "orderResult": "<JSON text>"}}``.
``orderResult`` is JSON *in a string*, and each ``lattice[].json_1best`` inside it is JSON in a
string again: ``{"st": {"bg": "800", "ed": "4600", "rl": "1", "rt": [{"ws": [{"cw": [{"w": "您好",
"wp": "n"}]}]}]}}``. ``bg``/``ed`` are milliseconds (as strings); the text is the first
candidate ``cw[0].w`` of every word, segment markers (``wp: g``) left out. ``rl`` is the role
id from role separation (``0`` when it was off). In dual-channel mode ``label.rl_track`` maps
each role to a track (``L``/``R``); the transcript then uses channel 0 for L and 1 for R.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from csqa.loaders.common import LoadProblem
from csqa.loaders.vendor import Segment, build, field, items, label, ms
from csqa.model import InputProblem, Transcript

NAME = "iflytek"
TITLE = "iFlytek 录音文件转写 (orderResult lattice json_1best, ms)"
TRACKS = {"L": "0", "R": "1"}


def detect(data: Any) -> bool:
    content = data.get("content") if isinstance(data, dict) else None
    return (isinstance(content, dict) and "orderResult" in content) or (
        isinstance(data, dict) and "lattice" in data
    )


def _json(value: Any, what: str) -> Any:
    if isinstance(value, (dict, list)):
        return value
    if not isinstance(value, str) or not value.strip():
        raise LoadProblem(f"{what}: 为空(转写尚未完成)")
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise LoadProblem(f"{what}: 不是有效的 JSON 文本:{exc.msg}") from None


def parse(data: Any, name: str, stem: str) -> Iterator[Transcript | InputProblem]:
    if "content" in data:
        code = data.get("code")
        if code not in (None, "000000"):
            raise LoadProblem(
                f"讯飞请求失败:code {code!r} {data.get('descInfo') or ''}".rstrip()
            )
        content = field(data, "content", "$")
        status = content.get("orderInfo", {}).get("status") if isinstance(content, dict) else None
        if status not in (None, 4):
            raise LoadProblem(f"讯飞订单尚未完成:orderInfo.status {status}(4 = 完成)")
        result = _json(field(content, "orderResult", "content"), "content.orderResult")
    else:
        result = data
    tracks = {}
    lab = result.get("label") if isinstance(result, dict) else None
    if isinstance(lab, dict) and isinstance(lab.get("rl_track"), list):
        for t in lab["rl_track"]:
            if isinstance(t, dict) and t.get("track") in TRACKS:
                tracks[str(t.get("rl"))] = TRACKS[t["track"]]
    segs = []
    for i, entry in enumerate(items(result, "lattice", "orderResult")):
        w = f"orderResult.lattice[{i}]"
        best = _json(field(entry, "json_1best", w), f"{w}.json_1best")
        st = field(best, "st", f"{w}.json_1best")
        role = label(field(st, "rl", f"{w}.st"), f"{w}.st.rl")
        words = []
        for rt in st.get("rt") or []:
            for ws in (rt.get("ws") or []) if isinstance(rt, dict) else []:
                cw = ws.get("cw") if isinstance(ws, dict) else None
                if (
                    isinstance(cw, list)
                    and cw
                    and isinstance(cw[0], dict)
                    and cw[0].get("wp") != "g"
                ):
                    words.append(str(cw[0].get("w") or ""))
        segs.append(
            Segment(
                tracks.get(role, role),
                ms(field(st, "bg", f"{w}.st"), f"{w}.st.bg"),
                ms(field(st, "ed", f"{w}.st"), f"{w}.st.ed"),
                "".join(words).strip(),
            )
        )
    yield build(
        segs, source=name, call_id=stem, fmt=NAME, speaker_kind="channel" if tracks else "speaker"
    )
