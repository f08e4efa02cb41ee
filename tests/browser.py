"""A real browser for the tests: Debian's Chromium, driven by Playwright, over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, ViewportSize, sync_playwright

# The distribution's browser: Playwright's own builds cannot be downloaded here,
# so `playwright install` is never run.
CHROMIUM = Path("/usr/bin/chromium")
# As root a sandbox is not possible; the rest keeps the browser off the network.
ARGUMENTS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1400, "height": 900}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"the browser tests need Chromium at {CHROMIUM}: run 'apt-get install chromium "
            "fonts-dejavu-core' (.ci/run installs them when missing)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGUMENTS)
        yield chromium
        chromium.close()


class Tab:
    """A page in a fresh browser context that records every dialog a script opens."""

    def __init__(self, browser: Browser) -> None:
        self._context = browser.new_context(viewport=DESKTOP)
        self.page: Page = self._context.new_page()
        self.dialogs: list[str] = []
        self.page.on("dialog", self._dismiss)

    def _dismiss(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def close(self) -> None:
        self._context.close()


@pytest.fixture
def tab(browser: Browser) -> Iterator[Tab]:
    """A fresh tab, 1400 px wide."""
    opened = Tab(browser)
    yield opened
    opened.close()


# The outermost elements past the limit (their descendants would only repeat them).
OVERFLOWING = """(limit) => {
  const past = new Set();
  const named = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.right <= limit + 0.5) continue;
    past.add(element);
    if (past.has(element.parentElement)) continue;
    const classes = [...element.classList].map((name) => "." + name).join("");
    const name = element.tagName.toLowerCase() + classes;
    named.push(`${name} (right edge ${Math.round(box.right)} px)`);
  }
  return named;
}"""


def overflowing(page: Page, limit: int) -> list[str]:
    """Elements whose right edge lies beyond `limit` CSS pixels."""
    found: list[str] = page.evaluate(OVERFLOWING, limit)
    return found
