"""Contract types for parsed values, and the reason a value does not get one.

Every value that is present but cannot be represented exactly in its contract
type rejects its row (`parse.type`): text that is not a number or date in the
file's dialect, a number with more decimals than the contract keeps, NaN or
infinity, a Parquet float outside the money range or not a whole number
where one is expected. Text columns reject control characters
(`parse.text`). Codes and ids are trimmed of surrounding spaces first
(`Column.free_text` marks the columns kept as written), so `" C1000013 "`
is the customer `C1000013`, and a padded copy of a key is a duplicate.

These checks run on every value of every night, so each costly one (trimming,
the control-character search, counting decimals) is done only for the
columns of a file where a cheap pass over the column found a candidate
(`attention`): a clean 2 M-line file pays for the cheap passes only.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kam_pipeline.ingest.contract.extracts import Column
from kam_pipeline.ingest.dialect import CsvDialect

TRUE_TEXT = ("true", "1")
FALSE_TEXT = ("false", "0")
#: C0 control characters and DEL: never part of a name or a code (`parse.text`), as
#: code points, as strings for substring search, and as a regular expression.
CONTROL_CODES = (*range(32), 127)
_CONTROLS = [chr(code) for code in CONTROL_CODES]
CONTROL_CHARACTERS = "[" + "".join(f"\\x{code:02x}" for code in CONTROL_CODES) + "]"
#: The largest whole number a Float64 holds exactly.
EXACT_FLOAT_INT = 2.0**53


@dataclass(frozen=True)
class Attention:
    """Columns of one file whose values need the costly checks."""

    padded: frozenset[str] = frozenset()  # codes with a leading or trailing space: trim them
    controls: frozenset[str] = frozenset()  # text that may hold control characters
    long_decimals: frozenset[str] = frozenset()  # numbers written with more decimals than the column keeps


def attention(
    source: pl.DataFrame, columns: tuple[Column, ...], dialect: CsvDialect, *, controls_possible: bool = True
) -> Attention:
    """Cheap passes over the columns (substring, prefix and length tests, no
    regular expressions) deciding where the costly checks are needed.
    `controls_possible=False` when the caller already knows the file has no
    control character (a CSV file's bytes were searched)."""
    suspects = [c for c in columns if source.schema[c.name] == pl.String]
    # First pass, one Aho-Corasick search per text column: a space (codes only) or a control character.
    first = {
        c.name: pl.col(c.name).str.contains_any(_CONTROLS if c.free_text else [*_CONTROLS, " "]).any()
        for c in suspects
        if controls_possible or not c.free_text
    }
    suspect = {name for name, hit in (source.select(**first).row(0, named=True) if first else {}).items() if hit}
    checks: dict[str, pl.Expr] = {}
    for column in columns:
        value = pl.col(column.name)
        if column.name in suspect and not column.free_text:
            checks[f"padded:{column.name}"] = (value.str.starts_with(" ") | value.str.ends_with(" ")).any()
        if column.name in suspect and column.dtype == pl.String and controls_possible:
            checks[f"controls:{column.name}"] = value.str.contains_any(_CONTROLS).any()
        if source.schema[column.name] == pl.String and isinstance(column.dtype, pl.Decimal):
            number = dialect.number_text(value)
            decimals = number.str.len_bytes() - number.str.find(".", literal=True).cast(pl.UInt32) - 1
            checks[f"long_decimals:{column.name}"] = (decimals > (column.dtype.scale or 0)).any()
    found = source.select(**checks).row(0, named=True) if checks else {}

    def hits(kind: str) -> frozenset[str]:
        return frozenset(key.split(":", 1)[1] for key, hit in found.items() if hit and key.startswith(kind + ":"))

    return Attention(padded=hits("padded"), controls=hits("controls"), long_decimals=hits("long_decimals"))


def _decimal_limit(dtype: pl.Decimal) -> float:
    return 10.0 ** ((dtype.precision or 38) - (dtype.scale or 0))


def typed(column: Column, source: pl.DataType, dialect: CsvDialect, needs: Attention) -> pl.Expr:
    """The column in its contract type; a value that cannot be represented
    exactly becomes null (and `problem` says why)."""
    value = pl.col(column.name)
    dtype = column.dtype
    if source == pl.String:
        if column.name in needs.padded:
            stripped = value.str.strip_chars(" ")
            value = pl.when(stripped != "").then(stripped)  # a blank code is a missing code
        if dtype == pl.String:
            return value
        if dtype == pl.Date:
            return value.str.to_date(dialect.date_format, strict=False)
        if dtype == pl.Boolean:
            lowered = value.str.to_lowercase()
            return pl.when(lowered.is_in(TRUE_TEXT)).then(True).when(lowered.is_in(FALSE_TEXT)).then(False)
        number = dialect.number_text(value)
        if column.name in needs.long_decimals and isinstance(dtype, pl.Decimal):
            number = pl.when(~_too_many_decimals(number, dtype)).then(number)
        return _finite(number.cast(dtype, strict=False), dtype)
    if source == dtype and not dtype.is_float():
        return value
    if source.is_float() and isinstance(dtype, pl.Decimal):
        return pl.when(value.is_finite() & (value.abs() < _decimal_limit(dtype))).then(value).cast(dtype)
    if source.is_float() and dtype.is_integer():
        whole = value.is_finite() & (value == value.round(0)) & (value.abs() <= EXACT_FLOAT_INT)
        return pl.when(whole).then(value).cast(dtype)
    return _finite(value.cast(dtype, strict=False), dtype)


def _finite(value: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    return pl.when(value.is_finite()).then(value) if dtype.is_float() else value


def _too_many_decimals(number: pl.Expr, dtype: pl.Decimal) -> pl.Expr:
    """More digits after the decimal mark than the contract keeps (trailing
    zeros aside): casting would round them away silently."""
    return number.str.contains(rf"\.\d{{{dtype.scale or 0}}}\d*[1-9]").fill_null(False)


def failed(column: Column, source: pl.DataType, typed_value: pl.Expr, needs: Attention) -> pl.Expr | None:
    """True where the row's value must be rejected: a value present in the
    source that `typed` turned into null (`parse.type`), or text with a
    control character (`parse.text`); None when no row can fail."""
    value = pl.col(column.name)
    if column.dtype == pl.String:
        return value.str.contains_any(_CONTROLS).fill_null(False) if column.name in needs.controls else None
    if source == column.dtype and not source.is_float():
        return None  # a Parquet column already in its contract type
    return value.is_not_null() & typed_value.is_null()


def problem(column: Column, source: pl.DataType, dialect: CsvDialect) -> pl.Expr:
    """Why a row that `failed` is rejected, in the words of someone fixing
    the export. Evaluated on the failed rows only."""
    value = pl.col(column.name)
    if column.dtype == pl.String:
        return pl.format("'{}' contains a control character", value.str.replace_all(CONTROL_CHARACTERS, "\u2400"))
    shown = value.cast(pl.String)
    not_valid = pl.format("'{}' is not a valid {}", shown, pl.lit(type_word(column.dtype, dialect)))
    if source == pl.String and isinstance(column.dtype, pl.Decimal):
        number = dialect.number_text(value.str.strip_chars(" "))
        too_many = pl.format("'{}' has more than {} decimals", shown, pl.lit(column.dtype.scale))
        return pl.when(_too_many_decimals(number, column.dtype)).then(too_many).otherwise(not_valid)
    return not_valid


def type_word(dtype: pl.DataType, dialect: CsvDialect) -> str:
    """The contract type in the words of someone fixing the export."""
    if dtype == pl.Date:
        return f"date ({dialect.describe_date()})"
    if dtype == pl.Boolean:
        return "boolean (true/false)"
    if dtype.is_integer():
        return "whole number"
    if isinstance(dtype, pl.Decimal):
        return f"number ({dialect.describe_number()}, below {_decimal_limit(dtype):.0e})"
    return f"finite number ({dialect.describe_number()})"
