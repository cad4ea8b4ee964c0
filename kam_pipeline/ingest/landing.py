"""Finding an extract's files in the landing directory."""

from __future__ import annotations

from pathlib import Path

from kam_pipeline.errors import ExtractError
from kam_pipeline.ingest.contract import Extract

SUPPORTED_SUFFIXES = (".csv", ".parquet")


def extract_files(extract: Extract, landing_dir: Path) -> list[Path]:
    """The extract's files, sorted by name so that row order is reproducible.

    Hidden files and markers (`_SUCCESS`, `_defects.json`) are ignored; any
    other file with an unsupported suffix is an error rather than silently
    skipped, because a `.xlsx` dropped by mistake would otherwise vanish. An
    optional extract without a file has no files (and no rows).
    """
    if not landing_dir.is_dir():
        raise ExtractError(str(landing_dir), "landing directory not found", "a folder with erp/ and crm/ extracts")
    candidates = sorted(
        p for p in landing_dir.glob(extract.pattern) if p.is_file() and not p.name.startswith((".", "_"))
    )
    for path in candidates:
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            raise ExtractError(str(path), f"unsupported file type {path.suffix!r}", "CSV (.csv) or Parquet (.parquet)")
    if not candidates and extract.optional:
        return []
    if not candidates:
        raise ExtractError(
            str(landing_dir / extract.pattern),
            f"no file for the {extract.name} extract",
            "at least one .csv or .parquet file",
        )
    if len(candidates) > 1 and not extract.many_files:
        names = ", ".join(p.name for p in candidates)
        raise ExtractError(str(landing_dir / extract.pattern), f"several files ({names})", "exactly one file")
    return candidates
