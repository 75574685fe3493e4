"""The rule-kind reference, generated from each kind's docstring and Params model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from csqa.rules import KINDS


def _default(field: Any) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return "; ".join(f"{g.name}: {'/'.join(g.phrases)}" for g in value)
    if isinstance(value, list):
        return "、".join(map(str, value)) if value else "[]"
    return "null" if value is None else str(value)


def params_table(kind: str) -> list[tuple[str, str, str]]:
    """(name, default, description) for every parameter of ``kind``."""
    model = KINDS[kind].Params
    return [(name, _default(f), f.description or "") for name, f in model.model_fields.items()]


def reference_markdown() -> str:
    """Markdown for the README: one section per kind, its documentation and parameters."""
    out: list[str] = []
    for kind, module in KINDS.items():
        doc = (module.__doc__ or "").strip()
        out.append(f"### `{kind}`\n")
        out.append(doc.replace("::\n", ":\n") + "\n")
        out.append("| parameter | default | meaning |\n| --- | --- | --- |")
        for name, default, desc in params_table(kind):
            out.append(f"| `{name}` | {default.replace('|', '/')} | {desc} |")
        out.append("")
    return "\n".join(out)
