"""Reading one landing file into typed rows, keeping every row that does not parse.

CSV is read as text first: each line's field count and quote balance are
checked with vectorised expressions, so that a ragged or broken line is
quarantined with its line number and raw text instead of failing the file or
being silently padded (docs/decisions.md §4 on Polars' CSV options). Values
are then cast to the contract types with `strict=False`, and a value that was
present but did not cast becomes a `parse.type` rejection.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from kam_pipeline.errors import ExtractError
from kam_pipeline.ingest.contract import Extract
from kam_pipeline.ingest.contract.extracts import SOURCE_FILE, SOURCE_ROW
from kam_pipeline.ingest.quarantine import PARSE_RAGGED, PARSE_TYPE, conform, empty_rejections, quarantine_rows

BOM = "\ufeff"
TRUE_TEXT = ("true", "1")
FALSE_TEXT = ("false", "0")


@dataclass(frozen=True)
class ParsedFile:
    """Typed rows (contract columns plus `_source_file`, `_source_row`), the
    rows that did not parse, and how many data rows the file had."""

    rows: pl.DataFrame
    rejected: pl.DataFrame
    rows_read: int


def parse_file(extract: Extract, path: Path, source_name: str) -> ParsedFile:
    """Parse one file of `extract`; `source_name` is how quarantine names it."""
    if path.suffix.lower() == ".parquet":
        return _parse_parquet(extract, path, source_name)
    return _parse_csv(extract, path, source_name)


def _check_columns(extract: Extract, present: list[str], source_name: str) -> None:
    missing = [c for c in extract.column_names if c not in present]
    if not missing:
        return
    hint = ""
    if len(present) == 1 and any(sep in present[0] for sep in (";", "\t", "|")):
        hint = f"; the header looks separated by {next(s for s in (';', chr(9), '|') if s in present[0])!r}, not ','"
    raise ExtractError(
        source_name,
        f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}{hint}",
        f"a header with {', '.join(extract.column_names)}",
    )


def _read_header(path: Path, source_name: str) -> list[str]:
    with path.open("rb") as handle:
        first = handle.readline()
    if not first.strip():
        raise ExtractError(source_name, "file is empty (no header row)", "a header row followed by data rows")
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExtractError(source_name, f"not UTF-8 (byte {exc.start} of the header)", "UTF-8 text") from None
    return [name.strip().strip('"') for name in text.removeprefix(BOM).rstrip("\r\n").split(",")]


def _scan_lines(path: Path, source_name: str) -> pl.DataFrame:
    """All data lines with their 1-based row number (line number − 1)."""
    try:
        lines = pl.scan_lines(path, name="raw").with_row_index("_line").collect()
    except pl.exceptions.ComputeError as exc:
        if "utf8" in str(exc).lower():
            raise ExtractError(source_name, "not UTF-8 (invalid byte sequence)", "UTF-8 text") from None
        raise
    return lines.filter(pl.col("_line") > 0).select(
        pl.col("_line").cast(pl.Int64).alias(SOURCE_ROW),
        pl.col("raw").str.strip_suffix("\r"),
    )


def _field_count() -> pl.Expr:
    """Fields on a line: commas outside quoted sections, plus one."""
    return pl.col("raw").str.replace_all(r'"[^"]*"', "").str.count_matches(",") + 1


def _parse_csv(extract: Extract, path: Path, source_name: str) -> ParsedFile:
    header = _read_header(path, source_name)
    _check_columns(extract, header, source_name)
    lines = _scan_lines(path, source_name).filter(pl.col("raw") != "")
    broken = (_field_count() != len(header)) | (pl.col("raw").str.count_matches('"') % 2 == 1)
    lines = lines.with_columns(_broken=broken)
    ragged = lines.filter(pl.col("_broken"))
    good_rows = lines.filter(~pl.col("_broken")).get_column(SOURCE_ROW)

    text = _read_csv_text(path, header, lines, has_broken=len(ragged) > 0)
    text = text.with_columns(pl.Series(SOURCE_ROW, good_rows))
    rejected = [
        conform(
            ragged.select(
                pl.lit(extract.name).alias("extract"),
                pl.lit(source_name).alias("source_file"),
                SOURCE_ROW,
                pl.lit(None, pl.String).alias("record_key"),
                pl.lit(PARSE_RAGGED).alias("rule"),
                pl.lit("types").alias("rule_group"),
                pl.lit(None, pl.String).alias("column_name"),
                pl.lit(None, pl.String).alias("value"),
                pl.when(pl.col("raw").str.count_matches('"') % 2 == 1)
                .then(pl.lit("row has an unclosed quote (fields must not contain line breaks)"))
                .otherwise(pl.format("row has {} fields; the header has {}", _field_count(), pl.lit(len(header))))
                .alias("message"),
                pl.col("raw").alias("raw_record"),
            ).rename({SOURCE_ROW: "source_row"})
        )
    ]
    good_lines = lines.filter(~pl.col("_broken")).select(SOURCE_ROW, "raw")

    def raw_for(bad: pl.DataFrame) -> pl.DataFrame:
        return good_lines.join(bad.select(SOURCE_ROW), on=SOURCE_ROW, how="semi")

    return _cast(extract, text, raw_for, source_name, rows_read=len(lines), extra_rejected=rejected)


def _read_csv_text(path: Path, header: list[str], lines: pl.DataFrame, *, has_broken: bool) -> pl.DataFrame:
    """All fields as text. A file with broken lines is re-read from its good
    lines only, so that one bad line never stops the others."""
    schema = dict.fromkeys(header, pl.String())
    if not has_broken:
        return pl.read_csv(path, schema=schema, has_header=True, encoding="utf8")
    good = lines.filter(~pl.col("_broken")).select(pl.col("raw").alias(",".join(header)))
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=True) as tmp:
        good.write_csv(tmp.name, quote_style="never")
        return pl.read_csv(tmp.name, schema=schema, has_header=True, encoding="utf8")


def _parse_parquet(extract: Extract, path: Path, source_name: str) -> ParsedFile:
    try:
        present = list(pl.read_parquet_schema(path))
    except Exception as exc:  # polars raises several types for a corrupt file
        raise ExtractError(
            source_name, f"unreadable Parquet file ({type(exc).__name__})", "a valid Parquet file"
        ) from None
    _check_columns(extract, present, source_name)
    frame = pl.read_parquet(path, columns=extract.column_names, row_index_name=SOURCE_ROW, row_index_offset=1)
    frame = frame.with_columns(pl.col(SOURCE_ROW).cast(pl.Int64))

    def raw_for(bad: pl.DataFrame) -> pl.DataFrame:
        """The original Parquet rows as JSON, for the rejected rows only."""
        return bad.select(SOURCE_ROW, pl.struct(extract.column_names).struct.json_encode().alias("raw"))

    return _cast(extract, frame, raw_for, source_name, rows_read=len(frame), extra_rejected=[])


def _typed(dtype: pl.DataType, column: str, source: pl.DataType) -> pl.Expr:
    """Cast a column to its contract type; unparseable values become null.
    Text follows the CSV conventions (ISO dates, true/false); a Parquet column
    that already has the contract type is taken as it is."""
    value = pl.col(column)
    if source == dtype:
        return value
    if source == pl.String and dtype == pl.Date:
        return value.str.to_date("%Y-%m-%d", strict=False)
    if source == pl.String and dtype == pl.Boolean:
        lowered = value.str.to_lowercase()
        return pl.when(lowered.is_in(TRUE_TEXT)).then(True).when(lowered.is_in(FALSE_TEXT)).then(False)
    return value.cast(dtype, strict=False)


def _cast(
    extract: Extract,
    source: pl.DataFrame,
    raw_for: Callable[[pl.DataFrame], pl.DataFrame],
    source_name: str,
    *,
    rows_read: int,
    extra_rejected: list[pl.DataFrame],
) -> ParsedFile:
    """Contract types for every column; a value present in `source` that does
    not survive the cast rejects its row (rule parse.type, one per column)."""
    typed = source.with_columns(
        [_typed(c.dtype, c.name, source.schema[c.name]).cast(c.dtype).alias(c.name) for c in extract.columns],
    )
    rejected = list(extra_rejected)
    any_failed = pl.repeat(False, len(source), eager=True)
    for column in extract.columns:
        if source.schema[column.name] == column.dtype:
            continue
        mask = source.get_column(column.name).is_not_null() & typed.get_column(column.name).is_null()
        if not mask.any():
            continue
        any_failed = any_failed | mask
        bad = source.filter(mask)
        bad = bad.join(raw_for(bad), on=SOURCE_ROW, how="left")
        rejected.append(
            quarantine_rows(
                bad,
                extract,
                rule=PARSE_TYPE,
                group="types",
                column=column.name,
                message=pl.format(
                    "'{}' is not a valid {}", pl.col(column.name).cast(pl.String), pl.lit(_type_word(column.dtype))
                ),
                source_file=pl.lit(source_name),
                raw=pl.col("raw"),
            )
        )
    rows = typed.filter(~any_failed).select(pl.lit(source_name).alias(SOURCE_FILE), SOURCE_ROW, *extract.column_names)
    all_rejected = pl.concat(rejected) if rejected else empty_rejections()
    return ParsedFile(rows=rows, rejected=all_rejected, rows_read=rows_read)


def _type_word(dtype: pl.DataType) -> str:
    if dtype == pl.Date:
        return "date (YYYY-MM-DD)"
    if dtype == pl.Boolean:
        return "boolean (true/false)"
    if dtype == pl.Int64:
        return "whole number"
    return "number (with '.' as decimal mark)"


def attach_raw(rejected: pl.DataFrame, paths: dict[str, Path]) -> pl.DataFrame:
    """Fill `raw_record` of rule rejections with the original row: the CSV
    line as it was written, or the Parquet row as JSON. Only files with
    rejections are re-read, and only their rejected rows are kept."""
    missing = rejected.filter(pl.col("raw_record").is_null())
    if missing.is_empty():
        return rejected
    found = []
    for source_name, rows in missing.group_by("source_file"):
        path = paths[str(source_name[0])]
        wanted = rows.get_column("source_row").unique().implode()
        if path.suffix.lower() == ".parquet":
            table = pl.scan_parquet(path).with_row_index(SOURCE_ROW, offset=1)
            raw = table.filter(pl.col(SOURCE_ROW).is_in(wanted)).select(
                pl.col(SOURCE_ROW).cast(pl.Int64),
                pl.struct(pl.all().exclude(SOURCE_ROW)).struct.json_encode().alias("raw"),
            )
        else:
            raw = (
                pl.scan_lines(path, name="raw")
                .with_row_index(SOURCE_ROW)
                .filter(pl.col(SOURCE_ROW).is_in(wanted))
                .select(pl.col(SOURCE_ROW).cast(pl.Int64), pl.col("raw").str.strip_suffix("\r"))
            )
        found.append(raw.collect().with_columns(source_file=pl.lit(source_name[0])))
    lookup = pl.concat(found).rename({SOURCE_ROW: "source_row"})
    filled = rejected.join(lookup, on=["source_file", "source_row"], how="left", maintain_order="left")
    return filled.with_columns(raw_record=pl.coalesce("raw_record", "raw")).drop("raw")
