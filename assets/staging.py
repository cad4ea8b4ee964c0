"""Staging: one asset per extract (typed accepted rows plus quarantine), and
the landing sensor that starts the nightly job when extracts arrive.

Each asset parses and validates its extract (kam_pipeline.ingest.staging), writes
`staging.<extract>`, its rows of `quality.rejected_rows` and a
`quality.reconciliation` row, runs the Great Expectations suite derived from
the contract and reports one asset check per rule group (`reports/data_docs`
renders the run's Data Docs once, after every staging asset). Structural problems
fail the asset with a one-line message, so nothing downstream runs on them.
"""

import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl

from assets.metadata import markdown_table
from assets.nightly import AS_OF_TAG, nightly_job, settings_run_config
from assets.resources import SettingsResource
from assets.tables import PER_EXTRACT_TABLES, Tables, asset_key, warehouse_asset
from kam_pipeline.errors import ExtractError
from kam_pipeline.ingest.arrival import evaluate_landing
from kam_pipeline.ingest.contract import EXTRACTS, Extract
from kam_pipeline.ingest.contract.rules import RULE_GROUPS
from kam_pipeline.ingest.staging import (
    StagedExtract,
    reconciliation,
    referenced_extracts,
    rule_context,
    stage_extract,
    staged_files,
    validate_with_suite,
)
from kam_pipeline.settings import SensorSettings

StagingResult = dg.MaterializeResult | dg.AssetCheckResult

#: Tag of runs the landing sensor starts: the fingerprint of the landing set.
FINGERPRINT_TAG = "kam/landing_fingerprint"
STRUCTURE_CHECK = "structure"
FRESHNESS_CHECK = "newest_record"
RECONCILIATION_CHECK = "reconciliation"


def _groups(extract: Extract) -> list[str]:
    present = {r.group for r in extract.all_rules()} | {"types"}
    return [g for g in RULE_GROUPS if g in present]


def _check_specs(extract: Extract) -> list[dg.AssetCheckSpec]:
    key = asset_key(extract.table)
    specs = [
        dg.AssetCheckSpec(STRUCTURE_CHECK, asset=key, blocking=True, description="Files readable, columns present."),
        dg.AssetCheckSpec(
            RECONCILIATION_CHECK, asset=key, blocking=True, description="Rows read = rows accepted + rows rejected."
        ),
    ]
    specs += [
        dg.AssetCheckSpec(group, asset=key, description=f"Contract rules of group '{group}' (rows quarantined).")
        for group in _groups(extract)
    ]
    if extract.freshness_column:
        specs.append(
            dg.AssetCheckSpec(
                FRESHNESS_CHECK,
                asset=key,
                description=f"Warns when the newest {extract.freshness_column} is more than "
                "freshness.stale_extract_days before the as-of date (a stale export).",
            )
        )
    return specs


def _freshness_result(extract: Extract, staged: StagedExtract, as_of: date, max_days: int) -> dg.AssetCheckResult:
    newest = staged.accepted.select(pl.col(extract.freshness_column).max()).collect(engine="streaming").item()
    age = (as_of - newest).days if newest is not None else None
    return dg.AssetCheckResult(
        asset_key=asset_key(extract.table),
        check_name=FRESHNESS_CHECK,
        passed=age is not None and age <= max_days,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"newest": str(newest), "days_before_as_of": age if age is not None else -1, "max_days": max_days},
    )


def _group_results(
    extract: Extract, staged: StagedExtract, outcomes: list, docs_link: str, sample_size: int
) -> list[dg.AssetCheckResult]:
    key = asset_key(extract.table)
    quarantined = Counter(staged.rejected.get_column("rule").to_list())
    results = []
    for group in _groups(extract):
        rules = [r.name for r in extract.all_rules() if r.group == group]
        in_group = staged.rejected.filter(pl.col("rule_group") == group)
        ge = [o for o in outcomes if o.group == group]
        metadata: dict[str, dg.MetadataValue] = {
            "quarantined_rows": dg.MetadataValue.int(in_group.select("source_file", "source_row").n_unique()),
            "per_rule": dg.MetadataValue.json(
                {
                    name: {
                        "quarantined": quarantined.get(name, 0),
                        **{
                            f"ge_{o.expectation}": {"unexpected": o.unexpected_count, "sample": o.sample}
                            for o in ge
                            if o.rule == name
                        },
                    }
                    for name in rules or sorted(set(in_group.get_column("rule").to_list()))
                }
            ),
            "sample": dg.MetadataValue.md(
                markdown_table(
                    in_group.select("source_file", "source_row", "rule", "value", "message").head(sample_size)
                )
            ),
            "data_docs": dg.MetadataValue.url(docs_link),
        }
        results.append(
            dg.AssetCheckResult(
                asset_key=key,
                check_name=group,
                passed=in_group.is_empty(),
                severity=dg.AssetCheckSeverity.WARN,
                metadata=metadata,
            )
        )
    return results


def build_staging_asset(extract: Extract) -> dg.AssetsDefinition:
    @warehouse_asset(
        extract.table,
        reads=[f"staging.{name}" for name in referenced_extracts(extract)],
        writes=PER_EXTRACT_TABLES,
        group_name="staging",
        description=f"{extract.description} Typed, accepted rows of `{extract.pattern}` (docs/extracts.md).",
        kinds={"duckdb", "polars"},
        tags={"stage": "ingest", "source_system": extract.system},
        check_specs=_check_specs(extract),
    )
    def _asset(context: dg.AssetExecutionContext, tables: Tables) -> Iterator[StagingResult]:
        run = tables.settings
        accepted = {
            name: tables.read(f"staging.{name}", columns) for name, columns in referenced_extracts(extract).items()
        }
        ctx = rule_context(extract, accepted, run.as_of, run.segmentation.reporting_currency)
        try:
            staged = stage_extract(
                extract,
                run.landing_dir,
                ctx,
                run.parsed_dir(extract.name),
                memory_limit=run.performance.duckdb_memory_limit,
                settings_digest=run.validation.model_dump_json(),
                dialect=run.dialect(extract.system, extract.name),
                sample_rows=run.validation.ge_max_rows,
            )
        except ExtractError as exc:
            raise dg.Failure(description=str(exc), metadata={"file": exc.file, "problem": exc.problem}) from None
        run_id = tables.run_id
        tables.replace_rows(
            "quality.rejected_rows",
            staged.rejected.with_columns(run_id=pl.lit(run_id), as_of_date=pl.lit(run.as_of)),
            {"extract": extract.name},
        )
        files = staged_files(staged, run_id)
        tables.replace_rows("meta.staged_files", files, {"table_name": extract.table})
        rows_accepted = tables.stage_view(
            extract.staging_table, version=staged.fingerprint, parquet=staged.parsed, extract=extract.name
        )
        counts = reconciliation(staged, rows_accepted, run_id, run.as_of)
        tables.replace_rows("quality.reconciliation", counts, {"run_id": run_id, "extract": extract.name})
        balanced = bool(counts.get_column("balanced").item())

        validation = staged.reused or validate_with_suite(
            staged,
            docs_dir=run.run_data_docs_dir(run_id),
            run_id=run_id,
            max_rows=run.validation.ge_max_rows,
            sample_failures=run.validation.sample_failures,
        )
        key = asset_key(extract.table)
        docs_link = run.link(validation.data_docs) if validation.data_docs else ""
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "dagster/row_count": rows_accepted,
                "rows_read": staged.rows_read,
                "rows_accepted": rows_accepted,
                "rows_rejected": staged.rows_rejected,
                "files": dg.MetadataValue.md(
                    markdown_table(
                        files.select("source_file", "rows_read", "rows_rejected", "parsed_by_run", "validated_by_run")
                    )
                ),
                "files_validated_by_run": len(staged.revalidated),
                "preview": dg.MetadataValue.md(markdown_table(staged.accepted.head(5).collect())),
                "files_parsed_from_cache": staged.cache_hits,
                "validated_by_run": validation.run_id,
                **({"data_docs": dg.MetadataValue.url(docs_link)} if docs_link else {}),
            },
        )
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=STRUCTURE_CHECK,
            passed=True,
            metadata={"files": dg.MetadataValue.json(staged.files)},
        )
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=RECONCILIATION_CHECK,
            passed=balanced,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "rows_read": staged.rows_read,
                "rows_accepted": rows_accepted,
                "rows_rejected": staged.rows_rejected,
            },
        )
        yield from _group_results(
            extract,
            staged,
            validation.outcomes,
            docs_link,
            run.validation.sample_failures,
        )
        if extract.freshness_column:
            yield _freshness_result(extract, staged, run.as_of, run.freshness.stale_extract_days)

    return _asset


STAGING_ASSETS = [build_staging_asset(extract) for extract in EXTRACTS]


def landing_run_request(run_key: str, landing_dir: Path, as_of: date) -> dg.RunRequest:
    """A `kam_nightly` run of partition `as_of` on exactly the directory that was fingerprinted."""
    return dg.RunRequest(
        run_key=run_key,
        partition_key=as_of.isoformat(),
        run_config=settings_run_config(landing_dir=str(landing_dir)),
        tags={AS_OF_TAG: as_of.isoformat(), FINGERPRINT_TAG: run_key},
    )


def build_landing_sensor(sensors: SensorSettings) -> dg.SensorDefinition:
    """Starts kam_nightly when a complete new set of extracts has landed (kam_pipeline.ingest.arrival)."""

    @dg.sensor(
        name="landing_sensor",
        job=nightly_job,
        minimum_interval_seconds=sensors.minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=(
            "Starts kam_nightly when a complete new set of extracts has landed and stopped changing "
            "(_SUCCESS marker newer than every extract, or files unchanged for a minute). Stopped by "
            "default: the 02:00 schedule is the default trigger; run one of the two."
        ),
    )
    def landing_sensor(context: dg.SensorEvaluationContext, settings: SettingsResource) -> dg.SensorResult:
        run = settings.resolved
        evaluation = evaluate_landing(
            run.landing_dir, context.cursor, time.time(), settle_seconds=run.sensors.settle_seconds
        )
        if evaluation.run_key is None:
            return dg.SensorResult(skip_reason=evaluation.skip_reason, cursor=evaluation.cursor)
        context.log.info(f"requesting kam_nightly for landing set {evaluation.run_key}")
        request = landing_run_request(evaluation.run_key, run.landing_dir, run.as_of)
        return dg.SensorResult(run_requests=[request], cursor=evaluation.cursor)

    return landing_sensor
