"""A handbook in a real git repository with a registered team of throwaway signers."""

from __future__ import annotations

import contextlib
import io
import shutil
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import git
import pytest

from qms.cli.main import main
from tests.conftest import ROOTS
from tests.keys import Person, make_person, remove_home

APPROVALS = """
[tool.qms.approvals.default]
authored = ["author"]
reviewed = ["reviewer"]
approved = ["qa", "isms-manager"]
"""


@dataclass(frozen=True)
class Team:
    """Everyone a signing test needs."""

    admin: Person
    author: Person
    reviewer: Person
    second_reviewer: Person
    approver: Person
    outsider: Person


def throwaway_people(
    tmp_path_factory: pytest.TempPathFactory, label: str, *names: str
) -> Iterator[tuple[Person, ...]]:
    """People with throwaway keys, for a fixture to yield from; their homes go afterwards."""
    folder = tmp_path_factory.mktemp(label)
    people = tuple(make_person(name, folder) for name in names)
    yield people
    for person in people:
        remove_home(person)


@pytest.fixture(scope="session")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    for people in throwaway_people(
        tmp_path_factory, "keys", "Dana Admin", "Lena Vogt", "Marco Bianchi", "Ines Duarte",
        "Sarah ONeill", "Olaf Outsider",
    ):  # fmt: skip
        yield Team(*people)


class Output(Protocol):
    """Where a test reads what qms printed: pytest's capsys, or a Console."""

    def readouterr(self) -> tuple[str, str]: ...


class Console:
    """capsys for fixtures that outlive one test (capsys is per test).

    Inside `with Console() as console:`, what is printed is kept for `readouterr`.
    """

    def __init__(self) -> None:
        self._out, self._err = io.StringIO(), io.StringIO()
        self._redirect = contextlib.ExitStack()

    def __enter__(self) -> Console:
        self._redirect.enter_context(contextlib.redirect_stdout(self._out))
        self._redirect.enter_context(contextlib.redirect_stderr(self._err))
        return self

    def __exit__(self, *exc: object) -> None:
        self._redirect.close()

    def readouterr(self) -> tuple[str, str]:
        """What was printed since the last call."""
        taken = self._out.getvalue(), self._err.getvalue()
        for stream in (self._out, self._err):
            stream.seek(0)
            stream.truncate()
        return taken


def run(capsys: Output, *argv: str) -> tuple[int, str, str]:
    """Call qms in-process and capture what it printed."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def commit_all(path: Path, message: str) -> None:
    repo = git.Repo(path)
    repo.git.add(A=True)
    repo.index.commit(message)


def register(capsys: Output, root: Path, admin: Person, person: Person, *roles: str) -> None:
    args = [
        "--root",
        str(root),
        "signers",
        "add",
        str(person.public_key),
        "--name",
        person.name,
        "--email",
        person.email,
    ]
    for role in roles:
        args += ["--role", role]
    args += ["--key", admin.fingerprint, "--gnupghome", str(admin.home), "--yes"]
    code, _out, err = run(capsys, *args)
    assert code == 0, err


def make_signing_repo(tmp_path: Path, team: Team, capsys: Output, source: Path) -> Path:
    """Copy a test-root into a git repository and register the team."""
    root = tmp_path / "handbook"
    shutil.copytree(source, root / "docs")
    (root / "docs" / "conf.py").unlink()
    (root / "conf.py").write_text('extensions = ["qms_sphinx"]\nhtml_theme = "furo"\n')
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [tool.qms]
            organisation = "Test Pharma"
            trust_roots = ["{team.admin.fingerprint}"]
            """
        )
        + APPROVALS
    )
    repo = git.Repo.init(root)
    with repo.config_writer() as config:
        config.set_value("user", "name", "Test Author")
        config.set_value("user", "email", "author@corvane.example")
    commit_all(root, "Handbook")
    register(capsys, root, team.admin, team.admin, "registry-admin")
    register(capsys, root, team.admin, team.author, "author")
    register(capsys, root, team.admin, team.reviewer, "reviewer")
    register(capsys, root, team.admin, team.second_reviewer, "reviewer")
    register(capsys, root, team.admin, team.approver, "qa", "author")
    return root


def qms(capsys: Output, root: Path, *argv: str) -> tuple[int, str, str]:
    """Run qms in `root`; it never prints a traceback."""
    code, out, err = run(capsys, "--root", str(root), *argv)
    assert "Traceback" not in err
    return code, out, err


def as_(person: Person) -> tuple[str, ...]:
    """The options that sign with `person`'s key."""
    return ("--key", person.fingerprint, "--gnupghome", str(person.home), "--yes")


SITE_PAGES = 'site_pages = ["index", "frameworks/*", "matrix"]\n'


def traceability_repo(tmp_path: Path, team: Team, capsys: Output, settings: str) -> Path:
    """The traceability test-root, signing, with `settings` added to [tool.qms] (uncommitted)."""
    root = make_signing_repo(tmp_path, team, capsys, ROOTS / "test-traceability")
    text = (root / "pyproject.toml").read_text()
    head, rest = text.split("\n", 1)
    (root / "pyproject.toml").write_text(f"{head}\n{SITE_PAGES}{rest}{settings}")
    return root


def squash_history(root: Path) -> None:
    """One new root commit with the same files: what a force-push of a rebased branch leaves."""
    repository = git.Repo(root)
    squashed = git.Commit.create_from_tree(
        repository, repository.head.commit.tree, "Squashed history", parent_commits=[]
    )
    repository.head.reference.set_commit(squashed)
