"""Timers around a few pipeline functions, to split a step into its parts.

The staging steps parse, validate, run Great Expectations and write in one
Dagster step, and their metadata carries no timings, so the benchmark wraps
the functions below with a timer in its own process (no pipeline code
changes). Each call is recorded as (part, start, end) in wall-clock seconds;
the runner attributes calls to the step that was running. A function that
has been renamed or moved is skipped and reported as missing, so the
benchmark keeps working while the pipeline changes (parse_file and
parse_cached are alternatives: older code calls the one, newer the other).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import time
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl

#: (module, attribute, part). The module is where callers look the name up.
PROBES: tuple[tuple[str, str, str], ...] = (
    ("assets.staging", "stage_extract", "parse+validate (stage_extract)"),
    ("kam_pipeline.ingest.staging", "parse_file", "ingest: parse and cast (parse_file)"),
    ("kam_pipeline.ingest.staging", "parse_cached", "ingest: parse or reuse the cached parse (parse_cached)"),
    ("kam_pipeline.ingest.staging", "validate_rows", "validate: contract rules (validate_rows)"),
    ("kam_pipeline.ingest.staging", "derived_columns", "validate: derived check columns (derived_columns)"),
    ("kam_pipeline.ingest.staging", "attach_raw", "validate: raw records of rejections (attach_raw)"),
    ("kam_pipeline.ingest.staging", "later_copies", "validate: key uniqueness across files (key_copies.later_copies)"),
    ("kam_pipeline.ingest.staging", "validate_files", "validate: rules file by file, stored per file (validate_files)"),
    ("kam_pipeline.ingest.file_rules", "validate_rows", "validate: contract rules of a changed file (validate_rows)"),
    ("kam_pipeline.ingest.file_rules", "as_of_seen", "validate: as-of seen per file (as_of_seen)"),
    ("kam_pipeline.ingest.staging", "context_digest", "validate: digest of the rule context (context_digest)"),
    ("kam_pipeline.ingest.staging", "staged_files", "validate: file versions (staged_files)"),
    ("assets.tables", "invoice_days", "compute: daily totals per file (invoice_days)"),
    ("kam_pipeline.warehouse.publish", "_refresh_rows", "publish: rows of changed files replaced (_refresh_rows)"),
    ("kam_pipeline.ingest.staging", "check_sample", "validate: Great Expectations sample (check_sample)"),
    ("kam_pipeline.ingest.staging", "run_suite", "validate: Great Expectations (run_suite)"),
    (
        "kam_pipeline.ingest.staging",
        "fingerprint",
        "validate: fingerprint of the inputs (validation_store.fingerprint)",
    ),
    ("kam_pipeline.ingest.staging", "load", "validate: load a stored validation (validation_store.load)"),
    ("kam_pipeline.warehouse.database", "stage_view", "write: staging view and its row count (stage_view)"),
    ("assets.staging", "_group_results", "validate: check results (_group_results)"),
    ("kam_pipeline.warehouse.database", "replace_table", "write: DuckDB replace_table"),
    ("kam_pipeline.warehouse.database", "replace_rows", "write: DuckDB replace_rows"),
    ("kam_pipeline.warehouse.database", "read_table", "read: DuckDB read_table"),
    ("assets.segmentation", "build_customer_segments", "compute: build_customer_segments"),
    ("kam_pipeline.segmentation.segments", "customer_revenue", "compute: customer_revenue (scan of lines)"),
    ("assets.quality", "unmapped_customers", "compute: unmapped_customers (scan of lines)"),
    ("assets.quality", "build_data_docs", "validate: Great Expectations Data Docs, once per run (build_data_docs)"),
    ("assets.publish", "publish", "publish: build file and swap (publish)"),
    ("kam_pipeline.warehouse.publish", "_copy_declared_tables", "publish: copy tables (_copy_declared_tables)"),
)

PARQUET_WRITE = "write: Parquet (DataFrame.write_parquet)"
#: `warehouse.connect` is a context manager: its exit closes the connection,
#: which checkpoints what the step wrote (the write's second half).
CLOSE = ("kam_pipeline.warehouse.database", "connect", "write: DuckDB close/checkpoint (warehouse.connect exit)")

calls: list[tuple[str, float, float]] = []
missing: list[str] = []


def _timed(part: str, function: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.isgeneratorfunction(function):
        return function  # generators would be timed at creation only

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.time()
        try:
            return function(*args, **kwargs)
        finally:
            calls.append((part, start, time.time()))

    return wrapper


def _timed_exit(part: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Time the exit of a context manager (only when the block ends normally)."""

    @contextlib.contextmanager
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        with function(*args, **kwargs) as value:
            yield value
            start = time.time()
        calls.append((part, start, time.time()))

    return wrapper


def install() -> None:
    """Wrap every probe that exists; remember the ones that do not."""
    for module_name, attribute, part in PROBES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            missing.append(f"{module_name}.{attribute}")
            continue
        function = getattr(module, attribute, None)
        if not callable(function):
            missing.append(f"{module_name}.{attribute}")
            continue
        setattr(module, attribute, _timed(part, function))
    pl.DataFrame.write_parquet = _timed(PARQUET_WRITE, pl.DataFrame.write_parquet)  # type: ignore[method-assign]
    module_name, attribute, part = CLOSE
    module = importlib.import_module(module_name)
    if callable(getattr(module, attribute, None)):
        setattr(module, attribute, _timed_exit(part, getattr(module, attribute)))
    else:
        missing.append(f"{module_name}.{attribute}")
