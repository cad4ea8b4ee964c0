-- Meta: the run log, and what the large tables were built from.

CREATE TABLE meta.runs (
    run_id        VARCHAR,
    as_of_date    DATE,
    started_at    TIMESTAMP WITH TIME ZONE,
    finished_at   TIMESTAMP WITH TIME ZONE,
    status        VARCHAR,
    row_counts    VARCHAR,
    rejected_rows BIGINT
);
COMMENT ON TABLE meta.runs IS 'One row per run: published runs (SUCCESS) and failed runs recorded by the failure sensor.';
COMMENT ON COLUMN meta.runs.run_id IS 'Dagster run id.';
COMMENT ON COLUMN meta.runs.as_of_date IS 'As-of date of the run.';
COMMENT ON COLUMN meta.runs.started_at IS 'When the run started.';
COMMENT ON COLUMN meta.runs.finished_at IS 'When the run published (or failed).';
COMMENT ON COLUMN meta.runs.status IS 'SUCCESS or FAILURE.';
COMMENT ON COLUMN meta.runs.row_counts IS 'JSON object: published table -> row count.';
COMMENT ON COLUMN meta.runs.rejected_rows IS 'Source rows quarantined by the run (all extracts).';

CREATE TABLE meta.table_versions (
    table_name     VARCHAR,
    version        VARCHAR,
    written_by_run VARCHAR,
    row_count      BIGINT
);
COMMENT ON TABLE meta.table_versions IS 'What each staging table was built from: a table is copied into a new published file only when its version changes.';
COMMENT ON COLUMN meta.table_versions.table_name IS 'Qualified table name, for example staging.invoice_lines.';
COMMENT ON COLUMN meta.table_versions.version IS 'Digest of the parsed files, rule context, settings and code its rows derive from (kam_pipeline/ingest/validation_store.py).';
COMMENT ON COLUMN meta.table_versions.written_by_run IS 'The run that wrote the current rows.';
COMMENT ON COLUMN meta.table_versions.row_count IS 'Rows of the table at that version.';
