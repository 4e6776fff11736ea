"""Checks shared by the zip-based office formats (DOCX, ODT) before any library opens them."""

from __future__ import annotations

import zipfile
from pathlib import Path

from localagent.docs.types import DocumentError

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024
# A member this big that unpacks this many times its packed size is a decompression bomb.
BOMB_MEMBER_BYTES = 32 * 1024 * 1024
BOMB_RATIO = 100


def check_zip(path: Path, kind: str) -> None:
    """DocumentError for files that are not a usable zip: empty, password-protected (an OLE2
    container around an encrypted package), legacy binary formats, damaged zips, zip bombs."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(1 << 20)
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from None
    if size == 0:
        raise DocumentError("empty file")
    if head.startswith(OLE2_MAGIC):
        if _ENCRYPTED_PACKAGE in head:
            raise DocumentError(f"password-protected {kind} (encrypted; open it and save without a password)")
        raise DocumentError(f"not a {kind}: an old binary Office file (save it as {kind} first)")
    if not head.startswith(b"PK"):
        raise DocumentError(f"not a {kind} (not a zip file)")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise DocumentError(f"damaged {kind} (bad zip: {str(exc)[:80]})") from None
    total = sum(m.file_size for m in members)
    if total > MAX_UNZIPPED_BYTES:
        raise DocumentError(
            f"{kind} unpacks to {total // 2**20} MB (zip bomb? the limit is {MAX_UNZIPPED_BYTES // 2**20} MB)"
        )
    for member in members:
        if member.file_size > BOMB_MEMBER_BYTES and member.file_size > BOMB_RATIO * max(
            1, member.compress_size
        ):
            raise DocumentError(
                f"{kind} member {member.filename} unpacks {member.file_size // 2**20} MB "
                f"from {max(1, member.compress_size // 1024)} KB (zip bomb?)"
            )
