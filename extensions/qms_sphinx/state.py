"""What the extension keeps on the build environment, and how to reach it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sphinx.environment import BuildEnvironment

from qms.model.document import Document
from qms.model.retirement import Retirement

# Re-exported: the page modules name the state of a page from here.
from qms.services.site_state import PageState as PageState
from qms.services.site_state import SiteState

T = TypeVar("T")


def _slot(env: BuildEnvironment, name: str, factory: type[Any]) -> Any:
    # Kept as attributes of the environment so that they are pickled with it
    # between incremental builds and merged after parallel reads.
    data = getattr(env, name, None)
    if data is None:
        data = factory()
        setattr(env, name, data)
    return data


def documents(env: BuildEnvironment) -> dict[str, Document]:
    """Docname -> valid Document, for every controlled document read so far."""
    found: dict[str, Document] = _slot(env, "qms_documents", dict)
    return found


def controlled(env: BuildEnvironment) -> set[str]:
    """Docnames that are controlled documents, whether their front matter is valid or not."""
    found: set[str] = _slot(env, "qms_controlled", set)
    return found


def flawed(env: BuildEnvironment) -> set[str]:
    """Docnames whose reading raised warnings: re-read every build to warn again."""
    found: set[str] = _slot(env, "qms_flawed", set)
    return found


def view_pages(env: BuildEnvironment) -> set[str]:
    """Docnames of pages with generated views (register, SoA, risks, traceability).

    They change whenever any document or need does, so they are rewritten then.
    """
    found: set[str] = _slot(env, "qms_view_pages", set)
    return found


def site_state(env: BuildEnvironment) -> SiteState:
    """What the last read phase verified: each page's state, and the git history."""
    state = getattr(env, "qms_site_state", None)
    return state if isinstance(state, SiteState) else SiteState()


def retired(env: BuildEnvironment) -> dict[str, Retirement]:
    """Docname -> its retirement, for each document whose retirement this build verified."""
    state = site_state(env)
    return {
        name: page.retirement
        for name in documents(env)
        if (page := state.state(name)) is not None and page.retirement is not None
    }


def keep_site_state(env: BuildEnvironment, state: SiteState) -> None:
    """Keep `state` for this build's pages and, pickled with the environment, the next one.

    Set in the main process once every source has been read. It serves incremental
    preview builds only: `qms verify` and releases (fresh builds) verify from scratch.
    """
    env.qms_site_state = state  # type: ignore[attr-defined]


def page_states(env: BuildEnvironment) -> Mapping[str, PageState]:
    """Docname -> state, as verified at the end of the last read phase."""
    return {name: page.state for name, page in site_state(env).pages.items()}


# One neighbour in the sidebar: (docname, label).
Neighbour = tuple[str, str]


def types_in_use(env: BuildEnvironment) -> set[str]:
    """The document types that have documents, as of the last read phase."""
    found: set[str] = _slot(env, "qms_types_in_use", set)
    return found


def neighbours(env: BuildEnvironment) -> dict[str, tuple[Neighbour | None, Neighbour | None]]:
    """Docname -> (previous, next) document of the same type, as of the last read phase."""
    found: dict[str, tuple[Neighbour | None, Neighbour | None]] = _slot(env, "qms_neighbours", dict)
    return found


# An id-shaped token in prose: (token, line).
Mention = tuple[str, int | None]


def mentions(env: BuildEnvironment) -> dict[str, tuple[Mention, ...]]:
    """Docname -> the id-shaped tokens of its prose, with their lines."""
    found: dict[str, tuple[Mention, ...]] = _slot(env, "qms_mentions", dict)
    return found


def id_targets(env: BuildEnvironment) -> dict[str, tuple[str, str]]:
    """Document id -> (docname, title), as of the last read phase."""
    found: dict[str, tuple[str, str]] = _slot(env, "qms_id_targets", dict)
    return found
