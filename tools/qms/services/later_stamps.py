"""Signatures stamped after the fact ('qms timestamp --missing'): proof of "no later than"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from qms.adapters.files import write_atomic
from qms.adapters.git import Repository
from qms.adapters.tsa import verify_token
from qms.config import QmsConfig
from qms.errors import ConfigError, RefusedError
from qms.model.timeutil import format_utc
from qms.services.layout import SIGNATURE_SUFFIX, SignatureLayout
from qms.services.registry import verified_registry
from qms.services.sphinx_run import Progress
from qms.services.timestamps import first_token, pinned_policy


@dataclass(frozen=True)
class StampedLater:
    """A signature stamped after the fact: it existed no later than `time`."""

    signature: Path
    authority: str
    time: datetime


@dataclass(frozen=True)
class LaterStamps:
    """What 'qms timestamp --missing' did: the signatures stamped and the commit."""

    stamped: tuple[StampedLater, ...]
    commit: str


def unstamped(config: QmsConfig) -> list[Path]:
    """Every detached signature under signatures/ with no token beside it, in path order."""
    base = SignatureLayout.of(config).base
    found = sorted(base.rglob(f"*{SIGNATURE_SUFFIX}")) if base.is_dir() else []
    return [
        path
        for path in found
        if path.is_file()
        and not path.is_symlink()
        and not SignatureLayout.token_of(path).exists()
        and not SignatureLayout.token_of(path, later=True).exists()
    ]


def stamp_missing(config: QmsConfig, progress: Progress | None = None) -> LaterStamps:
    """Stamp every signature that has no token now, and commit the tokens in one commit.

    Such a token proves only that the signature existed no later than its time: it is
    filed under its own name and never moves the time a signature is judged at. Only a
    TSA the approved signing policy pins is asked (a token from any other would not
    count), and every token is fetched and checked before the first is written: a TSA
    that stops answering half way leaves nothing behind.
    """
    policy = pinned_policy(verified_registry(config).history)
    if policy is None or not policy.authorities:
        hint = (
            "a registry administrator approves it with 'qms signers policy'"
            if config.timestamps is not None
            else "name one in [tool.qms.timestamps] (see the README), then have a registry "
            "administrator run 'qms signers policy'"
        )
        raise ConfigError("the approved signing policy names no TSA", hint)
    signatures = unstamped(config)
    tokens: dict[Path, bytes] = {}
    stamped: list[StampedLater] = []
    for done, signature in enumerate(signatures):
        if progress is not None:
            progress("stamping", done, len(signatures))
        data = signature.read_bytes()
        try:
            token, name = first_token(policy, data)
        except RefusedError as exc:
            raise RefusedError(
                f"{exc.message} (at {signature.name}, {done} of {len(signatures)} stamped): "
                "nothing was written",
                "run 'qms timestamp --missing' again when the TSA answers",
            ) from exc
        facts = verify_token(token, data, policy.authorities, later=True)
        if facts.problem or facts.time is None:
            raise RefusedError(
                f"the token TSA {name} gave for {signature.name} does not verify: "
                f"{facts.problem or 'it carries no time'}; nothing was written",
                "check the TSA's pinned certificates in [tool.qms.timestamps]",
            )
        tokens[SignatureLayout.token_of(signature, later=True)] = token
        stamped.append(StampedLater(signature, name, facts.time))
    if not tokens:
        return LaterStamps((), "")
    for target, token in tokens.items():
        write_atomic(target, token)
    last = format_utc(max(s.time for s in stamped))
    message = (
        f"Timestamp {len(tokens)} signatures after the fact (they existed no later than {last})\n"
    )
    return LaterStamps(tuple(stamped), Repository(config.root).commit(list(tokens), message))
