"""How assets read and write the working database: lineage derived from reads.

Every asset that touches the working database is declared with
`warehouse_asset`, naming the tables it reads and the tables it writes. Its
Dagster dependencies are derived from the tables it reads (the assets that
write them, `writers`), and the `Tables` handle its body receives reads only
those tables and writes only its own. What an asset reads and what it
declares therefore cannot drift apart: an undeclared read or write fails the
step that tries it, and every test that materialises the job would show it.
"""

import inspect
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl

from assets.resources import SettingsResource
from kam_pipeline.ingest.contract import EXTRACTS
from kam_pipeline.settings import Settings
from kam_pipeline.table_spec import Table
from kam_pipeline.warehouse import database
from kam_pipeline.warehouse.ddl import declaration
from kam_pipeline.warehouse.invoice_days import invoice_days
from kam_pipeline.warehouse.schema import declared_tables

#: Rows of these tables are written by every staging asset (one extract's rows each).
PER_EXTRACT_TABLES = ("quality.rejected_rows", "quality.reconciliation", database.VERSIONS, "meta.staged_files")
#: Tables an asset writes beside its own, by the asset (table) that writes them.
WRITTEN_WITH = {"marts.scenario_candidates": "marts.scenario_comparison"}
#: The run log is written by the publish step (warehouse/published).
RUN_LOG = "meta.runs"
PUBLISHED = dg.AssetKey(["warehouse", "published"])


def asset_key(table: str) -> dg.AssetKey:
    """`marts.customer_segments` -> AssetKey(["marts", "customer_segments"])."""
    return dg.AssetKey(table.split("."))


def writers(table: str) -> list[dg.AssetKey]:
    """The assets that write `table`: a history table is written by the mart
    of the same name (its snapshot) and the snapshots' versions by those
    marts, the quarantine, reconciliation and version rows by every staging
    asset, the run log by the publish step, a table of WRITTEN_WITH by the
    asset named there, any other table by its own asset."""
    schema, name = table.split(".")
    if table == database.SNAPSHOTS:
        history = (t for t in declared_tables() if t.startswith("history."))
        return sorted({key for t in history for key in writers(t)}, key=lambda k: k.to_user_string())
    if table in WRITTEN_WITH:
        return [asset_key(WRITTEN_WITH[table])]
    if schema == "history":
        return [dg.AssetKey(["marts", name])]
    if table in PER_EXTRACT_TABLES:
        return [asset_key(extract.table) for extract in EXTRACTS]
    if table == RUN_LOG:
        return [PUBLISHED]
    return [asset_key(table)]


def upstream(reads: Iterable[str], own: dg.AssetKey) -> list[dg.AssetKey]:
    """The assets an asset depends on, derived from the tables it reads."""
    keys = {key for table in reads for key in writers(table)} - {own}
    return sorted(keys, key=lambda k: k.to_user_string())


class UndeclaredTableError(RuntimeError):
    """An asset read or wrote a table it did not declare (a lineage bug)."""


@dataclass(frozen=True)
class Tables:
    """The working database as one asset sees it: its declared reads and writes."""

    con: duckdb.DuckDBPyConnection
    settings: Settings
    run_id: str
    reads: frozenset[str]
    writes: frozenset[str]

    def _may_read(self, table: str) -> None:
        if table not in self.reads and table not in self.writes:
            raise UndeclaredTableError(f"reads {table} without declaring it (warehouse_asset reads=...)")

    def _may_write(self, table: str) -> None:
        if table not in self.writes:
            raise UndeclaredTableError(f"writes {table} without declaring it (warehouse_asset writes=...)")

    def read(self, table: str, columns: Sequence[str] | None = None, where: str | None = None) -> pl.DataFrame:
        """`table`, or only the `columns` the step's function reads of it, or
        only the rows matching the SQL condition `where`."""
        self._may_read(table)
        return database.read_table(self.con, table, columns, where)

    def scan(self, table: str, columns: Sequence[str] | None = None) -> pl.LazyFrame:
        """`table` (or only its `columns`), read only if and when it is
        collected (within the step, while the connection is open): for inputs
        a step may not need."""
        self._may_read(table)
        return database.scan_table(self.con, table, columns)

    def count(self, table: str) -> int:
        self._may_read(table)
        return database.count_rows(self.con, table)

    def invoice_days(self) -> pl.LazyFrame:
        """The accepted invoice lines' daily totals (kam_pipeline.warehouse.invoice_days)."""
        self._may_read("staging.invoice_lines")
        return invoice_days(self.con, self.settings)

    def latest_snapshot_before(self, table: str, as_of: date, columns: Sequence[str] | None = None) -> pl.DataFrame:
        """The rows of history `table` of its latest as-of date before `as_of` (empty if none)."""
        self._may_read(table)
        return database.latest_snapshot_before(self.con, table, as_of, columns)

    def replace(self, table: str, frame: pl.DataFrame) -> None:
        self._may_write(table)
        database.replace_table(self.con, table, _as_declared(table, frame))

    def append(self, table: str, frame: pl.DataFrame) -> None:
        """Add `frame`'s rows to `table` (replaced earlier in the same step):
        a large table written in parts, each freed once it is written."""
        self._may_write(table)
        database.append_rows(self.con, table, _as_declared(table, frame))

    def replace_rows(self, table: str, frame: pl.DataFrame, key: dict[str, object]) -> None:
        self._may_write(table)
        database.replace_rows(self.con, table, _as_declared(table, frame), key)

    def replace_snapshot(self, table: str, frame: pl.DataFrame) -> None:
        """Replace history `table`'s snapshot of the run's as-of date (database.replace_snapshot)."""
        self._may_write(table)
        database.replace_snapshot(self.con, table, _as_declared(table, frame), self.settings.as_of, self.run_id)

    def stage_view(self, spec: Table, **kwargs: Any) -> int:
        """Make the staging table `spec` the view over an extract's accepted rows (database.stage_view)."""
        self._may_write(spec.name)
        return database.stage_view(self.con, spec, run_id=self.run_id, **kwargs)


def _as_declared(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` in its declared column order, after checking it has exactly the
    declared columns and types (kam_pipeline.table_spec): a drift fails the
    step that made it, with the table and column named, instead of being cast."""
    declared = declaration(table)
    if declared is None:
        raise UndeclaredTableError(f"{table} has no declaration (kam_pipeline.warehouse.ddl)")
    declared.check(dict(frame.schema))
    return frame.select(declared.column_names)


AssetBody = Callable[[dg.AssetExecutionContext, Tables], Any]


def code_reference(function: Callable[..., Any]) -> dict[str, dg.CodeReferencesMetadataValue]:
    """The UI's link to where an asset's work is written: the body, not the
    wrapper every warehouse asset shares (which Dagster's
    `with_source_code_references` would point at). Code references are a beta
    API of this Dagster version; its warning would print once per asset at
    every start-up."""
    path, line = inspect.getsourcefile(function), inspect.getsourcelines(function)[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        reference = dg.LocalFileCodeReference(file_path=str(Path(str(path)).resolve()), line_number=line)
        return {"dagster/code_references": dg.CodeReferencesMetadataValue(code_references=[reference])}


def warehouse_asset(
    key: str | list[str],
    *,
    reads: Iterable[str],
    writes: Iterable[str] = (),
    **asset_args: Any,
) -> Callable[[AssetBody], dg.AssetsDefinition]:
    """Declare an asset that works on the working database.

    `key` is the table the asset writes (`"marts.customer_segments"`), or the
    key path of an asset that writes no table (`["reports", "kam_report"]`);
    `writes` names any further tables it writes. Its dependencies are the
    writers of `reads`; its step is named after its key (`marts__kam_candidates`).
    The body gets the run's context and a `Tables` handle and returns (or
    yields) the asset's results.
    """
    own = asset_key(key) if isinstance(key, str) else dg.AssetKey(key)
    read_set = frozenset(reads)
    write_set = frozenset([key] if isinstance(key, str) else []) | frozenset(writes)
    for table in writes:
        if own not in writers(table):
            raise UndeclaredTableError(f"{own.to_user_string()} writes {table}, which writers() does not credit to it")

    def decorate(body: AssetBody) -> dg.AssetsDefinition:
        metadata = {**asset_args.pop("metadata", {}), **code_reference(body)}

        @dg.asset(
            key=own,
            deps=upstream(read_set, own),
            description=asset_args.pop("description", None) or body.__doc__,
            metadata=metadata,
            **asset_args,
        )
        def _asset(context: dg.AssetExecutionContext, settings: SettingsResource) -> Iterator[Any]:
            run = settings.resolved
            with database.open_work(run) as con:
                tables = Tables(con, run, context.run.run_id, read_set, write_set)
                result = body(context, tables)
                if isinstance(result, Iterator):
                    yield from result
                else:
                    yield result

        return _asset

    return decorate
