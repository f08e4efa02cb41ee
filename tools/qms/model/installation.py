"""Installation qualification: each installed file against its RECORD, and the IQ record."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from qms.model.schemas import problems
from qms.model.timeutil import format_utc

FORMAT = "qms-iq/1"
SCHEMA = "iq-record"
# A failing check names at most this many files; the count says how many more.
_MAX_LISTED = 50

EDITABLE = "editable"
WHEEL = "wheel"
# Metadata without a RECORD (a source tree's egg-info on the path): nothing pip installed.
SOURCE = "source"


@dataclass(frozen=True)
class ListedFile:
    """One row of a distribution's RECORD: a path below site-packages, its hash and size."""

    path: str
    algorithm: str | None
    digest: str | None  # as RECORD writes it: urlsafe base64 without padding
    size: int | None


@dataclass(frozen=True)
class Check:
    """One IQ check: what was found, and whether it passes."""

    id: str
    passed: bool
    detail: str
    failures: tuple[str, ...] = ()

    def failure_lines(self) -> tuple[str, ...]:
        """One line per failure, for the person running the IQ."""
        if self.passed:
            return ()
        return tuple(f"{self.id}: {text}" for text in self.failures or (self.detail,))

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "passed": self.passed,
            "detail": self.detail,
            "failures": list(self.failures),
        }


@dataclass(frozen=True)
class Product:
    """The installed distribution: name, version and how it was installed."""

    distribution: str
    version: str
    kind: str  # WHEEL or EDITABLE
    wheel_sha256: str | None  # the archive pip installed, when it recorded one

    def as_dict(self) -> dict[str, Any]:
        return {
            "distribution": self.distribution,
            "version": self.version,
            "install": self.kind,
            "wheel_sha256": self.wheel_sha256,
        }


@dataclass(frozen=True)
class IqRecord:
    """One installation qualification, as `qms validate iq` records it."""

    performed_at: datetime
    product: Product
    environment: Mapping[str, str]
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def failure_lines(self) -> tuple[str, ...]:
        return tuple(line for check in self.checks for line in check.failure_lines())

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "performed_at": format_utc(self.performed_at),
            "product": self.product.as_dict(),
            "environment": dict(self.environment),
            "passed": self.passed,
            "checks": [check.as_dict() for check in self.checks],
        }

    def to_json(self) -> str:
        """The record as JSON text; a record its own schema refuses is a bug, and raises."""
        data = self.as_dict()
        found = problems(SCHEMA, data)
        if found:
            raise ValueError(f"IQ record breaks its schema: {found[0].message}")
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def install_kind(direct_url: str | None, has_record: bool = True) -> tuple[str, str | None]:
    """The kind of install PEP 610's direct_url.json says, and the wheel's SHA-256 if named.

    No direct_url.json means pip installed from an index, which installs a wheel.
    """
    if not has_record:
        return SOURCE, None
    try:
        data = json.loads(direct_url) if direct_url else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    dir_info = data.get("dir_info")
    if isinstance(dir_info, dict) and dir_info.get("editable") is True:
        return EDITABLE, None
    archive = data.get("archive_info")
    hashes = archive.get("hashes") if isinstance(archive, dict) else None
    sha256 = hashes.get("sha256") if isinstance(hashes, dict) else None
    return WHEEL, sha256 if isinstance(sha256, str) else None


def install_check(product: Product) -> Check:
    """An editable install is a development checkout: its RECORD names no module of the product."""
    if product.kind == EDITABLE:
        return Check(
            "install",
            False,
            "editable install (pip install -e): a development checkout, which cannot be "
            "qualified as the installed product; install the released wheel and run the IQ there",
        )
    if product.kind == SOURCE:
        return Check(
            "install",
            False,
            "the qms-handbook metadata found has no RECORD (a source tree's egg-info): "
            "nothing was installed by pip; install the released wheel and run the IQ there",
        )
    source = f" sha256 {product.wheel_sha256}" if product.wheel_sha256 else " from an index"
    return Check("install", True, f"installed from a wheel{source}")


def file_problem(listed: ListedFile, content: bytes | None) -> str | None:
    """What is wrong with one installed file against its RECORD row, or None."""
    if content is None:
        return f"{listed.path}: listed in RECORD but not installed"
    if listed.algorithm is None or listed.digest is None:
        return None  # RECORD itself and compiled files pip adds carry no hash
    if listed.algorithm != "sha256":
        return f"{listed.path}: RECORD gives a {listed.algorithm} hash, not SHA-256"
    actual = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
    if actual != listed.digest:
        return f"{listed.path}: SHA-256 differs from RECORD (installed file altered)"
    if listed.size is not None and listed.size != len(content):
        return f"{listed.path}: {len(content)} bytes, RECORD says {listed.size}"
    return None


def files_check(kind: str, listed: Sequence[ListedFile], found: Sequence[str | None]) -> Check:
    """The RECORD check over every listed file, given what `file_problem` found for each."""
    failures = [problem for problem in found if problem is not None]
    hashed = sum(1 for row in listed if row.digest is not None)
    scope = (
        "editable install: RECORD lists only the path hook and metadata, not the product's "
        "modules, so only those were checked; "
        if kind == EDITABLE
        else ""
    )
    # pip lists the .pyc files it compiles without a hash: they are counted, not hashed.
    summary = f"{scope}{len(listed)} files listed in RECORD, {hashed} with a SHA-256"
    if not listed or hashed == 0:
        return Check("files", False, f"{summary}: no installed file can be checked")
    if not failures:
        return Check("files", True, f"{summary}, all match")
    shown = failures[:_MAX_LISTED]
    if len(failures) > _MAX_LISTED:
        shown.append(f"and {len(failures) - _MAX_LISTED} more files")
    return Check("files", False, f"{summary}; {len(failures)} do not match", tuple(shown))


def version_check(name: str, found: str | None, required: str, satisfied: bool) -> Check:
    """A component's version against what qms-handbook's metadata requires ('' for no bound)."""
    if found is None:
        return Check(name, False, f"{name} is not installed or cannot run")
    bound = f" (requires {required})" if required else ""
    if not satisfied:
        return Check(name, False, f"{found}{bound}: outside what qms-handbook requires")
    return Check(name, True, f"{found}{bound}")
