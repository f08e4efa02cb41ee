"""The {qms-dashboard}: tiles, charts reproducible to the byte, accessible and escaped."""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

import pytest
from sphinx.testing.util import SphinxTestApp

from qms.adapters.charts import Threshold, trend_chart
from tests.conftest import ROOTS
from tests.sphinx_helpers import warnings

IMAGES = re.compile(
    r'<img class="qms-chart-svg" src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]*)"'
)


def _build(tmp_path: Path, name: str, edit: tuple[str, str] | None = None) -> str:
    src = tmp_path / name
    shutil.copytree(ROOTS / "test-metrics", src)
    if edit is not None:
        page = src / "objectives.md"
        text = page.read_text(encoding="utf-8")
        assert edit[0] in text
        page.write_text(text.replace(edit[0], edit[1]), encoding="utf-8")
    app = SphinxTestApp("html", srcdir=src, freshenv=True)
    try:
        app.build()
        return (app.outdir / "objectives.html").read_text(encoding="utf-8")
    finally:
        app.cleanup()


def _dashboard(html: str) -> str:
    start = html.index('<div class="qms-dashboard">')
    return html[start : html.index("</div>", start)]


def test_two_builds_of_one_commit_draw_the_same_bytes(tmp_path: Path) -> None:
    first, second = _build(tmp_path, "one"), _build(tmp_path, "two")
    charts = IMAGES.findall(first)
    # KPI-ACC-01 (three quarters), KPI-INC-01 (two months) and the risk profile.
    assert len(charts) == 3
    assert _dashboard(first) == _dashboard(second)
    svg = base64.b64decode(charts[0][0])
    assert svg.startswith(b"<?xml") and b"<svg" in svg
    assert b"<dc:date>" not in svg  # no build time in the bytes
    assert b"<text" not in svg  # glyphs as paths from the bundled font, not the machine's


def test_the_chart_adapter_is_deterministic_and_salted() -> None:
    def draw(salt: str) -> bytes:
        return trend_chart("KPI-X-01 X", ["2026-Q1", "2026-Q2"], [1.0, 2.0], ["red", "green"],
                           [Threshold("target", 2.0, "#2e7d32")], "%", salt)  # fmt: skip

    assert draw("KPI-X-01") == draw("KPI-X-01")
    assert draw("KPI-X-01") != draw("KPI-Y-01")  # element ids differ between charts


def test_tiles_states_and_accessible_charts(tmp_path: Path) -> None:
    html = _build(tmp_path, "tiles")
    board = html[html.index('<div class="qms-dashboard">') :]
    assert "1 red</span>" in board and "2 amber</span>" in board and "0 green</span>" in board
    assert '<span class="qms-tile-value">88% <span class="qms-trend"' in board
    alts = [alt for _, alt in IMAGES.findall(html)]
    assert alts[0] == (
        "Trend of KPI-ACC-01 Access reviews on time, target ≥ 100%: 2026-Q1: 100% (green); "
        "2026-Q2: 96.5% (green); 2026-Q3: 88% (red)"
    )
    # risks.md by hand: RSK-001 20 -> 10, RSK-002 12 -> 4, RSK-003 2 -> 2, no current
    # residuals (the target's stand for them); bands from 1, 5, 10 and 16. Outside git there
    # is no history: only this build's quarter.
    assert alts[2].endswith(
        " (to date): inherent 1 low 0 medium 1 high 1 critical, current 2 low 0 medium 1 high "
        "0 critical, target 2 low 0 medium 1 high 0 critical"
    )
    assert "<td>inherent</td><td>1</td><td>0</td><td>1</td><td>1</td><td>3</td>" in board
    # The data behind each chart, as a table.
    assert (
        "<tr><td>2026-Q2</td><td>96.5%</td><td>green</td><td>LIMS review two days late.</td></tr>"
        in board
    )
    assert "<td><strong>OBJ-ACC</strong> Keep GxP systems under access control</td>" in board


def test_a_chosen_subset(tmp_path: Path) -> None:
    html = _build(
        tmp_path, "subset", ("```{qms-dashboard}\n", "```{qms-dashboard}\n:metrics: KPI-CTL-01\n")
    )
    board = html[html.index('<div class="qms-dashboard">') :]
    assert "KPI-CTL-01" in board and "KPI-ACC-01" not in board
    assert "Counted from the handbook at this commit: 50%." in board


def test_what_authors_write_is_escaped(tmp_path: Path) -> None:
    html = _build(
        tmp_path, "escaped", ("Access reviews on time", 'Reviews <script>alert("x")</script> & co')
    )
    board = html[html.index('<div class="qms-dashboard">') :]
    assert "<script>alert" not in board
    assert "Reviews &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co" in board


@pytest.mark.sphinx("needs", testroot="metrics", freshenv=True)
def test_a_non_html_build_leaves_the_dashboard_out(app: SphinxTestApp) -> None:
    # `qms check` and the exports read the handbook with the needs builder.
    app.build()
    assert warnings(app) == []
    assert (app.outdir / "needs.json").is_file()


HOME = """# Metrics

````{only} preview or set_auditor
```{rubric} ISMS performance
```
```{qms-dashboard}
:summary: SOP-ACC-001
```
````

````{only} set_staff
```{qms-dashboard}
:metrics: KPI-INC-01
```
````

```{toctree}
soa
risks
procedures
frameworks/annex-a
frameworks/part11
objectives
```
"""


def _home(tmp_path: Path, name: str, release_set: str | None, home: str = HOME) -> SphinxTestApp:
    """The test root with the home page above and the whole dashboard on SOP-ACC-001's
    page, built as a preview or as the release set `release_set`."""
    src = tmp_path / name
    shutil.copytree(ROOTS / "test-metrics", src)
    (src / "index.md").write_text(home, encoding="utf-8")
    with (src / "procedures.md").open("a", encoding="utf-8") as handle:
        handle.write("\n## Dashboard\n\n```{qms-dashboard}\n```\n")
    release = {"name": "2026-12", "set": release_set, "title": "Set", "date": "2026-12-07"}
    overrides = {"qms_release": release} if release_set else {}
    app = SphinxTestApp("html", srcdir=src, freshenv=True, confoverrides=overrides)
    app.build()
    return app


def test_the_home_page_shows_the_summary_in_a_preview_and_the_auditor_set(tmp_path: Path) -> None:
    for name, release_set in (("preview", None), ("auditor", "auditor")):
        app = _home(tmp_path, name, release_set)
        try:
            assert warnings(app, "qms") == []
            home = (app.outdir / "index.html").read_text(encoding="utf-8")
            start = home.index('<div class="qms-dashboard qms-dashboard-summary">')
            board = home[start : home.index("</div>", start)]
            assert "ISMS performance" in home
            # Every tile, each linking to its chart on the page that holds the dashboard.
            for kpi in ("kpi-acc-01", "kpi-ctl-01", "kpi-inc-01"):
                assert f'href="procedures.html#qms-kpi-{kpi}"' in board
            assert 'id="qms-kpi-kpi-acc-01"' in (app.outdir / "procedures.html").read_text()
            assert '<a href="procedures.html">SOP-ACC-001 User Access Management</a>' in home
            # The counts and tiles only: no chart, objective or risk profile on the home page.
            assert "<img" not in board and "qms-dash-objectives" not in home
            assert "qms-risk-profile" not in home
        finally:
            app.cleanup()


def test_the_staff_set_home_page_shows_its_subset_and_no_risk_profile(tmp_path: Path) -> None:
    app = _home(tmp_path, "staff", "staff")
    try:
        assert warnings(app, "qms") == []
        home = (app.outdir / "index.html").read_text(encoding="utf-8")
        assert "qms-dashboard-summary" not in home and "ISMS performance" not in home
        board = home[home.index('<div class="qms-dashboard">') :]
        assert "KPI-INC-01" in board and "KPI-ACC-01" not in board and "KPI-CTL-01" not in board
        assert "<td><strong>OBJ-ACC</strong> Keep GxP systems under access control</td>" in board
        assert 'href="#qms-kpi-kpi-inc-01"' in board and 'id="qms-kpi-kpi-inc-01"' in board
        # The risk profile (from the risk register) is left to the whole dashboard.
        assert "qms-risk-profile" not in home and "qms-risk-profile" in (
            app.outdir / "procedures.html"
        ).read_text(encoding="utf-8")
    finally:
        app.cleanup()


def test_a_dashboard_naming_what_the_build_lacks_is_a_located_warning(tmp_path: Path) -> None:
    home = HOME.replace(":summary: SOP-ACC-001", ":summary: SOP-XYZ-009").replace(
        ":metrics: KPI-INC-01", ":metrics: KPI-NOPE-01"
    )
    home = home.replace(
        "```{toctree}", "```{qms-dashboard}\n:metrics: KPI-NOPE-02\n```\n\n```{toctree}"
    )
    app = _home(tmp_path, "preview", None, home)
    try:
        found = warnings(app, "qms")
        # The staff block was dropped unread: only the preview's two are judged.
        assert len(found) == 2 and all(line.startswith("index.md:") for line in found)
        assert "':summary:' names SOP-XYZ-009, which is no document of this build" in found[0]
        assert "':metrics:' names KPI-NOPE-02, which is no KPI of this build" in found[1]
        assert all("[qms.dashboard]" in line for line in found)
        html = (app.outdir / "index.html").read_text(encoding="utf-8")
        assert "qms-dashboard" not in html and "No KPI is defined" not in html
    finally:
        app.cleanup()


def test_a_release_shows_what_it_holds_of_a_choice(tmp_path: Path) -> None:
    # A set's build may lack a KPI whose version is not in force yet: the full handbook
    # was checked before the release, so the set shows the others and says nothing.
    home = HOME.replace(":metrics: KPI-INC-01", ":metrics: KPI-INC-01, KPI-NOPE-01")
    app = _home(tmp_path, "staff", "staff", home)
    try:
        assert warnings(app, "qms") == []
        html = (app.outdir / "index.html").read_text(encoding="utf-8")
        assert 'id="qms-kpi-kpi-inc-01"' in html and "KPI-NOPE-01" not in html
    finally:
        app.cleanup()
