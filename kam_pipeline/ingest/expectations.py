"""Great Expectations suites derived from the contract, and their Data Docs.

The suite of an extract is generated from the same rule objects that drive
the quarantine (kam_pipeline/contract), so no rule is written twice. It runs
on the pandas engine (the SQL engine is broken on DuckDB, see
docs/decisions.md §5), strings Arrow-backed and numbers and dates as NumPy
columns (`_ge_frame`), on at most `ge_max_rows` rows per extract (a
deterministic sample above that, drawn in kam_pipeline/ingest/staging.py): Great Expectations gives the second
opinion, the per-rule evidence and the Data Docs, while the vectorised
quarantine checks every row. Great Expectations is imported lazily because
its import costs seconds.

Validations only store their results in the context of their Data Docs
folder; `build_data_docs` renders the site once, after the run's last
validation: each rebuild renders every page, so one per extract cost a
rebuild of all earlier extracts' pages too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from kam_pipeline.ingest.contract import Extract
from kam_pipeline.ingest.contract.rules import RuleContext

SITE = "kam"


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result, tied back to the contract rule."""

    rule: str
    group: str
    expectation: str
    success: bool
    unexpected_count: int
    sample: list[Any]
    rows_evaluated: int


#: The ephemeral context of each Data Docs folder that this process validated into.
_CONTEXTS: dict[str, Any] = {}


def _context(docs_dir: str) -> Any:
    """One ephemeral context per process and Data Docs folder, so that a
    run's validations accumulate in one Data Docs index."""
    if docs_dir in _CONTEXTS:
        return _CONTEXTS[docs_dir]
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.add_data_docs_site(
        site_name=SITE,
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": docs_dir},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    context.data_sources.add_pandas("extracts")
    _CONTEXTS[docs_dir] = context
    return context


#: The dates a NumPy datetime64[ns] column holds (years 1678 to 2261).
NS_DATES = (date(1678, 1, 1), date(2261, 12, 31))


def _ge_frame(frame: pl.DataFrame) -> Any:
    """The pandas frame Great Expectations' pandas engine checks. Strings stay
    Arrow-backed; numbers and dates go to NumPy columns, on which its range
    checks are vectorised, where on Arrow-backed ones they call a Python
    function per value (0.2-0.4 s per range rule on a 250 000-row sample):
    decimals as floats (the engine compares numbers, not Arrow decimals),
    signed integers as int64 when they have no null (else they stay Arrow: a float
    would show 3.0 for 3), dates as datetime64[ns], the unit the engine
    vectorises, or as datetime64[us] when one is outside what nanoseconds
    hold (a year 9999 is a row to quarantine, not a crash; checked value by
    value). Date bounds of expectations are therefore datetimes
    (`NotAfterAsOf.expectation`)."""
    frame = frame.with_columns(pl.col(pl.Decimal).cast(pl.Float64))
    dates = [c for c, t in frame.schema.items() if t == pl.Date]
    ints = [c for c, t in frame.schema.items() if t.is_signed_integer() and frame.get_column(c).null_count() == 0]
    as_datetimes = pl.Datetime("ns") if _fit_ns(frame, dates) else pl.Datetime("us")
    frame = frame.with_columns(pl.col(dates).cast(as_datetimes), pl.col(ints).cast(pl.Int64))
    native = [c for c, t in frame.schema.items() if c in ints or t.is_float() or t == as_datetimes]
    pandas = frame.drop(native).to_pandas(use_pyarrow_extension_array=True)
    for column, values in frame.select(native).to_pandas().items():
        pandas[column] = values
    return pandas[frame.columns]


def _fit_ns(frame: pl.DataFrame, dates: list[str]) -> bool:
    """Whether every value of the `dates` columns fits datetime64[ns]."""
    if not dates:
        return True
    bounds = frame.select(pl.col(dates).min().name.prefix("min_"), pl.col(dates).max().name.prefix("max_")).row(0)
    return all(NS_DATES[0] <= v <= NS_DATES[1] for v in bounds if v is not None)


def run_suite(
    extract: Extract,
    frame: pl.DataFrame,
    ctx: RuleContext,
    *,
    docs_dir: Path,
    run_name: str,
    sample_failures: int,
) -> list[ExpectationOutcome]:
    """Validate `frame` (parsed rows with derived check columns, already
    sampled by the caller) against the extract's suite and return one outcome
    per rule. The result joins the Data Docs of `docs_dir` when
    `build_data_docs` renders them."""
    import great_expectations as gx

    docs_dir.mkdir(parents=True, exist_ok=True)
    context = _context(str(docs_dir))
    name = f"{extract.name}__{run_name}"
    source = context.data_sources.get("extracts")
    batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("all")
    suite = context.suites.add(gx.ExpectationSuite(name))
    for rule in extract.all_rules():
        expectation = rule.expectation(ctx)
        expectation.meta = {"rule": rule.name, "group": rule.group, "contract": rule.describe()}
        suite.add_expectation(expectation)
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=name,
            validation_definitions=[definition],
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": sample_failures},
        )
    )
    result = checkpoint.run(batch_parameters={"dataframe": _ge_frame(frame)})
    outcomes = []
    for validation in result.run_results.values():
        for item in validation.results:
            config = item.expectation_config
            outcomes.append(
                ExpectationOutcome(
                    rule=config.meta["rule"],
                    group=config.meta["group"],
                    expectation=config.type,
                    success=bool(item.success),
                    unexpected_count=int(item.result.get("unexpected_count") or 0),
                    sample=[_plain(v) for v in item.result.get("partial_unexpected_list") or []],
                    rows_evaluated=len(frame),
                )
            )
    return outcomes


def _plain(value: Any) -> Any:
    """JSON-friendly sample values for Dagster metadata: null for every kind
    of missing value, ISO text for dates (whichever column `_ge_frame` made of
    them), lists for the pairs of pair rules."""
    import pandas as pd  # loaded with Great Expectations

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date | datetime | pd.Timestamp | np.datetime64):
        value = pd.Timestamp(value)
        return None if pd.isna(value) else value.date().isoformat() if value.time() == time() else value.isoformat()
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def data_docs_index(docs_dir: Path) -> Path:
    return docs_dir / "index.html"


def build_data_docs(docs_dir: Path) -> Path | None:
    """Render the Data Docs of every validation this process ran into
    `docs_dir`, once; None when it ran none (every extract reused a stored
    validation, whose Data Docs are those of the run that validated it)."""
    context = _CONTEXTS.get(str(docs_dir))
    if context is None:
        return None
    context.build_data_docs(site_names=[SITE])
    return data_docs_index(docs_dir)
