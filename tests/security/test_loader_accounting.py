"""Every input accounted for, one bad part costing only itself (issue #19 item 7, loader parts).

- a NUL byte in the first 8 KiB of a JSONL rejected the whole file, and a NUL run in a
  ``.jsonl.gz`` lost every call: one bad line loses that line only;
- archive members refused for traversal, links, devices or FIFOs were dropped without a line
  in errors.csv;
- look-alike ids (``A1\\u200b``, ``\\ufeffA1``, ``Ａ１``) made separate agents;
- a gigabyte of blank lines in a megabyte of ``.jsonl.gz`` cost minutes of CPU;
- a VTT/SRT cue ending before it starts rejected the whole call;
- a key written twice in a transcript JSON silently took the last value.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Any

from csqa.api import audit
from csqa.loaders.jsonl import MAX_BLANK_RUN


def _call(cid: str, agent: str = "A1", **extra: Any) -> dict[str, Any]:
    return {"call_id": cid, "agent_id": agent, **extra, "utterances": [
        {"speaker": "agent", "start": 0.5, "end": 3.0, "text": "您好,很高兴为您服务。"},
        {"speaker": "customer", "start": 3.5, "end": 6.0, "text": "我想查一下话费。"}]}


def _line(cid: str, agent: str = "A1", **extra: Any) -> bytes:
    return json.dumps(_call(cid, agent, **extra), ensure_ascii=False).encode() + b"\n"


def _errors(out: Path) -> list[tuple[str, str, str, str]]:
    with (out / "errors.csv").open(encoding="utf-8-sig", newline="") as fh:
        return [(r["file"], r["line"], r["status"], r["reason"]) for r in csv.DictReader(fh)]


def _run(tmp_path: Path) -> tuple[Any, Path]:
    out = tmp_path / "out"
    summary = audit([tmp_path / "in"], out=out)
    assert summary.accounting["balanced"]
    return summary, out


def test_a_nul_byte_in_the_first_kilobytes_costs_its_line_only(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    lines = [_line(f"C{i}") for i in range(2000)]
    lines[2] = b'{"call_id": "C2", "agent_id": "A1\x00", "utterances": []}\n'
    (tmp_path / "in" / "night.jsonl").write_bytes(b"".join(lines))
    summary, out = _run(tmp_path)
    assert summary.accounting["calls_audited"] == 1999
    assert _errors(out) == [(str(tmp_path / "in" / "night.jsonl"), "3", "error",
                             "这一行有二进制数据(含 NUL 字节):应为每行一个通话对象(UTF-8 或 GBK)")]


def test_a_nul_run_in_a_jsonl_gz_costs_its_line_only(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    data = _line("G1") + b"\x00" * 200_000 + b"\n" + _line("G2") + _line("G3")
    (tmp_path / "in" / "night.jsonl.gz").write_bytes(gzip.compress(data))
    summary, out = _run(tmp_path)
    assert summary.accounting["calls_audited"] == 3  # G1, G2, G3
    assert [(f.rsplit("/", 1)[-1], line, status) for f, line, status, _ in _errors(out)] == [
        ("night.jsonl.gz!night.jsonl", "2", "error")]


def test_a_binary_file_is_still_one_error(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "photo.jsonl").write_bytes(bytes(range(256)) * 64)
    _, out = _run(tmp_path)
    assert _errors(out) == [(str(tmp_path / "in" / "photo.jsonl"), "", "error",
                             "二进制数据(含 NUL 字节):不是 JSON Lines 文件(应为每行一个通话对象,"
                             "UTF-8 或 GBK)")]


def _tar_member(tf: tarfile.TarFile, name: str, kind: bytes, data: bytes = b"",
                link: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, len(data), link
    tf.addfile(info, io.BytesIO(data) if data else None)


def test_refused_archive_members_are_each_listed(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    with tarfile.open(tmp_path / "in" / "a.tar.gz", "w:gz") as tf:
        _tar_member(tf, "ok.jsonl", tarfile.REGTYPE, _line("T1"))
        _tar_member(tf, "../up.jsonl", tarfile.REGTYPE, _line("T2"))
        _tar_member(tf, "/etc/abs.jsonl", tarfile.REGTYPE, _line("T3"))
        _tar_member(tf, "link.json", tarfile.SYMTYPE, link="/etc/passwd")
        _tar_member(tf, "hard.json", tarfile.LNKTYPE, link="ok.jsonl")
        _tar_member(tf, "tty.json", tarfile.CHRTYPE)
        _tar_member(tf, "disk.json", tarfile.BLKTYPE)
        _tar_member(tf, "pipe.json", tarfile.FIFOTYPE)
    with zipfile.ZipFile(tmp_path / "in" / "b.zip", "w") as zf:
        zf.writestr("ok.jsonl", _line("Z1"))
        zf.writestr("../../up.jsonl", _line("Z2"))
        link = zipfile.ZipInfo("link.json")
        link.external_attr = 0o120777 << 16  # a symbolic link
        zf.writestr(link, "/etc/passwd")
    summary, out = _run(tmp_path)
    assert summary.accounting["calls_audited"] == 2  # T1, Z1
    leaves = "成员路径指向压缩包之外(.. 或绝对路径):未读取"
    a, b = str(tmp_path / "in" / "a.tar.gz"), str(tmp_path / "in" / "b.zip")
    assert _errors(out) == [
        (f"{a}!../up.jsonl", "", "skipped", leaves),
        (f"{a}!/etc/abs.jsonl", "", "skipped", leaves),
        (f"{a}!link.json", "", "skipped", "压缩包中的符号链接:未读取"),
        (f"{a}!hard.json", "", "skipped", "压缩包中的硬链接:未读取"),
        (f"{a}!tty.json", "", "skipped", "压缩包中的字符设备:未读取"),
        (f"{a}!disk.json", "", "skipped", "压缩包中的块设备:未读取"),
        (f"{a}!pipe.json", "", "skipped", "压缩包中的FIFO(命名管道):未读取"),
        (f"{b}!../../up.jsonl", "", "skipped", leaves),
        (f"{b}!link.json", "", "skipped", "压缩包中的符号链接:未读取"),
    ]


def test_look_alike_ids_are_one_agent_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    lines = [_line("C1", "A1", team="售后一组"), _line("C2", "A1\u200b", team="售后一组"),
             _line("C3", "\ufeffA1", team="售后\u200d一组"), _line("C4\u200e", "Ａ１")]
    (tmp_path / "in" / "calls.jsonl").write_bytes(b"".join(lines))
    _, out = _run(tmp_path)
    with (out / "agents.csv").open(encoding="utf-8-sig", newline="") as fh:
        agents = [(r["agent_id"], r["calls"]) for r in csv.DictReader(fh)]
    assert agents == [("A1", "4")]
    with (out / "calls.csv").open(encoding="utf-8-sig", newline="") as fh:
        calls = [(r["call_id"], r["team"]) for r in csv.DictReader(fh)]
    assert calls == [("C1", "售后一组"), ("C2", "售后一组"), ("C3", "售后一组"), ("C4", "")]
    tail = "(去掉了全角形式和不可见字符,使看起来相同的 ID 算作同一个)"
    assert [(line, status, reason) for _, line, status, reason in _errors(out)] == [
        ("2", "warning", f"agent_id: 'A1\\u200b' 按 'A1' 读取{tail}"),
        ("3", "warning", f"agent_id: '\\ufeffA1' 按 'A1' 读取{tail}"),
        ("3", "warning", f"team: '售后\\u200d一组' 按 '售后一组' 读取{tail}"),
        ("4", "warning", f"call_id: 'C4\\u200e' 按 'C4' 读取{tail}"),
        ("4", "warning", f"agent_id: 'Ａ１' 按 'A1' 读取{tail}"),
    ]


def test_a_run_of_blank_lines_is_bounded(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as gz:
        gz.write(_line("B1"))
        block = b"\n" * (1 << 20)
        for _ in range(64):  # 64 MB of blank lines in well under a megabyte
            gz.write(block)
        gz.write(_line("B2"))
    (tmp_path / "in" / "padded.jsonl.gz").write_bytes(buf.getvalue())
    assert len(buf.getvalue()) < 1 << 20
    began = time.process_time()
    summary, out = _run(tmp_path)
    assert time.process_time() - began < 5  # minutes before
    assert summary.accounting["calls_audited"] == 1
    assert [(line, status, reason) for _, line, status, reason in _errors(out)] == [
        ("2", "error", f"从这里起连续超过 {MAX_BLANK_RUN} 个空行(导出被填充或已损坏);"
                       "文件其余部分未读取")]


def test_a_subtitle_cue_ending_before_it_starts_is_clamped(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "c1.vtt").write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v 坐席>您好,很高兴为您服务。\n\n"
        "00:00:08.000 --> 00:00:05.500\n<v 客户>我想查一下话费。\n", encoding="utf-8")
    (tmp_path / "in" / "c2.srt").write_text(
        "1\n00:00:01,000 --> 00:00:03,000\n坐席：您好\n\n"
        "2\n00:00:09,000 --> 00:00:04,000\n客户：查话费\n", encoding="utf-8")
    summary, out = _run(tmp_path)
    assert summary.accounting["calls_audited"] == 2
    assert [(f.rsplit("/", 1)[-1], status, reason) for f, _, status, reason in _errors(out)] == [
        ("c1.vtt", "warning", "第 6 行:字幕结束 5.5 早于开始 8;已改为 "
                              "结束 = 开始(应为 结束 ≥ 开始)"),
        ("c2.srt", "warning", "第 6 行:字幕结束 4 早于开始 9;已改为 "
                              "结束 = 开始(应为 结束 ≥ 开始)")]


def test_a_key_written_twice_rejects_the_call_naming_it(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    utt = '[{"speaker": "agent", "start": 0, "end": 1, "text": "您好"}]'
    (tmp_path / "in" / "calls.jsonl").write_text(
        f'{{"call_id": "D1", "agent_id": "A1", "agent_id": "A2", "utterances": {utt}}}\n'
        f'{{"call_id": "D2", "agent_id": "A1", "utterances": [{{"speaker": "agent", "start": 0,'
        f' "end": 1, "text": "好", "text": "不好"}}]}}\n'
        # decoys: a colon-quote inside a text, an escaped colon, a nested object: one call each
        f'{{"call_id": "D3", "agent_id": "A1", "note": "他说\\":好", "utterances": {utt}}}\n'
        f'{{"call_id": "D4", "agent_id": "A1", "note": "a\\u003ab", "utterances": {utt}}}\n'
        f'{{"call_id": "D5", "agent_id": "A1", "meta": {{"k": 1}}, "utterances": {utt}}}\n',
        encoding="utf-8")
    (tmp_path / "in" / "one.json").write_text(
        '{\n  "call_id" : "J1",\n  "agent_id" : "A1",\n  "agent_id" : "A2",\n'
        f'  "utterances": {utt}\n}}\n', encoding="utf-8")
    summary, out = _run(tmp_path)
    assert summary.accounting["calls_audited"] == 3  # D3, D4, D5
    tail = "出现了两次(无法判断用哪个值);每个键只应出现一次"
    assert [(f.rsplit("/", 1)[-1], line, status, reason)
            for f, line, status, reason in _errors(out)] == [
        ("calls.jsonl", "1", "error", f"同一个对象中键 'agent_id' {tail}"),
        ("calls.jsonl", "2", "error", f"同一个对象中键 'text' {tail}"),
        ("one.json", "", "error", f"同一个对象中键 'agent_id' {tail}")]
