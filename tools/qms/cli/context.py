"""What every subcommand needs: where the handbook is and its configuration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qms.config import QmsConfig, find_root, load_config, read_table
from qms.errors import NotAHandbookError


@dataclass(frozen=True)
class Context:
    """The global options, resolved lazily so that `--help` works anywhere."""

    root: Path | None
    cwd: Path

    def config(self) -> QmsConfig:
        """The handbook's configuration; raises NotAHandbookError outside one."""
        if self.root is not None:
            root = self.root.resolve()
            if read_table(root) is None:
                raise NotAHandbookError(
                    f"not a handbook repository: {root} has no pyproject.toml with [tool.qms]",
                    "pass the folder that holds the handbook's pyproject.toml to --root",
                )
            return load_config(root)
        return load_config(find_root(self.cwd.resolve()))
