"""Speaker roles: mapping, --agent-channel, automatic detection, uncertainty and --strict-roles."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner
from vendor_helpers import CANONICAL, FIXTURES

from csqa.api import ExportOptions, audit
from csqa.cli import app
from csqa.errors import InputError
from csqa.loaders import load_all
from csqa.model import Transcript
from csqa.profile import load_profile
from csqa.roles import RoleOptions, assign_roles, norm_label

ROLES = [c[0] for c in CANONICAL]


def _alibaba(tmp_path: Path, agent_channel: int, name: str = "call.json") -> Path:
    """The fixture call as Alibaba exports it, with the agent on ``agent_channel``."""
    data = orjson.loads((FIXTURES / "alibaba.json").read_bytes())
    for s in data["Result"]["Sentences"]:
        s["ChannelId"] = agent_channel if s["ChannelId"] == 1 else 1 - agent_channel
    f = tmp_path / name
    f.write_bytes(orjson.dumps(data))
    return f


def _ambiguous(tmp_path: Path) -> Path:
    """Two channels, neither talking like an agent: nobody can tell who is who."""
    sentences = [
        {"ChannelId": 0, "BeginTime": 500, "EndTime": 2000, "Text": "喂？"},
        {"ChannelId": 1, "BeginTime": 2500, "EndTime": 4000, "Text": "喂，听得到吗？"},
        {"ChannelId": 0, "BeginTime": 4500, "EndTime": 7000, "Text": "听得到，那个事情怎么样了？"},
        {"ChannelId": 1, "BeginTime": 7500, "EndTime": 10000, "Text": "还在弄，明天再说吧。"},
        {"ChannelId": 0, "BeginTime": 10500, "EndTime": 11500, "Text": "行，好的。"},
    ]
    f = tmp_path / "ambiguous.json"
    f.write_bytes(
        orjson.dumps(
            {
                "TaskId": "x",
                "StatusText": "SUCCESS",
                "StatusCode": 21050000,
                "Result": {"Sentences": sentences},
            }
        )
    )
    return f


def _roles(path: Path, opts: RoleOptions | None = None) -> Transcript:
    [t] = list(load_all([path]))
    assert isinstance(t, Transcript)
    out = assign_roles(t, opts)
    assert isinstance(out, Transcript)
    return out


@pytest.mark.parametrize("channel", [0, 1])
def test_agent_detected_on_either_channel(channel: int, tmp_path: Path) -> None:
    t = _roles(_alibaba(tmp_path, channel))
    assert [u.speaker for u in t.utterances] == ROLES
    assert t.role_source == "detected"
    assert t.role_confidence == 1.0
    assert t.role_evidence.startswith(f"坐席={channel}; {channel}: +")
    assert "工号" in t.role_evidence and "很高兴为您服务" in t.role_evidence


def test_ambiguous_call_is_uncertain_with_first_speaker_as_guess(tmp_path: Path) -> None:
    t = _roles(_ambiguous(tmp_path))
    assert t.role_source == "uncertain"
    assert [u.speaker for u in t.utterances] == ["agent", "customer", "agent", "customer", "agent"]
    assert t.role_evidence.startswith("坐席=0; ")


def test_ambiguous_call_is_audited_but_flagged(tmp_path: Path) -> None:
    f = _ambiguous(tmp_path)
    s = audit([f], out=tmp_path / "out")
    assert s.calls_audited == 1 and s.roles_uncertain == 1 and s.input_errors == 0
    with (tmp_path / "out" / "calls.csv").open(encoding="utf-8") as fh:
        [row] = list(csv.DictReader(fh))
    assert row["role_source"] == "uncertain"
    assert row["role_evidence"].startswith("坐席=0; ")
    run = orjson.loads((tmp_path / "out" / "run.json").read_bytes())
    assert run["counts"]["roles_uncertain"] == 1


def test_strict_roles_makes_uncertainty_an_error(tmp_path: Path) -> None:
    f = _ambiguous(tmp_path)
    good = _alibaba(tmp_path, 0, "good.json")
    s = audit([f, good], out=tmp_path / "out", options=ExportOptions(strict_roles=True))
    assert s.calls_audited == 1 and s.input_errors == 1
    [p] = s.problems
    assert str(p).startswith(f"{f}: 说话人角色不确定(--strict-roles):坐席=0; ")
    assert str(p).endswith("请给出 --agent-channel N,或在导出配置中写 speakers: 映射")
    with (tmp_path / "out" / "errors.csv").open(encoding="utf-8") as fh:
        [row] = list(csv.DictReader(fh))
    assert (row["file"], row["call_id"], row["status"]) == (str(f), "ambiguous", "error")


def test_strict_roles_cli_exit_code_and_one_line(tmp_path: Path) -> None:
    f = _ambiguous(tmp_path)
    r = CliRunner().invoke(
        app, ["audit", str(f), "-o", str(tmp_path / "o"), "-q", "--strict-roles"]
    )
    assert r.exit_code == 3
    lines = [x for x in r.stderr.splitlines() if x.startswith(str(f))]
    assert len(lines) == 1 and "说话人角色不确定" in lines[0]


def test_agent_channel_is_given_and_wins_over_detection(tmp_path: Path) -> None:
    f = _alibaba(tmp_path, 1)
    t = _roles(f, RoleOptions(agent_channel=1))
    assert (t.role_source, t.role_evidence) == (
        "given",
        "坐席声道 1(--agent-channel 或 profile 指定)",
    )
    assert [u.speaker for u in t.utterances] == ROLES
    # the operator's word is taken even against the evidence: nothing is silently "fixed"
    t = _roles(f, RoleOptions(agent_channel=0))
    assert [u.speaker for u in t.utterances] == [
        "customer" if r == "agent" else "agent" for r in ROLES
    ]


def test_agent_channel_resolves_the_ambiguous_call(tmp_path: Path) -> None:
    t = _roles(_ambiguous(tmp_path), RoleOptions(agent_channel=1, strict=True))
    assert t.role_source == "given"
    assert [u.speaker for u in t.utterances] == [
        "customer",
        "agent",
        "customer",
        "agent",
        "customer",
    ]


def test_agent_channel_does_not_apply_to_diarization_labels() -> None:
    # FunASR's spk numbers are clusters, not channels: detection decides
    t = _roles(FIXTURES / "funasr.json", RoleOptions(agent_channel=0))
    assert t.role_source == "detected"
    assert [u.speaker for u in t.utterances] == ROLES


def test_speakers_mapping_from_profile(tmp_path: Path) -> None:
    prof = tmp_path / "profile.yaml"
    prof.write_text("speakers:\n  SPEAKER_01: 坐席\n  SPEAKER_00: customer\n", encoding="utf-8")
    p = load_profile(prof)
    assert p.speakers == {"SPEAKER_01": "agent", "SPEAKER_00": "customer"}
    opts = ExportOptions.from_profile(p).roles()
    t = _roles(FIXTURES / "whisperx.json", opts)
    assert t.role_source == "given"
    assert t.role_evidence == "按 speakers 映射:SPEAKER_00=客户,SPEAKER_01=坐席"
    assert [u.speaker for u in t.utterances] == [
        "customer" if r == "agent" else "agent" for r in ROLES
    ]


def test_profile_mapping_through_cli(tmp_path: Path) -> None:
    prof = tmp_path / "profile.yaml"
    prof.write_text("agent_channel: 0\nstrict_roles: true\n", encoding="utf-8")
    f = _ambiguous(tmp_path)
    r = CliRunner().invoke(
        app, ["audit", str(f), "-o", str(tmp_path / "o"), "-q", "--profile", str(prof)]
    )
    assert r.exit_code == 0, r.output
    with (tmp_path / "o" / "calls.csv").open(encoding="utf-8") as fh:
        [row] = list(csv.DictReader(fh))
    assert (row["role_source"], row["role_evidence"]) == (
        "given",
        "坐席声道 0(--agent-channel 或 profile 指定)",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "speakers:\n  '1': boss\n",
            ":2:8: speakers.1: 应为 agent/坐席 或 customer/客户,实际是 'boss'",
        ),
        (
            "agent_chanel: 1\n",
            ":1:1: agent_chanel: 未知的设置项(是否应为 'agent_channel'?)",
        ),
        ("agent_channel: -1\n", ":1:16: agent_channel: 应为声道编号(0、1 …),实际是 -1"),
        ("- a\n", ":1: 导出配置应为设置项的映射"),
    ],
)
def test_bad_profile_is_one_line_naming_file_and_line(
    text: str, message: str, tmp_path: Path
) -> None:
    prof = tmp_path / "p.yaml"
    prof.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_profile(prof)
    assert str(exc.value).startswith(f"{prof}{message}")
    assert "\n" not in str(exc.value)


def test_no_speaker_labels_guesses_per_utterance_and_flags() -> None:
    t = _roles(FIXTURES / "whisper.json")
    assert t.role_source == "uncertain" and t.role_confidence == 0.0
    assert t.role_evidence == "导出无说话人标签,按每句用词猜测角色(坐席 5 句,客户 4 句)"
    # only the bare backchannel 「嗯。」 carries no vocabulary and is guessed wrong
    assert [u.speaker for u in t.utterances] == [
        "customer" if i == 2 else r for i, r in enumerate(ROLES)
    ]


def test_roles_given_by_the_export_are_kept() -> None:
    t = _roles(FIXTURES / "aws_call_analytics.json", RoleOptions(agent_channel=0))
    assert t.role_source == "given" and [u.speaker for u in t.utterances] == ROLES


@pytest.mark.parametrize(
    ("label", "norm"),
    [
        ("1", "1"),
        ("ch_1", "1"),
        ("spk_0", "0"),
        ("SPEAKER_01", "1"),
        ("SPEAKER_00", "0"),
        ("声道1", "1"),
        ("Agent", "agent"),
    ],
)
def test_labels_compare_loosely(label: Any, norm: str) -> None:
    assert norm_label(label) == norm


def test_outbound_call_customer_greets_first(tmp_path: Path) -> None:
    """The customer answers an outbound call with 你好 (the opening bonus goes to them); the
    agent's vocabulary still decides."""
    sentences = [
        {"ChannelId": 0, "BeginTime": 300, "EndTime": 1200, "Text": "你好，哪位？"},
        {"ChannelId": 1, "BeginTime": 1500, "EndTime": 6000,
         "Text": "您好，我是海尔售后客服代表小李，工号2088，您上周报修的洗衣机师傅已经安排好了。"},
        {"ChannelId": 0, "BeginTime": 6500, "EndTime": 8000, "Text": "哦，好的，什么时候来？"},
        {"ChannelId": 1, "BeginTime": 8300, "EndTime": 12000,
         "Text": "明天上午，请您保持电话畅通，还有什么可以帮您的吗？"},
        {"ChannelId": 0, "BeginTime": 12500, "EndTime": 13500, "Text": "没有了，谢谢。"},
    ]
    f = tmp_path / "outbound.json"
    f.write_bytes(orjson.dumps({"StatusText": "SUCCESS", "StatusCode": 21050000,
                                "Result": {"Sentences": sentences}}))
    t = _roles(f)
    assert t.role_source == "detected"
    assert [u.speaker for u in t.utterances] == ["customer", "agent", "customer", "agent", "customer"]
    assert "先开口问候" in t.role_evidence.split("; 0: ")[1]


def _whisperx(tmp_path: Path, relabel: dict[int, str]) -> Path:
    data = orjson.loads((FIXTURES / "whisperx.json").read_bytes())
    for i, seg in enumerate(data["segments"]):
        if i in relabel:
            seg["speaker"] = relabel[i]
            for w in seg.get("words", []):
                w["speaker"] = relabel[i]
    f = tmp_path / "x.json"
    f.write_bytes(orjson.dumps(data))
    return f


def test_over_split_diarization_third_label_is_a_customer(tmp_path: Path) -> None:
    # the customer's 「好的，谢谢。」 clustered as a third speaker
    t = _roles(_whisperx(tmp_path, {7: "SPEAKER_02"}))
    assert t.role_source == "detected"
    assert [u.speaker for u in t.utterances] == ROLES


def test_two_labels_talking_like_agents_is_uncertain(tmp_path: Path) -> None:
    # a transfer: the closing is said by a second agent-like voice
    t = _roles(_whisperx(tmp_path, {6: "SPEAKER_02", 8: "SPEAKER_02"}))
    assert t.role_source == "uncertain"
    assert t.role_evidence.startswith("坐席=SPEAKER_00; ")
    assert [u.speaker for u in t.utterances][6] == "customer"
