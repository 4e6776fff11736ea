"""The command palette (ctrl+p): switch model, switch collection, index a folder, new chat,
open a past chat. Each command opens a small picker; the app does the work."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from localagent.tui.app import ChatApp


def palette_commands(app: ChatApp) -> list[tuple[str, str, Callable[[], Any]]]:
    """(name, help, callback) for every command the palette offers."""
    return [
        ("New chat", "start an empty conversation (ctrl+n)", app.action_new_chat),
        ("Open a past chat", "reopen a saved conversation", app.action_open_chat),
        ("Switch collection", "answer from another document collection", app.action_switch_collection),
        ("Index a folder", "read a folder into the current collection, in the background",
         app.action_index_folder),
        ("Switch model", "load another model (localagent models list)", app.action_switch_model),
    ]


class ChatCommands(Provider):
    async def discover(self) -> Hits:
        for name, help_text, callback in palette_commands(self.app):  # type: ignore[arg-type]
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in palette_commands(self.app):  # type: ignore[arg-type]
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
