"""``{qms-catalogue} KEY``: a framework's requirements as needs, generated from its data file."""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx_needs.api import add_need
from sphinx_needs.utils import add_doc

from qms.model.findings import FindingCode
from qms.services.catalogues import CATALOGUE_FOLDER, Catalogues, load_catalogues

logger = logging.getLogger(__name__)


def catalogues_of(app: Sphinx) -> Catalogues:
    """The catalogues in the source folder's data folder."""
    return load_catalogues(Path(app.srcdir) / CATALOGUE_FOLDER, Path(app.confdir))


class CatalogueDirective(SphinxDirective):
    """Generate one requirement need per catalogue entry, with its summary and mapping."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        key = self.arguments[0]
        found = catalogues_of(self.env.app)
        catalogue = found.get(key)
        folder = Path(self.env.srcdir) / CATALOGUE_FOLDER
        for path in folder.glob("*.yaml"):
            self.env.note_dependency(str(path))
        for finding in found.findings:
            if finding.path.endswith(f"/{key}.yaml"):
                logger.warning(finding.render(), type="qms", subtype=FindingCode.CATALOGUE)
        if catalogue is None:
            known = ", ".join(c.key for c in found.catalogues) or "none"
            logger.warning(
                f"no readable catalogue '{key}' in {CATALOGUE_FOLDER}/ (found: {known})",
                location=(self.env.docname, self.lineno),
                type="qms",
                subtype=FindingCode.CATALOGUE,
            )
            return []
        # As sphinx-needs' own directive does: mark the page as holding needs, so
        # that their links are rendered when it is written.
        add_doc(self.env, self.env.docname)
        result: list[nodes.Node] = []
        if catalogue.description:
            result.append(nodes.paragraph("", catalogue.description))
        for position, requirement in enumerate(catalogue.requirements):
            result.extend(
                add_need(
                    self.env.app,
                    self.state,
                    self.env.docname,
                    self.lineno,
                    need_type="requirement",
                    title=f"{requirement.ref} {requirement.title}",
                    id=requirement.id,
                    content=requirement.summary,
                    framework=catalogue.framework,
                    catalogue=catalogue.key,
                    kind=catalogue.kind,
                    ref=requirement.ref,
                    position=position,
                    maps_to=list(requirement.maps_to),
                )
            )
        return result


def setup(app: Sphinx) -> None:
    """Register the directive."""
    app.add_directive("qms-catalogue", CatalogueDirective)
