"""No command writes or prints a personal number by default (issue #19 items 3 and 7).

Personal numbers (ID, mobile, bank card, e-mail) are seeded into transcripts, also into
agent_name and team; then everything every command writes or prints is searched for them:
audit (the output folder, the terminal), check (text, json, github, junit and --junit),
explain (text, html), backtest (xlsx, csv, the terminal), report (terminal, xlsx, html, md),
review and rules stats, rules test. ``csqa backtest`` once wrote them raw, and compared the
run's masked findings with its own raw re-audit (phantom +2/−2 privacy changes).
"""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from csqa.backtest import backtest
from csqa.cli import app

PHONE, PHONE2, ID_NO = "13812345678", "13987654321", "11010519491231002X"
CARD, EMAIL = "6222021234567890128", "li.si@example.com"
RAW = (PHONE, PHONE2, ID_NO, CARD, EMAIL)


def _call(cid: str, agent: str, name: str, team: str, day: int) -> dict:
    return {"call_id": cid, "agent_id": agent, "agent_name": name, "team": team,
            "started_at": f"2026-11-{day:02d}T09:15:02+08:00", "utterances": [
                {"speaker": "agent", "start": 0.5, "end": 4, "text": "您好,很高兴为您服务。"},
                {"speaker": "customer", "start": 4.5, "end": 9,
                 "text": f"我身份证{ID_NO},卡号{CARD},邮箱 {EMAIL},手机{PHONE2}"},
                {"speaker": "agent", "start": 9.5, "end": 14,
                 "text": f"好的,您的手机是{PHONE},身份证{ID_NO}吧?"},
                {"speaker": "agent", "start": 14.5, "end": 18, "text": "没办法,这个不归我管。"}]}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Inputs with personal numbers everywhere (also agent_name and team, and an input error
    quoting one), audited once into ``out``; the candidate ruleset for backtests."""
    root = tmp_path_factory.mktemp("pii")
    (root / "in").mkdir()
    calls = [_call("P1", "A1", f"张丽{PHONE}", f"售后{ID_NO}", 16),
             _call("P2", "A2", "王五", f"二组 {PHONE2}", 17)]
    lines = [json.dumps(c, ensure_ascii=False) for c in calls]
    lines.append(json.dumps({"call_id": "P3", "agent_id": "A1", "utterances": [
        {"speaker": PHONE, "start": 0, "end": 1, "text": "喂"}]}))
    (root / "in" / "calls.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "candidate.yaml").write_text(
        "name: candidate\nversion: '2'\nextends: default\nrules:\n"
        "  - id: privacy.disclosure\n    speaker: any\n", encoding="utf-8")
    (root / "examples.yaml").write_text(
        "name: examples\nrules:\n  - id: privacy.leak\n    kind: privacy\n    name: 泄露\n"
        "    examples:\n      pass:\n"
        f"        - 您的手机{PHONE},身份证{ID_NO},卡号{CARD}对吗\n"
        f"      fire:\n        - {{call: '坐席: 邮箱{EMAIL}', matched: '{PHONE}'}}\n",
        encoding="utf-8")
    res = CliRunner().invoke(app, ["audit", str(root / "in"), "-o", str(root / "out")])
    assert res.exit_code == 3, res.output
    _assert_masked(res.stdout + res.stderr, "audit terminal")
    return root


def _text_of(path: Path) -> str:
    if path.is_dir():
        return "\n".join(_text_of(p) for p in sorted(path.rglob("*")) if p.is_file())
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as zf:
            return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
    return path.read_bytes().decode("utf-8", "replace")


def _assert_masked(text: str, where: str) -> None:
    leaked = [raw for raw in RAW if raw in text]
    assert not leaked, f"{where} shows {leaked}"
    assert "138****5678" in text or "139****4321" in text or "110***" in text, where


def test_audit_outputs_mask_agent_name_and_team_too(world: Path) -> None:
    out = world / "out"
    _assert_masked(_text_of(out), "audit folder")
    calls = (out / "calls.csv").read_text(encoding="utf-8-sig")
    assert "张丽138****5678,售后110***********002X" in calls
    assert "王五,二组 139****4321" in calls
    agents = (out / "agents.csv").read_text(encoding="utf-8-sig")
    assert "张丽138****5678" in agents


@pytest.mark.parametrize("command", [
    ["check", "--format", "text"], ["check", "--format", "json"],
    ["check", "--format", "github"], ["check", "--format", "junit"],
    ["explain", "--call-id", "P1"], ["explain", "--call-id", "P1", "--format", "html"],
])
def test_check_and_explain_print_no_number(world: Path, command: list[str]) -> None:
    source = world / "in" / "calls.jsonl" if command[0] == "explain" else world / "in"
    res = CliRunner().invoke(app, [*command, str(source)])
    assert res.exit_code in (0, 1, 3), res.output
    _assert_masked(res.stdout + res.stderr, " ".join(command))


def test_check_junit_and_explain_files_hold_no_number(world: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["check", str(world / "in"), "--junit", str(tmp_path / "j.xml")])
    assert res.exit_code == 3, res.output
    page = tmp_path / "call.html"
    res = runner.invoke(app, ["explain", str(world / "in" / "calls.jsonl"), "--call-id", "P2",
                              "--format", "html", "-o", str(page)])
    assert res.exit_code == 0, res.output
    _assert_masked(_text_of(tmp_path), "check --junit, explain -o")


def test_backtest_writes_and_prints_no_number(world: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("bt.xlsx", "bt.csv"):
        res = runner.invoke(app, ["backtest", str(world / "out"), "-r",
                                  str(world / "candidate.yaml"), "--out", str(tmp_path / name),
                                  "--examples", "5"])
        assert res.exit_code == 0, res.output
        _assert_masked(res.stdout + res.stderr, f"backtest {name} terminal")
        assert "+ privacy.disclosure P1#1 “110***********002X”" in res.stdout
    _assert_masked(_text_of(tmp_path), "backtest files")


def test_backtest_compares_masked_with_masked(world: Path) -> None:
    """The same ruleset changes nothing, masked or not: no phantom privacy changes."""
    for redact in (True, False):
        bt = backtest([world / "out"], "default", redact=redact)
        privacy = next(r for r in bt.rules if r.rule_id == "privacy.disclosure")
        assert (privacy.before, privacy.after, privacy.added, privacy.removed) == (4, 4, 0, 0)
        assert bt.findings == [] and not any(r.changed for r in bt.rules)
    bt = backtest([world / "out"], world / "candidate.yaml")
    privacy = next(r for r in bt.rules if r.rule_id == "privacy.disclosure")
    assert (privacy.before, privacy.after, privacy.added, privacy.removed) == (4, 10, 6, 0)
    assert [f["matched"] for f in bt.findings if f["call_id"] == "P1"] == [
        "110***********002X", "6222***********0128", "139****4321"]


def test_report_review_and_rules_print_no_number(world: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = world / "out"
    shown = []
    for args in (["report", str(out)],
                 ["report", str(out), "-o", str(tmp_path / "r.xlsx")],
                 ["report", str(out), "-o", str(tmp_path / "r.html")],
                 ["report", str(out), "-o", str(tmp_path / "r.md")],
                 ["report", str(out), "--by", "team"],
                 ["review", str(out), "-o", str(tmp_path / "reviews.csv")],
                 ["rules", "stats", str(out), "--reviews", str(world / "noted.csv")],
                 ["rules", "test", str(world / "examples.yaml")]):
        if args[:2] == ["rules", "stats"]:  # a reviewer's note (input, not output) quotes one
            _false_alarm(tmp_path / "reviews.csv", world / "noted.csv",
                         f"客户自己报的手机{PHONE}")
        res = runner.invoke(app, args)
        assert res.exit_code in (0, 1), (args, res.output)
        shown.append(res.stdout + res.stderr)
        _assert_masked(res.stdout + res.stderr + _text_of(tmp_path), " ".join(args[:2]))
    assert "售后110***********002X" in shown[4]  # the team, masked, is still a group
    assert "— 客户自己报的手机138****5678" in shown[6]
    assert "您的手机138****5678,身份证110***********002X,卡号6222***********0128对吗" in shown[-1]


def _false_alarm(reviews: Path, noted: Path, note: str) -> None:
    """``reviews`` with its first privacy finding marked a false alarm, with ``note``."""
    with reviews.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    row = next(r for r in rows if r["rule_id"] == "privacy.disclosure")
    row.update(verdict="false_alarm", note=note, reviewer="qa1")
    with noted.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
