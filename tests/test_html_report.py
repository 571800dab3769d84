"""The HTML report's structure: a responsive change chart (viewBox, no fixed width) with
intervals, significance marks and a model picker, a colour-blind-safe palette without the red of
"broken", spec names that wrap instead of being cut, a leaderboard whose constant columns move
to a caption and whose first column stays in view."""

from __future__ import annotations

import colorsys
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from test_console_widths import LONG_SPECS, MODELS, wide_run  # noqa: F401 (wide_run: a fixture)
from test_reports import build_run

from harness.analysis import analyse
from harness.analysis.stats import paired_difference_interval
from harness.report_views import spec_changes
from harness.results import RunResult
from harness_plugins.reporters.html import HtmlReporter, breakable
from harness_plugins.reporters.html_chart import PALETTE, nice_limit


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, Any]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Tags:
    """The page's tags and text."""
    tags = Tags()
    tags.feed(page)
    return tags


@pytest.fixture(scope="module")
def page(wide_run: RunResult) -> str:  # noqa: F811 (the fixture)
    return HtmlReporter().render([wide_run])


def test_the_chart_is_responsive_svg(page: str) -> None:
    tags = parse(page)
    svgs = [a for t, a in tags.tags if t == "svg"]
    assert svgs, "the chart draws its lanes in SVG"
    for attrs in svgs:
        assert re.fullmatch(r"0 0 \d+ \d+", attrs.get("viewbox") or ""), attrs
        assert "width" not in attrs and "height" not in attrs, "sized by CSS, not fixed"
    css = page.split("<style>", 1)[1].split("</style>", 1)[0]
    assert ".lane svg{display:block;width:100%" in css
    assert "@media (max-width:640px)" in css  # names above the lanes on a phone
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    # strokes keep their width when CSS stretches a lane
    lines = [a for t, a in tags.tags if t == "line"]
    assert lines and all(a.get("vector-effect") == "non-scaling-stroke" for a in lines)


def test_the_chart_shows_each_change_with_its_interval_and_significance(
    wide_run: RunResult,  # noqa: F811 (the fixture)
    page: str,
) -> None:
    tags = parse(page)
    lanes = [a for t, a in tags.tags if t == "div" and a.get("class") == "lane"]
    changes = spec_changes(wide_run)
    assert len(lanes) == len(changes) == (len(MODELS) - 1) * len(LONG_SPECS)
    values = [
        a.get("class") for t, a in tags.tags if t == "span" and "val" in (a.get("class") or "")
    ]
    significant = [c for c in changes if c.status in ("fixed", "broken")]
    assert significant, "the fixture has significant changes"
    assert values.count("val fixed") == sum(c.status == "fixed" for c in changes)
    assert values.count("val broken") == sum(c.status == "broken" for c in changes)
    text = "".join(tags.text)
    assert text.count("▼") >= sum(c.status == "fixed" for c in changes)
    assert text.count("▲") >= sum(c.status == "broken" for c in changes)
    # a significant change is a solid dot, the others hollow
    hollow = [a for t, a in tags.tags if t == "line" and a.get("class") == "hollow"]
    assert len(hollow) == len(changes) - len(significant)
    # every interval holds its change, and the axis holds every interval
    for change in changes:
        assert change.low is not None and change.high is not None
        assert change.low - 1e-9 <= change.delta <= change.high + 1e-9
    limit = nice_limit(100 * max(max(abs(c.low), abs(c.high)) for c in changes))  # type: ignore[arg-type]
    assert f"+{limit:g}" in text and f"−{limit:g}" in text
    assert "Newcombe's 95% interval for a paired difference" in text


def test_the_reader_picks_the_models(wide_run: RunResult, page: str) -> None:  # noqa: F811
    tags = parse(page)
    boxes = [a for t, a in tags.tags if t == "input" and a.get("type") == "checkbox"]
    interventions = [m for m in MODELS if m != "M0"]
    assert len(boxes) == len(interventions)
    lanes = {a["data-model"] for t, a in tags.tags if t == "div" and a.get("class") == "lane"}
    assert {b["data-model"] for b in boxes} == lanes
    text = "".join(tags.text)
    for model in interventions:
        assert model in text
    script = page.split("<script>", 1)[1]
    assert "lane.hidden = !box.checked" in script
    assert ".lane[hidden]{display:none}" in page


def test_the_palette_is_colour_blind_safe_and_never_the_red_of_broken(page: str) -> None:
    def hue_saturation(colour: str) -> tuple[float, float]:
        r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        h, _, s = colorsys.rgb_to_hls(r, g, b)
        return 360 * h, s

    okabe_ito = {"#0072B2", "#E69F00", "#009E73", "#56B4E9", "#000000"}
    assert okabe_ito <= set(PALETTE)
    assert not {"#D55E00", "#CC79A7"} & set(PALETTE)  # vermillion, reddish purple: near red
    for colour in PALETTE:
        hue, saturation = hue_saturation(colour)
        assert saturation < 0.3 or 20 <= hue <= 320, colour  # no red
    chart = page.split('<figure class="changes"', 1)[1].split("</figure>", 1)[0]
    used = set(re.findall(r'(?:stroke="|background:|color:)(#[0-9A-Fa-f]{6})', chart))
    assert used - {"#e1e4e8", "#57606a"} == set(PALETTE[: len(MODELS) - 1]), used


def test_long_spec_names_wrap_instead_of_being_cut(page: str) -> None:
    text = "".join(parse(page).text)
    for spec_id, *_ in LONG_SPECS:
        assert spec_id in text  # whole, with line-break opportunities at its separators
    longest = LONG_SPECS[1][0]
    assert str(breakable(longest)).count("<wbr>") == longest.count("-")
    assert f"<code>{breakable(longest)}</code>" in page
    assert "…" not in text.replace("[…]", "")


def test_the_leaderboard_moves_constant_columns_to_a_caption_and_keeps_names_in_view(
    page: str,
) -> None:
    board = page.split('id="leaderboard-table"', 1)[1].split("</table>", 1)[0]
    heads = re.findall(r"<th(?:\s[^>]*)?>([^<]*)", board.split("</thead>")[0])
    assert heads[0] == "row" and "task" not in heads and "run" not in heads
    caption = page.split('id="leaderboard"', 1)[1].split("<table", 1)[0]
    assert "task: <b>demo</b>" in caption and "run: <b>demo-bow-synthetic</b>" in caption
    assert 'class="sortable sticky"' in page.split('id="leaderboard-table"')[0][-60:]
    css = page.split("<style>", 1)[1].split("</style>", 1)[0]
    assert ".sticky th:first-child,.sticky td:first-child{position:sticky;left:0" in css
    assert ".scroll{overflow-x:auto" in css
    # two runs with different models: the model column comes back
    other, samples, _ = build_run(seeds=(0,), model="sklearn")
    first, samples1, _ = build_run()
    two = HtmlReporter().render([analyse(first, samples1), analyse(other, samples)])
    board = two.split('id="leaderboard-table"', 1)[1].split("</thead>", 1)[0]
    assert re.findall(r"<th(?:\s[^>]*)?>([^<]*)", board)[:4] == ["row", "model", "run", "seeds"]


def test_paired_difference_interval_matches_newcombe() -> None:
    # Altman et al. (2000), Statistics with Confidence, table 6.2: 14 both, 5 first only, 0
    # second only, 22 neither: difference 5/41, Newcombe's interval 0.0115 to 0.2265
    low, high = paired_difference_interval(14, 5, 0, 41)
    assert (round(low, 4), round(high, 4)) == (0.0115, 0.2265)
    # symmetric, bounded, and degenerate cases
    low, high = paired_difference_interval(3, 4, 4, 30)
    assert low == pytest.approx(-high)
    # all 30 cases fail under A only: 1 - sqrt((1 - 0.8865)² + 0.1135²), Wilson bounds of 30/30
    assert paired_difference_interval(0, 30, 0, 30) == (pytest.approx(0.8395, abs=1e-4), 1.0)
    assert paired_difference_interval(0, 0, 0, 0) == (-1.0, 1.0)
