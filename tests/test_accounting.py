"""Every input is accounted for: a corpus mixing good and bad files audits with each file
either audited, listed as failed, or skipped, and each bad line listed by number."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import orjson
from typer.testing import CliRunner

from csqa.api import audit
from csqa.cli import app
from csqa.loaders.common import Limits

GOOD_TXT = ("# call_id: {cid}\n# agent_id: A1\n"
            "[00:00:01.0-00:00:03.0] 坐席: 您好,很高兴为您服务,我是小王。\n"
            "[00:00:04.0-00:00:06.0] 客户: 你好,我的洗衣机漏水了。\n"
            "[00:00:07.0-00:00:09.0] 坐席: 好的,请您稍等。\n")


def call(cid: str, agent: str = "A2") -> dict:
    return {"call_id": cid, "agent_id": agent, "utterances": [
        {"speaker": "agent", "start": 0.5, "end": 3, "text": "您好,很高兴为您服务"},
        {"speaker": "customer", "start": 3.5, "end": 6, "text": "你好"}]}


def make_corpus(root: Path) -> Path:
    d = root / "corpus"
    (d / "sub").mkdir(parents=True)
    (d / "good.txt").write_text(GOOD_TXT.format(cid="T1"), encoding="utf-8")
    (d / "gbk.txt").write_bytes(GOOD_TXT.format(cid="T2").encode("gbk"))
    (d / "utf16.txt").write_bytes(GOOD_TXT.format(cid="T3").encode("utf-16"))
    (d / "one.json").write_text(json.dumps(call("J1")), encoding="utf-8")
    # 5 lines: 3 good calls, 1 broken JSON (line 2), 1 blank line, 1 bad speaker (line 5)
    bad_speaker = call("L4")
    bad_speaker["utterances"][1]["speaker"] = "robot"
    (d / "night.jsonl").write_text("\n".join([
        json.dumps(call("L1")), '{"call_id": "L2", "agent_id": ', json.dumps(call("L3")), "",
        json.dumps(bad_speaker), json.dumps(call("L5"))]) + "\n", encoding="utf-8")
    (d / "empty.jsonl").write_bytes(b"")
    (d / "blank.jsonl").write_text("\n\n  \n", encoding="utf-8")
    (d / "junk.json").write_bytes(bytes(range(256)) * 16)
    (d / "truncated.json").write_text(json.dumps(call("TR"))[:-20], encoding="utf-8")
    (d / "sub" / "dup.json").write_text(json.dumps(call("J1")), encoding="utf-8")  # dup of one.json
    (d / "sub" / "notes.pdf").write_bytes(b"%PDF-1.4")
    (d / "sub" / "rows.csv").write_text(
        "call_id,agent_id,speaker,start,end,text\n"
        "R1,A3,坐席,0.5,2,您好\nR1,A3,客户,2.5,4,你好\n"
        "R2,A3,坐席,0.5,2,您好\nR2,A3,客户,abc,4,你好\n", encoding="utf-8")
    import zipfile

    with zipfile.ZipFile(d / "sub" / "bundle.zip", "w") as zf:  # one good member, one bad
        zf.writestr("z1.json", json.dumps(call("Z1")))
        zf.writestr("bad.json", bytes(range(256)))
    (d / "sub" / "huge.txt").write_text(GOOD_TXT.format(cid="BIG") + "# " + "x" * 200_000,
                                        encoding="utf-8")
    return d


EXPECTED_ERRORS = [  # (file relative to the corpus, line, status, reason starts with)
    ("blank.jsonl", "", "error", "文件中没有找到通话(只有空行"),
    ("empty.jsonl", "", "error", "空文件(0 字节)"),
    ("junk.json", "", "error", "二进制数据(含 NUL 字节)"),
    ("night.jsonl", "2", "error", "JSON 格式有误"),
    ("night.jsonl", "5", "error", "utterances[1].speaker: 无法识别的说话人 'robot'"),
    ("sub/bundle.zip!bad.json", "", "error", "二进制数据(含 NUL 字节)"),
    ("sub/dup.json", "", "error", "重复的 call_id 'J1'"),
    ("sub/huge.txt", "", "error", "文件有 0.2 MB,超过整体读入文件的上限 0.1 MB"),
    ("sub/notes.pdf", "", "skipped", "不是转写文件类型(.pdf)"),
    ("sub/rows.csv", "5", "error", "row 5.start: 应为从通话开始算起的秒数"),
    ("truncated.json", "1", "error", "JSON 格式有误"),
]


def test_mixed_corpus_every_file_and_line_accounted_for(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    out = tmp_path / "out"
    summary = audit([corpus], out=out, limits=Limits(max_file_mb=0.1))
    acc = summary.accounting
    assert acc == {
        "files_seen": 14, "files_audited": 7, "files_failed": 6, "files_skipped": 1,
        "records_read": 19, "calls_audited": 9, "records_rejected": 10, "warnings": 0,
        "rule_errors": 0, "notes": 0, "balanced": True,
    }
    # The books: files seen = audited + failed + skipped; records = calls + listed errors.
    assert acc["files_seen"] == acc["files_audited"] + acc["files_failed"] + acc["files_skipped"]
    assert acc["records_read"] == acc["calls_audited"] + acc["records_rejected"]

    with (out / "errors.csv").open(encoding="utf-8", newline="") as fh:
        errors = list(csv.DictReader(fh))
    got = sorted((str(Path(e["file"]).relative_to(corpus)), e["line"], e["status"], e["reason"])
                 for e in errors)
    assert len(got) == len(EXPECTED_ERRORS)
    for (file, line, status, reason), want in zip(got, EXPECTED_ERRORS, strict=True):
        assert (file, line, status) == want[:3]
        assert reason.startswith(want[3]), (file, reason)

    with (out / "calls.csv").open(encoding="utf-8", newline="") as fh:
        calls = list(csv.DictReader(fh))
    assert sorted(c["call_id"] for c in calls) == ["J1", "L1", "L3", "L5", "R1", "T1", "T2", "T3",
                                                   "Z1"]
    # every file appears somewhere: as the source of an audited call, or in errors.csv
    all_files = {str(p) for p in corpus.rglob("*") if p.is_file()}
    def file_of(source: str) -> str:  # "f.jsonl:3" -> "f.jsonl", "a.zip!m.json" -> "a.zip"
        head, _, tail = source.rpartition(":")
        return (head if tail.isdigit() else source).split("!")[0]

    assert {file_of(c["source"]) for c in calls} | {file_of(e["file"]) for e in errors} == all_files

    run = orjson.loads((out / "run.json").read_bytes())
    assert run["accounting"] == acc


def test_summary_prints_the_accounting(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    result = CliRunner().invoke(app, ["audit", str(corpus), "--out", str(tmp_path / "o"), "-q",
                                      "--max-file-mb", "0.1"])
    assert result.exit_code == 3, result.output
    assert ("输入文件 14 个 = 已审计 7 + 无法读取 6 + 跳过 1;记录 19 条 = 审计 9 通 + 出错 10 条"
            "(见 errors.csv)") in result.stdout


def test_warnings_are_listed_but_do_not_lose_the_call(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_text("# agent_id: A1\n[00:00:05.0-00:00:04.5] 坐席: 您好\n"
                    "[00:00:06.0-00:00:08.0] 客户: 你好\n", encoding="utf-8")
    summary = audit([path], out=tmp_path / "out")
    assert summary.calls_audited == 1 and summary.input_errors == 0
    assert summary.accounting["warnings"] == 1
    with (tmp_path / "out" / "errors.csv").open(encoding="utf-8", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert (row["file"], row["call_id"], row["status"]) == (str(path), "c", "warning")
    assert row["reason"] == ("line 2: 结束 4.5 早于开始 5;已改为 "
                             "结束 = 开始(应为 结束 ≥ 开始)")
