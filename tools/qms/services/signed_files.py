"""Filing a signed statement: its bytes, its detached signature and the signer's public key."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from qms.adapters.files import write_atomic
from qms.adapters.gpg import UserKeys
from qms.errors import QmsError
from qms.model.ceremony import SigningSummary
from qms.model.timestamp_policy import TimestampPolicy
from qms.services.layout import SignatureLayout
from qms.services.timestamps import stamp


def write_signed(
    layout: SignatureLayout,
    path: Path,
    data: bytes,
    stated_at: datetime,
    user_keys: UserKeys,
    fingerprint: str,
    key_path: Path | None = None,
    *,
    summary: SigningSummary | None = None,
    # Required, None included: a signing service that forgets the policy would file no
    # token where one is required, and its signature would then not count.
    timestamps: TimestampPolicy | None,
) -> list[Path]:
    """Sign `data` with `fingerprint`, write it at `path`; return the files written, sorted.

    The statement's own time (`stated_at`) must agree with gpg's, since verify compares them.
    The signer's public key is filed at `key_path` (default: the signers' keys) if missing.
    The signer confirms `summary` first, where the front end asks (cli/signing.py).
    When the `timestamps` policy asks for one, a TSA's token over the signature is filed
    beside it; a required token that no TSA gives writes nothing.
    """
    signature_path = SignatureLayout.signature_of(path)
    beside = (path, signature_path, SignatureLayout.token_of(signature_path))
    if any(p.exists() for p in beside):
        # Signed files are only ever added: one made in the same second under the same
        # name, or a signature or token left over beside it, is never replaced.
        raise QmsError(
            f"{path.name} exists already: a statement of that name was signed this second",
            "sign again in a moment",
        )
    signature, signed_at = user_keys.sign_detached(data, fingerprint, summary)
    if abs(signed_at - stated_at).total_seconds() > 60:
        raise QmsError("gpg's clock and this machine's disagree by over a minute", "fix the clock")
    files = {path: data, signature_path: signature}
    token = stamp(timestamps, layout.kind_of(signature_path), signature)
    if token is not None:
        files[SignatureLayout.token_of(signature_path)] = token
    key_path = key_path or layout.key_file(fingerprint)
    if not key_path.is_file():
        files[key_path] = user_keys.export_public(fingerprint)
    for target, content in files.items():
        write_atomic(target, content)
    return sorted(files)
