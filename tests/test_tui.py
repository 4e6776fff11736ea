"""Pilot tests of `localagent chat` (Textual `App.run_test()`), against the real default model and a
real index: ask -> streamed answer -> citation -> source page; esc stops an answer; indexing a folder
from the command palette; reopening a past chat; missing model and errors as screens/notifications."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from pdfs import known_pages, make_pdf, make_truncated_pdf
from textual.app import _PrintCapture
from textual.widgets import Input, OptionList, Tree
from tui_helpers import (
    LEASE_FACT,
    QUESTION,
    SIZE,
    indexed_documents,
    make_app,
    make_documents,
    sync,
    wait_for_model,
    wait_until,
)

from localagent.config import load_config
from localagent.index import Index, index_paths
from localagent.tui import ChatApp
from localagent.tui.answering import CitedSource
from localagent.tui.history import ChatStore
from localagent.tui.screens import EmptyCollectionScreen, FolderScreen, MissingModelScreen, SourceScreen
from localagent.tui.widgets import AnswerView, CitationList, UserMessage


def tree_labels(app) -> list[str]:
    tree = app.main_screen.query_one("#doc-tree", Tree)
    labels = []

    def walk(node):
        for child in node.children:
            labels.append(str(child.label))
            walk(child)

    walk(tree.root)
    return labels


async def ask(pilot, question: str) -> None:
    before = len(pilot.app.conversation.query(AnswerView))
    box = pilot.app.screen.query_one("#question", Input)
    box.focus()
    box.value = question
    await pilot.press("enter")
    await wait_until(
        pilot,
        lambda: len(pilot.app.conversation.query(AnswerView)) > before,
        timeout=10,
        what="the answer to start",
    )


@pytest.mark.model
@sync
async def test_ask_streams_an_answer_and_a_citation_opens_the_page(
    tmp_path: Path, default_model: Path
) -> None:
    indexed_documents(tmp_path / "docs")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_model(pilot)
        assert "lease.pdf" in " ".join(tree_labels(app)) and "3 p" in " ".join(tree_labels(app))
        assert "tern-reader" in str(app.status_line.render())  # the first model of the default cascade
        await ask(pilot, QUESTION)
        await wait_until(pilot, lambda: not app.answering, what="the answer")
        view = app.conversation.query_one(AnswerView)
        assert view.streamed.strip(), "no token was streamed into the conversation"
        assert view.reply is not None and view.reply.found, view.reply
        assert "31 March 2031" in view.reply.text
        assert "31 March 2031" in view.markdown.source
        citations = view.query_one(CitationList)
        assert citations.citations[0].page == 3 and citations.citations[0].file.endswith("lease.pdf")
        assert app.engine.stats.gen_tok_s > 0 and "tok/s" in str(app.status_line.render())

        await pilot.press("ctrl+o", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SourceScreen), timeout=10, what="the source")
        source = app.screen
        assert source.citation.page == 3
        assert LEASE_FACT in source.page_text and "Term of the lease" in source.page_text
        start, end = source.span
        assert "31 March 2031" in source.page_text[start:end]
        shown = str(source.query_one("#source-text").render())
        assert "31 March 2031" in shown
        await pilot.press("left")  # the page before, in the same file
        assert source.page == 2 and "monthly rent" in str(source.query_one("#source-text").render())
        await pilot.press("right_square_bracket", "right")  # back to the cited page; there is no page 4
        assert source.page == 3 and "31 March 2031" in source.page_text[slice(*source.span)]
        assert any("no page 4" in n.message for n in app._notifications)
        await pilot.press("escape")
        assert not isinstance(app.screen, SourceScreen)

        await ask(pilot, "What is the boiling point of mercury?")  # no document says
        await wait_until(pilot, lambda: not app.answering, what="the refusal")
        refusal = app.conversation.query(AnswerView).last()
        assert refusal.reply is not None and not refusal.reply.found and not refusal.query(CitationList)
        assert "Not found in your documents" in refusal.markdown.source
        assert "do not contain the answer" in str(refusal.query_one(".answer-note").render())

    store = ChatStore.open()
    chat = store.list_chats()[0]
    messages = store.messages(chat.id)
    assert chat.title == QUESTION and [m.role for m in messages] == ["user", "assistant"] * 2
    assert messages[1].found and messages[1].citations[0].page == 3 and messages[3].found is False


class LongAnswerer:
    """Streams a long raw completion from the real engine: long enough to stop part way."""

    max_tokens = 400

    def __init__(self, engine, index, config):
        self.engine = engine

    def ask(self, question, collection=None, on_token=None, cancel=None):
        pieces = []
        for piece in self.engine.complete(
            "Once upon a time, in a town by the sea,",
            max_tokens=self.max_tokens,
            temperature=0.0,
            cancel=cancel,
        ):
            pieces.append(piece)
            on_token(piece)
        return {"text": "".join(pieces), "found": True, "citations": [], "draft": "".join(pieces)}


@pytest.mark.model
@sync
async def test_escape_stops_an_answer_part_way(tmp_path: Path, default_model: Path) -> None:
    indexed_documents(tmp_path / "docs")
    app = make_app(answerer_factory=LongAnswerer)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_model(pilot)
        await ask(pilot, "Tell me a story")
        view = app.conversation.query_one(AnswerView)
        await wait_until(pilot, lambda: len(view.streamed) > 20, timeout=60, what="some streamed text")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.answering, timeout=30, what="the stop")
        assert app.engine.stats.gen_tokens < LongAnswerer.max_tokens
        assert view.reply is not None and view.reply.cancelled and not view.reply.found
        assert "stopped" in str(view.query_one(".answer-note").render())
        assert view.markdown.source.strip() and view.markdown.source.strip() == view.streamed.strip()
        assert app.screen.query_one("#question", Input).disabled is False
    messages = ChatStore.open().messages(ChatStore.open().list_chats()[0].id)
    assert messages[1].text.strip() == view.streamed.strip() and messages[1].found is False


@pytest.mark.model
@sync
async def test_index_a_folder_from_the_palette(
    tmp_path: Path, default_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_documents(tmp_path / "docs")
    for n in range(4):  # enough PDFs that the indexer reads them in spawned worker processes
        make_pdf(folder / f"report-{n}.pdf", known_pages(2, marker=f"r{n}x"))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, EmptyCollectionScreen),
            timeout=10,
            what="the empty-collection screen",
        )
        assert "has no documents yet" in str(app.screen.query_one(".dialog-note").render())
        await pilot.press("escape")
        await wait_for_model(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"index a folder")
        await wait_until(
            pilot,
            lambda: (
                "Index a folder" in str(app.screen.query_one(OptionList).get_option_at_index(0).prompt)
                if app.screen.query(OptionList)
                else False
            ),
            timeout=10,
            what="the palette hit",
        )
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: isinstance(app.screen, FolderScreen), timeout=10, what="the folder prompt"
        )
        app.screen.query_one("#folder", Input).value = str(folder)
        # In a real terminal Textual swaps sys.stderr for a capture whose fileno() is -1 (run_test
        # does not); spawning the indexer's worker processes must survive that.
        monkeypatch.setattr(sys, "stderr", _PrintCapture(app, stderr=True))
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: not app.indexing and any("indexed" in n.message for n in app._notifications),
            timeout=90,
            what="indexing to finish",
        )
        assert any("indexed 6 file(s)" in n.message for n in app._notifications), app._notifications
        labels = " ".join(tree_labels(app))
        assert "lease.pdf  3 p" in labels and "notes.md  1 p" in labels and "report-3.pdf  2 p" in labels
        assert "6 docs" in labels
        assert not app.documents.document_panel.query_one("#index-progress").display
    with Index.open() as index:
        names = sorted(Path(d.path).name for d in index.list_documents("default"))
        assert names == ["lease.pdf", "notes.md"] + [f"report-{n}.pdf" for n in range(4)]


@pytest.mark.model
@sync
async def test_reopen_a_past_chat_from_the_palette(tmp_path: Path, default_model: Path) -> None:
    indexed_documents(tmp_path / "docs")
    store = ChatStore.open()
    cited = CitedSource(1, str(tmp_path / "docs" / "lease.pdf"), 3, None, 2.5, LEASE_FACT)
    old = store.new_chat(QUESTION, "default", "Gemma 3 270m")
    store.add_message(old, "user", QUESTION)
    store.add_message(old, "assistant", "31 March 2031", found=True, citations=[cited])
    other = store.new_chat("Who waters the plants?", "default")
    store.add_message(other, "user", "Who waters the plants?")
    store.add_message(other, "assistant", "Not found in your documents.", found=False)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_model(pilot)
        await pilot.press("ctrl+p", *"past chat", "enter")
        await wait_until(pilot, lambda: bool(app.screen.query("#picker")), timeout=10, what="the chat list")
        picker = app.screen.query_one("#picker", OptionList)
        assert picker.option_count == 2
        assert "Who waters" in str(picker.get_option_at_index(0).prompt)  # most recent first
        picker.highlighted = 1
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.chat_id == old, timeout=10, what="the chat to open")
        await pilot.pause()
        assert [q.content for q in app.conversation.query(UserMessage)] == [QUESTION]
        view = app.conversation.query_one(AnswerView)
        assert "31 March 2031" in view.markdown.source
        assert view.query_one(CitationList).citations == [cited]
        assert app.sub_title == QUESTION
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.chat_id is None and not app.conversation.query(AnswerView)


@pytest.mark.model
@sync
async def test_switch_collection_and_model_from_the_palette(tmp_path: Path, default_model: Path) -> None:
    folder = indexed_documents(tmp_path / "docs")
    index_paths([folder / "notes.md"], collection="team")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_model(pilot)
        first_engine = app.engine
        await pilot.press("ctrl+p", *"switch collection", "enter")
        await wait_until(pilot, lambda: bool(app.screen.query("#picker")), timeout=10, what="collections")
        picker = app.screen.query_one("#picker", OptionList)
        assert [picker.get_option_at_index(i).id for i in range(picker.option_count)] == ["default", "team"]
        picker.highlighted = 1
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.collection == "team", timeout=10, what="the switch")
        labels = tree_labels(app)
        assert "● team  1 doc" in labels and "○ default  2 docs" in labels
        assert "collection team" in str(app.status_line.render())

        await pilot.press("ctrl+p", *"switch model", "enter")
        await wait_until(pilot, lambda: bool(app.screen.query("#picker")), timeout=10, what="models")
        picker = app.screen.query_one("#picker", OptionList)
        assert picker.get_option_at_index(0).id == "gemma3-270m"
        picker.highlighted = 0
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.engine is not first_engine, timeout=120, what="the new model")
        assert app.model_name == "gemma3-270m"
        assert any("model Gemma 3 270m loaded" in n.message for n in app._notifications)


@pytest.mark.model
@sync
async def test_documents_in_the_side_panel_open_or_say_why_they_failed(
    tmp_path: Path, default_model: Path
) -> None:
    folder = make_documents(tmp_path / "docs")
    make_truncated_pdf(folder / "broken.pdf", known_pages(3), keep=0.1)  # nothing readable left
    index_paths([folder])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_model(pilot)
        tree = app.main_screen.query_one("#doc-tree", Tree)
        leaves = {Path(node.data.path).name: node for node in tree.root.children[0].children}
        assert "✗ broken.pdf  failed" in str(leaves["broken.pdf"].label)
        tree.focus()
        tree.move_cursor(leaves["lease.pdf"])
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SourceScreen), timeout=10, what="page 1")
        assert app.screen.page == 1 and "Warehouse lease agreement" in app.screen.page_text
        await pilot.press("right_square_bracket")
        assert app.screen.page == 2 and "monthly rent" in app.screen.page_text
        await pilot.press("escape")
        tree.move_cursor(leaves["broken.pdf"])
        await pilot.press("enter")
        await pilot.pause()
        assert any(n.message.startswith("broken.pdf could not be indexed: ") for n in app._notifications)
        assert not isinstance(app.screen, SourceScreen)


@sync
async def test_missing_model_gets_a_screen_and_errors_are_notifications(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCALAGENT_MODEL", str(tmp_path / "nowhere.gguf"))
    indexed_documents(tmp_path / "docs")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, MissingModelScreen)
                and app.screen.query("#setup-text")
                and app.screen.query_one("#setup-text").source
            ),
            timeout=30,
            what="the missing-model screen with its text",
        )
        text = app.screen.query_one("#setup-text").source
        assert "nowhere.gguf" in text and "localagent models add" in text
        await pilot.press("escape")
        await ask_without_model(pilot)
        await pilot.press("ctrl+p", *"index a folder", "enter")
        await wait_until(
            pilot, lambda: isinstance(app.screen, FolderScreen), timeout=10, what="the folder prompt"
        )
        app.screen.query_one("#folder", Input).value = str(tmp_path / "not-there")
        await pilot.press("enter")
        await pilot.pause()
        assert any("no such file or folder" in n.message for n in app._notifications)
        app.store.close()  # the chat history breaks under the UI: an error in a handler
        await pilot.press("ctrl+p", *"past chat", "enter")
        await wait_until(
            pilot,
            lambda: any(n.message.startswith("error: ProgrammingError") for n in app._notifications),
            timeout=10,
            what="the error",
        )
        assert app.is_running and app.return_code is None


async def ask_without_model(pilot) -> None:
    app = pilot.app
    app.screen.query_one("#question", Input).value = "anything?"
    await pilot.press("enter")
    await pilot.pause()
    assert any("no model" in n.message for n in app._notifications)
    assert not app.answering and not app.conversation.query(UserMessage)


def test_past_chats_are_kept_in_sqlite_in_the_data_dir(isolated_home: Path) -> None:
    store = ChatStore.open()
    chat = store.new_chat("  What   is\nthe rent? " + "x" * 100)
    store.add_message(chat, "user", "What is the rent?")
    store.add_message(chat, "assistant", "Not found.", found=False)
    store.close()
    again = ChatStore.open()
    assert again.path == isolated_home / "data" / "chats.sqlite3"
    [summary] = again.list_chats()
    assert summary.title.startswith("What is the rent? xxx") and len(summary.title) == 60
    assert summary.messages == 2
    assert [(m.role, m.found) for m in again.messages(chat)] == [("user", None), ("assistant", False)]


def test_the_app_takes_collection_and_model_from_the_settings(isolated_home: Path) -> None:
    app = ChatApp(load_config({"collection": "contracts", "model": "/models/mine.gguf"}))
    assert app.collection == "contracts" and app.model_name == "/models/mine.gguf"
    assert ChatApp(load_config(), model="gemma3-270m").model_name == "gemma3-270m"


def test_the_ui_keeps_the_terminal_while_llama_cpp_is_silenced(tmp_path: Path, capfd) -> None:
    from localagent.engine.quiet import quiet_stderr
    from localagent.tui.terminal import private_terminal

    log = tmp_path / "chat.log"
    with private_terminal(log):
        sys.__stderr__.write("frame 1;")
        sys.__stderr__.flush()
        os.write(2, b"llama.cpp log line\n")
        with quiet_stderr():  # what the engine does while a model loads
            os.write(2, b"silenced\n")
            sys.__stderr__.write("frame 2;")  # Textual drawing meanwhile
            sys.__stderr__.flush()
    os.write(2, b"after")
    terminal = capfd.readouterr().err
    assert terminal == "frame 1;frame 2;after"
    assert log.read_text() == "llama.cpp log line\n"


def test_status_line_shows_names_literally() -> None:
    from textual.content import Content

    from localagent.tui.widgets.status import StatusInfo, status_text

    info = StatusInfo(
        model="m[x]",
        quant="TQ2_0",
        bits_per_weight=2.06,
        rss_bytes=300 * 2**20,
        tok_s=21.5,
        context_used=120,
        n_ctx=2048,
        collection="[b]laws",
        activity="indexing 3/9",
    )
    assert Content.from_markup(status_text(info)).plain == (
        "m[x]  │  TQ2_0 2.06 bits/w  │  RAM 300 MB  │  21.5 tok/s  │  ctx 120/2048  │  collection [b]laws"
        "  │  indexing 3/9"
    )
