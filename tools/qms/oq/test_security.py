"""Security: text from documents is escaped in HTML; raw HTML and hostile YAML are refused
with a located error; a policy requiring protected keys refuses a bare key."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from qms.oq.handbook import DOC, DOC_PATH, commit_all, edit, qms
from qms.oq.people import Person, Team, make_person, unlock

CRY_PATH = "docs/policies/pol-cry-001.md"
PASSPHRASE = "correct horse battery staple"  # a throwaway key's, for this test only


@pytest.mark.requirement("URS-SEC-001")
def test_a_title_with_markup_characters_reaches_the_site_escaped(revised: Path) -> None:
    site = revised / "_build/html"
    for page in ("register.html", "policies/pol-cry-001.html"):
        html = (site / page).read_text(encoding="utf-8")
        assert "Cryptography &lt;Policy&gt; &amp; Keys" in html, page
        assert "<Policy>" not in html, page


@pytest.mark.requirement("URS-SEC-001", check="negative")
def test_raw_html_in_a_document_is_refused_at_its_line(fresh: Path) -> None:
    edit(fresh, "Keys are generated in the HSM.", 'Keys <script>alert("x")</script>.', CRY_PATH)
    line = (fresh / CRY_PATH).read_text().splitlines().index('Keys <script>alert("x")</script>.')
    result = qms(fresh, "build")
    assert result.code == 1
    assert f"{CRY_PATH}:{line + 1}: raw HTML is not allowed in the handbook" in result.out
    page = fresh / "_build/html/policies/pol-cry-001.html"
    assert not page.exists() or '<script>alert("x")' not in page.read_text(encoding="utf-8")


BOMB = "".join(
    [
        "tags: &a [x, x, x, x, x, x, x, x, x]\n",
        *(
            f"t{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "change_reason: *i\n",
    ]
)


@pytest.mark.requirement("URS-SEC-002", check="negative")
def test_an_alias_bomb_or_deep_nesting_is_refused_with_a_located_error(fresh: Path) -> None:
    edit(fresh, "review_months: 24\n", "review_months: 24\n" + BOMB, CRY_PATH, commit=False)
    result = qms(fresh, "check", "--quick")
    assert result.code == 1
    [line] = [entry for entry in result.out.splitlines() if entry.startswith(CRY_PATH)]
    assert "aliases expand to more than" in line
    deep = "tags:\n" + "".join(" " * i + "-\n" for i in range(3000))
    (fresh / CRY_PATH).write_text(
        (fresh / CRY_PATH).read_text().replace("review_months: 24\n" + BOMB, deep)
    )
    result = qms(fresh, "check", "--quick")
    assert result.code == 1
    assert f"{CRY_PATH}:" in result.out and "nested deeper than" in result.out
    # The rest of the handbook is still checked and readable.
    assert qms(fresh, "status", DOC).code in (0, 1)


@pytest.mark.requirement("URS-SEC-002")
def test_ordinary_yaml_anchors_and_lists_are_accepted(fresh: Path) -> None:
    edit(fresh, "review_months: 12\n", "review_months: 12\ntags: [access, mfa]\n", DOC_PATH,
         commit=False)  # fmt: skip
    result = qms(fresh, "check", "--quick")
    assert (result.code, result.out) == (0, "")


@pytest.fixture(scope="module")
def protected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Person]:
    """A signer whose key has a passphrase, unlocked in their gpg-agent."""
    person = make_person("Pia Locked", tmp_path_factory.mktemp("locked"), passphrase=PASSPHRASE)
    unlock(person, PASSPHRASE)
    yield person
    shutil.rmtree(person.home, ignore_errors=True)


def require_protected_keys(root: Path, team: Team, protected: Person) -> None:
    """Register the protected key as author, then approve a policy requiring protection."""
    result = qms(
        root, "signers", "add", str(protected.public_key), "--name", protected.name,
        "--email", protected.email, "--role", "author", *team.admin.signing(),
    )  # fmt: skip
    assert result.code == 0, result.err
    with (root / "pyproject.toml").open("a") as handle:
        handle.write("\n[tool.qms.signing]\nprotected_key = true\n")
    commit_all(root, "Signing keys must be protected")
    result = qms(root, "signers", "policy", *team.admin.signing())
    assert result.code == 0, result.err


@pytest.mark.requirement("URS-SIG-007")
def test_a_policy_requiring_protected_keys_accepts_a_protected_key(
    fresh: Path, team: Team, protected: Person
) -> None:
    require_protected_keys(fresh, team, protected)
    assert protected.keys().protection(protected.fingerprint) == "passphrase"
    result = qms(fresh, "approve", DOC, "--meaning", "authored", *protected.signing())
    assert result.code == 0, result.err
    assert result.out.startswith(f"{DOC} 1.0: authored by {protected.name} (author) at ")


@pytest.mark.requirement("URS-SIG-007", check="negative")
def test_a_policy_requiring_protected_keys_refuses_a_bare_key(
    fresh: Path, team: Team, protected: Person
) -> None:
    require_protected_keys(fresh, team, protected)
    assert team.author.keys().protection(team.author.fingerprint) == "none"
    head = git.Repo(fresh).head.commit.hexsha
    result = qms(fresh, "approve", DOC, "--meaning", "authored", *team.author.signing())
    assert result.code == 1
    assert "the signing policy requires a protected key (passphrase or smartcard)" in result.err
    assert git.Repo(fresh).head.commit.hexsha == head
    assert not (fresh / "signatures/approvals").exists()
