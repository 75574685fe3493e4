"""Files an attacker may have placed: bounded reads, and temp files that never follow a link.

Every file csqa reads whole that is not a transcript (a ruleset and its ``extends:``, a profile,
call records, a reviews file, a tests file) goes through :func:`read_bytes`: it must be a
regular file (``/dev/zero`` or a FIFO is refused at once, never read or waited on) and its size
is checked against a limit *before* any byte is read. An ``.xlsx`` (a zip) goes through
:func:`check_workbook` first, bounded like a transcript archive: by what its parts unpack to.

Refusals are :class:`RefusedFile`, an ``OSError`` whose ``filename`` is the path and whose
``strerror`` says why, so every existing "cannot read FILE: reason" message carries it.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: a ruleset, profile or rule-tests file: hand-written YAML, far smaller than this
CONFIG_BYTES = 16 * 1024 * 1024
#: parts in an .xlsx (a workbook of one sheet has about ten)
MAX_WORKBOOK_PARTS = 10_000


#: csqa's own output folder (see :mod:`csqa.runs`): run.json, and the other files of a run in
#: the order the writer moves them into place
RUN_JSON = "run.json"
OUTPUTS = ("findings.jsonl", "calls.csv", "agents.csv", "errors.csv", "customer_text.jsonl",
           "conversation.jsonl")
#: held (fcntl) by the audit writing into the folder; its presence marks a csqa output folder
LOCK_NAME = ".csqa.lock"
#: an audit's private folder for its files until they switch into place
STAGING_PREFIX = ".csqa-staging-"


def is_output_folder(names: set[str] | frozenset[str]) -> bool:
    """Whether a folder holding these entry names is a csqa output folder (its lock file, or
    the files of a run written before there was one): never read as input."""
    return LOCK_NAME in names or {RUN_JSON, "calls.csv", "findings.jsonl"} <= names


#: Why a FIFO, a device or a folder given as a file is not read.
NOT_REGULAR = "不是普通文件(设备、管道或文件夹),未读取"
#: Why a symbolic link whose target does not exist is not read.
BROKEN_LINK = "符号链接指向的文件不存在"


class RefusedFile(OSError):
    """A file csqa will not read (not a regular file, or over its size limit)."""

    def __init__(self, path: str | os.PathLike[str], reason: str, code: int = errno.EINVAL) -> None:
        super().__init__(code, reason, os.fspath(path))

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n} 字节"


def open_regular(path: str | os.PathLike[str], limit: int) -> int:
    """An open descriptor of ``path``, which must be a regular file of at most ``limit`` bytes.

    Opened non-blocking, so a FIFO is refused at once instead of waiting for a writer."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise RefusedFile(path, NOT_REGULAR)
        if st.st_size > limit:
            raise RefusedFile(path, f"文件大小 {_mb(st.st_size)},超过 {_mb(limit)} 的上限,未读取",
                              errno.EFBIG)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bytes(path: str | os.PathLike[str], limit: int = CONFIG_BYTES) -> bytes:
    """The bytes of the regular file ``path``, refused (:class:`RefusedFile`) over ``limit``
    bytes before reading; a file that grows while read is refused too."""
    fd = open_regular(path, limit)
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise RefusedFile(path, f"文件超过 {_mb(limit)} 的上限,未读取", errno.EFBIG)
    return data


def read_text(path: str | os.PathLike[str], limit: int = CONFIG_BYTES) -> str:
    """:func:`read_bytes` decoded as UTF-8 (a byte-order mark is dropped)."""
    return read_bytes(path, limit).decode("utf-8-sig")


def check_workbook(path: str | os.PathLike[str], limit: int) -> None:
    """Refuse an ``.xlsx`` whose parts unpack to more than ``limit`` bytes in all, before a
    spreadsheet library inflates it: the sizes checked are those :mod:`zipfile` stops at when
    reading, so a part that claims less than it holds is cut there, not read past.
    A file that is not a zip is left for the spreadsheet library to report."""
    fd = open_regular(path, limit)
    with os.fdopen(fd, "rb") as fh:
        try:
            with zipfile.ZipFile(fh) as zf:
                infos = zf.infolist()
        except (zipfile.BadZipFile, EOFError, ValueError):
            return
    if len(infos) > MAX_WORKBOOK_PARTS:
        raise RefusedFile(path, f"工作簿含 {len(infos)} 个部件,超过 {MAX_WORKBOOK_PARTS} 的上限,"
                                "未读取")
    total = sum(i.file_size for i in infos)
    if total > limit:
        raise RefusedFile(path, f"工作簿解压后 {_mb(total)},超过 {_mb(limit)} 的上限,未读取",
                          errno.EFBIG)


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A new temporary file beside ``path`` (created exclusively, its name unpredictable) for
    the block to write; moved onto ``path`` when the block succeeds, removed when it fails.
    A ``path`` that is a symbolic link, or whose folder does not exist, is refused first."""
    if not path.parent.is_dir():
        raise RefusedFile(path.parent, "文件夹不存在,未写入", errno.ENOENT)
    refuse_link(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        mask = os.umask(0o022)
        os.umask(mask)
        os.fchmod(fd, 0o666 & ~mask)  # as an ordinary new file, not mkstemp's 0600
    finally:
        os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through :func:`replacing`: a reader never sees half a file,
    and a failed write leaves the old file as it was."""
    with replacing(path) as tmp:
        tmp.write_bytes(data)


def refuse_link(path: Path) -> None:
    """Refuse ``path`` if it is a symbolic link (an output must never be written through one)."""
    if path.is_symlink():
        raise RefusedFile(path, "是符号链接,拒绝写入(输出不会经由链接写到别处)", errno.ELOOP)
