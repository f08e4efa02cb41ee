"""Status as the site shows it: computed by the same service that `qms status` uses."""

from __future__ import annotations

from sphinx.application import Sphinx

from qms.model.document import Document
from qms.services.handbook import StatusRow, status_of, today
from qms_sphinx.settings import settings


def row_for(app: Sphinx, document: Document) -> StatusRow:
    """The derived status row of `document` for this build."""
    return status_of(document, settings(app), today())


def css_slug(row: StatusRow) -> str:
    """A CSS-safe name of the row's status."""
    return str(row.status.status).replace(" ", "-")
