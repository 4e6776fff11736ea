"""The source of a citation: the whole page of the file, the cited passage highlighted."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Static

from localagent.tui.answering import CitedSource

HIGHLIGHT = "bold black on yellow"


def find_passage(page: str, citation: CitedSource, span: tuple[int, int] | None) -> tuple[int, int] | None:
    """Where the cited text is in the page (any whitespace between its words; else where its first
    words are), falling back to the chunk's stored offsets when they fit the page."""
    words = citation.text.split()
    for count in (len(words), 8):
        if not words:
            break
        found = re.search(r"\s+".join(re.escape(w) for w in words[:count]), page)
        if found:
            return found.start(), max(found.end(), min(len(page), found.start() + len(citation.text)))
    if span is not None and 0 <= span[0] < span[1] <= len(page):
        return span
    return None


def highlighted(page: str, span: tuple[int, int] | None) -> Text:
    text = Text(page)
    if span is not None:
        text.stylize(HIGHLIGHT, *span)
    return text


class SourceScreen(Screen):
    """Opened from a citation; [ and ] (or left/right) read the neighbouring pages, esc goes back."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("q", "app.pop_screen", "Back", show=False),
        Binding("left_square_bracket", "turn(-1)", "Previous page", key_display="["),
        Binding("right_square_bracket", "turn(1)", "Next page", key_display="]"),
        Binding("left", "turn(-1)", "Previous page", show=False),
        Binding("right", "turn(1)", "Next page", show=False),
    ]

    def __init__(
        self,
        citation: CitedSource,
        page_text: str | None,
        span: tuple[int, int] | None = None,
        shown_path: str | None = None,
        load_page: Callable[[str, int], str | None] | None = None,
    ):
        super().__init__()
        self.citation = citation
        self.page_text = page_text
        self.span = find_passage(page_text, citation, span) if page_text else None
        self.shown_path = shown_path if shown_path is not None else citation.file
        self.load_page = load_page
        self.page = citation.page

    def compose(self):
        yield Header()
        yield Label(self._title(), id="source-title")
        yield Label(Text(self.shown_path, style="dim"), id="source-path")
        with VerticalScroll(id="source-body"):
            yield Static(self._body(), id="source-text")
        yield Footer()

    def _title(self) -> Text:
        c = self.citation
        title = Text.assemble(
            (f"[{c.n}] " if c.n else "", "bold"),
            (Path(c.file).name, "bold underline"),
            f" · page {self.page}",
        )
        if self.page != c.page and c.text:
            title.append(f"  (cited: page {c.page})", style="dim")
        return title

    def _body(self) -> Text:
        if self.page_text is None:
            return Text(
                "This page is no longer in the index (re-index the file). The cited passage was:\n\n",
                style="italic",
            ) + Text(self.citation.text, style=HIGHLIGHT)
        return highlighted(self.page_text, self.span if self.page == self.citation.page else None)

    def on_mount(self) -> None:
        if self.span is not None and self.page_text:
            line = self.page_text.count("\n", 0, self.span[0])
            body = self.query_one("#source-body", VerticalScroll)
            self.call_after_refresh(body.scroll_to, y=max(0, line - 2), animate=False)

    def action_turn(self, step: int) -> None:
        """Show the previous / next page of the same file (the citation stays highlighted on its own)."""
        wanted = self.page + step
        text = self.load_page(self.citation.file, wanted) if self.load_page and wanted >= 1 else None
        if text is None:
            self.notify(f"no page {wanted} in {Path(self.citation.file).name}", timeout=3)
            return
        self.page, self.page_text = wanted, text
        if wanted == self.citation.page:
            self.span = find_passage(text, self.citation, self.span)
        self.query_one("#source-title", Label).update(self._title())
        self.query_one("#source-text", Static).update(self._body())
        self.query_one("#source-body", VerticalScroll).scroll_home(animate=False)
