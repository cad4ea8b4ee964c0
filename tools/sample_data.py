"""Deterministic sample landing data for demos, tests and benchmarks of the pipeline.

Writes the six extracts of `kam_pipeline.ingest.contract` into a landing directory the
way the ERP and CRM exports deliver them, with a world that gives segmentation
something to find and reads like a B2B business:

- Groups of accounts up to three levels deep, with heavy-tailed (Pareto)
  expected revenue; a few percent of groups are prospects that never bought.
  Each group has a lifecycle: steady, growing (+15 to +45 % a year), declining
  (mostly -15 to -40 % a year, a few steeper), new (first invoice within the
  last 15 months) or lost: about half of those lapsed (last invoice 13-30
  months before the as-of date), the others stopped within the last year.
- Invoices follow a plan: each ERP customer's expected revenue per month
  becomes whole invoices, rounded cumulatively over its group, so a group's
  yearly revenue is what its lifecycle says give or take about one invoice.
  Bigger groups place bigger orders. An invoice's value is spread over its
  lines; a line sells a product (one the line buys at least two of) in the
  quantity that carries its share. Revenue scales with the number of lines:
  a line is worth on average what the product model's price, pack, quantity
  and discount give.
- Wallets: an account's wallet is the revenue its invoices bring in a year
  (its best year for declining and lapsed customers) over a share of wallet
  drawn from Beta(2, 3), clipped to [0.05, 0.9]; a prospect's comes from its
  size. About a third of the accounts carry it as `estimated_wallet` (group by
  group), about nine in ten an `employee_count` of about wallet / spend per
  employee of the industry (config/kam.toml).
- Key accounts (about 15-16 groups, each wholly owned by one KAM): about 12
  obvious ones among the 15 largest groups, steady or growing, and 3-4 to
  demote among the groups ranked 40-120, one of them declining and one where
  our position is weak; a quarter joined less than a year ago, the others
  1.5-7 years ago.
- Threats are exceptions among the large customers (top 95 % of revenue):
  declining by 15 % or more for about 6-9 % of them, a weak competitive
  position (1-2) for about 10-15 % (30 % of the small ones), and lost deals
  worth a quarter of a year's revenue for about 3-5 %: deal amounts scale with
  the account's revenue.
- ERP customers not mapped to the CRM (about 1 % of revenue), several
  currencies with monthly FX rates.

The same seed and arguments give byte-identical files. Invoice lines are
generated and written month by month in chunks of at most `CHUNK_LINES`, each
chunk drawing its invoices from the month's, so ten or a hundred million lines
need no more memory than the default size. `--bad-rows` adds deliberately bad
rows (see `tools.sample_defects`).

    python -m tools.sample_data --out data/landing [--invoice-lines 10000000] [--bad-rows]
"""

from __future__ import annotations

import argparse
import calendar
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from kam_pipeline.ingest.contract import EXTRACTS, EXTRACTS_BY_NAME, Extract
from tools import sample_defects

Format = Literal["csv", "parquet"]

DEFAULT_AS_OF = date(2026, 11, 28)
MONTHS = 36  # three years of invoice lines, the last month ending at the as-of date
CHUNK_LINES = 500_000  # bounds memory; part of the output's identity (chunks draw their own random streams)
MAX_DEPTH = 3  # levels of subsidiaries below a group's top account
CREDIT_NOTE_SHARE = 0.04
UNMAPPED_REVENUE_SHARE = 0.01
EXPORT_SHARE = 0.06  # customers invoiced in USD whatever their country
AMOUNT = pl.Decimal(18, 2)  # the ERP exports money with two decimals
FX_RATE = pl.Decimal(18, 6)


@dataclass(frozen=True)
class Country:
    code: str
    region: str
    currency: str
    share: float  # of accounts
    legal_form: str
    local_name: str


COUNTRIES = (
    Country("DE", "DACH", "EUR", 0.24, "GmbH", "Deutschland"),
    Country("AT", "DACH", "EUR", 0.05, "GmbH", "Österreich"),
    Country("CH", "DACH", "CHF", 0.05, "AG", "Schweiz"),
    Country("SE", "Nordics", "SEK", 0.07, "AB", "Sverige"),
    Country("DK", "Nordics", "DKK", 0.05, "A/S", "Danmark"),
    Country("NO", "Nordics", "NOK", 0.04, "AS", "Norge"),
    Country("FI", "Nordics", "EUR", 0.04, "Oy", "Suomi"),
    Country("NL", "Benelux", "EUR", 0.09, "B.V.", "Nederland"),
    Country("BE", "Benelux", "EUR", 0.06, "NV", "Belgium"),
    Country("LU", "Benelux", "EUR", 0.02, "S.A.", "Luxembourg"),
    Country("GB", "UK&I", "GBP", 0.14, "Ltd", "UK"),
    Country("IE", "UK&I", "EUR", 0.03, "Ltd", "Ireland"),
    Country("ES", "Iberia", "EUR", 0.09, "S.A.", "España"),
    Country("PT", "Iberia", "EUR", 0.03, "Lda.", "Portugal"),
)

#: Value of one unit in EUR at the start of the data; monthly rates random-walk from here.
FX_START = {"USD": 0.92, "GBP": 1.17, "CHF": 1.05, "SEK": 0.087, "DKK": 0.134, "NOK": 0.086}
CURRENCIES = ("EUR", *FX_START)  # index 0 is the reporting currency: no FX row

#: Industry: (share of groups, word used in account names, yearly spend per employee in EUR). Names and
#: spend match the `spend_per_employee` table of config/kam.toml, so headcounts give the benchmark wallet.
INDUSTRIES = {
    "Manufacturing": (0.20, "Industries", 400.0),
    "Chemicals": (0.09, "Chemicals", 350.0),
    "Automotive": (0.10, "Automotive", 380.0),
    "Retail": (0.12, "Retail", 120.0),
    "Healthcare": (0.10, "Medical", 200.0),
    "Logistics": (0.10, "Logistics", 180.0),
    "Food & Beverage": (0.10, "Foods", 220.0),
    "Construction": (0.09, "Construction", 260.0),
    "Technology": (0.10, "Systems", 160.0),
}

#: The KAM team: name and region, four KAMs in the three largest regions.
KAM_TEAM = (
    ("Katrin Hofmann", "DACH"),
    ("Jonas Weber", "DACH"),
    ("Erik Lindqvist", "Nordics"),
    ("James Whitfield", "UK&I"),
)
#: First and last names of the account managers of each region; the n-th manager of a region combines them.
AM_NAMES = {
    "DACH": (("Lena", "Markus", "Anna", "Tobias", "Julia", "Felix"), ("Schmid", "Bauer", "Keller", "Wolf", "Braun")),
    "Nordics": (("Sofie", "Mikko", "Ingrid", "Lars", "Aino"), ("Nielsen", "Virtanen", "Berg", "Holm")),
    "Benelux": (("Sanne", "Pieter", "Lotte", "Tom"), ("de Vries", "Jansen", "Peeters", "Maes")),
    "UK&I": (("Aoife", "Oliver", "Emily", "Sean", "Hannah"), ("Byrne", "Grant", "Clarke", "Murphy")),
    "Iberia": (("Lucía", "Miguel", "Carmen", "Javier"), ("Fernández", "Sousa", "Ruiz", "Ortega")),
}
#: Staffing plan: yearly customer-facing AM hours a group is expected to need by its expected revenue class
#: (close to what the pipeline's coverage plans ask, docs/methodology.md §K6.1; key accounts need KAM hours).
STAFFING_HOURS = {"A": 75.0, "B": 11.0, "C": 0.5}
AM_CAPACITY = (1000, 1200)  # customer-facing hours a year of one account manager
#: How much of a region's work each of its AMs takes, relative to the others: uneven, so that some managers are
#: over and some under capacity while the region as a whole is staffed to its demand.
AM_APPETITE = (0.6, 1.45)

PARETO_SHAPE = 1.05  # of group sizes (expected revenue)
#: Group lifecycles and their shares; they drive the monthly revenue of every customer of the group.
LIFECYCLES = ("steady", "growing", "declining", "new", "lost")
LIFECYCLE_SHARES = (0.68, 0.13, 0.04, 0.08, 0.07)
STEADY, GROWING, DECLINING, NEW, LOST = range(len(LIFECYCLES))
STEEP_DECLINE_SHARE = 0.2  # of declining groups: -40 to -70 % a year; the others -15 to -40 %
LAPSED_SHARE = 0.55  # of lost groups: last invoice 13-30 months before as-of; the others stopped within the year
#: Competitive position 1..5 (weak..strong) of large groups (top 95 % of revenue) and of the others.
POSITION_LARGE = (0.03, 0.09, 0.35, 0.33, 0.20)
POSITION_SMALL = (0.10, 0.20, 0.35, 0.25, 0.10)
WALLET_LARGE, WALLET_SMALL = 0.42, 0.3  # groups whose wallet sales estimated, large ones and the others
DEAL_SHARE = 0.06  # median opportunity, as a share of the account's yearly revenue (fewer, larger deals on small ones)
SMALL_PROJECT = 500.0  # EUR, median: what even the smallest account's opportunity is worth on top
MIN_WALLET = 1000.0  # EUR: sales never estimate less
BIG_LOSS_SHARE = 0.03  # of large groups: lost a deal worth 30-70 % of their yearly revenue in the last year

MONTH_NOISE = 0.1  # lognormal sigma of a customer's expected revenue from month to month
LINES_PER_DOCUMENT = 10 / 3  # mean
DOC_WOBBLE = 0.2  # an invoice's value varies by up to +-2x this around the customer's order size
LINE_SHAPE = 0.8  # gamma shape of the shares of a document's value its lines carry
PACKS_MIN = 3  # a line is in whole packs from this many packs, else in single units
PRICE_ADJUSTMENT = 1.25  # a document's prices vary by at most this factor to make its value
ORDER_SIZE_EXPONENT = 0.6  # an invoice's value grows with the group's monthly revenue to this power
MEAN_PACKS = 4  # packs per line of the product model, for the value of an average line
MAX_DISCOUNT = 0.12  # customers' discounts are uniform in [0, MAX_DISCOUNT)
CREDIT_EFFECT = CREDIT_NOTE_SHARE / (1 - CREDIT_NOTE_SHARE) * 0.275  # revenue taken back by credit notes

SEASONALITY = (0.95, 1.0, 1.05, 1.0, 1.0, 1.0, 0.95, 0.8, 1.0, 1.05, 1.05, 0.9)  # January .. December
WEEKDAY_WEIGHT = (1.0, 1.0, 1.0, 1.0, 1.0, 0.05, 0.02)  # Monday .. Sunday
NAME_HEADS = (
    "Nord", "Alp", "Rhein", "Balt", "Vest", "Stern", "Lumi", "Atlan", "Hansa", "Kron",
    "Fjord", "Delta", "Sol", "Tauern", "Elb", "Moor", "Haven", "Cedar", "Iber", "Falk",
)  # fmt: skip
NAME_TAILS = ("tec", "werk", "ica", "on", "ex", "lux", "gard", "mark", "form", "via", "pro", "dyn", "met", "flex")
PRODUCTS = 600


@dataclass(frozen=True)
class GenerationReport:
    """What `generate` wrote: rows per extract (bad rows included), files relative to `out`
    in writing order (the `_SUCCESS` marker last), and injected defects per rule."""

    out: Path
    rows: dict[str, int]
    files: list[str]
    defects: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"wrote {len(self.files)} files to {self.out}"]
        lines += [f"  {name:<17} {count:>12,} rows" for name, count in self.rows.items()]
        if self.defects:
            lines.append(f"  injected {sum(self.defects.values()):,} defects (see _defects.json):")
            lines += [f"    {rule:<48} {count:>9,}" for rule, count in sorted(self.defects.items())]
        return "\n".join(lines)


@dataclass(frozen=True)
class InvoiceModel:
    """Everything invoice-line generation needs from the world, as arrays.

    `documents[c, m]` is the number of invoices of customer `c` in month `m`;
    an invoice is worth about `order_size[c] * doc_base[m]` EUR.
    `eur_per_unit[k, m]` is the FX rate of currency `CURRENCIES[k]`.
    """

    seed: int
    as_of: date
    months: list[date]
    lines_per_month: np.ndarray
    customer_ids: pl.Series
    documents: np.ndarray
    order_size: np.ndarray
    doc_base: np.ndarray
    customer_currency: np.ndarray
    customer_discount: np.ndarray
    eur_per_unit: np.ndarray
    product_ids: pl.Series
    product_price: np.ndarray
    product_pack: np.ndarray
    product_cost_ratio: np.ndarray  # NaN: no standard cost, the ERP leaves cost_amount empty
    product_popularity: np.ndarray

    def chunk_sizes(self) -> dict[tuple[int, int], int]:
        """Lines of every (month, chunk): equal chunks of at most CHUNK_LINES, at least one per month."""
        sizes = {}
        for m, total in enumerate(self.lines_per_month.tolist()):
            parts = max(1, -(-total // CHUNK_LINES))
            for c in range(parts):
                sizes[(m, c)] = total // parts + (c < total % parts)
        return sizes


@dataclass(frozen=True)
class World:
    """The five small extracts as typed frames, and the model for invoice lines."""

    tables: dict[str, pl.DataFrame]
    invoices: InvoiceModel


def generate(
    out: Path | str,
    *,
    seed: int = 42,
    accounts: int = 3000,
    invoice_lines: int = 200_000,
    as_of: date = DEFAULT_AS_OF,
    fmt: Format = "csv",
    bad_rows: bool = False,
    defect_rate: float | None = None,
) -> GenerationReport:
    """Write a complete landing set into `out` and return what was written.

    Files that the contract's patterns match in `out` are replaced, so an old
    set never mixes with the new one; `_SUCCESS` is removed first and written
    last. `defect_rate` (implies `bad_rows`) makes about that share of invoice
    lines bad per defect kind, for benchmarks; without it a handful of each.
    """
    if not 50 <= accounts <= 2_000_000:
        raise ValueError(f"accounts must be between 50 and 2,000,000, got {accounts}")
    if invoice_lines < 0:
        raise ValueError(f"invoice_lines must not be negative, got {invoice_lines}")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _remove_previous_set(out)
    world = build_world(seed=seed, accounts=accounts, invoice_lines=invoice_lines, as_of=as_of)
    injector = None
    if bad_rows or defect_rate is not None:
        injector = sample_defects.DefectInjector(
            out / sample_defects.MANIFEST,
            seed=seed,
            as_of=as_of,
            fmt=fmt,
            rate=defect_rate,
            chunk_sizes=world.invoices.chunk_sizes(),
        )
    landing = _Landing(out, fmt, injector)
    for extract in EXTRACTS:
        if extract.many_files:
            landing.write_invoice_lines(extract, world.invoices)
        else:
            landing.write_table(extract, world.tables[extract.name])
    defects = {}
    if injector is not None:
        defects = injector.close()
        landing.files.append(sample_defects.MANIFEST)
    (out / "_SUCCESS").write_bytes(b"")
    landing.files.append("_SUCCESS")
    return GenerationReport(out=out, rows=landing.rows, files=landing.files, defects=defects)


def _remove_previous_set(out: Path) -> None:
    (out / "_SUCCESS").unlink(missing_ok=True)
    (out / sample_defects.MANIFEST).unlink(missing_ok=True)
    for extract in EXTRACTS:
        for path in out.glob(extract.pattern):
            if path.is_file():
                path.unlink()


class _Landing:
    """Writes extracts to their contract paths, through the defect injector when there is one."""

    def __init__(self, out: Path, fmt: Format, injector: sample_defects.DefectInjector | None) -> None:
        self.out = out
        self.fmt = fmt
        self.injector = injector
        self.rows: dict[str, int] = {}
        self.files: list[str] = []

    def _path(self, extract: Extract, stem: str = "") -> tuple[Path, str]:
        """`erp/fx_rates.*` -> `erp/fx_rates.csv`; `erp/invoice_lines/*` -> `erp/invoice_lines/<stem>.csv`."""
        rel = extract.pattern.replace("*", f"{stem}.{self.fmt}" if stem else self.fmt)
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self.files.append(rel)
        return path, rel

    def _open(self, path: Path, extract: Extract) -> _CsvFile | _ParquetFile:
        return _CsvFile(path, extract) if self.fmt == "csv" else _ParquetFile(path, extract)

    def write_table(self, extract: Extract, frame: pl.DataFrame) -> None:
        path, rel = self._path(extract)
        if self.injector is not None:
            frame = self.injector.insert_rows(extract, frame, rel)
        with self._open(path, extract) as file:
            file.append(frame, text=self.injector is not None)
        self.rows[extract.name] = frame.height

    def write_invoice_lines(self, extract: Extract, model: InvoiceModel) -> None:
        """One file per month, written chunk by chunk."""
        sizes = model.chunk_sizes()
        self.rows[extract.name] = 0
        for m, month in enumerate(model.months):
            path, rel = self._path(extract, f"{month:%Y-%m}")
            with self._open(path, extract) as file:
                row, c = 0, 0
                while (m, c) in sizes:
                    frame = invoice_chunk(model, m, c, sizes[(m, c)])
                    if self.injector is not None:
                        frame = self.injector.corrupt_lines(frame, rel, (m, c), first_row=row + 1)
                    file.append(frame, text=self.injector is not None)
                    row, c = row + frame.height, c + 1
            self.rows[extract.name] += row


class _CsvFile:
    """One CSV file appended chunk by chunk: typed frames (clean) or text frames (with bad rows)."""

    def __init__(self, path: Path, extract: Extract) -> None:
        self.extract = extract
        self.fh = path.open("wb")
        self.fh.write((",".join(extract.column_names) + "\n").encode())

    def append(self, frame: pl.DataFrame, *, text: bool) -> None:
        if text:
            sample_defects.write_csv_text(self.fh, frame, self.extract)
        else:
            frame.write_csv(self.fh, include_header=False)

    def __enter__(self) -> _CsvFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.fh.close()


class _ParquetFile:
    """One Parquet file in the contract's types, a row group per chunk."""

    def __init__(self, path: Path, extract: Extract) -> None:
        self.path = path
        self.extract = extract
        self.writer: pq.ParquetWriter | None = None

    def append(self, frame: pl.DataFrame, *, text: bool) -> None:
        typed = sample_defects.to_contract(frame, self.extract) if text else frame.cast(self.extract.schema)
        table = typed.to_arrow()
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self.writer.write_table(table)

    def __enter__(self) -> _ParquetFile:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.writer is None:  # a month without lines still gets a file with the schema
            self.append(pl.DataFrame(schema=self.extract.schema), text=False)
        assert self.writer is not None
        self.writer.close()


# --------------------------------------------------------------------------- world


@dataclass(frozen=True)
class _Groups:
    """What every group's customers share: lifecycle (index into LIFECYCLES), yearly log growth of revenue,
    last month with revenue (before the last month only for lost groups), and whether the group is large
    (within the top 95 % of expected revenue, Pareto classes A and B)."""

    lifecycle: np.ndarray
    growth: np.ndarray
    end: np.ndarray
    large: np.ndarray


def build_world(*, seed: int, accounts: int, invoice_lines: int, as_of: date) -> World:
    """The CRM and ERP master data and the invoice model; one random stream, so one seed fixes all."""
    rng = np.random.default_rng([seed, 0])
    months = _months(as_of)
    month_weight = _month_weights(months, as_of)
    lines_per_month = _lines_per_month(month_weight, invoice_lines)
    eur_per_unit = _fx_paths(rng, len(months))
    kams = _kam_team(rng)
    products = _products(rng)
    crm, groups = _crm_accounts(rng, accounts, kams, as_of)
    customers, customer_frame, account_revenue = _erp_customers(
        rng, seed, crm, groups, month_weight, lines_per_month, _line_value(products)
    )
    crm = _wallets(rng, crm, groups, **account_revenue)
    managers, crm = _staff(rng, crm, kams)
    overrides = _overrides(crm, as_of)
    opportunities = _opportunities(rng, crm, groups, eur_per_unit[:, -1], as_of)
    tables = {
        "fx_rates": _fx_rates(months, eur_per_unit),
        "account_managers": managers,
        "kam_overrides": overrides,
        "crm_accounts": crm.select(pl.exclude("^_.*$")).sort("account_id"),
        "erp_customers": customer_frame,
        "opportunities": opportunities,
    }
    invoices = InvoiceModel(
        seed=seed,
        as_of=as_of,
        months=months,
        lines_per_month=lines_per_month,
        eur_per_unit=eur_per_unit,
        **customers,
        **products,
    )
    return World(tables=tables, invoices=invoices)


def _months(as_of: date) -> list[date]:
    first = as_of.year * 12 + as_of.month - MONTHS
    return [date(i // 12, i % 12 + 1, 1) for i in range(first, first + MONTHS)]


def _month_days(month: date, as_of: date) -> np.ndarray:
    """Days of the month up to the as-of date, as datetime64[D]."""
    last = min(date(month.year, month.month, calendar.monthrange(month.year, month.month)[1]), as_of)
    return np.arange(np.datetime64(month, "D"), np.datetime64(last, "D") + 1)


def _weekday_weights(days: np.ndarray) -> np.ndarray:
    """How much business each day sees: little on weekends."""
    return np.asarray(WEEKDAY_WEIGHT)[(days.astype(np.int64) + 3) % 7]  # 1970-01-01 was a Thursday


def _month_weights(months: list[date], as_of: date) -> np.ndarray:
    """How much business each month sees: business days (up to the as-of date) x seasonality."""
    return np.array([_weekday_weights(_month_days(m, as_of)).sum() * SEASONALITY[m.month - 1] for m in months])


def _lines_per_month(month_weight: np.ndarray, total: int) -> np.ndarray:
    """Month weights x 4 % yearly growth, apportioned exactly (largest remainder)."""
    weights = month_weight * 1.04 ** (np.arange(month_weight.size) / 12)
    exact = weights / weights.sum() * total
    lines = np.floor(exact).astype(np.int64)
    lines[np.argsort(lines - exact, kind="stable")[: total - lines.sum()]] += 1
    return lines


def _fx_paths(rng: np.random.Generator, months: int) -> np.ndarray:
    """EUR per unit, currencies x months: a random walk of about 1.2 % a month, EUR fixed at 1."""
    steps = rng.normal(0.0, 0.012, size=(len(FX_START), months))
    steps[:, 0] = 0.0
    paths = np.array(list(FX_START.values()))[:, None] * np.exp(np.cumsum(steps, axis=1))
    return np.vstack([np.ones(months), np.round(paths, 6)])


def _fx_rates(months: list[date], eur_per_unit: np.ndarray) -> pl.DataFrame:
    labels = [f"{m:%Y-%m}" for m in months]
    return pl.DataFrame(
        {
            "currency": np.repeat(CURRENCIES[1:], len(months)),
            "month": labels * (len(CURRENCIES) - 1),
            "rate_to_reporting": eur_per_unit[1:].ravel(),
        }
    ).with_columns(pl.col("rate_to_reporting").cast(FX_RATE))


def _kam_team(rng: np.random.Generator) -> pl.DataFrame:
    """The key account managers (owner ids U1001 on), with their yearly customer-facing capacity and cost."""
    n = len(KAM_TEAM)
    return pl.DataFrame(
        {
            "owner_id": [f"U{1001 + i}" for i in range(n)],
            "name": [name for name, _ in KAM_TEAM],
            "role": ["KAM"] * n,
            "region": [region for _, region in KAM_TEAM],
            "capacity_hours": rng.integers(120, 161, n) * 10.0,
            "hourly_cost": rng.uniform(80, 120, n).round(2),
        }
    ).with_columns(pl.col("hourly_cost").cast(AMOUNT))


def _am_name(region: str, k: int) -> str:
    first, last = AM_NAMES[region]
    return f"{first[k % len(first)]} {last[(k + k // len(first)) % len(last)]}"


def _staff(rng: np.random.Generator, crm: pl.DataFrame, kams: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Account managers sized to the work, and the owner of every account that is not a key account's.

    Each region gets as many AMs as its groups' expected hours (STAFFING_HOURS by the group's expected revenue
    class) fill at about 1 100 hours each. A group goes to one of its region's AMs, drawn with uneven weights
    (AM_APPETITE), so some AMs are over and some under capacity; a subsidiary in another region goes to an AM
    there.
    """
    group, top = crm["_group"].to_numpy(), crm["parent_account_id"].is_null().to_numpy()
    region, key = crm["region"].to_numpy(), crm["is_key_account"].to_numpy()
    revenue = np.bincount(group, crm["_revenue"].to_numpy())
    order = np.argsort(-revenue, kind="stable")
    before = (np.cumsum(revenue[order]) - revenue[order]) / max(revenue.sum(), 1e-12)
    expected = np.empty(revenue.size, dtype=object)
    expected[order] = np.where(before < 0.80, "A", np.where(before < 0.95, "B", "C"))
    hours = np.array([STAFFING_HOURS[c] for c in expected]) * (revenue > 0)
    key_group = np.zeros(revenue.size, dtype=bool)
    key_group[group[top & key]] = True
    group_region = region[top]  # groups are stored contiguously, top account first
    assigned = crm["owner_id"].to_numpy()  # the KAM of a key account's group, empty elsewhere
    rows, owner = [], np.where(assigned != "", assigned, None).astype(object)
    for name in sorted(set(region)):
        demand = hours[(group_region == name) & ~key_group].sum()
        count = max(1, round(demand / np.mean(AM_CAPACITY) / 0.95))
        ids = [f"U{1001 + len(KAM_TEAM) + len(rows) + k}" for k in range(count)]
        appetite = rng.uniform(*AM_APPETITE, count)
        rows += [
            (
                owner_id,
                _am_name(name, k),
                "AM",
                name,
                float(rng.integers(AM_CAPACITY[0] // 10, AM_CAPACITY[1] // 10 + 1) * 10),
            )
            for k, owner_id in enumerate(ids)
        ]
        in_region = np.flatnonzero(group_region == name)
        chosen = np.asarray(ids)[rng.choice(count, size=in_region.size, p=appetite / appetite.sum())]
        group_owner = dict(zip(in_region.tolist(), chosen.tolist(), strict=True))
        for at in np.flatnonzero((owner == None) & (region == name)):  # noqa: E711
            owner[at] = group_owner.get(int(group[at])) if top[at] else ids[rng.integers(0, count)]
    ams = pl.DataFrame(rows, schema=["owner_id", "name", "role", "region", "capacity_hours"], orient="row")
    ams = ams.with_columns(hourly_cost=pl.Series(rng.uniform(60, 80, ams.height).round(2)).cast(AMOUNT))
    managers = pl.concat([kams, ams.select(kams.columns)])
    return managers, crm.with_columns(owner_id=pl.Series(owner.astype(str)))


def _group_sizes(rng: np.random.Generator, accounts: int) -> np.ndarray:
    """Accounts per group: about two in three groups are a single account, a few have dozens."""
    sizes = np.minimum(1 + np.floor(rng.pareto(1.4, accounts) * 0.9).astype(np.int64), 60)
    ends = np.cumsum(sizes)
    groups = int(np.searchsorted(ends, accounts)) + 1
    sizes = sizes[:groups].copy()
    sizes[-1] -= ends[groups - 1] - accounts
    return sizes


def _parents(rng: np.random.Generator, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parent position (-1 for a top account) and local position of every account; groups are stored
    contiguously. A subsidiary hangs under a random earlier member of its group, at most MAX_DEPTH
    levels below the top (a random recursive tree, cut at that depth)."""
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    local = np.arange(starts.size) - starts
    parent = np.where(local > 0, starts + np.floor(rng.random(local.size) ** 2 * local).astype(np.int64), -1)
    depth = np.zeros(local.size, dtype=np.int64)
    for j in range(1, int(sizes.max())):
        at = np.flatnonzero(local == j)
        up = parent[at]
        parent[at] = np.where(depth[up] >= MAX_DEPTH, parent[up], up)
        depth[at] = depth[parent[at]] + 1
    return parent, local


def _pick(rng: np.random.Generator, choices: Sequence[str], size: int, p: Sequence[float]) -> np.ndarray:
    weights = np.asarray(p, dtype=float)
    return np.asarray(choices)[rng.choice(len(choices), size=size, p=weights / weights.sum())]


def _name_heads(rng: np.random.Generator, n: int) -> np.ndarray:
    """Made-up company names such as `Rheinwerk` or `Fjordlux`."""
    return np.char.add(
        np.asarray(NAME_HEADS)[rng.integers(0, len(NAME_HEADS), n)],
        np.asarray(NAME_TAILS)[rng.integers(0, len(NAME_TAILS), n)],
    )


def _crm_accounts(rng: np.random.Generator, n: int, kams: pl.DataFrame, as_of: date) -> tuple[pl.DataFrame, _Groups]:
    """Accounts in their group hierarchy, and what the customers of each group share.

    `employee_count` and `estimated_wallet` stay empty until `_wallets` fills them
    from the revenue. Private columns: `_weight` (expected share of revenue, 0 for
    prospects without ERP customers), `_size` (the same size signal for every
    account, prospects included), `_group` and `_currency` (of its country).
    """
    sizes = _group_sizes(rng, n)
    groups = sizes.size
    parent, local = _parents(rng, sizes)
    group = np.repeat(np.arange(groups), sizes)
    top = local == 0
    top_at = np.cumsum(sizes) - sizes

    group_weight = (rng.pareto(PARETO_SHAPE, groups) + 1.0) * sizes**0.3
    if groups > 1:  # no single customer dwarfs all others: at most twice the second largest
        group_weight = np.minimum(group_weight, 2 * np.sort(group_weight)[-2])
    raw_share = rng.gamma(0.8, size=n) * np.where(top, 2.0, 1.0)
    size_signal = group_weight[group] * raw_share / np.bincount(group, raw_share)[group]
    customer = rng.random(n) >= np.where(sizes[group] == 1, 0.06, 0.12)  # the rest are prospects
    share = raw_share * customer
    group_share = np.bincount(group, share, minlength=groups)
    weight = np.divide(group_weight[group] * share, group_share[group], out=np.zeros(n), where=group_share[group] > 0)

    buying = group_share > 0
    ranked = np.argsort(-(group_weight * buying), kind="stable")[: int(buying.sum())]  # by expected revenue
    before = (np.cumsum(group_weight[ranked]) - group_weight[ranked]) / max(group_weight[ranked].sum(), 1e-12)
    large = np.zeros(groups, dtype=bool)
    large[ranked[before < 0.95]] = True

    lifecycle = rng.choice(len(LIFECYCLES), size=groups, p=LIFECYCLE_SHARES)
    obvious, demote = _key_groups(rng, ranked)
    lifecycle[obvious] = np.where(np.isin(lifecycle[obvious], (STEADY, GROWING)), lifecycle[obvious], STEADY)
    lifecycle[demote] = np.where(np.isin(lifecycle[demote], (NEW, LOST)), STEADY, lifecycle[demote])
    lifecycle[demote[:1]] = DECLINING  # a key account in decline ...
    weak = demote[1:2] if demote.size > 1 else demote[:1]  # ... and one where we are weak
    key_groups = np.concatenate([obvious, demote])

    steep = rng.random(groups) < STEEP_DECLINE_SHARE
    decline = np.where(steep, rng.uniform(0.40, 0.70, groups), rng.uniform(0.15, 0.40, groups))
    yearly = np.select(
        [lifecycle == GROWING, lifecycle == DECLINING, lifecycle == NEW],
        [rng.uniform(0.15, 0.45, groups), -decline, np.full(groups, 0.3)],
        rng.normal(0.0, 0.03, groups),
    )
    lapsed = rng.random(groups) < LAPSED_SHARE
    lost = np.flatnonzero(lifecycle == LOST)
    lost = lost[np.argsort(-group_weight[lost], kind="stable")]
    lapsed[lost[:1]], lapsed[lost[1:2]] = True, False  # however few groups, one lapsed and one lost this year
    end = np.where(
        lifecycle == LOST,
        np.where(lapsed, rng.integers(MONTHS - 31, MONTHS - 13, groups), rng.integers(MONTHS - 12, MONTHS - 3, groups)),
        MONTHS - 1,
    )

    codes = [c.code for c in COUNTRIES]
    shares = [c.share for c in COUNTRIES]
    group_country = _pick(rng, codes, groups, shares)
    country = np.where(top | (rng.random(n) < 0.7), group_country[group], _pick(rng, codes, n, shares))
    by_code = {c.code: c for c in COUNTRIES}
    region = np.array([by_code[c].region for c in country])
    industries = list(INDUSTRIES)
    group_industry = _pick(rng, industries, groups, [s for s, _, _ in INDUSTRIES.values()])
    industry = np.where(
        top | (rng.random(n) < 0.85), group_industry[group], np.asarray(industries)[rng.integers(0, len(industries), n)]
    )

    owner = _key_account_owners(rng, kams, region, group, key_groups)

    # large customers are rarely ones where we are weak; declining and lost ones a little more often
    ranks = np.arange(1, 6)
    position = np.where(
        large[group], rng.choice(ranks, size=n, p=POSITION_LARGE), rng.choice(ranks, size=n, p=POSITION_SMALL)
    )
    position = np.where(np.isin(lifecycle[group], (DECLINING, LOST)), np.maximum(position - 1, 1), position)
    unknown = rng.random(n) < 0.15
    position[top_at[weak]] = rng.integers(1, 3, weak.size)
    unknown[top_at[weak]] = False
    key_account = top & np.isin(group, key_groups)
    young = np.zeros(groups, dtype=bool)  # a quarter of the key accounts joined less than a year ago
    young[rng.choice(key_groups, round(key_groups.size / 4), replace=False)] = True
    days_in = np.where(young[group], rng.integers(20, 350, n), rng.integers(548, 2556, n))  # else 1.5-7 years
    since = np.datetime64(as_of, "D") - days_in

    numbers = 100_001 + rng.permutation(n)
    ids = np.char.add("A", numbers.astype(str))
    heads = _name_heads(rng, groups)
    words = np.array([INDUSTRIES[i][1] for i in group_industry])
    forms = np.array([by_code[c].legal_form for c in country])
    local_names = np.array([by_code[c].local_name for c in country])
    top_name = np.char.add(np.char.add(heads[group], " "), words[group])
    name = np.where(top, top_name, np.char.add(np.char.add(heads[group], " "), local_names))
    name = np.char.add(np.char.add(np.where(top & (sizes[group] > 1), np.char.add(name, " Group"), name), " "), forms)

    frame = pl.DataFrame(
        {
            "account_id": ids,
            "account_name": name,
            "parent_account_id": pl.Series(np.where(parent >= 0, ids[parent], "")).replace("", None),
            "industry": industry,
            "country_code": country,
            "region": region,
            "owner_id": owner,
            "employee_count": pl.Series([None] * n, dtype=pl.Int64),
            "estimated_wallet": pl.Series([None] * n, dtype=AMOUNT),
            "competitive_position": pl.Series(position).scatter(np.flatnonzero(unknown), None),
            "is_key_account": key_account,
            "key_account_since": pl.Series(since).scatter(np.flatnonzero(~key_account), None),
            "_weight": weight,
            "_size": size_signal,
            "_group": group,
            "_currency": [by_code[c].currency for c in country],
        }
    )
    return frame, _Groups(lifecycle=lifecycle, growth=np.log1p(yearly), end=end, large=large)


def _key_groups(rng: np.random.Generator, ranked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Current key accounts, as groups (`ranked` by expected revenue): 12 obvious ones among the 15 largest,
    and 3-4 to demote among the groups ranked 40-120. Small worlds (under about 100 groups) get fewer:
    one obvious key account per eight groups, one to demote per thirty."""
    wanted = min(12, ranked.size // 8)
    obvious = rng.choice(ranked[: round(wanted / 0.8)], wanted, replace=False)
    pool = ranked[39:120] if ranked.size >= 60 else ranked[round(wanted / 0.8) : 120]
    demote = rng.choice(pool, min(int(rng.integers(3, 5)), ranked.size // 30, pool.size), replace=False)
    return obvious, demote


def _overrides(crm: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The KAM committee's overrides: one of each status the method knows (docs/methodology.md §K5.8).

    Picked by the groups' revenue: a mid-sized group the ranking would not
    pick is INCLUDEd (a strategic partnership, expiring within the month), a
    small one is EXCLUDEd though the ranking would not pick it either (no
    effect), an expired INCLUDE, a TIER override that starts next month, and
    an INCLUDE and an EXCLUDE on two accounts of one group (a conflict).
    """
    top = crm.filter(pl.col("parent_account_id").is_null() & ~pl.col("is_key_account"))
    revenue = crm.group_by("_group").agg(pl.col("_revenue").sum().alias("_group_revenue"))
    ranked = top.join(revenue, on="_group").sort("_group_revenue", "account_id", descending=[True, False])
    ranked = ranked.filter(pl.col("_group_revenue") > 0)
    n = ranked.height
    if n < 12:
        return pl.DataFrame(schema=EXTRACTS_BY_NAME["kam_overrides"].schema)
    ids = ranked.get_column("account_id")
    pick = {
        name: ids[min(round(n * share), n - 1)]
        for name, share in {"include": 0.12, "exclude": 0.6, "expired": 0.05, "future": 0.3}.items()
    }
    group_size = crm.group_by("_group").len()
    multi = ranked.join(group_size.filter(pl.col("len") > 1), on="_group").get_column("_group")
    conflict_group = multi[min(2, multi.len() - 1)] if multi.len() else ranked.get_column("_group")[n // 2]
    conflict = crm.filter(pl.col("_group") == conflict_group).sort("account_id").get_column("account_id")
    day = timedelta(days=1)
    rows = [
        ("O-0001", pick["include"], "INCLUDE", None, "Strategic partnership: joint product development",
         "KAM committee", as_of - 60 * day, as_of + 20 * day),
        ("O-0002", pick["exclude"], "EXCLUDE", None, "In litigation over a quality claim",
         "Head of Sales", as_of - 30 * day, None),
        ("O-0003", pick["expired"], "INCLUDE", None, "Pilot of the new service model",
         "KAM committee", as_of - 400 * day, as_of - 10 * day),
        ("O-0004", pick["future"], "TIER", "STRATEGIC", "Reference customer for the new product line",
         "KAM committee", as_of + 20 * day, as_of + 200 * day),
        ("O-0005", conflict[0], "INCLUDE", None, "Group-wide framework agreement",
         "Regional director", as_of - 15 * day, as_of + 180 * day),
        ("O-0006", conflict[-1], "EXCLUDE", None, "Subsidiary in insolvency proceedings",
         "Credit management", as_of - 5 * day, None),
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=EXTRACTS_BY_NAME["kam_overrides"].schema, orient="row")


def _key_account_owners(
    rng: np.random.Generator,
    kams: pl.DataFrame,
    region: np.ndarray,
    group: np.ndarray,
    key_groups: np.ndarray,
) -> np.ndarray:
    """The whole group of a key account goes to one KAM, from the top account's region when that region has
    one; the other accounts get their AM later (`_staff`), so they are empty here."""
    owner = np.full(region.size, "", dtype=object)
    kam_ids, kam_regions = kams["owner_id"].to_numpy(), kams["region"].to_numpy()
    first_of_group = np.searchsorted(group, np.arange(group.max() + 1))
    for g in key_groups:
        local = kam_ids[kam_regions == region[first_of_group[g]]]
        pool = local if local.size else kam_ids
        owner[group == g] = pool[rng.integers(0, pool.size)]
    return owner.astype(str)


def _erp_customers(
    rng: np.random.Generator,
    seed: int,
    crm: pl.DataFrame,
    groups: _Groups,
    month_weight: np.ndarray,
    lines_per_month: np.ndarray,
    line_value: float,
) -> tuple[dict[str, Any], pl.DataFrame, dict[str, np.ndarray]]:
    """ERP customers (1-3 per CRM customer account, plus unmapped ones) with their invoices per month; and per
    CRM account the revenue its invoices bring over the last twelve months and its reference revenue (see
    `_wallets`).

    Revenue adds up to `line_value` per invoice line over the three years;
    unmapped customers carry UNMAPPED_REVENUE_SHARE of every month.
    """
    mapped_accounts = np.flatnonzero(crm["_weight"].to_numpy() > 0)
    per_account = 1 + (rng.random(mapped_accounts.size) < 0.18) + (rng.random(mapped_accounts.size) < 0.04)
    account = np.repeat(mapped_accounts, per_account)
    ordinal = np.arange(account.size) - np.repeat(np.cumsum(per_account) - per_account, per_account)
    split = rng.gamma(1.0, size=account.size)
    split /= np.bincount(account, split, minlength=crm.height)[account]
    weight = crm["_weight"].to_numpy()[account] * split
    group = crm["_group"].to_numpy()[account]
    lifecycle = groups.lifecycle[group]
    mapped = len(account)

    unmapped = max(3, round(mapped * 0.05))
    by_code = {c.code: c for c in COUNTRIES}
    u_country = _pick(rng, list(by_code), unmapped, [c.share for c in COUNTRIES])
    u_names = np.char.add(
        np.char.add(_name_heads(rng, unmapped), " "),
        np.array([by_code[c].legal_form for c in u_country]),
    )

    months = month_weight.size
    t = (np.arange(months) - (months - 6.5)) / 12.0  # years from the middle of the last twelve months
    growth = groups.growth[group] + rng.normal(0.0, 0.02, mapped)
    start = np.where(lifecycle == NEW, rng.integers(months - 15, months - 2, mapped), 0)
    end = groups.end[group]
    end = end - np.where(end < months - 12, rng.integers(0, 3, mapped), 0)  # lapsed customers stop a bit apart
    month = np.arange(months)
    active = (month[None, :] >= start[:, None]) & (month[None, :] <= end[:, None])
    noise = np.exp(rng.normal(0.0, MONTH_NOISE, (mapped + unmapped, months)))
    mapped_r = weight[:, None] * np.exp(growth[:, None] * t[None, :]) * active * noise[:mapped] * month_weight
    total = max(int(lines_per_month.sum()), 1) * line_value * (1 - UNMAPPED_REVENUE_SHARE)
    mapped_r *= total / max(mapped_r.sum(), 1e-12)
    unmapped_r = np.exp(rng.normal(0.0, 0.8, unmapped))[:, None] * noise[mapped:]
    unmapped_r *= mapped_r.sum(axis=0) * UNMAPPED_REVENUE_SHARE / (1 - UNMAPPED_REVENUE_SHARE) / unmapped_r.sum(axis=0)
    revenue = np.vstack([mapped_r, unmapped_r])
    invoice_group = np.concatenate([group, groups.lifecycle.size + np.arange(unmapped)])  # unmapped: on their own
    documents, order_size, doc_base = _documents(rng, revenue, invoice_group, lines_per_month)

    # what the invoices will bring: invoices x order size x the month's value of order size 1, with the
    # invoices' variation (which telescopes, see `invoice_chunk`), less credit notes
    planned = documents[:mapped] * order_size[:mapped, None] * doc_base[None, :]
    windows = [slice(max(months - 12 * (k + 1), 0), months - 12 * k) for k in range(3)]
    yearly = []
    for window in windows:
        before, through = documents[:mapped, : window.start].sum(axis=1), documents[:mapped, : window.stop].sum(axis=1)
        customer = np.arange(mapped)
        wobble = 2 * DOC_WOBBLE * (_uniform(seed, customer, through) - _uniform(seed, customer, before))
        mean_value = planned[:, window].sum(axis=1) / np.maximum(through - before, 1)
        yearly.append((planned[:, window].sum(axis=1) + wobble * mean_value) * (1 - CREDIT_EFFECT))
    run_rate = mapped_r[:, -3:].sum(axis=1) * 4
    per_account = [np.bincount(account, r, minlength=crm.height) for r in (*yearly, run_rate)]
    account_revenue = {"revenue": per_account[0], "reference": np.max(per_account, axis=0)}

    country = np.concatenate([crm["country_code"].to_numpy()[account], u_country])
    home = np.array([CURRENCIES.index(by_code[c].currency) for c in country])
    swiss_in_euro = (country == "CH") & (rng.random(country.size) < 0.3)
    currency = np.where(rng.random(country.size) < EXPORT_SHARE, CURRENCIES.index("USD"), home)
    currency = np.where(swiss_in_euro, 0, currency)

    ids = np.char.add("C", (1_000_001 + rng.permutation(mapped + unmapped)).astype(str))
    account_names = crm["account_name"].to_numpy()[account].astype(str)
    names = np.where(
        ordinal > 0,
        np.char.add(account_names, np.char.add(" (ship-to ", np.char.add((ordinal + 1).astype(str), ")"))),
        account_names,
    )
    frame = pl.DataFrame(
        {
            "erp_customer_id": ids,
            "crm_account_id": pl.Series(np.concatenate([crm["account_id"].to_numpy()[account], [None] * unmapped])),
            "customer_name": np.concatenate([names, u_names]),
            "country_code": country,
        },
        schema={
            "erp_customer_id": pl.String,
            "crm_account_id": pl.String,
            "customer_name": pl.String,
            "country_code": pl.String,
        },
    ).sort("erp_customer_id")
    arrays = {
        "customer_ids": pl.Series(ids),
        "documents": documents,
        "order_size": order_size,
        "doc_base": doc_base,
        "customer_currency": currency,
        "customer_discount": rng.uniform(0.0, MAX_DISCOUNT, country.size),
    }
    return arrays, frame, account_revenue


def _documents(
    rng: np.random.Generator, revenue: np.ndarray, group: np.ndarray, lines_per_month: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Invoices per customer and month, each customer's order size, and the value (EUR) of an invoice of
    order size 1 in every month.

    Invoices have LINES_PER_DOCUMENT lines on average; bigger customers place
    bigger orders (order size grows with the group's monthly revenue to the
    power ORDER_SIZE_EXPONENT), so that smaller ones still get enough invoices
    to have a steady year. Counts are rounded cumulatively over each group,
    month by month and its customers in turn: over any run of months a group
    gets its expected number of invoices give or take one.
    """
    by_group = np.zeros((group.max() + 1, revenue.shape[1]))
    np.add.at(by_group, group, revenue)
    level = by_group.sum(axis=1) / np.maximum((by_group > 0).sum(axis=1), 1)  # revenue per active month
    typical = np.median(level[level > 0]) if (level > 0).any() else 1.0
    order_size = ((np.maximum(level, 1e-12) / typical) ** ORDER_SIZE_EXPONENT)[group]
    per_order_size = (revenue / order_size[:, None]).sum(axis=0)
    wanted = lines_per_month / LINES_PER_DOCUMENT
    doc_base = np.divide(per_order_size, wanted, out=np.zeros(wanted.size), where=wanted > 0)
    expected = np.divide(
        revenue / order_size[:, None], doc_base, out=np.zeros_like(revenue), where=doc_base[None, :] > 0
    )
    return _round_by_group(rng, expected, group), order_size, doc_base


def _round_by_group(rng: np.random.Generator, expected: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Whole numbers for `expected` (customers x months) whose running sum over a group, taken month by month
    and within a month customer by customer, never strays by one or more from the expected running sum."""
    customers, months = expected.shape
    members = np.bincount(group)
    first = np.cumsum(members) - members
    rank = np.empty(customers, dtype=np.int64)
    rank[np.argsort(group, kind="stable")] = np.arange(customers)
    # position of (customer, month) in the sequence: the group's block, then the month, then the customer
    at = (first[group] * months + rank - first[group])[:, None] + np.arange(months)[None, :] * members[group][:, None]
    flat = np.empty(customers * months)
    flat[at.ravel()] = expected.ravel()
    block = np.repeat(np.arange(members.size), members * months)
    running = np.cumsum(flat)
    before = np.concatenate([[0.0], running])[first * months][block]  # running sum before the group's block
    rounded = np.floor(running - before + rng.random(members.size)[block])
    counts = np.diff(rounded, prepend=0.0)
    counts[first[members > 0] * months] = rounded[first[members > 0] * months]  # a block starts from zero
    return counts[at].astype(np.int64)


def _wallets(
    rng: np.random.Generator, crm: pl.DataFrame, groups: _Groups, *, revenue: np.ndarray, reference: np.ndarray
) -> pl.DataFrame:
    """`estimated_wallet` and `employee_count`, consistent with what the account buys.

    Every account has a wallet: its reference revenue (the largest of what its
    invoices bring over the last twelve months and over each year before, and
    of its current run rate: a declining or lapsed customer's wallet did not
    shrink, our share did) divided by a share of wallet drawn from Beta(2, 3),
    clipped to [0.05, 0.9]. A prospect's reference revenue comes from its size
    signal at the revenue per unit of size of the customers. Sales entered
    the wallet for about a third of the accounts, group by group (more often
    for large groups), so that a group's wallet is rarely missing a big part;
    about nine in ten accounts have a headcount, which is the wallet over the
    industry's spend per employee (config/kam.toml) with lognormal noise.
    """
    n = crm.height
    weight, size = crm["_weight"].to_numpy(), crm["_size"].to_numpy()
    scale = revenue.sum() / max(weight[reference > 0].sum(), 1e-12)  # EUR a year per unit of size
    basis = np.where(reference > 0, reference, size * scale)
    share = np.clip(rng.beta(2.0, 3.0, n), 0.05, 0.9)
    wallet = np.maximum(_round_significant(basis / share, 3), MIN_WALLET)
    spend = np.array([INDUSTRIES[i][2] for i in crm["industry"]])
    employees = np.clip(np.round(wallet / spend * np.exp(rng.normal(0.0, 0.3, n))), 3, 250_000)
    has_employees = rng.random(n) >= 0.1
    group = crm["_group"].to_numpy()
    estimated = rng.random(groups.large.size) < np.where(groups.large, WALLET_LARGE, WALLET_SMALL)
    has_wallet = estimated[group] & (rng.random(n) >= 0.1)
    return crm.with_columns(
        employee_count=pl.Series(employees.astype(np.int64)).scatter(np.flatnonzero(~has_employees), None),
        estimated_wallet=pl.Series(wallet).scatter(np.flatnonzero(~has_wallet), None).cast(AMOUNT),
        _revenue=revenue,
        _basis=basis,
    )


def _round_significant(x: np.ndarray, digits: int) -> np.ndarray:
    """Round positive amounts to `digits` significant digits (at least to cents), as sales would write them."""
    exponent = np.floor(np.log10(np.maximum(x, 0.01))) - (digits - 1)
    step = 10.0 ** np.maximum(exponent, -2)
    return np.round(x / step) * step


def _opportunities(
    rng: np.random.Generator, crm: pl.DataFrame, groups: _Groups, eur_per_unit: np.ndarray, as_of: date
) -> pl.DataFrame:
    """About 1.5 opportunities per account, more on bigger accounts, worth a few percent of the account's yearly
    revenue (of its wallet basis for prospects and lapsed customers) plus a small project's worth; declining and
    lost groups lose more deals.
    BIG_LOSS_SHARE of the large groups lost a deal worth 30-70 % of their yearly revenue in the last twelve months."""
    n = round(crm.height * 1.5)
    weight = crm["_weight"].to_numpy()
    group = crm["_group"].to_numpy()
    p = np.sqrt(weight) + np.sqrt(weight).mean() * 0.5
    account = rng.choice(crm.height, size=n, p=p / p.sum())
    troubled = np.isin(groups.lifecycle[group[account]], (DECLINING, LOST))
    u = rng.random(n)
    status = np.where(
        troubled,
        np.select([u < 0.25, u < 0.45], ["OPEN", "WON"], "LOST"),
        np.select([u < 0.35, u < 0.70], ["OPEN", "WON"], "LOST"),
    )
    created = np.datetime64(as_of, "D") - rng.integers(0, 730, n)
    closed = np.minimum(created + rng.integers(14, 200, n), np.datetime64(as_of, "D"))
    close = np.where(status == "OPEN", created + rng.integers(30, 270, n), closed)
    probability = np.select([status == "WON", status == "LOST"], [1.0, 0.0], rng.choice(np.arange(1, 10) / 10, size=n))
    deals = np.bincount(account, minlength=crm.height)[account]
    basis = crm["_basis"].to_numpy()
    eur_amount = basis[account] / np.sqrt(deals) * np.exp(rng.normal(np.log(DEAL_SHARE), 0.6, n))
    eur_amount += SMALL_PROJECT * np.exp(rng.normal(0.0, 0.5, n))

    group_revenue = np.bincount(group, crm["_revenue"].to_numpy(), minlength=groups.lifecycle.size)
    candidates = np.flatnonzero(groups.large & (group_revenue > 0))
    odds = np.where(np.isin(groups.lifecycle[candidates], (DECLINING, LOST)), 3.0, 1.0)
    big = candidates  # none in samples too small to have revenue
    if candidates.size:
        big = rng.choice(candidates, round(candidates.size * BIG_LOSS_SHARE), replace=False, p=odds / odds.sum())
    top_at = np.searchsorted(group, np.arange(groups.lifecycle.size))
    big_close = np.datetime64(as_of, "D") - rng.integers(10, 330, big.size)
    account = np.concatenate([account, top_at[big]])
    status = np.concatenate([status, np.full(big.size, "LOST")])
    created = np.concatenate([created, big_close - rng.integers(30, 200, big.size)])
    close = np.concatenate([close, big_close])
    probability = np.concatenate([probability, np.zeros(big.size)])
    eur_amount = np.concatenate([eur_amount, group_revenue[big] * rng.uniform(0.3, 0.7, big.size)])

    currency = crm["_currency"].to_numpy()[account]
    rate = eur_per_unit[[CURRENCIES.index(c) for c in currency]]
    order = np.argsort(created, kind="stable")
    return pl.DataFrame(
        {
            "opportunity_id": [f"OPP-{i:06d}" for i in range(1, account.size + 1)],
            "account_id": crm["account_id"].to_numpy()[account][order],
            "status": status[order],
            "amount": np.maximum(np.round(eur_amount / rate, -2), 100.0)[order],
            "currency": currency[order],
            "probability": probability[order],
            "created_date": created[order],
            "close_date": close[order],
        }
    ).with_columns(pl.col("amount").cast(AMOUNT))


def _products(rng: np.random.Generator) -> dict[str, Any]:
    popularity = 1.0 / np.arange(1, PRODUCTS + 1) ** 0.9
    cost_ratio = rng.uniform(0.5, 0.85, PRODUCTS)
    cost_ratio[rng.random(PRODUCTS) < 0.08] = np.nan
    return {
        "product_ids": pl.Series([f"P-{10_001 + i}" for i in range(PRODUCTS)]),
        "product_price": np.round(np.exp(rng.normal(np.log(40), 1.1, PRODUCTS)), 2) + 0.5,
        "product_pack": rng.choice([1, 1, 1, 5, 10, 25], size=PRODUCTS),
        "product_cost_ratio": cost_ratio,
        "product_popularity": rng.permutation(popularity / popularity.sum()),
    }


def _line_value(products: dict[str, Any]) -> float:
    """Expected net amount (EUR) of an invoice line in the product model: a popular product's list price
    x its pack x a mean order of MEAN_PACKS packs, less the mean customer discount."""
    list_value = (products["product_popularity"] * products["product_price"] * products["product_pack"]).sum()
    return float(list_value * MEAN_PACKS * (1 - MAX_DISCOUNT / 2))


# --------------------------------------------------------------------------- invoice lines


def _uniform(seed: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A uniform number in [0, 1) for every pair (a, b), the same whenever asked (a SplitMix64 hash)."""
    with np.errstate(over="ignore"):
        x = np.uint64(seed % 2**64) * np.uint64(0x9E3779B97F4A7C15)
        x = (
            x
            + a.astype(np.uint64) * np.uint64(0xBF58476D1CE4E5B9)
            + b.astype(np.uint64) * np.uint64(0x94D049BB133111EB)
        )
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / 2.0**53


def _document_sizes(rng: np.random.Generator, docs: int, lines: int) -> np.ndarray:
    """Lines per document: one each, and the rest spread in proportion to geometric draws (mean about
    LINES_PER_DOCUMENT in all), summing to exactly `lines` (at least `docs`)."""
    if not docs:
        return np.zeros(0, dtype=np.int64)
    extra = np.minimum(rng.geometric(1 / LINES_PER_DOCUMENT, docs), 40) - 1
    if not extra.sum():
        extra[:] = 1
    ends = np.cumsum(extra) * (lines - docs) // extra.sum()
    return 1 + np.diff(ends, prepend=0)


def invoice_chunk(model: InvoiceModel, m: int, c: int, n: int) -> pl.DataFrame:
    """The `n` typed invoice lines of month `m`, chunk `c`.

    The chunk's invoices come from the model's invoices per customer and month
    (see `_chunk_invoices`). An invoice is worth the customer's order size x
    the month's value of order size 1, varied by a factor 1 + e(k+1) - e(k)
    where e(k) = +-DOC_WOBBLE is fixed per customer and invoice number k:
    single invoices vary, a year's sum does not. Credit notes take back 5-50 %
    of an invoice of the chunk. The chunk's lines are spread over its
    documents, and each line sells a product in the quantity that carries a
    random share of its document's value. Each chunk has its own random
    stream, so chunks are reproducible independently of each other.
    """
    taken, taken_before, credits, first_seq = _chunk_invoices(model, m, c)
    rng = np.random.default_rng([model.seed, 1, m, c])
    customer = np.repeat(np.arange(taken.size), taken)
    number = model.documents[:, :m].sum(axis=1)[customer] + taken_before[customer]
    number += np.arange(customer.size) - np.repeat(np.cumsum(taken) - taken, taken)  # invoices of the customer before
    wobble = DOC_WOBBLE * 2 * (_uniform(model.seed, customer, number + 1) - _uniform(model.seed, customer, number))
    value = model.order_size[customer] * model.doc_base[m] * (1 + wobble)
    taken_back = rng.integers(0, max(customer.size, 1), credits)
    credit = np.arange(customer.size + credits) >= customer.size
    customer = np.concatenate([customer, customer[taken_back]])
    value = np.concatenate([value, -value[taken_back] * rng.uniform(0.05, 0.5, credits)])
    if n and not customer.size:  # tiny samples: the busiest customer gets an invoice
        customer = np.array([int(np.argmax(model.documents.sum(axis=1)))])
        value, credit = model.order_size[customer] * model.doc_base[m], np.zeros(1, dtype=bool)
    order = rng.permutation(customer.size)
    customer, value, credit = customer[order], value[order], credit[order]
    lines_per_doc = _document_sizes(rng, customer.size, n)
    days = _month_days(model.months[m], model.as_of)
    weights = _weekday_weights(days)
    day = days[np.sort(rng.choice(days.size, size=customer.size, p=weights / weights.sum()))]

    doc = np.repeat(np.arange(customer.size), lines_per_doc)
    line_no = np.arange(n) - np.repeat(np.cumsum(lines_per_doc) - lines_per_doc, lines_per_doc) + 1
    share = rng.gamma(LINE_SHAPE, size=n)
    target = value[doc] * share / np.bincount(doc, share, minlength=customer.size)[doc]  # EUR, signed
    cust = customer[doc]
    is_credit = credit[doc]
    discount = model.customer_discount[cust]
    # a popular product among those the line buys at least two of: small orders are of cheap products
    by_price = np.argsort(model.product_price, kind="stable")
    popular = np.cumsum(model.product_popularity[by_price])
    affordable = np.searchsorted(model.product_price[by_price], np.abs(target) / 2 / (1 - discount))
    reach = popular[np.maximum(affordable, 1) - 1]
    product = by_price[np.minimum(np.searchsorted(popular, rng.random(n) * reach, side="right"), PRODUCTS - 1)]
    price = model.product_price[product]
    pack = model.product_pack[product]
    unit = price * (1 - discount)  # EUR net of an item
    packs = np.round(np.abs(target) / (unit * pack))
    quantity = np.where(packs >= PACKS_MIN, packs * pack, np.maximum(np.round(np.abs(target) / unit), 1))
    quantity = np.where(is_credit, -quantity, quantity).astype(np.int64)
    # whole units rarely make the document's value: its prices absorb the difference, within PRICE_ADJUSTMENT
    made = np.bincount(doc, quantity * unit, minlength=customer.size)[doc]
    wanted = value[doc]
    adjust = np.clip(np.divide(wanted, made, out=np.ones(n), where=made != 0), 1 / PRICE_ADJUSTMENT, PRICE_ADJUSTMENT)
    rate = model.eur_per_unit[model.customer_currency[cust], m]
    list_value = quantity * price / rate
    net = np.round(list_value * (1 - discount) * adjust * np.exp(rng.normal(0, 0.05, n)), 2)
    net = np.where(is_credit, np.minimum(net, -0.01), np.maximum(net, 0.01))
    cost = np.round(list_value * model.product_cost_ratio[product], 2)
    cost[rng.random(n) < 0.02] = np.nan

    document_ids = pl.DataFrame(
        {"credit": credit, "seq": np.arange(first_seq + 1, first_seq + credit.size + 1)}
    ).select(
        pl.concat_str(
            pl.when(pl.col("credit")).then(pl.lit("CN")).otherwise(pl.lit("IN")),
            pl.lit(f"-{model.months[m]:%Y%m}-"),
            pl.col("seq").cast(pl.String).str.zfill(7),
        )
    )
    return pl.DataFrame(
        {
            "invoice_id": document_ids.to_series().gather(doc),
            "line_no": line_no,
            "document_type": pl.Series(["INVOICE", "CREDIT_NOTE"]).gather(is_credit.astype(np.int64)),
            "invoice_date": day[doc],
            "erp_customer_id": model.customer_ids.gather(cust),
            "product_id": model.product_ids.gather(product),
            "quantity": quantity,
            "net_amount": pl.Series(net).cast(AMOUNT),
            "cost_amount": pl.Series(cost, nan_to_null=True).cast(AMOUNT),
            "currency": pl.Series(CURRENCIES).gather(model.customer_currency[cust]),
        }
    )


def _chunk_invoices(model: InvoiceModel, m: int, c: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Invoices of chunk `c` of month `m` per customer, those of the month's earlier chunks per customer, the
    chunk's credit notes, and the documents of the earlier chunks.

    The month's invoices are shared out to its chunks in proportion to their
    lines, each chunk drawing its own from what the earlier ones left
    (multivariate hypergeometric) on a random stream of the month, replayed
    up to the chunk: memory stays bounded by the chunk, not the month.
    """
    sizes = model.chunk_sizes()
    lines = np.array([sizes[(m, k)] for k in range(c + 1)])
    total = int(model.lines_per_month[m])
    remaining = model.documents[:, m].astype(np.int64)
    counts = np.diff(int(remaining.sum()) * np.cumsum(lines) // max(total, 1), prepend=0)
    rng = np.random.default_rng([model.seed, 2, m])
    before = 0
    for k in range(c + 1):
        invoices = int(min(counts[k], lines[k], remaining.sum()))
        taken = rng.multivariate_hypergeometric(remaining, invoices, method="marginals")
        credits = min(int(rng.binomial(invoices, CREDIT_NOTE_SHARE / (1 - CREDIT_NOTE_SHARE))), lines[k] - invoices)
        if k < c:
            remaining -= taken
            before += invoices + credits
    return taken, model.documents[:, m] - remaining, credits, before


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.sample_data",
        description="Write a deterministic sample landing set (ERP and CRM extracts) for the KAM pipeline.",
    )
    parser.add_argument("--out", type=Path, required=True, help="landing directory; extract files in it are replaced")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--accounts", type=int, default=3000, help="CRM accounts (default 3000)")
    parser.add_argument("--invoice-lines", type=int, default=200_000, help="invoice lines in total (default 200000)")
    parser.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF, help="last invoice date, YYYY-MM-DD")
    parser.add_argument("--format", dest="fmt", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--bad-rows", action="store_true", help="inject a handful of bad rows of every kind")
    parser.add_argument(
        "--defect-rate", type=float, help="share of invoice lines made bad per defect kind (implies --bad-rows)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        report = generate(
            args.out,
            seed=args.seed,
            accounts=args.accounts,
            invoice_lines=args.invoice_lines,
            as_of=args.as_of,
            fmt=args.fmt,
            bad_rows=args.bad_rows,
            defect_rate=args.defect_rate,
        )
    except ValueError as exc:
        parser.error(str(exc))
    print(report.summary())
    print(f"in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
