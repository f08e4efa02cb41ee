"""The release comparison's pure parts: items read from sources, and what counts as a change."""

from __future__ import annotations

from datetime import UTC, datetime

from qms.model.need_blocks import need_blocks
from qms.model.release_diff import PublishedDocument, ReleaseSide, compare_releases
from qms.model.release_diff_table import sections

SOURCE = """---
id: POL-X-001
---

## Controls

````{control} Encrypted laptops
:id: CTL-X-001
:applicable: yes
:implementation: partial
:implements: ISO27001-A-8-1, ISO27001-A-8-24

Every laptop is encrypted with BitLocker.

```text
an inner fence stays part of the body
```
````

:::{risk} Stolen laptop
:id: RSK-X-001
:likelihood: 3
:impact: 4
:::

```{note}
Not an item.
```
"""


def _side(name: str, *documents: PublishedDocument) -> ReleaseSide:
    return ReleaseSide(name, datetime(2026, 6, 1, tzinfo=UTC), "0" * 40, documents)


def _doc(source: str, version: str = "1.0", **kw: object) -> PublishedDocument:
    blocks = tuple(need_blocks(source, "policies/pol-x-001"))
    return PublishedDocument("POL-X-001", "X", version, blocks=blocks, **kw)  # type: ignore[arg-type]


def test_items_are_read_with_fields_links_and_body() -> None:
    control, risk = need_blocks(SOURCE, "policies/pol-x-001")
    assert (control.need.id, control.need.type, control.need.lineno) == ("CTL-X-001", "control", 7)
    assert control.need.outgoing("implements") == ("ISO27001-A-8-1", "ISO27001-A-8-24")
    assert control.need.text("implementation") == "partial"
    assert "an inner fence stays part of the body" in control.body
    assert (risk.need.id, risk.need.score("impact")) == ("RSK-X-001", 4)


def test_whitespace_and_line_endings_are_no_change() -> None:
    edited = SOURCE.replace("Every laptop is", "Every  laptop  is").replace(
        "Locker.\n", "Locker.  \n\n\n"
    )
    edited = edited.replace("\n", "\r\n")
    diff = compare_releases(_side("A", _doc(SOURCE)), _side("B", _doc(edited)))
    assert diff.empty


def test_a_changed_link_and_body_are_named() -> None:
    edited = SOURCE.replace(", ISO27001-A-8-24", "").replace("BitLocker", "FileVault")
    diff = compare_releases(_side("A", _doc(SOURCE)), _side("B", _doc(edited, "1.1")))
    assert [(c.id, c.changed) for c in diff.items_changed] == [
        ("CTL-X-001", ("implements", "text"))
    ]
    assert [(r.old_version, r.new_version) for r in diff.revised] == [("1.0", "1.1")]
    assert diff.soa == () and diff.risks == ()


def test_a_withdrawn_document_takes_its_items_and_decisions_with_it() -> None:
    diff = compare_releases(_side("A", _doc(SOURCE)), _side("B"))
    assert [d.id for d in diff.withdrawn] == ["POL-X-001"]
    assert [i.id for i in diff.items_removed] == ["CTL-X-001", "RSK-X-001"]
    assert [(s.id, s.field, s.old, s.new) for s in diff.soa] == [
        ("CTL-X-001", "decision", "applicable: yes; implementation: partial", "")
    ]
    assert {(r.stage, r.old, r.new) for r in diff.risks} == {("inherent", (3, 4), None)}
    tables = {s.title: s for s in sections(diff)}
    assert tables["Documents withdrawn"].rows == (("POL-X-001", "X", "1.0"),)
    assert tables["Risk scores changed"].rows == (
        ("RSK-X-001", "Stolen laptop", "inherent", "3x4 = 12", "-"),
    )
