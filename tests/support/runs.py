"""Tests that edit a finished run folder on purpose (to feed a reader bad cells) re-record its
files in run.json, as if csqa had written them; without this the reader refuses the edit."""

from __future__ import annotations

import json
from pathlib import Path

from csqa.runs import OUTPUTS, file_digest


def reseal(folder: Path) -> None:
    """Record the current size and SHA-256 of ``folder``'s outputs in its run.json."""
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    outputs = {}
    for name in OUTPUTS:
        if (folder / name).exists():
            with (folder / name).open("rb") as fh:
                outputs[name] = {"bytes": (folder / name).stat().st_size, "sha256": file_digest(fh)}
    record["outputs"] = outputs
    (folder / "run.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
