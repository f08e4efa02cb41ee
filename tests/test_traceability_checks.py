"""Each completeness rule breaks the build with a located warning (one broken root per rule)."""

from __future__ import annotations

import pytest
from sphinx.testing.util import SphinxTestApp

from tests.sphinx_helpers import warnings

EXPECTED = {
    "trace-no-decision": [
        "soa.md:27: WARNING: CTL-8-13: Annex A A.5.15 already has a decision in CTL-5-15; keep "
        "one control per Annex A control [qms.soa-duplicate]",
        "_catalogues/annex-a.yaml:11: WARNING: ISO27001-A-8-13: Annex A A.8.13 has no "
        "applicability decision; add a control that implements it to the Statement of "
        "Applicability [qms.soa-missing]",
    ],
    "trace-exclusion": [
        "soa.md:36: WARNING: need CTL-8-28: an excluded control needs a justification: "
        '"justification" is a required property [qms.need-field]',
    ],
    "trace-unimplemented": [
        "soa.md:27: WARNING: CTL-8-13: applicable control has no implementing procedure; add a "
        "procedure need with ':implements: CTL-8-13' [qms.soa-unimplemented]",
    ],
    "trace-untreated-risk": [
        "risks.md:31: WARNING: RSK-002: score 12 is above the acceptance threshold 8 with "
        "neither a mitigating control nor a recorded acceptance [qms.risk-untreated]",
    ],
    "trace-residual": [
        "risks.md:44: WARNING: RSK-003: residual score 3 is higher than the inherent score 2 "
        "[qms.risk-residual]",
    ],
    "trace-bad-links": [
        "procedures.md:20: WARNING: Need 'PRC-BCK-01' link 'RSK-001' in field 'implements': "
        "target need type 'risk' is not one of 'control' (or a type inheriting from it), as "
        "need type 'procedure' declares it [needs.link_target_type]",
        "procedures.md:20: WARNING: Need 'PRC-BCK-01' has unknown outgoing link 'CTL-9-99' in "
        "field 'implements' [needs.link_outgoing]",
    ],
    "trace-unmapped": [
        "_catalogues/part11.yaml:10: WARNING: P11-11-10-C: regulatory requirement is mapped to "
        "no Annex A control; add maps_to in its catalogue file [qms.requirement-unmapped]",
    ],
}


@pytest.mark.parametrize(
    "root",
    [
        pytest.param(root, marks=pytest.mark.sphinx("html", testroot=root, freshenv=True))
        for root in sorted(EXPECTED)
    ],
)
def test_broken_root_reports_its_rule(root: str, app: SphinxTestApp) -> None:
    app.build()
    assert sorted(warnings(app)) == sorted(EXPECTED[root])


@pytest.mark.sphinx("html", testroot="traceability", freshenv=True)
def test_the_complete_root_is_clean(app: SphinxTestApp) -> None:
    app.build()
    assert warnings(app) == []
