"""Audits, findings, CAPAs and actions as needs: each bad input a located build warning."""

from __future__ import annotations

import pytest
from sphinx.testing.util import SphinxTestApp

from qms.model.audits import audit_coverage, programme_cycle
from qms.model.traceability import Graph, Need
from tests.sphinx_helpers import warnings

BAD = [
    "audits.md:15: WARNING: AUD-2026-01: audit_date '12.3.2026' is not a day written "
    "YYYY-MM-DD [qms.audit]",
    "audits.md:23: WARNING: need FND-2026-01: a finding carries its classification and "
    'evidence: "classification" is a required property [qms.need-field]',
    "audits.md:30: WARNING: Need 'FND-2026-02' has unknown outgoing link 'AUD-2026-99' in "
    "field 'raised_in' [needs.link_outgoing]",
    "capa.md:15: WARNING: CAPA-2026-0031: a CAPA raised from a finding names it "
    "(':addresses: FND-...') [qms.audit]",
    "capa.md:15: WARNING: CAPA-2026-0031: changes names SOP-ACC-001 9.0, but its version is "
    "1.0; name the version that carries the change [qms.audit]",
    "capa.md:15: WARNING: CAPA-2026-0031: changes names SOP-XYZ-001, which is no document of "
    "this handbook [qms.audit]",
    "capa.md:34: WARNING: CAPA-2026-0032: a CAPA has dated actions: add an action with "
    "':action_of: CAPA-2026-0032' [qms.audit]",
    "capa.md:34: WARNING: CAPA-2026-0032: check_due '2026-02-30' is not a day written "
    "YYYY-MM-DD [qms.audit]",
]


@pytest.mark.sphinx("html", testroot="capa-bad", freshenv=True)
def test_each_bad_audit_or_capa_is_a_located_warning(app: SphinxTestApp) -> None:
    app.build()
    assert sorted(warnings(app)) == BAD


@pytest.mark.sphinx("html", testroot="capa", freshenv=True)
def test_the_complete_audit_root_is_clean(app: SphinxTestApp) -> None:
    app.build()
    assert warnings(app) == []


def _requirement(need_id: str, ref: str, kind: str) -> Need:
    return Need(need_id, "requirement", need_id, "", None, (("ref", ref), ("kind", kind)))


def _audit(need_id: str, day: str, covers: tuple[str, ...]) -> Need:
    return Need(need_id, "audit", need_id, "", None, (("audit_date", day),), (("covers", covers),))


def test_the_programme_flags_clauses_and_themes_no_audit_of_the_cycle_covered() -> None:
    graph = Graph.build(
        [
            _requirement("C-9-2", "9.2", "management-system"),
            _requirement("C-10-2", "10.2", "management-system"),
            _requirement("A-5-15", "A.5.15", "annex-a"),
            _requirement("A-8-13", "A.8.13", "annex-a"),
            _audit("AUD-2024-01", "2024-05-02", ("C-9-2",)),
            _audit("AUD-2026-01", "2026-03-12", ("A-5-15", "C-9-2")),
            _audit("AUD-2023-01", "2023-01-10", ("A-8-13",)),  # before the cycle
        ]
    )
    years = programme_cycle(graph)
    assert years == (2024, 2025, 2026)
    rows = {row.key: row for row in audit_coverage(graph, years)}
    assert list(rows) == ["9", "10", "A.5", "A.8"]
    assert dict(rows["9"].by_year) == {2024: ("AUD-2024-01",), 2025: (), 2026: ("AUD-2026-01",)}
    assert rows["9"].covered and rows["A.5"].covered
    assert not rows["10"].covered and not rows["A.8"].covered
    assert programme_cycle(graph, 2026) == (2026, 2027, 2028)


@pytest.mark.sphinx("html", testroot="capa", freshenv=True)
def test_the_capa_log_and_the_programme_show_derived_states_and_gaps(
    app: SphinxTestApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2026-03-01: CAPA-2026-0032's action (due 2026-02-28) is late, CAPA-2026-0031's is done.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1772323200")
    app.build()
    assert warnings(app) == []
    log = (app.outdir / "capa.html").read_text()
    assert "3 CAPAs (1 kept in an external eQMS) on 2026-03-01; 1 overdue." in log
    assert "EQMS-CAPA-7781" in log and "not in any import</span>" in log
    assert '<span class="qms-badge-capa-late">action overdue</span>' in log
    assert '<span class="qms-badge-capa-open">open</span>' in log
    assert 'href="#CAPA-2026-0031"' in log
    assert "ACT-2026-0031-1 due 2026-06-30, done 2026-06-15" in log
    # No registry in a test root: the page says no signature counts.
    assert "No closure or effectiveness check counts" in log
    programme = (app.outdir / "audits.html").read_text()
    assert "Cycle 2026 to 2028: 2 not covered by any audit." in programme
    assert '<th class="head"><p>2028</p></th>' in programme
    assert programme.count('<span class="qms-badge-audit-gap">not covered</span>') == 2
    assert 'href="#AUD-2026-01"' in programme
