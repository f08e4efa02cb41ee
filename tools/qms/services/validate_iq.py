"""`qms validate iq`: the installed qms-handbook, its components and gpg, checked and recorded."""

from __future__ import annotations

import platform
from datetime import datetime
from importlib import metadata

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from qms.adapters.git import git_version
from qms.adapters.gpg_trial import try_gpg
from qms.errors import QmsError
from qms.model.installation import (
    Check,
    IqRecord,
    ListedFile,
    Product,
    file_problem,
    files_check,
    install_check,
    install_kind,
    version_check,
)

DISTRIBUTION = "qms-handbook"
# The components whose versions the IQ records, by distribution name.
COMPONENTS = (
    "sphinx",
    "sphinx-needs",
    "myst-parser",
    "GitPython",
    "python-gnupg",
    # The OQ runner and the renderer of its results in the validation report.
    "pytest",
    "sphinx-test-reports",
)


def qualify_installation(now: datetime) -> IqRecord:
    """Check the installed product as it is now, and say what was found."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError as exc:
        raise QmsError(
            f"the {DISTRIBUTION} distribution is not installed in this Python",
            f"install the {DISTRIBUTION} wheel with pip and run its own qms",
        ) from exc
    kind, wheel = install_kind(
        dist.read_text("direct_url.json"), has_record=dist.read_text("RECORD") is not None
    )
    product = Product(DISTRIBUTION, dist.version, kind, wheel)
    trial = try_gpg()
    git = git_version()
    checks = (
        install_check(product),
        _python_check(dist),
        *(_component_check(dist, name) for name in COMPONENTS),
        version_check("gpg", trial.version, "", True),
        version_check("git", git, "", True),
        _files_check(dist, kind),
        Check(
            "gpg-trial",
            trial.failed_step is None,
            trial.failed_step
            or "created an ed25519 key in a temporary GnuPG home, signed, verified, "
            "refused an altered text, removed the home",
        ),
    )
    environment = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": platform.system(),
        "machine": platform.machine(),
        **{name: _installed(name) or "not installed" for name in COMPONENTS},
        "gpg": trial.version or "not found",
        "git": git or "not found",
    }
    return IqRecord(now, product, environment, checks)


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _python_check(dist: metadata.Distribution) -> Check:
    required = dist.metadata["Requires-Python"] or ""
    found = platform.python_version()
    try:
        fits = SpecifierSet(required).contains(found)
    except InvalidSpecifier:
        fits = False  # a metadata bound nobody can read qualifies nothing
    return version_check("python", found, required, fits)


def _component_check(dist: metadata.Distribution, name: str) -> Check:
    """A component against the bound qms-handbook's metadata sets for it."""
    specifier = SpecifierSet()
    for text in dist.requires or ():
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) == canonicalize_name(name) and (
            requirement.marker is None or requirement.marker.evaluate({"extra": ""})
        ):
            specifier &= requirement.specifier
    found = _installed(name)
    satisfied = found is not None and specifier.contains(found, prereleases=True)
    return version_check(name, found, str(specifier), satisfied)


def _files_check(dist: metadata.Distribution, kind: str) -> Check:
    """Every file RECORD lists, read where it is installed and judged against its row."""
    listed: list[ListedFile] = []
    found: list[str | None] = []
    for path in dist.files or ():
        row = ListedFile(
            path.as_posix(),
            path.hash.mode if path.hash else None,
            path.hash.value if path.hash else None,
            path.size,
        )
        try:
            content: bytes | None = path.read_binary()
        except OSError:
            content = None
        listed.append(row)
        found.append(file_problem(row, content))
    return files_check(kind, listed, found)
