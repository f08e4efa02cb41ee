"""Located findings: what checks report, as `path:line: message`, and what each code means."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FindingCode(StrEnum):
    """Every code a finding (or a qms Sphinx warning, as `qms.CODE`) carries.

    Each member holds a one-line explanation: what the finding means and what to do.
    """

    explanation: str

    def __new__(cls, value: str, explanation: str) -> FindingCode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.explanation = explanation
        return member

    # Reading the sources
    FRONTMATTER = (
        "frontmatter",
        "a document's front matter is missing, unreadable or holds a wrong field or value; "
        "fix the field the message names, at its line",
    )
    ENCODING = (
        "encoding",
        "a source file is not UTF-8 text, so nothing else can be checked in it; save it as UTF-8",
    )
    LINE_ENDINGS = (
        "line-endings",
        "a file has CRLF line endings, so its bytes differ from what is (or will be) signed; "
        "save it with LF line endings (see .gitattributes) and check it out again",
    )
    DUPLICATE_ID = (
        "duplicate-id",
        "two documents carry the same id; ids are never reused, give one of them the next free id",
    )
    DOCREF = (
        "docref",
        "prose mentions an id shaped like a document's that names no document; correct it, "
        "or write it as code if it is not meant as a reference",
    )
    RAW_HTML = (
        "raw-html",
        "a page holds raw HTML, which would reach readers unescaped and is dropped; write it "
        "in Markdown, or escape '<' as '\\<'",
    )
    # Change control (git history)
    ID_REUSED = (
        "id-reused",
        "an id once withdrawn, or used by a document of another type, names this document; "
        "an id names one document for good, give this one the next free id",
    )
    VERSION_BACKWARDS = (
        "version-backwards",
        "a document's version is lower than one already recorded or approved; versions "
        "never go backwards, raise it above the highest",
    )
    NOT_BUMPED = (
        "not-bumped",
        "a document changed after its version was approved; raise the version and record "
        "a change_reason",
    )
    NO_CHANGE_REASON = (
        "no-change-reason",
        "a new version of an approved document does not say why it changed; fill in "
        "change_reason in its front matter",
    )
    # Traceability
    CATALOGUE = (
        "catalogue",
        "a requirement catalogue file (_catalogues/ in the docs folder) is unreadable, "
        "malformed or repeats a requirement id; fix the entry at the line named",
    )
    NEED_FIELD = (
        "need-field",
        "a need (requirement, control, risk, procedure, evidence) lacks a field it needs or "
        "holds a value its type does not allow; set the field to one of the allowed values",
    )
    SOA_MISSING = (
        "soa-missing",
        "an Annex A control has no applicability decision; add a control need that "
        "implements it to the Statement of Applicability",
    )
    SOA_DUPLICATE = (
        "soa-duplicate",
        "an Annex A control has more than one decision; keep one control need per Annex A control",
    )
    SOA_UNIMPLEMENTED = (
        "soa-unimplemented",
        "an applicable control has no implementing procedure; add a procedure need with "
        "':implements:' naming it",
    )
    RISK_RESIDUAL = (
        "risk-residual",
        "a risk scores higher after treatment than before; correct its residual likelihood "
        "or impact",
    )
    RISK_UNTREATED = (
        "risk-untreated",
        "a risk scores above the acceptance threshold with neither a mitigating control nor "
        "a recorded acceptance; add a control that mitigates it, or record the acceptance",
    )
    # Risk acceptance (issue 15)
    RISK_ACCEPTANCE = (
        "risk-acceptance",
        "a signed risk acceptance does not count (its signature, its signer's role at the "
        "accepted score, an unknown risk, or a statement not in canonical form); have the "
        "risk owner accept the risk again with 'qms risk accept'",
    )
    RISK_ACCEPTANCE_LAPSED = (
        "risk-acceptance-lapsed",
        "a notice: a risk's signed acceptance no longer holds: its current score rose above "
        "the accepted one, its date passed, or its signer no longer holds a role that may "
        "accept the current score; review the risk and have it accepted again with 'qms risk "
        "accept' (a risk above the threshold with no mitigating control still fails the build)",
    )
    RISK_OWNERS = (
        "risk-owners",
        "a risk treatment plan's risk_owners does not match the owners of the risks it names: "
        "a role that owns none of them, a risk whose owner's role it does not list, or a "
        "risk_owner that names no role (give the role a title in [tool.qms.roles]); correct "
        "risk_owners, at its line, or the risk's owner",
    )
    OWNER_APPROVAL = (
        "owner-approval",
        "a document names risk_owners, but the approval rules of its type ask none of them to "
        'sign; set risk_owners = "approved" (the meaning each owner gives) in '
        "[tool.qms.approvals.TYPE], or drop the field",
    )
    # Change impact (issue 17)
    IMPACT_ASSESSMENT = (
        "impact-assessment",
        "a signed impact assessment of a suspect link does not count (its signature, its "
        "signer's role, or a statement not in canonical form); have a reviewer assess the "
        "link again with 'qms impact assess'",
    )
    RETIRED_LINK = (
        "retired-link",
        "an item of a document in use links to an item of a retired document; link it to the "
        "item that replaces it, or remove the link",
    )
    REQUIREMENT_UNMAPPED = (
        "requirement-unmapped",
        "a regulatory requirement maps to no Annex A control; add maps_to in its catalogue file",
    )
    # Signatures and the signer registry
    VERIFY = (
        "verify",
        "an approval signature does not count (bad signature, changed content, wrong signer, "
        "role, order or key), or approvals could not be verified at all; the message says "
        "why: fix what it names, or have the document signed again",
    )
    ALTERED = (
        "altered",
        "a committed file under signatures/ is gone or rewritten; signature files are only "
        "ever added, restore it as it was (the message says how)",
    )
    REGISTRY = (
        "registry",
        "the signer registry chain does not verify back to the trust roots, so no signature "
        "counts; restore the revision or key file the message names from git history",
    )
    REGISTRY_POLICY = (
        "registry-policy",
        "[tool.qms] holds a signing policy the latest registry revision does not approve; a "
        "registry administrator approves it with 'qms signers policy', or restore it from git",
    )
    KEY_REVOKED = (
        "key-revoked",
        "a registered key carries an OpenPGP revocation the registry does not record; a "
        "registry administrator records it with 'qms signers revoke'",
    )
    MIGRATION = (
        "migration",
        "a signed migration does not count (signature, signer or content), so the records "
        "it lists stay untied; sign it again as a registry administrator",
    )
    # Training
    TRAINING = (
        "training",
        "a training record or the staff roster does not count (signature, signer's role, a "
        "person not on the roster, a version never approved, or content other than approved); "
        "record the training again, or have HR import the roster again",
    )
    # Internal audits and CAPA
    AUDIT = (
        "audit",
        "an audit, finding, CAPA or action lacks a link or holds a wrong date, or a CAPA names "
        "a document version that does not exist; fix the field the message names, at its line",
    )
    CAPA = (
        "capa",
        "a CAPA closure or effectiveness verification does not count (signature, signer's role, "
        "a CAPA not in the handbook, a verification dated before the closure), or an external "
        "CAPA import does not; sign it again with 'qms capa close' or 'qms capa verify'",
    )
    # Change control
    CHANGE_REFERENCE = (
        "change-reference",
        "a change reason names a CAPA or change request the handbook does not hold, or a "
        "change request whose affects does not list the document; correct the id in the "
        "reason (qms bump) or register the change request as a 'change' item",
    )
    # Releases and witnesses
    RELEASE = (
        "release",
        "a published release folder does not verify offline (a file, the manifest or its "
        "signatures); publish the signed release again ('qms release publish')",
    )
    ROLLBACK = (
        "rollback",
        "the history lost or changed files this clone verified before (rolled back, rebased "
        "or force-pushed); restore it, or if deliberate run 'qms verify --accept-rollback "
        "--reason TEXT'",
    )
    WITNESS = (
        "witness",
        "a witness (published release) is unreadable, does not verify, or attests files or "
        "commits this history no longer holds; check the witness or restore the history",
    )
    RELEASE_DIFF = (
        "release-diff",
        "a {qms-release-diff} page names a release that is not under signatures/releases or "
        "is not fully signed; name a signed release in :old: and :new:, or neither",
    )
    # External documents (issue 17)
    EXTERNAL = (
        "external",
        "a registration in docs/_external/ is unreadable, lacks a field, holds a wrong value "
        "or reuses an id; fix it at the line named",
    )
    EXTERNAL_COPY = (
        "external-copy",
        "an external document's local copy is missing or its SHA-256 differs from the one "
        "registered; register the new edition (edition, reviewed, sha256) or restore the copy",
    )
    EXTERNAL_REVIEW = (
        "external-review",
        "an external document is past its review date; confirm the edition in use is current "
        "(or register the new one) and update 'reviewed'",
    )
    # Catch-alls
    SPHINX = (
        "sphinx",
        "a warning of Sphinx or one of its extensions, without a type of its own; fix what "
        "the message says at the place it names",
    )
    # Monitoring and measurement (issue 16)
    METRIC = (
        "metric",
        "a KPI's target, amber or red threshold is not a number, or the thresholds are not "
        "in order (target, then amber, then red, from better to worse); fix the metric need",
    )
    METRIC_RESULT = (
        "metric-result",
        "a results file of docs/_metrics/ is malformed, names an unknown or computed metric, "
        "has another unit than the metric, a period that does not fit its frequency or a "
        "period twice; fix the entry at the line named",
    )
    METRIC_MISSING = (
        "metric-missing",
        "a manual KPI has no result for a period that has ended; add it to the metric's "
        "file in docs/_metrics/ (qms metrics --strict fails until then)",
    )
    DASHBOARD = (
        "dashboard",
        "a {qms-dashboard} names in ':metrics:' a KPI, or in ':summary:' a document, that "
        "this build does not hold; correct the id, or put the dashboard in an {only} block "
        "of the builds that hold it",
    )
    # end of monitoring and measurement
    # Validation of the tool (issue 19): user requirements traced to the OQ suite's tests
    URS_UNTESTED = (
        "urs-untested",
        "a user requirement (urs need) has no test in the OQ suite; mark the OQ test that "
        "verifies it with @pytest.mark.requirement('URS-...'), or drop the requirement from "
        "the URS in a new version",
    )
    URS_ONE_SIDED = (
        "urs-one-sided",
        "a user requirement of high GAMP priority lacks a positive or a negative test (two "
        "different tests are needed: one showing it met, one showing a violation refused); "
        "add the missing one, marked with check='positive' or check='negative'",
    )
    URS_UNKNOWN = (
        "urs-unknown",
        "a test of the OQ suite is marked with a requirement id no user requirement of the "
        "handbook carries; correct the id in the marker, or add the requirement to the URS",
    )
    URS_MARKER = (
        "urs-marker",
        "a requirement marker of the OQ suite cannot be read without running it (ids not "
        "written as literal strings, no id, a check other than 'positive' or 'negative', or "
        "a module that is not Python); write it as @pytest.mark.requirement('URS-...', "
        "check='negative')",
    )
    # Validation of the tool (issue 19)
    DEVIATION = (
        "deviation",
        "a test of the OQ failed, errored or was skipped and no verified disposition by QA "
        "answers for it in these results; have QA assess it and sign 'qms validate "
        "disposition TEST --decision accepted|corrected --reason ...'",
    )
    DISPOSITION = (
        "disposition",
        "a signed deviation disposition does not count: unreadable, not signed by a "
        "registered key of the qa role at signing time, or altered; sign it again with a "
        "QA key",
    )
    VALIDATION_RESULTS = (
        "validation-results",
        "a validation report names an IQ record or OQ results file that is missing or "
        "unreadable, or an IQ record with a failed check; correct the installation, run "
        "'qms validate iq' or 'qms validate oq' again and commit the file",
    )
    VALIDATED_VERSION = (
        "validated-version",
        "the installed qms-handbook is not the version the last signed release of the "
        "validation set covers; qualify this version (qms validate iq, oq, report) and "
        "release a new validation report ([tool.qms.validation] on_version_change)",
    )
    QMS = ("qms", "a problem found by qms without a more specific code; read its message")


# Codes that are notices: printed and counted at their `file:line`, but they fail neither
# the build (nor its -W) nor `qms check`. A lapsed acceptance is the register's state to
# show and follow up, not an authoring error; a risk it leaves untreated still fails.
NOTICE_CODES: frozenset[FindingCode] = frozenset({FindingCode.RISK_ACCEPTANCE_LAPSED})


def code_named(code: str) -> FindingCode | None:
    """The code as findings show it, also as a Sphinx warning type (`qms.CODE`); else None."""
    by_value = {str(member): member for member in FindingCode}
    return by_value.get(code) or by_value.get(code.removeprefix("qms."))


@dataclass(frozen=True)
class Finding:
    """One problem found in the handbook, located where the author can fix it."""

    path: str
    line: int | None
    message: str
    # A FindingCode, or a warning type Sphinx or an extension reported (see parse_warnings).
    code: str = FindingCode.QMS

    @property
    def sort_key(self) -> tuple[str, int, str]:
        """Order by file, then line (unlocated first), then message."""
        return (self.path, self.line or 0, self.message)

    def render(self) -> str:
        """Render as the one-line `path:line: message` form used everywhere."""
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        return {"path": self.path, "line": self.line, "message": self.message, "code": self.code}
