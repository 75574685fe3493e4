"""Loaders: one module per input format, chosen by file suffix; folders are walked recursively.

``*.json`` files are told apart by content (csqa JSON or an ASR vendor's export, see
:mod:`csqa.loaders.formats`); archives (``.zip``, ``.tar.gz``, ``*.gz``) are read in place by
:mod:`csqa.loaders.archive`; ``fmt`` (``--format``) forces one format for every transcript file.

Each loader's ``load(path)`` yields a :class:`~csqa.model.Transcript` per call it could read
and an :class:`~csqa.model.InputProblem` per call, line or file it could not, so that every
input is either audited or listed with its reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

from csqa.errors import InputError
from csqa.loaders import archive, csv_table, formats, jsonl, subtitles, text
from csqa.loaders.common import read_guarded
from csqa.loaders.record_columns import not_a_transcript
from csqa.model import InputProblem, Transcript
from csqa.safeio import LOCK_NAME, OUTPUTS, RUN_JSON, STAGING_PREFIX, is_output_folder

_RUN_FILES = {RUN_JSON, *OUTPUTS, LOCK_NAME}

Loader = Callable[[Path], Iterator[Transcript | InputProblem]]


@dataclass(frozen=True, slots=True)
class LoaderEntry:
    """A loader, and what of its work a worker process may take over (declared here, so that
    the reader never has to guess it from which function a loader is).

    Called like the loader itself: ``entry(path)`` yields the file's calls and problems.
    """

    load: Loader
    #: A worker on the same machine may read and parse the whole file from its name:
    #: ``whole(name)`` gives exactly what ``read_guarded(Path(name), load)`` gives.
    whole: Callable[[str], list[Transcript | InputProblem]] | None = None
    #: This process may read the file as chunks of raw lines that a worker parses:
    #: ``chunks(path, size)`` gives :class:`csqa.loaders.jsonl.Lines` (and problems).
    chunks: Callable[..., Iterator[Any]] | None = None
    #: An archive: its members are loaded by their own entries (see :func:`member_entries`).
    archive: bool = False
    #: Why the input is not read at all (a folder that could not be listed, a link to a folder)
    #: and the problem's status: its one problem.
    refused: tuple[str, str] | None = None

    def __call__(self, path: Path) -> Iterator[Transcript | InputProblem]:
        return self.load(path)


LOADERS: dict[str, LoaderEntry] = {
    ".json": LoaderEntry(formats.load_json, whole=formats.read_call_file),
    ".jsonl": LoaderEntry(jsonl.load, chunks=jsonl.chunks),
    ".txt": LoaderEntry(text.load),
    ".csv": LoaderEntry(csv_table.load),
    ".vtt": LoaderEntry(subtitles.load_vtt),
    ".srt": LoaderEntry(subtitles.load_srt),
}
ARCHIVES = (".zip", ".tar.gz", ".tgz", ".tar", ".gz")


@cache
def _forced(fmt: str) -> LoaderEntry:
    return LoaderEntry(formats.forced(fmt))


@cache
def _archive(fmt: str | None) -> LoaderEntry:
    return LoaderEntry(partial(archive.load, pick=partial(loader_for, fmt=fmt)), archive=True)


def loader_for(path: Any, fmt: str | None = None) -> LoaderEntry | None:
    """The loader of a file (or archive member) by its suffix; ``fmt`` forces a format."""
    if archive.kind(path.name):
        return _archive(fmt)
    suffix = path.suffix.lower()
    if suffix not in LOADERS:
        return None
    return _forced(fmt) if fmt else LOADERS[suffix]


def discover(paths: Iterable[str | Path], fmt: str | None = None
             ) -> Iterator[tuple[Path, LoaderEntry | None]]:
    """Every file under ``paths`` (folders walked recursively, in sorted order) with its loader.

    Raises :class:`~csqa.errors.InputError` for a path that does not exist.
    """
    for name, loader in discover_names(paths, fmt):
        yield Path(name), loader


def discover_names(paths: Iterable[str | Path], fmt: str | None = None
                   ) -> Iterator[tuple[str, LoaderEntry | None]]:
    """:func:`discover` with each file as ``str(path)``, without making a ``Path`` per file (a
    night's export is 100,000 files: the run's main process pays for each)."""
    for p in paths:
        path = Path(p)
        if path.is_dir():
            yield from _files_under(path, fmt)
        elif path.exists():  # a file, or a FIFO or device its loader lists as not read
            yield str(path), loader_for(path, fmt)
        else:
            raise InputError(f"{path}: 文件或目录不存在")


class FileName:
    """What :func:`loader_for` looks at of a file: its name and suffix, as ``Path`` has them."""

    __slots__ = ("name", "suffix")

    def __init__(self, name: str) -> None:
        self.name = name
        dot = name.rfind(".")
        self.suffix = name[dot:] if 0 < dot < len(name) - 1 else ""


def _files_under(folder: Path, fmt: str | None, top: bool = True
                 ) -> Iterator[tuple[str, LoaderEntry | None]]:
    """The files under ``folder`` in the order of ``sorted(folder.rglob("*"))``, i.e. by path
    components: each folder's entries sorted by name, a sub-folder's files where its name falls.
    Symbolic links to files are listed, those to folders not entered, as ``rglob`` does; but
    without a ``stat``, a ``Path`` comparison or a ``Path`` per file. Each file comes as
    ``str(folder / name)``, with its loader. Nothing is passed over in silence: every other entry
    (a FIFO, a device, a broken link) is listed as a file, which :func:`read_guarded` reports as
    not read; a link to a folder, and a folder that cannot be read, with the reason.

    csqa's own output folders (``--out`` inside an input folder) are not inputs: one found
    below ``folder`` is passed over whole; when ``folder`` itself is one, its run files are.
    """
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield str(folder), _refused(f"无法读取文件夹:{exc.strerror or exc}")
        return
    if is_output_folder({e.name for e in entries}):
        if not top:
            return
        entries = [e for e in entries if e.name not in _RUN_FILES
                   and not e.name.startswith(STAGING_PREFIX)]
    base = str(folder)
    prefix = "" if base == "." else base if base.endswith(os.sep) else base + os.sep
    for entry in entries:
        try:
            is_dir = entry.is_dir()
            is_link = is_dir and entry.is_symlink()
        except OSError:
            is_dir = is_link = False
        if is_link:
            yield prefix + entry.name, _refused(FOLDER_LINK, "skipped")
        elif is_dir:
            yield from _files_under(folder / entry.name, fmt, top=False)
        else:
            yield prefix + entry.name, loader_for(FileName(entry.name), fmt)


def _nothing(path: Path) -> Iterator[Transcript | InputProblem]:
    return iter(())


@cache
def _refused(reason: str, status: str = "error") -> LoaderEntry:
    """The entry of an input that is not read, for ``reason``."""
    return LoaderEntry(_nothing, refused=(reason, status))


#: A symbolic link to a folder inside an input folder (it could lead anywhere, or in a circle).
FOLDER_LINK = "指向文件夹的符号链接,未进入(要审计那个文件夹,请直接给出它)"


def supported() -> str:
    return " ".join(sorted(LOADERS) + list(ARCHIVES))


def load_all(paths: Iterable[str | Path], fmt: str | None = None
             ) -> Iterator[Transcript | InputProblem]:
    """Every call under ``paths``, and every problem: unsupported files are listed as skipped."""
    for path, loader in discover(paths, fmt):
        yield from load_file(path, loader)


def load_file(path: Path, loader: LoaderEntry | None) -> Iterator[Transcript | InputProblem]:
    """Every call of one file, read with its ``loader`` (from :func:`discover`): a file of an
    unsupported type is listed as skipped."""
    if loader is None:
        yield InputProblem(str(path), None,
                           f"{not_a_transcript(path.suffix)};支持的类型:{supported()}",
                           status="skipped")
        return
    if loader.refused:
        reason, status = loader.refused
        yield InputProblem(str(path), None, reason, status=status)
        return
    yield from read_guarded(path, loader)
