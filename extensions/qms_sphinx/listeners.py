"""Putting our handler in place of another extension's, for the same event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sphinx.application import Sphinx


def replace_listener(
    app: Sphinx, event: str, theirs: Callable[..., Any], ours: Callable[..., Any], priority: int
) -> None:
    """Disconnect `theirs` from `event`, if connected, and connect `ours` at `priority`."""
    for listener in list(app.events.listeners[event]):
        if listener.handler is theirs:
            app.disconnect(listener.id)
    app.connect(event, ours, priority=priority)
