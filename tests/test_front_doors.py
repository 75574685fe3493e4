"""Every front door gives the same findings and score for the same input.

The vendor fixtures (Alibaba, AWS, FunASR … exports whose speaker roles must be decided) and
the 20 sample calls go through ``audit`` (one process, worker processes, Dask), ``check``,
``explain`` of each call, ``backtest`` with the unchanged ruleset, and the per-partition library
function used under Dask/Spark; each call's score, verdict and findings (every field of
findings.jsonl) must be exactly those of ``audit``. Before the one pipeline, ``check`` and
``explain`` never decided speaker roles: the Alibaba export scored 100 there and 75 in audit.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner
from vendor_helpers import copy_as

from csqa.api import ReadOptions, audit
from csqa.backtest import backtest
from csqa.check import run_check
from csqa.cli import app
from csqa.explain import explain_call
from csqa.model import CallResult
from csqa.parallel import audit_records

ROOT = Path(__file__).resolve().parent.parent
VENDORS = ROOT / "tests" / "fixtures" / "vendors"
SAMPLES = ROOT / "sample_transcripts"

Answer = tuple[float, bool, list[dict[str, Any]]]


def _from_folder(out: Path) -> tuple[dict[str, Answer], dict[str, str]]:
    """Each audited call's (score, passed, findings) from an output folder, and its source."""
    findings: dict[str, list[dict[str, Any]]] = {}
    for line in (out / "findings.jsonl").read_bytes().splitlines():
        f = orjson.loads(line)
        findings.setdefault(f["call_id"], []).append(f)
    answers: dict[str, Answer] = {}
    sources: dict[str, str] = {}
    with (out / "calls.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            cid = row["call_id"]
            answers[cid] = (float(row["score"]), row["passed"] == "True", findings.get(cid, []))
            sources[cid] = row["source"]
    return answers, sources


def _answer(result: CallResult) -> Answer:
    t = result.transcript
    return result.score, result.passed, [{"call_id": t.call_id, "agent_id": t.agent_id,
                                          **f.as_dict()} for f in result.findings]


def _file_of(source: str) -> str:
    """calls.csv's source (``file`` or ``file:line``) as the file to explain."""
    head, _, tail = source.rpartition(":")
    return head if tail.isdigit() else source


def _same_everywhere(inputs: Path, tmp_path: Path, options: ReadOptions | None = None) -> None:
    out = tmp_path / "out"
    audit([inputs], out=out, options=options, jobs=1)
    expected, sources = _from_folder(out)
    assert expected

    audit([inputs], out=tmp_path / "out2", options=options, jobs=2)
    assert _from_folder(tmp_path / "out2")[0] == expected

    report = run_check([inputs], options=options)
    assert {v.result.transcript.call_id: _answer(v.result) for v in report.verdicts} == expected

    for cid, source in sources.items():
        ex = explain_call(_file_of(source), cid, options=options)
        assert _answer(ex.result) == expected[cid], cid

    bt = backtest([out], None, options=options)
    assert bt.findings == [] and bt.missing == []
    assert {c.call_id: (c.score_after, c.passed_after) for c in bt.calls} == {
        cid: (score, passed) for cid, (score, passed, _) in expected.items()}


def test_vendor_exports_same_everywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # backtest re-reads the run's recorded (relative) inputs
    shutil.copytree(VENDORS, tmp_path / "vendors")
    _same_everywhere(Path("vendors"), tmp_path)
    score, _, findings = _from_folder(tmp_path / "out")[0]["alibaba"]
    assert score < 100 and findings  # 100 and no findings where roles were not decided


def test_samples_same_everywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(SAMPLES, tmp_path / "samples")
    _same_everywhere(Path("samples"), tmp_path)


def test_call_records_and_channel_reach_every_front_door(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """--calls (who hung up: 坐席先挂机 fires only from the call record) and --agent-channel."""
    monkeypatch.chdir(tmp_path)
    d = tmp_path / "exports"
    copy_as("alibaba.json", d, "C001")
    copy_as("tencent.json", d, "C002")
    cdr = tmp_path / "cdr.csv"
    cdr.write_text("通话ID,工号,挂机方\nC001,A1,坐席\nC002,A2,客户\n", encoding="utf-8")
    options = ReadOptions(calls=cdr, agent_channel=1)
    _same_everywhere(Path("exports"), tmp_path, options)
    answers = _from_folder(tmp_path / "out")[0]
    assert [f["rule_id"] for f in answers["C001"][2] if f["rule_id"] == "hangup"] == ["hangup"]
    assert [f["rule_id"] for f in answers["C002"][2] if f["rule_id"] == "hangup"] == []


def test_dask_engine_and_the_partition_function_give_the_same(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    audit([VENDORS, SAMPLES], out=tmp_path / "local", jobs=1)
    audit([VENDORS, SAMPLES], out=tmp_path / "dask", jobs=2, engine="dask")
    for name in ("findings.jsonl", "calls.csv", "errors.csv", "agents.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    expected, _ = _from_folder(tmp_path / "local")
    jsonl = SAMPLES / "export" / "2026-11-21" / "calls.jsonl"
    got = audit_records(jsonl.read_bytes().splitlines(), source=str(jsonl))
    ids = {c["call_id"] for c in got.calls}
    assert ids and not got.problems
    for c in got.calls:
        assert (float(c["score"]), c["passed"] == "True") == expected[c["call_id"]][:2]
    assert sorted(got.findings, key=orjson.dumps) == sorted(
        (f for cid in ids for f in expected[cid][2]), key=orjson.dumps)


READING = ["--calls", "--map", "--profile", "--agent-channel", "--strict-roles",
           "--input-format"]


@pytest.mark.parametrize("command", [["audit"], ["check"], ["explain"], ["backtest"]])
def test_every_command_takes_the_shared_reading_options(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert [o for o in READING if o not in result.output] == []


def test_check_decides_roles_on_the_command_line(tmp_path: Path) -> None:
    """The trainer's CI gate sees the Alibaba export's findings as ``audit`` does (``check``
    gave it 100, no findings, every rule not evaluable)."""
    audit([VENDORS / "alibaba.json"], out=tmp_path / "out", jobs=1)
    score, _, findings = _from_folder(tmp_path / "out")[0]["alibaba"]
    assert score < 100 and findings
    result = CliRunner().invoke(app, ["check", str(VENDORS / "alibaba.json"), "--format", "json",
                                      "--min-score", "100"])
    assert result.exit_code == 1
    data = orjson.loads(result.stdout)
    assert [(c["call_id"], c["score"], [f["rule_id"] for f in c["findings"]])
            for c in data["calls"]] == [("alibaba", score, [f["rule_id"] for f in findings])]


def test_every_error_a_person_acts_on_is_a_csqa_error() -> None:
    """The CLI turns a CsqaError into one line; every user-facing error class derives from it."""
    from csqa.errors import CsqaError, InputError, RulesetError
    from csqa.explain import UnreadableCall
    from csqa.review import ReviewsError
    from csqa.runs import RunError
    from csqa.weekly import ReportError

    for error in (InputError, RulesetError, UnreadableCall, ReportError, ReviewsError, RunError):
        assert issubclass(error, CsqaError), error
