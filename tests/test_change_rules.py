"""Unit tests of the change-control rules, on plain data (git-backed tests: test_change_control)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from qms.model.approval_rules import DocumentVerdict
from qms.model.change_rules import (
    RecordedVersion,
    Step,
    VersionApproval,
    best_approval,
    change_findings,
)
from qms.model.document import Document, DocumentType, Version
from qms.model.frontmatter import parse_document
from qms.model.status import Evidence

from .test_frontmatter_model import VALID

DOC = parse_document("x.md", VALID).document
assert DOC is not None
V1, V2 = Version(1, 0), Version(2, 0)


def approval(version: Version, digest: str, complete: bool = True) -> VersionApproval:
    assert DOC is not None
    return VersionApproval(version, digest, DocumentVerdict(DOC, (), Evidence()), complete)


def codes(
    document: Document | None = DOC,
    recorded: Sequence[RecordedVersion] = (),
    approvals: Sequence[VersionApproval] = (),
    lineage: Sequence[Step] = (),
    lf_sha256: str = "",
) -> list[str]:
    assert document is not None
    found = change_findings(document, recorded, approvals, lineage, "now", lf_sha256)
    return [f.code for f in found]


def test_unchanged_approved_version_is_clean() -> None:
    assert codes(approvals=[approval(V2, "now")]) == []


def test_changed_approved_version_must_be_bumped() -> None:
    assert codes(approvals=[approval(V2, "before")]) == ["not-bumped"]
    assert codes(approvals=[approval(V2, "before")], lf_sha256="before") == []


def test_incomplete_approval_does_not_bind() -> None:
    assert codes(approvals=[approval(V2, "before", complete=False)]) == []


def test_bump_needs_a_change_reason() -> None:
    assert DOC is not None
    bumped = replace(DOC, change_reason="")
    assert codes(document=bumped, approvals=[approval(V1, "x")]) == ["no-change-reason"]


def test_versions_never_go_backwards() -> None:
    recorded = [RecordedVersion(Version(3, 0), "c" * 40)]
    assert codes(recorded=recorded) == ["version-backwards"]
    assert codes(approvals=[approval(Version(3, 0), "x")]) == ["version-backwards"]


def test_an_id_is_never_reused() -> None:
    withdrawn = [Step("a", False, DocumentType.POLICY), Step("b", True, None)]
    assert codes(lineage=[*withdrawn, Step("c", False, DocumentType.POLICY)]) == ["id-reused"]
    retyped = [Step("a", False, DocumentType.POLICY), Step("b", False, DocumentType.PROCEDURE)]
    assert codes(lineage=retyped) == ["id-reused"]


def test_best_approval_prefers_complete_then_more_signatures() -> None:
    partial, complete = approval(V2, "a", complete=False), approval(V2, "b")
    assert best_approval([partial, complete]) is complete
    assert best_approval([]) is None
