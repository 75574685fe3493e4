"""Export formats by name, and content-based detection of JSON exports.

A ``*.json`` file may be csqa's own call JSON or any ASR vendor's result: the content, not the
name, says which (:func:`detect_json`). ``--format NAME`` forces one format for every input
file, for exports whose shape is ambiguous or mislabelled. The vendor modules each document
their format and cite its documented field names and units.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson

from csqa.errors import InputError
from csqa.loaders import (
    alibaba,
    aws_call_analytics,
    aws_transcribe,
    csqa_json,
    dashscope,
    funasr,
    iflytek,
    subtitles,
    tencent,
    whisper,
)
from csqa.loaders.common import (
    LoadProblem,
    _quick_call,
    current_limits,
    decode,
    duplicate_key,
    duplicate_key_problem,
    no_control_characters,
    read_guarded,
)
from csqa.model import InputProblem, Transcript
from csqa.safeio import open_regular

Loader = Callable[[Path], Iterator[Transcript | InputProblem]]

#: Vendor JSON formats, in detection order (most specific shapes first).
JSON_FORMATS: tuple[ModuleType, ...] = (
    aws_call_analytics,
    aws_transcribe,
    alibaba,
    tencent,
    iflytek,
    dashscope,
    funasr,
    whisper,
)


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    title: str
    loader: Loader


def _is_csqa(data: Any) -> bool:
    first = data[0] if isinstance(data, list) and data else data
    return isinstance(first, dict) and "utterances" in first


#: csqa JSON's own call-level keys: a call with these but no ``utterances`` is csqa JSON
#: missing its utterances (said so, naming the field), not an unknown shape.
_CSQA_KEYS = frozenset({"call_id", "agent_id", "agent_name", "team", "started_at", "hangup_by"})


def _csqa_without_utterances(data: Any) -> bool:
    first = data[0] if isinstance(data, list) and data else data
    return isinstance(first, dict) and len(_CSQA_KEYS.intersection(first)) >= 2


def detect_json(data: Any) -> ModuleType | None:
    """The vendor module whose documented shape ``data`` has; ``None`` for csqa JSON or unknown."""
    if _is_csqa(data):
        return None
    for module in JSON_FORMATS:
        if module.detect(data):
            return module
    return None


def read_json(path: Path) -> Any:
    text = decode(path.read_bytes())
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise LoadProblem(f"JSON 格式有误:{exc.msg}(第 {exc.colno} 列)", exc.lineno) from None
    key = duplicate_key(text, data)
    if key is not None:
        raise LoadProblem(duplicate_key_problem(key))
    return data


def _run(
    module: ModuleType, data: Any, name: str, stem: str
) -> Iterator[Transcript | InputProblem]:
    try:
        yield from module.parse(data, name, stem)
    except LoadProblem as exc:
        yield InputProblem(name, exc.line, f"{module.NAME}: {exc.reason}")
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        # a field of an unexpected type deep inside an otherwise recognised export
        yield InputProblem(
            name,
            None,
            f"{module.NAME}: 结构不符合预期({type(exc).__name__}: "
            f"{exc});应为 {module.TITLE}",
        )


def _read_or_problem(path: Path) -> Any:
    """The parsed JSON of ``path``, or the InputProblem saying why it cannot be read."""
    try:
        return read_json(path)
    except LoadProblem as exc:
        return InputProblem(str(path), exc.line, exc.reason)


_MARKS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")  # byte-order marks: decode() reads them


def plain_call_file(name: str) -> Transcript | None:
    """What ``read_guarded(Path(name), load_json)`` gives for a ``.json`` file holding one plain,
    well-formed csqa call (its only item), or ``None`` when the file is anything else: then
    read it so, which also names whatever is wrong.

    The common case without the general path's costs: no ``Path``, one open and read, the UTF-8
    bytes parsed as they are (orjson checks them) rather than decoded to text and encoded back.
    """
    limit = current_limits().max_file_bytes
    try:  # a FIFO, a device or a file over the limit: refused, then named by the general path
        with os.fdopen(open_regular(name, limit), "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    if not raw:
        return None
    if raw.startswith(_MARKS):
        return None
    try:
        obj = orjson.loads(raw)  # valid JSON has no NUL and, here, valid UTF-8
    except orjson.JSONDecodeError:
        return None
    if type(obj) is not dict or "utterances" not in obj:  # not csqa JSON (see _is_csqa)
        return None
    if duplicate_key(raw, obj) is not None:
        return None  # rejected, naming the key, by the general path
    base = os.path.basename(name)
    dot = base.rfind(".")
    stem = base[:dot] if 0 < dot < len(base) - 1 else base  # as Path.stem
    # printable: no escape, DEL or C1 byte, so no control character can be in any text (and
    # decode() would not have found too many of them)
    return _quick_call(obj, name, stem, None, no_control_characters(raw))


def read_call_file(name: str) -> list[Transcript | InputProblem]:
    """Everything ``read_guarded(Path(name), load_json)`` gives, by the shortest way (what a
    worker runs for a ``.json`` file it was handed, see :class:`csqa.loaders.LoaderEntry`)."""
    plain = plain_call_file(name)
    return [plain] if plain is not None else list(read_guarded(Path(name), load_json))


def load_json(path: Path) -> Iterator[Transcript | InputProblem]:
    """A ``*.json`` file of any supported shape, detected from its content."""
    name = str(path)
    data = _read_or_problem(path)
    if isinstance(data, InputProblem):
        yield data
        return
    module = detect_json(data)
    if module is not None:
        yield from _run(module, data, name, path.stem)
    elif _is_csqa(data) or _csqa_without_utterances(data) or not isinstance(data, (dict, list)):
        yield from csqa_json.from_data(data, name, path.stem)
    else:
        keys = ", ".join(list(data)[:6]) if isinstance(data, dict) else "列表"
        yield InputProblem(
            name,
            None,
            f"无法识别的 JSON 结构(顶层:{keys}):既不是 csqa JSON,"
            f"也不是已知的 ASR 导出;支持:{names()}"
            "(可用 --input-format 指定)",
        )


def _forced_json(module: ModuleType) -> Loader:
    def load(path: Path) -> Iterator[Transcript | InputProblem]:
        name = str(path)
        data = _read_or_problem(path)
        if isinstance(data, InputProblem):
            yield data
            return
        if not isinstance(data, (dict, list)) or not _shape_ok(module, data):
            yield InputProblem(name, None, f"不是 {module.NAME} 导出({module.TITLE})")
            return
        yield from _run(module, data, name, path.stem)

    return load


def _shape_ok(module: ModuleType, data: Any) -> bool:
    try:
        return bool(module.detect(data))
    except Exception:  # a detector meeting a foreign shape: simply "not this format"
        return False


FORMATS: dict[str, Format] = {
    "csqa": Format("csqa", "csqa call JSON (utterances[] speaker/start/end/text)", csqa_json.load),
    **{m.NAME: Format(m.NAME, m.TITLE, _forced_json(m)) for m in JSON_FORMATS},
    "webvtt": Format("webvtt", "WebVTT with <v 坐席> voice tags", subtitles.load_vtt),
    "srt": Format("srt", "SubRip with 坐席：/客户： prefixes", subtitles.load_srt),
}


def names() -> str:
    return ", ".join(FORMATS)


def forced(name: str) -> Loader:
    """The loader for ``--format NAME``; InputError for an unknown name."""
    key = name.strip().lower()
    aliases = {
        "whisperx": "whisper",
        "vtt": "webvtt",
        "paraformer": "funasr",
        "aws": "aws-transcribe",
        "aws-ca": "aws-call-analytics",
        "xfyun": "iflytek",
        "aliyun": "alibaba",
        "json": "csqa",
    }
    key = aliases.get(key, key)
    if key not in FORMATS:
        raise InputError(f"--input-format {name}: 未知的格式;可选:{names()}")
    return FORMATS[key].loader
