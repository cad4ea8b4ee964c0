"""How a CSV extract is written: delimiter, number and date notation, encoding.

The contract's own notation (comma-separated, `.` decimal mark, ISO dates,
UTF-8) is the default. ERPs in France and Germany commonly export with `;`,
a decimal comma, `DD.MM.YYYY` dates and Windows-1252: the settings file's
`[csv.<system or extract>]` sections describe such exports instead of asking
for them to be rewritten (docs/extracts.md, "CSV dialects"). Line ends may be
LF or CRLF in every dialect. Parquet files carry their own types and ignore
the dialect.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

#: Encodings an export may use; Latin-1 and Windows-1252 differ only in 0x80-0x9F.
Encoding = Literal["utf-8", "cp1252", "latin-1"]
_PROBE = date(2031, 12, 24)  # day > 12 so that a format mixing up day and month fails the round trip


class CsvDialect(BaseModel):
    """One extract's CSV notation; every field defaults to the contract's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    delimiter: str = ","
    decimal_mark: Literal[".", ","] = "."
    thousands_separator: Literal["", ".", ",", " ", "'"] = ""
    date_format: str = "%Y-%m-%d"
    encoding: Encoding = "utf-8"

    @model_validator(mode="after")
    def _consistent(self) -> CsvDialect:
        if len(self.delimiter) != 1 or self.delimiter in ('"', "\r", "\n"):
            raise PydanticCustomError("dialect", "delimiter must be one character, not a quote or line end")
        if self.thousands_separator == self.decimal_mark:
            raise PydanticCustomError("dialect", "thousands_separator and decimal_mark must differ")
        try:
            parsed = datetime.strptime(_PROBE.strftime(self.date_format), self.date_format).date()
        except ValueError:
            parsed = None
        if parsed != _PROBE:
            raise PydanticCustomError("dialect", "date_format must write and read back year, month and day")
        return self

    @property
    def is_default(self) -> bool:
        return self == CsvDialect()

    def number_text(self, value: pl.Expr) -> pl.Expr:
        """A number written in this dialect, rewritten in the contract's
        notation (`1.234,5` -> `1234.5`) so that one cast serves every dialect."""
        if self.thousands_separator:
            value = value.str.replace_all(self.thousands_separator, "", literal=True)
        if self.decimal_mark != ".":
            value = value.str.replace_all(".", "\x00", literal=True).str.replace(self.decimal_mark, ".", literal=True)
        return value

    def describe_number(self) -> str:
        return f"with '{self.decimal_mark}' as decimal mark" + (
            f" and '{self.thousands_separator}' between thousands" if self.thousands_separator else ""
        )

    def describe_date(self) -> str:
        return f"{self.date_format} (e.g. {_PROBE.strftime(self.date_format)})"


def resolve(sections: dict[str, CsvDialect], system: str, extract: str) -> CsvDialect:
    """The dialect of one extract: the contract default, overridden field by
    field by its system's section (`erp`, `crm`), then by its own section."""
    fields: dict[str, object] = {}
    for name in (system, extract):
        if name in sections:
            fields.update(sections[name].model_dump(exclude_unset=True))
    return CsvDialect.model_validate(fields)
