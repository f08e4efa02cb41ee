"""Unit tests of the rules every signed statement passes (the pure model)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from qms.model.registry_chain import approval_refusal, succession_refusal
from qms.model.registry_history import RegistryHistory
from qms.model.signature_rules import (
    Authority,
    Claim,
    PinnedTrustRoot,
    RegisteredSigner,
    RegistryAdministrator,
    SignatureFacts,
    judge_signature,
    shared_person,
)
from qms.model.signers import Registry, SignerEntry

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ADA, BEN, BEN_AGAIN, ROOT = "A" * 40, "B" * 40, "C" * 40, "F" * 40


def entry(fpr: str, name: str, *roles: str, email: str = "", **extra: datetime) -> SignerEntry:
    return SignerEntry(
        fpr, name, email or f"{name.lower()}@corvane.example", roles, T0 - timedelta(days=30),
        **extra,  # type: ignore[arg-type]
    )  # fmt: skip


FIRST = Registry(
    1,
    (
        entry(ADA, "Ada", "registry-admin"),
        entry(BEN, "Ben", "qa"),
        entry(BEN_AGAIN, "Ben", "it-owner", email="BEN@corvane.example"),
    ),
    json.dumps({"trust_roots": [ROOT]}),
)
HISTORY = RegistryHistory(((FIRST, T0 - timedelta(days=30)),))


def good(fpr: str, at: datetime = T0, expires: datetime | None = None) -> SignatureFacts:
    return SignatureFacts(True, fpr, at, expires)


def problem(facts: SignatureFacts, claim: Claim, authority: Authority) -> str:
    return judge_signature(facts, claim, authority, HISTORY).problem


def test_a_signature_gpg_refused_is_named_first() -> None:
    facts = SignatureFacts(False, problem="signature bad")
    assert problem(facts, Claim(BEN), RegisteredSigner("qa")) == (
        "signature does not verify: signature bad"
    )


def test_the_statement_must_name_the_key_and_time_gpg_found() -> None:
    assert "but the statement names " + ADA in problem(good(BEN), Claim(ADA), RegisteredSigner())
    late = Claim(BEN, T0 + timedelta(minutes=6))
    assert "does not match the signature time" in problem(good(BEN), late, RegisteredSigner())
    near = Claim(BEN, T0 + timedelta(minutes=4))
    assert problem(good(BEN), near, RegisteredSigner()) == ""


def test_a_role_is_judged_against_the_registry_at_signing_time() -> None:
    assert problem(good(BEN), Claim(), RegisteredSigner("qa")) == ""
    assert problem(good(BEN), Claim(), RegisteredSigner("it-owner")) == (
        "Ben does not hold the role 'it-owner'"
    )
    before = good(BEN, T0 - timedelta(days=60))
    assert "Ben was not yet a registered signer" in problem(before, Claim(), RegisteredSigner())
    assert "not in the signer registry" in problem(good("E" * 40), Claim(), RegisteredSigner())


def test_a_signature_made_after_its_key_expired_never_counts() -> None:
    facts = good(ADA, T0, expires=T0 - timedelta(seconds=1))
    for authority in (RegisteredSigner(), RegistryAdministrator()):
        assert problem(facts, Claim(), authority).startswith("signed after the key expired at")
    assert problem(good(ADA, T0, expires=T0 + timedelta(days=1)), Claim(), RegisteredSigner()) == ""


@pytest.mark.parametrize(
    ("fpr", "authority", "expected"),
    [
        (ADA, RegistryAdministrator(), ""),
        (ROOT, RegistryAdministrator(), ""),
        (BEN, RegistryAdministrator(), "Ben is not a registry-admin in the registry in force"),
        (ROOT, PinnedTrustRoot((ROOT,)), ""),
        (ADA, PinnedTrustRoot((ROOT,)), f"trust root pinned in [tool.qms], not {ADA}"),
    ],
)  # fmt: skip
def test_who_may_sign_for_the_registry(fpr: str, authority: Authority, expected: str) -> None:
    found = problem(good(fpr), Claim(), authority)
    assert (expected in found) if expected else found == ""


def test_one_person_is_one_email_across_keys() -> None:
    assert shared_person({"qa": BEN, "registry-admin": ADA}, HISTORY) == ()
    assert shared_person({"qa": BEN, "it-owner": BEN_AGAIN}, HISTORY) == ("it-owner", "qa")
    assert shared_person({"qa": ADA, "it-owner": ADA}, HISTORY) == ("it-owner", "qa")


def test_a_revision_needs_an_approval_and_nothing_that_does_not_count() -> None:
    assert approval_refusal(2, [T0], [], False) == ("", False)
    assert "(no signature)" in approval_refusal(2, [], [], False)[0]
    assert approval_refusal(2, [], ["x.asc: bad"], True)[1] is True
    mixed, _ = approval_refusal(2, [T0], ["x.asc: bad"], False)
    assert "has a signature that does not count: x.asc: bad" in mixed


def test_a_revision_may_not_undo_what_came_before() -> None:
    revoked = SignerEntry(
        BEN, "Ben", "ben@corvane.example", ("qa",), T0 - timedelta(days=30), None, T0, "left"
    )
    before = Registry(1, (entry(ADA, "Ada", "registry-admin"), revoked))
    later = T0 + timedelta(days=1)
    lifted = Registry(2, (entry(ADA, "Ada", "registry-admin"), entry(BEN, "Ben", "qa")))
    dropped = Registry(2, (revoked,))
    kept = Registry(2, before.signers)
    assert "lifts or delays the revocation of " + BEN in succession_refusal(
        (before, T0), lifted, later
    )
    assert "deletes signers " + ADA in succession_refusal((before, T0), dropped, later)
    assert "approved before revision 1 was" in succession_refusal((before, later), kept, T0)
    assert succession_refusal((before, T0), kept, later) == ""
    assert succession_refusal(None, kept, T0) == ""
