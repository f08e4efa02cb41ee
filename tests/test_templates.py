"""Templates: every one escapes what it is given; none lets a value through unescaped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sphinx.testing.util import SphinxTestApp

from qms.services.release.signers import signers_script
from qms_sphinx.release_mode import banner
from qms_sphinx.templating import TEMPLATES, render
from tests.conftest import REPO

QMS_TEMPLATES = REPO / "tools" / "qms" / "templates"
HOSTILE = "<script>alert('x')</script> & \""
# Rendered by Sphinx's own environment, which does not escape unless the template says so.
SPHINX_RENDERED = ["qms-banner.html", "qms-print-footer.html", "qms-sidebar.html",
                   "qms-superseded.html", "qms-watermark.html"]  # fmt: skip


def templates() -> list[Path]:
    found = sorted([*TEMPLATES.iterdir(), *QMS_TEMPLATES.iterdir()])
    assert len(found) >= 9, found
    return found


def test_no_template_turns_escaping_off() -> None:
    for path in templates():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*safe\b|autoescape\s+false", text), path.name


def test_every_template_sphinx_renders_opens_autoescape() -> None:
    for name in SPHINX_RENDERED:
        text = (TEMPLATES / name).read_text(encoding="utf-8")
        code = re.sub(r"\{#.*?#\}", "", text, flags=re.S).lstrip()
        assert code.startswith("{% autoescape true -%}"), name
        assert code.rstrip().endswith("endautoescape %}"), name


@pytest.mark.sphinx("html", testroot="handbook", freshenv=True)
def test_the_release_banner_escapes_the_release_and_its_note(app: SphinxTestApp) -> None:
    app.config.qms_release = {"name": HOSTILE, "title": HOSTILE, "date": HOSTILE,
                              "later": {"POL-ACC-001": HOSTILE}}  # fmt: skip
    html = banner(app, "policies/pol-acc-001", "POL-ACC-001")
    escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;"
    assert "<script>" not in html and html.count(escaped) == 4
    assert '<a class="qms-pdf-link" href="../pdf/pol-acc-001.pdf">PDF of this document</a>' in html
    assert "This is the version in force." in html
    watermark = render(app, "qms-watermark.html", label=HOSTILE, no_search="no-search")
    assert watermark == f'<div class="qms-watermark no-search" aria-hidden="true">{escaped}</div>'


def test_the_signers_script_is_a_javascript_string_not_html() -> None:
    script = signers_script({"qa": HOSTILE})
    assert 'e.textContent="Signed by qa: <script>alert(\'x\')</script> & \\"."' in script
    assert script.endswith(";}});\n") and script.count("\n") == 1
