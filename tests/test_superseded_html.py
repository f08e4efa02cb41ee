"""Superseded versions rendered from their approved Markdown, safely and without dead links."""

from __future__ import annotations

from qms_sphinx.superseded_html import render_superseded

SOURCE = """---
id: SOP-ACC-001
title: User Access Management
version: "1.0"
---

## Scope

See the [policy](../policies/pol-acc-001.md#purpose), the [retired form](../forms/frm-x-001.md)
and [the regulation](https://eur-lex.europa.eu/eli/reg/2016/679/oj).

<script>alert(1)</script>

![Access matrix](matrix.png)

```{procedure} Quarterly access review
:id: PRC-ACC-02
:implements: CTL-ACC-001

System owners confirm every account.
```
"""


def render(exists: set[str]) -> str:
    return render_superseded(SOURCE, "procedures/sop-acc-001", exists.__contains__)


def test_headings_and_needs_render_as_read_only_html() -> None:
    html = render({"policies/pol-acc-001"})
    assert "<h2>Scope</h2>" in html and "title: User Access Management" not in html
    assert "<strong>procedure</strong> Quarterly access review" in html
    assert "<dt>id</dt><dd>PRC-ACC-02</dd>" in html and "System owners confirm" in html


def test_links_point_at_pages_of_the_build_or_stay_text() -> None:
    html = render({"policies/pol-acc-001"})
    assert '<a href="../policies/pol-acc-001.html#purpose">policy</a>' in html
    assert '<span class="qms-superseded-link">retired form</span>' in html
    assert '<a href="https://eur-lex.europa.eu/eli/reg/2016/679/oj">' in html
    assert 'href="../policies' not in render(set())


def test_raw_html_is_text_and_images_are_not_carried() -> None:
    html = render(set())
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "[image: Access matrix]" in html
