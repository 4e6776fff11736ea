"""The chat history and the sources of answers, from the UI. `Chats` is an object the app owns
(`app.chats`): it records each question and answer in the history database (a chat starts with its
first question), puts a stored chat back in the conversation, and opens the page a citation or a
document of the side panel points at."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from localagent.errors import LocalAgentError
from localagent.index import DocumentRecord
from localagent.tui.answering import CitedSource, Reply
from localagent.tui.guard import describe
from localagent.tui.screens import SourceScreen

if TYPE_CHECKING:
    from localagent.tui.app import ChatApp


class Chats:
    def __init__(self, app: ChatApp):
        self.app = app

    def save(self, role: str, text: str, reply: Reply | None = None) -> None:
        """Add a message to the current chat, starting one (titled by its first question)."""
        app, store = self.app, self.app.store
        if store is None:
            return
        try:
            if app.chat_id is None:
                app.chat_id = store.new_chat(text, app.collection, app.engine_label())
                chat = store.get_chat(app.chat_id)
                app.sub_title = chat.title if chat is not None else ""
            store.add_message(
                app.chat_id,
                role,
                text,
                None if reply is None else reply.found,
                None if reply is None else reply.citations,
            )
        except LocalAgentError as exc:
            app.notify(str(exc), severity="error")

    async def show(self, chat_id: int) -> None:
        """Put a stored chat in the conversation; new questions continue it."""
        app, store = self.app, self.app.store
        chat = store.get_chat(chat_id) if store is not None else None
        if store is None or chat is None:
            return
        conversation = app.conversation
        await conversation.clear()
        for message in store.messages(chat_id):
            if message.role == "user":
                await conversation.add_question(message.text)
            else:
                await conversation.add_answer(Reply(message.text, bool(message.found), message.citations))
        app.chat_id = chat.id
        app.sub_title = chat.title
        if chat.collection and chat.collection != app.collection:
            app.use_collection(chat.collection)

    def open_source(self, citation: CitedSource) -> None:
        """The source view for a citation: its page, the cited passage highlighted."""
        app, index = self.app, self.app.index
        page_text, span = None, None
        try:
            if index is not None:
                page_text = index.page_text(citation.file, citation.page)
                chunk = index.get_chunk(citation.chunk_id) if citation.chunk_id is not None else None
                if chunk is not None and chunk.file == citation.file and chunk.page == citation.page:
                    span = (chunk.char_start, chunk.char_end)
        except Exception as exc:
            app.notify(f"cannot read the source: {describe(exc)}", severity="error")
        app.push_screen(
            SourceScreen(
                citation,
                page_text,
                span,
                shown_path=app.show_path(citation.file),
                load_page=index.page_text if index is not None else None,
            )
        )

    def open_document(self, doc: DocumentRecord) -> None:
        """A document of the side panel: its first page, or why it could not be indexed."""
        if doc.status != "ok":
            self.app.notify(
                f"{Path(doc.path).name} could not be indexed: {doc.error}", severity="warning", timeout=8
            )
            return
        self.open_source(CitedSource(0, doc.path, 1))
