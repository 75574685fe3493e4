"""``csqa explain``: the conversation view (rich, fixed width) and the HTML page."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from csqa.cli import app
from csqa.explain import explain_call
from csqa.reporters.conversation import conversation, html_page

runner = CliRunner()

# one call that breaks a rule of every kind of the default ruleset
ALL_KINDS = """\
# call_id: C-ALL
# agent_id: A1024
# agent_name: 张丽
# team: 售后一组
# started_at: 2026-11-21T09:15:02+08:00
# direction: inbound
[00:00:07.0-00:00:10.0] 坐席: 喂,什么事?
[00:00:10.5-00:00:20.0] 客户: 我上周买的洗衣机一直漏水,打了好几次电话都没人管。
[00:00:12.0-00:00:15.0] 坐席: 您先告诉我订单号。
[00:00:20.5-00:00:23.0] 坐席: 订单号多少?
[00:00:48.0-00:00:52.0] 客户: 二零二六一一二一。
[00:00:52.5-00:01:02.5] 坐席: {shirk}
[00:01:03.0-00:01:05.0] 客户: 那怎么办?
[00:01:12.0-00:01:22.0] 坐席: {fast}
[00:01:23] <挂机: 坐席>
""".format(fast="好的" * 25,
           shirk="这个没办法,以前的事情,我不知道,你找厂家问去吧,我真的管不了你这个事情了啊")


@pytest.fixture
def call_file(tmp_path: Path) -> Path:
    f = tmp_path / "all.txt"
    f.write_text(ALL_KINDS, encoding="utf-8")
    return f


def render(call_file: Path, width: int = 140) -> list[str]:
    console = Console(width=width, record=True, file=open("/dev/null", "w"),  # noqa: SIM115
                      color_system=None)
    console.print(conversation(explain_call(call_file)))
    return console.export_text().splitlines()


def utterance_groups(lines: list[str]) -> dict[int, list[str]]:
    """Table rows grouped by utterance: {index: [time, agent, customer] joined, no spaces}."""
    groups: dict[int, list[str]] = {}
    current: int | None = None
    for line in lines:
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip("│").split("│")]
        if cells[0].startswith("#"):
            current = int(cells[0][1:].split()[0])
            groups[current] = ["", "", ""]
        elif cells[0] and not cells[0].startswith("⇄"):
            current = None  # a silence or hang-up row
        if current is not None:
            for i in range(3):
                groups[current][i] += cells[i].replace(" ", "")
    return groups


def test_each_finding_kind_sits_on_its_utterance(call_file: Path) -> None:
    groups = utterance_groups(render(call_file))
    nospace = lambda s: s.replace(" ", "")  # noqa: E731
    assert groups[0][0] == nospace("#0 00:07.0–00:10.0")
    assert groups[0][1].startswith("喂,什么事?")
    assert nospace("▲ −2 响应不及时 [response_delay] 接通后 7.0 秒才应答(上限 5 秒)") \
        in groups[0][1]
    # the customer's words in the customer column, nothing in the agent's
    assert groups[1][1] == ""
    assert groups[1][2] == "我上周买的洗衣机一直漏水,打了好几次电话都没人管。"
    # interruption: overlap marked in the time column, the finding on the agent's utterance
    assert groups[2][0] == nospace("#2 00:12.0–00:15.0 ⇄ 与 #1 重叠 3 秒")
    assert nospace("▲ −3 打断客户(抢话) [interruption] 客户讲话时打断客户、插话:抢话 3.0 秒") \
        in groups[2][1]
    assert nospace("▲ −3 冷场/未告知等待 [silence] 未告知客户等待,静音 25 秒(上限 10 秒)") \
        in groups[3][1]
    assert groups[5][1].startswith("这个没办法,以前的事情,我不知道,你找厂家问去吧")
    shirk = groups[5][1].count(nospace("▲ −5 服务禁语·推诿客户 [forbidden.shirk]"))
    assert shirk == 3
    assert nospace("服务禁语(推诿客户):“以前的事情,我不知道”") in groups[5][1]
    assert nospace("▲ −10 坐席先挂机 [hangup]") in groups[7][1]
    assert nospace("▲ −2 响应不及时 [response_delay] 客户说完后 7.0 秒才回应") in groups[7][1]
    # the customer's utterances carry no finding
    assert all("▲" not in groups[i][2] for i in groups)
    # missing wording is about where it was expected, not about an utterance there (#17)
    everything = "".join("".join(cells) for cells in groups.values())
    for rule in ("[greeting]", "[closing]", "[closing.satisfaction]", "[closing.anything_else]"):
        assert rule not in everything


def test_missing_wording_is_listed_with_the_span_where_it_was_expected(call_file: Path) -> None:
    text = "\n".join(render(call_file, width=400))
    block = text[text.index("整通或时段问题:") : text.index("扣分明细")].splitlines()
    assert [line.split(" ▲ ")[0] for line in block] == [
        "整通或时段问题:",
        "  00:07.0–00:15.0",  # the opening: the agent's first 2 utterances in the first 30 s
        "  00:52.5–01:22.0",  # the closing: the agent's last 2 utterances
        "  00:20.5–01:22.0",  # 满意度询问: the last 3
        "  00:12.0–01:22.0",  # 还有其他需要吗: the last 4
        "  00:00.0–01:23.0",  # speech rate: the whole call
    ]
    assert block[1].endswith("[greeting] 开场白不规范:前 30 秒、前 2 句内缺少:问候语、自报身份"
                             "(标准:您好,这里是公司客户服务中心,我是客服代表*,很高兴为您服务)")


def test_header_silence_hangup_call_level_and_breakdown(call_file: Path) -> None:
    lines = render(call_file)
    text = "\n".join(lines)
    assert lines[0].startswith("通话 C-ALL · 坐席 A1024 张丽 (售后一组) · 开始 "
                               "2026-11-21T09:15:02+08:00 · 时长 01:23.0 · 来源")
    assert f"来源{call_file}" in "".join(line.strip() for line in lines[:2]).replace(" ", "")
    rows = [[c.strip() for c in line.strip("│").split("│")] for line in lines
            if line.startswith("│")]
    assert ["⋯ 静音 25 秒", "", ""] in rows
    assert ["01:23.0", "挂机方:坐席(违规:坐席先挂机 −10)", ""] in rows
    assert "整通或时段问题:" in lines
    assert "  00:00.0–01:23.0 ▲ −2 语速不适中 [speech_rate] 语速过快:" in text
    assert ["forbidden.shirk", "服务禁语·推诿客户", "forbidden_phrase", "3", "5", "−15"] in rows
    assert ["response_delay", "响应不及时", "response_delay", "2", "2", "−4"] in rows
    assert ["hangup", "坐席先挂机", "hangup", "1", "10", "−10"] in rows
    # −2 of them for sequence.confirm_problem: 漏水 never restated
    assert ["sequence.confirm_problem", "复述确认客户问题", "sequence", "1", "2", "−2"] in rows
    # an inbound call: every rule evaluable, no rescaling (test_cap_and_veto_and_not_evaluable
    # shows the rescaled line)
    assert next(line.rstrip() for line in render(call_file, width=400)
                if line.startswith("基础分")) == (
        "基础分 100 − 扣分 54 = 得分 46 · 合格线 80 · 结论:不合格(低于合格线 80)")


MINOR_NA = """\
# agent_id: A1
# call_id: NA
[00:00:00.5-00:00:04.0] 坐席: 您好,我是客服代表小王,很高兴为您服务。
[00:00:04.5-00:00:06.0] 客户: 我的快递到哪了?
[00:00:06.5-00:00:08.0] 坐席: 这个没办法。
[00:00:08.5-00:00:11.0] 坐席: 请问您还有其他需要帮助的地方吗?请问您对本次服务是否满意?
[00:00:11.5-00:00:13.0] 坐席: 感谢您的来电,祝您生活愉快,再见!
"""


def test_cap_and_veto_and_not_evaluable(tmp_path: Path) -> None:
    f = tmp_path / "v.txt"
    f.write_text("# agent_id: A1\n# call_id: V\n"
                 "[00:00:00.5-00:00:04.0] 坐席: 您好,我是客服代表小王,很高兴为您服务。\n"
                 "[00:00:04.5-00:00:06.0] 客户: 你们什么破服务。\n"
                 "[00:00:06.5-00:00:08.0] 坐席: 神经病,没办法没办法没办法没办法。\n",
                 encoding="utf-8")
    lines = render(f, width=250)
    rows = [[c.strip() for c in line.strip("│").split("│")] for line in lines
            if line.startswith("│")]
    assert ["forbidden.shirk", "服务禁语·推诿客户", "forbidden_phrase", "4", "5",
            "−15(上限 15)"] in rows
    assert ["00:08.0", "挂机方:未知(不可评估:挂机方未知)", ""] in rows
    assert any(line.startswith("基础分 100 − 扣分 ") and line.rstrip().endswith(
        "结论:不合格(一票否决:谩骂客户(一票否决))") for line in lines)
    assert any(line.startswith("不可评估:hangup(挂机方未知);speech_rate(坐席发言仅")
               for line in lines)


def test_verdict_shows_the_not_evaluable_rescaling(tmp_path: Path) -> None:
    """#17: 基础分 100 − 扣分 12 = 得分 87.85 did not add up; the N/A weighing is shown."""
    f = tmp_path / "n.txt"
    f.write_text(MINOR_NA, encoding="utf-8")
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "name: r\nrules:\n"
        "  - {id: shirk, kind: forbidden_phrase, name: 推诿, points: 5, phrases: [没办法]}\n"
        "  - {id: closing, kind: closing, name: 结束语, points: 3}\n"
        "  - {id: hangup, kind: hangup, name: 先挂机, points: 10}\n"
        "  - {id: speech_rate, kind: speech_rate, name: 语速, points: 2}\n", encoding="utf-8")
    console = Console(width=400, record=True, file=open("/dev/null", "w"),  # noqa: SIM115
                      color_system=None)
    console.print(conversation(explain_call(f, ruleset=rules)))
    lines = [line.rstrip() for line in console.export_text().splitlines()]
    # hangup (10) and speech_rate (2) not evaluable: W = 20, W_e = 8; 5 × 20/8 = 12.5
    assert lines[-2:] == [
        "基础分 100 − 扣分 5 × 20/8(按可评估规则折算,不可评估规则权重 12 不计) = 得分 87.5 · 合格线 80 · "
        "结论:合格",
        "不可评估:hangup(挂机方未知);speech_rate(坐席发言仅 9 秒、63 字,不足以计算语速)"]


def test_html_page_escapes_all_text(tmp_path: Path) -> None:
    f = tmp_path / "x.jsonl"
    f.write_text(
        '{"call_id": "<b>id</b>", "agent_id": "A&1", "agent_name": "<script>alert(1)</script>",'
        ' "utterances": [{"speaker": "agent", "start": 0.5, "end": 3, "text": '
        '"<img src=x onerror=alert(1)> 没办法 & \\"quoted\\""}]}\n', encoding="utf-8")
    page = html_page(explain_call(f))
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt; <mark>没办法</mark> &amp; &quot;quoted&quot;" in page
    assert "<title>csqa · &lt;b&gt;id&lt;/b&gt;</title>" in page
    assert "▲ −5 服务禁语·推诿客户 [forbidden.shirk]" in page
    rules = tmp_path / "r.yaml"
    rules.write_text('rules:\n  - id: "<u>r</u>"\n    kind: forbidden_phrase\n'
                     '    name: "<i>禁语</i>"\n    points: 1\n    message: "<b>{matched}</b>"\n'
                     '    phrases: [没办法]\n', encoding="utf-8")
    page = html_page(explain_call(f, ruleset=str(rules)))
    assert "<i>" not in page and "<u>" not in page and "<b>" not in page
    assert "▲ −1 &lt;i&gt;禁语&lt;/i&gt; [&lt;u&gt;r&lt;/u&gt;] &lt;b&gt;没办法&lt;/b&gt;" in page


def test_cli_text_html_and_errors(call_file: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["explain", str(call_file)], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "结论:不合格(低于合格线 80)" in result.stdout
    page = tmp_path / "c.html"
    result = runner.invoke(app, ["explain", str(call_file), "--format", "html", "-o", str(page)])
    assert result.exit_code == 0
    assert page.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.txt", "c.html"]  # no temp left
    elsewhere = tmp_path / "elsewhere.html"
    elsewhere.write_text("kept", encoding="utf-8")
    link = tmp_path / "link.html"
    link.symlink_to(elsewhere)
    result = runner.invoke(app, ["explain", str(call_file), "--format", "html", "-o", str(link)])
    assert result.exit_code == 2
    assert f"{link}:无法写入:是符号链接,拒绝写入(输出不会经由链接写到别处)" in result.stderr
    assert elsewhere.read_text(encoding="utf-8") == "kept"
    many = tmp_path / "many.jsonl"
    many.write_text(
        '{"call_id": "a", "agent_id": "A", "utterances": [{"speaker": "agent", "start": 0, '
        '"end": 1, "text": "您好"}]}\n'
        '{"call_id": "b", "agent_id": "A", "utterances": [{"speaker": "agent", "start": 0, '
        '"end": 1, "text": "您好"}]}\n'
        '{"call_id": "c", "agent_id": "A", "utterances": [{"speaker": "robot", "start": 0, '
        '"end": 1, "text": "x"}]}\n', encoding="utf-8")
    result = runner.invoke(app, ["explain", str(many)])
    assert result.exit_code == 2
    assert f"{many}: 含 3 通通话;请用 --call-id 选一通(如 a, b, c)" in result.stderr
    assert runner.invoke(app, ["explain", str(many), "--call-id", "b"]).exit_code == 0
    result = runner.invoke(app, ["explain", str(many), "--call-id", "z"])
    assert result.exit_code == 2
    assert "没有 call_id 为 'z' 的通话(这个文件中的通话:a, b)" in result.stderr
    result = runner.invoke(app, ["explain", str(many), "--call-id", "c"])
    assert result.exit_code == 3
    assert f"{many}:3: utterances[0].speaker: 无法识别的说话人 'robot'" in result.stderr
    assert runner.invoke(app, ["explain", str(tmp_path / "nope.txt")]).exit_code == 2


def test_matched_words_are_highlighted_in_the_terminal(tmp_path: Path) -> None:
    from rich.text import Text

    from csqa.reporters.conversation import rows

    f = tmp_path / "h.txt"
    f.write_text("# agent_id: A1\n[00:00:00.5-00:00:04.0] 坐席: 您好,我是小王,这个真的没办法,不归我管。\n",
                 encoding="utf-8")
    ex = explain_call(f)
    row = next(r for r in rows(ex) if r.utterance is not None)
    from csqa.reporters.conversation import _utterance_cell

    cell: Text = _utterance_cell(row.utterance, row.findings)
    marked = [cell.plain[s.start:s.end] for s in cell.spans if s.style == "bold white on red"]
    assert marked == ["没办法", "不归我管"]


def test_explain_counts_calls_not_copies_and_takes_sources_and_run_folders(
        tmp_path: Path) -> None:
    """#17: a zip of 400 calls from 4 vendors "held 1601 calls"; the `source` calls.csv writes
    and an audit output folder with a call id are accepted."""
    import zipfile

    from vendor_helpers import FIXTURES

    z = tmp_path / "vendors.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for folder, name, stem in [("ali", "alibaba.json", "0012"), ("tx", "tencent.json", "0012"),
                                   ("vtt", "call.vtt", "0012"), ("ali", "alibaba.json", "0013"),
                                   ("vtt", "call.vtt", "0013")]:
            zf.write(FIXTURES / name, f"{folder}/{stem}{Path(name).suffix}")
        zf.writestr("readme.md", "not a call")
    result = runner.invoke(app, ["explain", str(z)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"错误:{z}: 含 2 通通话(5 份转写:有的通话不止一份);"
                                     "请用 --call-id 选一通(如 0012, 0013)")
    member = runner.invoke(app, ["explain", f"{z}!vtt/0013.vtt"], env={"COLUMNS": "200"})
    assert member.exit_code == 0, member.output
    assert member.stdout.lstrip().startswith("通话 0013 · ")
    assert f"来源 {z}!vtt/0013.vtt" in member.stdout
    missing = runner.invoke(app, ["explain", f"{z}!vtt/0099.vtt"])
    assert (missing.exit_code, missing.stderr.strip()) == (
        2, f"错误:{z}!vtt/0099.vtt: {z} 中没有这个成员")
    # an audit output folder and a call id: the call is read again from its source
    out = tmp_path / "run"
    # (exit 3: the 3 other copies are reported as duplicates)
    assert runner.invoke(app, ["audit", str(z), "-o", str(out), "-q"]).exit_code == 3
    again = runner.invoke(app, ["explain", str(out), "--call-id", "0013"],
                          env={"COLUMNS": "200"})
    assert again.exit_code == 0, again.output
    assert f"来源 {z}!ali/0013.json" in again.stdout
    no_id = runner.invoke(app, ["explain", str(out)])
    assert (no_id.exit_code, no_id.stderr.strip()) == (
        2, f"错误:{out}: 是审计输出目录;请用 --call-id 选一通通话")


def test_a_fifo_or_a_broken_link_is_named_for_what_it_is(tmp_path: Path) -> None:
    fifo = tmp_path / "call.txt"
    os.mkfifo(fifo)
    gone = tmp_path / "gone.txt"
    gone.symlink_to(tmp_path / "nowhere.txt")
    for path, reason in [(fifo, "不是普通文件(设备、管道或文件夹),未读取"),
                         (gone, "符号链接指向的文件不存在"),
                         (tmp_path / "nope.txt", "文件不存在")]:
        result = runner.invoke(app, ["explain", str(path)])
        assert result.exit_code == 2
        assert result.stderr.splitlines() == [f"错误:{path}: {reason}"]
