"""Trusted time: the time-stamping authorities the signing policy pins, and when a token is due."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from qms.model.timeutil import format_utc

# The statement kinds a policy sets a requirement for; each signed file is of one.
KINDS = (
    "approval",
    "retirement",
    "registry",
    "migration",
    "release",
    "training",
    "roster",
    "risk_acceptance",
    "capa",
    "capa_import",
    "impact",
    "deviation",
)
DEFAULT_TOLERANCE = 300  # seconds between a signature's own time and its token's
# A token requested at signing sits beside the signature; one added later (qms timestamp
# --missing) has a name of its own, since it proves only that the signature existed by then.
TOKEN_SUFFIX = ".tsr"  # noqa: S105 (a file suffix)
LATER_TOKEN_SUFFIX = ".later.tsr"  # noqa: S105 (a file suffix)
CLAIMED = "time as claimed by the signer"


class Need(StrEnum):
    """Whether a statement kind needs a token when it is signed."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    OFF = "off"


@dataclass(frozen=True)
class TimestampAuthority:
    """One pinned TSA: where to ask, and the PEM certificates its tokens must chain to."""

    name: str
    url: str
    certificates: str

    def as_dict(self) -> dict[str, str]:
        """JSON-ready data, certificates included: the registry pins them."""
        return {"name": self.name, "url": self.url, "certificates": self.certificates}


@dataclass(frozen=True)
class TimestampPolicy:
    """The TSAs in order of preference, the need per kind and the tolerance."""

    authorities: tuple[TimestampAuthority, ...]
    needs: tuple[tuple[str, Need], ...] = ()
    tolerance_seconds: int = DEFAULT_TOLERANCE

    def need(self, kind: str) -> Need:
        """What the policy asks of a statement of `kind` (off when it names none)."""
        return dict(self.needs).get(kind, Need.OFF) if self.authorities else Need.OFF

    def authority(self, name: str) -> TimestampAuthority | None:
        """The pinned TSA called `name`."""
        return next((a for a in self.authorities if a.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data, as the signing policy records it."""
        return {
            "authorities": [a.as_dict() for a in self.authorities],
            "kinds": {kind: str(need) for kind, need in self.needs},
            "tolerance_seconds": self.tolerance_seconds,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> TimestampPolicy:
        """From `as_dict`'s shape (a registry's policy, or a checked [tool.qms.timestamps]);
        ValueError when it is not that shape."""
        try:
            authorities = tuple(
                TimestampAuthority(str(a["name"]), str(a["url"]), str(a["certificates"]))
                for a in raw.get("authorities", ())
            )
            needs = tuple(sorted((str(k), Need(v)) for k, v in raw.get("kinds", {}).items()))
            tolerance = int(raw.get("tolerance_seconds", DEFAULT_TOLERANCE))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a timestamp policy: {exc}") from exc
        unknown = sorted({k for k, _ in needs} - set(KINDS))
        if unknown:
            raise ValueError(f"unknown statement kinds {', '.join(unknown)}")
        return cls(authorities, needs, tolerance)


def approved_policy(policy_json: str) -> TimestampPolicy | None:
    """The timestamp policy a registry revision approves (None: none, or unreadable, so no
    TSA is trusted)."""
    if not policy_json:
        return None
    raw = json.loads(policy_json).get("timestamps")
    if not isinstance(raw, Mapping):
        return None
    try:
        return TimestampPolicy.from_dict(raw)
    except ValueError:
        return None


@dataclass(frozen=True)
class StampFacts:
    """What a token, verified offline, says: the TSA whose pinned chain it leads to and the
    time it certifies; or why it does not count."""

    authority: str = ""
    time: datetime | None = None
    # A token added after signing proves only that the signature existed by `time`.
    later: bool = False
    problem: str = ""

    @property
    def trusted(self) -> bool:
        """The token verified against a pinned TSA."""
        return not self.problem and self.time is not None


def time_source(stamp: StampFacts | None) -> str:
    """What a reader is told of a signature's time."""
    if stamp is None or not stamp.trusted or stamp.time is None:
        return CLAIMED
    if stamp.later:
        return f"{CLAIMED}; existed no later than {format_utc(stamp.time)} (TSA {stamp.authority})"
    return f"time trusted (TSA {stamp.authority})"


def tolerance_problem(stamp: StampFacts, signed_at: datetime, tolerance_seconds: int) -> str:
    """Why a token made at signing lies too far from the signature's own time ("" if not)."""
    if stamp.later or stamp.time is None:
        return ""
    apart = abs((stamp.time - signed_at).total_seconds())
    if apart <= tolerance_seconds:
        return ""
    return (
        f"the signature claims {format_utc(signed_at)} but TSA {stamp.authority} stamped it "
        f"at {format_utc(stamp.time)}, {int(apart)} s apart (tolerance {tolerance_seconds} s)"
    )


def planned_source(policy: TimestampPolicy | None, kind: str, local: str) -> str:
    """What a signer is told the time of a signature of `kind` will come from."""
    need = policy.need(kind) if policy is not None else Need.OFF
    if policy is None or need is Need.OFF:
        return local
    names = ", ".join(a.name for a in policy.authorities)
    if need is Need.REQUIRED:
        return f"TSA {names} (required: nothing is signed if none answers)"
    return f"TSA {names}, else {local}"
