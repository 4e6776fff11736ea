"""The command palette (ctrl+p): switch model, switch collection, index or watch a folder, new
chat, open a past chat. Each command opens a small picker (`Palette`, an object the app owns as
`app.palette`)."""

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
    watch = app.folder_watch
    stop = [("Stop watching", f"stop indexing changes to {watch.folder}", watch.stop)] if watch.active else []
    return [
        ("New chat", "start an empty conversation (ctrl+n)", app.action_new_chat),
        ("Open a past chat", "reopen a saved conversation", app.palette.open_chat),
        ("Switch collection", "answer from another document collection", app.palette.switch_collection),
        (
            "Index a folder",
            "read a folder into the current collection, in the background",
            app.documents.choose_folder,
        ),
        (
            "Watch a folder",
            "index a folder now, then again whenever its files change (like index --watch)",
            watch.choose_folder,
        ),
        *stop,
        ("Switch model", "load another model (localagent models list)", app.palette.switch_model),
    ]


class ChatCommands(Provider):
    @property
    def chat_app(self) -> ChatApp:
        from localagent.tui.app import ChatApp

        app = self.app
        if not isinstance(app, ChatApp):
            raise TypeError(f"ChatCommands serves ChatApp, not {type(app).__name__}")
        return app

    async def discover(self) -> Hits:
        for name, help_text, callback in palette_commands(self.chat_app):
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in palette_commands(self.chat_app):
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class Palette:
    """The pickers behind the palette commands.

    Interface: ``open_chat()``, ``switch_collection()``, ``switch_model()``. It uses of the app:
    ``store``, ``index``, ``collection``, ``answering``, ``notify``, ``push_screen``, ``show_chat``,
    ``use_collection``, ``load_model`` and ``documents`` (collection_is_empty, choose_folder)."""

    def __init__(self, app: ChatApp):
        self.app = app

    @shown_as_notification
    def open_chat(self) -> None:
        store = self.app.store
        chats = store.list_chats() if store is not None else []
        items = [
            (str(c.id), Text.assemble(c.title, (f"  {c.collection} · {c.messages // 2} question(s)", "dim")))
            for c in chats
        ]
        self.app.push_screen(
            PickerScreen("Open a past chat", items, empty="No saved chats yet."), self._open_chat
        )

    @shown_as_notification
    async def _open_chat(self, chosen: str | None) -> None:
        app = self.app
        if chosen is None or app.store is None:
            return
        if app.answering:
            app.notify(
                "wait for the answer to finish (or press esc) before opening a chat", severity="warning"
            )
            return
        chat = app.store.get_chat(int(chosen))
        if chat is None:
            app.notify("that chat is gone", severity="error")
            return
        await app.show_chat(chat.id)

    @shown_as_notification
    def switch_collection(self) -> None:
        app = self.app
        names = sorted(set(app.index.list_collections() if app.index is not None else []) | {app.collection})
        items = [(n, Text.assemble(n, ("  (current)" if n == app.collection else "", "dim"))) for n in names]
        app.push_screen(PickerScreen("Switch collection", items), self._collection_chosen)

    @shown_as_notification
    def _collection_chosen(self, name: str | None) -> None:
        app = self.app
        if name and name != app.collection:
            app.use_collection(name)
            if app.documents.collection_is_empty():
                app.ask_for_folder(empty=True)

    @shown_as_notification
    def switch_model(self) -> None:
        from localagent.models import Registry

        try:
            registry = Registry.load()
            items = [
                (
                    e.name,
                    Text.assemble(
                        e.name,
                        (
                            f"  {e.quant} {e.params} {e.architecture}"
                            f"{'  (default)' if e.name == registry.default_name else ''}",
                            "dim",
                        ),
                    ),
                )
                for e in registry.entries
                if e.installed and e.status != "unsupported"
            ]
        except LocalAgentError as exc:
            self.app.notify(str(exc), severity="error")
            return
        self.app.push_screen(
            PickerScreen("Switch model", items, empty="No installed models."), self._model_chosen
        )

    @shown_as_notification
    def _model_chosen(self, name: str | None) -> None:
        if not name:
            return
        if self.app.answering:
            self.app.notify(
                "wait for the answer to finish (or press esc) before switching", severity="warning"
            )
            return
        self.app.load_model(name)
