"""Input accounting: every file seen is either audited, failed or skipped, and every record
read is either an audited call or a listed error.

The invariant checked on every run and stored in ``run.json`` under ``accounting``::

    files_seen   == files_audited + files_failed + files_skipped
    records_read == calls_audited + records_rejected

A file is *audited* when at least one of its calls was audited (its bad lines, if any, are
counted in ``records_rejected``), *failed* when none was and it is listed in errors.csv,
*skipped* when it is not a transcript type. Warnings (repaired input) and rule errors are
listed in errors.csv too but do not lose a call, so they are counted apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from csqa.model import InputProblem

#: errors.csv statuses that mean a record (a call, a line, a file) was not audited.
LOST = ("error",)


@dataclass
class Ledger:
    """Counts what became of each input file and record, file by file.

    ``files_expected`` is the number of files discovered; the books balance only if every
    one of them was opened and ended in exactly one of audited, failed or skipped.
    """

    files_expected: int = 0
    files_seen: int = 0
    files_audited: int = 0
    files_failed: int = 0
    files_skipped: int = 0
    calls_audited: int = 0
    records_rejected: int = 0
    warnings: int = 0
    rule_errors: int = 0
    notes: int = 0
    _current: str | None = None
    _current_state: dict[str, int] = field(default_factory=dict)

    def begin_file(self, name: str) -> None:
        """Start accounting for the next file (closes the previous one)."""
        self._close()
        self.files_seen += 1
        self._current = name
        self._current_state = {"calls": 0, "lost": 0, "skipped": 0}

    def call(self) -> None:
        self.calls_audited += 1
        self._current_state["calls"] += 1

    def problem(self, p: InputProblem) -> None:
        if p.status == "skipped":
            self._current_state["skipped"] += 1
        elif p.status in LOST:
            self.records_rejected += 1
            self._current_state["lost"] += 1
        elif p.status == "warning":
            self.warnings += 1
        elif p.status == "rule_error":
            self.rule_errors += 1
        else:  # notes that lose nothing, e.g. no_record: a call without its call record
            self.notes += 1

    def rule_error(self) -> None:
        """A rule failed on an audited call (listed in errors.csv; the call is not lost)."""
        self.rule_errors += 1

    def _close(self) -> None:
        if self._current is None:
            return
        st = self._current_state
        if st["calls"]:
            self.files_audited += 1
        elif st["skipped"]:
            self.files_skipped += 1
        else:
            # A file that gave neither a call nor a problem is impossible by construction
            # (loaders.common.read_guarded lists empty files); counting it failed keeps the
            # books honest if a loader ever breaks that promise.
            self.files_failed += 1
        self._current = None

    def close(self) -> dict[str, Any]:
        """Close the last file; the counts and whether they reconcile, for ``run.json``."""
        self._close()
        return {
            "files_seen": self.files_seen,
            "files_audited": self.files_audited,
            "files_failed": self.files_failed,
            "files_skipped": self.files_skipped,
            "records_read": self.calls_audited + self.records_rejected,
            "calls_audited": self.calls_audited,
            "records_rejected": self.records_rejected,
            "warnings": self.warnings,
            "rule_errors": self.rule_errors,
            "notes": self.notes,
            "balanced": self.balanced,
        }

    @property
    def balanced(self) -> bool:
        return (self.files_seen == self.files_expected
                and self.files_seen == self.files_audited + self.files_failed + self.files_skipped)
