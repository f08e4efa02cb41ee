"""The risk owners' approval of a treatment plan (ISO/IEC 27001 6.1.3 e), in the pure model."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from qms.config import config_from_table
from qms.errors import ConfigError
from qms.model.approval import Meaning
from qms.model.approval_rules import DocumentVerdict, OwnerRule, Record, judge_document
from qms.model.document import DocumentType
from qms.model.registry_history import RegistryHistory
from qms.model.risk_owners import Treated, owner_findings
from qms.model.signers import Registry
from qms.model.status import Status, derive_status

from .test_approval_rules import ANNA, BEN, CARA, DOC, RULES, T0, entry, full_set, record

assert DOC is not None
BASE = DOC
SITE = "E" * 40
PLAN = replace(BASE, type=DocumentType.PLAN, risk_owners=("site-head", "reviewer"))
OWNERS = OwnerRule(Meaning.APPROVED, PLAN.risk_owners)
# Ben reviews and owns risks as 'reviewer' too; Erin heads the site.
REGISTRY = RegistryHistory(
    (
        (
            Registry(
                1,
                (
                    entry(ANNA, "Anna", "author", "site-head"),
                    entry(BEN, "Ben", "reviewer"),
                    entry(CARA, "Cara", "qa", "reviewer"),
                    entry(SITE, "Erin", "site-head"),
                ),
            ),
            datetime(2026, 1, 1, tzinfo=UTC),
        ),
    )
)
NOW = datetime(2026, 11, 30, tzinfo=UTC)
LATER = T0 + timedelta(hours=3)


def judge(*records: Record, owners: OwnerRule | None = OWNERS) -> DocumentVerdict:
    return judge_document(PLAN, "abc", (), records, RULES, REGISTRY, NOW, owners=owners)


def status(verdict: DocumentVerdict) -> tuple[Status, str]:
    derived = derive_status(PLAN, verdict.evidence, [str(r.meaning) for r in RULES], NOW.date())
    return derived.status, derived.reason


def test_each_named_owner_must_approve_before_the_plan_is_approved() -> None:
    verdict = judge(*full_set())
    assert verdict.evidence.meanings == {"authored", "reviewed", "approved"}
    assert verdict.evidence.awaiting_owners == ("site-head", "reviewer")
    assert status(verdict) == (Status.IN_REVIEW, "awaiting risk owners site-head, reviewer")
    # Ben's review is no approval: the owner role gives the owner meaning.
    erin = record(Meaning.APPROVED, SITE, "site-head", LATER)
    verdict = judge(*full_set(), erin)
    assert verdict.evidence.awaiting_owners == ("reviewer",)
    ben = record(Meaning.APPROVED, BEN, "reviewer", LATER + timedelta(hours=1))
    verdict = judge(*full_set(), erin, ben)
    assert [v.problem for v in verdict.verdicts if not v.valid] == []
    assert verdict.evidence.awaiting_owners == ()
    assert status(verdict) == (Status.EFFECTIVE, "approved and in force")
    # Without the rule, the same plan needs no owner.
    assert judge(*full_set(), owners=None).evidence.awaiting_owners == ()


def test_an_owner_signature_is_no_approval_and_a_role_not_named_does_not_count() -> None:
    authored, reviewed, _ = full_set()
    erin = record(Meaning.APPROVED, SITE, "site-head", LATER)
    verdict = judge(authored, reviewed, erin)
    # The owner's approval counts for the owner only: the plan still awaits its approver.
    assert verdict.evidence.meanings == {"authored", "reviewed"}
    assert status(verdict) == (Status.IN_REVIEW, "awaiting approved, risk owners reviewer")
    # A role the plan does not name may not approve it, whoever holds it.
    narrow = replace(OWNERS, roles=("reviewer",))
    verdict = judge(*full_set(), erin, owners=narrow)
    [refused] = [v for v in verdict.verdicts if not v.valid]
    assert refused.record is erin
    assert "Erin signed as 'site-head', which may not give 'approved' here" in refused.problem
    assert "(allowed: qa, reviewer;" in refused.problem


def test_an_owner_who_wrote_the_plan_approves_it_as_owner_but_not_as_approver() -> None:
    # Anna authored it and owns risks as site head: her owner approval counts...
    anna = record(Meaning.APPROVED, ANNA, "site-head", LATER)
    verdict = judge(*full_set(), anna)
    assert [v.problem for v in verdict.verdicts if not v.valid] == []
    assert verdict.evidence.awaiting_owners == ("reviewer",)
    # ...and only once per owner role.
    again = record(Meaning.APPROVED, ANNA, "site-head", LATER + timedelta(hours=1))
    [refused] = [v for v in judge(*full_set(), anna, again).verdicts if not v.valid]
    assert refused.problem == "Anna already signed this version as approved"
    # An owner approval before the review breaks the signing order like any approval.
    early = record(Meaning.APPROVED, SITE, "site-head", T0 + timedelta(minutes=30))
    [refused] = [v for v in judge(*full_set(), early).verdicts if not v.valid]
    assert refused.problem.startswith("approved before it was reviewed")


def test_risk_owners_that_do_not_match_the_risks_named_are_located() -> None:
    plan = replace(PLAN, lines=(("id", 2), ("risk_owners", 9)))
    treated = [
        Treated("RSK-001", 20, "Site Head Cork", "site-head"),
        Treated("RSK-002", 21, "IT Operations Lead", "it-operations"),
        Treated("RSK-003", 24, "IT Operations Lead", "it-operations"),
        Treated("RSK-004", 30, "Facilities Manager", ""),
    ]
    found = owner_findings(plan, "docs/plans/pln.md", treated, rule_configured=True)
    assert [(f.line, f.code, f.message) for f in found] == [
        (9, "risk-owners", f"{plan.id}: risk_owners names 'reviewer', which owns none of the "
         "4 risks the plan names; remove it"),
        (30, "risk-owners", f"{plan.id}: the owner of RSK-004, 'Facilities Manager', names no "
         "role: give the role a title in [tool.qms.roles] that matches it"),
        (21, "risk-owners", f"{plan.id} names RSK-002, RSK-003, owned by 'it-operations' (IT "
         "Operations Lead), but risk_owners does not list 'it-operations': add it, so that "
         "the owner approves"),
    ]  # fmt: skip
    # Named without a rule that asks them to sign: said at the field.
    found = owner_findings(plan, "docs/plans/pln.md", treated[:1], rule_configured=False)
    assert (found[0].line, found[0].code) == (9, "owner-approval")
    assert owner_findings(BASE, "docs/x.md", treated, rule_configured=True) == []


def test_the_owner_rule_is_configured_per_type_and_is_part_of_the_signing_policy() -> None:
    plan = {"authored": ["author"], "approved": ["qa"], "risk_owners": "approved"}
    config = config_from_table(Path("/handbook"), {"approvals": {"plan": plan}})
    assert config.owner_rule(PLAN) == OwnerRule(Meaning.APPROVED, PLAN.risk_owners)
    assert config.owner_rule(replace(PLAN, risk_owners=())) is None
    assert config.owner_rule(replace(PLAN, type=DocumentType.POLICY)) is None
    assert config.signing_policy()["approvals"]["plan"] == {**plan, "risk_owners": "approved"}
    assert "risk_owners" not in config.signing_policy()["approvals"]["default"]
    for table, message in (
        ({**plan, "risk_owners": "reviewed"},
         "[tool.qms.approvals.plan] risk_owners = 'reviewed' is not a signature it takes"),
        ({**plan, "risk_owners": "owned"},
         "[tool.qms.approvals].plan risk_owners has 'owned'; allowed: authored, reviewed, "
         "approved"),
    ):  # fmt: skip
        with pytest.raises(ConfigError) as refused:
            config_from_table(Path("/handbook"), {"approvals": {"plan": table}})
        assert refused.value.message == message
