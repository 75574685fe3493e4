"""Outputs under attack: redaction of personal numbers, ids never used as paths, formula
injection neutralised, terminal markup not interpreted, atomic writes under kill and Ctrl-C."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from csqa.api import audit
from csqa.cli import app
from csqa.redact import find_pii, id_checksum_ok, luhn_ok, redact
from csqa.reporters.files import safe_cell, safe_name
from csqa.runs import LOCK_NAME, STAGING_PREFIX, open_run

ROOT = Path(__file__).resolve().parent.parent
PHONE, ID_NO, CARD = "13812345678", "11010519491231002X", "6222021234567890128"


def leaky_call(cid: str = "P1", agent: str = "A1", **extra: object) -> dict:
    return {"call_id": cid, "agent_id": agent, **extra, "utterances": [
        {"speaker": "agent", "start": 0.5, "end": 4, "text": "您好,很高兴为您服务,我是小王。"},
        {"speaker": "customer", "start": 4.5, "end": 9,
         "text": f"我身份证{ID_NO},卡号{CARD},邮箱 li.si@example.com"},
        {"speaker": "agent", "start": 9.5, "end": 14, "text": f"好的,您的手机是{PHONE}吧?"},
        {"speaker": "agent", "start": 14.5, "end": 18, "text": "你问我,我问谁?"}]}


# ---- redaction ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "masked"), [
    (f"手机{PHONE}", "手机138****5678"),
    ("手机 138 1234 5678 谢谢", "手机 138 **** 5678 谢谢"),
    ("+86 13812345678", "+86 138****5678"),
    (f"证件{ID_NO}号", "证件110***********002X号"),
    (f"卡号{CARD}", "卡号6222***********0128"),
    ("幺三八幺二三四五六七八", "幺三八****五六七八"),
    ("邮箱 li.si@example.com。", "邮箱 l****@example.com。"),
    # decoys: left as they are
    ("工单号20261121000123456", "工单号20261121000123456"),
    ("热线4008123123,尾号5678", "热线4008123123,尾号5678"),
    ("证件11010519491231002Y", "证件11010519491231002Y"),  # bad check character
    ("卡号6222021234567890127", "卡号6222021234567890127"),  # fails Luhn
    ("金额12345678901元", "金额12345678901元"),  # 11 digits, not 1[3-9]…
])
def test_redact(text: str, masked: str) -> None:
    assert redact(text) == masked


def test_checksums() -> None:
    assert id_checksum_ok(ID_NO) and not id_checksum_ok("110105194912310021")
    assert not id_checksum_ok("11010519491331002X".replace("1331", "1331"))  # month 13
    assert luhn_ok(CARD) and luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    kinds = [p.kind for p in find_pii(f"{PHONE} {ID_NO} {CARD}")]
    assert kinds == ["mobile", "id_card", "bank_card"]


def _all_output_text(out: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(out.iterdir()) if p.is_file())


def test_outputs_are_redacted_by_default(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(leaky_call(), ensure_ascii=False) + "\n", encoding="utf-8")
    audit([src], out=tmp_path / "out")
    raw = (tmp_path / "out" / "findings.jsonl").read_bytes()
    findings = [orjson.loads(line) for line in raw.splitlines()]
    privacy = [f for f in findings if f["kind"] == "privacy"]
    assert [(f["rule_id"], f["utterance"], f["matched"]) for f in privacy] == [
        ("privacy.disclosure", 2, "138****5678")]
    assert privacy[0]["evidence"] == "好的,您的手机是138****5678吧?"
    assert "138****5678" in privacy[0]["message"]
    text = _all_output_text(tmp_path / "out")
    for raw in (PHONE, ID_NO, CARD, "li.si@example.com"):
        assert raw not in text


def test_no_redact_keeps_the_numbers(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(leaky_call(), ensure_ascii=False) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["audit", str(src), "-o", str(tmp_path / "out"), "-q",
                                      "--no-redact"])
    assert result.exit_code == 0, result.output
    findings = (tmp_path / "out" / "findings.jsonl").read_text(encoding="utf-8")
    assert f'"matched":"{PHONE}"' in findings


def test_problem_reasons_are_redacted(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    bad = leaky_call()
    bad["utterances"][0]["speaker"] = PHONE  # a number where a speaker label should be
    src.write_text(json.dumps(bad) + "\n", encoding="utf-8")
    summary = audit([src], out=tmp_path / "out")
    assert [p.reason for p in summary.problems] == [
        "utterances[0].speaker: 无法识别的说话人 '138****5678'(应为 agent/坐席/客服 或 "
        "customer/客户/顾客)"]
    assert PHONE not in (tmp_path / "out" / "errors.csv").read_text(encoding="utf-8")


# ---- ids are never paths, cells never formulas, markup never interpreted -------------------------

def test_safe_name() -> None:
    assert safe_name("A1024") == "A1024"
    assert safe_name("张丽") == "张丽"
    for evil in ("../../etc/passwd", "..", "/abs", "C:\\x", "a/b", "a\x00b", ""):
        name = safe_name(evil)
        assert "/" not in name and "\\" not in name and ".." not in name and name
        assert "\x00" not in name
    assert safe_name("a/b") != safe_name("a_b")


def test_hostile_ids_cannot_escape_the_output_folder(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    src = work / "in.jsonl"
    calls = [leaky_call(cid="../../../escape", agent="../../etc/passwd"),
             leaky_call(cid="/tmp/abs", agent="..\\..\\win")]
    src.write_text("\n".join(json.dumps(c) for c in calls) + "\n", encoding="utf-8")
    before = {p for p in tmp_path.rglob("*")}
    audit([src], out=work / "out")
    created = {p for p in tmp_path.rglob("*")} - before
    assert created and all((work / "out") in p.parents or p == work / "out" for p in created)
    assert not Path("/tmp/abs").exists()


def test_formula_injection_is_neutralised_in_every_csv(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    calls = [leaky_call(cid="=1+1", agent="@SUM(A1)", agent_name="=HYPERLINK(\"http://x\")",
                        team="+cmd|' /C calc'!A0"),
             leaky_call(cid="=1+1", agent="-2"),  # duplicate: listed in errors.csv
             # one dangerous cell, late in an otherwise harmless row
             leaky_call(cid="C-ok", agent="A7", agent_name="王五", team="-售后")]
    src.write_text("\n".join(json.dumps(c) for c in calls) + "\n", encoding="utf-8")
    audit([src], out=tmp_path / "out")
    cells: list[str] = []
    for name in ("calls.csv", "agents.csv", "errors.csv"):
        with (tmp_path / "out" / name).open(encoding="utf-8", newline="") as fh:
            cells.extend(c for row in csv.reader(fh) for c in row)
    assert "'=1+1" in cells and "'@SUM(A1)" in cells and "'=HYPERLINK(\"http://x\")" in cells
    assert "'+cmd|' /C calc'!A0" in cells and "'-售后" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert safe_cell(-3) == -3 and safe_cell("\tx") == "'\tx"


def test_terminal_does_not_interpret_markup_from_input(tmp_path: Path) -> None:
    from rich.console import Console

    from csqa.reporters.terminal import scorecard_table

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(leaky_call(agent="[bold]A1[/bold]", agent_name="[link=file:///etc]x"))
                   + "\n", encoding="utf-8")
    summary = audit([src], out=tmp_path / "out")
    console = Console(width=400, record=True, color_system=None)
    assert summary.scorecards is not None
    names = {r.id: r.name for r in summary.ruleset.rules}
    console.print(scorecard_table(summary.scorecards.rows(), names, 80))
    text = console.export_text()
    assert "[bold]A1[/bold]" in text and "[link=file:///etc]x" in text


# ---- atomic outputs: kill and Ctrl-C mid-run -------------------------------------------

def _corpus(path: Path, n: int, tag: str) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps(leaky_call(cid=f"{tag}-{i}", agent=f"A{i % 50}")) + "\n")


def _snapshot(out: Path) -> dict[str, bytes]:
    """The folder's files (its lock file aside), and its staging folders as empty entries."""
    return {p.name: b"" if p.is_dir() else p.read_bytes() for p in sorted(out.iterdir())
            if p.name != LOCK_NAME}


def _check_complete(out: Path) -> None:
    """Every output parses and they agree with each other (a complete, consistent run)."""
    run = orjson.loads((out / "run.json").read_bytes())
    with (out / "calls.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert all(len(r) == len(rows[0]) for r in rows)
    assert len(rows) - 1 == run["counts"]["calls_audited"]
    findings = (out / "findings.jsonl").read_bytes().splitlines()
    assert len([orjson.loads(x) for x in findings]) == run["counts"]["findings"]
    with (out / "agents.csv").open(encoding="utf-8", newline="") as fh:
        assert len(list(csv.reader(fh))) - 1 == run["counts"]["agents"]


def _start(src: Path, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen([sys.executable, "-m", "csqa.cli", "audit", str(src), "-o", str(out),
                             "-q"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_mid_write(proc: subprocess.Popen[bytes], out: Path) -> bool:
    """Wait until the run is writing its temp files; False if it finished first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(p.name.startswith(STAGING_PREFIX) for p in out.iterdir()):
            time.sleep(0.2)  # let it write some rows
            return proc.poll() is None
        if proc.poll() is not None:
            return False
        time.sleep(0.01)
    return False


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    big = tmp_path_factory.mktemp("big") / "big.jsonl"
    _corpus(big, 8_000, "new")
    return big


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_leaves_previous_outputs_intact(tmp_path: Path, sig: signal.Signals,
                                                        big_corpus: Path) -> None:
    out = tmp_path / "out"
    small, big = tmp_path / "small.jsonl", big_corpus
    _corpus(small, 5, "old")
    audit([small], out=out)
    previous = _snapshot(out)
    _check_complete(out)

    proc = _start(big, out)
    mid_write = _wait_mid_write(proc, out)
    proc.send_signal(sig)
    # communicate, not wait + read: an orphaned worker holding stderr open fails here, not hangs
    _, err_bytes = proc.communicate(timeout=60)
    code = proc.returncode
    stderr = err_bytes.decode()
    if not mid_write:
        pytest.skip("the run finished before it could be interrupted")
    now = _snapshot(out)
    if code == 0:  # the signal came as the run finished: then the folder is the new run, whole
        _check_complete(out)
        assert open_run(out).table("calls.csv")[0]["call_id"] != "old-0"
        return
    if sig == signal.SIGKILL:
        assert code == -signal.SIGKILL
        # the killed run's staging folder stays behind (hidden, never read); outputs are the old ones
        assert [n for n in now if n.startswith(STAGING_PREFIX)] != []
    else:
        assert code == 130
        assert stderr.strip().splitlines()[-1].startswith("错误:已中断"), stderr
        assert "Traceback" not in stderr
    assert {k: v for k, v in now.items() if not k.startswith(STAGING_PREFIX)} == previous
    _check_complete(out)
    assert open_run(out).table("calls.csv")[0]["call_id"] == "old-0"


def test_completed_run_after_an_interrupted_one_is_complete(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = tmp_path / "c.jsonl"
    _corpus(src, 30, "c")
    out.mkdir()
    killed = out / f"{STAGING_PREFIX}k1ll3d"  # a killed run's staging folder
    killed.mkdir()
    (killed / "calls.csv").write_text("half a ro", encoding="utf-8")
    (out / ".calls.csv.12345.tmp").write_text("half a ro", encoding="utf-8")  # older csqa's
    (out / ".notes.tmp").write_text("mine", encoding="utf-8")  # not csqa's: left alone
    audit([src], out=out)
    _check_complete(out)
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [
        ".calls.csv.12345.tmp", LOCK_NAME, ".notes.tmp"]


@pytest.mark.parametrize("command", [["check", "--format", "json"], ["check", "--format", "junit"],
                                     ["check", "--format", "github"], ["explain"],
                                     ["explain", "--format", "html"]])
def test_check_and_explain_output_is_redacted_too(tmp_path: Path, command: list[str]) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(leaky_call(), ensure_ascii=False) + "\n", encoding="utf-8")
    runner = CliRunner()
    masked = runner.invoke(app, [*command, str(src)])
    assert masked.exit_code in (0, 1), masked.output
    assert "138****5678" in masked.stdout
    for raw in (PHONE, ID_NO, CARD):
        assert raw not in masked.stdout
    kept = runner.invoke(app, [*command, str(src), "--no-redact"])
    assert PHONE in kept.stdout


def test_html_output_escapes_transcript_text(tmp_path: Path) -> None:
    call = leaky_call(agent_name="<img src=x onerror=alert(1)>")
    call["utterances"][3]["text"] = "<script>alert('x')</script>你问我,我问谁?"
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(call, ensure_ascii=False) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["explain", str(src), "--format", "html"])
    assert result.exit_code == 0, result.output
    assert "<script>" not in result.stdout and "<img src=x" not in result.stdout
    assert "&lt;script&gt;" in result.stdout
