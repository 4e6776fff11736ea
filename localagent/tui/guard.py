"""`@shown_as_notification`: an error in a UI handler becomes a notification.

Textual ends the whole app on an exception escaping a handler (and the widget's message loop
stops), so every handler that touches the index, the chat history or the model is wrapped.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from localagent.errors import LocalAgentError

F = TypeVar("F", bound=Callable[..., Any])


def describe(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, LocalAgentError) else f"{type(exc).__name__}: {exc}"


def _report(owner: Any, exc: Exception) -> None:
    app = getattr(owner, "app", owner)
    app.notify(f"error: {describe(exc)}", severity="error", timeout=10)


def shown_as_notification(handler: F) -> F:
    """Wrap a (sync or async) method: exceptions are notified instead of raised."""
    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def run_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return await handler(self, *args, **kwargs)
            except Exception as exc:
                _report(self, exc)
                return None

        return run_async  # type: ignore[return-value]

    @functools.wraps(handler)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return handler(self, *args, **kwargs)
        except Exception as exc:
            _report(self, exc)
            return None

    return run  # type: ignore[return-value]
