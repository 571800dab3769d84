"""Open HTML reports in headless Chromium and check that the page never scrolls sideways.

    python tests/browser_check.py REPORT.html [REPORT.html ...] [--widths 375,800,1400]
        [--screenshots DIR [--clip SELECTOR ...]]

For every report and width it loads the page in a viewport that wide (a phone's for widths
under 600 px), runs the page's scripts, and checks by script that
``document.documentElement.scrollWidth <= innerWidth``: wide tables must scroll inside their
frame, and the chart must reflow. ``--screenshots DIR`` also writes a full-page PNG per report
and width. Exit status 0 when every page fits, 1 when one overflows (the widest elements are
named), 2 when Chromium cannot be run.

Chromium (Debian's ``chromium`` package, or ``HARNESS_CHROMIUM=/path/to/chrome``) is driven
through the DevTools protocol over a pipe (``--remote-debugging-pipe``), so nothing but the
standard library is needed. ``tests/test_browser.py`` runs this when Chromium is installed, and
``.ci/run`` runs it on a freshly generated report.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-pipe",
]
"""What headless Chromium needs on a machine without a display or network (and as root)."""

MEASURE = """JSON.stringify(((width) => {
  const root = document.documentElement;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 0.5 && box.width > 0) {
      let inside = false;
      for (let p = el.parentElement; p; p = p.parentElement) {
        const style = getComputedStyle(p);
        if (style.overflowX === 'auto' || style.overflowX === 'scroll') { inside = true; break; }
      }
      if (!inside) wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '') +
        ' right=' + Math.round(box.right));
    }
  }
  return {scrollWidth: root.scrollWidth, innerWidth: innerWidth,
          height: root.scrollHeight, wide: wide.slice(0, 5)};
})(%d))"""
"""The page's width against the viewport's, and the first elements reaching past the device
width that no scrolling frame holds."""


def find_chromium() -> str | None:
    """The Chromium to run: ``HARNESS_CHROMIUM``, else ``chromium`` (or a Chrome) on PATH."""
    explicit = os.environ.get("HARNESS_CHROMIUM")
    if explicit:
        return explicit
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """Headless Chromium over the DevTools protocol (JSON messages ending in NUL, written to
    the browser's fd 3 and read from its fd 4)."""

    def __init__(self, executable: str) -> None:
        self.profile = tempfile.mkdtemp(prefix="harness-chromium-")
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()
        command = [executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"]

        def child_fds() -> None:  # fds 3 and 4 are the protocol; move both out of the way first
            reading = fcntl.fcntl(to_browser, fcntl.F_DUPFD, 10)
            writing = fcntl.fcntl(from_browser, fcntl.F_DUPFD, 10)
            os.dup2(reading, 3)
            os.dup2(writing, 4)

        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4, to_browser, from_browser),
            preexec_fn=child_fds,  # noqa: PLW1509 (fds 3 and 4 are the protocol)
        )
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> Any:
        """Call ``method`` and return its result (raises on a protocol error)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, event: str, timeout: float = 30.0) -> None:
        """Block until the browser sends ``event`` (or an earlier one it sent is found)."""
        deadline = time.monotonic() + timeout
        while True:
            for index, item in enumerate(self.events):
                if item.get("method") == event:
                    del self.events[: index + 1]
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(event)
            self.events.append(self._receive())

    def _receive(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        return dict(json.loads(raw))

    def close(self) -> None:
        """Close the browser and remove its profile."""
        with contextlib.suppress(OSError, RuntimeError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        for fd in (self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)


@dataclass
class PageCheck:
    """What one report showed at one width."""

    report: Path
    width: int
    scroll_width: int
    inner_width: int
    height: int
    wide: list[str]
    screenshot: Path | None = None

    @property
    def fits(self) -> bool:
        """Whether the page does not scroll sideways: no wider than the window (a phone zooms
        out to show a page wider than itself, so the device width counts too)."""
        return self.scroll_width <= min(self.inner_width, self.width)


CLIP = """JSON.stringify(Array.from(document.querySelectorAll(%s)).slice(0, 3).map(el => {
  const box = el.getBoundingClientRect();
  return {x: 0, y: box.top + scrollY - 40, width: innerWidth, height: box.height + 56};
}))"""
"""Page areas of the first elements a selector matches (with the heading above them)."""


def check_page(
    browser: Browser,
    report: Path,
    width: int,
    screenshots: Path | None = None,
    clips: list[str] | None = None,
) -> PageCheck:
    """Load ``report`` at ``width`` px and measure it (and screenshot the whole page, and the
    areas of the elements the CSS selectors ``clips`` match)."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    try:
        browser.send("Page.enable", session=session)
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
            session=session,
        )
        browser.send("Page.navigate", {"url": report.resolve().as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired")
        measured = json.loads(
            browser.send(
                "Runtime.evaluate",
                {"expression": MEASURE % width, "returnByValue": True},
                session=session,
            )["result"]["value"]
        )
        check = PageCheck(
            report=report,
            width=width,
            scroll_width=int(measured["scrollWidth"]),
            inner_width=int(measured["innerWidth"]),
            height=int(measured["height"]),
            wide=list(measured["wide"]),
        )
        if screenshots is not None:
            screenshots.mkdir(parents=True, exist_ok=True)
            shot = browser.send(
                "Page.captureScreenshot",
                {
                    "format": "png",
                    "captureBeyondViewport": True,
                    "clip": {"x": 0, "y": 0, "width": width, "height": check.height, "scale": 1},
                },
                session=session,
            )
            check.screenshot = screenshots / f"{report.stem}-{width}.png"
            check.screenshot.write_bytes(base64.b64decode(shot["data"]))
            for number, selector in enumerate(clips or [], start=1):
                areas = json.loads(
                    browser.send(
                        "Runtime.evaluate",
                        {"expression": CLIP % json.dumps(selector), "returnByValue": True},
                        session=session,
                    )["result"]["value"]
                )
                for part, area in enumerate(areas, start=1):
                    area = {**area, "y": max(0, area["y"]), "scale": 1}
                    shot = browser.send(
                        "Page.captureScreenshot",
                        {"format": "png", "captureBeyondViewport": True, "clip": area},
                        session=session,
                    )
                    name = f"{report.stem}-{width}-clip{number}-{part}.png"
                    (screenshots / name).write_bytes(base64.b64decode(shot["data"]))
        return check
    finally:
        browser.send("Target.closeTarget", {"targetId": target})


def check_reports(
    reports: list[Path],
    widths: list[int],
    screenshots: Path | None = None,
    clips: list[str] | None = None,
) -> list[PageCheck]:
    """Every report at every width, in one browser."""
    executable = find_chromium()
    if executable is None:
        raise FileNotFoundError("no chromium on PATH (apt-get install chromium)")
    browser = Browser(executable)
    try:
        return [check_page(browser, r, w, screenshots, clips) for r in reports for w in widths]
    finally:
        browser.close()


def main(argv: list[str] | None = None) -> int:
    """Command line: check the reports, print one line per page, exit 1 on overflow."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path)
    parser.add_argument("--widths", default="375,800,1400")
    parser.add_argument("--screenshots", type=Path, help="write full-page PNGs here")
    parser.add_argument(
        "--clip",
        action="append",
        default=[],
        help="also write PNGs of the elements this CSS selector matches (repeatable)",
    )
    args = parser.parse_args(argv)
    widths = [int(w) for w in args.widths.split(",") if w.strip()]
    try:
        checks = check_reports(args.reports, widths, args.screenshots, args.clip)
    except (FileNotFoundError, RuntimeError, TimeoutError) as exc:
        print(f"browser check: cannot run Chromium: {exc}", file=sys.stderr)
        return 2
    failed = False
    for check in checks:
        verdict = "ok" if check.fits else "OVERFLOWS"
        line = (
            f"{check.report.name} at {check.width}px: page {check.scroll_width}px wide in a "
            f"{check.inner_width}px viewport, {check.height}px tall: {verdict}"
        )
        if not check.fits:
            line += "; past the edge: " + ", ".join(check.wide)
        if check.screenshot is not None:
            line += f" ({check.screenshot})"
        print(line)
        failed = failed or not check.fits
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
