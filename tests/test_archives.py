"""Archives are read in place, streaming: .zip, .tar.gz, .jsonl.gz; UTF-8 and GBK inside."""

from __future__ import annotations

import csv
import gzip
import io
import os
import tarfile
import zipfile
from pathlib import Path

import orjson
import pytest
from vendor_helpers import FIXTURES, VENDOR_FILES

from csqa.api import audit
from csqa.loaders import load_all
from csqa.model import InputProblem, Transcript

CSQA_CALL = {
    "call_id": "J1",
    "agent_id": "A1",
    "utterances": [
        {
            "speaker": "坐席",
            "start": 0.5,
            "end": 3.0,
            "text": "您好，很高兴为您服务，我是工号1024。",
        },
        {"speaker": "客户", "start": 3.5, "end": 6.0, "text": "你好，我想查一下订单。"},
    ],
}


def _items(path: Path) -> list[Transcript | InputProblem]:
    return list(load_all([path]))


class _GbkInfo(zipfile.ZipInfo):
    """A member name stored the way Windows zip tools do: GBK bytes, no UTF-8 flag."""

    __slots__ = ()

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:
        return self.filename.encode("cp437"), self.flag_bits & ~0x800


def _zip_gbk_name(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    zf.writestr(_GbkInfo(name.encode("gbk").decode("cp437")), data)


def test_zip_of_every_vendor_format(tmp_path: Path) -> None:
    z = tmp_path / "exports.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in VENDOR_FILES:
            zf.write(FIXTURES / name, f"2026-11-21/{name}")
        zf.writestr("__MACOSX/._alibaba.json", b"\x00\x05junk")
        zf.writestr("readme.md", "not a call")
    items = _items(z)
    calls = [i for i in items if isinstance(i, Transcript)]
    assert sorted(c.source for c in calls) == sorted(f"{z}!2026-11-21/{n}" for n in VENDOR_FILES)
    assert {len(c.utterances) for c in calls} == {9}
    [skipped] = [i for i in items if isinstance(i, InputProblem)]
    assert (skipped.file, skipped.status) == (f"{z}!readme.md", "skipped")


def test_zip_gbk_member_names_and_text(tmp_path: Path) -> None:
    z = tmp_path / "导出.zip"
    srt = (FIXTURES / "call.srt").read_text(encoding="utf-8")
    with zipfile.ZipFile(z, "w") as zf:
        _zip_gbk_name(zf, "录音/张丽-001.srt", srt.encode("gbk"))
        zf.writestr("录音/utf8.srt", srt.encode("utf-8-sig"))
    calls = _items(z)
    assert [
        (c.source, c.call_id, len(c.utterances)) for c in calls if isinstance(c, Transcript)
    ] == [(f"{z}!录音/utf8.srt", "utf8", 9), (f"{z}!录音/张丽-001.srt", "张丽-001", 9)]  # name order


def test_which_copy_of_a_call_in_a_zip_is_audited_does_not_depend_on_packing(
        tmp_path: Path) -> None:
    """#17: the first copy by member order won, so two zips of the same files disagreed."""
    call = (FIXTURES / "call.srt").read_text(encoding="utf-8")
    audited = []
    for i, order in enumerate((["b/x.srt", "a/x.srt"], ["a/x.srt", "b/x.srt"])):
        z = tmp_path / f"{i}.zip"
        with zipfile.ZipFile(z, "w") as zf:
            for name in order:
                zf.writestr(name, call)
        out = tmp_path / f"out{i}"
        audit([z], out=out)
        [row] = list(csv.DictReader((out / "calls.csv").open(encoding="utf-8")))
        [dup] = list(csv.DictReader((out / "errors.csv").open(encoding="utf-8")))
        audited.append((row["source"].split("!")[1], dup["file"].split("!")[1],
                        dup["reason"].replace(str(z), "Z")))
    assert audited[0] == audited[1] == (
        "a/x.srt", "b/x.srt",
        "重复的 call_id 'x':已从 Z!a/x.srt 审计过;这一份未审计")


def test_tar_gz_streamed(tmp_path: Path) -> None:
    t = tmp_path / "exports.tar.gz"
    with tarfile.open(t, "w:gz") as tf:
        for name in ("alibaba.json", "whisperx.json", "call.vtt"):
            tf.add(FIXTURES / name, f"day/{name}")
        bad = b'{"Result": {"Sentences": [{"ChannelId": 0}]}}'
        info = tarfile.TarInfo("day/broken.json")
        info.size = len(bad)
        tf.addfile(info, io.BytesIO(bad))
    items = _items(t)
    assert [
        (type(i).__name__, str(i) if isinstance(i, InputProblem) else i.format) for i in items
    ] == [
        ("Transcript", "alibaba"),
        ("Transcript", "whisperx"),
        ("Transcript", "webvtt"),
        ("InputProblem", f"{t}!day/broken.json: alibaba: Result.Sentences[0].BeginTime: 缺失"),
    ]


def test_jsonl_gz_line_by_line(tmp_path: Path) -> None:
    g = tmp_path / "calls.jsonl.gz"
    lines = [orjson.dumps(CSQA_CALL), b"{not json", orjson.dumps({**CSQA_CALL, "call_id": "J2"})]
    with gzip.open(g, "wb") as fh:
        fh.write(b"\n".join(lines) + b"\n")
    items = _items(g)
    assert [i.call_id if isinstance(i, Transcript) else str(i).split(": ")[0] for i in items] == [
        "J1",
        f"{g}!calls.jsonl:2",
        "J2",
    ]
    assert [i.line for i in items if isinstance(i, Transcript)] == [1, 3]


def test_single_gz_json(tmp_path: Path) -> None:
    g = tmp_path / "C77.json.gz"
    g.write_bytes(gzip.compress((FIXTURES / "tencent.json").read_bytes()))
    [t] = _items(g)
    assert isinstance(t, Transcript) and (t.call_id, t.format) == ("C77", "tencent")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("bad.zip", b"PK\x03\x04 truncated", "无法读取 zip 压缩包:File is not a zip file"),
        ("bad.tar.gz", b"\x1f\x8b\x08\x00garbage", "无法读取 tar 压缩包"),
        ("bad.jsonl.gz", b"\x1f\x8b\x08\x00garbage", "无法读取 gzip 文件"),
    ],
)
def test_broken_archive_is_one_line_naming_it(
    name: str, data: bytes, message: str, tmp_path: Path
) -> None:
    f = tmp_path / name
    f.write_bytes(data)
    [p] = _items(f)
    assert isinstance(p, InputProblem) and p.status == "error"
    assert p.file.startswith(str(f)) and message in p.reason
    assert "\n" not in str(p)


def test_nested_archive_is_skipped_not_opened(tmp_path: Path) -> None:
    z = tmp_path / "outer.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("inner.zip", b"PK")
    [p] = _items(z)
    assert (p.file, p.status) == (f"{z}!inner.zip", "skipped")


def test_audit_of_archive_unpacks_nothing_to_disk(tmp_path: Path) -> None:
    z = tmp_path / "in" / "exports.zip"
    z.parent.mkdir()
    with zipfile.ZipFile(z, "w") as zf:
        for name in ("alibaba.json", "funasr.json"):
            zf.write(FIXTURES / name, name)
    before = set(os.listdir(tmp_path / "in"))
    s = audit([z.parent], out=tmp_path / "out")
    assert s.calls_audited == 2 and s.input_errors == 0
    assert set(os.listdir(tmp_path / "in")) == before


def test_corrupt_zip_member_loses_only_that_member(tmp_path: Path) -> None:
    z = tmp_path / "x.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_STORED) as zf:
        zf.write(FIXTURES / "call.srt", "a.srt")
        zf.write(FIXTURES / "call.vtt", "b.vtt")
    data = bytearray(z.read_bytes())
    at = data.index("坐席".encode()) + 1  # inside a.srt's stored bytes
    data[at] ^= 0xFF
    z.write_bytes(bytes(data))
    items = _items(z)
    assert [(type(i).__name__, i.source if isinstance(i, Transcript) else str(i)) for i in items] == [
        ("InputProblem", f"{z}!a.srt: 无法读取 zip 压缩包:Bad CRC-32 for file 'a.srt'"),
        ("Transcript", f"{z}!b.vtt")]


def test_repeated_problems_are_summarised_on_the_terminal_even_with_q(tmp_path: Path) -> None:
    """#17: 1,200 duplicate-call lines flooded stderr even with -q; errors.csv keeps them all."""
    from typer.testing import CliRunner

    from csqa.cli import app

    line = orjson.dumps({"call_id": "dup", "agent_id": "A1", "utterances": [
        {"speaker": "agent", "start": 0.5, "end": 2.0, "text": "您好"}]}).decode()
    f = tmp_path / "night.jsonl"
    f.write_text("\n".join([line] * 7 + ['{"call_id": "bad"}']) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["audit", str(f), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        f"{f}:2: 重复的 call_id 'dup':已从 {f}:1 审计过;这一份未审计",
        f"{f}:3: 重复的 call_id 'dup':已从 {f}:1 审计过;这一份未审计",
        f"{f}:4: 重复的 call_id 'dup':已从 {f}:1 审计过;这一份未审计",
        f'{f}:8: utterances: 缺失,不是 csqa 通话(应为 {{"call_id", "agent_id", '
        '"utterances": [{"speaker", "start", "end", "text"}, …]})',
        "… 同类问题“重复的 call_id”共 6 条,以上只列出 3 条;全部见 errors.csv",
    ]
    rows = list(csv.DictReader((tmp_path / "out" / "errors.csv").open(encoding="utf-8")))
    assert len(rows) == 7
