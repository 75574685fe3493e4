"""The run folder's layout as tests rely on it, and :func:`reseal` for tests that edit a finished
run folder on purpose (to feed a reader bad cells): it re-records the files in run.json as if
csqa had written them; without it the reader refuses the edit."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

#: the run folder's layout, as users and scripts see it (a contract: csqa.runs must agree)
RUN_JSON = "run.json"
OUTPUTS = ("findings.jsonl", "calls.csv", "agents.csv", "errors.csv", "customer_text.jsonl",
           "conversation.jsonl")
LOCK_NAME = ".csqa.lock"
STAGING_PREFIX = ".csqa-staging-"


def reseal(folder: Path) -> None:
    """Record the current size and SHA-256 of ``folder``'s outputs in its run.json."""
    record = json.loads((folder / RUN_JSON).read_text(encoding="utf-8"))
    record["outputs"] = {
        name: {"bytes": (folder / name).stat().st_size,
               "sha256": hashlib.sha256((folder / name).read_bytes()).hexdigest()}
        for name in OUTPUTS if (folder / name).exists()}
    (folder / RUN_JSON).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
