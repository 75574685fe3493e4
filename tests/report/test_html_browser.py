"""The HTML report opened in headless Chromium (Debian's ``chromium``).

Chromium is installed by tests/support/ensure_chromium.sh when it is missing and we can (root
with apt-get); otherwise these tests skip and say why. The browser is driven over
``--remote-debugging-pipe`` (tests/support/cdp.py): no websocket, no network.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.cdp import Browser

from csqa.weekly import Report, write_report


@pytest.fixture(scope="module")
def opened(browser: Browser, w47: Report, tmp_path_factory: pytest.TempPathFactory) -> Path:
    page = write_report(w47, tmp_path_factory.mktemp("html") / "w47.html")
    browser.open(page.as_uri())
    return page


def test_renders_without_console_errors_or_network(browser: Browser, opened: Path) -> None:
    assert browser.errors() == []
    assert browser.requests() == [opened.as_uri()]  # the page itself, nothing else
    assert browser.evaluate("document.title") == "客服质检周报 2026-W47"


def test_charts_are_drawn(browser: Browser, opened: Path) -> None:
    assert browser.evaluate("document.querySelectorAll('#chart-daily circle').length") == 6
    assert browser.evaluate("document.querySelectorAll('#chart-groups circle.dot').length") == 4
    width = browser.evaluate("document.querySelector('#chart-daily path.line').getBBox().width")
    assert width > 100
    # a dot plot on an axis from 50 (not 0): 95, 82.5, 80 and 55 far apart, the best right
    xs = browser.evaluate("Array.from(document.querySelectorAll('#chart-groups circle.dot'))"
                          ".map(c => Math.round(c.cx.baseVal.value))")
    assert xs == [541, 444, 424, 229]  # 190 + (score − 50) × 7.8 px


def test_script_in_a_transcript_line_is_shown_as_text(browser: Browser, opened: Path) -> None:
    assert browser.evaluate("document.scripts.length") == 1
    shown = browser.evaluate("Array.from(document.querySelectorAll('.call td.ev'))"
                             ".map(td => td.textContent)")
    assert "我怎么知道<script>alert(1)</script>" in shown
    assert browser.evaluate("document.querySelectorAll('td.ev script, td script').length") == 0


def test_tables_sort_when_a_header_is_clicked(browser: Browser, opened: Path) -> None:
    first = ("Array.from(document.querySelectorAll('#tbl-t_agents tbody tr'))"
             ".map(r => r.cells[1].textContent)")
    assert browser.evaluate(first) == ["A1", "A2", "X1", "B1"]
    click = "document.querySelectorAll('#tbl-t_agents th')[5].click()"  # 平均分
    browser.evaluate(click)
    assert browser.evaluate(first) == ["B1", "X1", "A2", "A1"]
    browser.evaluate(click)
    assert browser.evaluate(first) == ["A1", "A2", "X1", "B1"]
    browser.evaluate("document.querySelectorAll('#tbl-t_agents th')[2].click()")  # 姓名: text
    assert browser.evaluate(first)[0] == "X1"  # '=' sorts before Chinese names
    assert browser.errors() == []


def test_screenshot(browser: Browser, opened: Path) -> None:
    shot = browser.screenshot(opened.with_suffix(".png"))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    keep = os.environ.get("CSQA_SCREENSHOT")  # e.g. CSQA_SCREENSHOT=/tmp/report.png to look
    if keep:
        Path(keep).write_bytes(data)
