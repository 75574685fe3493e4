"""``python faulty_csqa.py KIND@STEP ARGS…``: the real ``csqa ARGS…`` whose output writer meets a
fault just before STEP of its commit, as a power cut, ``kill -9`` or SIGTERM would meet it.

STEP is ``run.json`` or an output's name (the fault comes before that file is renamed into the
folder) or ``done`` (after the last rename); KIND ``exit`` stops the process dead
(``os._exit(99)``), ``term`` sends it SIGTERM. The fault is put in from outside, by wrapping what
the writer calls (``os.replace`` as :mod:`csqa.reporters.files` sees it, and its final
``_fsync_dir``), so the product carries no test hook.
"""

from __future__ import annotations

import os
import signal
import sys
import types
from pathlib import Path
from typing import Any


def fault(kind: str) -> None:
    if kind == "exit":
        os._exit(99)
    os.kill(os.getpid(), signal.SIGTERM)


def main() -> None:
    kind, _, step = sys.argv[1].partition("@")
    assert kind in ("exit", "term") and step, sys.argv[1]
    from csqa.cli import main as csqa
    from csqa.reporters import files

    class FaultyOs(types.ModuleType):
        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        @staticmethod
        def replace(src: Any, dst: Any) -> None:
            if Path(dst).name == step:
                fault(kind)
            os.replace(src, dst)

    files.os = FaultyOs("os")  # type: ignore[assignment]
    fsync_dir = files._fsync_dir

    def fsync_then(path: Path) -> None:
        if step == "done":
            fault(kind)
        fsync_dir(path)

    files._fsync_dir = fsync_then  # type: ignore[assignment]
    sys.argv = ["csqa", *sys.argv[2:]]
    csqa()


if __name__ == "__main__":
    main()
