"""Suspect links on the site: judged once per build, noted on the downstream page.

A suspect link is not an authoring problem (the example builds with -W): the page of the
document whose item links to a changed upstream item carries a notice beside that item,
and the build log names it at its file and line as information. An assessment file that
does not count is a finding, as every signed file that does not count is.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from qms.errors import QmsError
from qms.model.findings import Finding
from qms.model.fingerprints import short
from qms.model.impact import LinkState, State
from qms.model.retirement import links_into_retired
from qms.model.timeutil import display_utc
from qms.services.impact import Impact, impact_status
from qms_sphinx.approvals import judged_at
from qms_sphinx.settings import settings
from qms_sphinx.state import documents, retired, view_pages

logger = logging.getLogger(__name__)

_IMPACT: weakref.WeakKeyDictionary[Sphinx, Impact] = weakref.WeakKeyDictionary()
# What each page showed of its links in the last build, kept on the environment so that
# a page is rewritten when an edit elsewhere makes one of its links suspect or clears it.
_SHOWN = "qms_impact_shown"


def impact_of(app: Sphinx) -> Impact:
    """The links of this build, judged on first use (none when approvals cannot be read:
    the approvals refresh already says why)."""
    found = _IMPACT.get(app)
    if found is None:
        try:
            found = impact_status(settings(app), judged_at(app))
        except QmsError:
            found = Impact(())
        _IMPACT[app] = found
    return found


def _shown(states: Sequence[LinkState]) -> tuple[str, ...]:
    return tuple(
        f"{s.link.item} {s.link.upstream} {s.state} {s.current}"
        for s in states
        if s.state in (State.SUSPECT, State.CLEARED)
    )


def _retired_links(app: Sphinx, env: BuildEnvironment, impact: Impact) -> tuple[Finding, ...]:
    """The live links into retired documents, as this build's verification found them."""
    archived = {documents(env)[name].id: found for name, found in retired(env).items()}
    if not archived:
        return ()
    links = (s.link for s in impact.links)
    return links_into_retired(links, lambda item: impact.holders.get(item, ""), archived)


def refresh(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Judge the links; log the suspect ones and bad assessment files; return the pages
    whose notices changed since the last build."""
    _IMPACT.pop(app, None)
    impact = impact_of(app)
    for state in impact.suspect:
        link = state.link
        logger.info(
            f"suspect link: {link.item} {link.link} {link.upstream}, changed since "
            f"{link.document_id} was approved",
            location=(env.path2doc(str(settings(app).root / link.path)) or link.path, link.line),
        )
    for finding in impact.findings:
        logger.warning(finding.render(), type="qms", subtype=finding.code)
    for finding in _retired_links(app, env, impact):
        location = (env.path2doc(str(settings(app).root / finding.path)) or finding.path,
                    finding.line)  # fmt: skip
        logger.warning(finding.message, location=location, type="qms", subtype=finding.code)
    before: dict[str, tuple[str, ...]] = getattr(env, _SHOWN, None) or {}
    after = {
        docname: _shown(impact.of_document(document.id))
        for docname, document in documents(env).items()
    }
    changed = {name for name, shown in after.items() if before.get(name, ()) != shown}
    setattr(env, _SHOWN, after)
    # The SoA and the matrix show every link's state too.
    return sorted(changed | view_pages(env)) if changed else []


def _paragraph(state: LinkState) -> nodes.paragraph:
    link, base = state.link, state.baseline
    approved = f"{link.document_id} {base.version}" if base else link.document_id
    para = nodes.paragraph()
    para += nodes.literal("", link.item)
    para += nodes.Text(f" {link.link} ")
    para += nodes.literal("", link.upstream)
    if state.state == State.SUSPECT:
        changed = "was removed" if not state.current else "changed"
        para += nodes.Text(
            f", which {changed} after {approved} was approved (fingerprint "
            f"{short(state.recorded)} then, {short(state.current) or 'none'} now). The link "
            "stays suspect until this document is approved again or a reviewer assesses it "
            f"(qms impact assess {link.item} {link.upstream})."
        )
        return para
    done = state.assessment
    assert done is not None
    ref = f" ({done.ref})" if done.ref else ""
    para += nodes.Text(
        f", which changed after {approved} was approved; assessed by {done.signer_name} "
        f"({done.signer_role}) on {display_utc(done.signed_at)}: {done.decision}{ref}. "
        f"{done.reason}"
    )
    return para


def _notice(states: Sequence[LinkState]) -> nodes.Element:
    suspect = [s for s in states if s.state == State.SUSPECT]
    title = "Suspect link" if suspect else "Impact assessed"
    classes = ["qms-impact", "qms-suspect" if suspect else "qms-assessed"]
    box = nodes.admonition(classes=["admonition", *classes])
    box += nodes.title("", title)
    for state in states:
        box += _paragraph(state)
    return box


def fill(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Put a notice beside each item of the page whose upstream link is suspect or cleared."""
    document = documents(app.env).get(docname)
    if document is None:
        return
    shown = [
        s
        for s in impact_of(app).of_document(document.id)
        if s.state in (State.SUSPECT, State.CLEARED)
    ]
    if not shown:
        return
    by_item: dict[str, list[LinkState]] = {}
    for state in shown:
        by_item.setdefault(state.link.item, []).append(state)
    for item, states in by_item.items():
        notice = _notice(states)
        target = _need_node(doctree, item)
        if target is not None and target.parent is not None:
            target.parent.insert(target.parent.index(target) + 1, notice)
        else:
            doctree.append(notice)


def _need_node(doctree: nodes.document, item: str) -> nodes.Element | None:
    """The outermost node of a need as sphinx-needs renders it (its container), if any."""
    # A target carries the id before the need itself does: the last node with it is the need.
    found = [n for n in doctree.findall(nodes.Element) if item in n.get("ids", ())]
    if not found:
        return None
    node = found[-1]
    while isinstance(node.parent, nodes.Element) and (
        "need_container" in node.parent.get("classes", ()) or node.parent.tagname == "Need"
    ):
        node = node.parent
    return node


def setup(app: Sphinx) -> None:
    """Judge links after the approvals refresh; note them as pages are written."""
    app.connect("env-updated", refresh, priority=600)
    app.connect("doctree-resolved", fill)
