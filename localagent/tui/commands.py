"""The command palette (ctrl+p): switch model, switch collection, index a folder, new chat,
open a past chat. Each command opens a small picker (PaletteActions, mixed into ChatApp)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

from localagent.errors import LocalAgentError
from localagent.tui.guard import shown_as_notification
from localagent.tui.screens import PickerScreen

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


class PaletteActions:
    """The pickers behind the palette commands; ChatApp provides store, index, collection,
    answering, notify, push_screen, show_chat, use_collection, load_model, ask_for_folder."""

    @shown_as_notification
    def action_open_chat(self) -> None:
        chats = self.store.list_chats() if self.store is not None else []
        items = [(str(c.id), Text.assemble(c.title, (f"  {c.collection} · {c.messages // 2} question(s)", "dim")))
                 for c in chats]
        self.push_screen(PickerScreen("Open a past chat", items, empty="No saved chats yet."), self._open_chat)

    @shown_as_notification
    async def _open_chat(self, chosen: str | None) -> None:
        if chosen is None or self.store is None:
            return
        if self.answering:
            self.notify("wait for the answer to finish (or press esc) before opening a chat",
                        severity="warning")
            return
        chat = self.store.get_chat(int(chosen))
        if chat is None:
            self.notify("that chat is gone", severity="error")
            return
        await self.show_chat(chat.id)

    @shown_as_notification
    def action_switch_collection(self) -> None:
        names = sorted(set(self.index.list_collections() if self.index is not None else []) | {self.collection})
        items = [(n, Text.assemble(n, ("  (current)" if n == self.collection else "", "dim"))) for n in names]
        self.push_screen(PickerScreen("Switch collection", items), self._collection_chosen)

    @shown_as_notification
    def _collection_chosen(self, name: str | None) -> None:
        if name and name != self.collection:
            self.use_collection(name)
            if self.collection_is_empty():
                self.ask_for_folder(empty=True)

    @shown_as_notification
    def action_switch_model(self) -> None:
        from localagent.models import Registry

        try:
            registry = Registry.load()
            items = [(e.name, Text.assemble(e.name, (f"  {e.quant} {e.params} {e.architecture}"
                                                     f"{'  (default)' if e.name == registry.default_name else ''}",
                                                     "dim")))
                     for e in registry.entries if e.installed and e.status != "unsupported"]
        except LocalAgentError as exc:
            self.notify(str(exc), severity="error")
            return
        self.push_screen(PickerScreen("Switch model", items, empty="No installed models."), self._model_chosen)

    @shown_as_notification
    def _model_chosen(self, name: str | None) -> None:
        if not name:
            return
        if self.answering:
            self.notify("wait for the answer to finish (or press esc) before switching", severity="warning")
            return
        self.load_model(name)

