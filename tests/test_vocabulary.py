"""The traceability vocabulary is consistent, and everything that names its parts agrees."""

from __future__ import annotations

from qms.config import QmsConfig
from qms.model.catalogue import KINDS
from qms.model.site_pages import DEFAULT_SITE_PAGES
from qms.model.vocabulary import (
    FIELD_NAMES,
    ID_PATTERN,
    LINK_NAMES,
    NEED_TYPES,
    REQUIRED_FIELDS,
    RequirementKind,
    allowed_values,
)
from qms_sphinx.needs_model import needs_links, needs_schemas, needs_types


def test_links_and_required_fields_name_what_exists() -> None:
    types = {spec.name: spec for spec in NEED_TYPES}
    for spec in NEED_TYPES:
        for link, targets in spec.links:
            assert link in LINK_NAMES, (spec.name, link)
            assert set(targets) <= types.keys(), (spec.name, targets)
    for rule in REQUIRED_FIELDS:
        fields = {f.name: f for f in types[rule.need_type].fields}
        assert set(rule.fields) <= fields.keys(), rule
        for name, value in rule.when:
            assert value in fields[name].values, rule
    assert len({spec.prefix for spec in NEED_TYPES}) == len(NEED_TYPES)


def test_a_field_name_means_one_thing_across_types() -> None:
    seen: dict[str, object] = {}
    for spec in NEED_TYPES:
        for field in spec.fields:
            assert seen.setdefault(field.name, field) == field, field.name
    assert list(FIELD_NAMES) == list(seen)


def test_sphinx_needs_gets_the_vocabulary() -> None:
    by_type = {t["directive"]: t for t in needs_types()}
    assert by_type.keys() == {spec.name for spec in NEED_TYPES}
    assert by_type["requirement"]["fields"]["kind"]["schema"]["enum"] == list(KINDS)
    assert by_type["risk"]["fields"]["likelihood"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 5,
    }
    assert by_type["procedure"]["links"] == {"implements": {"target_types": ["control"]}}
    assert "fields" not in by_type["evidence"]
    assert set(needs_links()) == set(LINK_NAMES)
    excluded = next(s for s in needs_schemas() if s["id"] == "control-no")
    assert excluded["select"]["properties"]["applicable"] == {"const": "no"}
    assert excluded["validate"] == {"local": {"required": ["justification"]}}


def test_allowed_values_in_words() -> None:
    assert (
        allowed_values("control", "implementation") == "implemented, partial, planned, not-started"
    )
    assert allowed_values("risk", "impact") == "a whole number from 1 to 5"
    assert allowed_values("requirement", "position") == ""
    assert allowed_values("nothing", "kind") == ""


def test_one_id_pattern_and_one_list_of_kinds() -> None:
    assert ID_PATTERN.match("CTL-ACC-001") and ID_PATTERN.match("ISO27001-A-5-15")
    assert not ID_PATTERN.match("CTL.1") and not ID_PATTERN.match("ctl-1")
    assert KINDS == tuple(RequirementKind) == ("annex-a", "management-system", "regulatory")
    assert QmsConfig.site_pages == DEFAULT_SITE_PAGES == ("index", "register", "*/index")
