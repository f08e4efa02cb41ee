"""Training at scale: P people who must read every document of a generated handbook.

They are trained in sessions of 20, each attested by one trainer's signature, which is what
a site of 1,000 people does; or (`per_acknowledgement`) each signs, with their own key (which
the roster lists, kept under signatures/training/keys/), one record per document they read:
the literal reading of "40,000 acknowledgements". The step measured is `qms training
status` against a plain `gpg --verify` loop over the same record signatures, cold and after
one new record.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import git
import gnupg

from qms.adapters.gpg import UserKeys
from qms.benchmark.generate import Synthetic
from qms.config import load_config
from qms.model.training_record import Completed, Method, TrainingRecord
from qms.services.content import document_content, sha256_of
from qms.services.handbook import load_handbook
from qms.services.layout import SignatureLayout
from qms.services.signers import add_signer, approve_policy
from qms.services.training_sign import import_roster

SESSION = 20
STAFF = (("Hana Hofer", "hr"), ("Tom Tanaka", "trainer"))
TRAINING = (
    '[tool.qms.training]\ndue_days = 30\n[[tool.qms.training.requirements]]\nroles = ["staff"]\n'
)


@dataclass(frozen=True)
class TrainedHandbook:
    """A generated handbook with its roster and training records."""

    synthetic: Synthetic
    people: int
    completions: int
    records: tuple[Path, ...]
    trainer: str
    # Each person's own key, when they acknowledge for themselves (per_acknowledgement).
    staff: tuple[str, ...] = ()


class _Signer(UserKeys):
    """The benchmark's own signer: its secret keys listed once, not before each of the
    tens of thousands of signatures it makes."""

    @cached_property
    def _secrets(self) -> tuple[str, ...]:
        return super().secret_fingerprints()

    def secret_fingerprints(self) -> tuple[str, ...]:
        """The secret keys, as listed the first time."""
        return self._secrets


def _key(gpg: gnupg.GPG, name: str) -> str:
    email = name.lower().replace(" ", ".") + "@example.org"
    spec = gpg.gen_key_input(
        key_type="EDDSA", key_curve="ed25519", key_usage="sign", name_real=name,
        name_email=email, no_protection=True, expire_date=0,
    )  # fmt: skip
    fingerprint = str(gpg.gen_key(spec).fingerprint or "")
    if not fingerprint:
        raise RuntimeError(f"gpg made no key for {name}")
    return fingerprint


def _staff_keys(gpg: gnupg.GPG, people: int) -> tuple[str, ...]:
    """One key per person (one after another: gpg-agent refuses some made side by side)."""
    return tuple(_key(gpg, f"Person {n}") for n in range(people))


def add_training(
    synthetic: Synthetic, people: int, per_acknowledgement: bool = False
) -> TrainedHandbook:
    """Requirements, an HR-imported roster of `people` and their sessions (or one record
    per person and document), committed."""
    root = synthetic.root
    gpg = gnupg.GPG(gnupghome=str(synthetic.gnupg_home))
    keys = UserKeys(synthetic.gnupg_home)
    admin = load_config(root).trust_roots[0]
    with (root / "pyproject.toml").open("a") as handle:
        handle.write(TRAINING)
    repo = git.Repo(root)
    repo.git.add(A=True)
    repo.index.commit("Training requirements")
    now = datetime.now(tz=UTC).replace(microsecond=0)
    approve_policy(load_config(root), admin, keys, now)
    found = {}
    for name, role in STAFF:
        fingerprint = _key(gpg, name)
        found[role] = fingerprint
        armored = gpg.export_keys(fingerprint, armor=True).encode("ascii")
        email = name.lower().replace(" ", ".") + "@example.org"
        add_signer(load_config(root), armored, name, email, [role], admin, keys, now)
    staff = _staff_keys(gpg, people) if per_acknowledgement else ()
    layout = SignatureLayout.of(load_config(root))
    layout.staff_keys.mkdir(parents=True, exist_ok=True)
    for fingerprint in staff:
        armored = gpg.export_keys(fingerprint, armor=True).encode("ascii")
        layout.staff_key_file(fingerprint).write_bytes(armored)
    roster = "employee,name,role,from,until,keys\n" + "".join(
        f"E{n:05d},Person {n},staff,2025-01-01,,{staff[n] if staff else ''}\n"
        for n in range(people)
    )
    import_roster(load_config(root), roster, "hr.csv", keys, found["hr"], datetime.now(tz=UTC))
    config = load_config(root)
    versions = [
        (d.id, d.version, document_content(config, d).sha256)
        for d in load_handbook(config).documents
    ]
    # gpg signs one record per process: several side by side.
    signer = _Signer(synthetic.gnupg_home)  # after every key was made
    with ThreadPoolExecutor(max_workers=4) as pool:
        if per_acknowledgement:
            # One signature per person and document, each with the person's own key.
            jobs = [(n, version) for n in range(people) for version in versions]
            records = list(
                pool.map(lambda job: _acknowledgement(config, signer, staff, *job), jobs)
            )
        else:
            sessions = [
                [f"E{n:05d}" for n in range(start, min(start + SESSION, people))]
                for start in range(0, people, SESSION)
            ]
            trainer = found["trainer"]
            records = list(
                pool.map(
                    lambda who: _session(
                        config, signer, trainer, who, versions, f"Session {who[0]}"
                    ),
                    sessions,
                )
            )
    repo.git.add(A=True)
    repo.index.commit("Training records")
    return TrainedHandbook(synthetic, people, people * len(versions), tuple(records),
                           found["trainer"], staff)  # fmt: skip


def _session(
    config: Any,
    keys: UserKeys,
    trainer: str,
    employees: list[str],
    versions: list[tuple[str, Any, str]],
    title: str,
) -> Path:
    """One trainer-signed session record, filed as the writing service files one."""
    completions = tuple(
        Completed(employee, document_id, version, digest, date(2026, 11, 2))
        for employee in employees
        for document_id, version, digest in versions
    )
    record = TrainingRecord(
        Method.SESSION, completions, "Tom Tanaka", trainer,
        datetime.now(tz=UTC).replace(microsecond=0), form="classroom", title=title,
    )  # fmt: skip
    return _filed(config, keys, record)


def _acknowledgement(
    config: Any, keys: UserKeys, staff: tuple[str, ...], n: int, version: tuple[str, Any, str]
) -> Path:
    """Person `n`'s own signed acknowledgement of one document version."""
    document_id, number, digest = version
    completion = Completed(f"E{n:05d}", document_id, number, digest, date(2026, 11, 2))
    record = TrainingRecord(
        Method.SELF, (completion,), f"Person {n}", staff[n],
        datetime.now(tz=UTC).replace(microsecond=0),
    )  # fmt: skip
    return _filed(config, keys, record)


def _filed(config: Any, keys: UserKeys, record: TrainingRecord) -> Path:
    """A signed record, filed as the writing service files one."""
    data = record.to_bytes()
    layout = SignatureLayout.of(config)
    path = layout.training_records / "2026" / f"{sha256_of(data)[:16]}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    signature, _ = keys.sign_detached(data, record.signer_fingerprint)
    SignatureLayout.signature_of(path).write_bytes(signature)
    return path


def one_more_record(trained: TrainedHandbook) -> Path:
    """One new record for one person on one document, made the way the others were (their
    own acknowledgement, or a trainer's refresher session): the incremental step."""
    config = load_config(trained.synthetic.root)
    document = load_handbook(config).documents[0]
    version = (document.id, document.version, document_content(config, document).sha256)
    keys = UserKeys(trained.synthetic.gnupg_home)
    if trained.staff:
        return _acknowledgement(config, keys, trained.staff, 0, version)
    return _session(config, keys, trained.trainer, ["E00000"], [version], "Refresher")
