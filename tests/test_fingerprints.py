"""Items read from Markdown, their fingerprints, and the statements that record them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from qms.model.approval import Meaning, Statement, StatementError
from qms.model.fingerprints import fingerprint
from qms.model.impact import (
    Assessment,
    Baseline,
    Basis,
    Decision,
    Link,
    State,
    downstream_of,
    item_changes,
    judge_link,
    upstream_links,
)
from qms.model.need_source import Item, parse_items

SOURCE = """\
# Access

```{control} Role-based access
:id: CTL-5-15
:applicable: yes
:justification: GxP systems hold regulated records.
:implementation: implemented
:implements: REQ-A, REQ-B
```

````{admonition} Nested
```{procedure} Quarterly review
:id: PRC-ACC-01
:implements: CTL-5-15

Each quarter the system owner
reviews accounts.
```
````

```python
# not a need
```{procedure} Hidden
:id: PRC-NOT-01
```
"""


def item(text: str, item_id: str) -> Item:
    return next(i for i in parse_items("doc.md", text) if i.id == item_id)


def test_needs_are_read_from_directives_nested_or_not_and_never_from_code() -> None:
    items = parse_items("doc.md", SOURCE)
    assert [i.id for i in items] == ["CTL-5-15", "PRC-ACC-01"]
    procedure = items[1]
    assert (procedure.type, procedure.title, procedure.line) == (
        "procedure",
        "Quarterly review",
        12,
    )
    assert procedure.targets("implements") == ("CTL-5-15",)
    assert "system owner\nreviews accounts." in procedure.body
    assert items[0].targets("implements") == ("REQ-A", "REQ-B")


@pytest.mark.parametrize(
    "old, new",
    [
        ("GxP systems hold", "GxP   systems\thold"),
        (":justification: GxP", ":justification:    GxP"),
        ("Each quarter the system owner\nreviews", "Each quarter the system owner reviews"),
        ("reviews accounts.\n", "reviews accounts.   \n\n\n"),
        (":implements: REQ-A, REQ-B", ":implements: REQ-B,REQ-A"),
        ("# Access", "# Access control, retitled"),  # the document's other content
    ],
)
def test_whitespace_line_endings_and_other_content_leave_fingerprints(old: str, new: str) -> None:
    assert old in SOURCE
    edited = SOURCE.replace(old, new)
    for variant in (edited, edited.replace("\n", "\r\n")):
        for item_id in ("CTL-5-15", "PRC-ACC-01"):
            assert fingerprint(item(variant, item_id)) == fingerprint(item(SOURCE, item_id))


@pytest.mark.parametrize(
    "old, new, changed",
    [
        ("GxP systems hold", "GxP and clinical systems hold", "CTL-5-15"),
        (":implementation: implemented", ":implementation: partial", "CTL-5-15"),
        ("Role-based access", "Role-based access to GxP systems", "CTL-5-15"),
        (":implements: REQ-A, REQ-B", ":implements: REQ-A", "CTL-5-15"),
        ("reviews accounts.", "reviews accounts and roles.", "PRC-ACC-01"),
    ],
)
def test_a_content_edit_changes_that_items_fingerprint_only(
    old: str, new: str, changed: str
) -> None:
    edited = SOURCE.replace(old, new)
    for item_id in ("CTL-5-15", "PRC-ACC-01"):
        same = fingerprint(item(edited, item_id)) == fingerprint(item(SOURCE, item_id))
        assert same == (item_id != changed)


def statement(**changes: object) -> Statement:
    fields: dict[str, object] = dict(
        document_id="SOP-ACC-001", version="1.0", content_sha256="ab", meaning=Meaning.APPROVED,
        signer_name="A", signer_fingerprint="F" * 40, role="qa",
        signed_at=datetime(2026, 1, 1, tzinfo=UTC), commit="c" * 40,
    )  # fmt: skip
    fields.update(changes)
    return Statement(**fields)  # type: ignore[arg-type]


def test_version_3_records_upstream_and_versions_1_and_2_still_read() -> None:
    digest = fingerprint(item(SOURCE, "CTL-5-15"))
    v3 = statement(upstream=(("CTL-5-15", digest),))
    data = v3.to_bytes()
    assert json.loads(data)["schema"] == "qms-approval/3"
    assert Statement.from_bytes(data) == v3
    for old, schema in ((statement(), "qms-approval/2"), (statement(commit=""), "qms-approval/1")):
        assert json.loads(old.to_bytes())["schema"] == schema
        assert Statement.from_bytes(old.to_bytes()).upstream is None
    for bad in (
        data.replace(digest.encode(), b"x" * 64),
        data.replace(b'"qms-approval/3"', b'"qms-approval/2"'),
    ):
        with pytest.raises(StatementError):
            Statement.from_bytes(bad)
    unsorted = statement(upstream=(("CTL-B", digest), ("CTL-A", digest)))
    with pytest.raises(StatementError, match="sorted"):
        Statement.from_bytes(unsorted.to_bytes())


def test_a_link_is_suspect_until_an_assessment_binds_both_fingerprints() -> None:
    [link] = [
        lk for lk in upstream_links("SOP-ACC-001", parse_items("doc.md", SOURCE))
        if lk.item == "PRC-ACC-01"
    ]  # fmt: skip
    assert link == Link("SOP-ACC-001", "PRC-ACC-01", "implements", "CTL-5-15", "doc.md", 12)
    approved = datetime(2026, 1, 1, tzinfo=UTC)
    baseline = Baseline("1.0", approved, {"CTL-5-15": "a" * 64}, Basis.STATEMENT)
    assert judge_link(link, baseline, {"CTL-5-15": "a" * 64}, ()).state == State.CURRENT
    assert judge_link(link, None, {"CTL-5-15": "b" * 64}, ()).state == State.UNRECORDED
    assert judge_link(link, baseline, {"CTL-5-15": "b" * 64}, ()).state == State.SUSPECT
    assert judge_link(link, baseline, {}, ()).state == State.SUSPECT  # the item was removed

    def assessed(was: str, now: str, at: datetime) -> Assessment:
        return Assessment(
            "SOP-ACC-001", "PRC-ACC-01", "CTL-5-15", was, now,
            Decision.NO_CHANGE, "", "still right", "R", "E" * 40, "reviewer", at,
        )  # fmt: skip

    later = datetime(2026, 2, 1, tzinfo=UTC)
    ok = assessed("a" * 64, "b" * 64, later)
    assert Assessment.from_bytes(ok.to_bytes()) == ok
    assert judge_link(link, baseline, {"CTL-5-15": "b" * 64}, (ok,)).state == State.CLEARED
    # Another edit, an assessment from before the approval, or of another baseline: suspect.
    assert judge_link(link, baseline, {"CTL-5-15": "c" * 64}, (ok,)).state == State.SUSPECT
    before = assessed("a" * 64, "b" * 64, datetime(2025, 12, 1, tzinfo=UTC))
    other = assessed("d" * 64, "b" * 64, later)
    for stale in (before, other):
        assert judge_link(link, baseline, {"CTL-5-15": "b" * 64}, (stale,)).state == State.SUSPECT


def test_item_changes_name_added_changed_and_removed_items_and_their_downstream_links() -> None:
    edited = SOURCE.replace("GxP systems hold", "GxP and clinical systems hold").replace(
        ":id: PRC-ACC-01", ":id: PRC-ACC-02"
    )
    changes = item_changes(parse_items("doc.md", SOURCE), parse_items("doc.md", edited))
    assert [(c.id, c.kind) for c in changes] == [
        ("CTL-5-15", "changed"), ("PRC-ACC-01", "removed"), ("PRC-ACC-02", "added"),
    ]  # fmt: skip
    whitespace = SOURCE.replace("GxP systems hold", "GxP  systems\thold")
    assert item_changes(parse_items("a.md", SOURCE), parse_items("a.md", whitespace)) == ()
    links = [
        Link("SOP-A", "PRC-A-01", "implements", "CTL-5-15"),
        Link("REG-A", "PRC-ACC-01", "implements", "CTL-5-15"),  # the changed document's own
        Link("SOP-B", "EVD-B-01", "demonstrates", "PRC-ACC-02"),  # an added item: no links yet
        Link("SOP-C", "PRC-C-01", "implements", "CTL-9-9"),
    ]
    assert downstream_of(changes, links, "REG-A") == (links[0],)
