"""Deliberately bad rows for the sample landing data, and the manifest that lists them.

`--bad-rows` exercises every rule of the extract contract
(`kam_pipeline.ingest.contract.extracts`, including one not-null rule per required
column) plus the three failures ingestion meets before any rule runs:
`parse.ragged` (too many or too few fields), `parse.type` (text that is not
a number, date or boolean) and `parse.text` (a control character in text).
Every injected defect is listed in `_defects.json` with its file and `row`,
the 1-based data row in that file (header not counted, so the line number is
row + 1), the rule that must catch it, the row's
key as written, and the offending column and value. Tests compare the
pipeline's quarantine with this list.

Small extracts get extra rows inserted at random places (copies of random rows
with new ids, so nothing refers to them); invoice lines are overwritten in
place, so the line count stays what was asked for. A duplicated key is a later
exact copy: the first occurrence stays good. Defects are independent: an
unknown customer id is one that does not exist, not one whose row is broken.
Two kinds unavoidably break a second rule as well: an unknown currency code
has no FX rate either, and an account with a missing parent also fails the
hierarchy rule.

Parquet has types, so in Parquet mode only value defects are injected: no
`parse.*` rows.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import polars as pl

from kam_pipeline.ingest.contract import EXTRACTS, EXTRACTS_BY_NAME, Extract

MANIFEST = "_defects.json"
HANDFUL = 3  # rows per defect kind without a rate, spread over its variants
PRIVATE = ("_rule", "_column", "_value", "_ragged")
Ragged = Literal["many", "few"]
_INVOICE_LINES = EXTRACTS_BY_NAME["invoice_lines"]


class Peer(Enum):
    """Stands for the new id of a neighbouring defect row (to build a parent cycle)."""

    NEXT = 1
    PREVIOUS = -1


@dataclass(frozen=True)
class RowDefect:
    """An extra row of a small extract: a copy of a random row, given a new id, with `edits` written over it.

    `column` is the cell that carries the defect (the other edits only make
    the row unique); `duplicate` keeps the copy's id and inserts it after the
    original.
    """

    rule: str
    edits: Mapping[str, str | Peer | None] = field(default_factory=dict)
    column: str | None = None
    ragged: Ragged | None = None
    duplicate: bool = False


@dataclass(frozen=True)
class LineDefect:
    """One kind (in one variant) of bad invoice line, written over a good line in place."""

    kind: str
    rule: str
    column: str | None = None
    edits: Mapping[str, pl.Expr | str | None] = field(default_factory=dict)
    ragged: Ragged | None = None
    duplicate: bool = False


def _parse_only(rule: str) -> bool:
    return rule.startswith("parse.")


def row_defects(as_of: date) -> dict[str, tuple[RowDefect, ...]]:
    """The bad rows inserted into each small extract.

    Ids that must not exist start with a 0 after their prefix (`A0…`, `U0…`):
    the generator's ids never do.
    """
    future = (as_of + timedelta(days=45)).isoformat()
    german_date = (as_of - timedelta(days=200)).strftime("%d.%m.%Y")
    tier_override = {  # a well-formed TIER override, for the defects that need one around them
        "action": "TIER",
        "tier": "CORE",
        "valid_from": as_of.isoformat(),
        "valid_until": (as_of + timedelta(days=90)).isoformat(),
    }
    ragged = (
        RowDefect("parse.ragged", ragged="many"),
        RowDefect("parse.ragged", ragged="few"),
    )
    return {
        "fx_rates": (
            RowDefect("fx_rates.key.unique", duplicate=True),
            RowDefect("fx_rates.currency.iso4217", {"currency": "DEM"}, "currency"),
            RowDefect("fx_rates.month.format", {"month": as_of.strftime("%Y/%m")}, "month"),
            RowDefect("fx_rates.month.format", {"month": f"{as_of.year}-13"}, "month"),
            RowDefect(
                "fx_rates.rate_to_reporting.positive",
                {"currency": "PLN", "rate_to_reporting": "0"},
                "rate_to_reporting",
            ),
            RowDefect(
                "fx_rates.rate_to_reporting.positive",
                {"currency": "HUF", "rate_to_reporting": "-0.0025"},
                "rate_to_reporting",
            ),
            RowDefect("fx_rates.currency.not_null", {"currency": None}, "currency"),
            RowDefect("fx_rates.month.not_null", {"currency": "CZK", "month": None}, "month"),
            RowDefect(
                "fx_rates.rate_to_reporting.not_null",
                {"currency": "RON", "rate_to_reporting": None},
                "rate_to_reporting",
            ),
            RowDefect("parse.type", {"currency": "NZD", "rate_to_reporting": "0,55"}, "rate_to_reporting"),
            RowDefect("parse.ragged", {"currency": "ISK"}, ragged="many"),
            RowDefect("parse.ragged", {"currency": "BGN"}, ragged="few"),
        ),
        "account_managers": (
            RowDefect("account_managers.owner_id.unique", duplicate=True),
            RowDefect("account_managers.role.allowed", {"role": "Sales Rep"}, "role"),
            RowDefect("account_managers.role.allowed", {"role": "kam"}, "role"),
            RowDefect("account_managers.capacity_hours.positive", {"capacity_hours": "0"}, "capacity_hours"),
            RowDefect("account_managers.capacity_hours.positive", {"capacity_hours": "-120.0"}, "capacity_hours"),
            RowDefect("account_managers.hourly_cost.not_negative", {"hourly_cost": "-85.00"}, "hourly_cost"),
            *_empty("account_managers"),
            RowDefect("parse.type", {"capacity_hours": "1600h"}, "capacity_hours"),
            RowDefect("parse.type", {"hourly_cost": "95,50"}, "hourly_cost"),
            *ragged,
        ),
        "crm_accounts": (
            RowDefect("crm_accounts.account_id.unique", duplicate=True),
            RowDefect("crm_accounts.parent_account_id.exists", {"parent_account_id": "A0123456"}, "parent_account_id"),
            RowDefect("crm_accounts.hierarchy.acyclic", {"parent_account_id": Peer.NEXT}, "parent_account_id"),
            RowDefect("crm_accounts.hierarchy.acyclic", {"parent_account_id": Peer.PREVIOUS}, "parent_account_id"),
            RowDefect("crm_accounts.owner_id.exists", {"owner_id": "U0999"}, "owner_id"),
            RowDefect("crm_accounts.competitive_position.range", {"competitive_position": "7"}, "competitive_position"),
            RowDefect("crm_accounts.competitive_position.range", {"competitive_position": "0"}, "competitive_position"),
            RowDefect("crm_accounts.country_code.iso3166", {"country_code": "UK"}, "country_code"),
            RowDefect("crm_accounts.country_code.iso3166", {"country_code": "XX"}, "country_code"),
            RowDefect("crm_accounts.employee_count.not_negative", {"employee_count": "-250"}, "employee_count"),
            RowDefect(
                "crm_accounts.estimated_wallet.not_negative", {"estimated_wallet": "-50000.00"}, "estimated_wallet"
            ),
            RowDefect(
                "crm_accounts.key_account_since.not_future",
                {"is_key_account": "true", "key_account_since": future},
                "key_account_since",
            ),
            *_empty("crm_accounts"),
            RowDefect("parse.type", {"employee_count": "approx. 500"}, "employee_count"),
            RowDefect("parse.type", {"estimated_wallet": "1.2m"}, "estimated_wallet"),
            RowDefect("parse.type", {"is_key_account": "yes"}, "is_key_account"),
            RowDefect("parse.type", {"key_account_since": german_date}, "key_account_since"),
            *ragged,
        ),
        "erp_customers": (  # all columns are text: only control characters fail parsing
            RowDefect("erp_customers.erp_customer_id.unique", duplicate=True),
            RowDefect("parse.text", {"customer_name": "Nord\x00Ost Handel GmbH"}, "customer_name"),
            RowDefect("erp_customers.crm_account_id.exists", {"crm_account_id": "A0999999"}, "crm_account_id"),
            RowDefect("erp_customers.country_code.iso3166", {"country_code": "UK"}, "country_code"),
            RowDefect("erp_customers.country_code.iso3166", {"country_code": "de"}, "country_code"),
            *_empty("erp_customers"),
            *ragged,
        ),
        "opportunities": (
            RowDefect("opportunities.opportunity_id.unique", duplicate=True),
            RowDefect("opportunities.status.allowed", {"status": "CLOSED"}, "status"),
            RowDefect("opportunities.status.allowed", {"status": "won"}, "status"),
            RowDefect("opportunities.currency.iso4217", {"currency": "EURO"}, "currency"),
            RowDefect("opportunities.currency.fx_rate_exists", {"currency": "JPY"}, "currency"),
            RowDefect("opportunities.amount.positive", {"amount": "0.00"}, "amount"),
            RowDefect("opportunities.amount.positive", {"amount": "-12000.00"}, "amount"),
            RowDefect("opportunities.probability.range", {"probability": "75.0"}, "probability"),
            RowDefect("opportunities.probability.range", {"probability": "-0.2"}, "probability"),
            RowDefect("opportunities.created_date.not_future", {"created_date": future}, "created_date"),
            RowDefect("opportunities.account_id.exists", {"account_id": "A0999998"}, "account_id"),
            *_empty("opportunities"),
            RowDefect("parse.type", {"amount": "12 500.00"}, "amount"),
            RowDefect("parse.type", {"probability": "75%"}, "probability"),
            RowDefect("parse.type", {"close_date": f"{as_of.year}-02-30"}, "close_date"),
            *ragged,
        ),
        "kam_overrides": (
            RowDefect("kam_overrides.override_id.unique", duplicate=True),
            RowDefect("kam_overrides.action.allowed", {"action": "KEEP", "tier": None}, "action"),
            RowDefect("kam_overrides.tier.allowed", {**tier_override, "tier": "GOLD"}, "tier"),
            RowDefect("kam_overrides.tier.required", {**tier_override, "tier": None}, "tier"),
            RowDefect("kam_overrides.reason.not_blank", {"reason": "   "}, "reason"),
            RowDefect(
                "kam_overrides.valid_until.required",
                {**tier_override, "action": "INCLUDE", "tier": None, "valid_until": None},
                "valid_until",
            ),
            RowDefect(
                "kam_overrides.valid_until.not_before_valid_from",
                {
                    **tier_override,
                    "action": "EXCLUDE",
                    "tier": None,
                    "valid_until": (as_of - timedelta(days=30)).isoformat(),
                },
                "valid_until",
            ),
            RowDefect("kam_overrides.account_id.exists", {"account_id": "A0999997"}, "account_id"),
            *_empty("kam_overrides"),
            RowDefect("parse.type", {"valid_from": german_date}, "valid_from"),
            *ragged,
        ),
    }


def _empty(extract: str) -> tuple[RowDefect, ...]:
    """One row per required column, left empty (a single-column key stays unique: one empty key)."""
    required = (c.name for c in EXTRACTS_BY_NAME[extract].columns if c.required)
    return tuple(RowDefect(f"{extract}.{c}.not_null", {c: None}, c) for c in required)


def line_defects(as_of: date, *, with_key_columns: bool) -> tuple[LineDefect, ...]:
    """The kinds of bad invoice line, each in one or more variants.

    Empty key columns only come with `with_key_columns` (a handful of rows):
    many lines with an empty invoice id would also duplicate each other's key.
    A line dated after the as-of date stays in the as-of month when it can, so
    that it still has an FX rate; otherwise it is switched to EUR.
    """
    col = pl.col
    amount = col("net_amount").str.strip_chars_start("-")
    day = col("invoice_date")
    month_end = date(as_of.year, as_of.month + 1, 1) if as_of.month < 12 else date(as_of.year + 1, 1, 1)
    days_left = (month_end - as_of).days - 1
    future = [
        {"invoice_date": (as_of + timedelta(days=d)).isoformat(), **({} if days_left else {"currency": "EUR"})}
        for d in range(1, min(days_left, 3) + 1 if days_left else 4)
    ]
    empty = [
        c.name for c in _INVOICE_LINES.columns if c.required and (with_key_columns or c.name not in _INVOICE_LINES.key)
    ]
    return (
        LineDefect("too many fields", "parse.ragged", ragged="many"),
        LineDefect("too few fields", "parse.ragged", ragged="few"),
        LineDefect("unparseable number", "parse.type", "quantity", {"quantity": "n/a"}),
        LineDefect(
            "unparseable number",
            "parse.type",
            "net_amount",
            {"net_amount": pl.concat_str(col("net_amount"), col("currency"), separator=" ")},
        ),
        LineDefect("unparseable number", "parse.type", "cost_amount", {"cost_amount": "#VALUE!"}),
        LineDefect(
            "unparseable date",
            "parse.type",
            "invoice_date",
            {
                "invoice_date": pl.concat_str(
                    day.str.slice(8, 2), day.str.slice(5, 2), day.str.slice(0, 4), separator="."
                )
            },
        ),
        LineDefect("unparseable date", "parse.type", "invoice_date", {"invoice_date": day.str.slice(0, 8) + "32"}),
        LineDefect("unparseable date", "parse.type", "invoice_date", {"invoice_date": day.str.replace_all("-", "/")}),
        *(LineDefect("empty required field", f"invoice_lines.{c}.not_null", c, {c: None}) for c in empty),
        LineDefect("duplicated key", "invoice_lines.key.unique", duplicate=True),
        LineDefect(
            "line number below 1",
            "invoice_lines.line_no.positive",
            "line_no",
            {"line_no": (1 - col("line_no").cast(pl.Int64)).cast(pl.String)},  # 0, -1, ...: still unique
        ),
        *(
            LineDefect(
                "bad document type", "invoice_lines.document_type.allowed", "document_type", {"document_type": v}
            )
            for v in ("INVOCE", "DEBIT_NOTE", "invoice")
        ),
        *(
            LineDefect("unknown currency code", "invoice_lines.currency.iso4217", "currency", {"currency": v})
            for v in ("XXX", "EURO", "US$")
        ),
        *(
            LineDefect("currency without FX rate", "invoice_lines.currency.fx_rate_exists", "currency", {"currency": v})
            for v in ("JPY", "CAD")
        ),
        LineDefect(
            "negative invoice",
            "invoice_lines.net_amount.sign_invoice",
            "net_amount",
            {"document_type": "INVOICE", "net_amount": "-" + amount},
        ),
        LineDefect(
            "positive credit note",
            "invoice_lines.net_amount.sign_credit_note",
            "net_amount",
            {"document_type": "CREDIT_NOTE", "net_amount": amount},
        ),
        *(
            LineDefect("dated after as-of", "invoice_lines.invoice_date.not_future", "invoice_date", edits)
            for edits in future
        ),
        LineDefect(
            "unknown customer",
            "invoice_lines.erp_customer_id.exists",
            "erp_customer_id",
            {"erp_customer_id": "C0" + col("erp_customer_id").str.slice(2)},  # C1234567 -> C0234567: never issued
        ),
    )


class DefectInjector:
    """Turns clean frames into text frames with bad rows, and writes the manifest as it goes.

    Text frames hold every column as the text written to the CSV, plus the
    private columns `_rule`, `_column`, `_value` and `_ragged` (null on good rows).
    """

    def __init__(
        self,
        manifest: Path,
        *,
        seed: int,
        as_of: date,
        fmt: Literal["csv", "parquet"],
        rate: float | None,
        chunk_sizes: Mapping[tuple[int, int], int],
    ) -> None:
        self.seed = seed
        self.csv = fmt == "csv"
        self.row_defects = {
            name: tuple(d for d in defects if self.csv or not _parse_only(d.rule))
            for name, defects in row_defects(as_of).items()
        }
        self.line_defects = tuple(
            d for d in line_defects(as_of, with_key_columns=rate is None) if self.csv or not _parse_only(d.rule)
        )
        self.plan = self._plan_lines(chunk_sizes, rate)
        self.counts: Counter[str] = Counter()
        self.fh = manifest.open("w", encoding="utf-8")
        self.fh.write("[")
        self.separator = "\n"

    def close(self) -> dict[str, int]:
        """Finish the manifest; returns the number of defects per rule."""
        self.fh.write("\n]\n")
        self.fh.close()
        return dict(self.counts)

    def _plan_lines(
        self, chunk_sizes: Mapping[tuple[int, int], int], rate: float | None
    ) -> dict[tuple[int, int], np.ndarray]:
        """How many lines of each defect variant go into each chunk of invoice lines.

        Without a rate, a handful per kind spread over the kind's variants (each
        variant at least once), placed in random chunks with room; with a rate,
        about `rate` of the lines per kind.
        """
        keys = list(chunk_sizes)
        sizes = np.array([chunk_sizes[k] for k in keys], dtype=np.int64)
        variants = Counter(d.kind for d in self.line_defects)
        rng = np.random.default_rng([self.seed, 2])
        if rate is not None:
            kinds = len(variants)
            if not 0 < rate <= 0.5 / kinds:
                raise ValueError(
                    f"defect_rate must be in (0, {0.5 / kinds:.4f}] ({kinds} kinds must fit in half the lines)"
                )
            share = np.array([rate / variants[d.kind] for d in self.line_defects])
            counts = rng.binomial(sizes[:, None], share[None, :])
            room = np.maximum(sizes - 1, 0)
            for i in np.flatnonzero(counts.sum(axis=1) > room):  # only tiny chunks: trim the largest counts
                while counts[i].sum() > room[i]:
                    counts[i, counts[i].argmax()] -= 1
        else:
            counts = np.zeros((len(keys), len(self.line_defects)), dtype=np.int64)
            room = np.maximum(sizes - 1, 0) // 2
            for j, defect in enumerate(self.line_defects):
                for _ in range(-(-HANDFUL // variants[defect.kind])):
                    if room.sum() == 0:
                        raise ValueError(f"too few invoice lines ({sizes.sum()}) to hold the bad rows; use more")
                    i = rng.choice(len(keys), p=room / room.sum())
                    counts[i, j] += 1
                    room[i] -= 1
        return {k: counts[i] for i, k in enumerate(keys)}

    def insert_rows(self, extract: Extract, frame: pl.DataFrame, file: str) -> pl.DataFrame:
        """The extract as text with its bad rows inserted at random places (a duplicate after its original)."""
        text = as_text(frame)
        defects = self.row_defects[extract.name]
        n = text.height
        rng = np.random.default_rng([self.seed, 4, [e.name for e in EXTRACTS].index(extract.name)])
        base = rng.integers(0, n, len(defects))
        slot = np.where(
            [d.duplicate for d in defects], rng.integers(base + 1, n + 1), rng.integers(0, n + 1, len(defects))
        )
        # A single-column key gets new ids; fx rates (currency, month) are made unique by their edits.
        new_ids = _next_ids(text[extract.key[0]], len(defects)) if len(extract.key) == 1 else []
        rows = []
        for i, (defect, b) in enumerate(zip(defects, base, strict=True)):
            row = text.row(int(b), named=True)
            if new_ids and not defect.duplicate:
                row[extract.key[0]] = new_ids[i]
            for column, value in defect.edits.items():
                row[column] = new_ids[i + value.value] if isinstance(value, Peer) else value
            value = row[defect.column] if defect.column else None
            rows.append(
                {**row, "_rule": defect.rule, "_column": defect.column, "_value": value, "_ragged": defect.ragged}
            )
        schema = {**text.schema, **dict.fromkeys(PRIVATE, pl.String)}
        merged = (
            pl.concat(
                [
                    text.with_columns(
                        *(pl.lit(None, pl.String).alias(c) for c in PRIVATE), _order=np.arange(n) * 2 + 1
                    ),
                    pl.DataFrame(rows, schema=schema).with_columns(_order=slot * 2),
                ]
            )
            .sort("_order", maintain_order=True)
            .drop("_order")
        )
        self._record(merged.with_row_index("_row", offset=1), extract, file)
        return merged

    def corrupt_lines(self, frame: pl.DataFrame, file: str, chunk: tuple[int, int], first_row: int) -> pl.DataFrame:
        """A chunk of invoice lines as text, bad lines written over random good ones.

        Never over the first line, so every duplicate has an original before it.
        Edits run on the bad lines only and are scattered back: cheap at any rate.
        """
        text = as_text(frame).with_columns(_ragged=pl.lit(None, pl.String))
        counts = self.plan[chunk]
        if not counts.sum():
            return text
        n = text.height
        rng = np.random.default_rng([self.seed, 3, *chunk])
        at = rng.choice(n - 1, size=int(counts.sum()), replace=False) + 1
        kind = np.repeat(np.arange(len(self.line_defects)), counts)
        order = np.argsort(at)
        at, kind = at[order], kind[order]
        source = at.copy()
        copies = np.isin(kind, [j for j, d in enumerate(self.line_defects) if d.duplicate])
        if copies.any():
            untouched = np.ones(n, dtype=bool)
            untouched[at] = False
            good = np.flatnonzero(untouched)  # starts with row 0
            before = np.searchsorted(good, at[copies])
            source[copies] = good[(rng.random(int(copies.sum())) * before).astype(np.int64)]
        bad = self._edit_lines(text[source].with_columns(_kind=pl.Series(kind)))
        self._record(bad.with_columns(_row=pl.Series(at + first_row)), _INVOICE_LINES, file)
        return text.with_columns(text.get_column(c).clone().scatter(at, bad.get_column(c)) for c in text.columns)

    def _edit_lines(self, text: pl.DataFrame) -> pl.DataFrame:
        """Apply every line defect's edits to the bad lines of its kind, in one pass."""
        kind = pl.col("_kind")
        by_column: dict[str, list[tuple[int, pl.Expr]]] = {}
        for j, defect in enumerate(self.line_defects):
            for column, value in defect.edits.items():
                expr = value if isinstance(value, pl.Expr) else pl.lit(value, pl.String)
                by_column.setdefault(column, []).append((j, expr))
        updates = []
        for column, cases in by_column.items():
            (j0, e0), *rest = cases
            chain = pl.when(kind == j0).then(e0)
            for j, e in rest:
                chain = chain.when(kind == j).then(e)
            updates.append(chain.otherwise(pl.col(column)).alias(column))

        def lookup(values: list[str | None]) -> pl.Expr:
            return kind.replace_strict(dict(enumerate(values)), default=None, return_dtype=pl.String)

        columns = [d.column for d in self.line_defects]
        value = pl.coalesce([pl.when(pl.col("_column") == c).then(pl.col(c)) for c in dict.fromkeys(columns) if c])
        return (
            text.with_columns(updates)
            .with_columns(
                _rule=lookup([d.rule for d in self.line_defects]),
                _column=lookup(columns),
                _ragged=lookup([d.ragged for d in self.line_defects]),
            )
            .with_columns(_value=value)
            .drop("_kind")
        )

    def _record(self, text: pl.DataFrame, extract: Extract, file: str) -> None:
        """Append the bad rows of a text frame (`_row`: the row number in the file) to the manifest."""
        entries = text.filter(pl.col("_rule").is_not_null()).select(
            "_rule",
            pl.struct(
                extract=pl.lit(extract.name),
                file=pl.lit(file),
                row=pl.col("_row"),
                rule=pl.col("_rule"),
                key=pl.struct(*extract.key),
                column=pl.col("_column"),
                value=pl.col("_value"),
            )
            .struct.json_encode()
            .alias("json"),
        )
        if entries.height:
            self.fh.write(self.separator + ",\n".join(entries["json"]))
            self.separator = ",\n"
            self.counts.update(dict(entries["_rule"].value_counts().iter_rows()))


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as the text the CSV writer would write (dates ISO, booleans true/false, null empty)."""
    return frame.select(pl.all().cast(pl.String))


def _next_ids(ids: pl.Series, count: int) -> list[str]:
    """New ids after the highest existing one, in the same format (`A100412` -> `A100413`)."""
    prefix = ids.str.extract(r"^(\D*)")[0]
    digits = ids.str.extract(r"(\d+)$")
    width = int(digits.str.len_chars().max())
    top = int(digits.cast(pl.Int64).max())
    return [f"{prefix}{top + 1 + k:0{width}d}" for k in range(count)]


def write_csv_text(fh: BinaryIO, text: pl.DataFrame, extract: Extract) -> None:
    """Append a text frame as CSV (the same writer as clean data), then make the `_ragged` rows ragged:
    `many` gains a field, `few` loses its last one."""
    buffer = io.BytesIO()
    text.select(extract.column_names).write_csv(buffer, include_header=False)
    ragged = text.get_column("_ragged")
    rows = ragged.is_not_null().arg_true()
    if rows.is_empty():
        fh.write(buffer.getvalue())
        return
    lines = buffer.getvalue().split(b"\n")
    if len(lines) != text.height + 1:
        raise ValueError("a value contains a line break: rows and lines no longer match")
    for i, how in zip(rows, ragged.gather(rows), strict=True):
        lines[i] = lines[i] + b",EXTRA" if how == "many" else lines[i].rsplit(b",", 1)[0]
    fh.write(b"\n".join(lines))


def to_contract(text: pl.DataFrame, extract: Extract) -> pl.DataFrame:
    """A text frame (value defects only) cast to the contract's types, for Parquet."""
    casts = []
    for column in extract.columns:
        cell = pl.col(column.name)
        if column.dtype == pl.Boolean:
            casts.append(cell.replace_strict({"true": True, "false": False}, return_dtype=pl.Boolean))
        elif column.dtype == pl.Date:
            casts.append(cell.str.to_date("%Y-%m-%d"))
        else:
            casts.append(cell.cast(column.dtype))
    return text.select(casts)


def read_manifest(landing: Path) -> list[dict[str, object]]:
    """The injected defects listed in a landing directory's manifest."""
    return json.loads((landing / MANIFEST).read_text(encoding="utf-8"))
