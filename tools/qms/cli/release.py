"""`qms release`: create, sign, verify and publish signed sets of the handbook in force."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qms.cli.context import Context
from qms.cli.output import plural, print_findings
from qms.cli.progress import progress_bar
from qms.cli.release_diff import add_diff_parser
from qms.cli.signing import add_signing_options, fingerprint_arg, user_keys
from qms.clock import now
from qms.services.release import (
    create_release,
    publish_release,
    sign_release,
    verify_release_folder,
)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `release` and its subcommands."""
    parser = commands.add_parser(
        "release",
        help="create, sign, verify and publish signed document sets",
        description=(
            "A release is a named, signed, reproducible build of document sets (configured "
            "in [tool.qms.sets]) holding only effective documents. Approvers sign its "
            "manifest, which lists every document, version, content hash and approval and "
            "the SHA-256 of every output file. A published release verifies offline."
        ),
    )
    sub = parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
    create = sub.add_parser("create", help="build the sets at HEAD and write the manifest")
    create.add_argument("name", metavar="NAME", help="e.g. 2026-12")
    create.add_argument(
        "--set",
        action="append",
        dest="sets",
        default=[],
        metavar="SET",
        help="a configured set (repeat; default: all)",
    )
    create.set_defaults(handler=run_create)
    sign = sub.add_parser("sign", help="sign a created release's manifest for your role")
    sign.add_argument("name", metavar="NAME")
    add_signing_options(sign, "your signing key (default: your only registered secret key)")
    sign.set_defaults(handler=run_sign)
    verify = sub.add_parser(
        "verify",
        help="verify a published release folder, offline",
        description="Check files, signatures and signers using only what is in PATH.",
    )
    verify.add_argument("path", type=Path, metavar="PATH")
    verify.add_argument(
        "--trust-root",
        action="append",
        default=[],
        metavar="FINGERPRINT",
        help="pin a trust root (repeat); without it the folder's own roots are used, which "
        "shows the folder is consistent but not who made it",
    )
    verify.set_defaults(handler=run_verify)
    publish = sub.add_parser("publish", help="copy a signed release to DIR/NAME, never overwriting")
    publish.add_argument("name", metavar="NAME")
    publish.add_argument("--to", required=True, type=Path, metavar="DIR")
    publish.add_argument(
        "--restricted",
        action="store_true",
        help=(
            "DIR is readable only by people who sign in: needed for a release with a set "
            "that admits confidential documents and personal data (an auditor pack)"
        ),
    )
    publish.set_defaults(handler=run_publish)
    add_diff_parser(sub)


def run_create(args: argparse.Namespace, ctx: Context) -> int:
    """Build the release."""
    with progress_bar() as bar:
        result = create_release(
            ctx.config(),
            args.name,
            args.sets,
            now(),
            lambda set_name, phase, done, total: bar(f"{set_name}: {phase}", done, total),
        )
    for item in result.left_out:
        sys.stderr.write(f"qms release create: left out {item.document_id}: {item.reason}\n")
    counts = ", ".join(f"{name}: {len(docs)}" for name, docs in result.manifest.sets.items())
    sys.stdout.write(
        f"Release {args.name} built at {result.folder} from commit {result.commit[:12]} "
        f"({counts} documents; {len(result.manifest.files)} files). Next: qms release sign "
        f"{args.name}\n"
    )
    return 0


def run_sign(args: argparse.Namespace, ctx: Context) -> int:
    """Sign the manifest."""
    role, name = sign_release(ctx.config(), args.name, user_keys(args), args.key, now())
    sys.stdout.write(f"Release {args.name} signed by {name} as {role}\n")
    return 0


def run_verify(args: argparse.Namespace, ctx: Context) -> int:
    """Verify a published folder."""
    pinned = tuple(fingerprint_arg(f, "--trust-root") for f in args.trust_root)
    findings = verify_release_folder(args.path, pinned)
    print_findings(findings)
    if findings:
        sys.stderr.write(f"qms release verify: {plural(len(findings), 'problem')}\n")
        return 1
    how = "pinned trust roots" if pinned else "the trust roots named in the folder itself"
    sys.stderr.write(f"qms release verify: {args.path} is intact and fully signed ({how})\n")
    return 0


def run_publish(args: argparse.Namespace, ctx: Context) -> int:
    """Publish."""
    result = publish_release(ctx.config(), args.name, args.to, restricted=args.restricted)
    if result.removed:
        sys.stderr.write(
            f"qms release publish: removed {plural(len(result.removed), 'leftover')} of "
            f"interrupted publishes: {', '.join(result.removed)}\n"
        )
    for folder, problem in result.unlisted:
        sys.stderr.write(f"qms release publish: {folder} left out of index.html: {problem}\n")
    what = "was already published, intact," if result.already else "published"
    sys.stdout.write(
        f"Release {args.name} {what} at {result.destination}; index.html lists "
        f"{plural(len(result.listed), 'release')}\n"
    )
    return 0
