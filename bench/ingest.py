"""Ingest and search benchmark: `python bench/ingest.py` (about a minute on 2 cores).

1. Writes a corpus of real PDFs (default 1,000 pages, Zipf-distributed words) with tests/pdfs.py.
2. Indexes it with `index_paths` into a fresh index: pages/s and MB/s (read + chunk + write).
3. Indexes it again unchanged: the time a no-op re-run costs.
4. Adds synthetic documents until the index holds 100,000 chunks, then times searches
   (rare words, mixed words, questions with stop words, common words): p50 / p95 / max.
5. With --real-pdfs DIR: real typeset PDFs (see bench/formats.py for the Debian packages),
   pypdf against PDFium side by side in this one run: pages/s, CPU s/page, glued-word share;
   then those PDFs indexed end to end.
6. Word and HTML documents/s and pages/s (--flow-files), and OCR s/page (--ocr-pages, with the
   [ocr] extra). --skip-synthetic runs only 5 and 6.
Each figure is printed next to its target with the ratio.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))
sys.path.append(str(REPO / "bench"))  # after REPO: bench/kernels.py must not shadow the kernels package

from pdfs import make_pdf  # noqa: E402

from localagent.docs import Page, chunk_pages  # noqa: E402
from localagent.index import Index, index_paths  # noqa: E402
from localagent.index.reading import auto_jobs  # noqa: E402

SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ter",
    "an",
    "sel",
    "ru",
    "po",
    "di",
    "ven",
    "ac",
    "hor",
    "ne",
    "tis",
    "bu",
    "gra",
]


class Vocabulary:
    """Pseudo-words with Zipf frequencies, so postings lists look like a real language's."""

    def __init__(self, size: int, seed: int):
        rng = random.Random(seed)
        words: set[str] = set()
        while len(words) < size:
            words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))))
        self.words = sorted(words, key=lambda w: (len(w), w))
        weights = [1.0 / (rank + 1) ** 1.07 for rank in range(size)]
        self.cumulative = list(_accumulate(weights))
        self.rng = rng

    def sentence(self, n: int) -> str:
        picks = self.rng.choices(self.words, cum_weights=self.cumulative, k=n)
        return " ".join(picks).capitalize() + "."

    def page_lines(self, lines: int, words_per_line: int) -> list[str]:
        return [self.sentence(words_per_line) for _ in range(lines)]


def _accumulate(values):
    total = 0.0
    for value in values:
        total += value
        yield total


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(name: str, value: float, unit: str, target: float, higher_is_better: bool) -> None:
    ratio = value / target if higher_is_better else target / max(value, 1e-9)
    verdict = "meets" if ratio >= 1 else "MISSES"
    print(
        f"  {name:<28} {value:>10.2f} {unit:<7} target {'>=' if higher_is_better else '<'} "
        f"{target:g} {unit:<7} ratio {ratio:6.1f}x  {verdict}"
    )


def write_corpus(root: Path, pages: int, pages_per_file: int, vocab: Vocabulary) -> int:
    root.mkdir(parents=True)
    written = 0
    file_number = 0
    while written < pages:
        count = min(pages_per_file, pages - written)
        make_pdf(root / f"report{file_number:04d}.pdf", [vocab.page_lines(40, 12) for _ in range(count)])
        written += count
        file_number += 1
    return sum(p.stat().st_size for p in root.iterdir())


def grow_index(index: Index, target_chunks: int, vocab: Vocabulary, chunk_tokens: int) -> float:
    """Add synthetic 50-page documents (chunked like real ones) until the index has enough chunks."""
    started = time.perf_counter()
    number = 0
    while index.count_chunks() < target_chunks:
        pages = [
            Page(n, "\n\n".join("\n".join(vocab.page_lines(3, 12)) for _ in range(5))) for n in range(1, 51)
        ]
        chunks = chunk_pages(pages, chunk_tokens, chunk_tokens // 7)
        index.write_document(
            "bench",
            f"/synthetic/doc{number:05d}.txt",
            size=0,
            mtime_ns=0,
            sha256="",
            pages=pages,
            chunks=chunks,
        )
        number += 1
    return time.perf_counter() - started


def make_queries(vocab: Vocabulary, count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    size = len(vocab.words)
    kinds = []
    for i in range(count):
        kind = ("rare word", "2-3 mixed words", "question", "common word")[i % 4]
        if kind == "rare word":
            query = vocab.words[rng.randrange(size // 2, size)]
        elif kind == "2-3 mixed words":
            query = " ".join(vocab.words[rng.randrange(20, size)] for _ in range(rng.randint(2, 3)))
        elif kind == "question":
            query = (
                f"what does the {vocab.words[rng.randrange(50, 2000)]} say about "
                f"{vocab.words[rng.randrange(200, size)]}?"
            )
        else:
            query = vocab.words[rng.randrange(0, 10)]
        kinds.append((kind, query))
    return kinds


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=1000, help="pages in the PDF corpus")
    parser.add_argument("--pages-per-file", type=int, default=25)
    parser.add_argument("--chunks", type=int, default=100_000, help="index size for the search timing")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--chunk-tokens", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--real-pdfs",
        type=Path,
        metavar="DIR",
        help="folder searched for real PDFs (5 pages or more) to compare pypdf and PDFium",
    )
    parser.add_argument("--max-real-pages", type=int, default=1200, help="stop adding real PDFs past this")
    parser.add_argument(
        "--flow-files", type=int, default=20, help="Word and HTML files (200 paragraphs each)"
    )
    parser.add_argument("--ocr-pages", type=int, default=3, help="scanned pages to OCR (0: skip)")
    parser.add_argument("--skip-synthetic", action="store_true", help="only the real-document figures")
    args = parser.parse_args()
    if args.skip_synthetic:
        return real_documents(args)

    vocab = Vocabulary(20_000, args.seed)
    with tempfile.TemporaryDirectory(prefix="localagent-bench-") as tmp:
        tmp_path = Path(tmp)
        os.environ["LOCALAGENT_HOME"] = str(tmp_path / "home")
        corpus = tmp_path / "corpus"
        t0 = time.perf_counter()
        size = write_corpus(corpus, args.pages, args.pages_per_file, vocab)
        print(
            f"corpus: {args.pages} PDF pages in {len(list(corpus.iterdir()))} files, "
            f"{size / 1e6:.1f} MB, written in {time.perf_counter() - t0:.1f} s"
        )

        db = tmp_path / "home" / "index.sqlite3"
        with Index.open(db) as index:
            readers = max(2, auto_jobs())
            cpu_start = time.process_time()
            first = index_paths(
                [corpus],
                collection="bench",
                index=index,
                chunk_tokens=args.chunk_tokens,
                chunk_overlap=30,
                jobs=1,
            )
            ingest_cpu = time.process_time() - cpu_start
            parallel = index_paths(
                [corpus],
                collection="bench",
                index=index,
                rebuild=True,
                chunk_tokens=args.chunk_tokens,
                chunk_overlap=30,
                jobs=readers,
            )
            again = index_paths(
                [corpus], collection="bench", index=index, chunk_tokens=args.chunk_tokens, chunk_overlap=30
            )
            print("\ningest (PDFium text extraction + chunking + SQLite/FTS5 writes):")
            report("pages/s, 1 process", first.pages / first.elapsed, "pages/s", 50, True)
            report("pages per CPU-second", first.pages / ingest_cpu, "pages/s", 50, True)
            report(
                f"pages/s, {readers} reader processes", parallel.pages / parallel.elapsed, "pages/s", 50, True
            )
            print(
                f"  {'MB/s (PDF bytes)':<28} {first.bytes_read / 1e6 / first.elapsed:>10.2f} MB/s    "
                "(no target; these PDFs are Flate-compressed, ~1.4 KB per page)"
            )
            print(
                f"  {'indexed':<28} {first.indexed} files, {first.pages} pages, {first.chunks} chunks "
                f"in {first.elapsed:.2f} s"
            )
            report("re-index unchanged", again.elapsed * 1000, "ms", 1000, False)
            assert again.indexed == 0 and again.unchanged == first.indexed

            grow_s = grow_index(index, args.chunks, vocab, args.chunk_tokens)
            chunks = index.count_chunks()
            print(
                f"\nsearch at {chunks} chunks (index grown with synthetic documents in {grow_s:.1f} s, "
                f"database {db.stat().st_size / 1e6:.0f} MB + WAL):"
            )
            small = tmp_path / "small"
            write_corpus(small, 20, 20, vocab)  # a second collection, so the filter is real
            index_paths(
                [small], collection="other", index=index, chunk_tokens=args.chunk_tokens, chunk_overlap=30
            )
            queries = make_queries(vocab, args.queries, args.seed)
            for _, query in queries[:20]:  # warm the page cache the way a session would
                index.search(query, collection="bench", skip_missing=False)
            times: dict[str, list[float]] = {}
            cpu: dict[str, list[float]] = {}
            empty = 0
            for kind, query in queries:
                start, start_cpu = time.perf_counter(), time.process_time()
                hits = index.search(query, collection="bench", limit=10, skip_missing=False)
                times.setdefault(kind, []).append((time.perf_counter() - start) * 1000)
                cpu.setdefault(kind, []).append((time.process_time() - start_cpu) * 1000)
                empty += not hits
            everything = [t for values in times.values() for t in values]
            print(
                f"  (collection filter on; {os.cpu_count()} CPUs, load average "
                f"{os.getloadavg()[0]:.1f} during the run: wall time counts waiting for the CPU)"
            )
            for kind, values in times.items():
                print(
                    f"  {kind:<28} p50 {percentile(values, 50):6.2f} ms  p95 {percentile(values, 95):6.2f} ms"
                    f"  max {max(values):6.2f} ms   CPU p95 {percentile(cpu[kind], 95):6.2f} ms"
                )
            report("search p50 (all queries)", percentile(everything, 50), "ms", 20, False)
            report("search p95 (all queries)", percentile(everything, 95), "ms", 20, False)
            all_cpu = [t for values in cpu.values() for t in values]
            report("search p95 CPU time", percentile(all_cpu, 95), "ms", 20, False)
            print(f"  {'queries without hits':<28} {empty} of {len(queries)}")
    return real_documents(args)


def real_documents(args: argparse.Namespace) -> int:
    """Sections 5 and 6 (see the module docstring)."""
    import formats

    with tempfile.TemporaryDirectory(prefix="localagent-bench-") as tmp:
        tmp_path = Path(tmp)
        os.environ["LOCALAGENT_HOME"] = str(tmp_path / "home")
        print(f"\n({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start)")
        if args.real_pdfs:
            chosen, pages = [], 0
            for path, count in formats.find_pdfs(args.real_pdfs):
                if pages + count <= args.max_real_pages:
                    chosen.append(path)
                    pages += count
            if not chosen:
                print(f"no real PDFs of 5 pages or more under {args.real_pdfs}")
            else:
                formats.print_comparison(chosen, formats.compare_pdf_extractors(chosen))
                with Index.open(tmp_path / "real.sqlite3") as index:
                    summary = index_paths(
                        chosen,
                        collection="real",
                        index=index,
                        chunk_tokens=args.chunk_tokens,
                        chunk_overlap=30,
                        jobs=1,
                    )
                report("indexed end to end, 1 proc", summary.pages / summary.elapsed, "pages/s", 50, True)
        flow = tmp_path / "flow"
        formats.write_flow_corpus(flow, args.flow_files, 200)
        print(
            f"\nWord and HTML: {args.flow_files} files each, 200 paragraphs, a table, headings "
            "(a page = 3,000 characters of extracted text)"
        )
        for suffix in (".docx", ".html"):
            row = formats.measure_flow(flow, suffix)
            print(
                f"  {suffix:<6} {row['files_s']:8.1f} files/s {row['pages_s']:8.1f} pages/s "
                f"{row['cpu_s_page'] * 1000:8.2f} CPU ms/page"
            )
        if args.ocr_pages:
            ocr = formats.measure_ocr(tmp_path / "scans", args.ocr_pages)
            if ocr is None:
                print("\nOCR: the [ocr] extra is not installed (pip install -e '.[ocr]')")
            else:
                print(
                    f"\nOCR (RapidOCR, ONNX Runtime) on {ocr['pages']} scanned Letter pages (300 dpi, 12 lines of text):"
                )
                print(
                    f"  {ocr['s_page']:.2f} s/page ({ocr['cpu_s_page']:.2f} CPU s/page), engine load "
                    f"{ocr['engine_load_s']:.2f} s, mean confidence {ocr['confidence']:.3f}, "
                    f"word found on {ocr['found']} of {ocr['pages']} pages"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
