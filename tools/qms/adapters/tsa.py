"""RFC 3161 time-stamping through rfc3161-client: asking a TSA for a token, checking one offline."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from qms.adapters.http import post
from qms.errors import QmsError
from qms.model.timestamp_policy import StampFacts, TimestampAuthority
from qms.model.timeutil import format_utc

SHA256 = x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")


class TsaUnavailableError(QmsError):
    """The TSA did not answer, or answered with no usable token."""


def request_token(authority: TimestampAuthority, signature: bytes) -> bytes:
    """A token from `authority` over the SHA-256 of `signature`, checked against the
    request and the pinned chain before it is kept."""
    request = (
        TimestampRequestBuilder()
        .data(signature)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    try:
        answer = post(
            authority.url,
            request.as_bytes(),
            "application/timestamp-query",
            "application/timestamp-reply",
        )
    except QmsError as exc:
        raise TsaUnavailableError(f"TSA {authority.name} did not answer ({exc.message})") from exc
    try:
        response = decode_timestamp_response(answer)
        granted = PKIStatus(response.status) == PKIStatus.GRANTED
        nonce = response.tst_info.nonce if granted else None
    except ValueError as exc:
        raise TsaUnavailableError(f"TSA {authority.name} answered with no token") from exc
    if not granted:
        raise TsaUnavailableError(f"TSA {authority.name} refused the request")
    if nonce != request.nonce:
        raise TsaUnavailableError(f"TSA {authority.name} answered another request (nonce)")
    facts = verify_token(answer, signature, (authority,))
    if not facts.trusted:
        raise TsaUnavailableError(f"TSA {authority.name} gave a token that does not verify: "
                             f"{facts.problem}")  # fmt: skip
    return answer


def verify_token(
    token: bytes, signature: bytes, pinned: Iterable[TimestampAuthority], later: bool = False
) -> StampFacts:
    """What `token` proves of `signature`, offline: its imprint is the signature's SHA-256,
    its chain leads to one of the `pinned` certificates and its TSA certificate was valid
    at the time it certifies."""
    try:
        response = decode_timestamp_response(token)
        # An unknown status is a ValueError of the enum, as unreadable as bad DER.
        granted = PKIStatus(response.status) == PKIStatus.GRANTED
        info = response.tst_info if granted else None
    except ValueError:
        return StampFacts(later=later, problem="the time-stamp token cannot be read")
    if info is None:
        return StampFacts(later=later, problem="the time-stamp token was not granted")
    imprint = info.message_imprint
    if imprint.hash_algorithm != SHA256 or imprint.message != hashlib.sha256(signature).digest():
        return StampFacts(
            later=later, problem="the time-stamp token covers other bytes than this signature"
        )
    names = []
    for authority in pinned:
        names.append(authority.name)
        try:
            certificates = x509.load_pem_x509_certificates(authority.certificates.encode())
            builder = VerifierBuilder()
            for certificate in certificates:
                builder = builder.add_root_certificate(certificate)
            builder.build().verify_message(response, signature)
        except (VerificationError, ValueError):
            continue
        return StampFacts(authority.name, info.gen_time, later)
    return StampFacts(
        later=later,
        problem=f"the time-stamp token of {format_utc(info.gen_time)} does not verify against "
        f"a pinned TSA (pinned: {', '.join(names) or 'none'})",
    )
