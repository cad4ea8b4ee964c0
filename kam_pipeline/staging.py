"""Staging one extract: find its files, parse, validate, keep every row.

Pure with respect to the warehouse: it reads the landing files and returns
frames; the Dagster asset decides where they are written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from kam_pipeline.contract import Extract
from kam_pipeline.contract.rules import AcyclicHierarchy, References, RuleContext
from kam_pipeline.errors import ExtractError
from kam_pipeline.landing import extract_files
from kam_pipeline.parsing import attach_raw, parse_file
from kam_pipeline.quarantine import empty_rejections
from kam_pipeline.validation import derived_columns, validate_rows


@dataclass(frozen=True)
class StagedExtract:
    """Accepted rows, quarantine rows and the counts that must reconcile."""

    extract: Extract
    files: list[str]
    rows_read: int
    accepted: pl.DataFrame
    rejected: pl.DataFrame
    checked: pl.DataFrame  # parsed rows with derived columns: what Great Expectations evaluates
    context: RuleContext  # the rule context including the extract's own accepted keys

    @property
    def rows_rejected(self) -> int:
        return self.rejected.select("source_file", "source_row").n_unique() if len(self.rejected) else 0

    @property
    def balanced(self) -> bool:
        return self.rows_read == len(self.accepted) + self.rows_rejected


def _fx_currencies_by(as_of: date) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """Currencies with a rate in the as-of month or earlier: opportunity
    amounts are converted at the latest such rate (docs/methodology.md)."""
    month = f"{as_of.year:04d}-{as_of.month:02d}"
    return lambda f: f.filter(pl.col("month") <= month).select(pl.col("currency").unique().sort().alias("key"))


def _reference_keys(as_of: date) -> dict[str, tuple[str, Callable[[pl.DataFrame], pl.DataFrame]]]:
    """How the accepted rows of an extract become the key set that references
    to it are checked against (one entry per `References.target`)."""
    return {
        "fx_rates": ("fx_rates", lambda f: f.select(pl.concat_str(["currency", "month"], separator="|").alias("key"))),
        "fx_currencies": ("fx_rates", _fx_currencies_by(as_of)),
        "account_managers": ("account_managers", lambda f: f.select(pl.col("owner_id").alias("key"))),
        "crm_accounts": ("crm_accounts", lambda f: f.select(pl.col("account_id").alias("key"))),
        "erp_customers": ("erp_customers", lambda f: f.select(pl.col("erp_customer_id").alias("key"))),
    }


def referenced_extracts(extract: Extract) -> list[str]:
    """Other extracts this one's rules refer to (its upstream dependencies)."""
    sources = _reference_keys(date.min)
    targets = {sources[r.target][0] for r in extract.rules if isinstance(r, References)}
    return sorted(t for t in targets if t != extract.name)


def rule_context(
    extract: Extract, accepted: Mapping[str, pl.DataFrame], as_of: date, reporting_currency: str
) -> RuleContext:
    """Key sets of every extract this one references, from their accepted rows."""
    sources = _reference_keys(as_of)
    keys = {}
    for rule in extract.rules:
        if isinstance(rule, References) and rule.target != extract.name:
            source, to_keys = sources[rule.target]
            keys[rule.target] = to_keys(accepted[source])
    return RuleContext(as_of=as_of, reporting_currency=reporting_currency, keys=keys)


def _sample(frame: pl.DataFrame, rows: int | None) -> pl.DataFrame:
    """At most `rows` rows, the same ones on every run (Great Expectations'
    share of the validation; the quarantine checks every row)."""
    return frame if rows is None or len(frame) <= rows else frame.sample(n=rows, seed=0)


def stage_extract(
    extract: Extract, landing_dir: Path, ctx: RuleContext, check_rows: int | None = None
) -> StagedExtract:
    """Parse and validate every file of `extract` in the landing directory.

    `checked`, the frame Great Expectations evaluates, holds at most
    `check_rows` parsed rows (a deterministic sample), so that its derived
    columns are not computed for millions of rows only to be sampled later.

    Raises ExtractError for structural problems (no file, missing column,
    wrong encoding, empty mandatory extract); row problems never raise.
    """
    files = extract_files(extract, landing_dir)
    names = {path.relative_to(landing_dir).as_posix(): path for path in files}
    parsed = [parse_file(extract, path, name) for name, path in names.items()]
    rows_read = sum(p.rows_read for p in parsed)
    if rows_read == 0 and not extract.may_be_empty:
        raise ExtractError(", ".join(names), f"the {extract.name} extract has no data rows", "at least one row")
    rows = pl.concat([p.rows for p in parsed])
    validated = validate_rows(extract, rows, ctx)
    own = {extract.name: validated.accepted.select(extract.key[0])}
    full_ctx = RuleContext(ctx.as_of, ctx.reporting_currency, {**ctx.keys, **own})
    hierarchy = any(isinstance(r, AcyclicHierarchy) for r in extract.rules)  # needs every account
    checked = _sample(derived_columns(extract, rows if hierarchy else _sample(rows, check_rows), full_ctx), check_rows)
    rejected = pl.concat([empty_rejections(), *[p.rejected for p in parsed], validated.rejected])
    return StagedExtract(
        extract=extract,
        files=list(names),
        rows_read=rows_read,
        accepted=validated.accepted,
        rejected=attach_raw(rejected, names).sort("source_file", "source_row", "rule"),
        checked=checked,
        context=full_ctx,
    )
