"""Sibling navigation: previous, next and all documents of a type, linear in the handbook."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sphinx.testing.util import SphinxTestApp

from .sphinx_helpers import page, warnings

POLICY = """\
---
id: {id}
title: {title}
type: policy
version: "1.0"
owner: ISMS Manager
classification: internal
review_months: 12
---

## Purpose

Text.
"""


def add_policy(srcdir: Path, doc_id: str, title: str) -> None:
    path = srcdir / "policies" / f"{doc_id.lower()}.md"
    path.write_text(POLICY.format(id=doc_id, title=title), encoding="utf-8")


def sidebar(html: str) -> str:
    match = re.search(r'<div class="sidebar-tree">(.*?)</div>', html, re.S)
    assert match, "no sidebar navigation"
    return match.group(1)


def siblings(html: str) -> list[tuple[str, str]]:
    """(href, text) of each entry in the sidebar's list of sibling documents."""
    match = re.search(r'<ul class="qms-siblings"[^>]*>(.*?)</ul>', sidebar(html), re.S)
    assert match, "no sibling list"
    return re.findall(r'<a [^>]*href="([^"]*)"[^>]*>([^<]*)</a>', match.group(1))


def nav_script(app: SphinxTestApp, doc_type: str) -> dict[str, Any]:
    text = (app.outdir / "_static" / f"qms-nav-{doc_type}.js").read_text(encoding="utf-8")
    prefix = f'(window.qmsNav = window.qmsNav || {{}})["{doc_type}"] = '
    line = next(line for line in text.splitlines() if line.startswith(prefix))
    data: dict[str, Any] = json.loads(line.removeprefix(prefix).removesuffix(";"))
    return data


@pytest.mark.sphinx("html", testroot="handbook", srcdir="handbook-siblings", freshenv=True)
def test_a_page_links_its_neighbours_and_the_type_not_every_sibling(app: SphinxTestApp) -> None:
    for doc_id, title in (("POL-BCK-001", "Backup"), ("POL-DEV-001", "Development"),
                          ("POL-ENC-001", "Encryption")):  # fmt: skip
        add_policy(app.srcdir, doc_id, title)
    app.build()
    assert warnings(app) == []
    html = page(app, "policies/pol-cry-001")
    assert siblings(html) == [
        ("pol-bck-001.html", "POL-BCK-001 Backup"),
        ("#", "POL-CRY-001 Cryptography &lt;Policy&gt; &amp; Keys"),
        ("pol-dev-001.html", "POL-DEV-001 Development"),
        ("index.html", "All policies"),
    ]
    assert "POL-ACC-001" not in sidebar(html) and "POL-ENC-001" not in sidebar(html)
    # The first and the last document have one neighbour each.
    assert [text for _, text in siblings(page(app, "policies/pol-acc-001"))][1:] == [
        "POL-BCK-001 Backup",
        "All policies",
    ]
    assert siblings(page(app, "policies/pol-enc-001"))[0][1] == "POL-DEV-001 Development"
    # The full list is one script per type, named only by the pages of that type.
    assert 'src="../_static/qms-nav-policy.js' in html
    assert "qms-nav-procedure.js" not in html
    assert 'data-qms-root="../"' in html
    assert 'data-qms-current="policies/pol-cry-001.html"' in html
    assert 'src="_static/qms-nav.js' in page(app, "index")
    data = nav_script(app, "policy")
    assert data["label"] == "Policies"
    assert data["pages"] == [
        ["policies/pol-acc-001.html", "POL-ACC-001", "Access Control Policy"],
        ["policies/pol-bck-001.html", "POL-BCK-001", "Backup"],
        ["policies/pol-cry-001.html", "POL-CRY-001", "Cryptography <Policy> & Keys"],
        ["policies/pol-dev-001.html", "POL-DEV-001", "Development"],
        ["policies/pol-enc-001.html", "POL-ENC-001", "Encryption"],
    ]
    assert [row[1] for row in nav_script(app, "procedure")["pages"]] == ["SOP-BCK-001"]


@pytest.mark.sphinx("html", testroot="handbook", srcdir="handbook-new-sibling", freshenv=True)
def test_adding_a_document_rewrites_its_neighbours_and_the_list(app: SphinxTestApp) -> None:
    app.build()
    assert siblings(page(app, "policies/pol-acc-001"))[1][1].startswith("POL-CRY-001")
    add_policy(app.srcdir, "POL-BCK-001", "Backup")
    app.build()
    assert siblings(page(app, "policies/pol-acc-001"))[1] == (
        "pol-bck-001.html",
        "POL-BCK-001 Backup",
    )
    assert siblings(page(app, "policies/pol-cry-001"))[0] == (
        "pol-bck-001.html",
        "POL-BCK-001 Backup",
    )
    assert [row[1] for row in nav_script(app, "policy")["pages"]] == [
        "POL-ACC-001",
        "POL-BCK-001",
        "POL-CRY-001",
    ]
