"""Fixtures for pages looked at in a real browser: Debian's Chromium driven by Playwright,
and axe-core (from tests/support/, installed by script/bootstrap) to check accessibility.

    def test_x(browser_page, axe):
        browser_page.set_content(html)
        assert axe(browser_page) == []   # no serious or critical violation
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_JS = Path(__file__).resolve().parent / "support" / "node_modules" / "axe-core" / "axe.min.js"
# The impacts a page must not have; "moderate" and "minor" are reported, not failed.
BLOCKING_IMPACTS = ("serious", "critical")

Axe = Callable[..., list[dict[str, Any]]]

# COALITIONLETTER_SCREENSHOTS=DIR: the walkthrough tests save the README's screenshots
# there. Read once at start-up: every test's own environment is cleared (conftest.py).
SCREENSHOTS_ENV = "COALITIONLETTER_SCREENSHOTS"
_SCREENSHOTS = pytest.StashKey[str]()
SCREENSHOT_WIDTH = 1024
SCREENSHOT_COLOURS = 64  # a palette this small keeps a page's PNG far under 150 KB


def pytest_configure(config: pytest.Config) -> None:
    """Remember where screenshots go, before the tests' environment is cleared."""
    config.stash[_SCREENSHOTS] = os.environ.get(SCREENSHOTS_ENV, "").strip()


Screenshot = Callable[[Any, str], "Path | None"]


def save_screenshot(page: Any, path: Path) -> Path:
    """The page at SCREENSHOT_WIDTH px, whole, as a small palette PNG at `path`."""
    from PIL import Image

    size = page.viewport_size
    page.set_viewport_size({"width": SCREENSHOT_WIDTH, "height": size["height"]})
    try:
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(size)
    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(colors=SCREENSHOT_COLOURS)
    small.save(path, optimize=True)
    return path


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Screenshot:
    """Save a page as DIR/NAME.png when COALITIONLETTER_SCREENSHOTS=DIR is set; else nothing."""
    folder = request.config.stash.get(_SCREENSHOTS, "")

    def take(page: Any, name: str) -> Path | None:
        if not folder:
            return None
        Path(folder).mkdir(parents=True, exist_ok=True)
        return save_screenshot(page, Path(folder) / f"{name}.png")

    return take


@pytest.fixture(scope="session")
def playwright_api() -> Iterator[Any]:
    """Playwright's sync API, started once: a second start in the same thread fails.

    A test that launches its own browser takes this instead of calling sync_playwright().
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def chromium(playwright_api: Any) -> Iterator[Any]:
    """One headless Chromium for the session (Debian's; Playwright downloads none)."""
    if not Path(CHROMIUM).exists():
        # A skip would let a machine without the browser pass every page test unseen.
        pytest.fail(
            "Debian's chromium is not installed: run script/bootstrap (apt-get install chromium)"
        )
    browser = playwright_api.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class OwnBrowser:
    """The session's Chromium as one test's own browser: what it opens is closed with it.

    Each context is as separate as a new browser (cookies, storage, connections
    of its own); making one costs a fraction of launching Chromium again.
    """

    def __init__(self, chromium: Any) -> None:
        self._chromium = chromium
        self._contexts: list[Any] = []

    def new_context(self, **options: Any) -> Any:
        """A new context, as Browser.new_context."""
        context = self._chromium.new_context(**options)
        self._contexts.append(context)
        return context

    def new_page(self, **options: Any) -> Any:
        """A page in a new context of its own, as Browser.new_page."""
        return self.new_context(**options).new_page()

    def close(self) -> None:
        """Close every context this browser opened."""
        while self._contexts:
            self._contexts.pop().close()


@pytest.fixture
def own_browser(chromium: Any) -> Iterator[OwnBrowser]:
    """A browser for one test (contexts of the session's Chromium), closed at its end."""
    browser = OwnBrowser(chromium)
    yield browser
    browser.close()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """A fresh page (its own context) at a desktop width; set_viewport_size to change it."""
    context = chromium.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def _blocking(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]],
        }
        for violation in results["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe.min.js, or a failure that says how to install it (a missing tool is not a pass)."""
    if not AXE_JS.is_file():
        pytest.fail(f"{AXE_JS} is missing: run script/bootstrap (npm install in tests/support).")
    return AXE_JS.read_text("utf-8")


@pytest.fixture
def axe(axe_source: str) -> Axe:
    """Run axe-core on a page; return its serious and critical violations (WCAG 2 A/AA rules)."""

    def run(page: Any, tags: tuple[str, ...] = ("wcag2a", "wcag2aa", "wcag21aa")) -> list:
        page.add_script_tag(content=axe_source)
        results = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", list(tags)
        )
        return _blocking(results)

    return run
