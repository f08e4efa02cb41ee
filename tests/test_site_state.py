"""The site's verification service: pages are verified again only when their inputs change."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from qms.config import load_config
from qms.services.handbook import load_handbook
from qms.services.site_state import SiteState, refresh_site

from .conftest import HandbookFactory

ON = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_unchanged_pages_keep_their_state_and_findings(make_handbook: HandbookFactory) -> None:
    repo = make_handbook("handbook")
    config = load_config(repo)
    docs = {
        Path(d.path).relative_to("docs").with_suffix("").as_posix(): d
        for d in load_handbook(config).documents
    }
    assert len(docs) == 3
    counted: list[tuple[int, int]] = []

    def refresh(previous: SiteState, on: date = ON) -> tuple[SiteState, frozenset[str]]:
        counted.clear()
        result = refresh_site(
            config, docs, previous, on, NOW, progress=lambda *n: counted.append(n)
        )
        assert result.notices == ()
        return result.state, result.changed

    first, changed = refresh(SiteState())
    assert counted[0] == (0, 3) and counted[-1] == (3, 3)
    assert set(first.pages) == set(docs) == changed
    assert all(first.state(name) is not None for name in docs)

    again, changed = refresh(first)
    assert counted == [(0, 0)]  # nothing to verify
    assert again == first and changed == frozenset()

    edited = repo / docs["policies/pol-acc-001"].path
    edited.write_text(edited.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    after_edit, _ = refresh(again)
    assert counted[0] == (0, 1)  # only the edited document
    assert after_edit.pages["policies/pol-acc-001"].key != again.pages["policies/pol-acc-001"].key
    assert after_edit.pages["procedures/sop-bck-001"] == again.pages["procedures/sop-bck-001"]

    refresh(after_edit, date(2026, 6, 2))
    assert counted[0] == (0, 3)  # the date is an input of every page
