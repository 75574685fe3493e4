"""Call records (CDR): joins by call id or file name, Chinese headers, --map, hang-up
vocabularies, and calls/records missing on either side."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from openpyxl import Workbook
from typer.testing import CliRunner
from vendor_helpers import copy_as

from csqa.api import ExportOptions, audit
from csqa.cli import app
from csqa.errors import InputError
from csqa.records import load_records, normalise_hangup


def _calls(out: Path) -> list[dict[str, str]]:
    with (out / "calls.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _errors(out: Path) -> list[dict[str, str]]:
    with (out / "errors.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _hangup_findings(out: Path) -> list[str]:
    return [
        orjson.loads(x)["call_id"]
        for x in (out / "findings.jsonl").read_bytes().splitlines()
        if orjson.loads(x)["rule_id"] == "hangup"
    ]


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    """Three calls from three engines, named by call id."""
    d = tmp_path / "exports"
    copy_as("alibaba.json", d, "C001")
    copy_as("tencent.json", d, "C002")
    copy_as("call.vtt", d, "C003")
    return d


CDR_ZH = (
    "通话ID,工号,坐席姓名,班组,开始时间,呼叫方向,挂机方\n"
    "C001,A1,张丽,售后一组,2026/11/21 09:15:02,呼入,坐席\n"
    "C002,A2,李强,售后二组,2026-11-21 09:20:00,呼出,recv_bye\n"
    "C009,A3,王五,售后二组,2026-11-21 09:30:00,呼入,客户\n"
)


def test_chinese_headers_and_missing_rows(exports: Path, tmp_path: Path) -> None:
    cdr = tmp_path / "cdr.csv"
    cdr.write_text(CDR_ZH, encoding="utf-8")
    s = audit([exports], out=tmp_path / "out", options=ExportOptions(calls=cdr))
    assert s.calls_audited == 3 and s.input_errors == 0
    assert (s.transcripts_without_record, s.records_without_transcript) == (1, 1)
    rows = {r["call_id"]: r for r in _calls(tmp_path / "out")}
    assert [
        rows["C001"][k]
        for k in ("agent_id", "agent_name", "team", "started_at", "direction", "hangup_by")
    ] == ["A1", "张丽", "售后一组", "2026-11-21T09:15:02", "inbound", "agent"]
    assert [rows["C002"][k] for k in ("agent_id", "direction", "hangup_by")] == [
        "A2",
        "outbound",
        "customer",
    ]
    assert (rows["C003"]["agent_id"], rows["C003"]["hangup_by"]) == ("unknown", "")
    assert _hangup_findings(tmp_path / "out") == ["C001"]
    # the record's direction decides the outbound rules: judged for 呼出, passed for 呼入,
    # not evaluable without a record
    outbound = {"outbound.purpose", "outbound.apology", "outbound.call_hours"}
    assert [outbound & set(rows[c]["not_evaluable"].split(";")) for c in ("C001", "C002")] == [
        set(), set()]
    assert outbound <= set(rows["C003"]["not_evaluable"].split(";"))
    assert [rows["C001"][r] for r in sorted(outbound)] == ["0", "0", "0"]
    errors = _errors(tmp_path / "out")
    assert [(e["file"], e["line"], e["call_id"], e["status"]) for e in errors] == [
        (str(exports / "C003.vtt"), "", "C003", "no_record"),
        (str(cdr), "4", "C009", "no_transcript"),
    ]
    assert errors[1]["reason"] == "通话记录没有对应的转写:'C009'"
    run = orjson.loads((tmp_path / "out" / "run.json").read_bytes())
    assert (
        run["counts"]["transcripts_without_record"],
        run["counts"]["records_without_transcript"],
    ) == (1, 1)


def test_xlsx_with_map_and_join_by_file_name(exports: Path, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["序号", "录音文件", "员工编号", "DisconnectReason", "开始时间"])
    ws.append(
        [1, r"D:\录音\2026\C001.json", 1024, "AGENT_DISCONNECT", datetime(2026, 11, 21, 9, 5)]
    )
    ws.append([2, "C002.json", 1025.0, "CUSTOMER_DISCONNECT", None])
    ws.append([3, "C003.vtt", 1026, "TELECOM_PROBLEM", None])
    cdr = tmp_path / "cdr.xlsx"
    wb.save(cdr)
    s = audit(
        [exports],
        out=tmp_path / "out",
        options=ExportOptions(calls=cdr, column_map={"agent_id": "员工编号"}),
    )
    assert (s.transcripts_without_record, s.records_without_transcript, s.input_errors) == (0, 0, 0)
    rows = {
        r["call_id"]: (r["agent_id"], r["hangup_by"], r["started_at"])
        for r in _calls(tmp_path / "out")
    }
    assert rows == {
        "C001": ("1024", "agent", "2026-11-21T09:05:00"),
        "C002": ("1025", "customer", ""),
        "C003": ("1026", "system", ""),
    }


def test_cli_calls_and_map(exports: Path, tmp_path: Path) -> None:
    cdr = tmp_path / "cdr.csv"
    cdr.write_text(
        "call,staff,sip_hangup_disposition\nC001,7,send_bye\nC002,8,recv_bye\nC003,9,send_refuse\n",
        encoding="utf-8",
    )
    r = CliRunner().invoke(
        app,
        [
            "audit",
            str(exports),
            "-o",
            str(tmp_path / "o"),
            "-q",
            "--calls",
            str(cdr),
            "--map",
            "call_id=call",
            "--map",
            "agent_id=staff",
        ],
    )
    assert r.exit_code == 0, r.output
    rows = {r["call_id"]: (r["agent_id"], r["hangup_by"]) for r in _calls(tmp_path / "o")}
    assert rows == {"C001": ("7", "agent"), "C002": ("8", "customer"), "C003": ("9", "system")}


def test_gbk_encoded_cdr(exports: Path, tmp_path: Path) -> None:
    cdr = tmp_path / "cdr.csv"
    cdr.write_bytes(CDR_ZH.encode("gbk"))
    audit([exports], out=tmp_path / "out", options=ExportOptions(calls=cdr))
    assert {r["call_id"]: r["agent_name"] for r in _calls(tmp_path / "out")}["C001"] == "张丽"


@pytest.mark.parametrize(
    ("value", "side"),
    [
        ("坐席", "agent"),
        ("坐席挂机", "agent"),
        ("客户挂断", "customer"),
        ("系统", "system"),
        ("recv_bye", "customer"),
        ("send_bye", "agent"),
        ("send_refuse", "system"),
        ("recv_cancel", "customer"),
        ("AGENT_DISCONNECT", "agent"),
        ("CUSTOMER_DISCONNECT", "customer"),
        ("CONTACT_FLOW_DISCONNECT", "system"),
        ("Agent", "agent"),
        ("External", "customer"),
        ("Conversation Inactivity", "system"),
        ("Session Expired", "system"),
        ("", None),
        ("未知", None),
        ("OTHER", None),
    ],
)
def test_hangup_vocabularies(value: str, side: str | None) -> None:
    assert normalise_hangup(value) == side


def test_bad_rows_are_reported_with_their_line(tmp_path: Path) -> None:
    cdr = tmp_path / "cdr.csv"
    cdr.write_text(
        "通话ID,挂机方,开始时间\nC001,老板,\nC001,客户,\n,客户,\nC004,客户,昨天\n", encoding="utf-8"
    )
    recs = load_records(cdr)
    assert [str(p) for p in recs.problems] == [
        f"{cdr}:2: hangup_by: 无法识别的值 '老板'(按未知处理);应为 坐席/客户/系统、"
        "FreeSWITCH 的 sip_hangup_disposition、Amazon Connect 的 DisconnectReason 或 Genesys "
        "的 Disconnect Type",
        f"{cdr}:3: 通话记录重复:'C001'(第一次出现在第 2 行);已忽略",
        f"{cdr}:4: 通话记录没有通话 ID 也没有文件名;已忽略",
        f"{cdr}:5: started_at: 应为日期时间,如 2026-11-21 09:15:02,实际是 '昨天'",
    ]
    assert recs.by_id["C001"].values["hangup_by"] is None


@pytest.mark.parametrize(
    ("content", "mapping", "message"),
    [
        ("a,b\n1,2\n", {}, ":1: 没有通话 ID 列(找过 call_id、通话ID"),
        (
            "通话ID\nC1\n",
            {"agent_id": "工号"},
            ":1: --map agent_id=工号: 没有列 '工号';表中的列:通话ID",
        ),
    ],
)
def test_unusable_record_file_is_one_line(
    content: str, mapping: dict[str, str], message: str, tmp_path: Path
) -> None:
    cdr = tmp_path / "cdr.csv"
    cdr.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_records(cdr, mapping)
    assert str(exc.value).startswith(f"{cdr}{message}")


def test_unknown_map_field_and_cli_usage_error(tmp_path: Path) -> None:
    with pytest.raises(
        InputError, match=r"--map agent=…: 未知的字段\(是否应为 'agent_id'\?\)"
    ):
        load_records(tmp_path / "x.csv", {"agent": "工号"})
    r = CliRunner().invoke(
        app, ["audit", str(tmp_path), "--calls", str(tmp_path / "nope.csv"), "-q"]
    )
    assert r.exit_code == 2
    assert f"{tmp_path / 'nope.csv'}: 通话记录文件不存在" in r.stderr
    r = CliRunner().invoke(app, ["audit", str(tmp_path), "--map", "工号", "-q"])
    assert r.exit_code == 2 and "--map 工号:应写成 字段=列名" in r.stderr


def test_broken_xlsx_is_one_line(tmp_path: Path) -> None:
    cdr = tmp_path / "cdr.xlsx"
    cdr.write_bytes(b"not a workbook")
    with pytest.raises(InputError, match=r"cdr.xlsx: 不是可读的 .xlsx 工作簿"):
        load_records(cdr)


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2026-11-21 09:15:02", "2026-11-21T09:15:02"),
        ("2026/11/21 09:15:02", "2026-11-21T09:15:02"),
        ("2026-11-21T09:15:02+08:00", "2026-11-21T09:15:02+08:00"),
        ("20261121091502", "2026-11-21T09:15:02"),
        ("1795252502", "2026-11-21T09:15:02+00:00"),
        ("1795252502000", "2026-11-21T09:15:02+00:00"),
    ],
)
def test_start_time_spellings(value: str, iso: str, tmp_path: Path) -> None:
    cdr = tmp_path / "cdr.csv"
    cdr.write_text(f"通话ID,开始时间\nC1,{value}\n", encoding="utf-8")
    recs = load_records(cdr)
    assert recs.problems == []
    assert recs.by_id["C1"].values["started_at"] == iso


def test_unused_columns_are_named_and_common_synonyms_read(exports: Path, tmp_path: Path
                                                           ) -> None:
    """#17: 呼叫开始时间 was dropped without a word, leaving every started_at empty."""
    cdr = tmp_path / "cdr.csv"
    cdr.write_text("通话ID,坐席号,呼叫开始时间,备注,通话时长\n"
                   "C001,A1,2026-11-21 09:15:02,回访,95\n"
                   "C002,A2,2026-11-21 09:20:00,,60\n"
                   "C003,A3,2026-11-21 09:30:00,,70\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["audit", str(exports), "--calls", str(cdr), "-o",
                                      str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    rows = _calls(tmp_path / "out")
    assert [(r["call_id"], r["agent_id"], r["started_at"]) for r in rows] == [
        ("C001", "A1", "2026-11-21T09:15:02"), ("C002", "A2", "2026-11-21T09:20:00"),
        ("C003", "A3", "2026-11-21T09:30:00")]
    [warning] = _errors(tmp_path / "out")
    assert (warning["file"], warning["line"], warning["status"]) == (str(cdr), "1", "warning")
    assert warning["reason"].startswith("未使用的列:备注、通话时长(不是认识的通话记录字段;")
    assert f"警告:{cdr}:1: 未使用的列:备注、通话时长" in result.stderr


@pytest.mark.parametrize("packed", [False, True])
def test_call_records_among_the_transcripts_are_skipped_not_errors(
        exports: Path, tmp_path: Path, packed: bool) -> None:
    """#17: cdr.csv in the export folder (or zip) was read as a transcript: exit 3."""
    (exports / "cdr.csv").write_text(CDR_ZH, encoding="utf-8")
    target = exports
    if packed:
        import zipfile

        target = tmp_path / "night.zip"
        with zipfile.ZipFile(target, "w") as zf:
            for f in sorted(exports.iterdir()):
                zf.write(f, f"night/{f.name}")
    result = CliRunner().invoke(app, ["audit", str(target), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert len(_calls(tmp_path / "out")) == 3
    [skipped] = _errors(tmp_path / "out")
    where = f"{target}!night/cdr.csv" if packed else str(exports / "cdr.csv")
    assert (skipped["file"], skipped["line"], skipped["status"]) == (where, "1", "skipped")
    assert skipped["reason"] == ("通话记录表(call records),不是转写,未作为转写读取;"
                                 "要用它补充坐席、班组、挂机方等信息,请用 --calls 指定这个文件")
