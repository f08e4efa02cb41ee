"""The pure rules of risk acceptance: levels, the owner's role, lapses, the statement's bytes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from qms.config import config_from_table
from qms.errors import ConfigError
from qms.model.canonical import StatementError
from qms.model.risk_acceptance import (
    DEFAULT_POLICY,
    RISK_OWNER,
    Acceptance,
    AcceptanceLevel,
    AcceptancePolicy,
    Lapse,
    RiskNow,
    lapse,
    level_problems,
    owner_role,
    signing_refusal,
)
from tests.test_hostile_input import json_texts

POLICY = AcceptancePolicy(
    (
        AcceptanceLevel(8, (RISK_OWNER,)),
        AcceptanceLevel(15, ("ciso",)),
        AcceptanceLevel(25, ("ceo",)),
    )
)
RISK = RiskNow("RSK-022", 2, 4, "Chief Information Officer", "REG-ISMS-002", "1.0", True)
SIGNED = datetime(2026, 10, 14, 9, 0, tzinfo=UTC)
ACCEPTED = Acceptance(
    "RSK-022", 2, 4, "REG-ISMS-002", "1.0", date(2027, 10, 14), "Anna CIO", "F" * 40, "cio",
    SIGNED, "paper fallback",
)  # fmt: skip


def test_each_score_needs_its_level_or_a_higher_one() -> None:
    assert POLICY.allowed(8, "cio") == ("cio", "ciso", "ceo")
    assert POLICY.allowed(9, "cio") == ("ciso", "ceo")
    assert POLICY.allowed(16, "cio") == ("ceo",)
    # An owner field naming no role leaves the owner's level to the higher ones.
    assert POLICY.allowed(4, "") == ("ciso", "ceo")
    assert DEFAULT_POLICY.allowed(25, "cio") == ("cio",)
    assert POLICY.roles == ("ciso", "ceo")


def test_levels_must_rise_and_reach_the_highest_score() -> None:
    assert level_problems(POLICY.levels) == ""
    assert "must rise" in level_problems([AcceptanceLevel(15, ("a",)), AcceptanceLevel(8, ("b",))])
    assert "must rise" in level_problems([AcceptanceLevel(8, ("a",)), AcceptanceLevel(8, ("b",))])
    assert "up_to = 25" in level_problems([AcceptanceLevel(20, ("a",))])


def test_the_owner_field_names_a_role_by_title_or_key() -> None:
    titles = {"cio": "Chief  Information Officer", "ceo": "Chief Executive Officer"}
    assert owner_role("chief information officer", titles) == "cio"
    assert owner_role("CEO", titles) == "ceo"
    assert owner_role("isms-manager", titles, {"isms-manager"}) == "isms-manager"
    assert owner_role("Site Head Cork", titles, {"isms-manager"}) == ""


def test_signing_is_refused_for_an_unknown_risk_a_past_date_or_a_role_below_the_level() -> None:
    assert signing_refusal(ACCEPTED, RISK, POLICY, "cio") == ""
    assert signing_refusal(ACCEPTED, None, POLICY, "cio") == (
        "RSK-022 is not a risk of this handbook"
    )
    past = replace(ACCEPTED, until=SIGNED.date())
    assert "not after today" in signing_refusal(past, RISK, POLICY, "cio")
    high = replace(ACCEPTED, likelihood=3, impact=4)
    assert signing_refusal(high, RISK, POLICY, "cio") == (
        "the role 'cio' may not accept a score of 12; that needs a holder of 'ciso' or 'ceo'"
    )


def test_lapses_score_expiry_and_role_in_that_order() -> None:
    on = date(2027, 1, 1)
    assert lapse(ACCEPTED, RISK, POLICY, "cio", ("cio",), on) == (None, "")
    # The same score by other factors still holds; a higher one does not.
    assert (
        lapse(ACCEPTED, replace(RISK, likelihood=4, impact=2), POLICY, "cio", ("cio",), on)[0]
        is None
    )
    # A risen score is named first, even when the acceptance has also expired.
    risen = replace(RISK, likelihood=3)
    why, reason = lapse(ACCEPTED, risen, POLICY, "cio", ("cio",), date(2099, 1, 1))
    assert why is Lapse.SCORE and reason.startswith("the current score 12 is above the accepted 8")
    why, reason = lapse(
        ACCEPTED, replace(RISK, likelihood=3, impact=3), POLICY, "cio", ("cio",), on
    )
    assert why is Lapse.SCORE and reason.startswith("the current score 9 is above the accepted 8")
    why, reason = lapse(ACCEPTED, RISK, POLICY, "cio", ("cio",), date(2027, 10, 15))
    assert why is Lapse.EXPIRED and "expired on 2027-10-14" in reason
    assert lapse(ACCEPTED, RISK, POLICY, "cio", ("cio",), date(2027, 10, 14))[0] is None
    why, reason = lapse(ACCEPTED, RISK, POLICY, "cio", None, on)
    assert why is Lapse.ROLE and "no longer holds the role 'cio'" in reason
    why, reason = lapse(ACCEPTED, RISK, POLICY, "cio", ("author",), on)
    assert why is Lapse.ROLE
    # The owner changed: the signer's role no longer allows the score at its level.
    why, reason = lapse(ACCEPTED, RISK, POLICY, "isms-manager", ("cio",), on)
    assert why is Lapse.ROLE and "no longer allows a score of 8" in reason


def test_the_statement_round_trips_in_canonical_bytes_only() -> None:
    data = ACCEPTED.to_bytes()
    assert Acceptance.from_bytes(data) == ACCEPTED
    with pytest.raises(StatementError, match="not in canonical form"):
        Acceptance.from_bytes(data.replace(b'","', b'", "', 1))
    with pytest.raises(StatementError, match="not likelihood times impact"):
        Acceptance.from_bytes(data.replace(b'"score":8', b'"score":9'))
    with pytest.raises(StatementError, match="'likelihood' must be a whole number from 1 to 5"):
        Acceptance.from_bytes(data.replace(b'"likelihood":2', b'"likelihood":6'))
    with pytest.raises(StatementError, match="not a qms-risk-acceptance/1"):
        Acceptance.from_bytes(b'{"schema":"qms-training/1"}\n')


@given(data=json_texts())
def test_acceptances_refuse_hostile_input_with_their_own_error(data: bytes) -> None:
    with pytest.raises(StatementError):
        Acceptance.from_bytes(data)


LEVELS = {
    "levels": [
        {"up_to": 8, "roles": ["risk-owner"]},
        {"up_to": 15, "roles": ["ciso"]},
        {"up_to": 25, "roles": ["ceo"]},
    ]
}


def test_levels_are_part_of_the_signing_policy_only_when_configured(tmp_path: Path) -> None:
    plain = config_from_table(tmp_path, {})
    assert "risk_acceptance" not in plain.signing_policy()
    assert plain.risk_acceptance is None
    configured = config_from_table(
        tmp_path,
        {"risk_acceptance": LEVELS, "roles": {"ciso": "Chief Information Security Officer"}},
    )
    assert configured.signing_policy()["risk_acceptance"] == LEVELS
    assert {k: v for k, v in configured.signing_policy().items() if k != "risk_acceptance"} == {
        **plain.signing_policy(),
        "role_titles": {"ciso": "Chief Information Security Officer"},
    }


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"levels": []}, "[tool.qms.risk_acceptance] levels must be an array of tables"),
        ({}, "[tool.qms.risk_acceptance] needs levels"),
        ({"levels": [{"up_to": 30, "roles": ["ceo"]}]}, "levels[0]: up_to must be a score"),
        ({"levels": [{"up_to": 25, "roles": ["CEO"]}]}, "levels[0]: roles must list role keys"),
        ({"levels": [{"up_to": 20, "roles": ["ceo"]}]}, "the last level must reach up_to = 25"),
        ({"levels": [{"up_to": 25, "roles": ["ceo"]}, {"up_to": 25, "roles": ["x"]}]},
         "levels must rise"),
        ({"levels": [{"up_to": 25, "roles": ["ceo"], "by": 1}]}, "holds up_to and roles only"),
        ({**LEVELS, "owner_roles": ["Clinical"]}, "owner_roles must list role keys"),
        ({**LEVELS, "owners": []}, "has an unknown key"),
    ],
)  # fmt: skip
def test_bad_levels_are_one_line_config_errors(
    tmp_path: Path, table: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        config_from_table(tmp_path, {"risk_acceptance": table})
    assert message in str(error.value) and "\n" not in str(error.value)


def test_owner_roles_may_carry_the_titles_risk_owner_fields_name(tmp_path: Path) -> None:
    table = {**LEVELS, "owner_roles": ["clinical-operations"]}
    titles = {"clinical-operations": "Head of Clinical Operations"}
    with pytest.raises(ConfigError, match="names roles no approval rule or release uses"):
        config_from_table(tmp_path, {"risk_acceptance": LEVELS, "roles": titles})
    config = config_from_table(tmp_path, {"risk_acceptance": table, "roles": titles})
    assert config.signing_policy()["risk_acceptance"]["owner_roles"] == ["clinical-operations"]
    assert owner_role("Head of Clinical Operations", dict(config.role_titles)) == (
        "clinical-operations"
    )
