"""Change control of the tool: the version the last signed validation report covers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The release manifest's tool list names the qms-handbook version under this key
# (services/release/create.py records `qms.__version__` there).
MANIFEST_KEY = "qms"
VALIDATION_SET = "validation"


class OnChange(StrEnum):
    """What `qms verify` does when the installed version is not the validated one."""

    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class ValidationPolicy:
    """`[tool.qms.validation]`."""

    on_version_change: OnChange = OnChange.WARN


# Nothing configured: warn.
DEFAULT_VALIDATION = ValidationPolicy()


@dataclass(frozen=True)
class VersionChange:
    """The installed version differs from the one the last signed validation release covers."""

    installed: str
    validated: str
    release: str
    fail: bool

    def as_dict(self) -> dict[str, object]:
        """As `qms verify --json` shows it."""
        return {
            "installed": self.installed,
            "validated": self.validated,
            "release": self.release,
            "fail": self.fail,
        }

    @property
    def message(self) -> str:
        """The one line `qms verify` prints."""
        return (
            f"qms-handbook {self.installed} is installed, but the last signed validation "
            f"report (release {self.release}) covers {self.validated}: validate this version "
            "(qms validate iq, oq, report) and release a new report"
        )


def version_change(
    installed: str, release: str, validated: str, policy: ValidationPolicy
) -> VersionChange | None:
    """The change, when the validated version is not the installed one (None: the same)."""
    if validated == installed:
        return None
    return VersionChange(installed, validated, release, policy.on_version_change is OnChange.FAIL)
