"""Write ``src/csqa/data/pinyin.json``: every Han character's toneless pinyin syllable.

``tolerance: pinyin`` compares text syllable by syllable (homophones match). The syllable of a
character is what ``pypinyin.lazy_pinyin(ch, style=Style.NORMAL)`` gives for it alone; loading
pypinyin takes about half a second, so this table of its answers ships with csqa instead
(``{syllable: characters}``, about 40,000 characters, read in milliseconds).
``tests/test_tolerant.py`` fails when the file is not what this script writes.

Usage: ``python tools/make_pinyin_table.py [--check]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson

OUT = Path(__file__).resolve().parent.parent / "src" / "csqa" / "data" / "pinyin.json"


def table() -> bytes:
    from pypinyin import Style, lazy_pinyin
    from pypinyin.pinyin_dict import pinyin_dict

    by_syllable: dict[str, list[str]] = {}
    for code in sorted(pinyin_dict):
        ch = chr(code)
        syllables = lazy_pinyin(ch, style=Style.NORMAL)
        if len(syllables) == 1 and syllables[0] != ch:
            by_syllable.setdefault(syllables[0], []).append(ch)
    data = {s: "".join(chars) for s, chars in sorted(by_syllable.items())}
    return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"


def main() -> None:
    data = table()
    if "--check" in sys.argv:
        sys.exit(0 if OUT.read_bytes() == data else f"{OUT} is stale: run {__file__}")
    OUT.write_bytes(data)
    print(f"wrote {OUT} ({len(data):,} bytes)")


if __name__ == "__main__":
    main()
