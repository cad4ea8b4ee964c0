"""Reading one landing file into typed rows, keeping every row that does not parse.

CSV is read as text first: each line's field count and quote balance are
checked with vectorised expressions, so that a ragged or broken line is
quarantined with its line number and raw text instead of failing the file or
being silently padded (docs/decisions.md §4 on Polars' CSV options). Values
are then cast to the contract types with `strict=False`, and a value that was
present but did not cast becomes a `parse.type` rejection.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from kam_pipeline.errors import ExtractError
from kam_pipeline.ingest import casting
from kam_pipeline.ingest.contract import Extract
from kam_pipeline.ingest.contract.extracts import SOURCE_FILE, SOURCE_ROW
from kam_pipeline.ingest.dialect import CsvDialect
from kam_pipeline.ingest.quarantine import (
    PARSE_RAGGED,
    PARSE_TEXT,
    PARSE_TYPE,
    conform,
    empty_rejections,
    quarantine_rows,
)
from kam_pipeline.ingest.snapshot import FileState, check_unchanged, decode, read_bytes

#: Every byte but the C0 controls and DEL: deleting them leaves a file's control bytes.
_NOT_CONTROL = bytes(b for b in range(256) if b not in casting.CONTROL_CODES)


@dataclass(frozen=True)
class LandingFile:
    """One landing file as the run sees it: where it is, how quarantine names
    it, the version the run started with and how its CSV is written."""

    path: Path
    name: str
    state: FileState
    dialect: CsvDialect

    @classmethod
    def at(cls, path: Path, name: str, dialect: CsvDialect | None = None) -> LandingFile:
        return cls(path, name, FileState.of(path), dialect or CsvDialect())

    @property
    def is_parquet(self) -> bool:
        return self.path.suffix.lower() == ".parquet"


@dataclass(frozen=True)
class ParsedFile:
    """Typed rows (contract columns plus `_source_file`, `_source_row`), the
    rows that did not parse, and how many data rows the file had."""

    rows: pl.DataFrame
    rejected: pl.DataFrame
    rows_read: int
    unchanged: bool = False  # every row parsed, to exactly the values and types the file holds


def parse_file(
    extract: Extract, path: Path, source_name: str, dialect: CsvDialect | None = None, state: FileState | None = None
) -> ParsedFile:
    """Parse one file of `extract`; `source_name` is how quarantine names it.

    Row problems are quarantined; anything else that goes wrong while reading
    (a library error on input nobody foresaw) is an ExtractError naming the
    file, so that no traceback becomes the user's message."""
    file = LandingFile(path, source_name, state or FileState.of(path), dialect or CsvDialect())
    try:
        return _parse_parquet(extract, file) if file.is_parquet else _parse_csv(extract, file)
    except ExtractError:
        raise
    except (Exception, pl.exceptions.PanicException) as exc:
        check_unchanged(path, source_name, file.state)  # a file being written explains any failure
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ExtractError(
            source_name, f"could not be read ({type(exc).__name__}: {first_line[:200]})", "a readable file"
        ) from exc


def _check_columns(extract: Extract, present: list[str], source_name: str, delimiter: str = ",") -> None:
    missing = [c for c in extract.column_names if c not in present]
    if not missing:
        return
    hint = ""
    others = [sep for sep in (",", ";", "\t", "|") if sep != delimiter]
    if len(present) == 1 and any(sep in present[0] for sep in others):
        found = next(sep for sep in others if sep in present[0])
        hint = f"; the header looks separated by {found!r}, not {delimiter!r} (see the settings' [csv] section)"
    raise ExtractError(
        source_name,
        f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}{hint}",
        f"a header with {', '.join(extract.column_names)}",
    )


def _header(data: bytes, delimiter: str, source_name: str) -> list[str]:
    first = data.split(b"\n", 1)[0]
    if not first.strip():
        raise ExtractError(source_name, "file is empty (no header row)", "a header row followed by data rows")
    names = first.decode("utf-8").rstrip("\r").split(delimiter)
    return [name.strip().strip('"') for name in names]


def _lines(data: bytes) -> pl.DataFrame:
    """All data lines with their 1-based row number (line number − 1)."""
    lines = pl.scan_lines(io.BytesIO(data), name="raw").with_row_index("_line").collect()
    return lines.filter(pl.col("_line") > 0).select(
        pl.col("_line").cast(pl.Int64).alias(SOURCE_ROW),
        pl.col("raw").str.strip_suffix("\r"),
    )


def _field_count(delimiter: str) -> pl.Expr:
    """Fields on a line: delimiters outside quoted sections, plus one."""
    return pl.col("raw").str.replace_all(r'"[^"]*"', "").str.count_matches(delimiter, literal=True) + 1


def _parse_csv(extract: Extract, file: LandingFile) -> ParsedFile:
    dialect, source_name = file.dialect, file.name
    data = decode(read_bytes(file.path, source_name, file.state), dialect.encoding, source_name)
    header = _header(data, dialect.delimiter, source_name)
    _check_columns(extract, header, source_name, dialect.delimiter)
    all_lines = _lines(data)
    lines = all_lines.filter(pl.col("raw") != "")
    count = _field_count(dialect.delimiter)
    broken = (count != len(header)) | (pl.col("raw").str.count_matches('"') % 2 == 1)
    lines = lines.with_columns(_broken=broken)
    ragged = lines.filter(pl.col("_broken"))
    good_lines = lines.filter(~pl.col("_broken")).select(SOURCE_ROW, "raw")

    rebuild = len(ragged) > 0 or len(lines) < len(all_lines)  # a blank line is a row to Polars' CSV reader
    text = _read_csv_text(data, header, good_lines, dialect.delimiter, source_name, rebuild=rebuild)
    text = text.with_columns(good_lines.get_column(SOURCE_ROW))
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
                .otherwise(pl.format("row has {} fields; the header has {}", count, pl.lit(len(header))))
                .alias("message"),
                pl.col("raw").alias("raw_record"),
            ).rename({SOURCE_ROW: "source_row"})
        )
    ]

    def raw_for(bad: pl.DataFrame) -> pl.DataFrame:
        return good_lines.join(bad.select(SOURCE_ROW), on=SOURCE_ROW, how="semi")

    controls = data.translate(None, _NOT_CONTROL)
    controls_possible = bool(controls.replace(b"\n", b"").replace(b"\r", b""))
    return _cast(
        extract,
        text,
        raw_for,
        file,
        rows_read=len(lines),
        extra_rejected=rejected,
        controls_possible=controls_possible,
    )


def _read_csv_text(
    data: bytes, header: list[str], good_lines: pl.DataFrame, delimiter: str, source_name: str, *, rebuild: bool
) -> pl.DataFrame:
    """All fields as text, one row per good line. A file with broken or blank
    lines is re-read from its good lines only, so that one bad line never
    stops the others and rows stay aligned with their line numbers."""
    schema = dict.fromkeys(header, pl.String())
    if rebuild:
        buffer = io.BytesIO()
        buffer.write(delimiter.join(header).encode("utf-8") + b"\n")
        good_lines.select("raw").write_csv(buffer, include_header=False, quote_style="never")
        data = buffer.getvalue()
    frame = pl.read_csv(io.BytesIO(data), schema=schema, has_header=True, separator=delimiter, encoding="utf8")
    if len(frame) != len(good_lines):
        raise ExtractError(
            source_name,
            f"the CSV reader found {len(frame)} rows where the line scan found {len(good_lines)}",
            "one record per line",
        )
    return frame


def _parse_parquet(extract: Extract, file: LandingFile) -> ParsedFile:
    path, source_name = file.path, file.name
    check_unchanged(path, source_name, file.state)
    try:
        present = list(pl.read_parquet_schema(path))
    except Exception as exc:  # polars raises several types for a corrupt file
        raise ExtractError(
            source_name, f"unreadable Parquet file ({type(exc).__name__})", "a valid Parquet file"
        ) from None
    _check_columns(extract, present, source_name)
    frame = pl.read_parquet(path, columns=extract.column_names, row_index_name=SOURCE_ROW, row_index_offset=1)
    check_unchanged(path, source_name, file.state)
    frame = frame.with_columns(pl.col(SOURCE_ROW).cast(pl.Int64))

    def raw_for(bad: pl.DataFrame) -> pl.DataFrame:
        """The original Parquet rows as JSON, for the rejected rows only."""
        return bad.select(SOURCE_ROW, pl.struct(extract.column_names).struct.json_encode().alias("raw"))

    return _cast(extract, frame, raw_for, file, rows_read=len(frame), extra_rejected=[], compare=True)


def _cast(
    extract: Extract,
    source: pl.DataFrame,
    raw_for: Callable[[pl.DataFrame], pl.DataFrame],
    file: LandingFile,
    *,
    rows_read: int,
    extra_rejected: list[pl.DataFrame],
    controls_possible: bool = True,
    compare: bool = False,
) -> ParsedFile:
    """Contract types for every column; a value present in `source` that does
    not survive the cast rejects its row (rule parse.type, one per column),
    and so does text with control characters (parse.text). With `compare`,
    tells whether the typed rows are `source` itself (a file that can be read
    in place, parse_cache)."""
    needs = casting.attention(source, extract.columns, file.dialect, controls_possible=controls_possible)
    typed = source.with_columns(
        casting.typed(c, source.schema[c.name], file.dialect, needs).cast(c.dtype).alias(c.name)
        for c in extract.columns
    )
    checks = {
        c.name: casting.failed(c, source.schema[c.name], pl.col(f"_typed_{c.name}"), needs) for c in extract.columns
    }
    checks = {name: expr for name, expr in checks.items() if expr is not None}
    typed_checked = typed.select(pl.col(list(checks)).name.prefix("_typed_"))
    masks = pl.concat([source, typed_checked], how="horizontal").select(expr.alias(n) for n, expr in checks.items())
    rejected = list(extra_rejected)
    failing = [c for c in extract.columns if c.name in masks.columns and masks.get_column(c.name).any()]
    any_failed = masks.select(pl.any_horizontal(c.name for c in failing)).to_series() if failing else None
    for column in failing:
        mask = masks.get_column(column.name)
        # One chunk: Polars 2.1 panics formatting strings of a filtered multi-chunk frame.
        bad = source.filter(mask).rechunk()
        bad = bad.with_columns(_message=casting.problem(column, source.schema[column.name], file.dialect))
        bad = bad.join(raw_for(bad), on=SOURCE_ROW, how="left")
        rule = PARSE_TEXT if column.dtype == pl.String else PARSE_TYPE
        rejected.append(
            quarantine_rows(
                bad,
                extract,
                rule=rule,
                group="types",
                column=column.name,
                message=pl.col("_message"),
                source_file=pl.lit(file.name),
                raw=pl.col("raw"),
            )
        )
    kept = typed if any_failed is None else typed.filter(~any_failed)
    rows = kept.select(pl.lit(file.name).alias(SOURCE_FILE), SOURCE_ROW, *extract.column_names)
    all_rejected = pl.concat(rejected) if rejected else empty_rejections()
    unchanged = (
        compare and not rejected and typed.select(extract.column_names).equals(source.select(extract.column_names))
    )
    return ParsedFile(rows=rows, rejected=all_rejected, rows_read=rows_read, unchanged=unchanged)


def attach_raw(rejected: pl.DataFrame, files: dict[str, LandingFile]) -> pl.DataFrame:
    """Fill `raw_record` of rule rejections with the original row: the CSV
    line as it was written, or the Parquet row as JSON. Only files with
    rejections are read again (the same version, or an ExtractError), and
    only their rejected rows are kept."""
    missing = rejected.filter(pl.col("raw_record").is_null())
    if missing.is_empty():
        return rejected
    found = []
    for source_name, rows in missing.group_by("source_file"):
        file = files[str(source_name[0])]
        wanted = rows.get_column("source_row").unique().implode()
        if file.is_parquet:
            check_unchanged(file.path, file.name, file.state)
            table = pl.scan_parquet(file.path).with_row_index(SOURCE_ROW, offset=1)
            raw = table.filter(pl.col(SOURCE_ROW).is_in(wanted)).select(
                pl.col(SOURCE_ROW).cast(pl.Int64),
                pl.struct(pl.all().exclude(SOURCE_ROW)).struct.json_encode().alias("raw"),
            )
        else:
            data = decode(read_bytes(file.path, file.name, file.state), file.dialect.encoding, file.name)
            raw = _lines(data).lazy().filter(pl.col(SOURCE_ROW).is_in(wanted))
        found.append(raw.collect().with_columns(source_file=pl.lit(file.name)))
    lookup = pl.concat(found).rename({SOURCE_ROW: "source_row"})
    filled = rejected.join(lookup, on=["source_file", "source_row"], how="left", maintain_order="left")
    return filled.with_columns(raw_record=pl.coalesce("raw_record", "raw")).drop("raw")
