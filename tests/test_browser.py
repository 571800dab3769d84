"""The HTML report in a real browser (headless Chromium, when installed): no horizontal page
scroll at a phone's and a desktop's width, screenshots taken, the model picker works."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser_check import Browser, check_reports, find_chromium, main
from test_console_widths import wide_run  # noqa: F401 (a fixture)

from harness.results import RunResult
from harness_plugins.reporters.html import HtmlReporter

pytestmark = pytest.mark.skipif(
    find_chromium() is None, reason="Chromium is not installed (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def report(wide_run: RunResult, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(HtmlReporter().render([wide_run]), encoding="utf-8")
    return path


def test_no_horizontal_scroll_at_375_and_1400_px(report: Path, tmp_path: Path) -> None:
    checks = check_reports([report], [375, 1400], screenshots=tmp_path)
    for check in checks:
        assert check.fits, (check.width, check.scroll_width, check.wide)
        assert check.inner_width == check.width
        assert check.screenshot is not None
        assert check.screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_page_that_overflows_is_caught(tmp_path: Path) -> None:
    wide = tmp_path / "wide.html"
    wide.write_text(
        '<!DOCTYPE html><meta name="viewport" content="width=device-width">'
        '<div id="too-wide" style="width:900px">x</div>',
        encoding="utf-8",
    )
    (check,) = check_reports([wide], [375])
    assert not check.fits and any("div#too-wide" in item for item in check.wide)
    assert main([str(wide), "--widths", "375"]) == 1


def test_unticking_a_model_hides_its_lanes(report: Path) -> None:
    executable = find_chromium()
    assert executable is not None
    browser = Browser(executable)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        browser.send("Page.enable", session=session)
        browser.send("Page.navigate", {"url": report.resolve().as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired")
        script = """JSON.stringify((() => {
          const visible = () => Array.from(document.querySelectorAll('.lane'))
            .filter(l => l.offsetParent !== null).length;
          const before = visible();
          const box = document.querySelector('.pick input');
          box.click();
          const after = visible();
          document.querySelector('.pick button[data-pick="none"]').click();
          const none = visible();
          document.querySelector('.pick button[data-pick="all"]').click();
          return {before, after, none, all: visible()};
        })())"""
        counts = json.loads(
            browser.send(
                "Runtime.evaluate", {"expression": script, "returnByValue": True}, session=session
            )["result"]["value"]
        )
    finally:
        browser.close()
    lanes_per_model = counts["before"] // 8
    assert counts["after"] == counts["before"] - lanes_per_model
    assert counts["none"] == 0 and counts["all"] == counts["before"]
