"""Located findings: what checks report, as `path:line: message`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One problem found in the handbook, located where the author can fix it."""

    path: str
    line: int | None
    message: str
    code: str = "qms"

    @property
    def sort_key(self) -> tuple[str, int, str]:
        """Order by file, then line (unlocated first), then message."""
        return (self.path, self.line or 0, self.message)

    def render(self) -> str:
        """Render as the one-line `path:line: message` form used everywhere."""
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        return {"path": self.path, "line": self.line, "message": self.message, "code": self.code}
