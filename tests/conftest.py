"""Shared fixtures: Sphinx test-roots and throwaway handbook repositories."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.keys import short_tempdir

pytest_plugins = ("sphinx.testing.fixtures",)

# Fuzzing profiles: "fast" runs in make test; "long" on demand with
# `pytest tests/test_hostile_input.py --hypothesis-profile=long`. No deadline: the
# shared machine's speed varies, and timing is not what the properties test.
settings.register_profile(
    "fast", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("fast")

ROOTS = Path(__file__).parent / "roots"
REPO = Path(__file__).parent.parent


@pytest.fixture(autouse=True, scope="session")
def no_default_gnupg_home() -> Iterator[None]:
    """Point gpg's default home at an empty scratch folder: tests never touch ~/.gnupg."""
    home = short_tempdir("qg-")
    patch = pytest.MonkeyPatch()
    patch.setenv("GNUPGHOME", str(home))
    yield
    patch.undo()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def rootdir() -> Path:
    """Where sphinx.testing finds the `test-*` roots."""
    return ROOTS


HandbookFactory = Callable[..., Path]


@pytest.fixture
def make_handbook(tmp_path: Path) -> HandbookFactory:
    """Lay a test-root's pages out as a handbook repository (pyproject + docs/)."""

    def make(testroot: str, settings: str = "") -> Path:
        repo = tmp_path / testroot
        shutil.copytree(ROOTS / f"test-{testroot}", repo / "docs")
        (repo / "docs" / "conf.py").unlink()
        (repo / "pyproject.toml").write_text(
            textwrap.dedent(
                """\
                [tool.qms]
                organisation = "Test Organisation"
                """
            )
            + settings,
            encoding="utf-8",
        )
        (repo / "conf.py").write_text('extensions = ["qms_sphinx"]\n', encoding="utf-8")
        return repo

    return make
