"""Small modal screens the command palette opens: choose one of a list, or type a folder."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option


class PickerScreen(ModalScreen[str | None]):
    """Choose one item; dismisses with its id (None on esc)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, title: str, items: Sequence[tuple[str, str | Text]], empty: str = "nothing to choose from"
    ):
        super().__init__()
        self.title_text = title
        self.items = items
        self.empty = empty

    def compose(self):
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            if self.items:
                yield OptionList(*[Option(label, id=key) for key, label in self.items], id="picker")
            else:
                yield Label(self.empty, classes="dialog-note")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class FolderScreen(ModalScreen[str | None]):
    """Type a folder (or file) to index or watch; dismisses with the text (None on esc)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str = "Index a folder",
        note: str = "",
        hint: str = "enter: index into the current collection · esc: cancel",
    ):
        super().__init__()
        self.title_text = title
        self.note = note
        self.hint = hint

    def compose(self):
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            if self.note:
                yield Label(self.note, classes="dialog-note")
            yield Input(placeholder="folder or file, e.g. ~/Documents/contracts", id="folder")
            yield Label(f"[dim]{self.hint}[/dim]")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if value:
            self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
