"""`qms release diff` between two real, signed releases (real git, real gpg)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from qms.model.timeutil import parse_utc
from tests.release_repo import approve_fully, make_release_repo
from tests.signing_repo import Console, Output, Team, commit_all, register, run, team

__all__ = ["team"]

POLICY = "docs/policies/pol-acc-001.md"
ITEMS = """
```{control} Role-based access to GxP systems
:id: CTL-ACC-001
:applicable: yes
:justification: GxP systems hold regulated records
:implementation: partial
:mitigates: RSK-ACC-001
```

```{risk} Leaver accounts stay active
:id: RSK-ACC-001
:asset: LIMS
:threat: Former employee logs in
:vulnerability: Manual deprovisioning
:likelihood: 4
:impact: 4
:residual_likelihood: 2
:residual_impact: 3
:treatment: mitigate
:risk_owner: ISMS Manager
```

```{control} Badge-controlled entry
:id: CTL-PHY-001
:applicable: yes
:justification: Server rooms at every site
:implementation: implemented
```

```{procedure} Quarterly access and entry review
:id: PRC-ACC-001
:implements: CTL-ACC-001, CTL-PHY-001
```
"""


def _with_items(root: Path) -> None:
    path = root / POLICY
    path.write_text(path.read_text(encoding="utf-8") + ITEMS, encoding="utf-8")


def _release(capsys: Output, root: Path, team: Team, name: str) -> None:
    code, _, err = run(capsys, "--root", str(root), "release", "create", name, "--set", "staff")
    assert code == 0, err
    for person in (team.approver, team.reviewer):
        key = ("--key", person.fingerprint, "--gnupghome", str(person.home), "--yes")
        code, _, err = run(capsys, "--root", str(root), "release", "sign", name, *key)
        assert code == 0, err


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory: pytest.TempPathFactory, team: Team) -> Iterator[Path]:
    """R1: POL-ACC-001 2.0 with two controls and a risk. R2: 2.1 with one control's
    implementation and the risk's scores changed, one control removed and one added,
    SOP-BCK-001 approved, a signer added and one revoked in between."""
    with Console() as console:
        yield _make_two_releases(tmp_path_factory.mktemp("reldiff"), team, console)


def _make_two_releases(tmp_path: Path, team: Team, capsys: Output) -> Path:
    root = make_release_repo(tmp_path, team, capsys, _with_items)
    _release(capsys, root, team, "R1")
    created = json.loads((root / "signatures/releases/R1/manifest.json").read_bytes())["created"]
    register(capsys, root, team.admin, team.outsider, "reviewer")
    # Revoked after R1's commit: signing R1 came after its build, which took longer.
    revoked_at = (parse_utc(created) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    code, _, err = run(
        capsys, "--root", str(root), "signers", "revoke", team.second_reviewer.fingerprint,
        "--at", revoked_at, "--reason", "Left the company",
        "--key", team.admin.fingerprint, "--gnupghome", str(team.admin.home), "--yes",
    )  # fmt: skip
    assert code == 0, err
    path = root / POLICY
    text = path.read_text(encoding="utf-8")
    text = text.replace(":implementation: partial", ":implementation: implemented")
    text = text.replace(":residual_likelihood: 2", ":residual_likelihood: 1")
    text = text.replace("Badge-controlled entry\n:id: CTL-PHY-001", "Visitor log\n:id: CTL-PHY-002")
    text = text.replace("CTL-ACC-001, CTL-PHY-001", "CTL-ACC-001, CTL-PHY-002")
    # Whitespace alone is no change of an item.
    text = text.replace(
        "```{risk} Leaver accounts stay active", "```{risk}   Leaver accounts  stay active"
    )
    path.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, "--root", str(root), "bump", "POL-ACC-001", "--reason",
                       "Deprovisioning automated")  # fmt: skip
    assert code == 0, err
    sop = root / "docs/procedures/sop-bck-001.md"
    sop.write_text(
        sop.read_text(encoding="utf-8").replace("2027-03-01", "2026-03-01"), encoding="utf-8"
    )
    commit_all(root, "POL-ACC-001 2.1; SOP-BCK-001 in force")
    approve_fully(capsys, root, team, "POL-ACC-001")
    approve_fully(capsys, root, team, "SOP-BCK-001")
    _release(capsys, root, team, "R2")
    return root


def test_release_diff_lists_what_changed_between_two_signed_releases(
    two_releases: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "--root", str(two_releases), "release", "diff", "R1", "R2", "--json"
    )
    assert code == 0, err
    diff = json.loads(out)
    assert [d["id"] for d in diff["added"]] == ["SOP-BCK-001"]
    assert diff["revised"] == [
        {
            "id": "POL-ACC-001",
            "title": "Access Control Policy",
            "old_version": "2.0",
            "new_version": "2.1",
            "change_reason": "Deprovisioning automated",
        }
    ]
    assert diff["superseded"] == [{"id": "POL-ACC-001", "version": "2.0", "in_force": "2.1"}]
    assert diff["withdrawn"] == []
    assert [i["id"] for i in diff["items_added"]] == ["CTL-PHY-002"]
    assert [i["id"] for i in diff["items_removed"]] == ["CTL-PHY-001"]
    # The risk's title only gained spaces: its scores changed, its title did not.
    assert {i["id"]: i["changed"] for i in diff["items_changed"]} == {
        "CTL-ACC-001": ["implementation"],
        "RSK-ACC-001": ["residual_likelihood"],
        "PRC-ACC-001": ["implements"],
    }
    soa = {(s["id"], s["field"]): (s["old"], s["new"]) for s in diff["soa"]}
    assert soa[("CTL-ACC-001", "implementation")] == ("partial", "implemented")
    assert soa[("CTL-PHY-002", "decision")] == ("", "applicable: yes; implementation: implemented")
    assert soa[("CTL-PHY-001", "decision")] == ("applicable: yes; implementation: implemented", "")
    assert len(soa) == 3
    assert [(r["id"], r["stage"], r["old"]["score"], r["new"]["score"]) for r in diff["risks"]] == [
        ("RSK-ACC-001", "current", 6, 3),  # no current residual: the target's stands for it
        ("RSK-ACC-001", "target", 6, 3),
    ]
    assert [s["fingerprint"] for s in diff["signers_added"]] == [team.outsider.fingerprint]
    assert [(s["name"], s["reason"]) for s in diff["signers_revoked"]] == [
        (team.second_reviewer.name, "Left the company")
    ]
    code, text, err = run(capsys, "--root", str(two_releases), "release", "diff", "R1", "R2")
    assert code == 0, err
    assert "Documents revised (1)" in text and "Deprovisioning automated" in text
    assert "No document withdrawn." in text and "4x4 = 16" not in text and "2x3 = 6" in text
    # Reversed, the same comparison reads the other way round.
    code, out, err = run(
        capsys, "--root", str(two_releases), "release", "diff", "R2", "R1", "--json"
    )
    back = json.loads(out)
    assert code == 0 and [i["id"] for i in back["items_added"]] == ["CTL-PHY-001"]
    assert [d["id"] for d in back["withdrawn"]] == ["SOP-BCK-001"]


def test_an_unsigned_or_tampered_release_is_refused_in_one_line(
    two_releases: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    two_releases = Path(shutil.copytree(two_releases, tmp_path / "handbook", symlinks=True))
    code, out, err = run(
        capsys, "--root", str(two_releases), "release", "create", "R3", "--set", "staff"
    )
    assert code == 0, err
    code, out, err = run(capsys, "--root", str(two_releases), "release", "diff", "R2", "R3")
    assert (code, out) == (2, "") and len(err.splitlines()) == 1
    assert "no release R3 under signatures/releases" in err
    code, out, err = run(capsys, "--root", str(two_releases), "release", "diff", "../R1", "R2")
    assert (code, out) == (2, "") and "release name '../R1' is not allowed" in err
    # Half-signed: the manifest is committed with one of two signatures.
    approver = ("--key", team.approver.fingerprint, "--gnupghome", str(team.approver.home), "--yes")
    code, _, err = run(capsys, "--root", str(two_releases), "release", "sign", "R3", *approver)
    assert code == 0, err
    code, out, err = run(capsys, "--root", str(two_releases), "release", "diff", "R2", "R3")
    assert code == 1 and out == "" and len(err.splitlines()) == 1
    assert "release R3 is not a signed release (no valid signature for reviewer)" in err
    manifest = two_releases / "signatures/releases/R1/manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b'"2.0"', b'"2.9"'))
    code, out, err = run(capsys, "--root", str(two_releases), "release", "diff", "R1", "R2")
    assert code == 1 and out == "" and len(err.splitlines()) == 1
    assert "release R1 is not a signed release (no valid signature for qa, reviewer)" in err


def test_the_auditor_page_compares_the_two_latest_signed_releases(
    two_releases: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = Path(shutil.copytree(two_releases, tmp_path / "handbook", symlinks=True))
    config = root / "pyproject.toml"
    pages = 'site_pages = ["index", "register", "*/index", "changes"]\n'
    config.write_text(config.read_text().replace("[tool.qms]\n", f"[tool.qms]\n{pages}", 1))
    (root / "docs/changes.md").write_text("# Changes\n\n```{qms-release-diff}\n```\n")
    index = root / "docs/index.md"
    index.write_text(index.read_text().replace("register\n", "register\nchanges\n"))
    code, _, err = run(capsys, "--root", str(root), "build")
    assert code == 0, err
    html = (root / "_build/html/changes.html").read_text(encoding="utf-8")
    assert "Release R1 (commit " in html and "compared with release R2" in html
    assert "Deprovisioning automated" in html and "Documents revised (1)" in html
    assert "<td><p>CTL-PHY-002</p></td>" in html
    # A page naming a release that is not signed is a located warning, not a comparison.
    (root / "docs/changes.md").write_text(
        "# Changes\n\n```{qms-release-diff}\n:old: R1\n:new: R9\n```\n"
    )
    code, out, err = run(capsys, "--root", str(root), "build")
    assert code == 1
    assert (
        "docs/changes.md:3: {qms-release-diff}: no release R9 under signatures/releases"
        in out + err
    )
