"""Great Expectations suites derived from the contract, and their Data Docs.

The suite of an extract is generated from the same rule objects that drive
the quarantine (kam_pipeline/contract), so no rule is written twice. It runs
on the pandas engine over Arrow-backed frames (the SQL engine is broken on
DuckDB, see docs/decisions.md §5), on at most `ge_max_rows` rows per extract (a
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
from pathlib import Path
from typing import Any

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


def _ge_frame(frame: pl.DataFrame) -> Any:
    """Arrow-backed pandas frame; decimals as floats (the pandas engine
    compares numbers, not Arrow decimals)."""
    frame = frame.with_columns(pl.col(pl.Decimal).cast(pl.Float64))
    return frame.to_pandas(use_pyarrow_extension_array=True)


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
    """JSON-friendly sample values for Dagster metadata."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, str | int | float | bool) or value is None:
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
