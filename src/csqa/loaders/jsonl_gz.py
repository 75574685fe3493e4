"""Gzipped JSON Lines (``*.jsonl.gz``): a nightly bulk export as it is usually shipped.

Decompressed as a stream, line by line (the file is never unpacked on disk or held in memory);
each line is read exactly like a line of a ``.jsonl`` file. A truncated or corrupt archive is
reported with the line it broke at, and the calls before it are kept.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

from csqa.loaders.jsonl import parse_line
from csqa.model import InputProblem, Transcript


def lines(path: Path) -> Iterator[tuple[int, bytes | InputProblem]]:
    """``(line number, raw line)`` pairs; a broken archive ends with ``(line, InputProblem)``."""
    lineno = 0
    try:
        with gzip.open(path, "rb") as fh:
            for lineno, raw in enumerate(fh, start=1):
                yield lineno, raw
    except (OSError, EOFError, zlib.error) as exc:
        where = lineno + 1
        yield where, InputProblem(str(path), where, f"cannot decompress (gzip): {exc}; "
                                                    f"lines after {lineno} were not read")


def load(path: Path) -> Iterator[Transcript | InputProblem]:
    name = str(path)
    for lineno, raw in lines(path):
        if isinstance(raw, InputProblem):
            yield raw
            continue
        item = parse_line(raw, name, lineno)
        if item is not None:
            yield item
