"""The main screen: documents on the left, the conversation and the question box on the right,
the status line and the key footer at the bottom."""

from __future__ import annotations

from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input

from localagent.tui.widgets import Conversation, DocumentPanel, StatusLine


class MainScreen(Screen):
    AUTO_FOCUS = "#question"

    def compose(self):
        yield Header()
        with Horizontal(id="body"):
            yield DocumentPanel(id="documents")
            with Vertical(id="chat"):
                yield Conversation(id="conversation")
                yield Input(placeholder="Ask about your documents…  (enter sends, esc stops)", id="question")
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        """Draw the documents and the status as soon as the widgets exist."""
        getattr(self.app, "show_state", lambda: None)()
