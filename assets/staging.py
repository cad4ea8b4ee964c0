"""Staging assets: one per extract, typed accepted rows plus quarantine.
Each asset parses and validates its extract (kam_pipeline.ingest.staging), writes
`staging.<extract>`, its rows of `quality.rejected_rows` and a
`quality.reconciliation` row, runs the Great Expectations suite derived from
the contract and reports one asset check per rule group. Structural problems
fail the asset with a one-line message, so nothing downstream runs on them.
"""

from collections import Counter
from datetime import date

import dagster as dg
import polars as pl
from kam_pipeline.assets.metadata import markdown_table
from kam_pipeline.assets.resources import SettingsResource

from kam_pipeline.errors import ExtractError
from kam_pipeline.ingest import validation_store
from kam_pipeline.ingest.contract import EXTRACTS, Extract
from kam_pipeline.ingest.contract.rules import RULE_GROUPS
from kam_pipeline.ingest.expectations import data_docs_index, run_suite
from kam_pipeline.ingest.parsing import SOURCE_FILE, SOURCE_ROW
from kam_pipeline.ingest.staging import StagedExtract, check_sample, referenced_extracts, rule_context, stage_extract
from kam_pipeline.ingest.validation_store import StoredValidation
from kam_pipeline.settings import Settings
from kam_pipeline.warehouse import database as warehouse

STRUCTURE_CHECK = "structure"
FRESHNESS_CHECK = "newest_record"
RECONCILIATION_CHECK = "reconciliation"


def staging_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["staging", name])


def _groups(extract: Extract) -> list[str]:
    present = {r.group for r in extract.all_rules()} | {"types"}
    return [g for g in RULE_GROUPS if g in present]


def _check_specs(extract: Extract) -> list[dg.AssetCheckSpec]:
    key = staging_key(extract.name)
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
        asset_key=staging_key(extract.name),
        check_name=FRESHNESS_CHECK,
        passed=age is not None and age <= max_days,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"newest": str(newest), "days_before_as_of": age if age is not None else -1, "max_days": max_days},
    )


def _group_results(
    extract: Extract, staged: StagedExtract, outcomes: list, docs_link: str, sample_size: int
) -> list[dg.AssetCheckResult]:
    key = staging_key(extract.name)
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


def _validate_with_suite(extract: Extract, staged: StagedExtract, run: Settings, run_id: str) -> StoredValidation:
    """Run the extract's Great Expectations suite on the check sample and
    store the outcome with the quarantine, for runs that see the same inputs."""
    docs_dir = run.data_docs_dir / f"{run.as_of}_{run_id[:8]}"
    outcomes = run_suite(
        extract,
        check_sample(extract, staged.parsed, run.validation.ge_max_rows, staged.context),
        staged.context,
        docs_dir=docs_dir,
        run_name=run_id[:8],
        sample_failures=run.validation.sample_failures,
    )
    validation = StoredValidation(
        staged.fingerprint, staged.rejected, outcomes, data_docs_index(docs_dir).as_uri(), run_id
    )
    validation_store.save(run.parsed_dir(extract.name), validation)
    return validation


def build_staging_asset(extract: Extract) -> dg.AssetsDefinition:
    @dg.multi_asset(
        name=f"staging_{extract.name}",
        specs=[
            dg.AssetSpec(
                staging_key(extract.name),
                group_name="staging",
                description=f"{extract.description} Typed, accepted rows of `{extract.pattern}` (docs/extracts.md).",
                deps=[staging_key(name) for name in referenced_extracts(extract)],
                kinds={"duckdb", "polars"},
                tags={"stage": "ingest", "source_system": extract.system},
            )
        ],
        check_specs=_check_specs(extract),
    )
    def _asset(context: dg.AssetExecutionContext, settings: SettingsResource):
        run = settings.load()
        with warehouse.open_work(run) as con:
            accepted = {name: warehouse.read_table(con, f"staging.{name}") for name in referenced_extracts(extract)}
            ctx = rule_context(extract, accepted, run.as_of, run.segmentation.reporting_currency)
            try:
                staged = stage_extract(
                    extract,
                    run.landing_dir,
                    ctx,
                    run.parsed_dir(extract.name),
                    memory_limit=run.performance.duckdb_memory_limit,
                    settings_digest=run.validation.model_dump_json(),
                )
            except ExtractError as exc:
                raise dg.Failure(description=str(exc), metadata={"file": exc.file, "problem": exc.problem}) from None
            run_id = context.run.run_id
            warehouse.replace_rows(
                con,
                "quality.rejected_rows",
                staged.rejected.with_columns(run_id=pl.lit(run_id), as_of_date=pl.lit(run.as_of)),
                {"extract": extract.name},
            )
            rows_accepted = warehouse.stage_view(
                con,
                extract.table,
                staged.fingerprint,
                run_id,
                staged.parsed,
                [SOURCE_FILE, SOURCE_ROW, *extract.column_names],
                extract.name,
            )
            balanced = staged.rows_read == rows_accepted + staged.rows_rejected
            reconciliation = pl.DataFrame(
                {
                    "run_id": [run_id],
                    "as_of_date": [run.as_of],
                    "extract": [extract.name],
                    "files": [len(staged.files)],
                    "rows_read": [staged.rows_read],
                    "rows_accepted": [rows_accepted],
                    "rows_rejected": [staged.rows_rejected],
                    "balanced": [balanced],
                }
            )
            warehouse.replace_rows(
                con, "quality.reconciliation", reconciliation, {"run_id": run_id, "extract": extract.name}
            )

        validation = staged.reused or _validate_with_suite(extract, staged, run, run_id)
        docs_link = validation.data_docs
        outcomes = validation.outcomes
        yield dg.MaterializeResult(
            asset_key=staging_key(extract.name),
            metadata={
                "dagster/row_count": rows_accepted,
                "rows_read": staged.rows_read,
                "rows_accepted": rows_accepted,
                "rows_rejected": staged.rows_rejected,
                "files": dg.MetadataValue.json(staged.files),
                "preview": dg.MetadataValue.md(markdown_table(staged.accepted.head(5).collect())),
                "files_parsed_from_cache": staged.cache_hits,
                "validated_by_run": validation.run_id,
                "data_docs": dg.MetadataValue.url(docs_link),
            },
        )
        yield dg.AssetCheckResult(
            asset_key=staging_key(extract.name),
            check_name=STRUCTURE_CHECK,
            passed=True,
            metadata={"files": dg.MetadataValue.json(staged.files)},
        )
        yield dg.AssetCheckResult(
            asset_key=staging_key(extract.name),
            check_name=RECONCILIATION_CHECK,
            passed=balanced,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "rows_read": staged.rows_read,
                "rows_accepted": rows_accepted,
                "rows_rejected": staged.rows_rejected,
            },
        )
        yield from _group_results(extract, staged, outcomes, docs_link, run.validation.sample_failures)
        if extract.freshness_column:
            yield _freshness_result(extract, staged, run.as_of, run.freshness.stale_extract_days)

    return _asset


STAGING_ASSETS = [build_staging_asset(extract) for extract in EXTRACTS]
