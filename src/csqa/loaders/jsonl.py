"""JSON Lines: one csqa call object per line (``*.jsonl``), the shape of a nightly bulk export.

Streamed, never read whole (1 MiB blocks, cut into lines in C): a bad line (NUL bytes
included) loses that line only, reported with its line number, and a line longer than the file-size limit
(``--max-file-mb``) is refused without being held in memory. Each line's encoding is detected
on its own (UTF-8, GB18030/GBK); a file starting with a UTF-16 byte-order mark is read as UTF-16 throughout.
More than :data:`MAX_BLANK_RUN` blank lines in a row end the file with an error.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any

import orjson

from csqa.loaders import common
from csqa.loaders.common import (
    LoadProblem,
    current_limits,
    decode,
    duplicate_key,
    duplicate_key_problem,
    from_mapping,
    no_control_characters,
)
from csqa.model import InputProblem, Transcript

#: bytes read at a time (lines are cut from blocks in C, not read one by one)
_BLOCK = 1 << 20


class _Rejoined:
    """A stream whose first bytes were read to sniff them, put back in front: archive
    members (tar streams) cannot seek back."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = io.BytesIO(head)
        self._rest = rest

    def readline(self, limit: int = -1) -> bytes:
        line = self._head.readline(limit)
        if line.endswith(b"\n") or (limit >= 0 and len(line) >= limit):
            return line
        return line + self._rest.readline(-1 if limit < 0 else limit - len(line))

    def read(self, size: int = -1) -> bytes:
        data = self._head.read(size)
        if size < 0:
            return data + self._rest.read()
        if len(data) < size:
            data += self._rest.read(size - len(data))
        return data


def _lines(blocks: Iterable[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, bytes)`` of the lines in ``blocks`` (the file cut anywhere), each with its
    ``\n`` as read; ``bytes`` is ``None`` for a line over ``limit`` (skipped: at most ``limit``
    bytes of it are held, then the rest is dropped block by block). A block is cut into lines
    in C (``BytesIO.readlines``, a ``memchr`` per line); the lines are those ``readline`` gives.
    """
    lineno = 0
    parts: list[bytes] = []  # the start of a line that goes on in the next block
    held = 0  # the bytes in ``parts``
    skipping = False  # inside a line over the limit
    longest = limit + 1  # with its newline
    for block in blocks:
        lines = io.BytesIO(block).readlines()
        tail = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
        if not lines:  # no line ends in this block
            if not skipping:
                held += len(tail)
                if held > limit:
                    skipping, parts, held = True, [], 0
                else:
                    parts.append(tail)
            continue
        first = lines[0]
        lineno += 1
        if skipping:
            skipping = False
            yield lineno, None
        elif parts:
            if held + len(first) > longest:
                yield lineno, None
            else:
                parts.append(first)
                yield lineno, b"".join(parts)
            parts, held = [], 0
        else:
            yield lineno, first if len(first) <= longest else None
        for line in islice(lines, 1, None):
            lineno += 1
            yield lineno, line if len(line) <= longest else None
        if tail:
            if len(tail) > limit:
                skipping = True
            else:
                parts, held = [tail], len(tail)
    if skipping or parts:
        yield lineno + 1, None if skipping else b"".join(parts)


def _blocks(head: bytes, rest: IO[bytes]) -> Iterator[bytes]:
    """``head`` then the rest of the stream, a block at a time."""
    if head:
        yield head
    read = rest.read
    while block := read(_BLOCK):
        yield block


def _utf16_lines(fh: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """UTF-16 lines re-encoded as UTF-8, so the rest of the loader sees one encoding."""
    head = fh.read(2)
    reader = codecs.getreader("utf-16-le" if head == b"\xff\xfe" else "utf-16-be")(fh)
    lineno = 0
    while True:
        line = reader.readline(limit + 1)
        if not line:
            return
        lineno += 1
        if len(line) > limit // 2 and not line.endswith("\n"):
            yield lineno, None
            return  # cannot resynchronise cheaply on UTF-16; the rest is not read
        yield lineno, line.encode("utf-8")


_BLANK = frozenset(b" \t\n\r\x0b\x0c")  # what bytes.strip() removes

#: non-blank lines per :class:`Lines` chunk
CHUNK_LINES = 256
#: blank lines in a row after which the rest of a file is not read: a 1 MB ``.jsonl.gz`` can
#: hold a gigabyte of them, minutes of work for nothing
MAX_BLANK_RUN = 10_000


def _binary(head: bytes) -> bool:
    """Whether a file whose first bytes hold NUL bytes is binary data, not JSON Lines with a
    damaged line (which loses that line only): its first bytes break into lines, and not one of
    them starts a call object."""
    lines = head.split(b"\n")
    return len(lines) > 1 and not any(
        line.lstrip(b" \t\r\xef\xbb\xbf").startswith(b"{") for line in lines)


@dataclass(frozen=True, slots=True)
class Lines:
    """Raw, non-blank lines of a JSON Lines file, parsed where they are audited.

    ``csqa audit`` hands these to its worker processes, so that parsing runs in parallel and the
    reading process only reads; :meth:`load` gives exactly what :func:`load` gives for them.
    """

    file: str
    lines: list[tuple[int, bytes]]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # pickled as one block of bytes with the line numbers and lengths: the reading process
        # pickles every chunk it sends, and a bytes object per line costs it far more
        numbers = [n for n, _ in self.lines]
        raws = [raw for _, raw in self.lines]
        return _rebuilt, (self.file, numbers, list(map(len, raws)), b"".join(raws))

    def load(self) -> Iterator[Transcript | InputProblem]:
        name = self.file
        loads, quick_call = orjson.loads, common._quick_call
        for lineno, raw in self.lines:
            try:
                try:  # a plain call straight away; anything else as _load_line reads it
                    obj = loads(raw)
                except orjson.JSONDecodeError:
                    obj = None
                if type(obj) is dict and duplicate_key(raw, obj) is None:
                    call = quick_call(obj, name, None, lineno, no_control_characters(raw))
                    if call is not None:
                        yield call
                        continue
                yield from _load_line(raw, name, lineno)
            except Exception as exc:  # a loader bug must cost one line, never the batch
                yield InputProblem(self.file, lineno, "无法读取:内部错误 "
                                   f"{type(exc).__name__}: {exc}(请报告此问题)")


def _rebuilt(file: str, numbers: list[int], lengths: list[int], data: bytes) -> Lines:
    """A :class:`Lines` from what its ``__reduce__`` gives."""
    lines = []
    pos = 0
    for n, size in zip(numbers, lengths, strict=True):
        end = pos + size
        lines.append((n, data[pos:end]))
        pos = end
    return Lines(file, lines)


def load(path: Path) -> Iterator[Transcript | InputProblem]:
    for item in chunks(path, size=1):  # each call as soon as its line is read
        if isinstance(item, Lines):
            yield from item.load()
        else:
            yield item


def chunks(path: Path, size: int = CHUNK_LINES) -> Iterator[Lines | InputProblem]:
    """The file as :class:`Lines` chunks of up to ``size`` non-blank lines, and a problem for
    each line or file that cannot be read (same checks and messages as :func:`load`)."""
    name = str(path)
    limit = current_limits().max_file_bytes
    with path.open("rb") as raw:
        head = raw.read(8192)
        utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
        if not utf16 and b"\x00" in head and _binary(head):
            yield InputProblem(name, None, "二进制数据(含 NUL 字节):不是 JSON Lines 文件"
                                           "(应为每行一个通话对象,UTF-8 或 GBK)")
            return
        batch: list[tuple[int, bytes]] = []
        blank = 0  # blank lines in a row
        try:
            lines = (_utf16_lines(_Rejoined(head, raw), limit) if utf16  # type: ignore[arg-type]
                     else _lines(_blocks(head, raw), limit))
            for lineno, line in lines:
                if line is None:
                    if batch:
                        yield Lines(name, batch)
                        batch = []
                    yield InputProblem(name, lineno, f"这一行超过 "
                                       f"{current_limits().max_file_mb:g} MB 的上限"
                                       "(--max-file-mb);未读取")
                    continue
                if line[0] in _BLANK and not line.strip():  # a blank line starts with a blank
                    blank += 1
                    if blank > MAX_BLANK_RUN:
                        if batch:
                            yield Lines(name, batch)
                        yield InputProblem(name, lineno - MAX_BLANK_RUN, f"从这里起连续超过 "
                                           f"{MAX_BLANK_RUN} 个空行(导出被填充或已损坏);"
                                           "文件其余部分未读取")
                        return
                    continue
                blank = 0
                batch.append((lineno, line))
                if len(batch) >= size:
                    yield Lines(name, batch)
                    batch = []
        except UnicodeDecodeError:
            if batch:
                yield Lines(name, batch)
                batch = []
            yield InputProblem(name, None, "有 UTF-16 字节顺序标记,但不是有效的 UTF-16 文本"
                                           "(被截断或已损坏);其余部分未读取")
        except Exception:  # a read error: the lines read before it are still audited
            if batch:
                yield Lines(name, batch)
            raise
        if batch:
            yield Lines(name, batch)


def _load_line(raw: bytes, name: str, lineno: int) -> Iterator[Transcript | InputProblem]:
    if not raw.strip():
        return
    text: bytes | str = raw
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        if b"\x00" in raw:
            yield InputProblem(name, lineno, "这一行有二进制数据(含 NUL 字节):应为每行一个"
                                             "通话对象(UTF-8 或 GBK)")
            return
        try:
            text = decode(raw)
            obj = orjson.loads(text)
        except (orjson.JSONDecodeError, LoadProblem) as exc:
            msg = exc.reason if isinstance(exc, LoadProblem) else exc.msg
            yield InputProblem(name, lineno, f"JSON 格式有误:{msg}(应为每行一个通话对象)")
            return
    try:
        key = duplicate_key(text, obj)
        if key is not None:
            raise LoadProblem(duplicate_key_problem(key))
        yield from_mapping(obj, name, None, lineno)
    except LoadProblem as exc:
        cid = obj.get("call_id") if isinstance(obj, dict) else None
        yield InputProblem(name, lineno, exc.reason,
                           call_id=cid if isinstance(cid, str) else None)
