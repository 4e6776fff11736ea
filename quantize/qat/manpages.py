"""Debian's installed manual pages as a corpus source: real technical text (options, paths, defaults,
versions, config-file formats), rendered to plain text with ``man``.

Each page is attributed to the Debian package that installed it (from dpkg's file lists), with the
package's version and the licence named in its ``/usr/share/doc/<package>/copyright``. Pages of the
packages reserved for independent evaluation, and of any package the caller excludes, are skipped.
Sections 1, 5 and 8 (commands, file formats, administration); every ``stride``-th page per section.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from quantize.qat.sources import Document

RESERVED_PACKAGES = frozenset({"debian-policy", "debian-handbook", "libtasn1-doc", "shared-mime-info"})
MAN_ROOT = Path("/usr/share/man")
DPKG_INFO = Path("/var/lib/dpkg/info")
_LICENSE = re.compile(r"^License:\s*(\S.*)$", re.MULTILINE)


def package_of_files() -> dict[str, str]:
    """Installed file path -> the Debian package that owns it (from dpkg's *.list files)."""
    owners: dict[str, str] = {}
    for listing in sorted(DPKG_INFO.glob("*.list")):
        package = listing.stem.split(":")[0]
        for line in listing.read_text(encoding="utf-8", errors="replace").splitlines():
            owners.setdefault(line, package)
    return owners


def package_versions() -> dict[str, str]:
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package}\t${Version}\n"], capture_output=True, text=True, check=True
    ).stdout
    return dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)


def package_licence(package: str) -> str:
    try:
        text = (Path("/usr/share/doc") / package / "copyright").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "unknown (no copyright file)"
    names = sorted({m.strip() for m in _LICENSE.findall(text)})
    return ", ".join(names[:4]) if names else f"see /usr/share/doc/{package}/copyright"


def render(path: Path) -> str:
    env = dict(os.environ, MANWIDTH="100", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="0")
    result = subprocess.run(
        ["man", "--no-hyphenation", "--no-justification", "-l", str(path)],
        capture_output=True,
        env=env,
        timeout=30,
    )
    text = result.stdout.decode("utf-8", errors="replace")
    text = re.sub(r".\x08", "", text)  # overstrike bold/underline
    return "\n".join(line.rstrip() for line in text.splitlines()).strip() + "\n"


@dataclass(frozen=True)
class ManPages:
    """Every ``stride``-th installed manual page of sections 1, 5 and 8, not of excluded packages."""

    stride: int = 4
    exclude: frozenset[str] = field(default=frozenset())
    root: Path = MAN_ROOT
    id: str = "debian-man"

    @cached_property
    def _owners(self) -> dict[str, str]:
        return package_of_files()

    def pages(self) -> list[tuple[Path, str]]:
        excluded = RESERVED_PACKAGES | self.exclude
        chosen = []
        for section in ("man1", "man5", "man8"):
            files = sorted(p for p in (self.root / section).glob("*") if p.is_file() and not p.is_symlink())
            for path in files[:: self.stride]:
                package = self._owners.get(str(path))
                if package and package not in excluded:
                    chosen.append((path, package))
        return chosen

    def documents(self) -> Iterator[Document]:
        for path, package in self.pages():
            text = render(path)
            if len(text) > 400:
                yield Document(f"{self.id}/{package}/{path.name}", text, general=False)

    def describe(self) -> dict:
        versions = package_versions()
        packages = sorted({package for _, package in self.pages()})
        return {
            "id": self.id,
            "name": "Debian manual pages (sections 1, 5, 8) of installed packages",
            "path": str(self.root),
            "stride": self.stride,
            "excluded_packages": sorted(RESERVED_PACKAGES | self.exclude),
            "packages": [
                {"package": p, "version": versions.get(p, "?"), "licence": package_licence(p)}
                for p in packages
            ],
            "licence": "each page under its package's licence (listed per package)",
        }
