"""run.json records how the audit read its input (``reading``), and ``backtest`` re-reads a
run the same way unless told otherwise on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner
from vendor_helpers import copy_as

from csqa.api import ReadOptions, audit
from csqa.backtest import backtest
from csqa.cli import app

runner = CliRunner()


@pytest.fixture
def night(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two exported calls and their call records, in the current folder: C001's agent hung
    up first (坐席先挂机 fires only from the call record), C002's customer did."""
    monkeypatch.chdir(tmp_path)
    copy_as("alibaba.json", tmp_path / "exports", "C001")
    copy_as("tencent.json", tmp_path / "exports", "C002")
    (tmp_path / "cdr.csv").write_text("通话ID,工号,挂机方\nC001,A1,坐席\nC002,A2,客户\n",
                                      encoding="utf-8")
    return tmp_path


def hangups(out: Path) -> list[str]:
    rows = [json.loads(x) for x in (out / "findings.jsonl").read_text("utf-8").splitlines()]
    return [f["call_id"] for f in rows if f["rule_id"] == "hangup"]


def test_run_json_records_the_reading_options(night: Path) -> None:
    (night / "profile.yaml").write_text(
        "agent_channel: 1\nspeakers: {'1': agent}\nmap: {agent_id: 工号}\n", encoding="utf-8")
    res = runner.invoke(app, ["audit", "exports", "-o", "out", "-q", "--calls", "cdr.csv",
                              "--profile", "profile.yaml", "--strict-roles",
                              "--input-format", "alibaba"])
    assert res.exit_code == 3, res.output  # C002 is a Tencent export: not read as alibaba
    record = json.loads((night / "out" / "run.json").read_text("utf-8"))
    assert record["reading"] == {
        "input_format": "alibaba", "calls": "cdr.csv", "map": {"agent_id": "工号"},
        "profile": "profile.yaml", "agent_channel": 1, "speakers": {"1": "agent"},
        "strict_roles": True}
    audit([Path("exports")], out=night / "plain", jobs=1)
    assert json.loads((night / "plain" / "run.json").read_text("utf-8"))["reading"] == {
        "input_format": None, "calls": None, "map": {}, "profile": None,
        "agent_channel": None, "speakers": {}, "strict_roles": False}


def test_backtest_rereads_with_the_runs_options(night: Path) -> None:
    """Before run.json kept them, a backtest without --calls lost every call-record finding:
    坐席先挂机 on C001 showed as removed by an unchanged ruleset."""
    audit([Path("exports")], out=night / "out", options=ReadOptions(calls="cdr.csv"), jobs=1)
    assert hangups(night / "out") == ["C001"]
    bt = backtest([night / "out"], None)
    assert (bt.findings, bt.missing, bt.notes) == ([], [], [])
    res = runner.invoke(app, ["backtest", "out", "-r", "default"])
    assert res.exit_code == 0, res.output
    assert "违规变化:无" in res.output
    assert "警告" not in res.output


def test_backtest_options_given_win_over_the_recorded(night: Path) -> None:
    audit([Path("exports")], out=night / "out", options=ReadOptions(calls="cdr.csv"), jobs=1)
    (night / "cdr2.csv").write_text("通话ID,工号,挂机方\nC001,A1,客户\nC002,A2,坐席\n",
                                    encoding="utf-8")
    bt = backtest([night / "out"], None, options=ReadOptions(calls="cdr2.csv"))
    assert [(f["change"], f["call_id"], f["rule_id"]) for f in bt.findings
            if f["rule_id"] == "hangup"] == [("removed", "C001", "hangup"),
                                             ("added", "C002", "hangup")]


def test_a_run_without_recorded_options_is_read_as_told_and_says_so(night: Path) -> None:
    audit([Path("exports")], out=night / "out", options=ReadOptions(calls="cdr.csv"), jobs=1)
    run_json = night / "out" / "run.json"
    record = json.loads(run_json.read_text("utf-8"))
    del record["reading"]  # as an older csqa wrote it
    run_json.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    bt = backtest([night / "out"], None)
    assert bt.notes == [f"{run_json}: 未记录读取选项(由较早的 csqa 写出),按本次命令给出的读取选项"
                        "重新读取"]
    assert [(f["change"], f["call_id"]) for f in bt.findings if f["rule_id"] == "hangup"] == \
        [("removed", "C001")]
    assert backtest([night / "out"], None, options=ReadOptions(calls="cdr.csv")).findings == []


def test_runs_read_differently_are_each_reread_their_own_way(night: Path) -> None:
    """Two nights in one backtest: one audited with its call records, one without (C002 on
    its own): each is re-read as it was, so an unchanged ruleset changes nothing."""
    copy_as("tencent.json", night / "other", "C003")
    audit([Path("exports")], out=night / "with", options=ReadOptions(calls="cdr.csv"), jobs=1)
    audit([Path("other")], out=night / "without", jobs=1)
    bt = backtest([night / "with", night / "without"], None)
    assert (bt.findings, bt.missing, bt.notes) == ([], [], [])
    assert sorted(c.call_id for c in bt.calls) == ["C001", "C002", "C003"]
