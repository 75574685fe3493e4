"""Archives read in place, streaming: ``.zip``, ``.tar.gz``/``.tgz``/``.tar``, and any single
``*.gz`` file (``calls.jsonl.gz``, ``call.json.gz``).

Nothing is unpacked to disk: each member is handed to the loader of its own suffix as a
:class:`Member`, a read-only stand-in for a file path, and named ``archive.zip!dir/call.json``
in messages and outputs. ``.tar.gz`` is read as a stream (one pass, member by member), a
``.jsonl.gz`` line by line. Member names in zip files written by Windows tools in GBK (no
UTF-8 flag) are decoded as GBK; member text may be UTF-8, UTF-8-BOM or GB18030/GBK like any
file. An archive inside an archive is listed as skipped, not opened, and so is a member that
is a link, device or FIFO, or whose path leaves the archive (``../``, absolute).

A zip's members are read in name order, path component by component as a folder's files are
(not in the order the zip was packed), so when a call is in it twice the copy first by name is
audited and the other reported as a duplicate, whatever tool made the zip. A tar is a stream and
is read in its stored order.
"""

from __future__ import annotations

import gzip
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO, Any

from csqa.loaders.common import LoadProblem, current_limits
from csqa.loaders.record_columns import not_a_transcript
from csqa.model import InputProblem, Transcript

Picker = Callable[[Any], Callable[[Any], Iterator[Transcript | InputProblem]] | None]
_ERRORS = (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError)


def kind(name: str) -> str | None:
    """``zip``, ``tar`` or ``gz`` for an archive file name, else ``None``."""
    n = name.lower()
    if n.endswith(".zip"):
        return "zip"
    if n.endswith((".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")):
        return "tar"
    if n.endswith(".gz"):
        return "gz"
    return None


class Member:
    """One file inside an archive, with the parts of :class:`pathlib.Path` the loaders use."""

    def __init__(self, archive: str, inner: str, opener: Callable[[], IO[bytes]]) -> None:
        self.archive = archive
        self.inner = inner
        self._opener = opener
        p = PurePosixPath(inner)
        self.name, self.stem, self.suffix = p.name, p.stem, p.suffix

    def __str__(self) -> str:
        return f"{self.archive}!{self.inner}"

    def __fspath__(self) -> str:
        return str(self)

    def open(self, mode: str = "rb") -> IO[bytes]:
        if mode != "rb":
            raise ValueError("archive members are read-only, binary")
        return self._opener()

    def read_bytes(self) -> bytes:
        """The member's bytes, refused past the file-size limit without holding more of it
        in memory (a small archive can unpack to gigabytes: a "zip bomb")."""
        limit = current_limits()
        with self._opener() as fh:
            data = fh.read(limit.max_file_bytes + 1)
        if len(data) > limit.max_file_bytes:
            raise LoadProblem(f"解压后超过整体读入文件的上限 {limit.max_file_mb:g} MB"
                              "(--max-file-mb);未读取")
        return data

    def is_file(self) -> bool:
        return True


def _zip_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & 0x800:  # the UTF-8 flag: the name is already right
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _hidden(inner: str) -> bool:
    parts = PurePosixPath(inner).parts
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _leaves(inner: str) -> bool:
    """Whether a member's path points outside the archive (``../x``, ``/etc/x``, ``C:\\x``)."""
    name = inner.replace("\\", "/")
    return (name.startswith("/") or (len(name) > 1 and name[1] == ":")
            or ".." in PurePosixPath(name).parts)


class Refused(Member):
    """A member not read for what it is (a link, device or FIFO) or where it points: listed as
    skipped with ``reason``, never opened."""

    def __init__(self, archive: str, inner: str, reason: str) -> None:
        super().__init__(archive, inner, _never)
        self.reason = reason


def _never() -> IO[bytes]:
    raise OSError("a refused archive member is never opened")


_TAR_KINDS = {tarfile.SYMTYPE: "符号链接", tarfile.LNKTYPE: "硬链接",
              tarfile.CHRTYPE: "字符设备", tarfile.BLKTYPE: "块设备",
              tarfile.FIFOTYPE: "FIFO(命名管道)"}


def _zip_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _members(path: Path) -> Iterator[Member]:
    archive = str(path)
    k = kind(path.name)
    if k == "gz":

        def gz() -> IO[bytes]:
            return gzip.GzipFile(path, "rb")  # type: ignore[return-value]

        yield Member(archive, path.name[:-3], gz)
    elif k == "zip":
        with zipfile.ZipFile(path) as zf:
            # in name order, as a folder is read: which of two copies of a call is audited
            # (the first) must not depend on the order the zip was packed in
            for info in sorted(zf.infolist(), key=lambda i: _zip_name(i).split("/")):
                name = _zip_name(info)
                if _zip_link(info):
                    yield Refused(archive, name, "压缩包中的符号链接:未读取")
                elif not info.is_dir():
                    yield Member(archive, name, partial(zf.open, info))
    else:
        with tarfile.open(path, "r|*") as tf:
            for ti in tf:
                fh = tf.extractfile(ti) if ti.isfile() else None
                if fh is not None:
                    yield Member(archive, ti.name, partial(_same, fh))
                elif not ti.isdir():
                    what = _TAR_KINDS.get(ti.type, f"非普通文件(类型 {ti.type!r})")
                    yield Refused(archive, ti.name, f"压缩包中的{what}:未读取")


def _same(fh: IO[bytes]) -> IO[bytes]:
    """A tar member's stream: valid only until the next member is read (one pass)."""
    return fh


def load(path: Path, pick: Picker) -> Iterator[Transcript | InputProblem]:
    """Every call in the archive at ``path``; ``pick(member)`` gives each member's loader.

    A member that cannot be read is one error naming it; a zip goes on with its other members,
    a stream (tar, gzip) cannot go past a corrupt point and ends there.
    """
    what = {"zip": " zip 压缩包", "tar": " tar 压缩包", "gz": " gzip 文件"}[kind(path.name) or "gz"]
    failed_member = False
    try:
        for member in _members(path):
            if isinstance(member, Refused):
                yield InputProblem(str(member), None, member.reason, status="skipped")
                continue
            if _leaves(member.inner):
                yield InputProblem(str(member), None, "成员路径指向压缩包之外(.. 或"
                                   "绝对路径):未读取", status="skipped")
                continue
            if _hidden(member.inner):
                continue
            if kind(member.name):
                yield InputProblem(
                    str(member),
                    None,
                    "压缩包里的压缩包:未读取;请先解开外层压缩包",
                    status="skipped",
                )
                continue
            loader = pick(member)
            if loader is None:
                yield InputProblem(
                    str(member),
                    None,
                    not_a_transcript(member.suffix),
                    status="skipped",
                )
                continue
            failed_member = False
            try:
                yield from loader(member)
            except _ERRORS as exc:
                failed_member = True
                yield InputProblem(str(member), None, f"无法读取{what}:{exc}")
    except _ERRORS as exc:
        if not failed_member:  # the stream broke inside the member already reported
            yield InputProblem(str(path), None, f"无法读取{what}:{exc}")
