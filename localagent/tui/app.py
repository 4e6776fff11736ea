"""`localagent chat`: the Textual app. It owns the state (model, index, collection, current chat)
and starts the workers; screens and widgets only show things and post messages.

The state that the screen shows is reactive: `answering` (the footer's stop key), `indexing`,
`collection`, `model_name`, `activity` and `watching`; their watchers redraw the status line and
the side panel, so handlers only assign them. `documents` (tui/jobs.py: the side panel and
indexing), `folder_watch` (tui/watching.py: a watched folder), `palette` (tui/commands.py: the
command palette's pickers) and `chats` (tui/chats.py: the chat history, the source of a citation)
are objects the app owns.

Everything slow runs in thread workers (model loading, answering, indexing), so the UI never
freezes; tokens and progress come back through `call_from_thread`. Errors become notifications.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.widgets import Input, Tree

from localagent.config import Config
from localagent.errors import LocalAgentError
from localagent.index import DocumentRecord, Index
from localagent.protocols import TextEngine
from localagent.tui.answering import AnswererFactory, AnswerService, Reply
from localagent.tui.chats import Chats
from localagent.tui.commands import ChatCommands, Palette
from localagent.tui.guard import describe, shown_as_notification
from localagent.tui.history import ChatStore
from localagent.tui.jobs import Indexing, ThreadCount
from localagent.tui.screens import EmptyCollectionScreen, HelpScreen, MainScreen, MissingModelScreen
from localagent.tui.watching import FolderWatch
from localagent.tui.widgets import (
    AnswerView,
    CitationChosen,
    CitationList,
    Conversation,
    StatusInfo,
    StatusLine,
)

EngineFactory = Callable[[Config, "str | None"], TextEngine]
STATUS_REFRESH_S = 3.0


def load_real_engine(config: Config, model: str | None) -> TextEngine:
    """The named model, else the first model `ask` would try (tern-reader in the default cascade;
    the answer service reuses this engine for it)."""
    from localagent.agent.cascade import answer_models
    from localagent.engine import load_engine

    return load_engine(config, model=model or answer_models(config)[0])


def home_relative(path: str) -> str:
    home = str(Path.home())
    return "~" + path[len(home) :] if path.startswith(home + "/") else path


class ChatApp(App):
    """The chat UI. Tests inject `engine_factory` / `answerer_factory`, fixed paths, and
    `status_view` (to pin RAM and speed numbers in snapshots)."""

    CSS_PATH = ["app.tcss"]
    TITLE = "localagent"
    COMMANDS = App.COMMANDS | {ChatCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+n", "new_chat", "New chat"),
        Binding("escape", "stop", "Stop answer"),
        Binding("ctrl+o", "sources", "Sources"),
        Binding("f1", "help", "Help"),
    ]

    answering: reactive[bool] = reactive(False, repaint=False, bindings=True)  # the footer's stop key
    indexing: reactive[bool] = reactive(False, repaint=False)
    collection: reactive[str] = reactive("default", repaint=False)
    model_name: reactive[str | None] = reactive(None, repaint=False)
    activity: reactive[str] = reactive("", repaint=False)  # "loading model…", "indexing 3/10", …
    watching: reactive[str] = reactive("", repaint=False)  # "watching ~/docs · up to date", or ""

    def __init__(
        self,
        config: Config,
        *,
        model: str | None = None,
        engine_factory: EngineFactory | None = None,
        answerer_factory: AnswererFactory | None = None,
        index_path: Path | None = None,
        history_path: Path | None = None,
        status_view: Callable[[StatusInfo], StatusInfo] | None = None,
        show_path: Callable[[str], str] = home_relative,
    ):
        super().__init__()
        self.config = config
        self.set_reactive(ChatApp.model_name, model or config.model or None)
        self.set_reactive(ChatApp.collection, config.collection)
        self.engine_factory = engine_factory or load_real_engine
        self.answerer_factory = answerer_factory
        self.index_path = index_path
        self.history_path = history_path
        self.status_view = status_view or (lambda info: info)
        self.show_path = show_path
        self.main_screen: MainScreen | None = None
        self.engine: TextEngine | None = None
        self.index: Index | None = None
        self.store: ChatStore | None = None
        self.service: AnswerService | None = None
        self.chat_id: int | None = None
        self.model_error = ""
        self._cancel_answer = threading.Event()
        self.threads = ThreadCount()
        self.documents = Indexing(self)
        self.folder_watch = FolderWatch(self)
        self.palette = Palette(self)
        self.chats = Chats(self)

    def get_default_screen(self) -> MainScreen:
        self.main_screen = MainScreen(id="main")
        return self.main_screen

    # -- start and stop ----------------------------------------------------------------------

    def on_mount(self) -> None:
        from localagent.index import Index

        try:
            self.index = Index.open(self.index_path)
        except Exception as exc:  # a broken index must not stop the app: say so
            self.notify(f"cannot open the index: {describe(exc)}", severity="error", timeout=10)
        try:
            self.store = ChatStore.open(self.history_path)
        except LocalAgentError as exc:
            self.notify(f"{exc} (chats will not be saved)", severity="error", timeout=10)
        self.sub_title = "new chat"
        self.show_state()
        self.set_interval(STATUS_REFRESH_S, self.update_status)
        self.load_model(self.model_name)
        if self.index is not None and self.documents.collection_is_empty():
            self.ask_for_folder(empty=True)

    def show_state(self) -> None:
        """Draw the documents and the status line (also when the main screen mounts)."""
        self.documents.refresh_documents()
        self.update_status()

    async def action_quit(self) -> None:
        self._cancel_answer.set()
        self.documents.cancel()
        self.folder_watch.cancel()
        self.exit()

    def on_unmount(self) -> None:
        self._cancel_answer.set()
        self.documents.cancel()
        self.folder_watch.cancel()
        if self.engine is not None and not self.answering:
            self.engine.close()
        for closable in (self.index, self.store):
            if closable is not None:
                closable.close()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Messages carry file names and error text: shown literally, not as Rich markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def post(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run `callback` on the UI thread from a worker; ignored once the app has closed."""
        try:
            self.call_from_thread(callback, *args)
        except RuntimeError:
            pass

    # -- status ------------------------------------------------------------------------------

    def _main(self) -> MainScreen:
        if self.main_screen is None:
            raise NoMatches("the main screen is not mounted")
        return self.main_screen

    @property
    def status_line(self) -> StatusLine:
        return self._main().query_one(StatusLine)

    @property
    def conversation(self) -> Conversation:
        return self._main().query_one(Conversation)

    def set_activity(self, activity: str) -> None:
        """For workers, through `post`: the watcher redraws the status line."""
        self.activity = activity

    # -- watchers: the reactive state redraws what shows it -----------------------------------

    def watch_activity(self) -> None:
        self.update_status()

    def watch_collection(self) -> None:
        self.show_state()

    def watch_indexing(self) -> None:
        self.documents.refresh_documents()  # pending files show in the tree while indexing

    def watch_model_name(self) -> None:
        self.update_status()

    def watch_watching(self) -> None:
        self.update_status()

    def watch_answering(self, answering: bool) -> None:
        self.activity = "answering…" if answering else ""

    def update_status(self) -> None:
        from localagent.engine.system import rss_bytes

        if self.engine is not None:
            info = StatusInfo.from_stats(
                self.engine.stats, collection=self.collection, activity=self.activity, watching=self.watching
            )
            info = info.with_(rss_bytes=rss_bytes())
        else:
            info = StatusInfo(collection=self.collection, activity=self.activity, watching=self.watching)
        try:
            self.status_line.show(self.status_view(info))
        except NoMatches:  # the main screen is not mounted (yet / any more)
            pass

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return True if self.answering else None
        return True

    @shown_as_notification
    def action_sources(self) -> None:
        """Focus the citations of the latest answer that has some."""
        lists = self.conversation.query(CitationList)
        if lists:
            lists.last().focus()
            lists.last().highlighted = lists.last().highlighted or 0
        else:
            self.notify("no citations to open yet", timeout=3)

    # -- the model ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="model")
    def load_model(self, model: str | None) -> None:
        self.post(self.set_activity, "loading model…")
        with self.threads.running():
            try:
                engine = self.engine_factory(self.config, model)
            except Exception as exc:
                self.post(self._model_failed, describe(exc))
                return
        self.post(self._model_ready, engine, model)

    @shown_as_notification
    def _model_ready(self, engine: TextEngine, model: str | None) -> None:
        old, self.engine, self.service = self.engine, engine, None
        self.model_name = model
        self.model_error = ""
        self.activity = ""
        if old is not None:  # a switch (the first load shows in the status line only)
            old.close()
            self.notify(f"model {engine.stats.model_name} loaded", timeout=3)

    @shown_as_notification
    def _model_failed(self, reason: str) -> None:
        self.model_error = reason
        self.activity = ""
        if self.engine is None:
            self.push_screen(MissingModelScreen(reason))
        else:
            self.notify(f"could not switch model: {reason}", severity="error", timeout=10)

    # -- asking ------------------------------------------------------------------------------

    @shown_as_notification
    async def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "question":
            return
        question = event.value.strip()
        if not question:
            return
        if self.answering:
            self.notify(
                "An answer is still being written: wait, or press esc to stop it.", severity="warning"
            )
            return
        if self.engine is None:
            why = (
                f"no model: {self.model_error}"
                if self.model_error
                else "the model is still loading; ask again in a moment"
            )
            self.notify(why, severity="warning", timeout=6)
            return
        event.input.clear()
        conversation = self.conversation
        await conversation.add_question(question)
        view = await conversation.start_answer()
        self.chats.save("user", question)
        self._cancel_answer = threading.Event()
        self.answering = True  # the footer shows the stop key, the status line "answering…"
        self.answer(question, view, self._cancel_answer)

    @work(thread=True, exclusive=True, group="answer")
    def answer(self, question: str, view: AnswerView, cancel: threading.Event) -> None:
        with self.threads.running():
            try:
                if self.service is None:
                    if self.engine is None or self.index is None:
                        raise LocalAgentError(
                            "no model loaded" if self.engine is None else "the index is not open"
                        )
                    self.service = AnswerService(self.engine, self.index, self.config, self.answerer_factory)
                reply = self.service.ask(
                    question, self.collection, lambda piece: self.post(self._piece, view, piece), cancel
                )
            except Exception as exc:
                self.post(self._answer_failed, view, describe(exc))
                return
        self.post(self._answer_done, view, reply)

    async def _piece(self, view: AnswerView, piece: str) -> None:
        if view.is_attached:
            await view.append(piece)

    @shown_as_notification
    async def _answer_done(self, view: AnswerView, reply: Reply) -> None:
        self._answer_over()
        if reply.cancelled and not reply.text:
            reply.text = view.streamed
        if view.is_attached:
            await view.finish(reply)
            self.chats.save("assistant", reply.text, reply)
        if reply.cancelled:
            self.notify("answer stopped", timeout=3)

    @shown_as_notification
    async def _answer_failed(self, view: AnswerView, message: str) -> None:
        self._answer_over()
        if view.is_attached:
            await view.fail(message)
        self.notify(message, severity="error", timeout=10)

    def _answer_over(self) -> None:
        self.answering = False

    @shown_as_notification
    def action_stop(self) -> None:
        if self.answering:
            self._cancel_answer.set()
            self.activity = "stopping…"

    def engine_label(self) -> str:
        return self.engine.stats.model_name if self.engine is not None else ""

    # -- citations ---------------------------------------------------------------------------

    @shown_as_notification
    def on_citation_chosen(self, message: CitationChosen) -> None:
        self.chats.open_source(message.citation)

    @shown_as_notification
    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        """A document in the side panel: open its first page, or say why it failed."""
        if isinstance(event.node.data, DocumentRecord):
            self.chats.open_document(event.node.data)

    # -- chats -------------------------------------------------------------------------------

    @shown_as_notification
    async def action_new_chat(self) -> None:
        if self.answering:
            self._cancel_answer.set()
        self.chat_id = None
        self.sub_title = "new chat"
        await self.conversation.clear()

    @shown_as_notification
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    @shown_as_notification
    async def show_chat(self, chat_id: int) -> None:
        """Put a stored chat in the conversation; new questions continue it."""
        await self.chats.show(chat_id)

    # -- collections and models --------------------------------------------------------------

    @shown_as_notification
    def use_collection(self, name: str) -> None:
        self.collection = name  # the watcher redraws the documents and the status line
        self.notify(f"collection {name!r}", timeout=3)

    def ask_for_folder(self, empty: bool = False) -> None:
        screen = EmptyCollectionScreen(self.collection) if empty else None
        self.documents.choose_folder(screen)
