"""The handbook's own pages beside its controlled documents: home, register, indexes, views."""

from __future__ import annotations

import re

ROOT = "index"
REGISTER = "register"
# Each document type's folder has an index page listing its documents.
TYPE_INDEX = "*/index"

# The docname patterns that are not controlled documents when [tool.qms] site_pages is unset.
DEFAULT_SITE_PAGES = (ROOT, REGISTER, TYPE_INDEX)
# The pages every set of a release carries, whatever documents it holds.
IN_EVERY_SET = (ROOT, REGISTER)
# Site-wide pages listed under "Handbook" in the sidebar, when the handbook has them.
HANDBOOK_PAGES = (
    (REGISTER, "Document register"),
    ("traceability", "Traceability matrix"),
    ("training", "Training matrix"),
    ("release-changes", "Changes between releases"),
    ("frameworks/index", "Frameworks"),
)


def type_index(folder: str) -> str:
    """The index page of a document type's folder."""
    return TYPE_INDEX.replace("*", folder, 1)


# Build tags, for `{only}` blocks that let a site page differ between a preview and each
# release set (such as the dashboard on the auditor pack's home page): a preview carries
# PREVIEW_TAG, a release set's build the tag of its set.
PREVIEW_TAG = "preview"


def set_tag(name: str) -> str:
    """The build tag of the release set `name`: `set_staff` (a tag is a Python name)."""
    return "set_" + re.sub(r"\W", "_", name)
