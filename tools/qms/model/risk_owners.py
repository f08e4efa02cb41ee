"""A risk treatment plan's risk owners (ISO/IEC 27001 6.1.3 e) against the risks it names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qms.model.document import Document
from qms.model.findings import Finding, FindingCode


@dataclass(frozen=True)
class Treated:
    """A risk a plan names: where it first does, and who owns it."""

    risk_id: str
    line: int | None
    # The risk's risk_owner field, and the registry role it names ("" for none).
    owner: str
    role: str


def owner_findings(
    document: Document, path: str, treated: Sequence[Treated], rule_configured: bool
) -> list[Finding]:
    """What is wrong with `document`'s risk_owners, located for its author.

    A named role that owns none of the risks is reported at the risk_owners line; a risk
    whose owner's role is not named, once per role, where the plan first names the risk.
    """
    if not document.risk_owners:
        return []
    at = document.line_of("risk_owners")
    found = []
    if not rule_configured:
        found.append(
            Finding(
                path,
                at,
                f"{document.id} names risk_owners, but no approval rule of a {document.type} "
                "asks them to sign: set risk_owners in its [tool.qms.approvals] table",
                FindingCode.OWNER_APPROVAL,
            )
        )
    owned = {risk.role for risk in treated if risk.role}
    for role in document.risk_owners:
        if role not in owned:
            found.append(
                Finding(
                    path,
                    at,
                    f"{document.id}: risk_owners names '{role}', which owns none of the "
                    f"{len(treated)} risks the plan names; remove it",
                    FindingCode.RISK_OWNERS,
                )
            )
    unlisted: dict[str, list[Treated]] = {}
    for risk in treated:
        if not risk.role:
            found.append(
                Finding(
                    path,
                    risk.line,
                    f"{document.id}: the owner of {risk.risk_id}, '{risk.owner}', names no "
                    "role: give the role a title in [tool.qms.roles] that matches it",
                    FindingCode.RISK_OWNERS,
                )
            )
        elif risk.role not in document.risk_owners:
            unlisted.setdefault(risk.role, []).append(risk)
    for role, risks in unlisted.items():
        ids = ", ".join(r.risk_id for r in risks)
        found.append(
            Finding(
                path,
                risks[0].line,
                f"{document.id} names {ids}, owned by '{role}' ({risks[0].owner}), but "
                f"risk_owners does not list '{role}': add it, so that the owner approves",
                FindingCode.RISK_OWNERS,
            )
        )
    return found
