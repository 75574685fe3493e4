"""What every loader shares: decoding text, size limits, and turning a call into a Transcript.

Hostile input is handled here once for every format:

- :func:`decode` detects the encoding (BOM, strict UTF-8, or GB18030/GBK checked for being
  plausible Chinese text) and refuses binary data;
- :class:`Limits` bounds utterance length, utterances per call and file size;
- :func:`finish` repairs what can be repaired *with a warning* (an utterance ending before it
  starts is clamped; times written in milliseconds are converted) and rejects the rest with a
  message saying what was wrong and what was expected.
"""

from __future__ import annotations

import errno
import math
import operator
import re
import stat
import statistics
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from csqa.model import InputProblem, Transcript, Utterance
from csqa.safeio import BROKEN_LINK, NOT_REGULAR

AGENT_LABELS = {"agent", "坐席", "客服", "座席", "seat", "staff", "a"}
CUSTOMER_LABELS = {"customer", "客户", "顾客", "用户", "caller", "client", "user", "c"}
HANGUP_LABELS = {
    "agent": "agent", "坐席": "agent", "客服": "agent", "座席": "agent",
    "customer": "customer", "客户": "customer", "顾客": "customer", "用户": "customer",
    "system": "system", "系统": "system",
}
UNKNOWN_HANGUP = {"", "unknown", "未知", "none", "null"}
CALL_FIELDS = ("call_id", "agent_id", "agent_name", "team", "started_at", "hangup_by", "duration",
               "timing", "channels", "truncated", "direction")
# What a recording can show (see Transcript): accepted spellings -> canonical value.
TIMING_LABELS = {"utterance": "utterance", "utterances": "utterance", "yes": "utterance",
                 "none": "none", "no": "none", "无": "none", "untimed": "none"}
CHANNEL_LABELS = {"stereo": "stereo", "dual": "stereo", "2": "stereo", "双声道": "stereo",
                  "mono": "mono", "1": "mono", "单声道": "mono"}
TRUNCATED_LABELS = {"start": "start", "end": "end", "both": "both", "none": None, "no": None}
#: Who placed the call (the outbound rules need it): accepted spellings -> canonical value.
DIRECTION_LABELS: dict[str, str | None] = {
    "inbound": "inbound", "in": "inbound", "incoming": "inbound", "呼入": "inbound", "来电": "inbound",
    "outbound": "outbound", "out": "outbound", "outgoing": "outbound", "呼出": "outbound",
    "外呼": "outbound", "去电": "outbound",
    "unknown": None, "未知": None,
}


class LoadProblem(Exception):
    """A call that cannot be read; ``line`` is the line of the file, when known."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits for input (all configurable from the CLI).

    ``max_file_mb`` refuses a whole-file format (.json, .txt, .csv…) larger than this before
    reading it; JSON Lines files are streamed line by line whatever their size, and a single
    line over this size is refused (that line only).
    """

    max_file_mb: float = 100.0
    max_utterance_chars: int = 20_000
    max_utterances: int = 20_000

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


_limits = Limits()


def current_limits() -> Limits:
    """The limits loaders apply now (see :func:`use_limits`)."""
    return _limits


@contextmanager
def use_limits(limits: Limits | None) -> Iterator[Limits]:
    """Apply ``limits`` (``None``: the defaults) to every load inside the ``with`` block."""
    global _limits
    previous = _limits
    _limits = limits or Limits()
    try:
        yield _limits
    finally:
        _limits = previous


#: Streamed formats: read line by line (JSON Lines) or member by member (archives, whose
#: members are limited one by one), so the file-size limit does not apply to the file.
STREAMED_SUFFIXES = {".jsonl", ".zip", ".gz", ".tgz", ".tar", ".bz2", ".xz"}

ENCODINGS_EXPECTED = "应为 UTF-8、带字节顺序标记(BOM)的 UTF-8 或 UTF-16,或 GB18030/GBK"
# C0 controls other than tab, newline, form feed and carriage return; DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MAX_CONTROL_SHARE = 0.005
# Share of non-ASCII characters that must be common (GB2312) Chinese for bytes to be read as
# GBK: real Chinese text is almost all GB2312; binary junk decoded as GB18030 lands mostly in
# the GBK extension areas and in four-byte sequences.
_MIN_GB2312_SHARE = 0.6


def _too_many_controls(text: str) -> bool:
    if _CONTROL.search(text) is None:
        return False
    return len(_CONTROL.findall(text)) > max(1, len(text) * _MAX_CONTROL_SHARE)


def _plausible_gbk(text: str) -> bool:
    # Counted by the codecs (C speed, even for a 100 MB file): characters GB2312 cannot
    # encode become "?" in the encoded form.
    wide = len(text) - len(text.encode("ascii", "ignore"))
    if not wide:
        return True
    failed = text.encode("gb2312", "replace").count(b"?") - text.count("?")
    return wide - failed >= _MIN_GB2312_SHARE * wide


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return any(b > 0x7F for b in data)


def decode(data: bytes) -> str:
    """Text of a transcript file, its encoding detected from the bytes (never the file name).

    A UTF-16 or UTF-8 byte-order mark decides; otherwise strict UTF-8; otherwise GB18030
    (a superset of GBK) when the result reads as Chinese text. Anything else — binary data,
    another encoding, a file cut in the middle of a character — raises :class:`LoadProblem`.
    """
    if not data:
        raise LoadProblem("空文件(0 字节):应为转写")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise LoadProblem("有 UTF-16 字节顺序标记,但不是有效的 UTF-16 文本"
                              "(被截断或已损坏)") from None
        if _too_many_controls(text):
            raise LoadProblem("UTF-16 字节顺序标记之后是二进制数据:不是文本文件")
        return text
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise LoadProblem(f"有 UTF-8 字节顺序标记,但不是有效的 UTF-8(偏移 {exc.start} "
                              "处有错误字节)") from None
    if b"\x00" in data:
        raise LoadProblem("二进制数据(含 NUL 字节):不是文本文件"
                          f"({ENCODINGS_EXPECTED};UTF-16 须带字节顺序标记)")
    utf8_error: str | None = None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if _is_utf8(data[: exc.start]):  # UTF-8 text up to here: say where it breaks
            if exc.reason == "unexpected end of data":
                raise LoadProblem(f"文件被截断:结束在一个 UTF-8 字符的中间"
                                  f"(第 {exc.start} 字节);应为完整的文件") from None
            utf8_error = (f"不是有效的 UTF-8:偏移 {exc.start} 处有错误字节(文件损坏,或混用了"
                          f"多种编码);{ENCODINGS_EXPECTED}")
    else:
        if _too_many_controls(text):
            raise LoadProblem("二进制数据(含控制字符):不是文本文件")
        return text
    unsupported = utf8_error or f"不是受支持编码的文本:{ENCODINGS_EXPECTED}"
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise LoadProblem(unsupported) from None
    if _too_many_controls(text) or not _plausible_gbk(text):
        raise LoadProblem(unsupported)
    return text


def file_too_big(path: Path, size: int, limits: Limits | None = None) -> str | None:
    """Why ``path`` (of ``size`` bytes) is refused before reading, or ``None`` when it is fine."""
    limits = limits or _limits
    if path.suffix.lower() in STREAMED_SUFFIXES or size <= limits.max_file_bytes:
        return None
    return (f"文件有 {size / 1024 / 1024:.1f} MB,超过整体读入文件的上限 {limits.max_file_mb:g} MB"
            f"(请拆分文件、导出为逐行读取的 JSON Lines,或调高 --max-file-mb);未读取")


def read_guarded(path: Path, loader: Any) -> Iterator[Transcript | InputProblem]:
    """Run ``loader`` on ``path`` so that the file is always accounted for.

    Too-large files are refused before any byte is read; a loader that fails unexpectedly
    lists the file instead of stopping the run; a file that gives nothing at all (0 bytes,
    only blank lines) is listed too, so no file is ever silently lost.
    """
    name = str(path)
    try:
        st = path.stat()
    except OSError as exc:
        gone = exc.errno == errno.ENOENT and path.is_symlink()
        yield InputProblem(name, None, f"无法读取:{BROKEN_LINK}" if gone else
                           f"无法读取:{exc.strerror or exc}")
        return
    if not stat.S_ISREG(st.st_mode):  # a FIFO would block the run, a device never end
        yield InputProblem(name, None, f"无法读取:{NOT_REGULAR}")
        return
    size = st.st_size
    too_big = file_too_big(path, size)
    if too_big:
        yield InputProblem(name, None, too_big)
        return
    count = 0
    try:
        for item in loader(path):
            count += 1
            yield item
    except OSError as exc:
        count += 1
        yield InputProblem(name, None, f"无法读取:{exc.strerror or exc}")
    except LoadProblem as exc:
        count += 1
        yield InputProblem(name, exc.line, exc.reason)
    except Exception as exc:  # a loader bug must cost one file, never the night's run
        count += 1
        yield InputProblem(name, None, f"无法读取:内部错误 {type(exc).__name__}: "
                                       f"{str(exc)[:200]}(请报告此问题)")
    if count == 0:
        yield InputProblem(name, None, "空文件(0 字节):应为转写" if size == 0
                           else "文件中没有找到通话(只有空行,或只有表头没有数据行)")


_CONTROL_TABLE = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F,
                                *range(0x80, 0xA0)])
_CONTROL_TABLE_ID = dict.fromkeys([*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)])


_CONTROL_RE = re.compile("[" + "".join(map(chr, _CONTROL_TABLE)) + "]")
_CONTROL_ID_RE = re.compile("[" + "".join(map(chr, _CONTROL_TABLE_ID)) + "]")


def clean_text(text: str) -> str:
    """Utterance text without control characters (terminal escapes, NUL, BEL…): they can
    drive a terminal, break XML reports, and never carry speech."""
    # one regex search finds there are none (nearly always), cheaper than translating
    return text.translate(_CONTROL_TABLE) if _CONTROL_RE.search(text) else text


def speaker_role(label: Any) -> str | None:
    """``agent`` or ``customer`` for a speaker label in English or Chinese, else ``None``."""
    if not isinstance(label, str):
        return None
    key = label.strip().lower()
    if key in AGENT_LABELS:
        return "agent"
    if key in CUSTOMER_LABELS:
        return "customer"
    return None


def hangup_side(value: Any) -> str | None:
    """Normalise a hang-up side; ``None`` for unknown. Raises LoadProblem for nonsense."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise LoadProblem(f"hangup_by: 应为 agent、customer、system 或 null,实际是 {value!r}")
    key = value.strip().lower()
    if key in UNKNOWN_HANGUP:
        return None
    if key in HANGUP_LABELS:
        return HANGUP_LABELS[key]
    raise LoadProblem(f"hangup_by: 应为 agent、customer、system 或 null,实际是 {value!r}")


def seconds(value: Any, what: str) -> float:
    """A time in seconds: a finite number ≥ 0 (numeric strings accepted, as CSV gives them)."""
    expected = "应为从通话开始算起的秒数(≥ 0 的数)"
    if isinstance(value, bool) or value is None:
        raise LoadProblem(f"{what}: {expected},实际是 {value!r}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise LoadProblem(f"{what}: {expected},实际是 {value[:40]!r}") from None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        shown = value if isinstance(value, (int, float)) else type(value).__name__
        raise LoadProblem(f"{what}: {expected},实际是 {shown!r}")
    if value < 0:
        raise LoadProblem(f"{what}: 时间为负数 {value:g}({expected})")
    return float(value)


def optional_text(value: Any, what: str) -> str | None:
    """A call-level text field (ids, names) with control characters removed; ``None`` if empty."""
    if value is None or value == "":
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        text = str(value)
        if _CONTROL_ID_RE.search(text):
            text = text.translate(_CONTROL_TABLE_ID)
        return text.strip() or None
    raise LoadProblem(f"{what}: 应为文本,实际是 {type(value).__name__}")


#: the fields that are keys (calls and agents are counted by them, reports grouped by team)
ID_FIELDS = ("call_id", "agent_id", "team")


def normal_id(value: str | None, what: str, warnings: list[str]) -> str | None:
    """An id (call_id, agent_id, team) as csqa compares it: NFKC (full-width ``Ａ１`` is
    ``A1``) and without format characters (zero-width spaces, direction marks, a stray
    byte-order mark), which make look-alike ids separate agents. A change is recorded in
    ``warnings``; ``None`` when nothing is left."""
    if value is None or value.isascii():
        return value
    norm = "".join(ch for ch in unicodedata.normalize("NFKC", value)
                   if unicodedata.category(ch) != "Cf").strip()
    if norm != value:
        warnings.append(f"{what}: {value!r} 按 {norm!r} 读取(去掉了全角形式和不可见字符,"
                        "使看起来相同的 ID 算作同一个)")
    return norm or None


def plain_ids(ids: str) -> bool:
    """Whether ids joined into one text need no :func:`normal_id` (one C-level pass or two)."""
    return ids.isascii() or (ids.isprintable() and unicodedata.is_normalized("NFKC", ids))


def check_started_at(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise LoadProblem(f"started_at: 应为 ISO 8601 日期时间,如 "
                          f"2026-11-21T09:15:02+08:00,实际是 {value[:40]!r}") from None
    return value


def label(value: Any, labels: dict[str, Any], what: str) -> Any:
    """A call-level flag (timing, channels, truncated) in one of its accepted spellings."""
    if value is None or value == "":
        return None
    key = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if key is None or key not in labels:
        choices = ", ".join(dict.fromkeys(k for k in labels if k.isascii()))
        raise LoadProblem(f"{what}: 应为以下之一:{choices},实际是 {value!r}")
    return labels[key]


def untimed(value: Any) -> bool:
    """Whether a start/end value is absent (allowed only in a transcript without timing)."""
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(slots=True, unsafe_hash=True)
class RawUtterance(Utterance):
    """An utterance as read, before :func:`finish` checks it; ``where`` names it in messages."""

    where: str = ""


def make_utterance(speaker: Any, start: Any, end: Any, text: Any, where: str,
                   timed: bool = True) -> Utterance:
    """One utterance read from a file, checked field by field (``where``: ``line 3``, …).

    With ``timed=False`` (a transcript without times) start/end may be absent and default to 0.
    An end before the start is not an error here: :func:`finish` clamps it with a warning.
    """
    role = speaker_role(speaker)
    if role is None:
        shown = speaker[:40] if isinstance(speaker, str) else speaker
        raise LoadProblem(f"{where}.speaker: 无法识别的说话人 {shown!r}"
                          "(应为 agent/坐席/客服 或 customer/客户/顾客)")
    if not timed and untimed(start) and untimed(end):
        start = end = 0.0
    s = seconds(start, f"{where}.start")
    e = seconds(end, f"{where}.end")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise LoadProblem(f"{where}.text: 应为文本,实际是 {type(text).__name__}")
    limit = _limits.max_utterance_chars
    if len(text) > limit:
        raise LoadProblem(f"{where}.text: {len(text)} 个字,超过每句 {limit} 个字的上限"
                          "(--max-utterance-chars)")
    return RawUtterance(index=-1, speaker=role, start=s, end=e, text=clean_text(text), where=where)


# Times are taken as milliseconds when the call has at least 3 utterances, every time is a
# whole number, and the median utterance would last longer than this many seconds: spoken
# turns last seconds, so a median of 100+ "seconds" means the export counted milliseconds.
# (One or two long utterances may be a whole channel exported as one segment: left alone.)
_MS_MEDIAN_SECONDS = 100.0


def _looks_like_milliseconds(utterances: list[Utterance]) -> bool:
    if len(utterances) < 3:
        return False
    times = [t for u in utterances for t in (u.start, u.end)]
    if any(t != int(t) for t in times):
        return False
    durations = [u.end - u.start for u in utterances]
    return statistics.median(durations) >= _MS_MEDIAN_SECONDS


def _where(u: Utterance) -> str:
    return u.where if isinstance(u, RawUtterance) and u.where else f"utterance {u.index}"


def finish(meta: Mapping[str, Any], utterances: list[Utterance], source: str,
           default_call_id: str | None, line: int | None = None) -> Transcript:
    """Build a Transcript from call-level fields and unsorted utterances, checking both.

    Repairs, each recorded in ``Transcript.warnings``: times in milliseconds are converted to
    seconds; an utterance whose end is before its start gets ``end = start``.
    """
    warnings: list[str] = []
    call_id = (normal_id(optional_text(meta.get("call_id"), "call_id"), "call_id", warnings)
               or default_call_id)
    if not call_id:
        raise LoadProblem('call_id: 缺失(应有通话 ID,如 "call_id": '
                          '"20261121-000123")')
    agent_id = normal_id(optional_text(meta.get("agent_id"), "agent_id"), "agent_id", warnings)
    if not agent_id:
        raise LoadProblem("agent_id: 缺失(每通通话都要写明坐席)")
    if not utterances:
        raise LoadProblem("utterances: 没有(应至少有一句话,含 speaker、start、end 和 text)")
    limit = _limits.max_utterances
    if len(utterances) > limit:
        raise LoadProblem(f"utterances: {len(utterances)} 句,超过每通 {limit} 句的上限"
                          "(--max-utterances)")
    timing = label(meta.get("timing"), TIMING_LABELS, "timing") or "utterance"
    raw_duration = meta.get("duration")
    duration = seconds(raw_duration, "duration") if raw_duration not in (None, "") else None
    if timing != "none" and _looks_like_milliseconds(utterances):
        latest = max(u.end for u in utterances)
        warnings.append(f"时间看起来是毫秒(每句时长中位数 "
                        f"{statistics.median(u.end - u.start for u in utterances):g},最晚结束 "
                        f"{latest:g});已按毫秒读取")
        utterances = [replace(u, start=u.start / 1000, end=u.end / 1000) for u in utterances]
        if duration is not None and duration >= latest / 2:
            duration /= 1000
    fixed: list[Utterance] = []
    for u in utterances:
        if u.end < u.start:
            warnings.append(f"{_where(u)}: 结束 {u.end:g} 早于开始 {u.start:g};"
                            f"已改为 结束 = 开始(应为 结束 ≥ 开始)")
            u = replace(u, end=u.start)
        fixed.append(u)
    # without times, the order given is the order spoken
    ordered = sorted(fixed, key=lambda u: (u.start, u.end)) if timing != "none" else fixed
    t = Transcript(
        call_id=call_id,
        agent_id=agent_id,
        agent_name=optional_text(meta.get("agent_name"), "agent_name"),
        team=normal_id(optional_text(meta.get("team"), "team"), "team", warnings),
        started_at=check_started_at(optional_text(meta.get("started_at"), "started_at")),
        hangup_by=hangup_side(meta.get("hangup_by")),
        duration=duration,
        utterances=[u if u.index == i and type(u) is Utterance
                    else Utterance(i, u.speaker, u.start, u.end, u.text)
                    for i, u in enumerate(ordered)],
        source=source,
        line=line,
        timing=timing,
        channels=label(meta.get("channels"), CHANNEL_LABELS, "channels") or "stereo",
        truncated=label(meta.get("truncated"), TRUNCATED_LABELS, "truncated"),
        direction=label(meta.get("direction"), DIRECTION_LABELS, "direction"),
    )
    t.warnings.extend(warnings)
    return t


_ROLES: dict[str, str] = {}  # speaker labels seen -> role, for _quick_utterance
_NUMBERS = (int, float)


def _quick_utterance(u: dict[str, Any], limit: int, index: int) -> Utterance | None:
    """What :func:`make_utterance` gives for a plain timed utterance (a known speaker label,
    finite times with end ≥ start, text within the limit), or ``None`` to take the slow path,
    which also names whatever is wrong. It is made with its final ``index`` already (its
    position in the input): :func:`finish` keeps it as it is when the call is in order."""
    speaker, start, end, text = u.get("speaker"), u.get("start"), u.get("end"), u.get("text")
    if (type(start) not in _NUMBERS or type(end) not in _NUMBERS or type(text) is not str
            or type(speaker) is not str or not 0 <= start <= end < math.inf  # type: ignore[operator]
            or len(text) > limit):
        return None
    role = _ROLES.get(speaker)
    if role is None:
        role = speaker_role(speaker)
        if role is None:
            return None
        if len(_ROLES) < 1000:
            _ROLES[speaker] = role
    return Utterance(index, role, float(start), float(end), clean_text(text))  # type: ignore[arg-type]


_GET_UTTERANCE = operator.itemgetter("speaker", "start", "end", "text")
_DICT = frozenset((dict,))
_STR = frozenset((str,))
_STR_OR_NONE = frozenset((str, type(None)))
_NUMBER = frozenset((int, float))
_MISSING = object()
# Call-level flags as :func:`label` reads them, for values already in their plain spelling
# (``label`` strips and lower-cases first; any other spelling takes the checked path).
_TIMED_SPELLINGS = frozenset(k for k, v in TIMING_LABELS.items() if v == "utterance") | {""}
_CHANNELS_EXACT = {**CHANNEL_LABELS, "": "stereo"}
_TRUNCATED_EXACT = {**TRUNCATED_LABELS, "": None}
_DIRECTION_EXACT = {**DIRECTION_LABELS, "": None}
_HANGUP_EXACT: dict[str, str | None] = {**HANGUP_LABELS, **dict.fromkeys(UNKNOWN_HANGUP)}


_KEY_TOKEN = re.compile(r'"\s*:')
_KEY_TOKEN_B = re.compile(rb'"\s*:')
_ESCAPED_COLON = re.compile(rb"\\u003[aA]")
_CONTAINERS = (dict, list)
_TEXT = operator.itemgetter("text")


def _key_count(obj: Any) -> int:
    """How many keys the objects in ``obj`` hold, nested ones included."""
    n, stack = 0, [obj]
    while stack:
        o = stack.pop()
        if type(o) is dict:
            n += len(o)
            stack.extend([v for v in o.values() if type(v) in _CONTAINERS])
        elif type(o) is list:
            stack.extend([v for v in o if type(v) in _CONTAINERS])
    return n


def _colons_are_keys(raw: bytes, obj: dict[str, Any]) -> bool:
    """Whether the JSON text ``raw`` of a call ``obj`` has a colon for every key counted and
    none more, so that no key can be written twice: each key is followed by one colon, and
    the text's other colons are those in its strings (with no ``\\u003a`` escape, those of the
    parsed strings). Keys of the call and its utterances are counted, colons of the call's
    strings (a start time) and utterance texts subtracted; a nested object or a colon
    elsewhere only sends the call to the slower, exact check."""
    utts = obj.get("utterances")
    excess = raw.count(b":") - len(obj)
    if type(utts) is list and _DICT.issuperset(map(type, utts)):
        excess -= sum(map(len, utts))
    if excess > 0 and type(started := obj.get("started_at")) is str:
        excess -= started.count(":")  # 09:15:02+08:00, nearly always the only ones
    if excess > 0:
        excess -= sum([v.count(":") for k, v in obj.items() if type(v) is str
                       and k != "started_at"])
        if excess > 0 and type(utts) is list:
            try:
                excess -= "".join(map(_TEXT, utts)).count(":")
            except (KeyError, TypeError):
                return False
    return excess == 0 and (b"\\" not in raw or _ESCAPED_COLON.search(raw) is None)


def duplicate_key(raw: bytes | str, obj: Any) -> str | None:
    """A key written twice in one object of the JSON text ``raw`` (parsed as ``obj``), or
    ``None``. JSON parsers keep the last of two silently (``agent_id`` twice: the call is
    counted for whichever agent came last), so such a call is rejected.

    Cheap when there is none, as nearly always: a plain call is checked by counting its colons
    (:func:`_colons_are_keys`, a C-level byte count); anything else by counting ``"`` + colon
    (each key is one; more only when a key is repeated or a string holds one) against the
    keys parsed. Only a text that fails both is parsed again, slowly, to find the key."""
    if type(raw) is bytes and type(obj) is dict and _colons_are_keys(raw, obj):
        return None
    tokens = _KEY_TOKEN_B.findall(raw) if type(raw) is bytes else _KEY_TOKEN.findall(raw)  # type: ignore[arg-type]
    if len(tokens) == _key_count(obj):
        return None
    return _first_duplicate(raw)


def _first_duplicate(raw: bytes | str) -> str | None:
    import json

    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if not found:
            seen: set[str] = set()
            for key, _ in items:
                if key in seen:
                    found.append(key)
                    break
                seen.add(key)
        return dict(items)

    try:
        json.loads(raw, object_pairs_hook=pairs)
    except ValueError:  # what orjson read and json does not: nothing more to say
        return None
    return found[0] if found else None


def duplicate_key_problem(key: str) -> str:
    """The reason a call with a key written twice is rejected."""
    return (f"同一个对象中键 {key!r} 出现了两次(无法判断用哪个值);每个键只应出现一次")


def no_control_characters(raw: bytes) -> bool:
    """Whether no string of the JSON text ``raw`` (valid UTF-8, as orjson parsed it) can hold a
    control character: JSON writes U+0000–U+001F only as escapes (a backslash), U+007F is the
    byte 0x7F and U+0080–U+009F start with the byte 0xC2. Three C-level byte scans, cheaper
    than looking at every character of every text."""
    return b"\\" not in raw and b"\x7f" not in raw and b"\xc2" not in raw



def _exact(value: Any, table: dict[str, Any]) -> Any:
    """``value`` (None when absent) as ``table`` spells it, or ``_MISSING`` when it is not one
    of the plain spellings the whole-call path takes."""
    if value is None:
        return None
    return table.get(value, _MISSING) if type(value) is str else _MISSING

def _quick_call(obj: dict[str, Any], source: str, default_call_id: str | None,
                line: int | None, printable: bool = False) -> Transcript | None:
    """What :func:`from_mapping` gives for a plain, well-formed call, or ``None`` to take the
    checked path (which also names whatever is wrong). Never raises for bad input.

    Plain means: timed utterances, each an object with speaker, start, end and text of the
    expected types (a known speaker label, finite times ≥ 0 with end ≥ start, text within the
    limit); call-level ids and names as text without control characters; flags in their plain
    spelling; times not in milliseconds. Each check runs over the whole call at once (C-level
    ``map``/``zip``/``join``) rather than utterance by utterance. Utterance texts with control
    characters are cleaned exactly as the checked path cleans them; ``printable=True`` says
    the caller knows that no string in ``obj`` holds one (see :func:`no_control_characters`).
    """
    get = obj.get
    timing = get("timing")
    if timing is not None and (type(timing) is not str or timing not in _TIMED_SPELLINGS):
        return None
    utts = get("utterances")
    if type(utts) is not list or not utts or len(utts) > _limits.max_utterances:
        return None
    if not _DICT.issuperset(map(type, utts)):
        return None
    try:
        speakers, starts, ends, texts = zip(*map(_GET_UTTERANCE, utts), strict=True)
        joined = "".join(texts)  # TypeError: a text that is not text
    except (KeyError, TypeError):  # a field missing: the checked path names it (or defaults it)
        return None
    if not (_STR.issuperset(map(type, speakers))
            and _NUMBER.issuperset(map(type, starts + ends))):
        return None
    try:
        fs = list(map(float, starts))
        fe = list(map(float, ends))
    except OverflowError:  # an int too large for a float
        return None
    # end ≥ start for every utterance (False for NaN), then all ≥ 0 and finite
    if not all(map(operator.le, fs, fe)) or min(fs) < 0 or max(fe) >= math.inf:
        return None
    n = len(fs)
    if (n >= 3 and all(map(float.is_integer, fs)) and all(map(float.is_integer, fe))
            and statistics.median(map(operator.sub, fe, fs)) >= _MS_MEDIAN_SECONDS):
        return None  # milliseconds: converted, with a warning, by the checked path
    if max(map(len, texts)) > _limits.max_utterance_chars:
        return None
    roles: list[Any] = list(map(_ROLES.get, speakers))
    if None in roles:
        for i, speaker in enumerate(speakers):
            if roles[i] is None:
                role = speaker_role(speaker)
                if role is None:
                    return None
                roles[i] = role
                if len(_ROLES) < 1000:
                    _ROLES[speaker] = role
    # control characters are never printable: one C-level pass over all texts rules them out
    if not printable and not joined.isprintable() and _CONTROL_RE.search(joined):
        texts = tuple(map(clean_text, texts))
    # sorted by (start, end), stably, as finish sorts; nearly always already in order
    if not all(map(operator.lt, fs, fs[1:])):
        pairs = list(zip(fs, fe, strict=True))
        if not all(map(operator.le, pairs, pairs[1:])):
            order = sorted(range(n), key=pairs.__getitem__)
            roles = [roles[i] for i in order]
            fs = [fs[i] for i in order]
            fe = [fe[i] for i in order]
            texts = tuple(texts[i] for i in order)
    # call-level fields, as finish reads them (optional_text: stripped, empty -> None)
    fields = (get("call_id"), get("agent_id"), get("agent_name"), get("team"),
              get("started_at"))
    if not _STR_OR_NONE.issuperset(map(type, fields)):
        return None
    ids = "".join(filter(None, fields))
    if not printable and not ids.isprintable() and _CONTROL_ID_RE.search(ids):
        return None
    call_id, agent_id, agent_name, team, started_at = fields
    if not plain_ids("".join(filter(None, (call_id, agent_id, team)))):
        return None  # look-alike characters: normalised, with a warning, by the checked path
    call_id = (call_id and call_id.strip()) or default_call_id
    agent_id = agent_id and agent_id.strip()
    if not call_id or not agent_id:
        return None
    agent_name = (agent_name and agent_name.strip()) or None
    team = (team and team.strip()) or None
    started_at = (started_at and started_at.strip()) or None
    if started_at is not None:
        try:
            datetime.fromisoformat(started_at)
        except ValueError:
            return None
    hangup = get("hangup_by")
    if hangup is not None:
        hangup = _HANGUP_EXACT.get(hangup, _MISSING) if type(hangup) is str else _MISSING
        if hangup is _MISSING:
            return None
    duration = get("duration")
    if duration is not None:
        if type(duration) not in _NUMBER:
            return None
        try:
            duration = float(duration)
        except OverflowError:
            return None
        if not 0 <= duration < math.inf:
            return None
    channels = get("channels")
    if channels is None:
        channels = "stereo"
    elif type(channels) is not str or (channels := _CHANNELS_EXACT.get(channels)) is None:
        return None
    truncated = _exact(get("truncated"), _TRUNCATED_EXACT)
    direction = _exact(get("direction"), _DIRECTION_EXACT)
    if truncated is _MISSING or direction is _MISSING:
        return None
    return Transcript(
        call_id=call_id,
        agent_id=agent_id,
        agent_name=agent_name,
        team=team,
        started_at=started_at,
        hangup_by=hangup,  # type: ignore[arg-type]
        duration=duration,
        utterances=list(map(Utterance, range(n), roles, fs, fe, texts)),
        source=source,
        line=line,
        timing="utterance",
        channels=channels,
        truncated=truncated,
        direction=direction,
    )


CALL_SHAPE = ('应为 {"call_id", "agent_id", "utterances": [{"speaker", "start", "end", '
              '"text"}, …]}')


def from_mapping(obj: Any, source: str, default_call_id: str | None,
                 line: int | None = None) -> Transcript:
    """A csqa JSON call object -> Transcript (raises LoadProblem naming the bad field)."""
    if type(obj) is dict:
        call = _quick_call(obj, source, default_call_id, line)
        if call is not None:
            return call
    if not isinstance(obj, dict):
        raise LoadProblem(f"应为通话对象,实际是 {type(obj).__name__}({CALL_SHAPE})")
    utts = obj.get("utterances")
    if utts is None:
        raise LoadProblem(f"utterances: 缺失,不是 csqa 通话({CALL_SHAPE})")
    if not isinstance(utts, list):
        raise LoadProblem(f"utterances: 应为列表,实际是 {type(utts).__name__}")
    for i, u in enumerate(utts):
        if not isinstance(u, dict):
            raise LoadProblem(f"utterances[{i}]: 应为含 speaker、start、end、text 的对象")
    meta = dict(obj)
    if meta.get("timing") is None and utts and not any("start" in u or "end" in u for u in utts):
        meta["timing"] = "none"  # an ASR export with no times at all: order only
    timed = label(meta.get("timing"), TIMING_LABELS, "timing") != "none"
    out: list[Utterance] = []
    limit = _limits.max_utterance_chars
    for i, u in enumerate(utts):
        if timed:  # the common, well-formed case without the field-by-field checks' cost
            quick = _quick_utterance(u, limit, i)
            if quick is not None:
                out.append(quick)
                continue
        where = f"utterances[{i}]"
        for key in ("speaker", "start", "end") if timed else ("speaker",):
            if key not in u:
                raise LoadProblem(f"{where}.{key}: 缺失(应有 speaker、start、end、text)")
        out.append(make_utterance(u.get("speaker"), u.get("start"), u.get("end"),
                                  u.get("text"), where, timed=timed))
    return finish(meta, out, source, default_call_id, line)
