"""The column names of a call-record table (CDR), English or Chinese, for each field.

Kept with the loaders (the lowest layer that reads tables) so that a transcript loader can tell
a call-record table met among the transcripts (``cdr.csv`` in a nightly export folder) from a
transcript; :mod:`csqa.records` reads such tables for ``--calls``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: The fields a record can give, and the column names recognised for each (case, spaces,
#: ``_`` and ``-`` ignored).
COLUMNS: dict[str, tuple[str, ...]] = {
    "call_id": (
        "call_id",
        "callid",
        "call_uuid",
        "uuid",
        "contact_id",
        "contactid",
        "conversation_id",
        "通话id",
        "通话编号",
        "呼叫id",
        "呼叫编号",
        "通话流水号",
        "流水号",
        "录音编号",
        "会话id",
    ),
    "file": (
        "file",
        "filename",
        "file_name",
        "recording",
        "recording_file",
        "录音文件",
        "录音文件名",
        "文件名",
        "录音",
    ),
    "agent_id": (
        "agent_id",
        "agentid",
        "agent",
        "工号",
        "坐席工号",
        "座席工号",
        "坐席id",
        "座席id",
        "坐席编号",
        "员工工号",
        "客服工号",
        "坐席号",
        "座席号",
    ),
    "agent_name": (
        "agent_name",
        "agentname",
        "坐席姓名",
        "座席姓名",
        "坐席名称",
        "客服姓名",
        "姓名",
        "坐席",
    ),
    "team": (
        "team",
        "group",
        "queue",
        "skill_group",
        "班组",
        "组别",
        "技能组",
        "团队",
        "部门",
        "小组",
    ),
    "started_at": (
        "started_at",
        "start_time",
        "start_stamp",
        "start_epoch",
        "starttime",
        "call_start",
        "开始时间",
        "通话开始时间",
        "呼叫时间",
        "呼叫开始时间",
        "通话开始",
        "接通时间",
        "应答时间",
        "来电时间",
    ),
    "direction": ("direction", "call_direction", "呼叫方向", "通话方向", "方向", "呼叫类型"),
    "hangup_by": (
        "hangup_by",
        "hangup",
        "hangup_side",
        "sip_hangup_disposition",
        "disconnect_reason",
        "disconnectreason",
        "disconnect_type",
        "disconnecttype",
        "挂机方",
        "挂断方",
        "挂机方向",
        "挂机原因",
        "挂机类型",
        "谁挂机",
    ),
    # for rules' ``when: {tag: …}`` / ``when: {hold: …}`` (csqa.rules.conditions)
    "tags": ("tags", "tag", "labels", "标签", "通话标签", "工单标签", "业务标签", "服务类型"),
    "hold_seconds": ("hold_seconds", "hold_time", "holdtime", "hold_duration",
                     "保持时长", "保持时间", "等待时长"),
}


def column_key(text: str) -> str:
    """A column name as it is compared: case, spaces, ``_`` and ``-`` ignored."""
    return re.sub(r"[\s_\-]+", "", str(text)).lower()


_ALIASES = {column_key(a): name for name, aliases in COLUMNS.items() for a in aliases}


def record_fields(header: Iterable[str]) -> set[str]:
    """The call-record fields a table's header names (by the aliases above)."""
    return {_ALIASES[k] for k in map(column_key, header) if k in _ALIASES}


def not_a_transcript(suffix: str) -> str:
    """Why a file of an unread type is skipped; a spreadsheet may be the call records."""
    reason = f"不是转写文件类型({suffix or '无扩展名'})"
    if suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        reason += ";若是通话记录表(call records),请用 --calls 指定这个文件"
    return reason
