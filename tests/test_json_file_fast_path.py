"""A ``.json`` file holding one plain call is read by a short path in the workers: it must give
exactly what the general reader gives, and step aside (``None``) for everything else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csqa.loaders.common import Limits, read_guarded, use_limits
from csqa.loaders.formats import load_json, plain_call_file
from csqa.model import Transcript

CALL = {"agent_id": "A1", "agent_name": "王芳", "team": "一组", "utterances": [
    {"speaker": "坐席", "start": 0.0, "end": 2.5, "text": "您好，请问有什么可以帮您？"},
    {"speaker": "客户", "start": 2.6, "end": 4.0, "text": "我要退款。"}]}


def general(path: Path) -> list[object]:
    return list(read_guarded(path, load_json))


PLAIN = {
    "plain.json": json.dumps(CALL, ensure_ascii=False).encode(),
    "with.call_id.json": json.dumps({**CALL, "call_id": "C-9"}, ensure_ascii=False).encode(),
    "ascii-escaped.json": json.dumps(CALL).encode(),  # \\u escapes: texts are checked
    "c1-control.json": json.dumps({**CALL, "utterances": [
        {**CALL["utterances"][0], "text": "您好\u0085请讲"}]}, ensure_ascii=False).encode(),
    "..json": json.dumps(CALL, ensure_ascii=False).encode(),
    "a.b.json": json.dumps(CALL, ensure_ascii=False).encode(),
}


@pytest.mark.parametrize("name", PLAIN)
def test_a_plain_call_is_read_as_the_general_reader_reads_it(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(PLAIN[name])
    got = plain_call_file(str(path))
    assert isinstance(got, Transcript)
    assert [got] == general(path)


OTHER = {
    "empty": b"",
    "utf8-bom": b"\xef\xbb\xbf" + json.dumps(CALL, ensure_ascii=False).encode(),
    "utf16": json.dumps(CALL, ensure_ascii=False).encode("utf-16"),
    "gbk": json.dumps(CALL, ensure_ascii=False).encode("gbk"),
    "nul": b"\x00" + json.dumps(CALL).encode(),
    "invalid": b'{"utterances": [',
    "list": json.dumps([CALL, CALL]).encode(),
    "vendor": json.dumps({"results": {"transcripts": []}}).encode(),
    "not-a-call": json.dumps({**CALL, "utterances": "none"}).encode(),
    "number": b"42",
}


@pytest.mark.parametrize("name", OTHER)
def test_anything_else_takes_the_general_path(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.json"
    path.write_bytes(OTHER[name])
    assert plain_call_file(str(path)) is None
    assert general(path)  # the general reader still accounts for it


def test_files_over_the_size_limit_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(json.dumps({**CALL, "pad": "x" * 3000}, ensure_ascii=False).encode())
    with use_limits(Limits(max_file_mb=0.001)):
        assert plain_call_file(str(path)) is None
        assert "超过整体读入文件的上限 0.001 MB" in general(path)[0].reason  # type: ignore[attr-defined]
    assert plain_call_file(str(tmp_path / "gone.json")) is None
