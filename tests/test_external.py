"""External documents (ISO 27001 7.5.3): registrations located, copy drift and overdue
reviews found, and their section of the register."""

from __future__ import annotations

import hashlib
import json
import textwrap
from datetime import date
from pathlib import Path

import pytest

from qms.model.external import external_findings, parse_external
from qms.services.external import load_external
from tests.conftest import REPO, HandbookFactory
from tests.signing_repo import run

COPY_TEXT = b"Placeholder for the controlled copy of a supplier SOP, version 3.0.\n"
SOP = textwrap.dedent(
    f"""\
    id: EXT-SUP-SOP-7
    title: "Supplier SOP 7: Data transfer"
    issuer: Example CRO Ltd
    edition: "3.0"
    url: https://quality.example/sop-7
    owner: Head of Clinical Operations
    reviewed: 2026-03-09
    review_months: 12
    copy:
      file: copies/sop-7.txt
      sha256: {hashlib.sha256(COPY_TEXT).hexdigest()}
    """
)


def _folder(tmp_path: Path, text: str = SOP, copy: bytes | None = COPY_TEXT) -> Path:
    folder = tmp_path / "_external"
    (folder / "copies").mkdir(parents=True)
    (folder / "ext-sup-sop-7.yaml").write_text(text, encoding="utf-8")
    if copy is not None:
        (folder / "copies" / "sop-7.txt").write_bytes(copy)
    return folder


def _rendered(tmp_path: Path, on: date, **kw: object) -> list[str]:
    register = load_external(_folder(tmp_path, **kw), tmp_path, on)  # type: ignore[arg-type]
    return [f.render() + f" [{f.code}]" for f in register.findings]


def test_a_registered_copy_unchanged_and_reviewed_in_time_is_clean(tmp_path: Path) -> None:
    register = load_external(_folder(tmp_path), tmp_path, date(2027, 3, 9))
    assert register.findings == ()
    assert [d.as_dict()["next_review"] for d in register.documents] == ["2027-03-09"]


def test_hash_drift_of_a_local_copy_is_found_at_its_sha256_line(tmp_path: Path) -> None:
    changed = COPY_TEXT.replace(b"3.0", b"3.1")
    found = _rendered(tmp_path, date(2026, 12, 2), copy=changed)
    assert found == [
        f"_external/ext-sup-sop-7.yaml:11: EXT-SUP-SOP-7: the local copy copies/sop-7.txt changed "
        f"since it was registered (SHA-256 now {hashlib.sha256(changed).hexdigest()}); register "
        "the new edition (edition, reviewed, sha256) or restore the registered copy "
        "[external-copy]"
    ]


def test_a_missing_copy_is_found(tmp_path: Path) -> None:
    assert _rendered(tmp_path, date(2026, 12, 2), copy=None) == [
        "_external/ext-sup-sop-7.yaml:11: EXT-SUP-SOP-7: the local copy copies/sop-7.txt is "
        "missing; put the controlled copy back or remove 'copy' [external-copy]"
    ]


def test_past_its_review_date_is_found_at_reviewed(tmp_path: Path) -> None:
    assert _rendered(tmp_path, date(2027, 3, 10)) == [
        "_external/ext-sup-sop-7.yaml:7: EXT-SUP-SOP-7 (3.0) was due for review on 2027-03-09; "
        "confirm the edition is current (or register the new one) and update 'reviewed' "
        "[external-review]"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("url: https://quality.example/sop-7", "url: http://quality.example/sop-7",
         "x.yaml:5: 'url' must be an https:// address where the current edition is published, "
         "found 'http://quality.example/sop-7'"),
        ('edition: "3.0"', "edition: 3.0",
         "x.yaml:4: 'edition' must be the edition or version in use as quoted text, such as "
         '"2022" or "4.0", found 3.0'),
        ("reviewed: 2026-03-09", "reviewed: March 2026",
         "x.yaml:7: 'reviewed' must be the date (YYYY-MM-DD) the edition was last confirmed "
         "current, found 'March 2026'"),
        ("owner: Head of Clinical Operations\n", "",
         "x.yaml:1: an external document needs 'owner'"),
        ("  file: copies/sop-7.txt", "  file: ../../pyproject.toml",
         "x.yaml:10: 'file' must name a file in docs/_external/copies/, such as "
         "copies/cro-sop-014.pdf, found '../../pyproject.toml'"),
        ("id: EXT-SUP-SOP-7", "id: SOP-7",
         "x.yaml:1: 'id' must be an external document id such as EXT-ISO-27001 (EXT-, then "
         "upper-case parts joined by dashes), found 'SOP-7'"),
        ("review_months: 12", "review_months: 12\nissued_by: someone",
         "x.yaml:1: an external document holds id, title, issuer, edition, url, owner, reviewed, "
         "review_months, copy and note only; remove issued_by"),
        ("title: ", "title: [",
         "x.yaml:3: not valid YAML: expected ',' or ']', but got '<scalar>'"),
    ],
)  # fmt: skip
def test_bad_entries_are_located(old: str, new: str, expected: str) -> None:
    assert old in SOP
    document, findings = parse_external("x.yaml", SOP.replace(old, new, 1))
    assert document is None
    assert [f.render() for f in findings] == [expected]
    assert {f.code for f in findings} == {"external"}


def test_ids_are_unique_among_external_and_controlled_documents() -> None:
    first, _ = parse_external("a.yaml", SOP.split("copy:")[0])
    assert first is not None and first.copy is None
    second, _ = parse_external("b.yaml", SOP)
    assert second is not None and second.copy is not None
    copies = {"copies/sop-7.txt": second.copy.sha256}
    found = external_findings([first, second], copies, date(2026, 12, 2), ["EXT-SUP-SOP-7"])
    assert [f.render() for f in found] == [
        "a.yaml:1: EXT-SUP-SOP-7 is also a controlled document's id; give the external "
        "document another id",
        "b.yaml:1: EXT-SUP-SOP-7 is registered twice (also in a.yaml); give this one another id",
    ]


def test_check_reports_drift_and_the_register_shows_the_section(
    make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_handbook("handbook")
    folder = _folder(repo / "docs")
    code, out, err = run(capsys, "--root", str(repo), "check", "--json")
    assert code == 0, out + err
    code, _, err = run(capsys, "--root", str(repo), "build")
    assert code == 0, err
    html = (repo / "_build/html/register.html").read_text(encoding="utf-8")
    assert '<section id="external-documents">' in html
    assert '<a class="reference external" href="https://quality.example/sop-7">' in html
    assert "current" in html and "copy changed" not in html
    (folder / "copies" / "sop-7.txt").write_bytes(COPY_TEXT + b"Edited by hand.\n")
    code, out, _ = run(capsys, "--root", str(repo), "check", "--json")
    assert code == 1
    found = [f for f in json.loads(out)["findings"] if f["code"].endswith("external-copy")]
    assert [(f["path"], f["line"]) for f in found] == [("docs/_external/ext-sup-sop-7.yaml", 11)]
    # An incremental build sees the changed copy although no source changed.
    code, _, _ = run(capsys, "--root", str(repo), "build")
    assert code == 1
    html = (repo / "_build/html/register.html").read_text(encoding="utf-8")
    assert "copy changed" in html


def test_the_example_registers_its_external_documents() -> None:
    register = load_external(REPO / "docs/_external", REPO, date(2026, 12, 2))
    assert register.findings == ()
    ids = {d.id for d in register.documents}
    assert {"EXT-ISO-27001", "EXT-EU-GMP-ANNEX-11", "EXT-CFR-21-PART-11"} <= ids
    assert any(d.copy is not None for d in register.documents)
