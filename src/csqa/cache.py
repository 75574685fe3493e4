"""The ``--incremental`` cache: results of the last run in an output folder, keyed by content.

Each loaded call is keyed by a hash of its content and where it was read from (file and
line, which appear in the outputs), the
ruleset's hash (the rules and scoring, not comments or formatting) and the csqa version. An
item whose key is in the cache is not audited again: its stored outcomes are written as they
are. The cache (``.csqa-cache.sqlite`` in the output folder) is rewritten on every incremental
run with exactly that run's items, and only when the run completes.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Any

import orjson

from csqa import __version__
from csqa.model import InputProblem
from csqa.reading import FileStart, ReadyCall
from csqa.reporters.files import RenderedCall

CACHE_NAME = ".csqa-cache.sqlite"
#: the shape of a stored outcome; part of every key, so a cache of another shape is all misses
#: (2: conversation.jsonl's line added)
LAYOUT = 2


def _default(obj: Any) -> Any:
    return str(obj)


def _encode(outcomes: list[Any]) -> bytes:
    """Outcomes as JSON (not pickle: loading a cache must never run code from the folder)."""
    rows: list[list[Any]] = []
    for o in outcomes:
        if isinstance(o, RenderedCall):
            rows.append(["c", o.call_id, o.agent_id, o.agent_name, o.team, o.source, o.line,
                         o.score, o.passed, o.vetoed, o.n_findings, o.rule_counts,
                         o.findings.decode("utf-8"), o.csv_row.decode("utf-8"), o.rule_errors, o.role_source,
                         o.customer.decode("utf-8"), o.n_not_evaluable, o.warnings,
                         o.conversation.decode("utf-8")])
        elif isinstance(o, FileStart):
            rows.append(["f", o.file])
        else:
            rows.append(["p", o.file, o.line, o.reason, o.status, o.call_id])
    return orjson.dumps(rows)


def _decode(data: bytes) -> list[Any]:
    out: list[Any] = []
    for row in orjson.loads(data):
        if row[0] == "f":
            out.append(FileStart(row[1]))
        elif row[0] == "c":
            (call_id, agent_id, agent_name, team, source, line, score, passed, vetoed,
             n_findings, rule_counts, findings, csv_row, rule_errors, role_source, customer,
             n_not_evaluable, warnings, conversation) = row[1:20]
            out.append(RenderedCall(call_id, agent_id, agent_name, team, source, line, score,
                                    passed, vetoed, n_findings, rule_counts,
                                    findings.encode("utf-8"), csv_row.encode("utf-8"),
                                    [(rid, err) for rid, err in rule_errors], role_source,
                                    customer.encode("utf-8"), n_not_evaluable, list(warnings),
                                    conversation.encode("utf-8")))
        else:
            out.append(InputProblem(row[1], row[2], row[3], row[4], row[5]))
    return out


def item_key(item: FileStart | ReadyCall, job_key: str) -> bytes:
    """The cache key of one work item (see :mod:`csqa.reading`); an incremental run reads
    every call in this process, so there are only these two kinds."""
    tag, value = ("begin", item.file) if isinstance(item, FileStart) else ("ready", item.call)
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{__version__}\0{LAYOUT}\0{job_key}\0{tag}\0".encode())
    h.update(orjson.dumps(value, default=_default))  # the loaded call, or the marker's file
    return h.digest()


class Cache:
    """Reads the previous run's cache and writes this run's, replaced atomically at the end."""

    def __init__(self, out_dir: Path, staging: Path) -> None:
        """``staging``: the run's private folder (see :class:`~csqa.reporters.files.OutputFolder`),
        where the new cache is written until :meth:`finish`."""
        self.path = out_dir / CACHE_NAME
        self._tmp = staging / CACHE_NAME
        self._old: sqlite3.Connection | None = None
        if self.path.exists():
            try:
                self._old = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
                self._old.execute("SELECT count(*) FROM outcomes").fetchone()
            except sqlite3.Error:  # a damaged or foreign cache is only a slower run
                self._old = None
        self._tmp.unlink(missing_ok=True)
        self._new = sqlite3.connect(self._tmp)
        self._new.execute("PRAGMA journal_mode=OFF")
        self._new.execute("PRAGMA synchronous=OFF")
        self._new.execute("CREATE TABLE outcomes (key BLOB PRIMARY KEY, value BLOB)")

    def lookup(self, keys: list[bytes]) -> dict[bytes, list[Any]]:
        """The cached outcomes of those keys that are in the previous run's cache."""
        if self._old is None or not keys:
            return {}
        found: dict[bytes, list[Any]] = {}
        try:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                marks = ",".join("?" * len(chunk))
                for key, value in self._old.execute(
                        f"SELECT key, value FROM outcomes WHERE key IN ({marks})", chunk):
                    found[key] = _decode(value)
        except (sqlite3.Error, orjson.JSONDecodeError, ValueError, TypeError, AttributeError):
            return {}  # unreadable entries: audit these items again
        return found

    def store(self, pairs: list[tuple[bytes, list[Any]]]) -> None:
        self._new.executemany("INSERT OR REPLACE INTO outcomes VALUES (?, ?)",
                              [(k, _encode(v)) for k, v in pairs])

    def finish(self) -> None:
        """Make this run's cache the one the next run reads."""
        self._new.commit()
        self._new.close()
        if self._old is not None:
            self._old.close()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        self._new.close()
        if self._old is not None:
            self._old.close()
        self._tmp.unlink(missing_ok=True)
