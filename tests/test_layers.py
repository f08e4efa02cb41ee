"""Layer rules, read with ast: the model stays pure; the extension's adapter imports cannot grow."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

MODEL = REPO / "tools" / "qms" / "model"
EXTENSION = REPO / "extensions" / "qms_sphinx"

# What the model may never import: front ends' frameworks, I/O libraries, and the layers above.
FORBIDDEN_IN_MODEL = (
    "sphinx",
    "docutils",
    "git",
    "gnupg",
    "subprocess",
    "weasyprint",
    "qms.adapters",
    "qms.services",
    "qms.cli",
)

# Extension modules that import qms.adapters: none. The extension reaches files, git and
# gpg only through services (issue 13); this set must stay empty.
EXTENSION_ADAPTER_IMPORTERS: frozenset[str] = frozenset()


SERVICES = REPO / "tools" / "qms" / "services"
CLI = REPO / "tools" / "qms" / "cli"

# CLI modules that import qms.adapters: the files the user names for output, and the
# signer's own GnuPG home. Everything else goes through services; this must never grow.
CLI_ADAPTER_IMPORTERS = frozenset({"output.py", "signing.py"})

# Services that still read the clock when a caller passes no `now`. Issue 13 has every
# caller pass it and shrinks this set to empty; it must never grow.
CLOCK_READERS: frozenset[str] = frozenset()


def clock_reads(source: str) -> list[str]:
    """Each `datetime.now`, `datetime.utcnow`, `date.today` or `time.time` the source calls."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and (node.func.value.id, node.func.attr)
            in {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time")}
        ):
            found.append(f"{node.func.value.id}.{node.func.attr}")
    return found


def imported_modules(source: str, package: str) -> set[str]:
    """Every module an ``import`` or ``from ... import`` names, relative ones made absolute."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            # `from qms import adapters` imports the module qms.adapters.
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def matches(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def python_files(folder: Path) -> list[Path]:
    files = sorted(folder.rglob("*.py"))
    assert files, f"no Python files under {folder}"
    return files


def test_scanner_sees_every_import_form() -> None:
    source = (
        "import subprocess\n"
        "from git import Repo\n"
        "from qms import adapters\n"
        "from ..services.verify import run\n"
        "def late():\n"
        "    import sphinx.util\n"
    )
    found = imported_modules(source, "qms.model")
    for expected in ("subprocess", "git", "qms.adapters", "qms.services.verify", "sphinx.util"):
        assert expected in found, expected
    assert not any(matches(name, "gnupg") for name in found)
    assert not matches("gitdb", "git")


def test_model_imports_no_framework_io_or_upper_layer() -> None:
    offences = []
    for path in python_files(MODEL):
        for module in imported_modules(path.read_text(encoding="utf-8"), "qms.model"):
            if any(matches(module, prefix) for prefix in FORBIDDEN_IN_MODEL):
                offences.append(f"{path.relative_to(REPO)} imports {module}")
    assert offences == []


def test_extension_adapter_imports_do_not_grow() -> None:
    importers = {
        str(path.relative_to(EXTENSION))
        for path in python_files(EXTENSION)
        if any(
            matches(module, "qms.adapters")
            for module in imported_modules(path.read_text(encoding="utf-8"), "qms_sphinx")
        )
    }
    assert importers == EXTENSION_ADAPTER_IMPORTERS


def test_scanner_sees_clock_reads() -> None:
    source = "def f():\n    return datetime.now(tz=UTC), date.today(), time.time(), now()\n"
    assert clock_reads(source) == ["datetime.now", "date.today", "time.time"]


def test_only_front_ends_read_the_clock() -> None:
    readers = {
        str(path.relative_to(folder.parent))
        for folder in (MODEL, SERVICES)
        for path in python_files(folder)
        if clock_reads(path.read_text(encoding="utf-8"))
        or any(
            matches(module, "qms.clock")
            for module in imported_modules(path.read_text(encoding="utf-8"), "qms")
        )
    }
    assert readers == CLOCK_READERS


def test_cli_adapter_imports_do_not_grow() -> None:
    importers = {
        str(path.relative_to(CLI))
        for path in python_files(CLI)
        if any(
            matches(module, "qms.adapters")
            for module in imported_modules(path.read_text(encoding="utf-8"), "qms.cli")
        )
    }
    assert importers == CLI_ADAPTER_IMPORTERS
