"""F1 help: what the keys do and what the command palette offers."""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# localagent chat

Ask questions about your indexed documents. Answers come from the documents, with numbered
citations; when the documents do not hold the answer, it says so instead of guessing.

## Keys

- `enter` send the question · `esc` stop the answer being written
- `ctrl+o` go to the sources of the last answer; `enter` on one opens its page, the cited
  passage highlighted; `[`/`]` turn its pages, `esc` goes back
- `tab` / `shift+tab` move between the question, the citations and the documents; `enter` on a
  document opens its first page (or says why it could not be indexed)
- `ctrl+n` new chat · `ctrl+p` command palette · `F1` this help · `ctrl+q` quit

## Command palette (ctrl+p)

- **New chat**: start an empty conversation
- **Open a past chat**: reopen a saved conversation and go on with it
- **Switch collection**: answer from another collection of documents
- **Index a folder**: read a folder into the current collection, in the background
- **Watch a folder**: index a folder now, then again whenever its files change (new, changed,
  deleted, renamed), as `localagent index --watch` does; the status line shows the watch, and
  **Stop watching** ends it
- **Switch model**: load another model from `localagent models list`

Chats are saved in the data dir (see `localagent paths`). From a shell, `localagent index DIR`
adds documents and `localagent ask "QUESTION"` answers without the UI.
"""


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Close"), Binding("f1", "app.pop_screen", "Close")]

    def compose(self):
        with VerticalScroll(id="help-box"):
            yield Markdown(HELP, id="help-text")
