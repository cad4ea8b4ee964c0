"""One consistent view of a landing file, or a clear error.

A file is identified by its size and modification time when the run first
looks at it (the parse cache's key). It is read once into memory; when its
size or time differ before or after the read, or at the end of staging, an
exporter was still writing it and the run stops with "file changed while
reading" instead of publishing part of it (docs/validation.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kam_pipeline.errors import ExtractError

#: Magic numbers of files that are not text although they may be named `.csv`.
_NOT_TEXT = {
    b"\x1f\x8b": "gzip-compressed",
    b"PK\x03\x04": "a ZIP archive (or an Excel workbook)",
    b"PAR1": "a Parquet file",
    b"BZh": "bzip2-compressed",
    b"\xfd7zXZ\x00": "xz-compressed",
    b"(\xb5/\xfd": "zstd-compressed",
}
ENCODING_NAMES = {"utf-8": "UTF-8", "cp1252": "Windows-1252", "latin-1": "Latin-1"}
WRITE_COMPLETELY = "a file written completely before the run starts (write elsewhere, then move it in)"


@dataclass(frozen=True)
class FileState:
    """What identifies one version of a file."""

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileState:
        stat = path.stat()
        return cls(stat.st_size, stat.st_mtime_ns)


def check_unchanged(path: Path, source_name: str, expected: FileState) -> None:
    """Raise when the file is no longer the version the run started with."""
    try:
        now = FileState.of(path)
    except FileNotFoundError:
        raise ExtractError(source_name, "file disappeared during the run", WRITE_COMPLETELY) from None
    if now != expected:
        raise ExtractError(
            source_name,
            f"file changed while reading (size {expected.size} -> {now.size} bytes); it was still being written",
            WRITE_COMPLETELY,
        )


def read_bytes(path: Path, source_name: str, expected: FileState) -> bytes:
    """The whole file as one snapshot of the version `expected` describes."""
    check_unchanged(path, source_name, expected)
    with path.open("rb") as handle:
        data = handle.read()
    check_unchanged(path, source_name, expected)
    if len(data) != expected.size:
        raise ExtractError(source_name, "file changed while reading", WRITE_COMPLETELY)
    return data


def not_text(data: bytes) -> str | None:
    """What a binary file is, when its first bytes say so."""
    return next((kind for magic, kind in _NOT_TEXT.items() if data.startswith(magic)), None)


def decode(data: bytes, encoding: str, source_name: str) -> bytes:
    """The file as UTF-8 without a byte-order mark. An undecodable byte stops
    the file with its row number: a wrong encoding setting would otherwise
    reject every row with an accent one by one."""
    kind = not_text(data)
    if kind:
        raise ExtractError(source_name, f"file is {kind}, not CSV text", "an uncompressed CSV text file")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        shown = ENCODING_NAMES.get(encoding, encoding)
        line = data.count(b"\n", 0, exc.start) + 1
        where = "the header" if line == 1 else f"row {line - 1} (line {line})"
        raise ExtractError(
            source_name,
            f"not {shown} text: byte 0x{data[exc.start]:02x} in {where}",
            f"{shown} text, or the file's encoding in the settings' [csv] section",
        ) from None
    text = text.removeprefix("\ufeff")
    return text.encode("utf-8") if encoding != "utf-8" or data.startswith(b"\xef\xbb\xbf") else data
