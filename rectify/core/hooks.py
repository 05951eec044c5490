"""Named extension points: how a lower app causes work in a higher one without importing it.

Apps depend one way (core ← orgs ← ledger ← dispatch ← supervision ← the rest). When a lower app
reaches a moment a higher app cares about — a report is accepted, a round closes, the task page
is drawn — it calls a :class:`Hook` it declares in its own ``hooks.py``; higher apps register
handlers in their ``AppConfig.ready()``. Every hook of the project is listed in
docs/architecture.md ("Hooks"), so a reader finds all of them in one place.

Handlers run in registration order (the order of ``INSTALLED_APPS``), inside the caller's
transaction unless the hook says otherwise; an exception in a handler rolls the caller back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Hook:
    def __init__(self, name: str, doc: str):
        self.name = name
        self.__doc__ = doc
        self._handlers: list[Callable[..., Any]] = []

    def register(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Add a handler (usable as a decorator); registering the same function twice is a no-op."""
        if handler not in self._handlers:
            self._handlers.append(handler)
        return handler

    def __call__(self, **kwargs: Any) -> list[Any]:
        return [handler(**kwargs) for handler in self._handlers]

    @property
    def handlers(self) -> tuple[Callable[..., Any], ...]:
        return tuple(self._handlers)

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._handlers)} handlers>"


# Declared here, where the audit record lives (core has no hooks.py of its own beyond this module).
audit_hidden = Hook(
    "core.audit_hidden",
    "handler(user) -> Q | None — events of the audit record this reader of the record (the security "
    "auditor, the office administrator) may not see in the viewer, e.g. confidential accountability cases.",
)
