"""The JSON Schemas of the handbook's files: loading, located errors, and facts they share."""

from __future__ import annotations

import re
import tomllib
from importlib.resources import files
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from qms.model.approval import Meaning
from qms.model.catalogue import parse_catalogue
from qms.model.ceremony import WORDING_KEYS
from qms.model.document import (
    MAX_ID_LENGTH,
    VERSION_PATTERN,
    Classification,
    DocumentType,
)
from qms.model.frontmatter import parse_document
from qms.model.located import load_located
from qms.model.schemas import problems, schema, validator
from qms.model.vocabulary import ID_PATTERN
from tests.conftest import REPO

NAMES = (
    "approval",
    "capa-import",
    "capa-statement",
    "catalogue",
    "config",
    "deviation",
    "external",
    "frontmatter",
    "impact",
    "iq-record",
    "manifest",
    "metric-results",
    "migration",
    "risk-acceptance",
    "roster-approval",
    "roster",
    "signers",
    "training-record",
)


def test_every_schema_is_package_data_and_valid_draft_2020_12() -> None:
    folder = files("qms").joinpath("schemas")
    found = sorted(p.name for p in folder.iterdir() if p.name.endswith(".schema.json"))
    assert found == [f"{name}.schema.json" for name in NAMES]
    for name in NAMES:
        assert schema(name)["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert validator(name) is validator(name)  # compiled once
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "schemas/*.schema.json" in pyproject["tool"]["setuptools"]["package-data"]["qms"]


def test_schemas_agree_with_the_model() -> None:
    fields = schema("frontmatter")["properties"]
    assert fields["id"]["pattern"] == ID_PATTERN.pattern
    assert fields["id"]["maxLength"] == MAX_ID_LENGTH
    assert fields["version"]["pattern"] == VERSION_PATTERN.pattern
    assert fields["type"]["enum"] == [str(t) for t in DocumentType]
    assert fields["classification"]["enum"] == [str(c) for c in Classification]
    approval = schema("approval")["allOf"][1]["properties"]
    assert approval["meaning"]["enum"] == [str(m) for m in Meaning]
    keys = schema("config")["properties"]["approvals"]["propertyNames"]["enum"]
    assert keys == sorted({"default", *(str(t) for t in DocumentType)})
    wording = schema("config")["properties"]["signing"]["properties"]["wording"]
    assert wording["propertyNames"]["enum"] == list(WORDING_KEYS)


def test_located_yaml_maps_every_path_to_its_line() -> None:
    located = load_located("a:\n  b:\n    - x\n    - y: 1\nc: &z [1, 2]\nd: *z\n")
    assert located is not None
    assert located.line(("a", "b", 1, "y")) == 4
    assert located.line(("a", "b", 0)) == 3
    assert located.line(("c", 1)) == 5
    # An alias is marked where it is written; what it stands for falls back to it.
    assert located.line(("d", 1)) == 6
    assert located.line(("nowhere", 3)) == 1
    assert load_located("") is None


def test_a_bad_tag_in_a_block_list_is_reported_at_its_line() -> None:
    source = (
        "---\nid: POL-ACC-001\ntitle: T\ntype: policy\nversion: '1.0'\nowner: O\n"
        "classification: internal\nreview_months: 12\ntags:\n  - gxp\n  - ''\n---\n"
    )
    assert [(f.line, f.message) for f in parse_document("x.md", source).findings] == [
        (11, "front matter field 'tags' must be a list of words, like [gxp, it]")
    ]


def test_a_requirement_problem_is_reported_at_its_field() -> None:
    text = "key: c\nrequirements:\n  - id: C-1\n    title: T\n    maps_to: C-2\n"
    catalogue, findings = parse_catalogue("c.yaml", "c", text)
    assert catalogue is None
    assert [(f.line, f.message) for f in findings] == [
        (5, "C-1: 'maps_to' must be a list of requirement ids")
    ]


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20), st.dates()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = st.sampled_from(
    ["id", "schema", "signers", "requirements", "approvals", "sets", "roles", "includes", "x"]
)


@given(name=st.sampled_from(NAMES), key=FIELDS, value=VALUES)
def test_any_value_is_problems_never_a_crash(name: str, key: str, value: Any) -> None:
    for instance in (value, {key: value}):
        for found in problems(name, instance):
            assert found.message and "\n" not in found.message
            # Every message is one the schema words, never the validator's fallback.
            assert not re.search(r"is not (of type|valid under)|does not match", found.message)


VALID_FRONT_MATTER = {
    "id": "POL-ACC-001",
    "title": "T",
    "type": "policy",
    "version": "1.0",
    "owner": "O",
    "classification": "internal",
    "review_months": 12,
}
FRONT_FIELDS = st.sampled_from([*schema("frontmatter")["properties"], "status"])
FRONT_VALUES = st.one_of(
    VALUES,
    st.sampled_from(["POL-ACC-001", "policy", "internal", "1.0", 12, 12.0, True, "", ["gxp"]]),
)


@given(changes=st.dictionaries(FRONT_FIELDS, FRONT_VALUES, max_size=3), drop=FRONT_FIELDS)
def test_values_judged_once_give_the_full_check_s_answer(
    changes: dict[str, Any], drop: str
) -> None:
    instance = {k: v for k, v in {**VALID_FRONT_MATTER, **changes}.items() if k != drop}
    for _ in range(2):  # the second time from what was judged the first
        assert (problems("frontmatter", instance) == []) == validator("frontmatter").is_valid(
            instance
        )


def test_the_fast_check_runs_only_where_it_must_agree() -> None:
    from qms.model.schemas import _fast_check

    assert _fast_check("approval") is not None and _fast_check("training-record") is not None
    # Integers, formats or patterns: the fast check could disagree, so it is not used.
    for name in ("frontmatter", "config", "migration", "roster", "roster-approval"):
        assert _fast_check(name) is None


JSON_VALUES = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(
    base=st.sampled_from(["approval", "training-record"]),
    changes=st.dictionaries(
        st.sampled_from(["schema", "document_id", "includes", "meaning", "method", "completions",
                         "comment", "commit", "session", "source", "x"]),
        JSON_VALUES, max_size=3,
    ),
)  # fmt: skip
def test_the_fast_check_never_passes_what_the_full_check_refuses(
    base: str, changes: dict[str, object]
) -> None:
    from qms.model.schemas import _fast_valid, validator

    valid: Any = {
        "approval": {
            "schema": "qms-approval/2", "document_id": "POL-ACC-001", "version": "1.0",
            "content_sha256": "ab", "includes": [], "meaning": "approved", "signer_name": "A",
            "signer_fingerprint": "F" * 40, "role": "qa", "signed_at": "2026-01-01T00:00:00Z",
            "comment": "", "commit": "c" * 40,
        },
        "training-record": {
            "schema": "qms-training/1", "method": "self", "signer_name": "A",
            "signer_fingerprint": "F" * 40, "signed_at": "2026-01-01T00:00:00Z", "comment": "",
            "completions": [{"employee": "E1", "document_id": "D", "version": "1.0",
                             "content_sha256": "ab", "completed_on": "2026-01-01"}],
        },
    }[base]  # fmt: skip
    instance: Any = {**valid, **changes}
    if _fast_valid(base, instance):
        assert not list(validator(base).iter_errors(instance))
