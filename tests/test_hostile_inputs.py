"""Messy input: encodings detected from the bytes, precise validation messages, size limits,
repairs made with a warning. Every case names the file (and line) and what was expected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csqa.loaders import load_all
from csqa.loaders.common import Limits, LoadProblem, decode, use_limits
from csqa.model import InputProblem, Transcript

CALL_TXT = ("# call_id: C-1\n# agent_id: A1\n"
            "[00:00:01.0-00:00:03.0] 坐席: 您好,很高兴为您服务。\n"
            "[00:00:04.0-00:00:06.0] 客户: 你好,我的洗衣机漏水了。\n")


def load(path: Path, limits: Limits | None = None) -> list[Transcript | InputProblem]:
    with use_limits(limits):
        return list(load_all([path]))


def only_problem(path: Path, limits: Limits | None = None) -> str:
    items = load(path, limits)
    assert len(items) == 1 and isinstance(items[0], InputProblem), items
    return str(items[0])


def only_call(path: Path, limits: Limits | None = None) -> Transcript:
    items = load(path, limits)
    assert len(items) == 1 and isinstance(items[0], Transcript), items
    return items[0]


# ---- encodings ---------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "data"), [
    ("utf8", CALL_TXT.encode("utf-8")),
    ("utf8-bom", b"\xef\xbb\xbf" + CALL_TXT.encode("utf-8")),
    ("utf16-le-bom", CALL_TXT.encode("utf-16")),  # Python writes LE with BOM
    ("utf16-be-bom", b"\xfe\xff" + CALL_TXT.encode("utf-16-be")),
    ("gbk", CALL_TXT.encode("gbk")),
    ("gb18030", CALL_TXT.encode("gb18030")),
])
def test_supported_encodings_are_detected_from_the_bytes(tmp_path: Path, name: str,
                                                         data: bytes) -> None:
    # The suffix says nothing about the encoding: every variant is a .txt file.
    path = tmp_path / f"{name}.txt"
    path.write_bytes(data)
    call = only_call(path)
    assert [u.text for u in call.utterances] == ["您好,很高兴为您服务。", "你好,我的洗衣机漏水了。"]
    assert call.call_id == "C-1"


def test_gbk_jsonl_lines_are_read(tmp_path: Path) -> None:
    line = json.dumps({"call_id": "G1", "agent_id": "A1", "utterances": [
        {"speaker": "坐席", "start": 0, "end": 1.5, "text": "您好,请问有什么可以帮您?"}]},
        ensure_ascii=False)
    path = tmp_path / "gbk.jsonl"
    path.write_bytes(line.encode("gbk") + b"\n")
    (call,) = load(path)
    assert isinstance(call, Transcript)
    assert call.utterances[0].text == "您好,请问有什么可以帮您?"


def test_utf16_jsonl_is_streamed(tmp_path: Path) -> None:
    lines = [json.dumps({"call_id": f"U{i}", "agent_id": "A1", "utterances": [
        {"speaker": "agent", "start": 0, "end": 1, "text": "您好"}]}, ensure_ascii=False)
        for i in range(3)]
    path = tmp_path / "u16.jsonl"
    path.write_bytes("\n".join(lines).encode("utf-16"))
    assert [c.call_id for c in load(path) if isinstance(c, Transcript)] == ["U0", "U1", "U2"]


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "空文件(0 字节):应为转写"),
    (bytes(range(256)) * 4, "二进制数据(含 NUL 字节):不是文本文件(应为 UTF-8、带字节顺序标记(BOM)的 UTF-8 或 "
                            "UTF-16,或 GB18030/GBK;UTF-16 须带字节顺序标记)"),
    (CALL_TXT.encode("utf-16-le"), "二进制数据(含 NUL 字节):不是文本文件(应为 UTF-8、带字节顺序标记(BOM)的 UTF-8 或 "
                            "UTF-16,或 GB18030/GBK;UTF-16 须带字节顺序标记)"),
    ("# note: café crème brûlée à la carte\n".encode("cp1252"),
     "不是受支持编码的文本:应为 UTF-8、带字节顺序标记(BOM)的 UTF-8 或 UTF-16,或 "
     "GB18030/GBK"),
    (bytes(b ^ 0x5A for b in range(256) if b ^ 0x5A) * 8,
     "不是受支持编码的文本:应为 UTF-8、带字节顺序标记(BOM)的 UTF-8 或 UTF-16,或 "
     "GB18030/GBK"),
    (CALL_TXT.encode("utf-8")[:-4] + "您".encode()[:2],
     "文件被截断:结束在一个 UTF-8 字符的中间(第 157 字节);应为完整的文件"),
    (b"\xef\xbb\xbf\xff\xfe junk", "有 UTF-8 字节顺序标记,但不是有效的 UTF-8(偏移 0 处有错误字节)"),
    (b"\x1b[31m\x07\x07\x07\x08\x08 text\x01\x02\x03", "二进制数据(含控制字符):不是文本文件"),
])
def test_undecodable_files_are_errors_naming_the_file(tmp_path: Path, data: bytes,
                                                      reason: str) -> None:
    path = tmp_path / "call.txt"
    path.write_bytes(data)
    assert only_problem(path) == f"{path}: {reason}"


def test_corrupt_utf8_says_where_it_breaks(tmp_path: Path) -> None:
    data = CALL_TXT.encode("utf-8")
    path = tmp_path / "c.txt"
    path.write_bytes(data[:60] + b"\xff" + data[60:])
    assert only_problem(path) == (
        f"{path}: 不是有效的 UTF-8:偏移 60 处有错误字节(文件损坏,或混用了多种编码);"
        "应为 UTF-8、带字节顺序标记(BOM)的 UTF-8 或 UTF-16,或 GB18030/GBK")


def test_gbk_detection_is_not_fooled_by_cyrillic_or_mojibake() -> None:
    # Cyrillic in cp1251 decodes as GB18030 without error; it is not Chinese text.
    with pytest.raises(LoadProblem, match="不是受支持编码的文本"):
        decode("Здравствуйте, чем могу помочь? Мой номер заказа".encode("cp1251"))
    # Real GBK text, even with some traditional characters, is accepted.
    assert decode("您好,這裡是客服中心,请问有什么可以帮您?".encode("gb18030")).startswith("您好")


# ---- validation messages --------------------------------------------------------------------

def write_json(tmp_path: Path, obj: object, name: str = "call.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return path


def utt(speaker: object = "agent", start: object = 0, end: object = 1,
        text: object = "您好") -> dict:
    return {"speaker": speaker, "start": start, "end": end, "text": text}


def test_missing_utterances_in_a_jsonl_line(tmp_path: Path) -> None:
    # (a .json file without utterances is "unknown JSON shape": it may be a vendor export)
    path = tmp_path / "c.jsonl"
    path.write_text('{"call_id": "X", "agent_id": "A1"}\n', encoding="utf-8")
    assert only_problem(path) == (
        f'{path}:1: utterances: 缺失,不是 csqa 通话(应为 {{"call_id", "agent_id", '
        '"utterances": [{"speaker", "start", "end", "text"}, …]})')


@pytest.mark.parametrize(("call", "reason"), [
    ({"call_id": "X", "agent_id": "A1", "utterances": []},
     "utterances: 没有(应至少有一句话,含 speaker、start、end 和 text)"),
    ({"call_id": "X", "agent_id": "A1", "utterances": [utt(start="abc")]},
     "utterances[0].start: 应为从通话开始算起的秒数(≥ 0 的数),实际是 'abc'"),
    ({"call_id": "X", "agent_id": "A1", "utterances": [utt(), utt(start=-2)]},
     "utterances[1].start: 时间为负数 -2(应为从通话开始算起的秒数(≥ 0 的数))"),
    ({"call_id": "X", "agent_id": "A1", "utterances": [utt(end=None)]},
     "utterances[0].end: 应为从通话开始算起的秒数(≥ 0 的数),实际是 None"),
    ({"call_id": "X", "agent_id": "A1", "utterances": [utt(speaker="机器人")]},
     "utterances[0].speaker: 无法识别的说话人 '机器人'(应为 agent/坐席/客服 或 "
     "customer/客户/顾客)"),
    ({"call_id": "X", "agent_id": "A1", "utterances": [{"speaker": "agent", "start": 0}]},
     "utterances[0].end: 缺失(应有 speaker、start、end、text)"),
    ({"call_id": "X", "utterances": [utt()]},
     "agent_id: 缺失(每通通话都要写明坐席)"),
])
def test_json_validation_messages(tmp_path: Path, call: dict, reason: str) -> None:
    path = write_json(tmp_path, call)
    assert only_problem(path) == f"{path}: {reason}"


def test_text_format_errors_carry_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_text("# agent_id: A1\n[00:00:01.0-00:00:02.0] 坐席: 您好\n"
                    "[00:00:03.0-00:00:04.0] 主持人: 大家好\n", encoding="utf-8")
    assert only_problem(path) == (f"{path}:3: speaker: 无法识别的说话人 '主持人'"
                                  "(应为 agent/坐席/客服 或 customer/客户/顾客)")


def test_end_before_start_is_clamped_with_a_warning(tmp_path: Path) -> None:
    """Documented choice: clamp (end = start) and warn, so one bad timestamp never loses a call."""
    path = tmp_path / "c.txt"
    path.write_text("# agent_id: A1\n[00:00:05.0-00:00:04.5] 坐席: 您好\n"
                    "[00:00:06.0-00:00:08.0] 客户: 你好\n", encoding="utf-8")
    call = only_call(path)
    assert (call.utterances[0].start, call.utterances[0].end) == (5.0, 5.0)
    assert call.warnings == ["line 2: 结束 4.5 早于开始 5;已改为 结束 = 开始(应为 结束 ≥ 开始)"]


def test_millisecond_times_are_detected_and_converted(tmp_path: Path) -> None:
    utts = [utt("agent", 800, 4200), utt("customer", 4600, 9000), utt("agent", 9500, 15000)]
    path = write_json(tmp_path, {"call_id": "M", "agent_id": "A1", "duration": 20000,
                                 "utterances": utts})
    call = only_call(path)
    assert [(u.start, u.end) for u in call.utterances] == [(0.8, 4.2), (4.6, 9.0), (9.5, 15.0)]
    assert call.duration == 20.0
    assert call.warnings == ["时间看起来是毫秒(每句时长中位数 4400,最晚结束 15000);已按毫秒读取"]


def test_seconds_are_not_mistaken_for_milliseconds(tmp_path: Path) -> None:
    # Whole seconds, a long call (an hour): utterances of a few seconds are seconds.
    path = write_json(tmp_path, {"call_id": "S", "agent_id": "A1", "utterances": [
        utt("agent", 0, 4), utt("customer", 5, 9), utt("agent", 3590, 3600)]})
    call = only_call(path)
    assert call.utterances[-1].end == 3600.0
    assert call.warnings == []
    # One segment per channel (two long utterances, whole seconds) is not milliseconds either.
    path = write_json(tmp_path, {"call_id": "S2", "agent_id": "A1", "utterances": [
        utt("agent", 0, 300), utt("customer", 2, 296)]}, "channels.json")
    call = only_call(path)
    assert (call.utterances[0].end, call.warnings) == (300.0, [])


def test_control_characters_are_removed_from_text_and_ids(tmp_path: Path) -> None:
    path = write_json(tmp_path, {"call_id": "C\x1b[2J1", "agent_id": "A\x001",
                                 "agent_name": "\x1b]0;owned\x07张丽",
                                 "utterances": [utt(text="您好\x1b[31m红\x07")]})
    call = only_call(path)
    assert (call.call_id, call.agent_id, call.agent_name) == ("C[2J1", "A1", "]0;owned张丽")
    assert call.utterances[0].text == "您好[31m红"


# ---- size limits -----------------------------------------------------------------------------

def test_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text(CALL_TXT * 800, encoding="utf-8")  # ~90 KB
    limits = Limits(max_file_mb=0.05)
    assert only_problem(path, limits) == (
        f"{path}: 文件有 0.1 MB,超过整体读入文件的上限 0.05 MB(请拆分文件、导出为逐行读取的 "
        "JSON Lines,或调高 --max-file-mb);未读取")


def test_jsonl_over_the_file_limit_is_streamed_and_only_a_long_line_refused(tmp_path: Path) -> None:
    good = json.dumps({"call_id": "J", "agent_id": "A1", "utterances": [utt()]})
    huge = json.dumps({"call_id": "H", "agent_id": "A1", "utterances": [utt(text="长" * 40_000)]})
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join([good.replace('"J"', f'"J{i}"') for i in range(300)] + [huge, good]),
                    encoding="utf-8")
    items = load(path, Limits(max_file_mb=0.1))  # the file is ~0.13 MB, each good line ~100 B
    calls = [i for i in items if isinstance(i, Transcript)]
    problems = [str(i) for i in items if isinstance(i, InputProblem)]
    assert len(calls) == 301
    assert problems == [f"{path}:301: 这一行超过 0.1 MB 的上限(--max-file-mb);未读取"]


def test_utterance_and_call_size_limits(tmp_path: Path) -> None:
    long_text = write_json(tmp_path, {"call_id": "L", "agent_id": "A1",
                                      "utterances": [utt(), utt(text="啊" * 101)]}, "long.json")
    many = write_json(tmp_path, {"call_id": "N", "agent_id": "A1",
                                 "utterances": [utt(start=i, end=i + 1) for i in range(11)]},
                      "many.json")
    limits = Limits(max_utterance_chars=100, max_utterances=10)
    assert only_problem(long_text, limits) == (
        f"{long_text}: utterances[1].text: 101 个字,超过每句 100 个字的上限"
        "(--max-utterance-chars)")
    assert only_problem(many, limits) == (
        f"{many}: utterances: 11 句,超过每通 10 句的上限(--max-utterances)")


def test_a_loader_crash_costs_one_file_not_the_run(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from csqa import loaders

    def broken(path: Path):  # type: ignore[no-untyped-def]
        yield from ()
        raise ZeroDivisionError("boom")

    monkeypatch.setitem(loaders.LOADERS, ".txt", loaders.LoaderEntry(broken))
    path = tmp_path / "c.txt"
    path.write_text(CALL_TXT, encoding="utf-8")
    assert only_problem(path) == (f"{path}: 无法读取:内部错误 ZeroDivisionError: "
                                  "boom(请报告此问题)")


def test_csv_cell_over_the_csv_module_limit_is_an_utterance_limit_error(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("call_id,agent_id,speaker,start,end,text\nC1,A1,坐席,0,1," + "x" * 200_000 +
                    "\nC2,A1,坐席,0,1,您好\n", encoding="utf-8")
    items = load(path)
    assert [str(i) for i in items if isinstance(i, InputProblem)] == [
        f"{path}:2: row 2.text: 200000 个字,超过每句 20000 个字的上限"
        "(--max-utterance-chars)"]
    assert [i.call_id for i in items if isinstance(i, Transcript)] == ["C2"]


def _jsonl_call(cid: str) -> str:
    return json.dumps({"call_id": cid, "agent_id": "A1", "utterances": [utt()]}) + "\n"


def test_jsonl_inside_a_tar_stream_is_read(tmp_path: Path) -> None:
    import io
    import tarfile

    path = tmp_path / "night.tar.gz"
    data = (_jsonl_call("T1") + _jsonl_call("T2")).encode()
    with tarfile.open(path, "w:gz") as tf:
        info = tarfile.TarInfo("calls.jsonl")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    assert [i.call_id for i in load(path) if isinstance(i, Transcript)] == ["T1", "T2"]


def test_zip_bomb_member_is_refused_and_archives_are_limited_per_member(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.json", b" " * 3_000_000)  # 3 MB of spaces, a few KB compressed
        for i in range(30):  # ~3 KB of small calls: the archive is over the limit, no member is
            zf.writestr(f"c{i}.json", json.dumps({"call_id": f"Z{i}", "agent_id": "A1",
                                                   "utterances": [utt(text="您好" * 40)]}))
    assert path.stat().st_size > 0.002 * 1024 * 1024
    items = load(path, Limits(max_file_mb=0.002))
    assert [str(i) for i in items if isinstance(i, InputProblem)] == [
        f"{path}!bomb.json: 解压后超过整体读入文件的上限 0.002 MB(--max-file-mb);未读取"]
    assert len([i for i in items if isinstance(i, Transcript)]) == 30
