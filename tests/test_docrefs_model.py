"""Finding document ids in prose, and telling references from need ids and series."""

from __future__ import annotations

from qms.model.docrefs import DocumentIds, id_mentions


def test_ids_are_found_standing_alone_with_their_line() -> None:
    text = "See POL-ACC-001.\nThen (SOP-QA-002), ISO27001-A-5-15 and POL-ACC-001-draft or x-POL-A."
    found = [(m.text, m.line_offset) for m in id_mentions(text)]
    assert found == [("POL-ACC-001", 0), ("SOP-QA-002", 1), ("ISO27001-A-5-15", 1)]
    [first, *_] = id_mentions(text)
    assert text[first.start : first.end] == "POL-ACC-001"


def test_only_tokens_with_a_document_prefix_in_use_are_references() -> None:
    known = DocumentIds.of(["POL-ACC-001", "REC-ISMS-001", "REC-ISMS-A-001"])
    assert known.prefixes == {"POL", "REC"}
    assert known.series == {"POL-ACC", "REC-ISMS", "REC-ISMS-A"}
    mentions = [
        ("POL-ACC-001", 3),  # a document
        ("POL-ACC-002", 4),  # a typo, or a document that does not exist
        ("CTL-ACC-001", 5),  # a need id: not a document prefix
        ("REC-ISMS", 6),  # a series of documents
        ("SOP-QA-002", None),  # SOP is no prefix in use here
    ]
    assert known.unknown(mentions) == [("POL-ACC-002", 4)]
