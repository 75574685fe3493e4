"""Fuzz targets (hypothesis, bounded so the suite stays fast) for the defences of issue #19:
the redactor, the escaping of names, the JSON Lines reader and the duplicate-key check."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csqa.loaders.common import duplicate_key
from csqa.loaders.jsonl import load
from csqa.model import InputProblem, shown_name
from csqa.redact import find_pii, redact

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

PIECES = ["13812345678", "11010519491231002X", "6222021234567890128", "li.si@example.com",
          "2026-11-21 09:15:02", "20261121091502", "尾号5678", "1", "8", "X", "x", " ", "-",
          ",", "/", ";", "|", "+86", "一", "幺三八", "@", ".", "号", "\u3000", "‐", "－"]


@FUZZ
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=12)
       .map("".join))
def test_redaction_is_total_and_stable(text: str) -> None:
    masked = redact(text)
    assert len(masked) == len(text)
    assert find_pii(masked) == [] and redact(masked) == masked
    # a number not glued to other digits (any other character may join it) is masked
    for raw in ("13812345678", "11010519491231002X", "6222021234567890128"):
        for m in re.finditer(f"(?<![0-9０-９]){raw}(?![0-9０-９])", text):
            assert masked[m.start():m.end()] != raw, (raw, text, masked)
    # only digits and e-mail names are ever masked: everything else is kept in place
    assert all(a == b or b == "*" for a, b in zip(text, masked, strict=True))


@FUZZ
@given(st.text())
def test_a_shown_name_is_one_printable_line(name: str) -> None:
    shown = shown_name(name)
    assert "\n" not in shown and "\r" not in shown and "\x1b" not in shown
    assert all(ch.isprintable() or ch.isspace() for ch in shown)
    if name.isprintable():
        assert shown == name


def _call(cid: str) -> bytes:
    return json.dumps({"call_id": cid, "agent_id": "A1", "utterances": [
        {"speaker": "agent", "start": 0, "end": 1, "text": "您好"}]}).encode()


JUNK = st.one_of(st.binary(max_size=40).filter(lambda b: not b.startswith((b"\xff\xfe", b"\xfe\xff"))), st.sampled_from([
    b"\x00" * 50, b"{", b"[]", b'{"call_id": "J", "agent_id": "A", "agent_id": "B"}', b"null",
    b"\x00\xff", b'{"utterances": 3}']))


@FUZZ
@given(st.lists(st.one_of(st.integers(0, 999).map(lambda i: ("call", f"C{i}")),
                          JUNK.map(lambda b: ("junk", b)),
                          st.integers(1, 30).map(lambda n: ("blank", n))), max_size=20))
def test_the_jsonl_reader_loses_a_bad_line_only(parts: list[tuple[str, Any]]) -> None:
    """Every good call line is a call; every other non-blank line costs itself, with its line
    number; nothing raises. (A head that is binary through and through is one file error.)"""
    lines: list[bytes] = []
    good: dict[int, str] = {}
    for what, value in parts:
        if what == "call" and value not in good.values():
            lines.append(_call(value))
            good[len(lines)] = value
        elif what == "blank":
            lines.extend([b""] * value)
        elif what == "junk":
            lines.append(value.replace(b"\n", b" ").replace(b"\r", b" "))
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "f.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        items = list(load(path))
    calls = {i.line: i.call_id for i in items if not isinstance(i, InputProblem)}
    problems = [i for i in items if isinstance(i, InputProblem)]
    if len(problems) == 1 and problems[0].line is None and not calls:
        return  # refused whole as binary: its head holds NUL bytes and no call
    assert calls == good
    assert sorted(p.line for p in problems) == [
        n for n, line in enumerate(lines, 1) if n not in good and line.strip()]


KEYS = st.sampled_from(["call_id", "agent_id", "text", "a", "b:c", "", "中", 'q"', "utterances",
                        "started_at"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=6),
                    st.sampled_from(["09:15:02", '":', "\\u003a", ":"]))


class Raw(str):
    """JSON text written as it is (a nested object)."""


def _obj_text(pairs: list[tuple[str, Any]], indent: bool) -> Raw:
    """A JSON object written by hand, so that a key may appear twice."""
    sep = ", \n" if indent else ","
    colon = " : " if indent else ":"
    return Raw("{" + sep.join(json.dumps(k) + colon + (v if isinstance(v, Raw) else json.dumps(v))
                              for k, v in pairs) + "}")


NESTED = st.recursive(st.lists(st.tuples(KEYS, SCALARS), max_size=4),
                      lambda inner: st.lists(st.tuples(KEYS, st.one_of(
                          SCALARS, inner.map(lambda p: _obj_text(p, False)),
                          st.lists(inner.map(lambda p: _obj_text(p, False)), max_size=3)
                          .map(lambda objs: Raw("[" + ",".join(objs) + "]")))), max_size=4),
                      max_leaves=12)


@FUZZ
@given(NESTED, st.booleans(), st.booleans())
def test_the_duplicate_key_check_agrees_with_an_exact_parse(pairs: list[tuple[str, Any]],
                                                            indent: bool, as_bytes: bool) -> None:
    text = _obj_text(pairs, indent)
    found: list[str] = []

    def hook(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        found.extend(k for i, k in enumerate(keys) if k in keys[:i])
        return dict(items)

    obj = json.loads(text, object_pairs_hook=hook)
    got = duplicate_key(text.encode() if as_bytes else text, obj)
    assert (got is None) == (not found)
    if got is not None:
        assert got in found
