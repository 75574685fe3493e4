"""Each input format loads into the same canonical Transcript; bad input is named precisely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csqa.loaders import load_all
from csqa.model import InputProblem, Transcript, Utterance

CALL = {
    "call_id": "C-1", "agent_id": "A1024", "agent_name": "张丽", "team": "售后一组",
    "started_at": "2026-11-21T09:15:02+08:00", "hangup_by": "customer",
    "utterances": [
        {"speaker": "客户", "start": 4.6, "end": 9.0, "text": "你好,我的洗衣机漏水了。"},
        {"speaker": "坐席", "start": 0.8, "end": 4.2, "text": "您好,很高兴为您服务。"},
    ],
}
EXPECTED_UTTS = [
    Utterance(0, "agent", 0.8, 4.2, "您好,很高兴为您服务。"),
    Utterance(1, "customer", 4.6, 9.0, "你好,我的洗衣机漏水了。"),
]


def _load(path: Path) -> list[Transcript | InputProblem]:
    return list(load_all([path]))


def _check_canonical(t: Transcript | InputProblem) -> None:
    assert isinstance(t, Transcript), t
    assert (t.call_id, t.agent_id, t.agent_name, t.team, t.started_at, t.hangup_by) == (
        "C-1", "A1024", "张丽", "售后一组", "2026-11-21T09:15:02+08:00", "customer")
    assert t.utterances == EXPECTED_UTTS  # sorted by start, indexes renumbered


def test_json(tmp_path: Path) -> None:
    p = tmp_path / "c.json"
    p.write_text(json.dumps(CALL, ensure_ascii=False), encoding="utf-8")
    [t] = _load(p)
    _check_canonical(t)
    assert isinstance(t, Transcript) and t.location == str(p)


def test_json_call_id_defaults_to_file_stem(tmp_path: Path) -> None:
    p = tmp_path / "20261121-0099.json"
    p.write_text(json.dumps({k: v for k, v in CALL.items() if k != "call_id"}), encoding="utf-8")
    [t] = _load(p)
    assert isinstance(t, Transcript) and t.call_id == "20261121-0099"


def test_jsonl_bad_line_loses_only_that_line(tmp_path: Path) -> None:
    p = tmp_path / "night.jsonl"
    other = {**CALL, "call_id": "C-2"}
    p.write_text(json.dumps(CALL, ensure_ascii=False) + "\n{broken\n\n"
                 + json.dumps(other, ensure_ascii=False) + "\n", encoding="utf-8")
    items = _load(p)
    assert [type(i).__name__ for i in items] == ["Transcript", "InputProblem", "Transcript"]
    _check_canonical(items[0])
    bad = items[1]
    assert isinstance(bad, InputProblem) and bad.line == 2 and bad.reason.startswith("JSON 格式有误")
    assert isinstance(items[2], Transcript) and items[2].line == 4


def test_text_format(tmp_path: Path) -> None:
    p = tmp_path / "C-1.txt"
    p.write_text(
        "# agent_id: A1024\n# agent_name: 张丽\n# team: 售后一组\n"
        "# started_at: 2026-11-21T09:15:02+08:00\n# a free comment\n\n"
        "[00:00:04.6-00:00:09.0] 客户: 你好,我的洗衣机漏水了。\n"
        "[00:00.8 - 00:04.2] 坐席：您好,很高兴为您服务。\n"
        "[00:00:12] <挂机: 客户>\n", encoding="utf-8")
    [t] = _load(p)
    _check_canonical(t)
    assert isinstance(t, Transcript) and t.duration == 12.0


def test_text_error_names_line(tmp_path: Path) -> None:
    p = tmp_path / "c.txt"
    p.write_text("# agent_id: A1\n[00:00:01.0-00:00:02.0] 坐席: 您好\n坐席 说了点什么\n", encoding="utf-8")
    [bad] = _load(p)
    assert isinstance(bad, InputProblem)
    assert (bad.line, bad.reason.split(":")[0]) == (3, "无法读取这一行")
    p.write_text("# agent_id: A1\n[00:00:05.0-00:00:02.0] 坐席: 您好\n", encoding="utf-8")
    [call] = _load(p)  # end < start is clamped with a warning naming the line (README)
    assert isinstance(call, Transcript) and call.utterances[0].end == 5.0
    assert call.warnings == ["line 2: 结束 2 早于开始 5;已改为 "
                             "结束 = 开始(应为 结束 ≥ 开始)"]
    p.write_text("# agent_id: A1\n[00:00:01.0-00:00:02.0] 机器人: 您好\n", encoding="utf-8")
    [bad] = _load(p)
    assert isinstance(bad, InputProblem) and bad.line == 2 and "无法识别的说话人 '机器人'" in bad.reason


def test_csv_many_calls_rows_not_adjacent(tmp_path: Path) -> None:
    p = tmp_path / "u.csv"
    p.write_text(
        "call_id,agent_id,agent_name,team,started_at,hangup_by,speaker,start,end,text\n"
        "C-1,A1024,张丽,售后一组,2026-11-21T09:15:02+08:00,customer,customer,4.6,9.0,"
        "你好,我的洗衣机漏水了。\n".replace("你好,我的洗衣机漏水了。", '"你好,我的洗衣机漏水了。"')
        + "C-2,A2007,李娜,,,,agent,0.5,1.0,您好\n"
        "C-1,A1024,,,,,agent,0.8,4.2,\"您好,很高兴为您服务。\"\n", encoding="utf-8")
    items = _load(p)
    _check_canonical(items[0])
    assert isinstance(items[1], Transcript) and items[1].call_id == "C-2" and items[1].line == 3


def test_csv_bad_row_rejects_its_call_only(tmp_path: Path) -> None:
    p = tmp_path / "u.csv"
    p.write_text("call_id,agent_id,speaker,start,end,text\n"
                 "C-1,A1,agent,abc,1.0,您好\nC-2,A1,agent,0.0,1.0,您好\n", encoding="utf-8")
    items = _load(p)
    bad, good = items
    assert isinstance(bad, InputProblem) and bad.line == 2 and bad.call_id == "C-1"
    assert "row 2.start: 应为从通话开始算起的秒数(≥ 0 的数),实际是 'abc'" \
        in bad.reason
    assert isinstance(good, Transcript) and good.call_id == "C-2"


def test_csv_missing_columns(tmp_path: Path) -> None:
    p = tmp_path / "u.csv"
    p.write_text("call_id,speaker,text\nC-1,agent,hi\n", encoding="utf-8")
    [bad] = _load(p)
    assert isinstance(bad, InputProblem) and bad.line == 1
    assert bad.reason.startswith("缺少列:agent_id, start, end")


def test_encodings_gb18030_and_bom(tmp_path: Path) -> None:
    text = json.dumps(CALL, ensure_ascii=False)
    (tmp_path / "gbk.json").write_bytes(text.encode("gb18030"))
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    for item in _load(tmp_path):
        _check_canonical(item)


def test_missing_agent_and_bad_fields(tmp_path: Path) -> None:
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"utterances": []}), encoding="utf-8")
    [bad] = _load(p)
    assert isinstance(bad, InputProblem) and bad.reason == "agent_id: 缺失(每通通话都要写明坐席)"
    p.write_text(json.dumps({**CALL, "hangup_by": "robot"}), encoding="utf-8")
    [bad] = _load(p)
    assert isinstance(bad, InputProblem) and "hangup_by: 应为 agent、customer、system 或 null" in bad.reason
    p.write_text(json.dumps({**CALL, "utterances": [{"speaker": "agent", "start": -1, "end": 1}]}),
                 encoding="utf-8")
    [bad] = _load(p)
    assert isinstance(bad, InputProblem) and bad.reason == (
        "utterances[0].start: 时间为负数 -1(应为从通话开始算起的秒数(≥ 0 的数))")
    p.write_text(json.dumps({**CALL, "started_at": "yesterday"}), encoding="utf-8")
    [bad] = _load(p)
    assert isinstance(bad, InputProblem) and bad.reason.startswith("started_at: 应为 ISO 8601")


def test_hangup_vocabulary(tmp_path: Path) -> None:
    for value, side in (("坐席", "agent"), ("客户", "customer"), ("系统", "system"),
                        (None, None), ("未知", None), ("", None)):
        p = tmp_path / "c.json"
        p.write_text(json.dumps({**CALL, "hangup_by": value}, ensure_ascii=False), encoding="utf-8")
        [t] = _load(p)
        assert isinstance(t, Transcript) and t.hangup_by == side


def test_folders_walked_recursively_unsupported_listed(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.json").write_text(json.dumps(CALL, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "a" / "readme.md").write_text("hi", encoding="utf-8")
    items = _load(tmp_path)
    assert isinstance(items[0], Transcript)
    skipped = items[1]
    assert isinstance(skipped, InputProblem) and skipped.status == "skipped"
    assert skipped.reason.startswith("不是转写文件类型(.md)")


def test_duplicate_call_ids_later_copy_rejected(tmp_path: Path) -> None:
    from csqa.parallel import Job
    from csqa.pipeline import AuditStage
    from csqa.reading import Preparation, ReadyCall
    from csqa.ruleset import load_ruleset

    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps(CALL, ensure_ascii=False), encoding="utf-8")
    stage = AuditStage(Job(load_ruleset(), render=False))
    out = list(stage.outcomes(ReadyCall(x) for x in Preparation()(load_all([tmp_path]))))
    assert out[0].transcript.call_id == "C-1"  # type: ignore[union-attr]
    dup = out[1]
    assert isinstance(dup, InputProblem) and dup.file == str(tmp_path / "b.json")
    assert dup.reason == (f"重复的 call_id 'C-1':已从 {tmp_path / 'a.json'} 审计过;"
                          "这一份未审计")


def test_folders_are_walked_in_sorted_path_order_as_rglob_would(tmp_path: Path) -> None:
    """discover() lists a folder's files in the order of ``sorted(rglob("*"))`` (by path
    components, not by string: ``a/x`` before ``a-b/y``), symlinked files included; a symlinked
    folder and a broken link listed (to be reported as not read), never passed over."""
    from csqa.loaders import discover

    root = tmp_path / "in"
    for name in ["a/x.json", "a-b/y.json", "a0.txt", "A/z.jsonl", "a.json", "é.csv", "中文/一.json",
                 ".hidden.json", "deep/er/still/f.json", "real/r.json"]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("{}")
    (root / "deep" / "link-to-real").symlink_to(root / "real", target_is_directory=True)
    (root / "file-link.json").symlink_to(root / "a.json")
    (root / "broken.json").symlink_to(root / "missing.json")
    (root / "empty-folder").mkdir()

    expected = [f for f in sorted(root.rglob("*")) if f.is_file() or f.is_symlink()]
    got = list(discover([root]))
    assert [f for f, _ in got] == expected
    assert [f.relative_to(root).as_posix() for f, _ in got] == [
        ".hidden.json", "A/z.jsonl", "a/x.json", "a-b/y.json", "a.json", "a0.txt", "broken.json",
        "deep/er/still/f.json", "deep/link-to-real", "file-link.json", "real/r.json", "é.csv",
        "中文/一.json"]
    link = dict(got)[root / "deep" / "link-to-real"]
    assert link is not None and link.refused == (
        "指向文件夹的符号链接,未进入(要审计那个文件夹,请直接给出它)", "skipped")


@pytest.mark.parametrize("spelling", [".", "./in", "in", "in/", "in//sub/..", "ABS"])
def test_discover_names_are_the_paths_as_str_with_the_same_loaders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: str) -> None:
    """The main process walks folders without a Path per file: each name is ``str(path)`` of
    what discover() gives, and each loader the one loader_for() picks for that path."""
    from functools import partial

    from csqa.loaders import discover, discover_names, loader_for

    root = tmp_path / "in"
    for name in ["a.json", "b.JSON", "c.jsonl", "d.tar.gz", "e.zip", "f", ".json", "g.", "h..json",
                 "sub/i.txt", "sub/j.srt", "k.unknown"]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("{}")
    monkeypatch.chdir(tmp_path if spelling != "." else root)
    arg = str(root) if spelling == "ABS" else spelling

    def same(a: object, b: object) -> bool:
        if isinstance(a, partial) and isinstance(b, partial):
            return a.func is b.func and a.args == b.args and a.keywords.keys() == b.keywords.keys()
        return a is b

    for fmt in (None, "whisper"):
        names = list(discover_names([arg], fmt))
        paths = list(discover([arg], fmt))
        assert [n for n, _ in names] == [str(p) for p, _ in paths]
        assert [str(p) for p, _ in paths] == [str(f) for f in sorted(Path(arg).rglob("*"))
                                              if f.is_file()]
        assert all(same(lo, loader_for(Path(n), fmt)) for n, lo in names)
    assert len(names) == 12


def test_direction_in_every_format(tmp_path: Path) -> None:
    """Who placed the call (the outbound rules need it) is read from JSON, JSON Lines, text
    headers and CSV columns, in English or Chinese; absent is unknown (None)."""
    (tmp_path / "a.json").write_text(json.dumps({**CALL, "call_id": "J", "direction": "外呼"},
                                                ensure_ascii=False), encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(
        json.dumps({**CALL, "call_id": "L1", "direction": "Inbound"}) + "\n"
        + json.dumps({**CALL, "call_id": "L2"}) + "\n", encoding="utf-8")
    (tmp_path / "c.txt").write_text("# call_id: T\n# agent_id: A1\n# direction: outbound\n"
                                    "[0-2] 坐席: 您好。\n", encoding="utf-8")
    (tmp_path / "d.csv").write_text("call_id,agent_id,direction,speaker,start,end,text\n"
                                    "C,A1,呼入,坐席,0,2,您好\n", encoding="utf-8")
    got = {t.call_id: t.direction for t in load_all([tmp_path]) if isinstance(t, Transcript)}
    assert got == {"J": "outbound", "L1": "inbound", "L2": None, "T": "outbound", "C": "inbound"}


def test_bad_direction_is_named(tmp_path: Path) -> None:
    p = tmp_path / "c.json"
    p.write_text(json.dumps({**CALL, "direction": "sideways"}), encoding="utf-8")
    [problem] = _load(p)
    assert isinstance(problem, InputProblem)
    assert problem.reason.startswith("direction: 应为以下之一:inbound, in, incoming, outbound")
