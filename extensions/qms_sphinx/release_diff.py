"""The ``{qms-release-diff}`` page: what changed between two signed releases, for auditors."""

from __future__ import annotations

from collections.abc import Set

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from qms.errors import QmsError
from qms.model.findings import FindingCode
from qms.model.release_diff_table import sections
from qms.services.release.diff import latest_diff
from qms_sphinx.settings import settings
from qms_sphinx.tables import html_node, html_table

logger = logging.getLogger(__name__)


class release_diff_placeholder(nodes.General, nodes.Element):  # noqa: N801 - docutils naming
    """Placeholder for a release comparison, filled when the page is written."""


class ReleaseDiffDirective(SphinxDirective):
    """``{qms-release-diff}``: the two latest signed releases compared, or the two that
    `:old:` and `:new:` name."""

    has_content = False
    option_spec = {"old": str, "new": str}  # noqa: RUF012 - docutils API

    def run(self) -> list[nodes.Node]:
        diff_pages(self.env).add(self.env.docname)
        node = release_diff_placeholder(
            old=self.options.get("old", ""), new=self.options.get("new", "")
        )
        self.set_source_info(node)
        return [node]


def render(app: Sphinx, node: release_diff_placeholder) -> list[nodes.Node]:
    """The comparison's tables, or one sentence saying why there is none."""
    try:
        diff, reason = latest_diff(settings(app), node["old"], node["new"])
    except QmsError as exc:
        logger.warning(
            f"{{qms-release-diff}}: {exc.message}",
            location=node,
            type="qms",
            subtype=FindingCode.RELEASE_DIFF,
        )
        return [nodes.paragraph("", f"No comparison: {exc.message}.")]
    if diff is None:
        return [nodes.paragraph("", f"No comparison: {reason}.")]
    parts: list[nodes.Node] = [
        nodes.paragraph(
            "",
            f"Release {diff.old} (commit {diff.old_commit[:12]}) compared with release "
            f"{diff.new} (commit {diff.new_commit[:12]}), both verified against their "
            "release signatures.",
        )
    ]
    for section in sections(diff):
        title = f"{section.title} ({len(section.rows)})" if section.rows else section.title
        parts.append(nodes.rubric("", title))
        if section.rows:
            parts.append(html_node(html_table(section.headers, section.rows, ["qms-release-diff"])))
        else:
            parts.append(nodes.paragraph("", section.empty))
    return parts


def diff_pages(env: BuildEnvironment) -> set[str]:
    """Docnames of pages comparing releases: they follow signatures/releases/, which no
    source records, so they are written again on every build."""
    found: set[str] | None = getattr(env, "qms_release_diff_pages", None)
    if found is None:
        found = set()
        env.qms_release_diff_pages = found  # type: ignore[attr-defined]
    return found


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    """Forget a page; re-reading it records it again."""
    diff_pages(env).discard(docname)


def merge(app: Sphinx, env: BuildEnvironment, docnames: Set[str], other: BuildEnvironment) -> None:
    """Take over the pages a parallel reader found."""
    diff_pages(env).update(name for name in diff_pages(other) if name in docnames)


def rewrite(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Every comparison page, to be written again."""
    return sorted(name for name in diff_pages(env) if name in env.found_docs)


def fill(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Replace each placeholder with its comparison."""
    for node in list(doctree.findall(release_diff_placeholder)):
        node.replace_self(render(app, node))


def setup(app: Sphinx) -> None:
    """Register the directive and its events."""
    app.add_node(release_diff_placeholder)
    app.add_directive("qms-release-diff", ReleaseDiffDirective)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-updated", rewrite)
    app.connect("doctree-resolved", fill)
