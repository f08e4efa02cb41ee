"""Unit tests of the training model: requirements, roster, records and derived states."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from qms.model.approval import StatementError
from qms.model.document import Version
from qms.model.frontmatter import parse_document
from qms.model.registry_history import RegistryHistory
from qms.model.roster import Roster, RosterError, from_csv
from qms.model.training import (
    Completion,
    InForce,
    Person,
    Requirement,
    RoleSpell,
    TrainingPolicy,
    TrainingState,
    assign,
    share_trained,
)
from qms.model.training_record import (
    Completed,
    Method,
    TrainingRecord,
    record_authority,
    record_refusal,
)

from .test_frontmatter_model import VALID

PARSED = parse_document("docs/policies/pol-acc-001.md", VALID).document
assert PARSED is not None
BASE = PARSED
V1, V1_1, V2 = Version(1, 0), Version(1, 1), Version(2, 0)
SOP = replace(BASE, id="SOP-GMP-004", type="sop", tags=("gxp",), version=V1_1)  # type: ignore[arg-type]
POLICY = TrainingPolicy((Requirement(("production-operator",), types=("sop",), tags=("gxp",)),))
FPR = "A" * 40
ANA = Person("E1001", "Ana Petrova", (RoleSpell("production-operator", date(2025, 1, 6)),), (FPR,))
ITEM = InForce(
    SOP,
    approved={V1: "d1", V1_1: "d11"},
    effective={V1: date(2026, 1, 1), V1_1: date(2026, 6, 1)},
)


def done(version: Version, digest: str, on: date = date(2026, 2, 1)) -> Completion:
    return Completion("E1001", "SOP-GMP-004", version, digest, on, "self", "x.json")


def test_requirements_select_by_id_or_by_type_and_tag() -> None:
    assert POLICY.roles_for(SOP) == ("production-operator",)
    assert POLICY.roles_for(replace(SOP, tags=())) == ()
    assert POLICY.roles_for(BASE) == ()
    by_id = TrainingPolicy((Requirement(("all-staff",), ids=(BASE.id,)),))
    assert by_id.roles_for(BASE) == ("all-staff",) and by_id.roles_for(SOP) == ()


def test_a_minor_version_keeps_training_unless_configured() -> None:
    on = date(2026, 7, 1)
    assert assign(ANA, ITEM, POLICY, [done(V1, "d1")], on).state is TrainingState.DONE
    strict = replace(POLICY, retrain_on_minor=True)
    result = assign(ANA, ITEM, strict, [done(V1, "d1")], on)
    assert result.state is TrainingState.DUE and result.due == date(2026, 7, 1)


def test_a_major_version_resets_training_and_dates_it_from_its_effective_day() -> None:
    major = InForce(
        replace(SOP, version=V2),
        {V1: "d1", V1_1: "d11", V2: "d2"},
        {V1: date(2026, 1, 1), V1_1: date(2026, 6, 1), V2: date(2026, 9, 1)},
    )
    old = [done(V1_1, "d11", date(2026, 6, 2))]
    assert assign(ANA, major, POLICY, old, date(2026, 9, 15)).state is TrainingState.DUE
    late = assign(ANA, major, POLICY, old, date(2026, 10, 2))
    assert late.state is TrainingState.OVERDUE and late.due == date(2026, 10, 1)
    fresh = assign(ANA, major, POLICY, [*old, done(V2, "d2", date(2026, 8, 20))], date(2026, 10, 2))
    assert fresh.state is TrainingState.DONE and fresh.completion is not None


def test_a_completion_counts_only_for_approved_content() -> None:
    # 1.x took effect on 1 January, so training on it was due by 31 January.
    wrong = assign(ANA, ITEM, POLICY, [done(V1_1, "tampered")], date(2026, 6, 5))
    assert wrong.state is TrainingState.OVERDUE and wrong.due == date(2026, 1, 31)


def test_joining_a_role_later_moves_the_due_date() -> None:
    joiner = Person("E1002", "Ben Ortiz", (RoleSpell("production-operator", date(2026, 8, 1)),))
    result = assign(joiner, ITEM, POLICY, [], date(2026, 8, 2))
    assert result.state is TrainingState.DUE and result.due == date(2026, 8, 31)
    leaver = Person(
        "E1003", "Cy Dunn", (RoleSpell("production-operator", date(2025, 1, 1), date(2026, 3, 31)),)
    )
    assert assign(leaver, ITEM, POLICY, [], date(2026, 8, 2)).state is TrainingState.NOT_REQUIRED
    states = [assign(p, ITEM, POLICY, [], date(2026, 8, 2)) for p in (joiner, leaver)]
    assert share_trained(states) == (0, 1)


def test_a_stricter_requirement_shortens_the_due_period_for_its_roles_only() -> None:
    # GMP: operators are trained on a revised batch SOP by its effective date.
    strict = Requirement(("production-operator",), ids=("SOP-GMP-004",), due_days=0)
    general = Requirement(("production-operator", "qa"), types=("sop",))
    policy = TrainingPolicy((general, strict))
    assert policy.as_dict()["requirements"][1]["due_days"] == 0
    assert "due_days" not in policy.as_dict()["requirements"][0]
    late = assign(ANA, ITEM, policy, [], date(2026, 1, 2))
    assert late.state is TrainingState.OVERDUE and late.due == date(2026, 1, 1)
    reviewer = Person("E2001", "Hanna Berg", (RoleSpell("qa", date(2025, 1, 1)),))
    relaxed = assign(reviewer, ITEM, policy, [], date(2026, 1, 2))
    assert relaxed.state is TrainingState.DUE and relaxed.due == date(2026, 1, 31)


def test_roster_round_trips_in_one_canonical_form() -> None:
    roster = Roster(
        (
            ANA,
            Person(
                "E0999", 'Zoë "Z" Ruiz', (RoleSpell("qa", date(2024, 5, 1), date(2026, 1, 31)),)
            ),
        )
    )
    data = roster.to_bytes()
    again = Roster.from_bytes(data, "roster.yaml")
    assert again.to_bytes() == data
    assert again.get("E0999") == roster.people[1] and again.get("E1001") == ANA


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("people: [{employee: E1, name: A, roles: []}]", "roster.yaml:1: 'roles' must list"),
        ("people: [{employee: E1, name: A, roles: [{role: qa, from: 2026-13-01}]}]",
         "roster.yaml:1: not a YAML roster: month must be in 1..12"),
        ("people: [{employee: E1, name: A, birthday: 1990-01-01,"
         " roles: [{role: qa, from: 2026-01-01}]}]",
         "roster.yaml:1: field birthday is not kept"),
        ("people: [{employee: E1, name: A,"
         " roles: [{role: qa, from: 2026-02-01, until: 2026-01-01}]}]",
         "until 2026-01-01 lies before from 2026-02-01"),
    ],
)  # fmt: skip
def test_a_bad_roster_is_named(text: str, message: str) -> None:
    with pytest.raises(RosterError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Roster.from_bytes(text.encode(), "roster.yaml")


def test_an_hr_export_imports_whole_or_lists_every_bad_row() -> None:
    header = "employee,name,role,from,until,keys\n"
    good = header + f"E1,Ana,qa,2026-01-01,,{FPR}\nE1,Ana,trainer,2026-02-01,2026-06-30,\n"
    roster, problems = from_csv(good, "hr.csv")
    assert problems == () and roster is not None
    [ana] = roster.people
    assert ana.roles_on(date(2026, 3, 1)) == ("qa", "trainer") and ana.keys == (FPR,)
    bad = header + "E1,Ana,qa,2026-01-01,,\nE2,Bo,qa,yesterday,,\nE1,Anna,qa,2026-01-01,,\n"
    roster, problems = from_csv(bad, "hr.csv")
    assert roster is None
    assert problems[0].startswith("hr.csv:3: ") and "'yesterday' is not a date" in problems[0]
    assert problems[1].startswith("hr.csv:4: employee E1 is named 'Anna' here")
    assert from_csv("id,name\n", "hr.csv")[1][0].startswith("hr.csv:1: missing column(s) employee")


def record(method: Method, *employees: str, fpr: str = FPR, **extra: str) -> TrainingRecord:
    completions = tuple(
        Completed(e, "SOP-GMP-004", V1_1, "d11", date(2026, 6, 3)) for e in employees
    )
    return TrainingRecord(
        method, completions, "Ana Petrova", fpr, datetime(2026, 6, 3, 10, tzinfo=UTC), **extra
    )


def test_training_records_are_canonical_and_say_how_they_were_made() -> None:
    session = record(Method.SESSION, "E1001", "E1002", form="classroom", title="Line clearance")
    data = session.to_bytes()
    assert TrainingRecord.from_bytes(data) == session
    assert b'"method":"session"' in data and b'"form":"classroom"' in data
    with pytest.raises(StatementError, match="not in canonical form"):
        TrainingRecord.from_bytes(data.replace(b'{"', b'{ "', 1))
    imported = record(Method.IMPORT, "E1001", source_system="LMS", source_sha256="ab" * 32)
    assert TrainingRecord.from_bytes(imported.to_bytes()).source_system == "LMS"


def test_a_person_acknowledges_only_for_themselves_with_a_listed_key() -> None:
    keys = {"E1001": (FPR,)}
    history = RegistryHistory(())
    at = datetime(2026, 6, 3, 10, tzinfo=UTC)

    def refusal(made: TrainingRecord, revoked: frozenset[str] = frozenset()) -> str:
        authority = record_authority(made, keys, revoked)
        return record_refusal(made) or authority.refusal(history, made.signer_fingerprint, at)[1]

    # The roster's key counts though no signer registry names it.
    assert refusal(record(Method.SELF, "E1001")) == ""
    assert "exactly one person" in refusal(record(Method.SELF, "E1001", "E1002"))
    other = record(Method.SELF, "E1001", fpr="B" * 40)
    assert "a person acknowledges only for themselves" in refusal(other)
    assert "OpenPGP revocation" in refusal(record(Method.SELF, "E1001"), frozenset({FPR}))
    # A trainer's attestation needs the registry role: an empty registry admits no one.
    session = record(Method.SESSION, "E1001", form="classroom", title="x")
    assert refusal(session) != ""
    odd = record(Method.SESSION, "E1001", form="webinar", title="x")
    assert "session form 'webinar'" in record_refusal(odd)


def test_an_effectiveness_gate_holds_a_version_until_enough_are_trained() -> None:
    from qms.model.status import Evidence, Status, derive_status

    signed = frozenset({"authored", "reviewed", "approved"})
    required = ("authored", "reviewed", "approved")
    on = date(2026, 7, 1)
    short = derive_status(SOP, Evidence(signed, gate=0.9, trained=(8, 10)), required, on)
    assert short.status is Status.APPROVED
    assert (
        short.reason
        == "approved; effective once 90% of the affected staff are trained (8 of 10 so far)"
    )
    enough = derive_status(SOP, Evidence(signed, gate=0.9, trained=(9, 10)), required, on)
    assert enough.status is Status.EFFECTIVE
    assert (
        derive_status(SOP, Evidence(signed, trained=(0, 10)), required, on).status
        is Status.EFFECTIVE
    )
    assert TrainingPolicy(gates=(("procedure", 0.9),)).gate_for(SOP) == 0.0
    assert TrainingPolicy(gates=(("sop", 0.9),)).gate_for(SOP) == 0.9


@pytest.mark.parametrize(
    ("training", "message"),
    [
        ({"due_days": 0}, "[tool.qms.training] due_days must be a whole number of days"),
        ({"requirements": [{"types": ["policy"]}]}, "requirements[0] names no roles"),
        (
            {"requirements": [{"roles": ["qa"], "types": ["memo"]}]},
            "types must list document types",
        ),
        ({"gates": {"policy": 1.5}}, "gates.policy must be a share above 0 and at most 1"),
        ({"reminders": True}, "[tool.qms.training] has an unknown key reminders"),
    ],
)
def test_a_bad_training_table_is_one_error_naming_it(
    training: dict[str, object], message: str
) -> None:
    from pathlib import Path

    from qms.config import config_from_table
    from qms.errors import ConfigError

    with pytest.raises(ConfigError) as raised:
        config_from_table(Path("."), {"training": training})
    assert message in str(raised.value)


def test_a_training_table_becomes_the_policy_the_registry_approves() -> None:
    from pathlib import Path

    from qms.config import config_from_table

    table = {
        "training": {"due_days": 14, "requirements": [{"roles": ["qa"], "ids": ["SOP-QA-002"]}]}
    }
    config = config_from_table(Path("."), table)
    assert config.training == TrainingPolicy((Requirement(("qa",), ids=("SOP-QA-002",)),), 14)
    assert config.signing_policy()["training"]["due_days"] == 14
    assert "gates" not in config.signing_policy()["training"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"method": "webinar"}, "'method' must be one of self, session, import"),
        ({"completions": []}, "'completions' must list at least one completion"),
        ({"session": None}, "a session record, and only it, names its session"),
        ({"signer_name": ""}, "'signer_name' must be non-empty text"),
    ],
)
def test_a_malformed_training_record_says_what_is_wrong(
    change: dict[str, object], message: str
) -> None:
    import json

    from qms.model.approval import canonical_json

    data = record(Method.SESSION, "E1001", form="classroom", title="x").as_dict()
    data.update(change)
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(StatementError, match=message):
        TrainingRecord.from_bytes(canonical_json(json.loads(json.dumps(data))))
