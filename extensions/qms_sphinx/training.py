"""The training matrix page: completion per document and role, and per person where allowed."""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from qms.model.document import register_key
from qms_sphinx.release_mode import release_of
from qms_sphinx.settings import settings
from qms_sphinx.state import documents, site_state, view_pages
from qms_sphinx.tables import Html, html_link, html_node, html_table

SUMMARY = ("Document", "Version", "Role", "Trained")
PEOPLE = ("Employee", "Name", "Document", "Version", "State", "Due", "Completed", "How")


class training_placeholder(nodes.General, nodes.Element):  # noqa: N801 - docutils node naming
    """Placeholder, filled in once every document's training is known."""


class TrainingMatrixDirective(SphinxDirective):
    """``{qms-training-matrix}``: who must read what and how many have, per document and role;
    with every person's state where the build admits personal data."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        view_pages(self.env).add(self.env.docname)
        node = training_placeholder()
        self.set_source_info(node)
        return [node]


def admits_personal_data(app: Sphinx) -> bool:
    """A preview shows everything the repository holds; a release set only what its
    classifications admit (`personal_data` in the release override)."""
    release = release_of(app.config)
    return release is None or bool(release.get("personal_data"))


def render(app: Sphinx, fromdocname: str) -> list[nodes.Node]:
    """The two tables, from the page states the site verified."""
    config = settings(app)
    state = site_state(app.env)
    entries = sorted(documents(app.env).items(), key=lambda item: register_key(item[1]))
    summary: list[list[str | Html]] = []
    people: list[list[str | Html]] = []
    for docname, document in entries:
        page = state.state(docname)
        training = page.training if page is not None else None
        if training is None:
            continue
        link = html_link(app.builder.get_relative_uri(fromdocname, docname), document.id)
        for role in training.roles:
            summary.append(
                [link, str(document.version), config.role_title(role.role),
                 f"{role.done} of {role.affected}"]
            )  # fmt: skip
        for person in training.people:
            people.append(
                [person.employee, person.name, link, str(document.version), str(person.state),
                 person.due.isoformat() if person.due else "",
                 person.completed_on.isoformat() if person.completed_on else "", person.method]
            )  # fmt: skip
    if not summary:
        return [nodes.paragraph("", "No training requirement names a document of this site.")]
    parts: list[nodes.Node] = [
        nodes.rubric("", "By document and role"),
        html_node(html_table(SUMMARY, summary, ["qms-training", "qms-sortable"])),
        nodes.rubric("", "By person"),
    ]
    if admits_personal_data(app):
        parts.append(html_node(html_table(PEOPLE, people, ["qms-training", "qms-sortable"])))
    else:
        parts.append(
            nodes.paragraph(
                "",
                "Not in this set: who was trained when is personal data, published only in "
                "sets whose classification admits it.",
            )
        )
    return parts


def fill(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Replace each placeholder with the matrix."""
    for node in list(doctree.findall(training_placeholder)):
        node.replace_self(render(app, docname))


def setup(app: Sphinx) -> None:
    """Register the directive and its event."""
    app.add_node(training_placeholder)
    app.add_directive("qms-training-matrix", TrainingMatrixDirective)
    app.connect("doctree-resolved", fill)
