"""Fixtures of the OQ: throwaway signers, handbooks in temporary git repositories, and the
requirement ids of each test recorded as JUnit properties."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from qms.oq.handbook import DOC, approve_fully, commit_all, copy_handbook, edit, new_handbook, qms
from qms.oq.people import Team, make_team, remove_homes, short_tempdir


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requirement(*ids, check='positive'): the user requirements a test verifies",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Each requirement a test verifies, and how, in the JUnit XML: the trace to results."""
    for marker in item.iter_markers("requirement"):
        item.user_properties.extend(("requirement", str(id_)) for id_ in marker.args)
        item.user_properties.append(("check", str(marker.kwargs.get("check", "positive"))))


@pytest.fixture(autouse=True, scope="session")
def scratch_gnupg_home() -> Iterator[Path]:
    """gpg's default home is an empty scratch folder: the OQ never touches ~/.gnupg."""
    home = short_tempdir("oq-home-")
    patch = pytest.MonkeyPatch()
    patch.setenv("GNUPGHOME", str(home))
    yield home
    patch.undo()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(autouse=True)
def never_the_users_gnupg_home(scratch_gnupg_home: Path) -> None:
    """Every test starts with GNUPGHOME on the scratch folder, never the user's keyring."""
    home = Path(os.environ.get("GNUPGHOME", "~/.gnupg")).expanduser().resolve()
    assert home != (Path.home() / ".gnupg").resolve(), "GNUPGHOME is the user's ~/.gnupg"
    assert home == scratch_gnupg_home.resolve()


@pytest.fixture(scope="session")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    people = make_team(tmp_path_factory.mktemp("keys"))
    yield people
    remove_homes(people)


@pytest.fixture(scope="session")
def registered(tmp_path_factory: pytest.TempPathFactory, team: Team) -> Path:
    """A handbook with the team registered and nothing signed: copy it, never change it."""
    return new_handbook(tmp_path_factory.mktemp("registered") / "handbook", team)


@pytest.fixture(scope="session")
def effective(tmp_path_factory: pytest.TempPathFactory, registered: Path, team: Team) -> Path:
    """The registered handbook with POL-ACC-001 1.0 fully signed: copy it, never change it."""
    root = copy_handbook(registered, tmp_path_factory.mktemp("effective") / "handbook")
    approve_fully(root, team)
    return root


@pytest.fixture
def fresh(registered: Path, tmp_path: Path) -> Path:
    """A copy of the registered handbook, this test's to change."""
    return copy_handbook(registered, tmp_path / "handbook")


@pytest.fixture
def signed(effective: Path, tmp_path: Path) -> Path:
    """A copy of the handbook with POL-ACC-001 effective, this test's to change."""
    return copy_handbook(effective, tmp_path / "handbook")


@pytest.fixture(scope="session")
def revised(tmp_path_factory: pytest.TempPathFactory, effective: Path, team: Team) -> Path:
    """POL-ACC-001 1.0 effective, then 1.1 approved, and the site built: read it only."""
    root = copy_handbook(effective, tmp_path_factory.mktemp("revised") / "handbook")
    edit(root, "least privilege", "least privilege and need to know", commit=False)
    bumped = qms(root, "bump", DOC, "--reason", "Need to know added")
    assert bumped.code == 0, bumped.err
    commit_all(root, "Version 1.1")
    approve_fully(root, team)
    built = qms(root, "build")
    assert built.code == 0, built.err + built.out
    return root
