"""The HTML tracing report as a browser renders it: headless Chromium, text, graph, screenshot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import chromium
from clihelp import FAST_ENV, PASSPHRASE
from PIL import Image
from selenium import webdriver
from selenium.webdriver.common.by import By

from labourledger.demo import DemoResult, run_demo

pytestmark = pytest.mark.integration

WIDTH, HEIGHT = 1280, 2000
# The PASS banner's fill in report.py; finding it proves the banner was painted, not just parsed.
PASS_GREEN = (0x1E, 0x7B, 0x34)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoResult]:
    # Module scope so both tests share one demo run and one browser.
    with pytest.MonkeyPatch.context() as mp:
        for name, value in FAST_ENV.items():
            mp.setenv(name, value)
        yield run_demo(tmp_path_factory.mktemp("browser") / "demo", admin_passphrase=PASSPHRASE)


@pytest.fixture(scope="module")
def browser(demo: DemoResult) -> Iterator[webdriver.Chrome]:
    with chromium(WIDTH, HEIGHT) as driver:
        driver.get(demo.report.resolve().as_uri())
        yield driver


def test_page_shows_the_verdict_and_every_stage(
    demo: DemoResult, browser: webdriver.Chrome
) -> None:
    assert browser.title.startswith("Tracing report: lot TEE-26-0519")
    # body.text is what is rendered and visible, unlike the HTML source test_verify reads.
    text = browser.find_element(By.TAG_NAME, "body").text
    assert demo.after["verdict"] == "PASS"
    assert "Verdict: PASS" in text
    stages = demo.after["stages"]
    assert [s["tier"] for s in stages] == [4, 3, 2, 1]
    for stage in stages:
        facility = stage["facility"]
        assert f"Tier {stage['tier']}: {facility['name']} ({facility['country']})" in text

    graph = browser.find_element(By.CSS_SELECTOR, "svg[aria-label='provenance graph']")
    nodes = graph.find_elements(By.TAG_NAME, "rect")
    assert len(nodes) == len(stages)
    # A zero-sized box would mean the SVG was not laid out, even though its elements exist.
    assert all(n.size["width"] > 0 and n.size["height"] > 0 for n in nodes)
    labels = [t.get_attribute("textContent") for t in graph.find_elements(By.TAG_NAME, "text")]
    titles = [t.get_attribute("textContent") for t in graph.find_elements(By.TAG_NAME, "title")]
    for stage in stages:
        assert stage["facility"]["name"] in labels  # short enough to be drawn whole
        assert stage["facility"]["name"] in titles  # and whole in the tooltip
        assert f"tier {stage['tier']}" in " ".join(str(label) for label in labels)


def test_screenshot_is_a_painted_page(browser: webdriver.Chrome, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # New headless counts --window-size as the outer window and keeps some height for
    # browser UI, so the screenshot (the viewport) is full width but shorter than HEIGHT.
    outer, viewport = browser.execute_script(
        "return [[outerWidth, outerHeight], [innerWidth * devicePixelRatio,"
        " innerHeight * devicePixelRatio]]"
    )
    assert outer == [WIDTH, HEIGHT]
    with Image.open(shot) as image:
        assert image.format == "PNG"
        assert list(image.size) == viewport and image.width == WIDTH
        rgb = image.convert("RGB")
    colours = rgb.getcolors(maxcolors=WIDTH * HEIGHT) or []
    # A blank render is one colour, a page with one word ~40 (antialiasing), the report ~480.
    assert len(colours) > 100
    # Green "pass" words are a few hundred pixels; only the full-width banner reaches this.
    assert dict((c, n) for n, c in colours).get(PASS_GREEN, 0) > 10_000
