"""Unit tests of the approval rules (the pure model): what counts and what does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from qms.model.approval import Meaning, Statement, StatementError
from qms.model.approval_rules import (
    DocumentVerdict,
    MeaningRule,
    Record,
    judge_document,
)
from qms.model.frontmatter import parse_document
from qms.model.registry_history import RegistryHistory
from qms.model.signature_rules import SignatureFacts
from qms.model.signers import Registry, SignerEntry

from .test_frontmatter_model import VALID

DOC = parse_document("docs/policies/pol-acc-001.md", VALID).document
assert DOC is not None
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 30, tzinfo=UTC)
RULES = (
    MeaningRule(Meaning.AUTHORED, ("author",)),
    MeaningRule(Meaning.REVIEWED, ("reviewer",)),
    MeaningRule(Meaning.APPROVED, ("qa",)),
)
ANNA = "A" * 40
BEN = "B" * 40
CARA = "C" * 40
CARA_SECOND_KEY = "D" * 40


def entry(fpr: str, name: str, *roles: str, email: str = "", **extra: datetime) -> SignerEntry:
    return SignerEntry(
        fingerprint=fpr,
        name=name,
        email=email or f"{name.lower()}@corvane.example",
        roles=roles,
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        **extra,  # type: ignore[arg-type]
    )


REGISTRY = RegistryHistory(
    (
        (
            Registry(
                1,
                (
                    entry(ANNA, "Anna", "author"),
                    entry(BEN, "Ben", "reviewer"),
                    entry(CARA, "Cara", "qa", "reviewer"),
                    entry(CARA_SECOND_KEY, "Cara", "qa", email="cara@corvane.example"),
                ),
            ),
            datetime(2026, 1, 1, tzinfo=UTC),
        ),
    )
)


# The commit whose tree held the signed content, as qms-approval/2 statements name it.
COMMIT = "c" * 40


def record(
    meaning: Meaning,
    fpr: str,
    role: str,
    at: datetime,
    *,
    sha: str = "abc",
    folder: tuple[str, str] = ("POL-ACC-001", "2.0"),
    statement_for: tuple[str, str] | None = None,
    expires: datetime | None = None,
    signed_with: str | None = None,
    commit: str = COMMIT,
    tied_commit: str = "",
) -> Record:
    document_id, version = statement_for or folder
    statement = Statement(
        document_id=document_id,
        version=version,
        content_sha256=sha,
        meaning=meaning,
        signer_name={ANNA: "Anna", BEN: "Ben"}.get(fpr, "Cara"),
        signer_fingerprint=fpr,
        role=role,
        signed_at=at,
        commit=commit,
    )
    facts = SignatureFacts(True, signed_with or fpr, at, expires)
    return Record(
        f"{meaning}.json", folder[0], folder[1], statement, facts, tied_commit=tied_commit
    )


def judge(*records: Record) -> DocumentVerdict:
    assert DOC is not None
    return judge_document(DOC, "abc", (), records, RULES, REGISTRY, NOW)


def problems(verdict: DocumentVerdict) -> list[str]:
    return [v.problem for v in verdict.verdicts if not v.valid]


def full_set(offset: timedelta = timedelta(0)) -> list[Record]:
    return [
        record(Meaning.AUTHORED, ANNA, "author", T0 + offset),
        record(Meaning.REVIEWED, BEN, "reviewer", T0 + offset + timedelta(hours=1)),
        record(Meaning.APPROVED, CARA, "qa", T0 + offset + timedelta(hours=2)),
    ]


def test_complete_set_gives_all_meanings() -> None:
    verdict = judge(*full_set())
    assert problems(verdict) == []
    assert verdict.evidence.meanings == {"authored", "reviewed", "approved"}
    assert [v.record.statement.meaning for v in verdict.signatures if v.record.statement] == [
        "authored", "reviewed", "approved"
    ]  # fmt: skip


def test_key_that_expired_after_signing_still_counts_with_a_note() -> None:
    expired = T0 + timedelta(days=30)
    records = full_set()
    records[2] = record(Meaning.APPROVED, CARA, "qa", T0 + timedelta(hours=2), expires=expired)
    verdict = judge(*records)
    assert problems(verdict) == []
    assert [v.note for v in verdict.signatures] == ["", "", "key since expired"]


def test_signature_after_key_expiry_does_not_count() -> None:
    records = full_set()
    records[2] = record(Meaning.APPROVED, CARA, "qa", T0 + timedelta(hours=2), expires=T0)
    verdict = judge(*records)
    assert problems(verdict) == ["signed after the key expired at 2026-03-01T09:00:00Z"]
    assert "approved" not in verdict.evidence.meanings


def test_segregation_of_duties_is_enforced_on_records_that_bypassed_approve() -> None:
    records = [
        record(Meaning.AUTHORED, ANNA, "author", T0),
        record(Meaning.REVIEWED, CARA, "reviewer", T0 + timedelta(hours=1)),
        record(Meaning.APPROVED, CARA, "qa", T0 + timedelta(hours=2)),
    ]
    assert problems(judge(*records)) == [
        "segregation of duties: Cara reviewed this version and may not also sign it as approved"
    ]


def test_segregation_of_duties_follows_the_person_across_keys() -> None:
    records = [
        record(Meaning.AUTHORED, ANNA, "author", T0),
        record(Meaning.REVIEWED, CARA, "reviewer", T0 + timedelta(hours=1)),
        record(Meaning.APPROVED, CARA_SECOND_KEY, "qa", T0 + timedelta(hours=2)),
    ]
    assert problems(judge(*records))[0].startswith("segregation of duties: Cara reviewed")


def test_approval_dated_before_the_review_does_not_count() -> None:
    records = [
        record(Meaning.AUTHORED, ANNA, "author", T0),
        record(Meaning.APPROVED, CARA, "qa", T0 + timedelta(hours=1)),
        record(Meaning.REVIEWED, BEN, "reviewer", T0 + timedelta(hours=2)),
    ]
    verdict = judge(*records)
    assert problems(verdict) == [
        "approved before it was reviewed: signatures must follow the order authored, "
        "reviewed, approved"
    ]
    assert verdict.evidence.meanings == {"authored", "reviewed"}


def test_role_must_be_held_and_allowed() -> None:
    records = full_set()
    records[1] = record(Meaning.REVIEWED, BEN, "qa", T0 + timedelta(hours=1))
    assert problems(judge(*records))[0].startswith("Ben signed as 'qa', which may not give")


def test_signature_before_registration_does_not_count() -> None:
    records = full_set(offset=timedelta(days=-120))
    assert problems(judge(*records))[0] == (
        "Anna was not yet a registered signer when this was signed"
    )


def test_statement_for_other_content_is_stale() -> None:
    records = full_set()
    records[0] = record(Meaning.AUTHORED, ANNA, "author", T0, sha="old")
    verdict = judge(*records)
    assert verdict.evidence.stale
    assert problems(verdict)[0].startswith("content changed after it was signed")


def test_older_versions_are_history_not_evidence() -> None:
    old = record(Meaning.AUTHORED, ANNA, "author", T0, sha="old", folder=("POL-ACC-001", "1.0"))
    verdict = judge(old)
    assert problems(verdict) == []
    assert verdict.evidence.meanings == frozenset() and not verdict.evidence.stale
    assert [(v.valid, v.current) for v in verdict.verdicts] == [(True, False)]


def test_statement_filed_under_another_version_is_a_copy() -> None:
    copied = record(
        Meaning.APPROVED, CARA, "qa", T0, folder=("POL-ACC-001", "1.0"),
        statement_for=("POL-ACC-001", "2.0"),
    )  # fmt: skip
    assert problems(judge(copied)) == [
        "statement is for POL-ACC-001 2.0 but is filed under POL-ACC-001 1.0: copied from "
        "another document or version"
    ]


def test_signature_time_must_match_statement_time() -> None:
    records = full_set()
    late = record(Meaning.AUTHORED, ANNA, "author", T0)
    records[0] = Record(
        late.path, late.folder_id, late.folder_version, late.statement,
        SignatureFacts(True, ANNA, T0 + timedelta(hours=3)),
    )  # fmt: skip
    assert problems(judge(*records))[0].startswith("statement time 2026-03-01T09:00:00Z does")


def test_statement_bytes_must_be_canonical() -> None:
    statement = full_set()[0].statement
    assert statement is not None
    data = statement.to_bytes()
    assert Statement.from_bytes(data) == statement
    for variant in (data.replace(b",", b", ", 1), data.rstrip(b"\n"), b"[]", b"\xff"):
        try:
            Statement.from_bytes(variant)
        except StatementError:
            continue
        raise AssertionError(f"accepted {variant!r}")


def test_segregation_of_duties_holds_in_both_directions() -> None:
    records = [
        *full_set(),
        # The approver adds a review afterwards: reviewer and approver of one version.
        record(Meaning.REVIEWED, CARA, "reviewer", T0 + timedelta(hours=3)),
    ]
    assert problems(judge(*records)) == [
        "segregation of duties: Cara approved this version and may not also sign it as reviewed"
    ]


def test_a_statement_that_names_no_commit_does_not_count() -> None:
    verdict = judge(record(Meaning.AUTHORED, ANNA, "author", NOW, commit=""))
    [problem] = problems(verdict)
    assert problem.startswith("names no commit (qms-approval/1)")
    assert "'qms signers migrate'" in problem
    assert Meaning.AUTHORED not in verdict.evidence.meanings


def test_a_migrated_statement_counts_and_its_tied_commit_is_checked() -> None:
    tied = "d" * 40
    migrated = record(Meaning.AUTHORED, ANNA, "author", NOW, commit="", tied_commit=tied)
    assert migrated.commit == tied
    assert Meaning.AUTHORED in judge(migrated).evidence.meanings
    assert DOC is not None
    lost = judge_document(DOC, "abc", (), [migrated], RULES, REGISTRY, NOW, frozenset({tied}))
    [problem] = problems(lost)
    assert problem.startswith(f"signed the content of commit {tied}, which is no longer")
