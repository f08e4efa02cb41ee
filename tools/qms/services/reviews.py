"""Periodic reviews of the documents in use: a verified retirement ends a document's reviews."""

from __future__ import annotations

from datetime import date, datetime

from qms.config import QmsConfig
from qms.model.reviews import Reviews, due_reviews
from qms.services.handbook import load_handbook
from qms.services.layout import SignatureLayout
from qms.services.verify import verify_handbook


def reviews_due(config: QmsConfig, on: date, within: int, *, now: datetime) -> Reviews:
    """The reviews due by `on + within`, leaving out the documents whose retirement verifies.

    Only documents with retirement records are verified, so the report stays quick; a
    retirement file that does not verify leaves its document on the list.
    """
    handbook = load_handbook(config)
    layout = SignatureLayout.of(config)
    candidates = [d for d in handbook.documents if layout.retirement_folder(d.id).is_dir()]
    retired: set[str] = set()
    if candidates:
        verification = verify_handbook(config, handbook, candidates, now=now)
        retired = {v.document.id for v in verification.verdicts if v.evidence.retired}
    return due_reviews([d for d in handbook.documents if d.id not in retired], on, within)
