"""Putting our handler in place of another extension's, for the same event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError


def replace_listener(
    app: Sphinx, event: str, theirs: Callable[..., Any], ours: Callable[..., Any], priority: int
) -> None:
    """Disconnect `theirs` from `event` and connect `ours` at `priority`.

    Raises when `theirs` is not connected: both would run, or the replaced one would.
    """
    found = [item for item in app.events.listeners[event] if item.handler is theirs]
    if not found:
        name = getattr(theirs, "__qualname__", repr(theirs))
        raise ExtensionError(f"qms_sphinx: {name} is not connected to {event}; update qms_sphinx")
    for listener in found:
        app.disconnect(listener.id)
    app.connect(event, ours, priority=priority)
