"""The handbook's configuration: the `[tool.qms]` table of pyproject.toml."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qms.errors import ConfigError, NotAHandbookError

PYPROJECT = "pyproject.toml"
DEFAULT_MEANINGS = ("authored", "reviewed", "approved")


@dataclass(frozen=True)
class QmsConfig:
    """Settings every front end reads the same way."""

    root: Path
    organisation: str = "Example Organisation"
    handbook_title: str = "Information Security Handbook"
    docs_dir: str = "docs"
    build_dir: str = "_build"
    site_pages: tuple[str, ...] = ("index", "register", "*/index")
    required_meanings: tuple[str, ...] = DEFAULT_MEANINGS

    @property
    def docs_path(self) -> Path:
        """Absolute path of the documents folder."""
        return self.root / self.docs_dir

    @property
    def build_path(self) -> Path:
        """Absolute path of the build output folder."""
        return self.root / self.build_dir


def _text(table: Mapping[str, Any], key: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"[tool.qms] {key} must be non-empty text", f"fix {key} in {PYPROJECT}")
    return value


def _texts(table: Mapping[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = table.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(
            f"[tool.qms] {key} must be a list of text values", f"fix {key} in {PYPROJECT}"
        )
    return tuple(value)


def config_from_table(root: Path, table: Mapping[str, Any]) -> QmsConfig:
    """Validate a `[tool.qms]` table (already parsed) into a QmsConfig."""
    return QmsConfig(
        root=root,
        organisation=_text(table, "organisation", QmsConfig.organisation),
        handbook_title=_text(table, "handbook_title", QmsConfig.handbook_title),
        docs_dir=_text(table, "docs_dir", QmsConfig.docs_dir),
        build_dir=_text(table, "build_dir", QmsConfig.build_dir),
        site_pages=_texts(table, "site_pages", QmsConfig.site_pages),
        required_meanings=_texts(table, "required_meanings", DEFAULT_MEANINGS),
    )


def read_table(root: Path) -> dict[str, Any] | None:
    """The `[tool.qms]` table of `root/pyproject.toml`, or None when there is none."""
    path = root / PYPROJECT
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name} is not valid TOML: {exc}", "fix the file") from exc
    table = data.get("tool", {}).get("qms")
    return table if isinstance(table, dict) else None


def load_config(root: Path) -> QmsConfig:
    """Load the configuration of the handbook rooted at `root` (defaults if none)."""
    table = read_table(root)
    return config_from_table(root, table or {})


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` whose pyproject.toml has `[tool.qms]`."""
    for folder in (start, *start.parents):
        if read_table(folder) is not None:
            return folder
    raise NotAHandbookError(
        f"not a handbook repository: no {PYPROJECT} with [tool.qms] in {start} or above",
        "run qms inside a handbook checkout, or pass --root DIR",
    )
