"""Staging one extract: find its files, parse, validate, keep every row.

Pure with respect to the warehouse: it reads the landing files and returns
frames; the Dagster asset decides where they are written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

import polars as pl

from kam_pipeline.errors import ExtractError
from kam_pipeline.ingest import sample_shares
from kam_pipeline.ingest.contract import Extract
from kam_pipeline.ingest.contract.extracts import SOURCE_FILE, SOURCE_ROW, fx_month_key, fx_rate_key
from kam_pipeline.ingest.contract.rules import AcyclicHierarchy, References, RuleContext
from kam_pipeline.ingest.dialect import CsvDialect
from kam_pipeline.ingest.expectations import data_docs_index, run_suite
from kam_pipeline.ingest.file_rules import file_rule_rows, validate_files
from kam_pipeline.ingest.key_copies import ParsedFile, later_copies
from kam_pipeline.ingest.landing import extract_files
from kam_pipeline.ingest.parse_cache import CachedParse, parse_cached, prune, scan_rows
from kam_pipeline.ingest.parsing import LandingFile, attach_raw
from kam_pipeline.ingest.quarantine import empty_rejections
from kam_pipeline.ingest.snapshot import check_unchanged
from kam_pipeline.ingest.tables import RECONCILIATION
from kam_pipeline.ingest.validation import derived_columns, validate_rows
from kam_pipeline.ingest.validation_store import StoredValidation, context_digest, fingerprint, load, save
from kam_pipeline.warehouse.tables import STAGED_FILES


@dataclass(frozen=True)
class StagedExtract:
    """Where the parsed rows are, what was quarantined, and the counts that
    must reconcile. Accepted rows = parsed rows minus quarantined rows
    (`accepted_rows`), so they are never copied in Python memory."""

    extract: Extract
    files: list[str]
    parses: list[CachedParse]  # one per landing file: its parsed rows (a Parquet file) and parse rejections
    cache_dir: Path  # where the parses and the stored validations of the extract are kept
    rows_read: int
    rejected: pl.DataFrame
    context: RuleContext  # the rule context including the extract's own accepted keys
    cache_hits: int
    fingerprint: str  # of everything the validation depends on (validation_store)
    reused: StoredValidation | None  # the stored validation of the same inputs, when there is one
    revalidated: list[str]  # files whose rules were evaluated by this run (the others' outcomes were stored)

    @property
    def parsed(self) -> list[Path]:
        return [p.rows_path for p in self.parses]

    @property
    def rows_rejected(self) -> int:
        return self.rejected.select("source_file", "source_row").n_unique() if len(self.rejected) else 0

    @property
    def accepted(self) -> pl.LazyFrame:
        return accepted_rows(self.extract, self.parsed, self.rejected)


def accepted_rows(extract: Extract, parsed: list[Path], rejected: pl.DataFrame) -> pl.LazyFrame:
    """Parsed rows that are not in quarantine: the one definition of "accepted"
    (`warehouse.stage_view` states it in SQL for DuckDB readers). Without
    rejections there is nothing to join; without files there are no rows."""
    if not parsed:
        return extract.staging_table.empty().lazy()
    rows = scan_rows(extract, parsed)
    if not rejected.is_empty():
        keys = rejected.select(pl.col("source_file").alias(SOURCE_FILE), pl.col("source_row").alias(SOURCE_ROW))
        rows = rows.join(keys.unique().lazy(), on=[SOURCE_FILE, SOURCE_ROW], how="anti")
    return rows.select(SOURCE_FILE, SOURCE_ROW, *extract.column_names)


def _fx_currencies_by(as_of: date) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """Currencies with a rate in the as-of month or earlier: opportunity
    amounts are converted at the latest such rate (docs/methodology.md)."""
    month = f"{as_of.year:04d}-{as_of.month:02d}"
    return lambda f: f.filter(pl.col("month") <= month).select(pl.col("currency").unique().sort().alias("key"))


def _reference_keys(as_of: date) -> dict[str, tuple[str, Callable[[pl.DataFrame], pl.DataFrame]]]:
    """How the accepted rows of an extract become the key set that references
    to it are checked against (one entry per `References.target`)."""
    return {
        "fx_rates": ("fx_rates", lambda f: f.select(fx_rate_key(pl.col("currency"), fx_month_key()).alias("key"))),
        "fx_currencies": ("fx_rates", _fx_currencies_by(as_of)),
        "account_managers": ("account_managers", lambda f: f.select(pl.col("owner_id").alias("key"))),
        "crm_accounts": ("crm_accounts", lambda f: f.select(pl.col("account_id").alias("key"))),
        "erp_customers": ("erp_customers", lambda f: f.select(pl.col("erp_customer_id").alias("key"))),
    }


#: The columns of each referenced extract that `_reference_keys` reads: staging
#: reads only these (at 1 M accounts a whole staging.crm_accounts is 0.5 s to read).
REFERENCE_COLUMNS = {
    "fx_rates": ("currency", "month"),
    "account_managers": ("owner_id",),
    "crm_accounts": ("account_id",),
    "erp_customers": ("erp_customer_id",),
}


def referenced_extracts(extract: Extract) -> dict[str, tuple[str, ...]]:
    """Other extracts this one's rules refer to (its upstream dependencies),
    with the columns its key sets are made of."""
    sources = _reference_keys(date.min)
    targets = {sources[r.target][0] for r in extract.rules if isinstance(r, References)}
    return {t: REFERENCE_COLUMNS[t] for t in sorted(targets) if t != extract.name}


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


def check_sample(
    extract: Extract, parses: list[CachedParse], rows: int | None, ctx: RuleContext, cache_dir: Path
) -> pl.DataFrame:
    """At most `rows` parsed rows with their derived columns, the same rows on
    every run (Great Expectations' share of the validation; the quarantine
    checks every row). Every `step`-th row of each file is taken, `step` a
    power of two that leaves between `rows` and twice as many, so a file that
    grew by a day does not move the step; each file's share is kept in
    `cache_dir` per parse and step (`sample_shares`: drawn from the rows its
    parse kept, else from the file), and a night where one file changed reads
    only that file. The hierarchy needs every account."""
    total = sum(p.rows_parsed for p in parses)
    if rows is None or total <= rows or not _sampled_by_file(extract):
        frame = scan_rows(extract, [p.rows_path for p in parses]).collect(engine="streaming")
    else:
        step = sample_shares.step_for(total, rows)
        frame = pl.concat([_file_sample(extract, p, step, cache_dir) for p in parses])
    return derived_columns(extract, frame, ctx, sample=rows)


def _sampled_by_file(extract: Extract) -> bool:
    """Whether the check sample is drawn file by file: not when a rule needs
    every row (the hierarchy needs every account)."""
    return not any(isinstance(r, AcyclicHierarchy) for r in extract.rules)


def _file_sample(extract: Extract, parse: CachedParse, step: int, cache_dir: Path) -> pl.DataFrame:
    """Every `step`-th parsed row of one file, stored for the next run."""
    stem = parse.rows_path.stem
    stored = sample_shares.stored_share(cache_dir, stem, step)
    if stored is not None:
        return stored
    sample = scan_rows(extract, [parse.rows_path]).gather_every(step).collect(engine="streaming")
    sample_shares.store_share(cache_dir, stem, step, sample)
    return sample


def stage_extract(
    extract: Extract,
    landing_dir: Path,
    ctx: RuleContext,
    cache_dir: Path,
    memory_limit: str | None = None,
    settings_digest: str = "",
    dialect: CsvDialect | None = None,
    sample_rows: int | None = None,
) -> StagedExtract:
    """Parse (or reuse the parse of) every file of `extract`, then validate
    every row: file by file for the row rules, across files for unique keys.
    When a run already validated the same inputs (`settings_digest`: the
    serialised validation settings), its stored quarantine is reused instead.
    With `sample_rows` (the check sample's size), each parse keeps the rows
    the check sample will take from its file (`sample_shares`). Every file is
    the version first seen by this function, or it stops with "file changed
    while reading".

    Raises ExtractError for structural problems (no file, missing column,
    wrong encoding, a file of a mandatory extract without data rows, a file
    changed during staging); row problems never raise.
    """
    paths = extract_files(extract, landing_dir)
    files = {f.name: f for f in (LandingFile.at(p, p.relative_to(landing_dir).as_posix(), dialect) for p in paths)}
    keep = sample_rows if _sampled_by_file(extract) else None
    check = partial(file_rule_rows, extract, ctx=ctx) if len(files) > 1 else None  # see validate_files
    cached = [parse_cached(extract, file, cache_dir, keep, len(files), check) for file in files.values()]
    prune(cache_dir, cached)
    if not extract.may_be_empty:
        for empty in (c for c in cached if c.rows_read == 0):
            raise ExtractError(
                empty.source_name,
                f"file has a header but no data rows (the {extract.name} extract may not be empty)",
                "at least one data row in every file",
            )
    rows_read = sum(c.rows_read for c in cached)
    parsed = [c.rows_path for c in cached]
    context = context_digest(ctx, settings_digest)
    key = fingerprint(extract, parsed, ctx.as_of, context)
    stored = load(cache_dir, key)
    hits = sum(c.hit for c in cached)
    if stored is not None:
        return StagedExtract(
            extract, list(files), cached, cache_dir, rows_read, stored.rejected, ctx, hits, key, stored, []
        )
    rejected = [empty_rejections(), *[c.rejected for c in cached]]
    if len(cached) > 1:
        by_file, revalidated = validate_files(extract, cached, files, ctx, context, cache_dir)
        rejected.append(by_file)
        parsed_files = [ParsedFile(c.source_name, c.rows_path) for c in cached]
        rejected.append(later_copies(extract, parsed_files, cache_dir, memory_limit))
    else:
        revalidated = [c.source_name for c in cached]
        rejected += [validate_rows(extract, scan_rows(extract, [path]).collect(), ctx).rejected for path in parsed]
    quarantine = pl.concat(rejected)
    full_ctx = ctx
    if any(isinstance(r, References) and r.target == extract.name for r in extract.rules):
        own = accepted_rows(extract, parsed, quarantine).select(extract.key[0]).collect()
        full_ctx = RuleContext(ctx.as_of, ctx.reporting_currency, {**ctx.keys, extract.name: own})
    quarantine = attach_raw(quarantine, files).sort("source_file", "source_row", "rule")
    for file in files.values():
        check_unchanged(file.path, file.name, file.state)
    return StagedExtract(
        extract=extract,
        files=list(files),
        parses=cached,
        cache_dir=cache_dir,
        rows_read=rows_read,
        rejected=quarantine,
        context=full_ctx,
        cache_hits=hits,
        fingerprint=key,
        reused=None,
        revalidated=revalidated,
    )


def reconciliation(staged: StagedExtract, rows_accepted: int, run_id: str, as_of: date) -> pl.DataFrame:
    """The extract's row of quality.reconciliation: rows read = accepted + rejected."""
    row = pl.DataFrame(
        {
            "run_id": [run_id],
            "as_of_date": [as_of],
            "extract": [staged.extract.name],
            "files": [len(staged.files)],
            "rows_read": [staged.rows_read],
            "rows_accepted": [rows_accepted],
            "rows_rejected": [staged.rows_rejected],
            "balanced": [staged.rows_read == rows_accepted + staged.rows_rejected],
        }
    )
    return RECONCILIATION.conform(row)


def staged_files(staged: StagedExtract, run_id: str) -> pl.DataFrame:
    """The extract's rows of meta.staged_files: per landing file, a version
    that changes exactly when its accepted rows may (its parse, or its rows
    in quarantine), which lets the publish replace only the rows of changed
    files, and what this run did with the file."""
    by_file = dict(staged.rejected.group_by("source_file").agg(pl.col("source_row").unique().sort()).iter_rows())
    rows = []
    for parse in staged.parses:
        rejected = by_file.get(parse.source_name, [])
        digest = hashlib.sha256(f"{parse.rows_path.stem}:{rejected}".encode()).hexdigest()[:32]
        rows.append(
            {
                "table_name": staged.extract.table,
                "source_file": parse.source_name,
                "version": digest,
                "rows_read": parse.rows_read,
                "rows_rejected": len(rejected),
                "parsed_by_run": not parse.hit,
                "validated_by_run": parse.source_name in staged.revalidated,
                "run_id": run_id,
            }
        )
    return STAGED_FILES.conform(pl.DataFrame(rows, schema=STAGED_FILES.schema))


def validate_with_suite(
    staged: StagedExtract, *, docs_dir: Path, run_id: str, max_rows: int | None, sample_failures: int
) -> StoredValidation:
    """Run the extract's Great Expectations suite on the check sample, into
    the Data Docs of `docs_dir` (rendered once per run by
    `expectations.build_data_docs`), and store the outcome with the quarantine
    for runs that see the same inputs (validation_store). An optional extract
    without files has nothing to validate: no outcomes, no Data Docs."""
    if not staged.parsed:
        validation = StoredValidation(staged.fingerprint, staged.rejected, [], "", run_id)
        save(staged.cache_dir, validation)
        return validation
    outcomes = run_suite(
        staged.extract,
        check_sample(staged.extract, staged.parses, max_rows, staged.context, staged.cache_dir),
        staged.context,
        docs_dir=docs_dir,
        run_name=run_id[:8],
        sample_failures=sample_failures,
    )
    validation = StoredValidation(
        staged.fingerprint, staged.rejected, outcomes, data_docs_index(docs_dir).as_uri(), run_id
    )
    save(staged.cache_dir, validation)
    return validation
