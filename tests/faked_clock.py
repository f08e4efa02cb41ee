"""A handbook whose signers were registered on a faked gpg clock, for tests of signing time."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path

import git

from qms.adapters.gpg import UserKeys
from qms.config import load_config
from qms.services.signers import add_signer
from tests.conftest import ROOTS
from tests.keys import Person, make_person, remove_home

ROLES = {"admin": ["registry-admin"], "author": ["author"], "reviewer": ["reviewer"],
         "approver": ["qa"]}  # fmt: skip


NAMES = {"admin": "Ada Admin", "author": "Abe Author", "reviewer": "Rita Reviewer",
         "approver": "Quinn Approver"}  # fmt: skip


def faked_people(
    folder: Path, at: datetime, expire: Mapping[str, str] | None = None
) -> Iterator[dict[str, Person]]:
    """Everyone of NAMES with a key made at `at` (`expire`: per person, as gpg takes it),
    for a fixture to yield from; their homes go afterwards."""
    clock = (faked(at),)
    found = {
        key: make_person(name, folder, options=clock, expire=(expire or {}).get(key, "0"))
        for key, name in NAMES.items()
    }
    yield found
    for person in found.values():
        remove_home(person)


def faked(moment: datetime) -> str:
    """gpg's option that sets its clock to `moment`."""
    return "--faked-system-time=" + moment.strftime("%Y%m%dT%H%M%S") + "!"


def registered_handbook(root: Path, people: dict[str, Person], at: datetime, table: str) -> Path:
    """The test handbook at `root`, committed with `table` after `[tool.qms]`'s trust root
    (people["admin"]), and every person registered at `at` with their ROLES."""
    shutil.copytree(ROOTS / "test-handbook", root / "docs")
    (root / "docs/conf.py").unlink()
    (root / "conf.py").write_text('extensions = ["qms_sphinx"]\n')
    (root / "pyproject.toml").write_text(
        f'[tool.qms]\ntrust_roots = ["{people["admin"].fingerprint}"]\n\n{table}'
    )
    repository = git.Repo.init(root)
    with repository.config_writer() as git_config:
        git_config.set_value("user", "name", "Test")
        git_config.set_value("user", "email", "test@corvane.example")
    repository.git.add(A=True)
    repository.index.commit("Handbook")
    config = load_config(root)
    admin = UserKeys(people["admin"].home, (faked(at),))
    for key, person in people.items():
        add_signer(
            config, person.public_key.read_bytes(), person.name, person.email, ROLES[key],
            people["admin"].fingerprint, admin, at,
        )  # fmt: skip
    return root
