"""Loaders: one module per input format, chosen by file suffix; folders are walked recursively.

Each loader's ``load(path)`` yields a :class:`~csqa.model.Transcript` per call it could read
and an :class:`~csqa.model.InputProblem` per call, line or file it could not, so that every
input is either audited or listed with its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from csqa.errors import InputError
from csqa.loaders import csqa_json, csv_table, jsonl, text
from csqa.loaders.common import read_guarded
from csqa.model import InputProblem, Transcript

Loader = Callable[[Path], Iterator[Transcript | InputProblem]]

LOADERS: dict[str, Loader] = {
    ".json": csqa_json.load,
    ".jsonl": jsonl.load,
    ".txt": text.load,
    ".csv": csv_table.load,
}


def loader_for(path: Path) -> Loader | None:
    return LOADERS.get(path.suffix.lower())


def discover(paths: Iterable[str | Path]) -> Iterator[tuple[Path, Loader | None]]:
    """Every file under ``paths`` (folders walked recursively, in sorted order) with its loader.

    Raises :class:`~csqa.errors.InputError` for a path that does not exist.
    """
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for f in sorted(path.rglob("*")):
                if f.is_file():
                    yield f, loader_for(f)
        elif path.is_file():
            yield path, loader_for(path)
        else:
            raise InputError(f"{path}: no such file or folder")


def supported() -> str:
    return " ".join(sorted(LOADERS))


def load_all(paths: Iterable[str | Path]) -> Iterator[Transcript | InputProblem]:
    """Every call under ``paths``, and every problem: unsupported files are listed as skipped."""
    for path, loader in discover(paths):
        if loader is None:
            yield InputProblem(str(path), None,
                               f"not a transcript file type ({path.suffix or 'no suffix'}); "
                               f"supported: {supported()}", status="skipped")
            continue
        yield from read_guarded(path, loader)
