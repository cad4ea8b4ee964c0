"""Rule outcomes kept per landing file, so a night validates the files that changed.

A real ERP extract changes a little every night: the current month's file
grows, the others stay as they were. Whatever a rule finds in a file depends
only on the file's rows and on the rule context (the accepted keys of the
extracts it refers to, the reporting currency, the as-of date as far as the
rule sees it), the validation settings and the code. So the quarantine rows
of the rules checked file by file are stored per file under a digest of all
of that (`outcome_key`), with the raw records attached, and a later run
reuses them for every file whose parse and context did not change.

Unique keys need every file at once; they are kept up to date by
`key_copies` from the files that changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from kam_pipeline.ingest.contract import Extract
from kam_pipeline.ingest.contract.rules import RuleContext
from kam_pipeline.ingest.parse_cache import CachedParse, scan_rows
from kam_pipeline.ingest.parsing import LandingFile, attach_raw
from kam_pipeline.ingest.quarantine import empty_rejections
from kam_pipeline.ingest.validation import references_across_files, validate_rows
from kam_pipeline.ingest.validation_store import as_of_seen

FOLDER = "rules"


def outcome_key(context_digest: str, parse: CachedParse, seen: Mapping[str, str]) -> str:
    """What the file's rule outcome depends on: its parse (the parse-cache key),
    the run's rule context, settings and code (`context_digest`), and the
    as-of date as the file's rows see it."""
    text = json.dumps([parse.rows_path.stem, context_digest, dict(seen)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def file_rule_rows(extract: Extract, rows: pl.DataFrame, ctx: RuleContext) -> pl.DataFrame:
    """Quarantine rows of the rules checked file by file, over one file's
    parsed rows (given to `parse_cached` as its `check`, so that a file parsed
    by the run is not read again for them)."""
    return validate_rows(extract, rows, ctx, keys_checked_elsewhere=True).rejected


def validate_files(
    extract: Extract,
    parses: Sequence[CachedParse],
    files: Mapping[str, LandingFile],
    ctx: RuleContext,
    context_digest: str,
    cache_dir: Path,
) -> tuple[pl.DataFrame, list[str]]:
    """Quarantine rows (raw records attached) of the rules checked file by
    file (`validate_rows` without unique keys, and the references to other
    extracts) for every file of `parses`: stored ones where the file's
    outcome key matches, computed and stored for the others. Returns the rows
    and the names of the files validated by this call."""
    folder = cache_dir / FOLDER
    keys = {
        p.source_name: outcome_key(context_digest, p, as_of_seen(extract, [p.rows_path], ctx.as_of)) for p in parses
    }
    stored = {name: folder / f"{key}.parquet" for name, key in keys.items()}
    todo = [p for p in parses if not stored[p.source_name].exists()]
    done = [stored[p.source_name] for p in parses if stored[p.source_name].exists()]
    found = [empty_rejections(), *(pl.read_parquet(path) for path in done)]
    if todo:
        folder.mkdir(parents=True, exist_ok=True)
        across = references_across_files(extract, [p.rows_path for p in todo], ctx)
        for parse in todo:
            local = parse.checked
            if local is None:
                local = file_rule_rows(extract, scan_rows(extract, [parse.rows_path]).collect(), ctx)
            mine = pl.concat([local, across.filter(pl.col("source_file") == parse.source_name)])
            mine = attach_raw(mine, files)
            partial = folder / f"{keys[parse.source_name]}.partial"
            mine.write_parquet(partial)
            partial.replace(stored[parse.source_name])
            found.append(mine)
    wanted = {path.name for path in stored.values()}
    for old in folder.glob("*"):
        if old.name not in wanted:
            old.unlink(missing_ok=True)
    return pl.concat(found), [p.source_name for p in todo]
