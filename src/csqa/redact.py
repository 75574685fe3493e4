"""Finding and masking customers' personal numbers: mobile, ID card, bank card, e-mail.

Reports are forwarded widely, so by default every output masks them (``--no-redact`` keeps
them). What counts, checked so that ordinary numbers (order numbers, amounts, hotlines) are
not masked by mistake:

- **mainland mobile numbers**: 11 digits ``1[3-9]…``, optionally after ``+86``/``86``;
- **ID card numbers**: 18 characters, 17 digits and a check character (digit or X) that
  satisfies the GB 11643 checksum, with a plausible birth date;
- **bank card numbers**: 13 to 19 digits passing the Luhn check and starting as payment cards
  do (3, 4, 5, 6, 9, or 22–27), which dates and order numbers (``20261121091502``) do not;
- **e-mail addresses**.

Digits may be ASCII, full-width (``１３８``) or spoken Chinese digits as ASR writes them
(``幺三八…``), and may be grouped by single spaces or hyphens (``138 1234 5678``). Masking
keeps the first 3 and last 4 digits of phone and ID numbers (``138****5678``), the first and
last 4 of a card, and the first character of an e-mail's name (``z***@example.com``);
separators are kept, so the masked text still reads as what it was. Any other character
(``,`` ``/`` ``;`` ``|`` ``x``, letters, Chinese) ends a number, so numbers joined by one
are each found; dates and times (``2026-11-21 09:15:02``) are never long enough runs.
"""

from __future__ import annotations

import dataclasses
import operator
import re
from dataclasses import dataclass

from csqa.model import CallResult, Finding, InputProblem, Transcript, Utterance

MOBILE = "mobile"
ID_CARD = "id_card"
BANK_CARD = "bank_card"
EMAIL = "email"
KINDS = (MOBILE, ID_CARD, BANK_CARD, EMAIL)

_DIGIT_CHARS = "0123456789０１２３４５６７８９零〇一二三四五六七八九幺"
_DIGIT_VALUE = {ch: str(i % 10) for i, ch in enumerate("0123456789０１２３４５６７８９")}
_DIGIT_VALUE.update({"零": "0", "〇": "0", "一": "1", "幺": "1", "二": "2", "三": "3", "四": "4",
                     "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"})
_SPOKEN = frozenset("零〇一二三四五六七八九幺")
_SEPARATORS = " -‐－\u3000"
_D = f"[{_DIGIT_CHARS}]"
# escaped: unescaped, " -‐" inside [...] is the range U+0020–U+2010 (all ASCII punctuation and
# letters), and a "run" spanned 13812345678,13912345678 and matched no number at all
_S = f"[{re.escape(_SEPARATORS)}]"
# A candidate: at least 11 digits, single separators allowed between them, an optional
# trailing X (ID check character). Found by one C-speed regex search per text.
_RUN = re.compile(f"(?:[+＋])?{_D}(?:{_S}?{_D}){{10,}}[XxＸｘ]?")
# Whether a text holds a candidate at all: the same run without its optional ends, which never
# decide whether there is one. Starting with a character class, it is searched four times
# faster than _RUN (re skips ahead to a digit instead of trying the optional + at every place).
_HAS_RUN = re.compile(f"{_D}(?:{_S}?{_D}){{10,}}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
                    re.ASCII)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_MOBILE_RE = re.compile(r"1[3-9]\d{9}")
# What a payment card number starts with (its major industry identifier): American Express,
# JCB, Visa, Mastercard (also 2221–2720), UnionPay (62), Discover, and the 9… cards of Chinese
# banks. Order numbers, dates and times (20261121091502) start otherwise.
_CARD_START = re.compile(r"[3-69]|2[2-7]")
_CHECK_X = frozenset("XxＸｘ")


@dataclass(frozen=True, slots=True)
class PiiMatch:
    """A personal number found in a text: its kind, where it is, and its normalised value."""

    kind: str
    start: int
    end: int
    value: str
    positions: tuple[int, ...] = ()  # indices in the text of its digits (not separators)


def id_checksum_ok(number: str) -> bool:
    """Whether an 18-character ID number's check character and birth date are valid."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != number[17].upper():
        return False
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    return 1900 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31


def luhn_ok(number: str) -> bool:
    """Whether a digit string passes the Luhn check (bank card numbers do)."""
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _classify(value: str) -> str | None:
    n = len(value)
    if n == 18 and id_checksum_ok(value):
        return ID_CARD
    if n == 11 and _MOBILE_RE.fullmatch(value):
        return MOBILE
    if n == 13 and value.startswith("86") and _MOBILE_RE.fullmatch(value[2:]):
        return MOBILE
    if 13 <= n <= 19 and _CARD_START.match(value) and luhn_ok(value):
        return BANK_CARD
    return None


def _segments(text: str, start: int, end: int) -> list[list[int]]:
    """Digit positions of a candidate run, grouped by the separators between them."""
    groups: list[list[int]] = [[]]
    script = None
    for i in range(start, end):
        ch = text[i]
        if ch in _DIGIT_VALUE or ch in _CHECK_X:
            # 第一13812345678: spoken digits next to written ones are not one number
            this = ch in _SPOKEN
            if script is not None and this != script and groups[-1]:
                groups.append([])
            script = this
            groups[-1].append(i)
        elif ch in _SEPARATORS and groups[-1]:
            groups.append([])
    return [g for g in groups if g]


def _value(text: str, positions: list[int]) -> str:
    return "".join(_DIGIT_VALUE.get(text[i], "X") for i in positions)


def _number(text: str, positions: list[int]) -> PiiMatch | None:
    """The personal number made of the digits at ``positions``, if they make one. A trailing
    X is an ID number's check character, or else not part of the number (13812345678x…)."""
    value = _value(text, positions)
    if value.endswith("X") and not (len(value) == 18 and id_checksum_ok(value)):
        positions, value = positions[:-1], value[:-1]
    kind = _classify(value) if 11 <= len(value) <= 19 else None
    if kind is None:
        return None
    return PiiMatch(kind, positions[0], positions[-1] + 1, value, tuple(positions))


def _numbers_in_run(text: str, start: int, end: int) -> list[PiiMatch]:
    """Numbers in a run of digit groups: the longest valid number from each group, left to right.

    ``138 1234 5678 6222…`` is one run of groups; trying joins of whole groups finds each
    number even when the speaker ran two together.
    """
    groups = _segments(text, start, end)
    found: list[PiiMatch] = []
    i = 0
    while i < len(groups):
        for j in range(len(groups) - 1, i - 1, -1):
            positions = [p for g in groups[i : j + 1] for p in g]
            if len(positions) > 20:  # 19 digits and a trailing X at most
                continue
            hit = _number(text, positions)
            if hit is not None:
                found.append(hit)
                i = j + 1
                break
        else:
            i += 1
    return found


def find_pii(text: str) -> list[PiiMatch]:
    """Every personal number and e-mail address in ``text``, in order."""
    found: list[PiiMatch] = []
    for m in _RUN.finditer(text):
        found.extend(_numbers_in_run(text, m.start(), m.end()))
    if "@" in text:
        for m in _EMAIL.finditer(text):
            found.append(PiiMatch(EMAIL, m.start(), m.end(), m.group(0)))
    found.sort(key=lambda p: p.start)
    return found


def _mask(text: str, chars: list[str], p: PiiMatch) -> None:
    if p.kind == EMAIL:
        at = text.index("@", p.start, p.end)
        for i in range(p.start + 1 if at - p.start > 1 else p.start, at):
            chars[i] = "*"
        return
    keep_head, keep_tail = (4, 4) if p.kind == BANK_CARD else (3, 4)
    if p.kind == MOBILE:
        keep_head += len(p.value) - 11  # +86 138****5678
    for i in p.positions[keep_head : len(p.positions) - keep_tail]:
        chars[i] = "*"


def redact(text: str) -> str:
    """``text`` with every personal number and e-mail address masked (see module docs)."""
    if len(text) < 6:  # shorter than any e-mail address or number
        return text
    if "@" not in text and _HAS_RUN.search(text) is None:  # the common case, one C-level search
        return text
    found = find_pii(text)
    # Masking can reveal a number or address that overlapped one just masked (a@b.cna@b.cn):
    # mask again until nothing is found (each round masks at least one more character).
    while found:
        chars = list(text)
        for p in found:
            _mask(text, chars, p)
        masked = "".join(chars)
        if masked == text:
            break
        text = masked
        found = find_pii(text)
    return text


class _Memo(dict[str, str]):
    """``redact`` with each distinct text of a call done once (evidence repeats utterances)."""

    def __missing__(self, text: str) -> str:
        value = self[text] = redact(text)
        return value


def redact_finding(f: Finding, memo: _Memo | None = None) -> Finding:
    """A finding with its matched text, evidence and message masked."""
    m = memo if memo is not None else _Memo()
    matched, evidence, message = m[f.matched], m[f.evidence], m[f.message]
    if (matched, evidence, message) == (f.matched, f.evidence, f.message):
        return f
    return dataclasses.replace(f, matched=matched, evidence=evidence, message=message)


def redact_transcript(t: Transcript, memo: _Memo | None = None) -> Transcript:
    """The call with its utterance text, agent name and team masked (free text: a number can
    be typed anywhere); the same object when nothing needed masking. Ids are keys, not masked."""
    m = memo if memo is not None else _Memo()
    utts = t.utterances
    changed: list[Utterance] | None = None
    for i in _holding_pii([u.text for u in utts]):
        u = utts[i]
        text = m[u.text]
        if text != u.text:
            if changed is None:
                changed = list(utts)
            changed[i] = dataclasses.replace(u, text=text)
    name = t.agent_name and m[t.agent_name]
    team = t.team and m[t.team]
    if changed is None and name == t.agent_name and team == t.team:
        return t
    return dataclasses.replace(t, utterances=utts if changed is None else changed,
                               agent_name=name, team=team)


_JOIN = "\ue000"  # neither a digit nor a separator nor part of an address: no run spans two texts


def may_hold_pii(texts: list[str]) -> bool:
    """Whether any of ``texts`` can hold a number or an address: one search over them all,
    joined by a character that is neither a digit nor a separator (so no run spans two)."""
    joined = _JOIN.join(texts)
    return "@" in joined or _HAS_RUN.search(joined) is not None


def _holding_pii(texts: list[str]) -> list[int]:
    """Indexes of the ``texts`` that can hold a number or an address (the others are left as
    they are by :func:`redact`): one search over them all, as :func:`may_hold_pii`."""
    joined = _JOIN.join(texts)
    if "@" in joined:
        return [i for i, text in enumerate(texts) if "@" in text or _HAS_RUN.search(text)]
    holding: list[int] = []
    i, end = 0, len(texts[0]) if texts else 0  # the text i, and where it ends in joined
    for run in _HAS_RUN.finditer(joined):
        at = run.start()
        while at > end:
            i += 1
            end += len(texts[i]) + 1
        if not holding or holding[-1] != i:
            holding.append(i)
    return holding


def redact_result(r: CallResult) -> CallResult:
    """A call's result as every output shows it: findings and transcript text masked (the same
    object when nothing needed masking)."""
    t = r.transcript
    texts = [u.text for u in t.utterances]
    texts += (t.agent_name or "", t.team or "")
    for f in r.findings:
        texts += (f.matched, f.evidence, f.message)
    if not may_hold_pii(texts + list(r.rule_errors.values())):
        return r  # the common case: nothing to mask anywhere in the call
    memo = _Memo()
    transcript = redact_transcript(r.transcript, memo)
    findings = [redact_finding(f, memo) for f in r.findings]
    errors = {k: memo[v] for k, v in r.rule_errors.items()}
    if (transcript is r.transcript and errors == r.rule_errors
            and all(map(operator.is_, findings, r.findings))):
        return r  # candidates only (an order number is no personal number): nothing masked
    return dataclasses.replace(r, findings=findings, transcript=transcript, rule_errors=errors)


def redact_problem(p: InputProblem) -> InputProblem:
    """An input problem with its reason masked (reasons quote bits of the input)."""
    reason = redact(p.reason)
    return p if reason == p.reason else dataclasses.replace(p, reason=reason)
