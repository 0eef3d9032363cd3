"""The data members of what a user gives ``codesets load``: a zip (several members) or a file.

CMS zips hold the data file plus an xlsx twin, documentation and other tables; the member is
chosen by content (:func:`reconcile.codesets.formats.detect.detect_kind`), never by position.
Members are read as byte streams so a large file is never held in memory.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from reconcile.codesets.formats.common import decode_line

__all__ = ["Member", "UnreadableInput", "head_lines", "iter_lines", "members", "sha256_of"]

HEAD_BYTES = 256 * 1024
_SKIP_SUFFIXES = (".xlsx", ".xls", ".pdf", ".docx", ".doc", ".zip", ".xml", ".json")
_BOM = b"\xef\xbb\xbf"


class UnreadableInput(Exception):
    """The input cannot be read at all (missing, not a file, a broken zip, an I/O error)."""


@dataclass(frozen=True)
class Member:
    """One readable data stream: a plain file or one member of a zip."""

    name: str  # display name: "file.txt" or "archive.zip!member.csv"
    member_name: str  # the member's own file name (for name-based quarter/setting hints)
    container: str  # the zip's name, or "" for a plain file
    size: int
    open: Callable[[], IO[bytes]]


def members(path: Path) -> list[Member]:
    """Every candidate data member of ``path`` (documents and spreadsheets of a zip left out)."""
    if not path.is_file():
        raise UnreadableInput(f"not a file: {path}")
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                infos = [i for i in zf.infolist() if not i.is_dir()]
            out: list[Member] = []
            for info in infos:
                base = Path(info.filename).name
                if base.startswith((".", "~$")) or base.lower().endswith(_SKIP_SUFFIXES):
                    continue
                out.append(
                    Member(
                        f"{path.name}!{info.filename}",
                        base,
                        path.name,
                        info.file_size,
                        _zip_opener(path, info.filename),
                    )
                )
            return out
        with path.open("rb") as f:
            if f.read(4) == b"PK\x03\x04":
                raise UnreadableInput(f"{path.name} is a damaged zip archive")
        return [Member(path.name, path.name, "", path.stat().st_size, lambda: path.open("rb"))]
    except (OSError, zipfile.BadZipFile) as exc:
        raise UnreadableInput(f"cannot read {path}: {exc}") from None


def _zip_opener(path: Path, name: str) -> Callable[[], IO[bytes]]:
    def opener() -> IO[bytes]:
        zf = zipfile.ZipFile(path)
        stream = zf.open(name)
        stream._dripline_zip = zf  # type: ignore[attr-defined]  # keep the archive open with its member
        return stream

    return opener


def sha256_of(member: Member) -> str:
    h = hashlib.sha256()
    with member.open() as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def head_lines(member: Member) -> tuple[list[str], bool]:
    """The first lines of a member (decoded) and whether it is UTF-8 with a BOM."""
    with member.open() as f:
        head = f.read(HEAD_BYTES)
    utf8 = head.startswith(_BOM)
    if utf8:
        head = head[len(_BOM) :]
    if b"\x00" in head[:4096]:
        return [], utf8  # binary (a spreadsheet without its suffix): no layout of ours
    return [decode_line(raw, utf8) for raw in head.split(b"\n")[:200]], utf8


def iter_lines(stream: IO[bytes], utf8: bool, counter: list[int]) -> Iterator[str]:
    """Decoded lines (line ends kept, split on LF); ``counter[0]`` accumulates bytes read."""
    first = True
    for raw in stream:
        counter[0] += len(raw)
        if first:
            first = False
            if raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
        yield decode_line(raw, utf8)
