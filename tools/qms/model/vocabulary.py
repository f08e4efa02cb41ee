"""The traceability vocabulary: need types, their fields and values, link types, the id pattern."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from qms.model.gamp import LEVELS

# Document, need and requirement ids: upper case, dash-separated. No dots: sphinx-needs
# reads "ID.part" as a need part.
ID_SHAPE = r"[A-Z][A-Z0-9]*(-[A-Z0-9]+)+"
ID_REGEX = rf"^{ID_SHAPE}$"
ID_PATTERN = re.compile(ID_REGEX)

# The need types.
REQUIREMENT = "requirement"
CONTROL = "control"
RISK = "risk"
PROCEDURE = "procedure"
EVIDENCE = "evidence"
# Internal audits and CAPA (ISO/IEC 27001 9.2 and 10.2).
AUDIT = "audit"
FINDING = "finding"
CAPA = "capa"
ACTION = "action"
# Change control (ISO/IEC 27001 6.3 and 7.5.3, EU GMP Annex 11 clause 10).
CHANGE = "change"
# Validation of the tool itself (GAMP 5, issue 19): user requirements.
URS = "urs"

# The link types.
IMPLEMENTS = "implements"
MITIGATES = "mitigates"
DEMONSTRATES = "demonstrates"
MAPS_TO = "maps_to"
# Internal audits and CAPA.
COVERS = "covers"
RAISED_IN = "raised_in"
CONCERNS = "concerns"
ADDRESSES = "addresses"
ACTION_OF = "action_of"
# Validation: a user requirement serves a regulatory or ISO 27001 requirement.
SERVES = "serves"

# --- Monitoring and measurement (ISO 27001 9.1, issue 16): need types, links, values.
OBJECTIVE = "objective"
METRIC = "metric"
MEASURES = "measures"
SUPPORTS = "supports"
DIRECTIONS = ("higher", "lower")
FREQUENCIES = ("monthly", "quarterly")
# `manual`: results are written in docs/_metrics/; the others are computed at each commit
# (model/metric_sources.py holds what each counts).
METRIC_SOURCES = (
    "manual",
    "controls-implemented",
    "controls-evidenced",
    "reviews-overdue",
    "documents-effective",
    "documents-in-review",
    "documents-draft",
    "risks-above-threshold-inherent",
    "risks-above-threshold-residual",
    "training-completion",
    "approval-days-median",
    "capas-open",
    "capas-overdue",
)
# --- end of monitoring and measurement


class RequirementKind(StrEnum):
    """What meets a requirement, as its catalogue file says.

    Annex A controls carry SoA decisions, management-system clauses are met by
    documents, regulatory requirements map to Annex A.
    """

    ANNEX_A = "annex-a"
    MANAGEMENT = "management-system"
    REGULATORY = "regulatory"


APPLICABLE = ("yes", "no")
IMPLEMENTATION = ("implemented", "partial", "planned", "not-started")
TREATMENT = ("mitigate", "accept", "transfer", "avoid")
# Likelihood and impact are scored 1 (rare / negligible) to 5 (almost certain / severe).
SCORE_RANGE = (1, 5)
# Internal audits and CAPA.
AUDIT_KINDS = ("internal", "external", "certification")
CLASSIFICATIONS = ("major", "minor", "observation", "opportunity")
CAPA_ORIGINS = ("finding", "incident", "management-review", "customer")
GXP = ("yes", "no")


@dataclass(frozen=True)
class Field:
    """One field a need type carries: text, one of `values`, or a whole number."""

    name: str
    description: str
    values: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    @property
    def allowed(self) -> str:
        """What the field accepts, in words, for error messages ("" for free text)."""
        if self.values:
            return ", ".join(self.values)
        if self.minimum is not None and self.maximum is not None:
            return f"a whole number from {self.minimum} to {self.maximum}"
        return ""


def _score(name: str, description: str) -> Field:
    return Field(name, description, minimum=SCORE_RANGE[0], maximum=SCORE_RANGE[1])


@dataclass(frozen=True)
class LinkType:
    """A link between needs, with how it reads in each direction."""

    name: str
    outgoing: str
    incoming: str


@dataclass(frozen=True)
class NeedType:
    """A kind of traceable item: its directive, id prefix, fields and outgoing links."""

    name: str
    title: str
    prefix: str
    color: str
    fields: tuple[Field, ...] = ()
    # (link type, the need types it may point at)
    links: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class RequiredFields:
    """Fields a need of `need_type` cannot do without (when its fields match `when`)."""

    need_type: str
    fields: tuple[str, ...]
    message: str
    when: tuple[tuple[str, str], ...] = ()


LINK_TYPES = (
    LinkType(IMPLEMENTS, "implements", "implemented by"),
    LinkType(MITIGATES, "mitigates", "mitigated by"),
    LinkType(DEMONSTRATES, "demonstrates", "demonstrated by"),
    LinkType(MAPS_TO, "maps to", "mapped from"),
    # Internal audits and CAPA.
    LinkType(COVERS, "covers", "audited by"),
    LinkType(RAISED_IN, "raised in", "raised"),
    LinkType(CONCERNS, "concerns", "found against by"),
    LinkType(ADDRESSES, "addresses", "addressed by"),
    LinkType(ACTION_OF, "action of", "actions"),
    # Monitoring and measurement (issue 16)
    LinkType(MEASURES, "measures", "measured by"),
    LinkType(SUPPORTS, "supports", "supported by"),
    # Validation (issue 19)
    LinkType(SERVES, "serves", "served by"),
)

# One field, one meaning, whichever type carries it (CAPA, objective, KPI).
OWNER = Field("owner", "The role accountable for it")

NEED_TYPES = (
    NeedType(
        REQUIREMENT,
        "Requirement",
        "REQ-",
        "#BFD8D2",
        fields=(
            Field("framework", "The standard or regulation the requirement comes from"),
            Field("catalogue", "Key of the catalogue data file that defines it"),
            Field("kind", "What meets it", values=tuple(RequirementKind)),
            Field("ref", "The reference as an auditor writes it, e.g. 11.10(e)"),
            Field("position", "Order within its catalogue", minimum=0),
        ),
        links=((MAPS_TO, (REQUIREMENT,)),),
    ),
    NeedType(
        CONTROL,
        "Control",
        "CTL-",
        "#FEDCD2",
        fields=(
            Field("applicable", "Statement of Applicability decision", values=APPLICABLE),
            Field("justification", "Why the control is included or excluded"),
            Field("implementation", "How far the control is implemented", values=IMPLEMENTATION),
        ),
        links=((IMPLEMENTS, (REQUIREMENT,)), (MITIGATES, (RISK,))),
    ),
    NeedType(
        RISK,
        "Risk",
        "RSK-",
        "#DF744A",
        fields=(
            Field("asset", "The asset or process at risk"),
            Field("threat", "What could go wrong"),
            Field("vulnerability", "The weakness the threat exploits"),
            _score("likelihood", "Inherent likelihood, 1 to 5"),
            _score("impact", "Inherent impact, 1 to 5"),
            _score("residual_likelihood", "Target likelihood, after the treatment plan, 1 to 5"),
            _score("residual_impact", "Target impact, after the treatment plan, 1 to 5"),
            Field("treatment", "Risk treatment option", values=TREATMENT),
            Field("risk_owner", "The role accountable for the risk"),
            # Free text only: what counts as acceptance is a signed qms-risk-acceptance/1
            # statement (qms risk accept), never this field.
            Field("acceptance", "The owner's reasoning for accepting the residual risk"),
            # Issue 15, current residual (optional; absent, it is the target residual).
            _score("current_likelihood", "Likelihood with the controls in place now, 1 to 5"),
            _score("current_impact", "Impact with the controls in place now, 1 to 5"),
        ),
    ),
    NeedType(PROCEDURE, "Procedure", "PRC-", "#DCB239", links=((IMPLEMENTS, (CONTROL,)),)),
    NeedType(EVIDENCE, "Evidence", "EVD-", "#9856A5", links=((DEMONSTRATES, (CONTROL,)),)),
    # Internal audits and CAPA: an audit covers clauses and controls, a finding is raised
    # in an audit against one of them, a CAPA addresses findings through dated actions.
    # A CAPA's state is never a field: it is derived from signed closures and
    # verifications (model/capa.py).
    NeedType(
        AUDIT,
        "Audit",
        "AUD-",
        "#A7C7E7",
        fields=(
            Field("audit_kind", "Internal, external or certification audit", values=AUDIT_KINDS),
            Field("audit_date", "The day the audit ended, YYYY-MM-DD"),
            Field("auditor", "Who led the audit"),
        ),
        links=((COVERS, (REQUIREMENT,)),),
    ),
    NeedType(
        FINDING,
        "Finding",
        "FND-",
        "#E7A7A7",
        fields=(
            Field("classification", "Nonconformity grade or kind", values=CLASSIFICATIONS),
            Field("evidence", "The objective evidence the auditor saw"),
            Field("external_capa", "The CAPA id in an external eQMS, when CAPA is kept there"),
        ),
        links=((RAISED_IN, (AUDIT,)), (CONCERNS, (REQUIREMENT, CONTROL))),
    ),
    NeedType(
        CAPA,
        "CAPA",
        "CAPA-",
        "#C7E7A7",
        fields=(
            Field("origin", "What raised it", values=CAPA_ORIGINS),
            Field("source_ref", "The incident, review or customer reference it comes from"),
            OWNER,
            Field("root_cause", "The cause the actions remove"),
            Field("gxp", "Whether it has GxP impact (QA closes and verifies it)", values=GXP),
            Field("check_due", "When the effectiveness check is due, YYYY-MM-DD"),
            Field("criterion", "What the effectiveness check must show"),
            Field("changes", "Controlled document versions it changes: 'SOP-X-001 2.1, ...'"),
        ),
        links=((ADDRESSES, (FINDING,)),),
    ),
    # Change control: a change request names the controlled documents it affects. Its state
    # is never a field: it follows from the verified approvals of the document versions
    # whose change reason names it (model/change_requests.py).
    NeedType(
        CHANGE,
        "Change request",
        "CC-",
        "#D5C6E0",
        fields=(
            Field("requester", "Who asked for the change"),
            OWNER,
            Field("affects", "The controlled documents it changes: 'SOP-X-001, POL-Y-002'"),
        ),
    ),
    NeedType(
        ACTION,
        "Action",
        "ACT-",
        "#E7E7A7",
        fields=(
            Field("due", "When the action is due, YYYY-MM-DD"),
            Field("done", "When it was done, YYYY-MM-DD (empty while open)"),
            Field("action_owner", "Who carries it out"),
        ),
        links=((ACTION_OF, (CAPA,)),),
    ),
    # Monitoring and measurement (issue 16): objectives (6.2) and the KPIs that measure them.
    NeedType(
        OBJECTIVE,
        "Objective",
        "OBJ-",
        "#7FB3D5",
        fields=(OWNER,),
    ),
    NeedType(
        METRIC,
        "Metric",
        "KPI-",
        "#A9CCE3",
        fields=(
            Field("definition", "What is counted, and how"),
            Field("unit", "The unit of every value, e.g. %, days, count"),
            Field("direction", "Which way is better", values=DIRECTIONS),
            Field("target", "The value aimed at (a number)"),
            Field("amber", "Worse than this is amber (a number; default: the target)"),
            Field("red", "Worse than this is red (a number; default: never red)"),
            Field("frequency", "How often a result is due", values=FREQUENCIES),
            OWNER,
            Field("source", "Where the values come from", values=METRIC_SOURCES),
        ),
        links=((MEASURES, (CONTROL,)), (SUPPORTS, (OBJECTIVE,))),
    ),
    # Validation of the tool (issue 19): a user requirement in a user's words, its GAMP 5
    # risk assessment (appendix M3) and the requirements it serves. The words are GAMP's:
    # the risk's "impact" and "likelihood" are the risk register's 1-to-5 scores. The risk
    # class and priority are never fields: model/gamp.py computes them.
    NeedType(
        URS,
        "User requirement",
        "URS-",
        "#F5D5A0",
        fields=(
            Field("area", "The function of the tool it belongs to, e.g. Electronic signatures"),
            Field(
                "severity",
                "Impact of a fault on patient safety, product quality and data integrity",
                values=LEVELS,
            ),
            Field("probability", "Likelihood that the fault occurs", values=LEVELS),
            Field("detectability", "How likely the fault is noticed before harm", values=LEVELS),
        ),
        links=((SERVES, (REQUIREMENT,)),),
    ),
)

REQUIRED_FIELDS = (
    RequiredFields(REQUIREMENT, ("framework",), "a requirement names its framework"),
    RequiredFields(
        CONTROL,
        ("applicable", "implementation"),
        "a control carries its applicability decision and implementation status",
    ),
    RequiredFields(
        CONTROL,
        ("justification",),
        "an excluded control needs a justification",
        when=(("applicable", "no"),),
    ),
    RequiredFields(
        RISK,
        (
            "asset",
            "threat",
            "vulnerability",
            "likelihood",
            "impact",
            "residual_likelihood",
            "residual_impact",
            "treatment",
            "risk_owner",
        ),
        "a risk is assessed before and after treatment and has an owner",
    ),
    # Internal audits and CAPA.
    RequiredFields(AUDIT, ("audit_kind", "audit_date"), "an audit names its kind and date"),
    RequiredFields(
        FINDING,
        ("classification", "evidence"),
        "a finding carries its classification and evidence",
    ),
    RequiredFields(
        CAPA,
        ("origin", "owner", "root_cause", "check_due", "criterion"),
        "a CAPA names its origin, owner, root cause and effectiveness check",
    ),
    RequiredFields(ACTION, ("due",), "an action has a due date"),
    RequiredFields(
        CHANGE,
        ("requester", "owner", "affects"),
        "a change request names its requester, its owner and the documents it affects",
    ),
    # Monitoring and measurement (issue 16)
    RequiredFields(
        METRIC,
        ("owner", "target", "frequency", "unit", "direction", "source"),
        "a KPI has an owner, a target and a frequency, and says its unit, which way is "
        "better and where its values come from",
    ),
    # Validation (issue 19)
    RequiredFields(
        URS,
        ("area", "severity", "probability", "detectability"),
        "a user requirement names its area and its GAMP risk: severity, probability and "
        "detectability",
    ),
)

# Every field name of every need type, once, in declaration order.
FIELD_NAMES = tuple(dict.fromkeys(f.name for t in NEED_TYPES for f in t.fields))
LINK_NAMES = tuple(link.name for link in LINK_TYPES)


def allowed_values(need_type: str, field: str) -> str:
    """What a field of a need type accepts, in words ("" when unknown or free text)."""
    for spec in NEED_TYPES:
        if spec.name == need_type:
            return next((f.allowed for f in spec.fields if f.name == field), "")
    return ""
