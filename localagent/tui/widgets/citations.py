"""Citations under an answer, as a list the user can move through and choose from."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from localagent.tui.answering import CitedSource

SNIPPET_CHARS = 70


class CitationChosen(Message):
    """The user chose a citation: open its source."""

    def __init__(self, citation: CitedSource):
        super().__init__()
        self.citation = citation


def citation_label(citation: CitedSource) -> Text:
    snippet = " ".join(citation.text.split())
    if len(snippet) > SNIPPET_CHARS:
        snippet = snippet[: SNIPPET_CHARS - 1] + "…"
    label = Text()
    label.append(f"[{citation.n}] ", style="bold")
    label.append(Path(citation.file).name, style="underline")
    label.append(f" · page {citation.page}")
    if snippet:
        label.append(f"  {snippet}", style="dim")
    return label


class CitationList(OptionList):
    """One option per citation; enter (or a click) posts CitationChosen."""

    def __init__(self, citations: list[CitedSource], **kwargs):
        super().__init__(
            *[Option(citation_label(c), id=f"cite-{i}") for i, c in enumerate(citations)], **kwargs
        )
        self.citations = list(citations)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(CitationChosen(self.citations[event.option_index]))
