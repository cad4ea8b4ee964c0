"""Validation end to end through the real staging assets: every injected
defect is quarantined with the right rule, nothing is lost, and the Great
Expectations suite agrees with the quarantine."""

import json
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets.staging import STAGING_ASSETS
from kam_pipeline.ingest.contract import EXTRACTS, EXTRACTS_BY_NAME
from kam_pipeline.ingest.contract.rules import References, RuleContext, UniqueKey
from kam_pipeline.ingest.expectations import build_data_docs, data_docs_index, run_suite
from kam_pipeline.ingest.file_rules import file_rule_rows
from kam_pipeline.ingest.parse_cache import scan_rows
from kam_pipeline.ingest.parsing import parse_file
from kam_pipeline.ingest.staging import check_sample, rule_context, stage_extract
from kam_pipeline.ingest.validation import derived_columns, validate_rows
from tools.sample_data import generate
from tools.sample_defects import read_manifest

from .conftest import AS_OF, TINY, resources_for, write_landing

SIZE = {"seed": 11, "accounts": 300, "invoice_lines": 6_000, "as_of": date.fromisoformat(AS_OF)}


def _stage_all(tmp_path: Path, landing: Path) -> duckdb.DuckDBPyConnection:
    result = dg.materialize(STAGING_ASSETS, resources=resources_for(tmp_path, landing))
    assert result.success
    return duckdb.connect(str(tmp_path / "work" / "kam_work.duckdb"), read_only=True)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_injected_defect_is_quarantined_with_its_rule(tmp_path: Path, fmt: str) -> None:
    landing = generate(tmp_path / "landing", **SIZE, fmt=fmt, bad_rows=True).out
    defects = pl.DataFrame(
        [{"source_file": d["file"], "source_row": d["row"], "rule": d["rule"]} for d in read_manifest(landing)]
    )
    with _stage_all(tmp_path, landing) as con:
        rejected = con.sql("SELECT source_file, source_row, rule FROM quality.rejected_rows").pl()
        missed = defects.join(rejected, on=["source_file", "source_row", "rule"], how="anti")
        assert missed.is_empty(), f"defects not quarantined with their rule:\n{missed}"
        assert set(defects.get_column("rule")) >= {"invoice_lines.key.unique", "crm_accounts.hierarchy.acyclic"}
        balance = con.sql(
            "SELECT extract, rows_read, rows_accepted, rows_rejected, balanced FROM quality.reconciliation"
        ).pl()
        assert balance.get_column("balanced").all(), balance
        assert (balance["rows_read"] == balance["rows_accepted"] + balance["rows_rejected"]).all()
        assert len(balance) == len(EXTRACTS_BY_NAME)
        for extract in EXTRACTS_BY_NAME.values():
            leaked = con.execute(
                f"SELECT count(*) FROM {extract.table} s JOIN quality.rejected_rows r "
                "ON r.extract = ? AND r.source_file = s._source_file AND r.source_row = s._source_row",
                [extract.name],
            ).fetchone()[0]
            assert leaked == 0, f"rejected rows of {extract.name} reached staging"
        raw_missing = con.execute("SELECT count(*) FROM quality.rejected_rows WHERE raw_record IS NULL").fetchone()[0]
        assert raw_missing == 0


def test_clean_landing_has_no_rejected_rows(tmp_path: Path) -> None:
    landing = generate(tmp_path / "landing", **SIZE).out
    with _stage_all(tmp_path, landing) as con:
        assert con.execute("SELECT count(*) FROM quality.rejected_rows").fetchone()[0] == 0
        lines = con.execute("SELECT count(*) FROM staging.invoice_lines").fetchone()[0]
        assert lines == SIZE["invoice_lines"]


def test_rejections_cascade_to_dependent_rows(tmp_path: Path) -> None:
    files = dict(TINY)
    files["crm/accounts.csv"] += "X,Cycle X,Y,Retail,DE,DACH,AM1,,,,false,\nY,Cycle Y,X,Retail,DE,DACH,AM1,,,,false,\n"
    files["crm/accounts.csv"] += (
        "Z,Below cycle,X,Retail,DE,DACH,AM1,,,,false,\nQ,Bad owner,,Retail,DE,DACH,NOBODY,,,,false,\n"
    )
    files["crm/accounts.csv"] += "R,Child of bad owner,Q,Retail,DE,DACH,AM1,,,,false,\n"
    files["erp/customers.csv"] += "C8,R,Mapped to a rejected account,DE\n"
    files["erp/invoice_lines/2026-11.csv"] += "I9,1,INVOICE,2026-11-03,C8,P1,1,10,5,EUR\n"
    landing = write_landing(tmp_path / "landing", files)
    with _stage_all(tmp_path, landing) as con:
        rules = dict(
            con.execute(
                "SELECT coalesce(regexp_extract(record_key, '=(\\w+)', 1), '') || ':' || extract, rule "
                "FROM quality.rejected_rows"
            ).fetchall()
        )
    assert rules["X:crm_accounts"] == rules["Y:crm_accounts"] == "crm_accounts.hierarchy.acyclic"
    assert rules["Z:crm_accounts"] == "crm_accounts.hierarchy.acyclic"
    assert rules["Q:crm_accounts"] == "crm_accounts.owner_id.exists"
    assert rules["R:crm_accounts"] == "crm_accounts.parent_account_id.exists"
    assert rules["C8:erp_customers"] == "erp_customers.crm_account_id.exists"
    assert rules["I9:invoice_lines"] == "invoice_lines.erp_customer_id.exists"


def test_great_expectations_agrees_with_the_quarantine(tmp_path: Path) -> None:
    """Both engines evaluate the same rule declarations: on rules checked in
    one pass over all parsed rows, their counts must be equal."""
    landing = generate(tmp_path / "landing", **SIZE, bad_rows=True).out
    extract = EXTRACTS_BY_NAME["account_managers"]
    staged = stage_extract(extract, landing, rule_context(extract, {}, SIZE["as_of"], "EUR"), tmp_path / "parsed")
    outcomes = run_suite(
        extract,
        check_sample(extract, staged.parses, None, staged.context, staged.cache_dir),
        staged.context,
        docs_dir=tmp_path / "docs",
        run_name="t",
        sample_failures=5,
    )
    quarantined = staged.rejected.group_by("rule").len()
    counts = dict(quarantined.iter_rows())
    compared = 0
    for outcome in outcomes:
        rule = next(r for r in extract.all_rules() if r.name == outcome.rule)
        if isinstance(rule, UniqueKey):
            continue  # GE counts every copy, the quarantine every copy but the first
        assert outcome.unexpected_count == counts.get(outcome.rule, 0), outcome
        compared += 1
    assert compared >= 8
    assert any(not o.success for o in outcomes)
    assert not data_docs_index(tmp_path / "docs").exists()  # rendered once per run, not per suite
    assert build_data_docs(tmp_path / "docs") == data_docs_index(tmp_path / "docs")
    assert "account_managers" in data_docs_index(tmp_path / "docs").read_text()


@pytest.mark.parametrize("name", ["erp_customers", "invoice_lines", "opportunities"])
def test_great_expectations_counts_the_reference_rules_like_the_quarantine(tmp_path: Path, name: str) -> None:
    """References to other extracts are checked in one pass over all rows, so
    GE's unexpected counts on the derived columns equal the quarantine's."""
    landing = generate(tmp_path / "landing", **SIZE, bad_rows=True).out
    accepted: dict[str, pl.DataFrame] = {}
    for extract in EXTRACTS:
        ctx = rule_context(extract, accepted, SIZE["as_of"], "EUR")
        staged = stage_extract(extract, landing, ctx, tmp_path / "parsed" / extract.name)
        accepted[extract.name] = staged.accepted.collect()
        if extract.name == name:
            break
    outcomes = run_suite(
        extract,
        check_sample(extract, staged.parses, None, staged.context, staged.cache_dir),
        staged.context,
        docs_dir=tmp_path / "docs",
        run_name="t",
        sample_failures=5,
    )
    counts = dict(staged.rejected.group_by("rule").len().iter_rows())
    references = [r.name for r in extract.rules if isinstance(r, References)]
    checked = {o.rule: o for o in outcomes if o.rule in references}
    assert set(checked) == set(references)
    for rule, outcome in checked.items():
        assert outcome.expectation == "expect_column_values_to_be_null"
        assert outcome.unexpected_count == counts.get(rule, 0), outcome
    assert any(counts.get(rule) for rule in references), "the sample data injects no reference defect"


def _customers_rule() -> References:
    return next(r for r in EXTRACTS_BY_NAME["erp_customers"].rules if isinstance(r, References))


def _accounts(n: int) -> RuleContext:
    return RuleContext(date(2026, 11, 28), "EUR", {"crm_accounts": pl.DataFrame({"key": [f"A{i}" for i in range(n)]})})


def test_a_reference_expectation_does_not_embed_the_accepted_keys() -> None:
    """GE copies an expectation's configuration many times per metric: its
    size must not grow with the key set (issue 16)."""
    rule = _customers_rule()
    small, large = (json.dumps(rule.expectation(_accounts(n)).configuration.to_json_dict()) for n in (10, 10_000))
    assert small == large
    assert "A9" not in large


def test_great_expectations_reports_the_unknown_keys_of_a_reference(tmp_path: Path) -> None:
    extract = EXTRACTS_BY_NAME["erp_customers"]
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "erp_customer_id,crm_account_id,customer_name,country_code\n"
        "C1,A1,Known,DE\nC2,NOPE-1,Unknown,DE\nC3,,Not mapped,DE\nC4,NOPE-2,Unknown,AT\nC5,NOPE-1,Again,AT\n"
    )
    rows = parse_file(extract, customers, "customers.csv").rows
    ctx = _accounts(5)
    rule = _customers_rule()
    assert rows.filter(rule.violation(ctx)).get_column("erp_customer_id").to_list() == ["C2", "C4", "C5"]
    outcomes = run_suite(
        extract, derived_columns(extract, rows, ctx), ctx, docs_dir=tmp_path / "docs", run_name="t", sample_failures=5
    )
    outcome = next(o for o in outcomes if o.rule == rule.name)
    assert (outcome.success, outcome.unexpected_count) == (False, 3)
    assert sorted(outcome.sample) == ["NOPE-1", "NOPE-1", "NOPE-2"]


def test_narrowed_key_sets_flag_the_same_rows(tmp_path: Path) -> None:
    """`References.keys_for` narrows a key set larger than the checked frame to
    the keys the frame holds (so a small check sample does not pay for a
    million accounts) and every reference rule flags the same rows with it."""
    landing = generate(tmp_path / "landing", **SIZE, bad_rows=True).out
    accepted: dict[str, pl.DataFrame] = {}
    narrowed, flagged, larger = 0, 0, 0
    for extract in EXTRACTS:
        ctx = rule_context(extract, accepted, SIZE["as_of"], "EUR")
        staged = stage_extract(extract, landing, ctx, tmp_path / "parsed" / extract.name)
        parsed = scan_rows(extract, [p.rows_path for p in staged.parses]).collect()
        for rule in (r for r in extract.rules if isinstance(r, References) and r.target in ctx.keys):
            frame = pl.concat([parsed.filter(rule.violation(ctx)).head(5), parsed.head(10)])
            larger += ctx.keys[rule.target].height > frame.height  # else nothing to narrow
            small = rule.keys_for(ctx, frame)
            narrowed += small.keys[rule.target].height < ctx.keys[rule.target].height
            expected = frame.select(rule.violation(ctx)).to_series()
            assert frame.select(rule.violation(small)).to_series().equals(expected), rule.name
            flagged += expected.sum()
        accepted[extract.name] = staged.accepted.collect()
    assert narrowed == larger > 0
    assert flagged > 0, "the sample data injects no reference defect"


@pytest.mark.parametrize("latest", ["2026-12-01", "9999-12-31"])
def test_great_expectations_checks_dates_and_numbers_like_the_quarantine(tmp_path: Path, latest: str) -> None:
    """Dates and numbers reach Great Expectations as NumPy columns, where its
    range checks are vectorised; a date beyond what nanoseconds hold (year
    9999) takes the slower path instead of failing the suite."""
    extract = EXTRACTS_BY_NAME["crm_accounts"]
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "account_id,account_name,parent_account_id,industry,country_code,region,owner_id,employee_count,"
        "estimated_wallet,competitive_position,is_key_account,key_account_since\n"
        "A1,One,,Retail,DE,EMEA,M1,10,1000,3,true,2025-01-01\n"
        f"A2,Two,A1,Retail,DE,EMEA,M1,-5,1000,3,true,{latest}\n"
        "A3,Three,A1,Retail,DE,EMEA,M1,7,,6,false,\n"
    )
    rows = parse_file(extract, accounts, "accounts.csv").rows
    ctx = RuleContext(date.fromisoformat(AS_OF), "EUR", {"account_managers": pl.DataFrame({"owner_id": ["M1"]})})
    ctx = RuleContext(ctx.as_of, "EUR", {**ctx.keys, "crm_accounts": rows.select("account_id")})
    outcomes = {
        o.rule: o
        for o in run_suite(
            extract,
            derived_columns(extract, rows, ctx),
            ctx,
            docs_dir=tmp_path / "docs",
            run_name="t",
            sample_failures=5,
        )
    }
    flagged = validate_rows(extract, rows, ctx).rejected
    checked = (
        "crm_accounts.key_account_since.not_future",
        "crm_accounts.employee_count.not_negative",
        "crm_accounts.competitive_position.range",
    )
    for rule in checked:
        outcome = outcomes[rule]
        assert outcome.unexpected_count == flagged.filter(pl.col("rule") == rule).height == 1, outcome
    assert outcomes["crm_accounts.key_account_since.not_future"].sample == [latest]
    assert outcomes["crm_accounts.employee_count.not_negative"].sample == [-5]
    assert outcomes["crm_accounts.competitive_position.range"].sample == [6]
    assert all(o.success for name, o in outcomes.items() if name not in checked)


def test_a_sampled_hierarchy_is_resolved_over_every_account() -> None:
    """The check sample draws some accounts, but their hierarchy problems come
    from every account: a drawn account whose broken ancestor was not drawn
    still shows the problem."""
    extract = EXTRACTS_BY_NAME["crm_accounts"]
    n = 2_000
    ids = [f"A{i}" for i in range(n)]
    parents = [None if i % 100 == 0 else f"A{i - 1}" for i in range(n)]
    parents[0], parents[99] = "A99", "A0"  # A0..A99 form a cycle: every account below breaks
    rows = pl.DataFrame({"account_id": ids, "parent_account_id": parents, "owner_id": ["M1"] * n})
    ctx = RuleContext(date.fromisoformat(AS_OF), "EUR", {"account_managers": pl.DataFrame({"owner_id": ["M1"]})})
    ctx = RuleContext(ctx.as_of, "EUR", {**ctx.keys, "crm_accounts": rows.select("account_id")})
    every = derived_columns(extract, rows, ctx)
    drawn = derived_columns(extract, rows, ctx, sample=300)
    assert drawn.height == 300
    expected = every.join(drawn.select("account_id"), on="account_id")
    assert drawn.sort("account_id").equals(expected.sort("account_id"))
    assert drawn.get_column("_hierarchy_problem").is_not_null().sum() > 0


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_rules_checked_while_parsing_find_what_a_later_read_would(tmp_path: Path, fmt: str) -> None:
    """A file this run parses has its file-by-file rules applied to the rows in
    memory (`CachedParse.checked`) instead of being read again: the same
    quarantine rows as over the rows read back (Parquet read in place too)."""
    landing = generate(tmp_path / "landing", **SIZE, fmt=fmt, bad_rows=True).out
    accepted: dict[str, pl.DataFrame] = {}
    for extract in EXTRACTS:
        ctx = rule_context(extract, accepted, SIZE["as_of"], "EUR")
        staged = stage_extract(extract, landing, ctx, tmp_path / "parsed" / extract.name)
        accepted[extract.name] = staged.accepted.collect()
        if extract.name == "invoice_lines":
            break
    assert len(staged.parses) > 1 and all(p.checked is not None for p in staged.parses)
    order = ["source_file", "source_row", "rule"]
    for parse in staged.parses:
        again = file_rule_rows(extract, scan_rows(extract, [parse.rows_path]).collect(), ctx)
        assert parse.checked.sort(order).equals(again.sort(order)), parse.source_name
    assert sum(len(p.checked) for p in staged.parses) > 0, "the sample data injects no row defect"
    rerun = stage_extract(extract, landing, ctx, tmp_path / "parsed" / extract.name)
    assert all(p.hit and p.checked is None for p in rerun.parses)
    assert rerun.rejected.sort(order).equals(staged.rejected.sort(order))
