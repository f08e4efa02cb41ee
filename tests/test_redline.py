"""Redlines: the model returns changed lines and words; the service renders them escaped."""

from __future__ import annotations

from qms.model.document import Classification, Document, DocumentType, Version
from qms.model.redline import Change, Words, redline, words
from qms.services.redline import Redline


def test_a_changed_line_holds_the_words_that_differ() -> None:
    changes = redline("keep\ngranted on least privilege\nold", "keep\ngranted on need to know")
    assert [c.kind for c in changes] == ["same", "change", "delete"]
    assert changes[1].words == (
        Words("same", "granted on "),
        Words("delete", "least"),
        Words("insert", "need"),
        Words("same", " "),
        Words("delete", "privilege"),
        Words("insert", "to know"),
    )
    assert changes[0].words == () and changes[2].words == ()
    assert words("a", "a") == (Words("same", "a"),)


def test_the_html_redline_escapes_every_line_and_word() -> None:
    hostile = '<script>alert("x")</script> & <b>'
    document = Document(
        id="POL-XSS-001", title="<i>Title</i>", type=DocumentType.POLICY, version=Version(1, 0),
        owner="o", classification=Classification.INTERNAL, review_months=12,
        path="docs/policies/pol-xss-001.md",
    )  # fmt: skip
    changes = redline(f"same {hostile}\ngone {hostile}\nword", f"same {hostile}\nword {hostile}")
    page = Redline(document, "version <1.0>", "working copy", changes).html_page()
    assert "<script" not in page and "<b>" not in page and "<i>" not in page
    assert "<title>POL-XSS-001 &lt;i&gt;Title&lt;/i&gt;: redline</title>" in page
    assert "<p>From version &lt;1.0&gt; to working copy.</p>" in page
    assert "<p>1 lines with insertions, 2 with deletions." in page
    cell = '<td class="n">'
    assert f'<tr class="same">{cell}1</td>{cell}1</td><td><pre>same &lt;script&gt;' in page
    assert "<del>gone</del><ins>word</ins>" in page
    assert f'<tr class="delete">{cell}3</td>{cell}</td><td><pre><del>word</del>' in page
    assert page.endswith("</table></body></html>\n")


def test_changes_compare_by_their_lines_not_their_words() -> None:
    assert Change("change", "a", "b", 1, 1) == redline("a", "b")[0]
