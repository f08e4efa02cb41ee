"""`qms signers`: register, revoke and list the people whose signatures count."""

from __future__ import annotations

import argparse
import sys

from qms.cli.context import Context
from qms.cli.output import print_findings, print_json, print_table
from qms.cli.signing import add_signing_options, fingerprint_arg, time_arg, user_keys
from qms.clock import now
from qms.errors import QmsError
from qms.model.timeutil import format_utc
from qms.services.migrate import migrate
from qms.services.signers import add_signer, approve_policy, revoke_signer, signer_listing

ADMIN_KEY_HELP = "the registry administrator's (or trust root's) key that approves the change"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `signers` and its subcommands."""
    parser = commands.add_parser(
        "signers",
        help="register, revoke and list signers (a controlled registry)",
        description=(
            "The signer registry (signatures/signers.yaml) says whose signatures count, in "
            "which roles and when. Every change is a new revision signed by a registry "
            "administrator of the previous revision; the first by a trust root pinned in "
            "[tool.qms] trust_roots. Each change is committed with git."
        ),
    )
    sub = parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)

    add = sub.add_parser(
        "add",
        help="import a public key and register its holder",
        description="Import KEYFILE into signatures/keys/ and register its holder.",
        epilog="Example: qms signers add anna.asc --name 'Dr. Anna Keller' "
        "--email anna.keller@example.com --role qa --role reviewer --key ADMINFINGERPRINT",
    )
    add.add_argument(
        "keyfile",
        type=argparse.FileType("rb"),
        metavar="KEYFILE",
        help="armored public key (gpg --export --armor FINGERPRINT)",
    )
    add.add_argument("--name", required=True, help="printed name, as on the signature")
    add.add_argument("--email", required=True, help="the signer's email address")
    add.add_argument(
        "--role",
        action="append",
        required=True,
        dest="roles",
        metavar="ROLE",
        help="a role (repeat for several), e.g. author, reviewer, qa, isms-manager, registry-admin",
    )
    add.add_argument("--valid-from", metavar="UTC-TIME", help="default: now")
    add.add_argument("--valid-until", metavar="UTC-TIME", help="default: open-ended")
    add_signing_options(add, ADMIN_KEY_HELP)
    add.set_defaults(handler=run_add)

    revoke = sub.add_parser(
        "revoke",
        help="revoke a signer from a given time",
        description="Signatures made by the signer at or after --at no longer count.",
    )
    revoke.add_argument("fingerprint", metavar="FINGERPRINT")
    revoke.add_argument(
        "--at",
        required=True,
        metavar="UTC-TIME",
        help="when trust ended, e.g. 2026-11-30T08:00:00Z",
    )
    revoke.add_argument("--reason", required=True, help="why (left the company, key lost, ...)")
    add_signing_options(revoke, ADMIN_KEY_HELP)
    revoke.set_defaults(handler=run_revoke)

    policy = sub.add_parser(
        "policy",
        help="approve the signing policy in [tool.qms] as it stands",
        description=(
            "The trust roots, the approval rules ([tool.qms.approvals]) and the release signer "
            "roles decide whose signatures count, so they count only as approved by a "
            "registry administrator. After editing them in pyproject.toml, run this to record "
            "them in a new signed registry revision; until then 'qms verify' fails and no "
            "signature is shown."
        ),
        epilog="Example: qms signers policy --key ADMINFINGERPRINT",
    )
    add_signing_options(policy, ADMIN_KEY_HELP)
    policy.set_defaults(handler=run_policy)

    migrate = sub.add_parser(
        "migrate",
        help="tie qms-approval/1 statements to the commits that held their content",
        description=(
            "Statements of schema qms-approval/1 name no commit, so a rewritten history "
            "would go unnoticed, and 'qms verify' reports each as a finding. Signature "
            "files are never edited, so instead this finds, for every such record, a commit "
            "whose tree held exactly the content it signed, and writes one migration "
            "statement (signatures/migrations/NNNN.json) that lists them, signed by a "
            "registry administrator and committed. Each record then counts, and fails "
            "like a qms-approval/2 statement when its commit leaves the branch. With "
            "nothing to tie it says so and exits 0."
        ),
        epilog="Example: qms signers migrate --key ADMINFINGERPRINT",
    )
    add_signing_options(migrate, ADMIN_KEY_HELP)
    migrate.set_defaults(handler=run_migrate)

    listing = sub.add_parser("list", help="list registered signers and the registry's state")
    listing.add_argument("--json", action="store_true", help="print as JSON")
    listing.set_defaults(handler=run_list)


def _admin(args: argparse.Namespace) -> str:
    if not args.key:
        raise QmsError("a registry change must be signed", "pass --key with an administrator's key")
    return fingerprint_arg(args.key, "--key")


def run_add(args: argparse.Namespace, ctx: Context) -> int:
    """Register a signer."""
    config = ctx.config()
    with args.keyfile as handle:
        key_data = handle.read()
    entry, change = add_signer(
        config,
        key_data,
        args.name,
        args.email,
        args.roles,
        _admin(args),
        user_keys(args),
        now(),
        time_arg(args.valid_from, "--valid-from") if args.valid_from else None,
        time_arg(args.valid_until, "--valid-until") if args.valid_until else None,
    )
    sys.stdout.write(
        f"Registered {entry.name} <{entry.email}> ({', '.join(entry.roles)}), key "
        f"{entry.fingerprint}, as registry revision {change.registry.revision} "
        f"(commit {change.commit[:12]})\n"
    )
    return 0


def run_revoke(args: argparse.Namespace, ctx: Context) -> int:
    """Revoke a signer."""
    config = ctx.config()
    fingerprint = fingerprint_arg(args.fingerprint, "FINGERPRINT")
    at = time_arg(args.at, "--at")
    change = revoke_signer(
        config, fingerprint, at, args.reason, _admin(args), user_keys(args), now()
    )
    sys.stdout.write(
        f"Revoked {fingerprint} from {format_utc(at)} in registry revision "
        f"{change.registry.revision} (commit {change.commit[:12]})\n"
    )
    return 0


def run_policy(args: argparse.Namespace, ctx: Context) -> int:
    """Approve the signing policy."""
    changed, change = approve_policy(ctx.config(), _admin(args), user_keys(args), now())
    sys.stdout.write(
        f"Approved the signing policy in [tool.qms] (changed: {', '.join(changed)}) as "
        f"registry revision {change.registry.revision} (commit {change.commit[:12]})\n"
    )
    return 0


def run_migrate(args: argparse.Namespace, ctx: Context) -> int:
    """Tie commit-less statements to their commits; exit 1 when some cannot be tied."""
    admin = _admin(args)
    result = migrate(ctx.config(), admin, user_keys(args), now())
    if result.migration is None:
        if not result.untied:
            sys.stdout.write("Nothing to migrate: every approval statement names its commit\n")
    else:
        sys.stdout.write(
            f"Tied {len(result.migration.ties)} qms-approval/1 statements to their commits in "
            f"migration {result.migration.number} (commit {result.commit[:12]})\n"
        )
    for path, why in result.untied:
        sys.stderr.write(f"{path}: not tied: {why}\n")
    return 1 if result.untied else 0


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    """List signers; exit 1 when the registry itself does not verify."""
    listing = signer_listing(ctx.config())
    if args.json:
        print_json(listing.as_dict())
    else:
        print_table(
            ["FINGERPRINT", "NAME", "ROLES", "VALID FROM", "REVOKED", "EMAIL"],
            [
                [
                    s.fingerprint,
                    s.name,
                    ",".join(s.roles),
                    format_utc(s.valid_from),
                    format_utc(s.revoked_at) if s.revoked_at else "-",
                    s.email,
                ]
                for s in listing.signers
            ],
        )
        print_findings(listing.state.findings, sys.stderr)
    return 0 if listing.ok else 1
