"""Comparing two signed releases: their manifests verified, their published sources from git."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qms.adapters.gpg import Keyring, hermetic_keyring
from qms.config import QmsConfig
from qms.errors import QmsError, RefusedError
from qms.model.frontmatter import parse_document
from qms.model.need_blocks import need_blocks
from qms.model.release import Manifest
from qms.model.release_diff import (
    PublishedDocument,
    ReleaseDiff,
    ReleaseSide,
    compare_releases,
    signer_changes,
)
from qms.model.timeutil import parse_utc
from qms.services.history import Revision, committed_sources, document_revisions
from qms.services.layout import SignatureLayout
from qms.services.registry import RegistryState, load_registry
from qms.services.release.folder_files import MANIFEST, check_name, record_folder
from qms.services.release.signers import approved_roles, release_signers, shared_signers


@dataclass(frozen=True)
class SignedRelease:
    """A release committed under signatures/releases/ whose every required role signed."""

    name: str
    manifest: Manifest


def signed_release(
    config: QmsConfig, name: str, keyring: Keyring, registry: RegistryState
) -> SignedRelease:
    """The verified manifest of release `name`, or a refusal saying why it does not count."""
    check_name(name)
    path = record_folder(config, name) / MANIFEST
    if not path.is_file():
        raise QmsError(
            f"no release {name} under signatures/releases",
            "name a release that 'qms release sign' committed",
        )
    data = path.read_bytes()
    try:
        manifest = Manifest.from_bytes(data)
    except (ValueError, KeyError) as exc:
        raise RefusedError(
            f"release {name}: its manifest is not readable ({exc})", "restore it from git"
        ) from exc
    latest = registry.approved("run 'qms verify'")
    signed = release_signers(path.parent / "signatures", data, keyring, registry)
    required = set(manifest.signer_roles) | approved_roles(latest)
    missing = sorted(required - set(signed))
    if manifest.name != name or not required or missing or shared_signers(registry, signed):
        why = (
            f"no valid signature for {', '.join(missing)}"
            if missing
            else "its manifest names another release"
            if manifest.name != name
            else "one person signed for two roles"
            if required
            else "it names no signer roles"
        )
        raise RefusedError(
            f"release {name} is not a signed release ({why})",
            "compare only releases whose manifest every release signer role signed, unaltered",
        )
    return SignedRelease(name, manifest)


def signed_releases(
    config: QmsConfig, keyring: Keyring, registry: RegistryState
) -> list[SignedRelease]:
    """Every fully signed release, oldest first (by creation time, then name)."""
    folder = SignatureLayout.of(config).base / "releases"
    found = []
    for path in sorted(folder.glob(f"*/{MANIFEST}")) if folder.is_dir() else []:
        try:
            found.append(signed_release(config, path.parent.name, keyring, registry))
        except QmsError:
            continue
    return sorted(found, key=lambda r: (r.manifest.created, r.name))


def _published(
    release: SignedRelease,
    entry: dict[str, Any],
    revisions: dict[str, list[Revision]],
    read: Any,
) -> PublishedDocument:
    ident, version = str(entry["id"]), str(entry["version"])
    # The release built each document from its approved source, which git holds at the
    # commit that introduced those exact bytes (not necessarily the release's commit).
    match = next(
        (r for r in reversed(revisions.get(ident, [])) if r.content_sha256 == entry["sha256"]),
        None,
    )
    if match is None:
        raise RefusedError(
            f"release {release.name}: the published source of {ident} {version} is not in git",
            "compare in a clone with the full history ('git fetch --unshallow')",
        )
    text = read(match.commit, match.path).decode("utf-8-sig")
    parsed = parse_document(match.path, text)
    reason = parsed.document.change_reason if parsed.document else ""
    docname = match.path.rsplit(".", 1)[0]
    return PublishedDocument(
        id=ident,
        title=str(entry.get("title", "")),
        version=version,
        change_reason=reason,
        superseded=tuple(str(v) for v in entry.get("superseded_versions", ())),
        blocks=tuple(need_blocks(text, docname)),
    )


def _side(release: SignedRelease, revisions: dict[str, list[Revision]], read: Any) -> ReleaseSide:
    entries: dict[str, dict[str, Any]] = {}
    for documents in release.manifest.sets.values():
        for entry in documents:
            entries.setdefault(str(entry["id"]), entry)
    return ReleaseSide(
        name=release.name,
        created=parse_utc(release.manifest.created),
        commit=release.manifest.commit,
        documents=tuple(_published(release, entries[i], revisions, read) for i in sorted(entries)),
    )


def compare_signed(
    config: QmsConfig, old: SignedRelease, new: SignedRelease, registry: RegistryState
) -> ReleaseDiff:
    """The differences between two verified releases, read from git."""
    sources = committed_sources(config)
    if sources is None:
        raise QmsError("the handbook is not in a git repository", "compare releases in a clone")
    revisions = document_revisions(config, sources.repo)
    before = _side(old, revisions, sources.read)
    after = _side(new, revisions, sources.read)
    signers = signer_changes(registry.history, before.created, after.created)
    return compare_releases(before, after, signers)


def release_diff(config: QmsConfig, old: str, new: str) -> ReleaseDiff:
    """`qms release diff OLD NEW`: both manifests verified first, then compared."""
    layout = SignatureLayout.of(config)
    with hermetic_keyring(layout.keys) as keyring:
        registry = load_registry(config, keyring)
        older = signed_release(config, old, keyring, registry)
        newer = signed_release(config, new, keyring, registry)
        return compare_signed(config, older, newer, registry)


def latest_diff(config: QmsConfig, old: str = "", new: str = "") -> tuple[ReleaseDiff | None, str]:
    """The auditor page's comparison: the two latest signed releases unless named; with
    fewer than two, None and the reason."""
    layout = SignatureLayout.of(config)
    with hermetic_keyring(layout.keys) as keyring:
        registry = load_registry(config, keyring)
        if not registry.trusted:
            return None, "the signer registry is not approved, so no release counts"
        if old or new:
            named = [signed_release(config, n, keyring, registry) for n in (old, new) if n]
            if len(named) < 2:
                return None, "name both releases (:old: and :new:) or neither"
            return compare_signed(config, named[0], named[1], registry), ""
        releases = signed_releases(config, keyring, registry)
        if not releases:
            return None, "no release of this handbook is signed yet"
        if len(releases) < 2:
            return None, f"release {releases[0].name} is the only signed release so far"
        return compare_signed(config, releases[-2], releases[-1], registry), ""
