-- Quality: what was rejected and why, and the proof that nothing was lost
-- (docs/validation.md).

CREATE TABLE quality.rejected_rows (
    extract     VARCHAR,
    source_file VARCHAR,
    source_row  BIGINT,
    record_key  VARCHAR,
    rule        VARCHAR,
    rule_group  VARCHAR,
    column_name VARCHAR,
    value       VARCHAR,
    message     VARCHAR,
    raw_record  VARCHAR,
    run_id      VARCHAR,
    as_of_date  DATE
);
COMMENT ON TABLE quality.rejected_rows IS 'Quarantine: one row per broken rule per source row of the latest run of each extract. Fix these in the source system.';
COMMENT ON COLUMN quality.rejected_rows.extract IS 'Extract the row came from (fx_rates, account_managers, crm_accounts, erp_customers, invoice_lines, opportunities).';
COMMENT ON COLUMN quality.rejected_rows.source_file IS 'Landing file, relative to the landing directory.';
COMMENT ON COLUMN quality.rejected_rows.source_row IS 'Data row number in that file (header not counted; CSV line = row + 1).';
COMMENT ON COLUMN quality.rejected_rows.record_key IS 'Key of the record in the source system, e.g. invoice_id=INV-1, line_no=2 (empty when the row could not be parsed).';
COMMENT ON COLUMN quality.rejected_rows.rule IS 'Contract rule broken (docs/extracts.md), or parse.ragged / parse.type for rows that do not parse.';
COMMENT ON COLUMN quality.rejected_rows.rule_group IS 'Rule group, one Dagster asset check each: types, completeness, uniqueness, allowed_values, ranges, dates, references.';
COMMENT ON COLUMN quality.rejected_rows.column_name IS 'Column the rule checks.';
COMMENT ON COLUMN quality.rejected_rows.value IS 'Offending value as text.';
COMMENT ON COLUMN quality.rejected_rows.message IS 'What the contract expects.';
COMMENT ON COLUMN quality.rejected_rows.raw_record IS 'The original row: the CSV line as written, or the Parquet row as JSON.';
COMMENT ON COLUMN quality.rejected_rows.run_id IS 'Dagster run that rejected the row.';
COMMENT ON COLUMN quality.rejected_rows.as_of_date IS 'As-of date of that run.';

CREATE TABLE quality.reconciliation (
    run_id        VARCHAR,
    as_of_date    DATE,
    extract       VARCHAR,
    files         BIGINT,
    rows_read     BIGINT,
    rows_accepted BIGINT,
    rows_rejected BIGINT,
    balanced      BOOLEAN
);
COMMENT ON TABLE quality.reconciliation IS 'Per run and extract: rows read = rows accepted + rows rejected. One row per run and extract, kept for every run.';
COMMENT ON COLUMN quality.reconciliation.run_id IS 'Dagster run id.';
COMMENT ON COLUMN quality.reconciliation.as_of_date IS 'As-of date of the run.';
COMMENT ON COLUMN quality.reconciliation.extract IS 'Extract name.';
COMMENT ON COLUMN quality.reconciliation.files IS 'Number of landing files read.';
COMMENT ON COLUMN quality.reconciliation.rows_read IS 'Data rows in the files (blank lines not counted).';
COMMENT ON COLUMN quality.reconciliation.rows_accepted IS 'Rows written to the staging table.';
COMMENT ON COLUMN quality.reconciliation.rows_rejected IS 'Distinct source rows in quarantine.';
COMMENT ON COLUMN quality.reconciliation.balanced IS 'True when rows_read = rows_accepted + rows_rejected; a false value fails the run.';

CREATE TABLE quality.unmapped_customers (
    erp_customer_id  VARCHAR,
    customer_name    VARCHAR,
    country_code     VARCHAR,
    revenue_t12m     DECIMAL(18,2),
    share_of_revenue DOUBLE,
    as_of_date       DATE
);
COMMENT ON TABLE quality.unmapped_customers IS 'ERP customers with no CRM account: valid but outside the segmentation, with the revenue the segmentation cannot see.';
COMMENT ON COLUMN quality.unmapped_customers.erp_customer_id IS 'ERP customer number.';
COMMENT ON COLUMN quality.unmapped_customers.customer_name IS 'Name in the ERP.';
COMMENT ON COLUMN quality.unmapped_customers.country_code IS 'ISO 3166 alpha-2 country code.';
COMMENT ON COLUMN quality.unmapped_customers.revenue_t12m IS 'Net revenue in the trailing window, reporting currency.';
COMMENT ON COLUMN quality.unmapped_customers.share_of_revenue IS 'Share of all accepted revenue in the trailing window (mapped and unmapped).';
COMMENT ON COLUMN quality.unmapped_customers.as_of_date IS 'As-of date of the run.';
