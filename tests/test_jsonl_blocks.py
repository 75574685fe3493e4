"""The JSON Lines reader cuts lines out of big blocks: the same lines, numbers and refusals as
reading line by line, wherever the block boundaries fall."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from csqa.loaders import jsonl
from csqa.loaders.common import Limits, use_limits
from csqa.model import InputProblem


def readline_lines(data: bytes, limit: int) -> list[tuple[int, bytes | None]]:
    """The reference: what ``readline(limit + 1)`` line by line gives (the former reader)."""
    fh = io.BytesIO(data)
    out: list[tuple[int, bytes | None]] = []
    lineno = 0
    while raw := fh.readline(limit + 1):
        lineno += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            while (rest := fh.readline(3)) and not rest.endswith(b"\n"):
                pass
            out.append((lineno, None))
        else:
            out.append((lineno, raw))
    return out


def every_cut(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


CASES = {
    "over-long first line": b"xxxxxxxxxxxx\n{}\n{}\n",
    "over-long middle line": b"{}\nxxxxxxxxxxxx\n{}\n",
    "over-long last line": b"{}\n{}\nxxxxxxxxxxxx\n",
    "over-long last line without newline": b"{}\n{}\nxxxxxxxxxxxx",
    "line of exactly the limit": b"12345678\n123456789\n12345678",
    "last line without newline": b"{}\n{\"a\":1}",
    "crlf": b"{}\r\n{\"a\":1}\r\n\r\n",
    "blank lines": b"\n\n  \n{}\n\t\n\n{}\n",
    "nul bytes": b"{}\n\x00\x00\n{\x00}\n",
    "only newlines": b"\n\n\n",
    "one long line split everywhere": b"y" * 30 + b"\n" + b"z" * 7,
}


@pytest.mark.parametrize("data", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("block", [1, 2, 3, 5, 8, 9, 64])
def test_lines_match_readline_at_every_block_size(data: bytes, block: int) -> None:
    assert list(jsonl._lines(every_cut(data, block), 8)) == readline_lines(data, 8)


def test_the_exact_lines_of_a_small_case() -> None:
    data = b"{}\r\nxxxxxxxxxxxx\n\n{\"a\":1}"
    assert list(jsonl._lines(every_cut(data, 4), 8)) == [
        (1, b"{}\r\n"), (2, None), (3, b"\n"), (4, b"{\"a\":1}")]


def test_over_long_line_is_not_held() -> None:
    """Over the limit, the pending bytes are dropped: memory does not grow with the line."""
    import tracemalloc

    def blocks():  # a 20 MB line between two calls, made block by block
        yield b"{}\n" + b"x" * 10_000
        for _ in range(2000):
            yield b"x" * 10_000
        yield b"\n{}\n"

    tracemalloc.start()
    try:
        got = list(jsonl._lines(blocks(), 50_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == [(1, b"{}\n"), (2, None), (3, b"{}\n")]
    assert peak < 500_000


def chunk_summary(path: Path, size: int = 3) -> list[object]:
    out: list[object] = []
    for item in jsonl.chunks(path, size=size):
        if isinstance(item, InputProblem):
            out.append((item.line, item.reason))
        else:
            out.append(item.lines)
    return out


def test_chunks_across_block_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl, "_BLOCK", 7)
    lines = [b'{"n":%d}' % i for i in range(10)]
    p = tmp_path / "a.jsonl"
    p.write_bytes(b"\n".join(lines[:5]) + b"\n\n \r\n" + b"\r\n".join(lines[5:]))
    got = chunk_summary(p, size=4)
    assert got == [
        [(1, lines[0] + b"\n"), (2, lines[1] + b"\n"), (3, lines[2] + b"\n"),
         (4, lines[3] + b"\n")],
        [(5, lines[4] + b"\n"), (8, lines[5] + b"\r\n"), (9, lines[6] + b"\r\n"),
         (10, lines[7] + b"\r\n")],
        [(11, lines[8] + b"\r\n"), (12, lines[9])],
    ]


def test_chunks_refuse_over_long_lines_by_number(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl, "_BLOCK", 16)
    p = tmp_path / "a.jsonl"
    big = b'{"x":"' + b"y" * 2000 + b'"}'
    p.write_bytes(big + b"\n{}\n" + big + b"\n{}\n" + big)
    msg = "这一行超过 0.001 MB 的上限(--max-file-mb);未读取"
    with use_limits(Limits(max_file_mb=0.001)):
        got = chunk_summary(p)
    assert got == [(1, msg), [(2, b"{}\n")], (3, msg), [(4, b"{}\n")], (5, msg)]


def test_chunks_of_a_utf16_file(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes('{"a":"坐席"}\r\n\r\n{"b":1}'.encode("utf-16"))
    assert chunk_summary(p) == [[(1, '{"a":"坐席"}\r\n'.encode()), (3, b'{"b":1}')]]


def test_chunks_refuse_a_binary_head(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\n")
    assert chunk_summary(p) == [(None, "二进制数据(含 NUL 字节):不是 JSON Lines 文件"
                                       "(应为每行一个通话对象,UTF-8 或 GBK)")]


def test_nul_bytes_in_the_head_cost_their_line(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(b"{}\n\x00\x01\n{}\n")
    assert chunk_summary(p) == [[(1, b"{}\n"), (2, b"\x00\x01\n"), (3, b"{}\n")]]


def test_nul_bytes_after_the_head_cost_their_line(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(b" " * 8192 + b"\n{}\n\x00\x01\n")
    assert chunk_summary(p) == [[(2, b"{}\n"), (3, b"\x00\x01\n")]]


def test_lines_pickle_to_the_same_lines() -> None:
    import pickle

    chunk = jsonl.Lines("a.jsonl", [(1, b"{}\n"), (4, b'{"a":"\xe5\x9d\x90"}\r\n'), (5, b"[]")])
    back = pickle.loads(pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == chunk and back.lines == chunk.lines
    assert pickle.loads(pickle.dumps(jsonl.Lines("e", []))) == jsonl.Lines("e", [])


def test_progress_counts_calls_not_files(tmp_path: Path) -> None:
    """#17: one 120-call JSON Lines file showed 0/1 for the whole run; calls are counted."""
    import orjson

    from csqa.api import audit

    f = tmp_path / "night.jsonl"
    f.write_bytes(b"".join(orjson.dumps({"call_id": f"c{i}", "agent_id": "A1", "utterances": [
        {"speaker": "agent", "start": 0.5, "end": 2.0, "text": "您好"}]}) + b"\n"
        for i in range(120)))
    files: list[tuple[str, int, int]] = []
    calls: list[int] = []
    audit([f], out=tmp_path / "out", jobs=1,
          on_file=lambda p, done, total: files.append((p.name, done, total)),
          on_call=calls.append)
    assert files == [("night.jsonl", 0, 1)]
    assert calls == [50, 100, 120]
