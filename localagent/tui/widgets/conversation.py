"""The conversation: questions, answers streamed as Markdown, citations under each answer."""

from __future__ import annotations

from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Markdown, Static
from textual.widgets.markdown import MarkdownStream

from localagent.tui.answering import CitedSource, Reply
from localagent.tui.widgets.citations import CitationList

WELCOME = (
    "Ask a question about your documents below. Answers quote the documents and cite file "
    "and page; choose a citation to read the page.  [dim]F1 help · ctrl+p commands[/dim]"
)
NOT_FOUND = "Not found in your documents."


class UserMessage(Static):
    """A question the user asked."""


class AnswerView(Vertical):
    """One answer: Markdown (streamed while it is written), a note, then its citations."""

    def __init__(self, text: str = "", **kwargs):
        super().__init__(**kwargs)
        self._initial = text
        self._stream: MarkdownStream | None = None
        self.streamed = ""
        self.reply: Reply | None = None

    def compose(self):
        yield Markdown(self._initial, classes="answer-text")
        yield Label("", classes="answer-note")

    @property
    def markdown(self) -> Markdown:
        return self.query_one(Markdown)

    def set_note(self, note: str) -> None:
        label = self.query_one(".answer-note", Label)
        label.update(note)
        label.display = bool(note)

    def on_mount(self) -> None:
        self.set_note("")

    async def append(self, piece: str) -> None:
        """Add streamed text (called once per token)."""
        if self._stream is None:
            self._stream = Markdown.get_stream(self.markdown)
        self.streamed += piece
        await self._stream.write(piece)

    async def finish(self, reply: Reply) -> None:
        """Show the final answer (the agent may have replaced what it streamed) and its citations."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        self.reply = reply
        text = reply.text.strip() or (self.streamed.strip() if reply.cancelled else "")
        await self.markdown.update(text or ("" if reply.cancelled else NOT_FOUND))
        if reply.cancelled:
            self.set_note("stopped (esc)")
        elif not reply.found:
            self.set_note(
                "The documents do not contain the answer."
                + (" Closest passages, to read instead:" if reply.closest else "")
            )
            self.add_class("not-found")
        else:
            self.set_note("")
        await self.show_citations(reply.citations if reply.found else reply.closest)

    async def show_citations(self, citations: list[CitedSource]) -> None:
        if citations:
            await self.mount(CitationList(citations, classes="citations"))

    async def fail(self, message: str) -> None:
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        self.set_note(f"error: {message}")
        self.add_class("failed")


class Conversation(VerticalScroll):
    """The list of questions and answers of the current chat."""

    def compose(self):
        yield Static(WELCOME, classes="welcome")

    def on_mount(self) -> None:
        self.anchor()

    async def clear(self) -> None:
        await self.remove_children()
        await self.mount(Static(WELCOME, classes="welcome"))

    async def _drop_welcome(self) -> None:
        for welcome in self.query(".welcome"):
            await welcome.remove()

    async def add_question(self, text: str) -> UserMessage:
        await self._drop_welcome()
        message = UserMessage(text, classes="question", markup=False)
        await self.mount(message)
        return message

    async def start_answer(self) -> AnswerView:
        view = AnswerView(classes="answer")
        await self.mount(view)
        view.set_note("answering… (esc stops)")
        self.anchor()
        return view

    async def add_answer(self, reply: Reply) -> AnswerView:
        """A finished answer (from history)."""
        view = AnswerView(classes="answer")
        await self.mount(view)
        await view.finish(reply)
        return view

    def answers(self) -> list[AnswerView]:
        return list(self.query(AnswerView))
