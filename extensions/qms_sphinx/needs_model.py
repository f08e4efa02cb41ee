"""The traceability model given to sphinx-needs: need types, link types and fields."""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config

# Likelihood and impact are scored 1 (rare / negligible) to 5 (almost certain / severe).
_SCORE: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": 5}


def _text(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}, "nullable": True}


def _enum(description: str, values: list[str]) -> dict[str, Any]:
    return {
        "description": description,
        "schema": {"type": "string", "enum": values},
        "nullable": True,
    }


def _score(description: str) -> dict[str, Any]:
    return {"description": description, "schema": dict(_SCORE), "nullable": True}


NEED_TYPES: list[dict[str, Any]] = [
    {
        "directive": "requirement",
        "title": "Requirement",
        "prefix": "REQ-",
        "color": "#BFD8D2",
        "fields": {
            "framework": _text("The standard or regulation the requirement comes from"),
            "catalogue": _text("Key of the catalogue data file that defines it"),
            "kind": _enum("What meets it", ["annex-a", "management-system", "regulatory"]),
            "ref": _text("The reference as an auditor writes it, e.g. 11.10(e)"),
            "position": {
                "description": "Order within its catalogue",
                "schema": {"type": "integer", "minimum": 0},
                "nullable": True,
            },
        },
        "links": {"maps_to": {"target_types": ["requirement"]}},
    },
    {
        "directive": "control",
        "title": "Control",
        "prefix": "CTL-",
        "color": "#FEDCD2",
        "fields": {
            "applicable": _enum("Statement of Applicability decision", ["yes", "no"]),
            "justification": _text("Why the control is included or excluded"),
            "implementation": _enum(
                "How far the control is implemented",
                ["implemented", "partial", "planned", "not-started"],
            ),
        },
        "links": {
            "implements": {"target_types": ["requirement"]},
            "mitigates": {"target_types": ["risk"]},
        },
    },
    {
        "directive": "risk",
        "title": "Risk",
        "prefix": "RSK-",
        "color": "#DF744A",
        "fields": {
            "asset": _text("The asset or process at risk"),
            "threat": _text("What could go wrong"),
            "vulnerability": _text("The weakness the threat exploits"),
            "likelihood": _score("Inherent likelihood, 1 to 5"),
            "impact": _score("Inherent impact, 1 to 5"),
            "residual_likelihood": _score("Likelihood after treatment, 1 to 5"),
            "residual_impact": _score("Impact after treatment, 1 to 5"),
            "treatment": _enum(
                "Risk treatment option", ["mitigate", "accept", "transfer", "avoid"]
            ),
            "risk_owner": _text("The role accountable for the risk"),
            "acceptance": _text("The owner's recorded acceptance of the residual risk"),
        },
    },
    {
        "directive": "procedure",
        "title": "Procedure",
        "prefix": "PRC-",
        "color": "#DCB239",
        "links": {"implements": {"target_types": ["control"]}},
    },
    {
        "directive": "evidence",
        "title": "Evidence",
        "prefix": "EVD-",
        "color": "#9856A5",
        "links": {"demonstrates": {"target_types": ["control"]}},
    },
]


def _requires(need_type: str, fields: list[str], message: str, **when: str) -> dict[str, Any]:
    """A sphinx-needs schema: needs of `need_type` (matching `when`) must set `fields`."""
    select: dict[str, Any] = {"type": {"const": need_type}}
    select.update({field: {"const": value} for field, value in when.items()})
    return {
        "id": f"{need_type}-{'-'.join(when.values()) or 'fields'}",
        "message": message,
        "select": {"properties": select, "required": list(select)},
        "validate": {"local": {"required": fields}},
    }


# Fields each type cannot do without, checked by sphinx-needs' schema validation.
REQUIRED_FIELDS: list[dict[str, Any]] = [
    _requires("requirement", ["framework"], "a requirement names its framework"),
    _requires(
        "control",
        ["applicable", "implementation"],
        "a control carries its applicability decision and implementation status",
    ),
    _requires(
        "control",
        ["justification"],
        "an excluded control needs a justification",
        applicable="no",
    ),
    _requires(
        "risk",
        [
            "asset",
            "threat",
            "vulnerability",
            "likelihood",
            "impact",
            "residual_likelihood",
            "residual_impact",
            "treatment",
            "risk_owner",
        ],
        "a risk is assessed before and after treatment and has an owner",
    ),
]

LINK_TYPES: dict[str, dict[str, Any]] = {
    "implements": {"incoming": "implemented by", "outgoing": "implements"},
    "mitigates": {"incoming": "mitigated by", "outgoing": "mitigates"},
    "demonstrates": {"incoming": "demonstrated by", "outgoing": "demonstrates"},
    "maps_to": {"incoming": "mapped from", "outgoing": "maps to"},
}

# Need ids follow the document id pattern. No dots: sphinx-needs reads "ID.part" as a need part.
NEED_ID_REGEX = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$"


def allowed_values(need_type: str, field: str) -> str:
    """What a field of a need type accepts, in words, for error messages."""
    for spec in NEED_TYPES:
        if spec["directive"] != need_type:
            continue
        schema = spec.get("fields", {}).get(field, {}).get("schema", {})
        if "enum" in schema:
            return ", ".join(schema["enum"])
        if "minimum" in schema and "maximum" in schema:
            return f"a whole number from {schema['minimum']} to {schema['maximum']}"
    return ""


# sphinx-needs' "clean" layout without its collapse button: the button carries the same
# HTML id on every need of a page (invalid HTML, and an "Anchor defined twice" warning per
# need in every PDF), and a controlled page shows a need's fields, it does not hide them.
LAYOUT = "qms"
QMS_LAYOUT: dict[str, Any] = {
    "grid": "simple",
    "layout": {
        "head": ['<<meta("type_name")>>: **<<meta("title")>>** <<meta_id()>>'],
        "meta": ["<<meta_all(no_links=True)>>", "<<meta_links_all()>>"],
    },
}


def configure_needs(app: Sphinx, config: Config) -> None:
    """Install the traceability model before sphinx-needs resolves its configuration."""
    config.needs_types = [dict(t) for t in NEED_TYPES]
    config.needs_links = {name: dict(spec) for name, spec in LINK_TYPES.items()}
    config.needs_schema_definitions = {"schemas": [dict(schema) for schema in REQUIRED_FIELDS]}
    config.needs_id_required = True
    config.needs_id_regex = NEED_ID_REGEX
    config.needs_layouts = {**getattr(config, "needs_layouts", {}), LAYOUT: dict(QMS_LAYOUT)}
    config.needs_default_layout = LAYOUT
