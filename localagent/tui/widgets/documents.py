"""The side panel: collections and their documents (indexed / failed / indexing, page counts),
and the progress of an indexing run."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.text import Text
from textual.containers import Vertical
from textual.widgets import Label, ProgressBar, Tree

from localagent.index import DocumentRecord, IndexEvent


def document_label(doc: DocumentRecord, name_width: int = 22) -> Text:
    name = Path(doc.path).name
    if len(name) > name_width:
        name = name[: name_width - 1] + "…"
    label = Text()
    if doc.status == "ok":
        label.append("✓ ", style="green")
        label.append(name)
        label.append(f"  {doc.pages} p", style="dim")
    else:
        label.append("✗ ", style="red")
        label.append(name)
        label.append("  failed", style="red dim")
    return label


def pending_label(path: str, name_width: int = 22) -> Text:
    name = Path(path).name
    if len(name) > name_width:
        name = name[: name_width - 1] + "…"
    return Text.assemble(("⋯ ", "yellow"), name, ("  indexing", "yellow dim"))


class DocumentPanel(Vertical):
    """Tree of collection → documents; the active collection is expanded and marked."""

    def compose(self):
        yield Label("Documents", classes="panel-title")
        tree: Tree[DocumentRecord | str] = Tree("collections", id="doc-tree")
        tree.show_root = False
        tree.guide_depth = 2
        yield tree
        yield Label("", id="index-label")
        yield ProgressBar(id="index-progress", show_eta=False)

    def on_mount(self) -> None:
        self.query_one("#index-progress").display = False
        self.query_one("#index-label").display = False

    def show_documents(
        self,
        collections: Iterable[str],
        documents: list[DocumentRecord],
        active: str,
        pending: Iterable[str] = (),
    ) -> None:
        """Redraw the tree. ``documents`` are those of every collection; ``pending`` are files of the
        active collection still being indexed."""
        tree = self.query_one(Tree)
        tree.clear()
        names = sorted(set(collections) | {active})
        waiting = sorted(set(pending) - {d.path for d in documents if d.collection == active})
        for name in names:
            docs = [d for d in documents if d.collection == name]
            ok = sum(1 for d in docs if d.status == "ok")
            failed = len(docs) - ok
            label = Text()
            label.append("● " if name == active else "○ ", style="bold" if name == active else "dim")
            label.append(name, style="bold" if name == active else "")
            label.append(f"  {ok} doc{'s' if ok != 1 else ''}", style="dim")
            if failed:
                label.append(f", {failed} failed", style="red dim")
            node = tree.root.add(label, data=name, expand=name == active)
            for doc in docs:
                node.add_leaf(document_label(doc), data=doc)
            if name == active:
                for path in waiting:
                    node.add_leaf(pending_label(path), data=path)
                if not docs and not waiting:
                    node.add_leaf(Text("(empty: ctrl+p → Index a folder)", style="dim italic"))

    def show_progress(self, event: IndexEvent | None) -> None:
        """Progress of the running index job (None hides it)."""
        bar = self.query_one("#index-progress", ProgressBar)
        label = self.query_one("#index-label", Label)
        bar.display = label.display = event is not None
        if event is None:
            return
        bar.update(total=max(event.files_total, 1), progress=event.files_done)
        current = Path(event.path).name if event.path else ""
        label.update(f"indexing {event.files_done}/{event.files_total} {current}"[:40])
