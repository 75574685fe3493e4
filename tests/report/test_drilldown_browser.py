"""The drill-down folder in headless Chromium: attention item → call page → back, a filter, a
sort, an agent page; nothing leaves the folder and every link opens a file of it. Screenshots of
1 week × 12 agents and 13 weeks × 200 agents are kept in the test's temporary folder
(``CSQA_SCREENSHOT_DIR=/some/dir`` copies them there)."""

from __future__ import annotations

import base64
import os
import re
import shutil
import time
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from support.cdp import Browser
from support.nights import synth_weeks

from csqa.weekly import Report, build_report
from csqa.weekly.folder import write_folder


@pytest.fixture(scope="module")
def site(w47: Report, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_folder(w47, w47.source, tmp_path_factory.mktemp("site") / "w47")


def _links(folder: Path) -> list[tuple[Path, str]]:
    out = []
    for page in folder.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        out += [(page, m) for m in re.findall(r'(?:href|src)="([^"]*)"', text)]
    return out


def test_every_link_opens_a_file_of_the_folder(site: Path) -> None:
    folder = site.parent
    links = _links(folder)
    assert len(links) > 20
    for page, href in links:
        assert "://" not in href and not href.startswith("//"), (page, href)
        if href.startswith("#"):  # a place on the page itself
            assert f'id="{href[1:]}"' in page.read_text(encoding="utf-8"), (page, href)
            continue
        target = (page.parent / href.split("#")[0]).resolve()
        assert target.is_file(), (page, href)
        assert folder.resolve() in target.parents, (page, href)
    assert sorted(p.name for p in (folder / "agents").iterdir()) == \
        ["A1.html", "A2.html", "B1.html", "X1.html"]


def test_a_call_page_is_the_explain_view_of_the_call(site: Path, runs: dict[str, Path]) -> None:
    """The call page shows what ``csqa explain`` shows of the call, built from the run folder
    alone (its conversation.jsonl), not from the transcript file."""
    from csqa.explain import explain_call
    from csqa.reporters.conversation import html_body

    source = runs["run2"].parent / "nightly-1122-in" / "w47-b1-1.json"
    expected = html_body(explain_call(source, ruleset=runs["run2"].parent /
                                      "nightly-1122-rules.yaml"))
    source.rename(source.with_suffix(".gone"))  # the page was written without it, and is kept
    try:
        page = (site.parent / "calls" / "w47-b1-1.html").read_text(encoding="utf-8")
    finally:
        source.with_suffix(".gone").rename(source)
    assert f'<div id="conversation">{expected}</div>' in page


def test_a_run_without_its_conversation_shows_the_recorded_findings(
        runs: dict[str, Path], tmp_path: Path) -> None:
    from support.runs import reseal

    old = tmp_path / "old-run"
    shutil.copytree(runs["run2"], old)
    (old / "conversation.jsonl").unlink()  # as a csqa before conversation.jsonl wrote it
    reseal(old)
    rep = build_report([old], week="2026-W47", keywords=0)
    page = (write_folder(rep, rep.source, tmp_path / "site").parent / "calls" /
            "w47-b1-1.html").read_text(encoding="utf-8")
    assert 'id="conversation"' not in page and "这次审计没有保存通话内容" in page
    assert re.findall(r'<tr id="f\d">.*?</tr>', page) == [
        '<tr id="f0"><td>00:09</td><td>坐席</td><td>责问客户</td><td class="ev">'
        "我怎么知道&lt;script&gt;alert(1)&lt;/script&gt;</td><td>责问客户:“我怎么知道”</td></tr>",
        '<tr id="f1"><td>00:14</td><td>坐席</td><td>辱骂客户</td><td class="ev">你有病吧</td>'
        "<td>辱骂客户:“你有病吧”</td></tr>"]


def test_the_folders_workbook_links_calls_and_agents_to_their_pages(site: Path) -> None:
    import openpyxl

    book = openpyxl.load_workbook(site.parent / "report.xlsx")

    def target(cell: Any) -> str:  # xlsxwriter writes relative links Windows-style
        return str(cell.hyperlink.target).replace("\\", "/")

    worst = book["最差通话"]
    assert worst["A2"].value == "w47-b1-1"
    assert target(worst["A2"]) == "calls/w47-b1-1.html"
    assert (site.parent / target(worst["A2"])).is_file()
    assert target(book["坐席"]["B2"]) == "agents/A1.html"
    attention = book["需要关注"]
    assert [c.value for c in attention[2]][:2] == ["坐席", "B1"]
    assert target(attention["B2"]) == "agents/B1.html"
    assert target(attention["F2"]) == "calls/w47-b1-1.html"


def _click(browser: Browser, selector: str) -> None:
    """Click a link after the evaluate has returned (a click that navigates at once can make
    the evaluate itself fail)."""
    browser.evaluate(f"setTimeout(() => document.querySelector('{selector}').click(), 0)")


def _wait_navigated(browser: Browser) -> str:
    """The new page's address once it has loaded (an evaluate sent while the old page is being
    replaced can fail: it is asked again)."""
    browser.wait_for("Page.frameNavigated")
    for _ in range(100):
        try:
            if browser.evaluate("document.readyState") == "complete":
                return str(browser.evaluate("location.href"))
        except RuntimeError:
            pass
        time.sleep(0.1)
    raise TimeoutError("the page did not load")


def test_attention_item_to_call_page_and_back(browser: Browser, site: Path) -> None:
    browser.open(site.as_uri())
    assert browser.errors() == []
    items = browser.evaluate("Array.from(document.querySelectorAll('#attention li'))"
                             ".map(li => li.textContent)")
    assert items == ["坐席 王五 (B1) · 二组:新出现一票否决 1 通(上期 0) · 打开通话 w47-b1-1",
                     "班组 二组:新出现一票否决 1 通(上期 0) · 打开通话 w47-b1-1"]
    browser.events.clear()
    _click(browser, "#attention li a[href^=\"calls/\"]")
    assert _wait_navigated(browser).endswith("/w47/calls/w47-b1-1.html")
    # the explain view of the call: its findings on the timeline, each mark opening its line
    assert browser.evaluate("Array.from(document.querySelectorAll('#timeline a'))"
                            ".map(a => a.getAttribute('href'))") == ["#u2", "#u3"]
    assert browser.evaluate("Array.from(document.querySelectorAll('#conversation .f'))"
                            ".map(f => f.textContent)") == [
        "▲ −15 责问客户 [blame] 责问客户:“我怎么知道”", "▲ −30 辱骂客户 [abuse] 辱骂客户:“你有病吧”"]
    # the transcript line with <script> is text here too
    assert browser.evaluate("document.querySelector('#u2 td.agent').textContent") == \
        "我怎么知道<script>alert(1)</script>▲ −15 责问客户 [blame] 责问客户:“我怎么知道”"
    assert browser.evaluate("document.querySelector('#u2 mark').textContent") == "我怎么知道"
    assert browser.evaluate("document.querySelector('#u1 td.customer').textContent") == \
        "宽带断网,<b>投诉</b>"
    browser.events.clear()
    browser.evaluate("setTimeout(() => history.back(), 0)")
    assert _wait_navigated(browser).endswith("/w47/index.html")
    assert browser.errors() == []


def test_a_filter_and_a_sort(browser: Browser, site: Path) -> None:
    browser.open(site.as_uri())
    shown = ("Array.from(document.querySelectorAll('#tbl-t_agents tbody tr'))"
             ".filter(r => r.style.display !== 'none').map(r => r.cells[1].textContent)")
    assert browser.evaluate(shown) == ["A1", "A2", "X1", "B1"]
    browser.evaluate("var s=document.getElementById('f-team'); s.value='一组';"
                     "s.dispatchEvent(new Event('change', {bubbles: true}))")
    assert browser.evaluate(shown) == ["A1", "A2"]
    calls = ("Array.from(document.querySelectorAll('.call')).filter(c => c.style.display !== "
             "'none').length")
    assert browser.evaluate(calls) == 3  # the worst calls of 一组's agents
    browser.evaluate("document.querySelectorAll('#tbl-t_agents th')[5].click()")  # 平均分 ▲
    assert browser.evaluate(shown) == ["A2", "A1"]
    browser.evaluate("var q=document.getElementById('f-q'); q.value='李四';"
                     "q.dispatchEvent(new Event('input', {bubbles: true}))")
    assert browser.evaluate(shown) == ["A2"]
    assert browser.errors() == []


def test_agent_row_opens_the_agent_page(browser: Browser, site: Path) -> None:
    browser.open(site.as_uri())
    browser.events.clear()
    _click(browser, "#tbl-t_agents a[href=\"agents/A2.html\"]")
    assert _wait_navigated(browser).endswith("/w47/agents/A2.html")
    frequent = browser.evaluate("Array.from(document.querySelectorAll('#frequent li'))"
                                ".map(li => li.textContent)")
    assert frequent == ["责问客户 ×2:w47-a2-1", "开场白 ×1:w47-a2-2"]
    team = browser.evaluate("Array.from(document.querySelectorAll('#compare tr'))[2]"
                            ".textContent")
    assert team == "平均分82.5—9083.57"  # agent, previous (none), team 一组, centre
    requests = [urlparse(u) for u in browser.requests()]
    assert {u.scheme for u in requests} == {"file"}
    assert all(Path(unquote(u.path)).is_relative_to(site.parent) for u in requests)


def _shoot(browser: Browser, index: Path, name: str) -> Path:
    """The whole page as ``name``, and its first screen as ``top-<name>`` (the README's)."""
    browser.open(index.as_uri(), width=1280, height=900)
    assert browser.errors() == []
    shot = browser.screenshot(index.parent.parent / name)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    top = index.parent.parent / f"top-{name}"
    top.write_bytes(base64.b64decode(browser.send("Page.captureScreenshot", {
        "format": "png", "clip": {"x": 0, "y": 0, "width": 1280, "height": 1000, "scale": 1}
    })["data"]))
    keep = os.environ.get("CSQA_SCREENSHOT_DIR")
    if keep:
        shutil.copy(shot, Path(keep) / name)
        shutil.copy(top, Path(keep) / top.name)
    return shot


def test_screenshots_one_week_of_12_agents_and_13_weeks_of_200(
        browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.mktemp("shots")
    week = synth_weeks(base / "week", 2, 84, 12, date(2026, 11, 9))
    rep = build_report(list(week), week="2026-W47", keywords=10)  # type: ignore[arg-type]
    assert len(rep.table("t_agents")) == 12 and len(rep.table("t_daily")) == 7
    shot = _shoot(browser, write_folder(rep, rep.source, base / "week-site"),
                  "report-1-week-12-agents.png")
    assert shot.stat().st_size > 50_000
    assert browser.evaluate("document.querySelectorAll('#chart-groups circle.dot').length") == 12

    quarter = synth_weeks(base / "quarter", 13, 300, 200, date(2026, 8, 31))
    rep = build_report(list(quarter), date_from="2026-08-31", date_to="2026-11-29",  # type: ignore[arg-type]
                       keywords=10)
    assert len(rep.table("t_daily")) == 13  # cut in weeks
    shot = _shoot(browser, write_folder(rep, rep.source, base / "quarter-site"),
                  "report-13-weeks-200-agents.png")
    assert shot.stat().st_size > 50_000
    # 200 agents: the bottom and the top 15 are drawn, with the 170 between counted
    assert browser.evaluate("document.querySelectorAll('#chart-groups circle.dot').length") == 30
    assert browser.evaluate("document.querySelector('#chart-groups text.gap').textContent") == \
        "⋯ 170 ⋯"
