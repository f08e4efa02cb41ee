"""What staff see, in a real browser: the preview site and a published release.

One handbook repository is built once for the module: the test handbook with a
document whose title is markup, an approved document edited after signing, and
release R1 of its policy set, signed and published. The traceability test-root
gives the SoA and risk register pages.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import expect
from sphinx.testing.util import SphinxTestApp

from tests.browser import Tab, browser, overflowing, tab
from tests.conftest import ROOTS
from tests.http_server import served
from tests.release_repo import approve_fully, make_release_repo, publish_signed
from tests.signing_repo import Console, Team, commit_all, run, team

__all__ = ["browser", "tab", "team"]  # fixtures, re-exported for pytest

HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_DOCUMENT = f"""\
---
id: POL-XSS-001
title: '{HOSTILE}'
type: policy
version: "1.0"
owner: ISMS Manager
classification: internal
review_months: 12
effective: 2026-01-15
---

## Purpose

A title is text, whatever characters it holds.
"""
EDITED = "procedures/sop-bck-001"
A4_WIDTH = 794  # 210 mm at 96 CSS pixels per inch
NARROW = 400


@dataclass(frozen=True)
class Sites:
    """The built folders, each served over loopback HTTP."""

    preview: str  # base URL of `qms build`'s site
    release: str  # base URL of the published policy set of R1
    views: str  # base URL of the traceability test-root's site
    release_folder: Path  # the published R1 folder
    preview_folder: Path


@pytest.fixture(scope="module")
def handbook(tmp_path_factory: pytest.TempPathFactory, team: Team) -> Iterator[tuple[Path, Path]]:
    """Build the preview site and publish R1; yield (site folder, published R1 folder)."""
    tmp = tmp_path_factory.mktemp("browser")
    with Console() as console:
        root = make_release_repo(tmp, team, console)
        (root / "docs/policies/pol-xss-001.md").write_text(HOSTILE_DOCUMENT, encoding="utf-8")
        commit_all(root, "A policy whose title is markup")
        approve_fully(console, root, team, "POL-XSS-001")
        # Version 1.1 in force makes 1.0 a superseded page, linked from the history.
        hostile = root / "docs/policies/pol-xss-001.md"
        hostile.write_text(hostile.read_text().replace("is text", "is plain text"))
        assert (
            run(console, "--root", str(root), "bump", "POL-XSS-001", "--reason", "Wording")[0] == 0
        )
        commit_all(root, "POL-XSS-001 version 1.1")
        approve_fully(console, root, team, "POL-XSS-001")
        approve_fully(console, root, team, "SOP-BCK-001")
        published = publish_signed(console, root, team, tmp)
        source = root / f"docs/{EDITED}.md"
        source.write_text(source.read_text().replace("nightly", "hourly"), encoding="utf-8")
        commit_all(root, "Edit an approved procedure without a new version")
        code, out, _ = run(console, "--root", str(root), "build", "--fresh")
    # The edit is the build's only finding: every other page is as signed.
    assert code == 1 and out, out
    assert all(line.startswith(f"docs/{EDITED}.md:") for line in out.splitlines()), out
    yield root / "_build/html", published / "R1"


@pytest.fixture(scope="module")
def views(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The traceability test-root (SoA, risk register, matrix) built with the furo theme."""
    source = tmp_path_factory.mktemp("views") / "traceability"
    shutil.copytree(ROOTS / "test-traceability", source)
    app = SphinxTestApp("html", srcdir=source, confoverrides={"html_theme": "furo"})
    try:
        app.build()
        yield app.outdir
    finally:
        app.cleanup()


@pytest.fixture(scope="module")
def sites(handbook: tuple[Path, Path], views: Path) -> Iterator[Sites]:
    site, release = handbook
    with served(site) as preview, served(release / "policies") as policies, served(views) as trace:
        yield Sites(preview, policies, trace, release, site)


# --- a title that is markup -------------------------------------------------------------


PAGES_WITH_THE_TITLE = ["policies/pol-xss-001.html", "register.html", "policies/index.html"]


@pytest.mark.parametrize(
    ("where", "pages"),
    [
        ("preview", [*PAGES_WITH_THE_TITLE, "superseded/pol-xss-001-v1.0.html"]),
        ("release", PAGES_WITH_THE_TITLE),
    ],
)
def test_a_hostile_title_is_text_and_runs_nothing(
    sites: Sites, tab: Tab, where: str, pages: list[str]
) -> None:
    base = getattr(sites, where)
    page = tab.page
    for path in pages:
        page.goto(base + path)
        expect(page.locator("article")).to_contain_text(HOSTILE)
        assert page.locator('img[src="x"]').count() == 0, path
    page.goto(base + "policies/pol-xss-001.html")
    assert HOSTILE in (page.locator("article h1").text_content() or "")
    search(tab, base, "onerror")
    expect(page.locator("#search-results ul.search > li > a").first).to_have_text(HOSTILE)
    assert page.locator('img[src="x"]').count() == 0
    assert tab.dialogs == []


# --- search -----------------------------------------------------------------------------


def search(tab: Tab, base: str, query: str) -> None:
    """Type `query` into the sidebar's search box and wait until the results are listed."""
    page = tab.page
    page.goto(base + "index.html")
    box = page.locator("input.sidebar-search")
    box.fill(query)
    box.press("Enter")
    expect(page.locator("#search-results p.search-summary")).to_contain_text("Search finished")


@pytest.mark.parametrize(
    ("where", "query", "path", "label"),
    [
        ("preview", "SOP-BCK-001", "procedures/sop-bck-001.html", "SOP-BCK-001 · NOT APPROVED"),
        ("preview", " sop-bck-001", "procedures/sop-bck-001.html", "SOP-BCK-001 · NOT APPROVED"),
        ("preview", "POL-ACC-001", "policies/pol-acc-001.html", "POL-ACC-001 · EFFECTIVE"),
        ("release", "pol-xss-001", "policies/pol-xss-001.html", "POL-XSS-001 · EFFECTIVE"),
    ],
)
def test_an_exact_id_finds_its_document_first(
    sites: Sites, tab: Tab, where: str, query: str, path: str, label: str
) -> None:
    search(tab, getattr(sites, where), query)
    first = tab.page.locator("#search-results ul.search > li").first
    assert first.locator("a").first.get_attribute("href") == path
    expect(first.locator(".qms-search-label")).to_have_text(label, use_inner_text=True)


def test_every_result_of_a_document_names_its_id_and_status(sites: Sites, tab: Tab) -> None:
    search(tab, sites.preview, "backup")
    results = tab.page.locator("#search-results ul.search > li")
    labels = {
        results.nth(i).locator("a").first.get_attribute("href"): results.nth(i)
        .locator(".qms-search-label")
        .all_inner_texts()
        for i in range(results.count())
    }
    assert labels["procedures/sop-bck-001.html"] == ["SOP-BCK-001 · NOT APPROVED"]
    assert labels["register.html"] == []  # a site page, not a controlled document


def test_snippets_show_content_not_banners(sites: Sites, tab: Tab) -> None:
    search(tab, sites.preview, "privilege")
    result = tab.page.locator("#search-results ul.search > li", has_text="Access Control Policy")
    snippet = result.locator("p.context")
    expect(snippet).to_contain_text("least privilege")
    text = snippet.inner_text()
    for banner in ("PREVIEW", "Classification", "Signatures", "Uncontrolled when printed"):
        assert banner not in text


def test_the_index_leaves_the_control_block_out(sites: Sites) -> None:
    script = (sites.preview_folder / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(script[script.index("(") + 1 : script.rindex(")")])
    assert "privileg" in index["terms"]  # the body is indexed
    # The signers' names stand only in the control blocks of the documents they signed.
    for term in ("vogt", "bianchi", "oneil"):
        assert term not in index["terms"], term


# --- banners ----------------------------------------------------------------------------


def test_an_edited_approved_document_says_not_approved(sites: Sites, tab: Tab) -> None:
    page = tab.page
    page.goto(sites.preview + EDITED + ".html")
    banner = page.locator("article .qms-banner")
    expect(banner).to_have_text("NOT APPROVED: changed since it was signed, not for use")
    expect(banner).to_be_in_viewport()
    expect(page.locator(".qms-watermark")).to_have_text("NOT APPROVED")
    page.set_viewport_size({"width": NARROW, "height": 900})
    page.reload()
    expect(page.locator("article .qms-banner")).to_be_in_viewport()


# --- layout -----------------------------------------------------------------------------

PAGES = [
    ("preview", "register.html"),
    ("preview", "policies/pol-acc-001.html"),
    ("preview", EDITED + ".html"),
    ("views", "soa.html"),
    ("views", "risks.html"),
    ("release", "register.html"),
    ("release", "policies/pol-acc-001.html"),
]


@pytest.mark.parametrize(("where", "path"), PAGES)
def test_no_horizontal_scroll_at_400_px(sites: Sites, tab: Tab, where: str, path: str) -> None:
    page = tab.page
    page.set_viewport_size({"width": NARROW, "height": 900})
    page.goto(getattr(sites, where) + path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW, f"{path} is {width} px wide: {overflowing(page, NARROW)}"


@pytest.mark.parametrize(("where", "path"), PAGES)
def test_nothing_is_wider_than_an_a4_page_in_print(
    sites: Sites, tab: Tab, where: str, path: str
) -> None:
    page = tab.page
    page.set_viewport_size({"width": A4_WIDTH, "height": 1123})
    page.emulate_media(media="print")
    page.goto(getattr(sites, where) + path)
    wide = overflowing(page, A4_WIDTH)
    assert not wide, f"{path}: wider than an A4 page: " + "; ".join(wide)


# --- links of a published set ------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value for name, value in attrs if name in ("href", "src") and value]


def dead_links(folder: Path) -> list[str]:
    """Every relative href or src of the HTML under `folder` that names no file in it."""
    dead = []
    inside = folder.resolve()
    for page in sorted(folder.rglob("*.html")):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for link in parser.found:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not parts.path:
                continue  # another site, mailto:, data:, or an anchor in the page itself
            target = (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not (target.is_relative_to(inside) and target.is_file()):
                dead.append(f"{page.relative_to(folder)}: {link}")
    return dead


@pytest.mark.parametrize("where", ["release", "preview"])
def test_every_link_stays_inside_the_set_and_names_a_file(sites: Sites, where: str) -> None:
    folder = sites.release_folder / "policies" if where == "release" else sites.preview_folder
    assert len(list(folder.rglob("*.html"))) >= 5
    dead = dead_links(folder)
    assert not dead, f"{len(dead)} dead link(s):\n" + "\n".join(dead)


def test_the_crawler_finds_dead_links(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a/index.html").write_text(
        '<a href="../b.html#top">b</a> <img src="missing.png"> <a href="#here">x</a>'
        '<a href="https://example.org/">y</a> <script src="../../outside.js"></script>'
    )
    (tmp_path / "b.html").write_text('<a href="a/">a</a> <link href="style.css?v=1">')
    assert dead_links(tmp_path) == [
        "a/index.html: missing.png",
        "a/index.html: ../../outside.js",
        "b.html: style.css?v=1",
    ]
