"""Materialise the real staging assets on a small landing directory."""

from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import dagster as dg
import duckdb

from assets.publish import published_warehouse
from assets.quality import data_docs
from assets.staging import STAGING_ASSETS
from kam_pipeline.ingest.contract import EXTRACTS

from .conftest import resources_for

EXPECTED_ROWS = {
    "account_managers": 2,
    "crm_accounts": 3,
    "opportunities": 2,
    "erp_customers": 3,
    "fx_rates": 2,
    "invoice_lines": 4,
    "kam_overrides": 0,  # optional: the tiny landing has no overrides file
}


def _duckdb_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return {name: kind for name, kind, *_ in con.execute(f"DESCRIBE {table}").fetchall()}


def test_staging_tables_are_typed_and_complete(tmp_path: Path, tiny_landing: Path) -> None:
    resources = resources_for(tmp_path, tiny_landing)
    result = dg.materialize([*STAGING_ASSETS, published_warehouse], resources=resources)
    assert result.success
    published = tmp_path / "published" / "kam.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        for extract in EXTRACTS:
            count = con.execute(f"SELECT count(*) FROM {extract.table}").fetchone()[0]
            assert count == EXPECTED_ROWS[extract.name], extract.name
        lines = _duckdb_types(con, "staging.invoice_lines")
        assert lines["invoice_date"] == "DATE"
        assert lines["net_amount"] == "DECIMAL(18,4)"
        assert lines["line_no"] == "BIGINT"
        accounts = _duckdb_types(con, "staging.crm_accounts")
        assert accounts["is_key_account"] == "BOOLEAN"
        assert con.execute("SELECT account_name FROM staging.crm_accounts WHERE account_id = 'B'").fetchone() == (
            "Beta, Sub",
        )
        usd = con.execute(
            "SELECT net_amount, cost_amount FROM staging.invoice_lines WHERE invoice_id = 'I1' AND line_no = 2"
        ).fetchone()
        assert (float(usd[0]), usd[1]) == (100.0, None)
        balanced = con.execute("SELECT bool_and(balanced), count(*) FROM quality.reconciliation").fetchone()
        assert balanced == (True, len(EXTRACTS))
    assert not list(published.parent.glob(".*building*"))


def test_row_counts_are_materialisation_metadata(tmp_path: Path, tiny_landing: Path) -> None:
    result = dg.materialize(STAGING_ASSETS, resources=resources_for(tmp_path, tiny_landing))
    by_key = {
        e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()
    }
    assert by_key["staging/invoice_lines"]["dagster/row_count"].value == 4
    assert by_key["staging/invoice_lines"]["rows_rejected"].value == 0
    stale = next(c for c in result.get_asset_check_evaluations() if c.check_name == "newest_record")
    assert not stale.passed  # the newest line (2026-11-02) is 26 days before the as-of date
    assert stale.metadata["days_before_as_of"].value == 26


def test_missing_column_fails_with_one_line_and_blocks_downstream(tmp_path: Path, tiny_landing: Path) -> None:
    accounts = tiny_landing / "crm" / "accounts.csv"
    lines = accounts.read_text().splitlines()
    accounts.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n")
    result = dg.materialize(
        [*STAGING_ASSETS, published_warehouse], resources=resources_for(tmp_path, tiny_landing), raise_on_error=False
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.step_failure_data.user_failure_data.description
    assert message.startswith("crm/accounts.csv: missing column key_account_since")
    assert "\n" not in message
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "staging/erp_customers" not in materialised
    assert "warehouse/published" not in materialised
    assert "staging/account_managers" in materialised


def _staging_metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}


def test_a_rerun_on_unchanged_extracts_reuses_their_validation_and_tables(tmp_path: Path, tiny_landing: Path) -> None:
    resources = resources_for(tmp_path, tiny_landing)
    selection = [*STAGING_ASSETS, data_docs, published_warehouse]
    first = dg.materialize(selection, resources=resources)
    again = dg.materialize(selection, resources=resources)
    assert first.success and again.success
    docs = _staging_metadata(first)["reports/data_docs"]["data_docs"].value
    assert _staging_metadata(first)["staging/invoice_lines"]["data_docs"].value == docs
    index = Path(url2pathname(urlparse(docs).path)).read_text()
    assert all(extract.name in index for extract in EXTRACTS if extract.name != "kam_overrides")  # no overrides file
    assert _staging_metadata(again)["reports/data_docs"]["validated_in_this_run"].value is False
    lines = _staging_metadata(again)["staging/invoice_lines"]
    assert lines["validated_by_run"].value == first.run_id
    assert lines["dagster/row_count"].value == EXPECTED_ROWS["invoice_lines"]
    published = _staging_metadata(again)["warehouse/published"]
    assert "staging.invoice_lines" in published["carried_over_unchanged"].value
    november = tiny_landing / "erp" / "invoice_lines" / "2026-11.csv"
    november.write_text(november.read_text() + "I4,1,INVOICE,2026-11-05,C1,P1,1,5,1,EUR\n")
    changed = dg.materialize(selection, resources=resources)
    lines = _staging_metadata(changed)["staging/invoice_lines"]
    assert lines["validated_by_run"].value == changed.run_id
    assert (
        "staging.invoice_lines" not in _staging_metadata(changed)["warehouse/published"]["carried_over_unchanged"].value
    )
    with duckdb.connect(str(tmp_path / "published" / "kam.duckdb"), read_only=True) as con:
        assert (
            con.execute("SELECT count(*) FROM staging.invoice_lines").fetchone()[0]
            == EXPECTED_ROWS["invoice_lines"] + 1
        )
        assert con.execute("SELECT bool_and(balanced) FROM quality.reconciliation").fetchone()[0]
