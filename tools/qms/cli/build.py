"""`qms build`: build the handbook site (a preview of the working copy)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qms.cli.context import Context
from qms.cli.output import add_verbose_option, plural, print_findings, sphinx_log
from qms.cli.progress import progress_bar
from qms.services.sphinx_run import run_sphinx


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    parser = commands.add_parser(
        "build",
        help="build the handbook site into _build/html",
        description=(
            "Build the handbook into a browsable HTML site. Warnings are printed as "
            "'path:line: message' and make the command exit 1, so a clean build is one "
            "that would also pass 'sphinx-build -W'. Notices (a lapsed risk acceptance) are "
            "printed the same way and counted, and fail nothing. On a terminal a progress "
            "bar shows the phase (reading, verifying, writing) and its count; piped or in CI "
            "(CI=true) only the warnings and the result are printed."
        ),
        epilog="Example: qms build --fresh -v   (re-read everything and show Sphinx's own log)",
    )
    parser.add_argument("--out", type=Path, help="output folder (default: <build_dir>/html)")
    parser.add_argument(
        "--fresh", action="store_true", help="re-read every source instead of only changed ones"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="parallel Sphinx processes (default 1)"
    )
    add_verbose_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Build and report warnings."""
    config = ctx.config()
    outdir = (args.out or config.build_path / "html").resolve()
    with progress_bar(enabled=not args.verbose) as bar:
        result = run_sphinx(
            config,
            "html",
            outdir,
            fresh=args.fresh,
            progress=sphinx_log(args.verbose),
            jobs=args.jobs,
            phases=bar,
        )
    print_findings([*result.findings, *result.notices])
    index = outdir / "index.html"
    # Notices (a lapsed acceptance) are counted but fail nothing, as under -W.
    counted = f" ({plural(len(result.notices), 'notice')})" if result.notices else ""
    if result.failed:
        sys.stderr.write(
            f"qms build: {plural(len(result.findings), 'warning')}{counted}; the site at "
            f"{index} is not fit for release\n"
        )
        return 1
    sys.stderr.write(f"qms build: site written to {index}{counted}\n")
    return 0
