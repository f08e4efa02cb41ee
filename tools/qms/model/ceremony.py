"""The signing ceremony: what each signature means in words, and the summary a signer confirms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# What each kind of signature means, in the signer's own words (21 CFR 11.50(a)(3)):
# shown before signing and recorded in the statements that carry a meaning. One home for
# the defaults; `[tool.qms.signing.wording]` overrides any of them (config.py).
DEFAULT_WORDING: Mapping[str, str] = {
    "authored": "I wrote this document and it is complete",
    "reviewed": "I reviewed this document and found it fit for approval",
    "approved": "I approve this document for use",
    "retirement-authored": "I request that this document be withdrawn from use",
    "retirement-reviewed": "I reviewed the withdrawal of this document and agree with it",
    "retirement-approved": "I approve the withdrawal of this document from use",
    "release": "I reviewed the output of this release and approve its publication",
    "registry": "I approve this revision of the signer registry and its signing policy",
    "migration": "I confirm that these signature records were carried over unchanged",
    "training": "I read and understood this document",
    "training-session": "I trained the people listed on this document",
    "training-import": "This export of training records is complete and correct",
    "roster": "This roster of staff and their roles is complete and correct",
    "risk-acceptance": "I accept this residual risk until the date given",
    "capa-closure": "I confirm that the actions of this CAPA are complete",
    "capa-verification": "I verified that this CAPA was effective",
    "capa-import": "This export of CAPA records is complete and correct",
    "impact": "I assessed the change upstream and its impact on this document",
    "deviation": "I assessed this deviation of the operational qualification and approve its "
    "disposition",
}
WORDING_KEYS = tuple(DEFAULT_WORDING)
# The statement kind of each wording key, as the timestamp policy names kinds
# (model/timestamp_policy.py KINDS).
STATEMENT_KINDS: Mapping[str, str] = {
    "authored": "approval",
    "reviewed": "approval",
    "approved": "approval",
    "retirement-authored": "retirement",
    "retirement-reviewed": "retirement",
    "retirement-approved": "retirement",
    "release": "release",
    "registry": "registry",
    "migration": "migration",
    "training": "training",
    "training-session": "training",
    "training-import": "training",
    "roster": "roster",
    "risk-acceptance": "risk_acceptance",
    "capa-closure": "capa",
    "capa-verification": "capa",
    "capa-import": "capa_import",
    "impact": "impact",
    "deviation": "deviation",
}
# Until a trusted time-stamping authority is configured, the signer's clock is the time.
LOCAL_CLOCK = "local clock"
PROTECTIONS = ("smartcard", "passphrase", "none")


def wording_key(meaning: str, retirement: bool = False) -> str:
    """The wording key of an approval's or retirement's meaning."""
    return f"retirement-{meaning}" if retirement else meaning


@dataclass(frozen=True)
class SigningPolicy:
    """`[tool.qms.signing]`: the wording of each meaning and whether keys must be protected."""

    # (key, wording) pairs that differ from DEFAULT_WORDING, sorted by key.
    wording_overrides: tuple[tuple[str, str], ...] = ()
    # A key without a passphrase or smartcard cannot sign (21 CFR 11.200(a)(1)).
    protected_key: bool = False

    def wording(self, key: str) -> str:
        """The words a signature of `key` means."""
        return dict(self.wording_overrides).get(key, DEFAULT_WORDING[key])

    def as_dict(self) -> dict[str, Any]:
        """What the registry approves (empty when nothing is configured)."""
        data: dict[str, Any] = {}
        if self.wording_overrides:
            data["wording"] = dict(self.wording_overrides)
        if self.protected_key:
            data["protected_key"] = True
        return data

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> SigningPolicy:
        """From a table its schema accepted, or from an approved policy's `signing` part."""
        overrides = {
            key: " ".join(str(text).split())
            for key, text in dict(raw.get("wording", {})).items()
            if " ".join(str(text).split()) != DEFAULT_WORDING.get(key)
        }
        return cls(tuple(sorted(overrides.items())), bool(raw.get("protected_key", False)))


# Nothing configured: the default wording, any key.
DEFAULT_SIGNING = SigningPolicy()


def protection_refusal(required: bool, protection: str) -> str | None:
    """Why a key protected by `protection` may not sign under the policy (None: it may)."""
    if not required or protection in ("smartcard", "passphrase"):
        return None
    return (
        "the signing policy requires a protected key (passphrase or smartcard) and this one "
        "has neither"
    )


def accepts(answer: str) -> bool:
    """Whether a signer's answer to "Sign? [y/N]" is yes; anything else is no."""
    return answer.strip().lower() in ("y", "yes")


@dataclass(frozen=True)
class SigningSummary:
    """What a signer sees, and confirms, before gpg asks for their passphrase or PIN."""

    # What is done, e.g. "Approve" or "Sign release 2026.1".
    action: str
    # What is signed: (label, value) rows such as ("document", "POL-ACC-001 ...").
    subject: tuple[tuple[str, str], ...]
    # SHA-256 of what the signature binds (document content, manifest, registry revision).
    content_sha256: str
    meaning: str
    wording: str
    signer_name: str
    role: str
    fingerprint: str
    # Where the signature's time comes from; the TSA support names its authority here.
    time_source: str = LOCAL_CLOCK
    # Further rows a kind shows (a retirement's reason, a risk's score).
    extra: tuple[tuple[str, str], ...] = ()

    def rows(self) -> tuple[tuple[str, str], ...]:
        """The summary as (label, value) rows, in the order shown."""
        return (
            *self.subject,
            ("content SHA-256", self.content_sha256),
            ("meaning", f"{self.meaning}: \u201c{self.wording}\u201d"),
            ("signer", f"{self.signer_name} ({self.role})"),
            ("key", self.fingerprint),
            *self.extra,
            ("time source", self.time_source),
        )

    def lines(self) -> list[str]:
        """The summary as the terminal shows it: a heading, then aligned rows."""
        rows = self.rows()
        width = max(len(label) for label, _ in rows)
        return [f"{self.action}:", *(f"  {label:<{width}}  {value}" for label, value in rows)]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "action": self.action,
            "subject": dict(self.subject),
            "content_sha256": self.content_sha256,
            "meaning": self.meaning,
            "wording": self.wording,
            "signer_name": self.signer_name,
            "role": self.role,
            "fingerprint": self.fingerprint,
            "time_source": self.time_source,
        }
