"""The nightly job end to end on generated data: segmentation, KAM decisions,
history, reruns and threshold changes, through Dagster's real job."""

import base64
import hashlib
import html
import json
import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from sqlalchemy import create_engine, inspect, text

from assets.definitions import defs
from assets.nightly import JOB_NAME
from bench.baseline import agrees, compare, describe, run_baseline
from kam_pipeline.ingest.contract import EXTRACTS
from kam_pipeline.ingest.dialect import CsvDialect
from tools.sample_data import generate

from .conftest import readme_bi_queries

AS_OF = date(2026, 11, 28)
REPORTS_URL = "http://127.0.0.1:3001/"
MONTH_BEFORE = date(2026, 10, 31)
MARTS = [
    "marts.customer_segments",
    "marts.segment_summary",
    "marts.kam_candidates",
    "marts.resource_allocation",
    "marts.account_manager_load",
]


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("landing"), seed=5, accounts=500, invoice_lines=20_000, as_of=AS_OF).out


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory, landing: Path) -> tuple[Path, dg.ExecuteInProcessResult]:
    """One run of the job with the default settings on AS_OF, shared by the tests that only read it
    (and a reports URL, as `make dev` sets it: it changes links, not data)."""
    return run_job_result(tmp_path_factory.mktemp("default"), landing, AS_OF, **{"paths.reports_url": REPORTS_URL})


def run_job(tmp_path: Path, landing: Path, as_of: date, **overrides: object) -> Path:
    """Run the real nightly job; returns the published warehouse."""
    return run_job_result(tmp_path, landing, as_of, **overrides)[0]


def run_job_result(
    tmp_path: Path, landing: Path, as_of: date, **overrides: object
) -> tuple[Path, dg.ExecuteInProcessResult]:
    warehouse = tmp_path / "bi" / "kam.duckdb"
    config = {
        "landing_dir": str(landing),
        "warehouse_path": str(warehouse),
        "overrides": {"paths.data_docs_dir": str(tmp_path / "docs"), **overrides},
    }
    result = (
        defs()
        .resolve_job_def(JOB_NAME)
        .execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            run_config={"resources": {"settings": {"config": config}}},
            partition_key=as_of.isoformat(),
        )
    )
    assert result.success
    return warehouse, result


def read(warehouse: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).pl()


def test_the_ui_links_to_the_report_through_the_reports_server_and_to_files_outside_it(default_run) -> None:
    """The report sits in the served folder next to the warehouse: its link is under the
    reports URL; the Data Docs were configured elsewhere (run_job_result): a file:// link."""
    warehouse, result = default_run
    metadata = {
        event.asset_key.to_user_string(): event.step_materialization_data.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    report_url = metadata["reports/kam_report"]["url"].value
    relative = report_url.removeprefix(REPORTS_URL)
    assert relative != report_url and relative.startswith("html/kam_report_"), report_url
    assert (warehouse.parent / "reports" / relative).is_file()
    docs_url = metadata["reports/data_docs"]["data_docs"].value
    assert docs_url.startswith("file:///") and docs_url.endswith("/index.html"), docs_url


def test_the_plain_sql_reference_agrees_with_the_job_on_every_column(default_run, landing: Path) -> None:
    """bench/baseline.sql, written from docs/methodology.md, gives the job's customer_segments."""
    reference, _ = run_baseline(landing, "csv", AS_OF)
    check = compare(reference, default_run[0])
    assert agrees(check), describe(check)
    assert check["customers_baseline"] > 100 and check["columns_compared"] == 41


def test_a_night_where_one_file_grew_restages_that_file_and_publishes_as_a_first_run(
    tmp_path: Path, landing: Path, default_run
) -> None:
    """The newest month's file grows overnight: only it is parsed and
    validated again and only its published lines are replaced, and the
    warehouse is what a first run on the grown landing (default_run) publishes.
    A rerun of the same date on the same files changes nothing."""
    copy = shutil.copytree(landing, tmp_path / "landing")
    newest = sorted((copy / "erp" / "invoice_lines").glob("*.csv"))[-1]
    lines = newest.read_text(encoding="utf-8").splitlines(keepends=True)
    newest.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    run_job(tmp_path, copy, AS_OF)
    shutil.copy2(landing / newest.relative_to(copy), newest)  # the day's lines arrive
    warehouse, result = run_job_result(tmp_path, copy, AS_OF)

    staged = read(warehouse, "FROM meta.staged_files WHERE table_name = 'staging.invoice_lines'")
    grown = newest.relative_to(copy).as_posix()
    assert len(staged) > 12
    for column in ("parsed_by_run", "validated_by_run"):
        assert staged.filter(pl.col(column)).get_column("source_file").to_list() == [grown], column
    published = next(
        m for m in result.get_asset_materialization_events() if m.asset_key == dg.AssetKey(["warehouse", "published"])
    )
    metadata = published.materialization.metadata
    assert metadata["refreshed_in_part"].value == {
        "staging.invoice_lines": 1,
        "history.customer_segments": 1,  # the rerun date's snapshot, written by this run
        "history.kam_candidates": 1,
    }
    for table in [*MARTS, *(e.table for e in EXTRACTS)]:
        assert read(warehouse, f"FROM {table} ORDER BY ALL").equals(
            read(default_run[0], f"FROM {table} ORDER BY ALL")
        ), table
    quarantine = "SELECT * EXCLUDE (run_id) FROM quality.rejected_rows ORDER BY ALL"
    assert read(warehouse, quarantine).equals(read(default_run[0], quarantine))

    # Rerunning the same as-of date on the same files gives identical marts and replaces its snapshot.
    first = {table: read(warehouse, f"FROM {table}") for table in MARTS}
    run_job(tmp_path, copy, AS_OF)
    for table in MARTS:
        assert read(warehouse, f"FROM {table}").equals(first[table]), table
    assert len(read(warehouse, "SELECT DISTINCT as_of_date FROM history.customer_segments")) == 1
    assert len(read(warehouse, "FROM marts.kam_programme")) == 1
    assert len(read(warehouse, "FROM meta.runs")) == 3


def test_a_threshold_in_the_settings_changes_the_tiers(tmp_path: Path, landing: Path) -> None:
    default = read(
        run_job(tmp_path / "a", landing, AS_OF), "SELECT customer_id, abc_class, tier FROM marts.customer_segments"
    )
    strict = read(
        run_job(tmp_path / "b", landing, AS_OF, **{"segmentation.abc_a_cut": 0.5}),
        "SELECT customer_id, abc_class, tier FROM marts.customer_segments",
    )
    assert strict.filter(pl.col("abc_class") == "A").height < default.filter(pl.col("abc_class") == "A").height
    assert not strict.equals(default)


def test_two_as_of_dates_give_snapshots_migration_and_programme_rows(tmp_path: Path, landing: Path) -> None:
    run_job(tmp_path, landing, MONTH_BEFORE)
    warehouse = run_job(tmp_path, landing, AS_OF)
    dates = read(warehouse, "SELECT DISTINCT as_of_date FROM history.kam_candidates ORDER BY 1")
    assert dates.get_column("as_of_date").to_list() == [MONTH_BEFORE, AS_OF]
    programme = read(warehouse, "SELECT as_of_date FROM marts.kam_programme ORDER BY 1")
    assert programme.get_column("as_of_date").to_list() == [MONTH_BEFORE, AS_OF]
    readiness = read(warehouse, "SELECT as_of_date, verdict, verdict_reasons FROM marts.kam_readiness ORDER BY 1")
    assert readiness.get_column("as_of_date").to_list() == [MONTH_BEFORE, AS_OF]
    assert readiness.get_column("verdict_reasons").str.len_chars().min() > 0
    migration = read(warehouse, "FROM marts.tier_migration")
    assert set(migration.get_column("previous_as_of_date")) == {MONTH_BEFORE}
    customers = read(warehouse, "SELECT count(*) AS n FROM marts.customer_segments").item()
    gone = migration.filter(pl.col("to_tier") == "GONE").get_column("customers").sum()
    assert migration.get_column("customers").sum() - gone == customers


def test_kam_decisions_respect_capacity_and_explain_themselves(tmp_path: Path, landing: Path) -> None:
    warehouse = run_job(tmp_path, landing, AS_OF, **{"kam.review_every_run": True})
    decisions = read(warehouse, "FROM marts.kam_candidates")
    programme = read(warehouse, "SELECT max_key_accounts, turnover_seats FROM marts.kam_programme").row(0)
    assert decisions.filter(pl.col("decision").is_in(["KEEP", "ADD"])).height <= programme[0]
    replaced = decisions.filter(pl.col("decision_reason").str.contains("replaced by"))
    assert replaced.height <= programme[1]
    assert (decisions.get_column("decision") == decisions.get_column("proposed_decision")).all()  # a review
    explained = decisions.filter(pl.col("decision") != "NONE")
    assert explained.height > 0
    assert explained.get_column("decision_reason").str.contains(r"\d").all()


def test_between_reviews_the_programme_stands_and_proposals_are_published(default_run) -> None:
    warehouse = default_run[0]  # 2026-11-28: the next review is 2026-12-31
    decisions = read(warehouse, "FROM marts.kam_candidates")
    incumbents = decisions.filter(pl.col("is_current_key_account"))
    assert (incumbents.get_column("decision") == "KEEP").all()
    assert set(decisions.get_column("review_date")) == {date(2026, 12, 31)}
    without_override = decisions.filter(pl.col("override_action").is_null())
    assert not without_override.get_column("decision").is_in(["ADD", "DESELECT"]).any()
    # the sample's applied INCLUDE takes effect at once, into a free seat: nobody gives way today
    assert decisions.filter(pl.col("override_action") == "INCLUDE").get_column("decision").to_list() == ["ADD"]
    load = read(warehouse, "FROM marts.account_manager_load")
    managers = read(warehouse, "SELECT count(*) AS n FROM staging.account_managers").item()
    assert load.height == managers
    assert set(load.get_column("load_status")) <= {"OVER", "BALANCED", "UNDER"}


def test_the_marts_checks_pass_on_a_nightly_run(default_run) -> None:
    """The checks on what BI reads all run and pass on good data; a blocking one failing would stop publishing."""
    outcomes = {
        (e.asset_key.to_user_string(), e.check_name): e.passed for e in default_run[1].get_asset_check_evaluations()
    }
    marts = {key: passed for key, passed in outcomes.items() if key[0].startswith("marts/")}
    assert {
        ("marts/customer_segments", "one_row_per_customer"),
        ("marts/customer_segments", "revenue_shares_sum_to_one"),
        ("marts/customer_segments", "revenue_reconciles"),
        ("marts/kam_candidates", "one_row_per_customer"),
        ("marts/resource_allocation", "one_row_per_customer"),
        ("marts/kam_programme", "keep_add_within_seats"),
        ("marts/account_manager_load", "allocated_within_capacity"),
    } <= set(marts)
    # only the warning on the sample's overrides that expire soon may fail
    failed = [key for key, passed in marts.items() if not passed and key[1] != "overrides_need_attention"]
    assert failed == []
    reconciliation = next(
        e for e in default_run[1].get_asset_check_evaluations() if e.check_name == "revenue_reconciles"
    )
    evidence = {name: value.value for name, value in reconciliation.metadata.items()}
    assert Decimal(evidence["accepted_lines_revenue"]) > 0
    assert Decimal(evidence["unmapped_revenue"]) > 0  # the sample has unmapped ERP customers


def test_the_report_draws_its_charts_once_and_shows_them_in_the_ui(default_run) -> None:
    warehouse, result = default_run
    report = next(
        m for m in result.get_asset_materialization_events() if m.asset_key == dg.AssetKey(["reports", "kam_report"])
    )
    metadata = report.materialization.metadata
    charts = [name for name in metadata if name.startswith("chart: ")]
    assert len(charts) == 4
    assert all(metadata[name].value.startswith("![") for name in charts)
    page = Path(metadata["path"].value).read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 4
    # readiness and the decisions to discuss come first, then the charts; one section per scenario
    order = [page.index(f">{heading}</h2>") for heading in ("Programme readiness", "Decisions to discuss", "Load")]
    assert order == sorted(order)
    assert "Verdict: " in page
    assert ">Scenario one more kam: " in page and ">Scenario a cut 70: " in page
    assert warehouse.exists()


CHROMIUM = "/usr/bin/chromium"
#: Run in the page before anything else: records CSP violations and load
#: errors, then on load writes the images, broken images and in-page links
#: without a target into <pre id="browser-check"> for --dump-dom to return.
BROWSER_CHECK = """(() => {
  const problems = [];
  document.addEventListener('securitypolicyviolation', e => problems.push('csp: ' + e.violatedDirective + ' ' + e.blockedURI));
  window.addEventListener('error', e => problems.push('error: ' + (e.message || (e.target && e.target.tagName))), true);
  window.addEventListener('load', () => {
    const images = [...document.images];
    const broken = images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt);
    const links = [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href'));
    const dangling = links.filter(href => !document.getElementById(href.slice(1)));
    const out = document.createElement('pre');
    out.id = 'browser-check';
    out.textContent = JSON.stringify({images: images.length, broken, links: links.length, dangling, problems});
    document.body.appendChild(out);
  });
})();"""


def open_in_chromium(page: str, tmp_path: Path) -> tuple[dict, list[str]]:
    """What BROWSER_CHECK finds in `page` in headless Chromium, and the
    browser's console messages. The check is added to a copy of the page and
    allowed by its hash only, so the page's own CSP still governs the rest."""
    digest = base64.b64encode(hashlib.sha256(BROWSER_CHECK.encode()).digest()).decode()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1)
    checked = page.replace(csp, f"{csp}; script-src 'sha256-{digest}'", 1)
    checked = checked.replace("<style>", f"<script>{BROWSER_CHECK}</script>\n<style>", 1)
    copy = tmp_path / "report.html"
    copy.write_text(checked, encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
    flags += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
    flags += [f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    flags += ["--run-all-compositor-stages-before-draw", "--virtual-time-budget=5000", "--dump-dom"]
    done = subprocess.run([CHROMIUM, *flags, copy.as_uri()], capture_output=True, text=True, timeout=120, check=True)
    found = re.search(r'<pre id="browser-check">(.*?)</pre>', done.stdout)
    assert found, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return json.loads(html.unescape(found.group(1))), console


@pytest.mark.browser
def test_the_report_renders_in_a_real_browser(default_run, tmp_path: Path) -> None:
    """In headless Chromium (make browser-test): every chart loads, every
    link of the contents finds its section, nothing is blocked or logged."""
    report = next(
        m
        for m in default_run[1].get_asset_materialization_events()
        if m.asset_key == dg.AssetKey(["reports", "kam_report"])
    )
    page = Path(report.materialization.metadata["path"].value).read_text(encoding="utf-8")
    check, console = open_in_chromium(page, tmp_path)
    assert check["images"] == 4 and check["broken"] == []
    assert check["links"] == page.count('href="#') and check["dangling"] == []
    assert check["problems"] == [] and console == []


def test_without_the_overrides_file_the_decisions_are_the_rule_only_ones(
    tmp_path: Path, landing: Path, default_run
) -> None:
    with_overrides = read(default_run[0], "FROM marts.kam_candidates ORDER BY customer_id")
    bare = tmp_path / "bare"
    shutil.copytree(landing, bare)
    for file in (bare / "crm").glob("kam_overrides.*"):
        file.unlink()
    without = read(run_job(tmp_path / "without", bare, AS_OF), "FROM marts.kam_candidates ORDER BY customer_id")

    assert with_overrides.get_column("decision_source").is_in(["OVERRIDE"]).any()
    rule = with_overrides.select("customer_id", decision="rule_decision", proposed_decision="rule_proposed_decision")
    assert without.select("customer_id", "decision", "proposed_decision").equals(rule)
    assert set(without.get_column("decision_source")) == {"RULE"}
    assert without.get_column("override_id").is_null().all()


BASE_PLAN = ("customer_segments", "kam_candidates", "kam_overrides", "resource_allocation", "account_manager_load")


def test_scenarios_never_change_the_base_plan(tmp_path: Path, landing: Path, default_run) -> None:
    without = run_job(tmp_path, landing, AS_OF, scenarios={})

    comparison = read(default_run[0], "FROM marts.scenario_comparison ORDER BY scenario")
    assert comparison.get_column("scenario").to_list() == ["a_cut_70", "base", "one_more_kam"]
    assert read(without, "SELECT scenario FROM marts.scenario_comparison").get_column("scenario").to_list() == ["base"]
    assert read(without, "SELECT count(*) AS n FROM marts.scenario_candidates").item() == 0
    for table in BASE_PLAN:
        query = f"FROM marts.{table} ORDER BY ALL"
        assert read(default_run[0], query).equals(read(without, query)), table


EUROPEAN = CsvDialect(
    delimiter=";", decimal_mark=",", thousands_separator=".", date_format="%d.%m.%Y", encoding="cp1252"
)


def _number(value: pl.Expr, dialect: CsvDialect) -> pl.Expr:
    """`-12345.5` -> `-12.345,5`: thousands grouped, the decimal mark replaced."""
    sign = value.str.extract(r"^(-?)", 1)
    whole = value.str.extract(r"^-?(\d+)", 1)
    grouped = whole.str.reverse().str.replace_all(r"(\d{3})", "${1}" + dialect.thousands_separator)
    grouped = grouped.str.strip_suffix(dialect.thousands_separator).str.reverse()
    fraction = value.str.extract(r"\.(\d+)$", 1)
    decimals = pl.when(fraction.is_not_null()).then(pl.lit(dialect.decimal_mark) + fraction).otherwise(pl.lit(""))
    return pl.when(whole.is_not_null()).then(sign + grouped + decimals).otherwise(value)


def rewrite_landing(landing: Path, out: Path, dialect: CsvDialect) -> Path:
    """The landing's CSV files as a French or German ERP writes them: the
    same values in `dialect`'s delimiter, number and date notation and encoding."""
    shutil.copytree(landing, out)
    for extract in EXTRACTS:
        for path in out.glob(extract.pattern):
            text = pl.read_csv(path, infer_schema=False)
            columns = []
            for column in extract.columns:
                value = pl.col(column.name)
                if column.dtype == pl.Date:
                    value = value.str.to_date("%Y-%m-%d").dt.strftime(dialect.date_format)
                elif isinstance(column.dtype, pl.Decimal) or column.dtype.is_float():
                    value = _number(value, dialect)
                columns.append(value)
            body = text.select(columns).write_csv(separator=dialect.delimiter, line_terminator="\r\n")
            path.write_bytes(body.encode(dialect.encoding))
    return out


def test_a_european_export_publishes_the_same_segments(tmp_path: Path, landing: Path, default_run) -> None:
    """`;`, decimal commas, thousands points, DD.MM.YYYY and Windows-1252,
    described in the settings' [csv] sections, give the same warehouse."""
    european = rewrite_landing(landing, tmp_path / "european", EUROPEAN)
    sample = (european / "erp" / "customers.csv").read_bytes()
    assert b";" in sample and b"\xd6" in sample  # Ö in Windows-1252
    assert b"." in (european / "erp" / "invoice_lines" / "2026-11.csv").read_bytes().split(b"\r\n")[1]
    dialect = {
        f"csv.{system}.{key}": value for system in ("erp", "crm") for key, value in EUROPEAN.model_dump().items()
    }
    warehouse = run_job(tmp_path, european, AS_OF, **dialect)
    original = default_run[0]
    for table in [*MARTS, "staging.invoice_lines", "staging.crm_accounts", "quality.reconciliation"]:
        columns = [c for c in read(original, f"FROM {table} LIMIT 0").columns if c not in ("run_id", "_source_file")]
        query = f"SELECT {', '.join(columns)} FROM {table} ORDER BY ALL"
        assert read(warehouse, query).equals(read(original, query)), table


def test_a_bi_client_reads_the_bi_views_and_runs_the_readme_queries(default_run) -> None:
    """As a BI tool does it (duckdb-engine, SQLAlchemy 2.0, read-only): schemas,
    the bi views with their documented columns, and the README's queries."""
    warehouse = default_run[0]
    engine = create_engine(f"duckdb:///{warehouse}", connect_args={"read_only": True})
    try:
        catalog = warehouse.stem  # duckdb-engine names schemas <database>.<schema>
        inspector = inspect(engine)
        assert {f"{catalog}.{s}" for s in ("bi", "marts", "quality", "history", "meta")} <= set(
            inspector.get_schema_names()
        )
        views = inspector.get_view_names(schema=f"{catalog}.bi")
        assert {"current_segmentation", "kam_decisions", "kam_programme", "scenarios", "data_quality"} <= set(views)
        for view in views:
            columns = inspector.get_columns(view, schema=f"{catalog}.bi")
            assert columns and all(c["comment"] for c in columns), view
        queries = readme_bi_queries()
        assert len(queries) >= 2
        with engine.connect() as con:
            for query in queries:
                assert con.execute(text(query)).fetchall(), query
    finally:
        engine.dispose()
