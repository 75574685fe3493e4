"""Shared by the vendor-format tests: the fixture call as every engine exported it."""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "vendors"
VENDOR_FILES = [
    "alibaba.json",
    "tencent.json",
    "iflytek.json",
    "aws_call_analytics.json",
    "aws_transcribe_speakers.json",
    "aws_transcribe_channels.json",
    "funasr.json",
    "dashscope_paraformer.json",
    "whisper.json",
    "whisperx.json",
    "call.vtt",
    "call.srt",
]

#: The call as tests/fixtures/vendors/gen_fixtures.py wrote it: (speaker, start, end, text).
CANONICAL = [
    ("agent", 0.8, 4.6, "您好，很高兴为您服务，我是客服代表小王，工号3021，请问有什么可以帮您？"),
    ("customer", 5.2, 11.0, "你好，我上周买的洗衣机一直漏水，你们能不能派人来看看？"),
    ("agent", 11.4, 12.0, "嗯。"),
    ("agent", 12.3, 18.9, "非常抱歉给您添麻烦了，请问您的订单号是多少？"),
    ("customer", 19.5, 24.0, "订单号是二零二六一一二一零零一二三。"),
    ("agent", 22.8, 27.2, "好的，请您稍等，我帮您查询一下。"),
    (
        "agent",
        58.0,
        66.5,
        "感谢您的耐心等待，已经为您创建维修工单，师傅明天上午上门，时间这个没办法改。",
    ),
    ("customer", 67.0, 69.0, "好的，谢谢。"),
    ("agent", 75.5, 81.9, "请问您对本次服务是否满意？感谢您的来电，祝您生活愉快，再见！"),
]


def copy_as(name: str, dest: Path, stem: str = "20261121-0012") -> Path:
    """The fixture ``name`` copied into ``dest`` under the call's id, keeping its suffix."""
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / (stem + Path(name).suffix)
    shutil.copy(FIXTURES / name, target)
    return target
