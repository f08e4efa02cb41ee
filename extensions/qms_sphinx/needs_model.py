"""The traceability vocabulary (`qms.model.vocabulary`) as sphinx-needs configuration."""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config

from qms.model.vocabulary import (
    ID_REGEX,
    LINK_TYPES,
    NEED_TYPES,
    REQUIRED_FIELDS,
    Field,
    NeedType,
    RequiredFields,
)


def _field_schema(field: Field) -> dict[str, Any]:
    if field.values:
        schema: dict[str, Any] = {"type": "string", "enum": [str(v) for v in field.values]}
    elif field.minimum is not None:
        schema = {"type": "integer", "minimum": field.minimum}
        if field.maximum is not None:
            schema["maximum"] = field.maximum
    else:
        schema = {"type": "string"}
    return {"description": field.description, "schema": schema, "nullable": True}


def _need_type(spec: NeedType) -> dict[str, Any]:
    found: dict[str, Any] = {
        "directive": spec.name,
        "title": spec.title,
        "prefix": spec.prefix,
        "color": spec.color,
    }
    if spec.fields:
        found["fields"] = {field.name: _field_schema(field) for field in spec.fields}
    if spec.links:
        found["links"] = {link: {"target_types": list(to)} for link, to in spec.links}
    return found


def _schema(rule: RequiredFields) -> dict[str, Any]:
    """A sphinx-needs schema: needs of the type (matching `when`) must set the fields."""
    select: dict[str, Any] = {"type": {"const": rule.need_type}}
    select.update({field: {"const": value} for field, value in rule.when})
    suffix = "-".join(value for _, value in rule.when) or "fields"
    return {
        "id": f"{rule.need_type}-{suffix}",
        "message": rule.message,
        "select": {"properties": select, "required": list(select)},
        "validate": {"local": {"required": list(rule.fields)}},
    }


def needs_types() -> list[dict[str, Any]]:
    """`needs_types`: each need type with its fields (and their JSON schemas) and links."""
    return [_need_type(spec) for spec in NEED_TYPES]


def needs_schemas() -> list[dict[str, Any]]:
    """The schemas of the fields each type cannot do without, checked by sphinx-needs."""
    return [_schema(rule) for rule in REQUIRED_FIELDS]


def needs_links() -> dict[str, dict[str, Any]]:
    """`needs_links`: each link type and how it reads in each direction."""
    return {
        link.name: {"incoming": link.incoming, "outgoing": link.outgoing} for link in LINK_TYPES
    }


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
    config.needs_types = needs_types()
    config.needs_links = needs_links()
    config.needs_schema_definitions = {"schemas": needs_schemas()}
    config.needs_id_required = True
    config.needs_id_regex = ID_REGEX
    config.needs_layouts = {**getattr(config, "needs_layouts", {}), LAYOUT: dict(QMS_LAYOUT)}
    config.needs_default_layout = LAYOUT
