"""What a release holds: byte-identical builds, relative PDF links, a PDF book, no build path."""

from __future__ import annotations

import json
import re
import time
import zlib
from pathlib import Path

import git
import pypdf
import pytest

from tests.release_repo import make_release_repo
from tests.signing_repo import Team, run, team

__all__ = ["team"]

LINKS = """

## Links

See the [document register](../register.md) and the [purpose](#purpose) above.

![Access matrix](access-matrix.png)
"""


def png() -> bytes:
    """A valid 2x2 grey PNG, made here so that the test ships no binary file."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    header = (2).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])  # 8-bit greyscale
    pixels = zlib.compress(b"\x00\x80\x80" * 2)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _with_links(root: Path) -> None:
    policy = root / "docs/policies/pol-acc-001.md"
    policy.write_text(policy.read_text() + LINKS)
    (root / "docs/policies/access-matrix.png").write_bytes(png())


@pytest.fixture
def linked(tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> Path:
    return make_release_repo(tmp_path, team, capsys, _with_links)


def create(capsys: pytest.CaptureFixture[str], root: Path) -> Path:
    code, _, err = run(capsys, "--root", str(root), "release", "create", "R1", "--set", "policies")
    assert code == 0, err
    return root / "_build/releases/R1"


def readable(path: Path) -> bytes:
    """A file's bytes, with every zlib stream of a PDF inflated (links hide in them)."""
    data = path.read_bytes()
    if path.suffix != ".pdf":
        return data
    parts = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(parts)


def link_targets(pdf: Path) -> list[str]:
    """Every link of a PDF: URIs as written, internal ones as '#page N'."""
    reader = pypdf.PdfReader(pdf)
    found = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and "/URI" in action:
                found.append(str(action["/URI"]))
            elif annotation.get_object().get("/Dest") is not None or (
                action is not None and "/D" in action
            ):
                found.append("#internal")
    return found


def test_two_clones_a_second_apart_build_the_same_bytes_without_their_paths(
    linked: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = create(capsys, linked)
    # A second later, in another folder: any clock or path that leaks shows up as a diff.
    time.sleep(1.1)
    other = tmp_path / "other-clone"
    git.Repo(linked).clone(other)
    second = create(capsys, other)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert [f for f in files if (first / f).read_bytes() != (second / f).read_bytes()] == []
    manifest = json.loads((first / "manifest.json").read_text())
    assert "policies/pdf/pol-acc-001.pdf" in manifest["files"]
    assert "policies/pdf/policies-complete.pdf" in manifest["files"]
    assert manifest["commit"] == git.Repo(linked).head.commit.hexsha
    [document] = manifest["sets"]["policies"]
    assert document["id"] == "POL-ACC-001" and len(document["approvals"]) == 3
    for build, clone in ((first, linked), (second, other)):
        leaks = [f.as_posix() for f in files if str(clone).encode() in readable(build / f)]
        leaks += [
            f.as_posix() for f in files if f.suffix == ".pdf" and b"file:" in readable(build / f)
        ]
        assert leaks == []


def test_pdf_links_are_relative_to_the_pdf_folder(
    linked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = create(capsys, linked) / "policies"
    single = folder / "pdf/pol-acc-001.pdf"
    targets = link_targets(single)
    assert "../register.html" in targets
    assert "#internal" in targets  # the link to a section of the same document
    assert all(not t.startswith(("file:", "/")) for t in targets), targets
    for target in targets:
        if not target.startswith("#"):
            assert (single.parent / target.split("#")[0]).resolve().is_file(), target
    # The image was embedded, not linked.
    reader = pypdf.PdfReader(single)
    assert any(page.images for page in reader.pages)


def test_the_set_pdf_is_a_book(linked: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = create(capsys, linked) / "policies"
    reader = pypdf.PdfReader(folder / "pdf/policies-complete.pdf")
    metadata = reader.metadata
    assert metadata is not None
    assert metadata.title == "Policy set, release R1"
    assert "Test Pharma" in (metadata.subject or "") and "R1" in (metadata.subject or "")
    cover, contents, first = (reader.pages[i].extract_text() for i in range(3))
    assert "Test Pharma" in cover and "Policy set" in cover and "R1" in cover
    assert "Page" not in cover  # the cover carries no running footer
    assert "Contents" in contents and "POL-ACC-001 Access Control Policy, version 2.0" in contents
    # Contents give the page a document starts on; numbering runs through the book.
    assert re.search(r"version 2\.0\W*3\b", contents), contents
    total = len(reader.pages)
    assert f"Page 3 of {total}" in first
    assert "POL-ACC-001 Access Control Policy, version 2.0, EFFECTIVE" in first
    assert "Uncontrolled when printed" in first
    # The link to the document's own section stays inside the book.
    assert "#internal" in link_targets(folder / "pdf/policies-complete.pdf")


def test_release_pages_link_their_pdf_and_ids_are_unique(
    linked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = create(capsys, linked) / "policies"
    page = (folder / "policies/pol-acc-001.html").read_text()
    assert 'href="../pdf/pol-acc-001.pdf"' in page
    assert 'href="pdf/policies-complete.pdf"' in (folder / "index.html").read_text()
    for html in folder.rglob("*.html"):
        ids = re.findall(r'\sid="([^"]+)"', html.read_text())
        assert sorted({i for i in ids if ids.count(i) > 1}) == [], html.name
