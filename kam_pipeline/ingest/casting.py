"""Contract types for parsed values, and the reason a value does not get one.

Every value that is present but cannot be represented exactly in its contract
type rejects its row (`parse.type`): text that is not a number or date in the
file's dialect, a number with more decimals than the contract keeps, NaN or
infinity, a Parquet float outside the money range or not a whole number
where one is expected. Text columns reject control characters
(`parse.text`). Codes and ids are trimmed of surrounding spaces first
(`Column.free_text` marks the columns kept as written), so `" C1000013 "`
is the customer `C1000013`, and a padded copy of a key is a duplicate.
"""

from __future__ import annotations

import polars as pl

from kam_pipeline.ingest.contract.extracts import Column
from kam_pipeline.ingest.dialect import CsvDialect

TRUE_TEXT = ("true", "1")
FALSE_TEXT = ("false", "0")
#: C0 control characters and DEL: never part of a name or a code.
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f]"
#: The largest whole number a Float64 holds exactly.
EXACT_FLOAT_INT = 2.0**53


def _decimal_limit(dtype: pl.Decimal) -> float:
    return 10.0 ** ((dtype.precision or 38) - (dtype.scale or 0))


def typed(column: Column, source: pl.DataType, dialect: CsvDialect) -> pl.Expr:
    """The column in its contract type; a value that cannot be represented
    exactly becomes null (and `problem` says why)."""
    value = pl.col(column.name)
    dtype = column.dtype
    if source == pl.String:
        if not column.free_text:
            stripped = value.str.strip_chars()
            value = pl.when(stripped != "").then(stripped)  # a blank code is a missing code
        if dtype == pl.String:
            return value
        if dtype == pl.Date:
            return value.str.to_date(dialect.date_format, strict=False)
        if dtype == pl.Boolean:
            lowered = value.str.to_lowercase()
            return pl.when(lowered.is_in(TRUE_TEXT)).then(True).when(lowered.is_in(FALSE_TEXT)).then(False)
        number = dialect.number_text(value)
        if isinstance(dtype, pl.Decimal):
            number = pl.when(~_too_many_decimals(number, dtype)).then(number)
        return _finite(number.cast(dtype, strict=False), dtype)
    if source.is_float() and isinstance(dtype, pl.Decimal):
        return pl.when(value.is_finite() & (value.abs() < _decimal_limit(dtype))).then(value).cast(dtype)
    if source.is_float() and dtype.is_integer():
        whole = value.is_finite() & (value == value.round(0)) & (value.abs() <= EXACT_FLOAT_INT)
        return pl.when(whole).then(value).cast(dtype)
    return _finite(value.cast(dtype, strict=False), dtype)


def _finite(value: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    return pl.when(value.is_finite()).then(value) if dtype.is_float() else value


def _too_many_decimals(number: pl.Expr, dtype: pl.Decimal) -> pl.Expr:
    """More digits after the decimal mark than the contract keeps (ignoring
    trailing zeros): casting would round them away silently."""
    decimals = number.str.extract(r"\.(\d*?)0*(?:[eE].*)?$", 1).str.len_chars()
    return (decimals > (dtype.scale or 0)).fill_null(False)


def problem(column: Column, source: pl.DataType, dialect: CsvDialect, typed_value: pl.Expr) -> pl.Expr:
    """Why the row's value in `column` is rejected (`parse.type`), or null:
    a value present in the source that `typed` turned into null."""
    value = pl.col(column.name)
    shown = value.cast(pl.String)
    failed = value.is_not_null() & typed_value.is_null()
    if source == pl.String and isinstance(column.dtype, pl.Decimal):
        number = dialect.number_text(value.str.strip_chars())
        return (
            pl.when(failed & _too_many_decimals(number, column.dtype))
            .then(pl.format("'{}' has more than {} decimals", shown, pl.lit(column.dtype.scale)))
            .when(failed)
            .then(pl.format("'{}' is not a valid {}", shown, pl.lit(type_word(column.dtype, dialect))))
        )
    return pl.when(failed).then(pl.format("'{}' is not a valid {}", shown, pl.lit(type_word(column.dtype, dialect))))


def text_problem(column: Column) -> pl.Expr:
    """Why a text value is rejected (`parse.text`), or null."""
    value = pl.col(column.name)
    return pl.when(value.str.contains(CONTROL_CHARACTERS)).then(
        pl.format("'{}' contains a control character", value.str.replace_all(CONTROL_CHARACTERS, "\u2400"))
    )


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
