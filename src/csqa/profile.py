"""Export profiles: how one call centre's exports are to be read, kept in a small YAML file.

::

    # profile.yaml — our Alibaba dual-channel recordings and the PBX's CDR export
    format: alibaba            # force a format (else detected from content)
    agent_channel: 1           # the agent's audio channel
    speakers:                  # or: label -> role, for channel or diarization labels
      "1": agent
      "0": customer
    strict_roles: false        # true: a call whose roles are uncertain is an error
    calls: cdr/2026-11.xlsx    # call records, relative to this file
    map:                       # call-record columns, where the names are not recognised
      agent_id: 工号
    db: history/qa.duckdb      # append every run to this run-history database

Options given on the command line win over the profile's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csqa import safeio
from csqa.errors import InputError, RulesetError
from csqa.loaders.common import speaker_role

KEYS = ("format", "agent_channel", "speakers", "strict_roles", "calls", "map", "db")


@dataclass
class Profile:
    """The settings of a profile file (all optional)."""

    format: str | None = None
    agent_channel: int | None = None
    speakers: dict[str, str] = field(default_factory=dict)
    strict_roles: bool = False
    calls: Path | None = None
    map: dict[str, str] = field(default_factory=dict)
    db: Path | None = None


def load_profile(path: str | Path) -> Profile:
    """Read and check a profile; InputError naming ``file:line:col: key`` for each problem."""
    from csqa.ruleset import did_you_mean
    from csqa.ruleset.yamlsrc import load_yaml

    path = Path(path)
    try:
        doc = load_yaml(safeio.read_text(path), str(path))
    except OSError as exc:
        raise InputError(f"{path}: 无法读取导出配置:{exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: 导出配置不是 UTF-8 文本") from None
    except RulesetError as exc:
        raise InputError("; ".join(exc.problems)) from None
    data: Any = doc.data or {}
    if not isinstance(data, dict):
        raise InputError(f"{path}:1: 导出配置应为设置项的映射({', '.join(KEYS)})")

    def bad(key: Any, what: str, sub: Any = None, at_key: bool = False) -> InputError:
        where = doc.where((key,) if sub is None else (key, sub), key=at_key)
        return InputError(f"{where}: {key}{'' if sub is None else f'.{sub}'}: {what}")

    p = Profile()
    for key, value in data.items():
        if key not in KEYS:
            raise bad(
                key,
                f"未知的设置项{did_you_mean(str(key), KEYS)};可用的设置项:{', '.join(KEYS)}",
                at_key=True,
            )
        if key == "format":
            if not isinstance(value, str):
                raise bad(key, "应为格式名称")
            p.format = value
        elif key == "agent_channel":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise bad(key, f"应为声道编号(0、1 …),实际是 {value!r}")
            p.agent_channel = value
        elif key == "strict_roles":
            if not isinstance(value, bool):
                raise bad(key, f"应为 true 或 false,实际是 {value!r}")
            p.strict_roles = value
        elif key in ("calls", "db"):
            if not isinstance(value, str):
                raise bad(key, "应为文件名")
            setattr(p, key, (path.parent / value) if not Path(value).is_absolute() else Path(value))
        else:
            if not isinstance(value, dict):
                raise bad(key, "应为映射(mapping)")
            for k, v in value.items():
                if key == "speakers":
                    if speaker_role(v) is None:
                        raise bad(key, f"应为 agent/坐席 或 customer/客户,实际是 {v!r}", k)
                    v = speaker_role(v)
                if not isinstance(v, (str, int)) or isinstance(v, bool):
                    raise bad(key, f"应为文本,实际是 {v!r}", k)
                getattr(p, key)[str(k)] = str(v)
    return p
