"""Chunking: provenance (page, lines, char offsets) is exact, sizes and overlap hold, headings kept."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localagent.docs import DocumentError, Page, chunk_pages, count_tokens
from localagent.docs.detect import decode_text
from localagent.docs.markdown import find_headings


def _prose(seed: int, paragraphs: int) -> str:
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "budget", "lease", "contract", "tenant", "a", "of"]
    out = []
    for _ in range(paragraphs):
        lines = [
            " ".join(rng.choice(words) for _ in range(rng.randint(3, 14))) + "."
            for _ in range(rng.randint(1, 6))
        ]
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def test_count_tokens_is_a_plausible_approximation():
    assert count_tokens("") == 0
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("internationalization") == 4  # long words count as several pieces
    assert count_tokens("in 2026") == 5  # digits one by one, as Gemma/LLaMA tokenizers split them
    assert 80 <= count_tokens(" ".join(["word"] * 100)) <= 120


@pytest.mark.parametrize("target,overlap", [(20, 5), (50, 10), (200, 30), (16, 0)])
def test_chunks_are_exact_slices_with_correct_lines(target: int, overlap: int):
    text = _prose(target, 30)
    page = Page(number=3, text=text, first_line=10)
    chunks = chunk_pages([page], target, overlap)
    assert chunks
    lines = text.split("\n")
    for chunk in chunks:
        assert chunk.page == 3
        assert text[chunk.char_start : chunk.char_end] == chunk.text
        assert chunk.text.strip() == chunk.text
        # line numbers are file lines: first_line + index of the line in the page
        assert chunk.text.split("\n")[0] in lines[chunk.line_start - 10]
        assert chunk.text.split("\n")[-1] in lines[chunk.line_end - 10]
        assert text.count("\n", 0, chunk.char_start) == chunk.line_start - 10
        assert count_tokens(chunk.text) <= target * 1.5
    # everything on the page is in some chunk, in order
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.char_start, chunk.char_end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
    starts = [c.char_start for c in chunks]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


def test_neighbouring_chunks_overlap():
    lines = [f"line number {i} says something short." for i in range(60)]
    page = Page(number=1, text="\n".join(lines))
    chunks = chunk_pages([page], 40, 10)
    assert len(chunks) > 3
    shared = [a.char_end > b.char_start for a, b in zip(chunks, chunks[1:], strict=False)]
    assert all(shared)
    without = chunk_pages([page], 40, 0)
    assert all(a.char_end <= b.char_start for a, b in zip(without, without[1:], strict=False))


def test_chunks_prefer_paragraph_boundaries():
    paragraphs = ["\n".join(f"para {p} sentence {s} with words." for s in range(3)) for p in range(10)]
    text = "\n\n".join(paragraphs)
    for chunk in chunk_pages([Page(1, text)], 50, 0):
        assert chunk.text.startswith("para") and chunk.text.split()[2] == "sentence"
        assert chunk.text.split("\n")[0].endswith("sentence 0 with words.")


def test_chunks_never_cross_pages():
    pages = [Page(n, _prose(n, 3)) for n in range(1, 6)]
    chunks = chunk_pages(pages, 1000, 50)
    assert [c.page for c in chunks] == [1, 2, 3, 4, 5]


def test_very_long_line_and_giant_word_are_cut():
    text = " ".join(f"w{i}" for i in range(2000)) + "\n" + "x" * 5000
    chunks = chunk_pages([Page(1, text)], 100, 10)
    assert len(chunks) > 20
    assert all(count_tokens(c.text) <= 150 for c in chunks)
    assert all(text[c.char_start : c.char_end] == c.text for c in chunks)
    assert chunks[-1].line_start == chunks[-1].line_end == 2


def test_markdown_sections_start_new_chunks_with_heading_paths():
    text = (
        "# Manual\n\nIntro text here about the manual and why it exists.\n\n"
        "## Install\n\n" + "Install step with detail. " * 12 + "\n\n"
        "## Usage\n\nRun the tool.\n"
    )
    page = Page(1, text, headings=find_headings(text))
    chunks = chunk_pages([page], 60, 10)
    usage = [c for c in chunks if "Run the tool." in c.text]
    assert usage and usage[0].heading == "Manual > Usage"
    assert usage[0].text.startswith("## Usage")
    install = [c for c in chunks if "Install step" in c.text]
    assert install[0].heading == "Manual > Install"
    assert chunks[0].heading == "Manual"


def test_empty_pages_give_no_chunks():
    assert chunk_pages([Page(1, ""), Page(2, "  \n\n ")], 50, 5) == []
    with pytest.raises(ValueError):
        chunk_pages([Page(1, "x")], 0, 0)


_LINES = st.lists(
    st.one_of(
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\f\r"), max_size=120
        ),
        st.sampled_from(["", "# Title", "## Part two", "Setext", "-----", "```", "word " * 80]),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(_LINES, st.integers(16, 120), st.integers(0, 60), st.integers(1, 50))
def test_chunk_invariants_hold_for_any_text(lines, target, overlap, first_line):
    text = "\n".join(lines)
    page = Page(number=2, text=text, first_line=first_line, headings=find_headings(text))
    chunks = chunk_pages([page], target, overlap)
    starts = [c.char_start for c in chunks]
    assert starts == sorted(set(starts))
    for chunk in chunks:
        assert text[chunk.char_start : chunk.char_end] == chunk.text and chunk.text.strip()
        assert chunk.line_start == first_line + text.count("\n", 0, chunk.char_start)
        assert chunk.line_end == first_line + text.count("\n", 0, chunk.char_end)
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.char_start, chunk.char_end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_decode_or_fail_with_a_reason(data):
    try:
        assert isinstance(decode_text(data), str)
    except DocumentError as exc:
        assert exc.reason.split(" ")[0] in {"binary", "undecodable"}
