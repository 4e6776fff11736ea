"""Telling text from binary data, and decoding bytes to text with a safe fallback."""

from __future__ import annotations

import codecs

from localagent.docs.types import DocumentError

# File name endings that are clearly not documents; folder walks skip them without reading.
BINARY_SUFFIXES = frozenset(
    """
    .png .jpg .jpeg .gif .bmp .tif .tiff .webp .ico .heic .svgz .psd .raw .cr2 .nef
    .mp3 .wav .flac .ogg .m4a .aac .mp4 .mkv .avi .mov .webm .wmv
    .zip .gz .tgz .bz2 .xz .zst .7z .rar .tar .jar .war .whl .egg .deb .rpm .dmg .iso .img
    .exe .dll .so .dylib .o .a .lib .bin .dat .class .pyc .pyo .wasm
    .gguf .safetensors .pt .pth .ckpt .onnx .npy .npz .pkl .pickle .h5 .parquet .arrow
    .sqlite .sqlite3 .db .db-wal .db-shm .mdb .accdb
    .doc .xls .xlsx .ppt .pptx .ods .odp .epub .mobi .ttf .otf .woff .woff2
    """.split()
)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Bytes that never occur in text: C0 controls other than tab, newline, vertical tab, form feed,
# carriage return and escape.
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27))
SNIFF_BYTES = 8192


def bom_encoding(head: bytes) -> str | None:
    """The encoding announced by a byte-order mark, or None."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return None


def utf16_without_bom(head: bytes) -> str | None:
    """ "utf-16-le"/"utf-16-be" when the bytes look like mostly-ASCII UTF-16 without a BOM
    (every other byte NUL), else None."""
    if len(head) < 4:
        return None
    usable = len(head) - len(head) % 2
    even, odd = head[0:usable:2], head[1:usable:2]
    half = usable // 2
    if odd.count(0) > 0.9 * half and even.count(0) < 0.1 * half:
        return "utf-16-le"
    if even.count(0) > 0.9 * half and odd.count(0) < 0.1 * half:
        return "utf-16-be"
    return None


def looks_binary(head: bytes) -> bool:
    """True when the first bytes of a file are clearly not text (NUL bytes, many control bytes).

    UTF-16/32 text with a byte-order mark, or ASCII-range UTF-16 without one, is text even though
    it contains NUL bytes.
    """
    if not head or bom_encoding(head) or utf16_without_bom(head):
        return False
    if b"\x00" in head:
        return True
    controls = sum(head.count(bytes([b])) for b in _CONTROL)
    return controls / len(head) > 0.05


def decode_text(data: bytes) -> str:
    """Bytes to str: BOM, else UTF-8, else Windows-1252; DocumentError when none fits.

    Windows-1252 leaves five byte values undefined, so data that is neither UTF-8 nor
    Windows-1252 (e.g. Shift-JIS or random bytes) is reported as undecodable instead of being
    turned into mojibake.
    """
    if looks_binary(data[:SNIFF_BYTES]):
        raise DocumentError("binary data")
    encoding = bom_encoding(data)
    if encoding is None and (bare := utf16_without_bom(data[:SNIFF_BYTES])):
        try:
            return data[: len(data) - len(data) % 2].decode(bare)
        except UnicodeDecodeError:
            raise DocumentError(f"undecodable text (looks like {bare} but is not)") from None
    if encoding:
        bom_len = 4 if encoding.startswith("utf-32") else 3 if encoding == "utf-8" else 2
        try:
            return data[bom_len:].decode(encoding)
        except UnicodeDecodeError as exc:
            raise DocumentError(f"undecodable text (bad {encoding} at byte {exc.start + bom_len})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc.start
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise DocumentError(
            f"undecodable text (not UTF-8 at byte {utf8_error}, not Windows-1252 either)"
        ) from None
    return text


def normalize_newlines(text: str) -> str:
    """CRLF and lone CR to LF; NUL characters dropped (SQLite and terminals dislike them)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
