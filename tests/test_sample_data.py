"""The sample-data generator: deterministic, contract-conforming, realistic, and honest about its bad rows.

The contract's own rule expressions are the oracle: clean data must break none
of them, and every row `_defects.json` lists must break the rule it names
(and no unlisted row may break any).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from kam_pipeline.ingest.casting import CONTROL_CHARACTERS
from kam_pipeline.ingest.contract import EXTRACTS, Extract
from kam_pipeline.ingest.contract.extracts import fx_month_key, fx_rate_key
from kam_pipeline.ingest.contract.rules import RuleContext, UniqueKey
from kam_pipeline.ingest.hierarchy import resolve_groups
from kam_pipeline.settings import DEFAULT_CONFIG, load_settings
from tools import sample_data
from tools.sample_data import generate
from tools.sample_defects import read_manifest

AS_OF = date(2026, 11, 28)
SIZE = {"seed": 7, "accounts": 400, "invoice_lines": 40_000, "as_of": AS_OF}
PARSE_RULES = {"parse.ragged", "parse.type", "parse.text"}
ALL_RULES = {rule.name for extract in EXTRACTS for rule in extract.all_rules()}
#: The second rule a defect cannot help breaking (see tools.sample_defects); any other is a dependency.
ALSO_BROKEN = {
    "invoice_lines.currency.iso4217": "invoice_lines.currency.fx_rate_exists",
    "opportunities.currency.iso4217": "opportunities.currency.fx_rate_exists",
    "crm_accounts.parent_account_id.exists": "crm_accounts.hierarchy.acyclic",
}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> sample_data.GenerationReport:
    return generate(tmp_path_factory.mktemp("clean"), **SIZE)


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> sample_data.GenerationReport:
    return generate(tmp_path_factory.mktemp("bad"), **SIZE, bad_rows=True)


@pytest.fixture(scope="module")
def clean_frames(clean: sample_data.GenerationReport) -> dict[str, pl.DataFrame]:
    return {e.name: read_typed(clean.out, e) for e in EXTRACTS}


def read_typed(landing: Path, extract: Extract) -> pl.DataFrame:
    """All files of an extract in the contract's types; CSV is parsed strictly (fails on any bad value)."""
    files = sorted(landing.glob(extract.pattern))
    assert files, f"no file for {extract.pattern}"
    if files[0].suffix == ".parquet":
        return pl.concat([pl.read_parquet(f) for f in files])
    return pl.concat([contract_types(pl.read_csv(f, infer_schema=False), extract) for f in files])


def contract_types(text: pl.DataFrame, extract: Extract, *, strict: bool = True) -> pl.DataFrame:
    """Cast text columns as the contract reads them: ISO dates only, booleans `true`/`false`."""
    casts = []
    for name, dtype in extract.schema.items():
        cell = pl.col(name)
        if dtype == pl.Date:
            casts.append(cell.str.to_date("%Y-%m-%d", strict=strict))
        elif dtype == pl.Boolean:
            default = {} if strict else {"default": None}  # strict: anything else raises
            casts.append(cell.replace_strict({"true": True, "false": False}, return_dtype=pl.Boolean, **default))
        else:
            casts.append(cell.cast(dtype, strict=strict))
    return text.with_columns(casts)


def rule_context(frames: dict[str, pl.DataFrame], as_of: date = AS_OF) -> RuleContext:
    """Accepted keys of every reference target, as the contract's References rules expect them."""
    fx = frames["fx_rates"]
    return RuleContext(
        as_of=as_of,
        reporting_currency="EUR",
        keys={
            "erp_customers": frames["erp_customers"].select("erp_customer_id"),
            "crm_accounts": frames["crm_accounts"].select("account_id"),
            "account_managers": frames["account_managers"].select("owner_id"),
            "fx_rates": fx.select(fx_rate_key(pl.col("currency"), fx_month_key())),
            "fx_currencies": fx.select("currency").unique(),
        },
    )


def violations(frame: pl.DataFrame, extract: Extract, ctx: RuleContext) -> pl.DataFrame:
    """One boolean column per contract rule of the extract, true where a row breaks it."""
    if extract.name == "crm_accounts":
        problems = resolve_groups(frame).select("account_id", "_hierarchy_problem")
        frame = frame.join(problems, on="account_id", how="left", maintain_order="left")
    return frame.with_columns(rule.violation(ctx).alias(rule.name) for rule in extract.all_rules())


def eur_revenue(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Invoice lines with their EUR amount, CRM account and top account of its group."""
    fx = frames["fx_rates"].select("currency", "month", rate=pl.col("rate_to_reporting").cast(pl.Float64))
    groups = resolve_groups(frames["crm_accounts"]).select("account_id", "top_account_id")
    return (
        frames["invoice_lines"]
        .with_columns(month=pl.col("invoice_date").dt.strftime("%Y-%m"))
        .join(fx, on=["currency", "month"], how="left")
        .with_columns(eur=pl.col("net_amount").cast(pl.Float64) * pl.col("rate").fill_null(1.0))
        .join(frames["erp_customers"], on="erp_customer_id", how="left")
        .join(groups, left_on="crm_account_id", right_on="account_id", how="left")
    )


def file_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        header, *rows = csv.reader(fh)
    return header, rows


# --------------------------------------------------------------------------- determinism and shape


def landing_bytes(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_gives_identical_bytes(tmp_path: Path, fmt: sample_data.Format) -> None:
    args = {"seed": 3, "accounts": 120, "invoice_lines": 6000, "fmt": fmt, "bad_rows": True}
    first = generate(tmp_path / "a", **args)
    second = generate(tmp_path / "b", **args)
    assert first.files == second.files
    assert landing_bytes(tmp_path / "a") == landing_bytes(tmp_path / "b")


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", seed=1, accounts=120, invoice_lines=6000)
    generate(tmp_path / "b", seed=2, accounts=120, invoice_lines=6000)
    a, b = landing_bytes(tmp_path / "a"), landing_bytes(tmp_path / "b")
    assert a.keys() == b.keys()
    for name in ("crm/accounts.csv", "erp/customers.csv", "erp/invoice_lines/2026-06.csv"):
        assert a[name] != b[name], name


def test_row_counts_and_files_match_the_arguments(clean: sample_data.GenerationReport) -> None:
    assert clean.rows["crm_accounts"] == SIZE["accounts"]
    assert clean.rows["invoice_lines"] == SIZE["invoice_lines"]
    assert clean.rows["account_managers"] >= len(sample_data.KAM_TEAM) + 5  # the KAMs and an AM per region at least
    on_disk = sorted(p.relative_to(clean.out).as_posix() for p in clean.out.rglob("*") if p.is_file())
    assert sorted(clean.files) == on_disk
    months = sorted(p.stem for p in (clean.out / "erp/invoice_lines").iterdir())
    assert len(months) == sample_data.MONTHS and months[0] == "2023-12" and months[-1] == "2026-11"
    for extract in EXTRACTS:
        files = sorted(clean.out.glob(extract.pattern))
        assert sum(len(file_rows(f)[1]) for f in files) == clean.rows[extract.name], extract.name
        assert all(file_rows(f)[0] == extract.column_names for f in files), extract.name


def test_success_marker_is_written_last_and_empty(clean: sample_data.GenerationReport) -> None:
    assert clean.files[-1] == "_SUCCESS"
    assert (clean.out / "_SUCCESS").read_bytes() == b""
    assert not (clean.out / "_defects.json").exists()


def test_a_previous_landing_set_is_replaced(tmp_path: Path) -> None:
    stale = [tmp_path / "erp/invoice_lines/1999-01.csv", tmp_path / "crm/accounts.parquet", tmp_path / "_defects.json"]
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("old")
    keep = tmp_path / "README.txt"
    keep.write_text("not an extract")
    generate(tmp_path, accounts=100, invoice_lines=3000)
    assert not any(p.exists() for p in stale)
    assert keep.read_text() == "not an extract"


def test_months_split_into_chunks_stay_consistent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sample_data, "CHUNK_LINES", 300)
    report = generate(tmp_path, seed=5, accounts=100, invoice_lines=30_000, bad_rows=True)
    assert report.rows["invoice_lines"] == 30_000
    # about 830 lines a month in chunks of 300: keys stay unique and bad rows are numbered across chunks
    assert_manifest_matches_files(tmp_path)


def test_invalid_arguments_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="accounts"):
        generate(tmp_path, accounts=10)
    with pytest.raises(ValueError, match="defect_rate"):
        generate(tmp_path, accounts=100, invoice_lines=3000, defect_rate=0.2)
    with pytest.raises(ValueError, match="too few invoice lines"):
        generate(tmp_path, accounts=100, invoice_lines=40, bad_rows=True)


def test_cli_writes_a_landing_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = sample_data.main(["--out", str(tmp_path), "--accounts", "100", "--invoice-lines", "2000", "--bad-rows"])
    assert code == 0
    assert "invoice_lines" in capsys.readouterr().out
    assert (tmp_path / "_SUCCESS").exists() and (tmp_path / "_defects.json").exists()
    with pytest.raises(SystemExit):
        sample_data.main(["--out", str(tmp_path), "--format", "xlsx"])


# --------------------------------------------------------------------------- clean data conforms


@pytest.mark.parametrize("extract", EXTRACTS, ids=lambda e: e.name)
def test_clean_data_breaks_no_contract_rule(extract: Extract, clean_frames: dict[str, pl.DataFrame]) -> None:
    flags = violations(clean_frames[extract.name], extract, rule_context(clean_frames))
    broken = {rule.name: flags[rule.name].sum() for rule in extract.all_rules() if flags[rule.name].any()}
    assert broken == {}


def test_clean_data_covers_every_currency_month_with_fx(clean_frames: dict[str, pl.DataFrame]) -> None:
    lines = clean_frames["invoice_lines"]
    needed = lines.filter(pl.col("currency") != "EUR").select(
        "currency", month=pl.col("invoice_date").dt.strftime("%Y-%m")
    )
    missing = needed.unique().join(clean_frames["fx_rates"], on=["currency", "month"], how="anti")
    assert missing.is_empty()
    assert lines["invoice_date"].max() <= AS_OF
    assert lines["invoice_date"].min() >= AS_OF.replace(day=1) - timedelta(days=3 * 365)


def test_hierarchy_has_several_levels_and_no_cycle(clean_frames: dict[str, pl.DataFrame]) -> None:
    groups = resolve_groups(clean_frames["crm_accounts"])
    assert groups["_hierarchy_problem"].null_count() == groups.height
    assert groups["depth"].max() >= 2
    sizes = groups.group_by("top_account_id").len()
    assert sizes["len"].max() >= 5 and (sizes["len"] == 1).any()


def test_parquet_holds_the_same_data_as_csv(tmp_path: Path) -> None:
    generate(tmp_path / "csv", **SIZE)
    generate(tmp_path / "parquet", **SIZE, fmt="parquet")
    for extract in EXTRACTS:
        from_csv = read_typed(tmp_path / "csv", extract)
        from_parquet = read_typed(tmp_path / "parquet", extract)
        assert from_parquet.schema == pl.Schema(extract.schema), extract.name
        assert from_parquet.equals(from_csv), extract.name


# --------------------------------------------------------------------------- realism


def test_revenue_is_heavy_tailed_across_groups(clean_frames: dict[str, pl.DataFrame]) -> None:
    revenue = (
        eur_revenue(clean_frames)
        .filter(pl.col("top_account_id").is_not_null())
        .group_by("top_account_id")
        .agg(pl.col("eur").sum())
        .sort("eur", descending=True)
    )
    top_fifth = revenue.head(revenue.height // 5)["eur"].sum() / revenue["eur"].sum()
    assert top_fifth > 0.6


def test_unmapped_customers_carry_about_one_percent(clean_frames: dict[str, pl.DataFrame]) -> None:
    lines = eur_revenue(clean_frames)
    share = lines.filter(pl.col("crm_account_id").is_null())["eur"].sum() / lines["eur"].sum()
    assert 0.003 < share < 0.03
    assert clean_frames["erp_customers"]["crm_account_id"].null_count() >= 3


def test_invoice_lines_look_like_an_erp_export(clean_frames: dict[str, pl.DataFrame]) -> None:
    lines = clean_frames["invoice_lines"]
    credit_share = (lines["document_type"] == "CREDIT_NOTE").mean()
    assert 0.03 <= credit_share <= 0.05
    assert 0.01 < lines["cost_amount"].null_count() / lines.height < 0.2
    assert set(lines["currency"].unique()) >= {"EUR", "USD", "GBP", "CHF", "SEK"}
    assert lines.select(pl.struct("invoice_id", "line_no").n_unique()).item() == lines.height


def test_customers_grow_decline_start_and_stop(clean_frames: dict[str, pl.DataFrame]) -> None:
    year_ago, two_years_ago = AS_OF - timedelta(days=365), AS_OF - timedelta(days=730)
    per_group = (
        eur_revenue(clean_frames)
        .filter(pl.col("top_account_id").is_not_null())
        .group_by("top_account_id")
        .agg(
            current=pl.col("eur").filter(pl.col("invoice_date") > year_ago).sum(),
            previous=pl.col("eur")
            .filter(pl.col("invoice_date").is_between(two_years_ago, year_ago, closed="right"))
            .sum(),
            first=pl.col("invoice_date").min(),
            last=pl.col("invoice_date").max(),
        )
    )
    assert per_group.filter(pl.col("first") > year_ago).height >= 1  # new
    assert per_group.filter(pl.col("last") < AS_OF - timedelta(days=90)).height >= 1  # lost
    assert per_group.filter(pl.col("current") < 0.7 * pl.col("previous")).height >= 1  # declining
    assert per_group.filter(pl.col("current") > 1.3 * pl.col("previous")).height >= 1  # growing


def test_crm_has_regions_industries_key_accounts_and_a_kam_team(clean_frames: dict[str, pl.DataFrame]) -> None:
    accounts, managers = clean_frames["crm_accounts"], clean_frames["account_managers"]
    assert accounts["region"].n_unique() == 5
    spend_table = load_settings(DEFAULT_CONFIG, as_of=AS_OF).segmentation.spend_per_employee
    assert set(accounts["industry"].unique()) == set(spend_table) - {"default"}
    kams = managers.filter(pl.col("role") == "KAM")
    assert 3 <= kams.height <= 4
    ams = managers.filter(pl.col("role") == "AM")
    assert set(ams["region"]) == set(accounts["region"])  # every region has its account managers
    assert ams["capacity_hours"].is_between(*sample_data.AM_CAPACITY).all()
    assert accounts["owner_id"].is_in(managers["owner_id"].implode()).all()
    assert kams["capacity_hours"].is_between(1200, 1600).all()
    assert kams["hourly_cost"].cast(pl.Float64).is_between(80, 120).all()
    key = accounts.filter(pl.col("is_key_account"))
    assert key.height >= 3
    assert key["key_account_since"].null_count() == 0
    assert (key["key_account_since"] > AS_OF - timedelta(days=365)).any()
    assert (key["key_account_since"] <= AS_OF - timedelta(days=365)).any()
    assert key["owner_id"].is_in(kams["owner_id"].implode()).all()
    assert 0.8 < accounts["employee_count"].is_not_null().mean() < 1.0
    assert 0.1 < accounts["estimated_wallet"].is_not_null().mean() < 0.6
    assert set(clean_frames["opportunities"]["status"].unique()) == {"OPEN", "WON", "LOST"}


YEAR_AGO, TWO_YEARS_AGO = AS_OF - timedelta(days=365), AS_OF - timedelta(days=730)


@pytest.fixture(scope="module")
def groups(clean_frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per group (top account), prospects included: EUR revenue of the last twelve months and of the
    twelve before, first and last invoice, Pareto class by revenue (A/B = top 95 %, N = none), rank, the top
    account's competitive position, key-account flag and date, owners, EUR lost in deals closed in the last
    twelve months, and the median EUR amount of its opportunities."""
    accounts = resolve_groups(clean_frames["crm_accounts"]).select("account_id", "top_account_id")
    revenue = (
        eur_revenue(clean_frames)
        .filter(pl.col("top_account_id").is_not_null())
        .group_by("top_account_id")
        .agg(
            current=pl.col("eur").filter(pl.col("invoice_date") > YEAR_AGO).sum(),
            previous=pl.col("eur")
            .filter(pl.col("invoice_date").is_between(TWO_YEARS_AGO, YEAR_AGO, closed="right"))
            .sum(),
            first=pl.col("invoice_date").min(),
            last=pl.col("invoice_date").max(),
        )
    )
    fx = clean_frames["fx_rates"].filter(pl.col("month") == f"{AS_OF:%Y-%m}")
    deals = (
        clean_frames["opportunities"]
        .join(fx, on="currency", how="left")
        .join(accounts, on="account_id")
        .with_columns(
            eur=pl.col("amount").cast(pl.Float64) * pl.col("rate_to_reporting").cast(pl.Float64).fill_null(1.0)
        )
        .group_by("top_account_id")
        .agg(
            lost=pl.col("eur").filter(pl.col("status") == "LOST", pl.col("close_date") > YEAR_AGO).sum(),
            deal=pl.col("eur").median(),
        )
    )
    crm = clean_frames["crm_accounts"].join(accounts, on="account_id")
    per_group = crm.group_by("top_account_id").agg(
        key=pl.col("is_key_account").any(),
        since=pl.col("key_account_since").min(),
        owners=pl.col("owner_id").unique(),
    )
    tops = crm.filter(pl.col("account_id") == pl.col("top_account_id")).select("top_account_id", "competitive_position")
    frame = (
        per_group.join(tops, on="top_account_id")
        .join(revenue, on="top_account_id", how="left")
        .join(deals, on="top_account_id", how="left")
        .with_columns(pl.col("current", "previous", "lost").fill_null(0.0))
        .sort(["current", "top_account_id"], descending=[True, False])
    )
    total = frame["current"].filter(frame["current"] > 0).sum()
    before = frame["current"].cum_sum() - frame["current"]
    return frame.with_columns(
        rank=pl.int_range(1, pl.len() + 1),
        abc=pl.when(pl.col("current") <= 0)
        .then(pl.lit("N"))
        .when(before < 0.95 * total)
        .then(pl.lit("AB"))
        .otherwise(pl.lit("C")),
        growth=pl.when(pl.col("previous") > 0).then(pl.col("current") / pl.col("previous") - 1),
    )


def test_wallets_exceed_what_accounts_buy(clean_frames: dict[str, pl.DataFrame]) -> None:
    revenue = (
        eur_revenue(clean_frames)
        .filter(pl.col("invoice_date") > YEAR_AGO)
        .group_by("crm_account_id")
        .agg(pl.col("eur").sum())
    )
    accounts = clean_frames["crm_accounts"].join(revenue, left_on="account_id", right_on="crm_account_id", how="left")
    buying = accounts.filter(pl.col("eur") > 0, pl.col("estimated_wallet").is_not_null())
    assert buying.height > 50
    assert (buying["eur"] < buying["estimated_wallet"].cast(pl.Float64)).mean() >= 0.93
    assert 0.15 < (buying["eur"] / buying["estimated_wallet"].cast(pl.Float64)).median() < 0.45  # Beta(2, 3)-like
    # prospects have a size too, and headcounts agree with the wallet at the configured spend per employee
    prospects = accounts.filter(pl.col("eur").is_null())
    assert prospects["estimated_wallet"].is_not_null().any() and prospects["employee_count"].is_not_null().any()
    spend = load_settings(DEFAULT_CONFIG, as_of=AS_OF).segmentation.spend_per_employee
    both = accounts.drop_nulls(["estimated_wallet", "employee_count"]).filter(pl.col("employee_count") > 3)
    benchmark = both["employee_count"] * both["industry"].replace_strict(spend, return_dtype=pl.Float64)
    assert 0.85 < (benchmark / both["estimated_wallet"].cast(pl.Float64)).median() < 1.15


def test_key_accounts_look_like_a_programme(groups: pl.DataFrame, clean_frames: dict[str, pl.DataFrame]) -> None:
    key = groups.filter("key")
    assert 14 <= key.height <= 18
    obvious, to_demote = key.filter(pl.col("rank") <= 20), key.filter(pl.col("rank") > 20)
    assert obvious.height >= 10
    assert (obvious["growth"] > -0.15).all()  # the obvious ones are steady or growing
    assert 3 <= to_demote.height <= 5
    assert (to_demote["growth"] < -0.10).any() and (to_demote["competitive_position"] <= 2).any()
    days = (pl.lit(AS_OF) - key["since"]).dt.total_days()
    young = key.select(days < 365).to_series()
    assert 2 <= young.sum() <= 6  # about a quarter joined less than a year ago ...
    assert key.select(days.is_between(540, 7 * 366)).to_series().filter(~young).all()  # ... the others 1.5-7 years
    kams = clean_frames["account_managers"].filter(pl.col("role") == "KAM")["owner_id"]
    assert key["owners"].list.len().eq(1).all()  # the whole group has one owner, a KAM
    assert key["owners"].list.first().is_in(kams.implode()).all()


def test_prospects_and_lapsed_customers_exist(groups: pl.DataFrame) -> None:
    prospects = groups.filter(pl.col("first").is_null())
    lapsed = groups.filter(pl.col("first").is_not_null(), pl.col("last") <= YEAR_AGO)
    stopped = groups.filter(pl.col("last").is_between(YEAR_AGO, AS_OF - timedelta(days=90), closed="right"))
    for kind in (prospects, lapsed, stopped):
        assert 1 <= kind.height <= 0.1 * groups.height
    assert (lapsed["last"] < YEAR_AGO - timedelta(days=20)).any()  # some stopped well over a year ago


def test_threats_are_exceptions_among_large_customers(groups: pl.DataFrame) -> None:
    large, small = groups.filter(pl.col("abc") == "AB"), groups.filter(pl.col("abc") == "C")
    weak = large["competitive_position"].le(2).fill_null(False).mean()  # unknown is not weak, as in the pipeline
    assert weak < 0.2
    assert weak < small["competitive_position"].le(2).fill_null(False).mean()  # weak positions are on small customers
    assert 0 < (large["growth"] <= -0.15).mean() < 0.15
    assert (large["lost"] >= 0.25 * large["current"]).mean() < 0.1
    # deal amounts scale with the customer: the largest groups' typical deal is several times the smaller ones'
    assert large.head(20)["deal"].median() > 2.5 * large.tail(large.height // 2)["deal"].median()


# --------------------------------------------------------------------------- bad rows


def assert_manifest_matches_files(landing: Path, as_of: date = AS_OF) -> None:
    """Every listed defect is where the manifest says and breaks the rule it names (and no other but
    the unavoidable ones); no unlisted row breaks any rule. References are checked against the
    unlisted rows, accounts' parents against every account (the hierarchy rule catches the rest)."""
    manifest = read_manifest(landing)
    listed: dict[tuple[str, int], list[dict]] = {}  # parse defects, checked while reading the files
    for entry in manifest:
        if entry["rule"] in PARSE_RULES:
            listed.setdefault((entry["file"], entry["row"]), []).append(entry)
    parquet = next(landing.glob("erp/fx_rates.*")).suffix == ".parquet"

    typed: dict[str, pl.DataFrame] = {}
    for extract in EXTRACTS:
        parts = []
        for path in sorted(landing.glob(extract.pattern)):
            rel = path.relative_to(landing).as_posix()
            if parquet:
                frame = pl.read_parquet(path).with_columns(_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
            else:
                frame = _parse_good_rows(path, rel, extract, listed)
            parts.append(frame.with_columns(_file=pl.lit(rel)))
        typed[extract.name] = pl.concat(parts)

    entries = pl.DataFrame(
        [{"extract": e["extract"], "_file": e["file"], "_row": e["row"], "rule": e["rule"]} for e in manifest],
        schema={"extract": pl.String, "_file": pl.String, "_row": pl.Int64, "rule": pl.String},
    )
    rows = ["_file", "_row"]
    reference = {name: frame.join(entries, on=rows, how="anti") for name, frame in typed.items()}
    ctx = rule_context({**reference, "crm_accounts": typed["crm_accounts"]}, as_of)
    also = entries.with_columns(pl.col("rule").replace_strict(ALSO_BROKEN, default=None)).drop_nulls("rule")
    allowed = pl.concat([entries, also]).select(*rows, "rule")
    for extract in EXTRACTS:
        flags = violations(typed[extract.name], extract, ctx)
        rules = [r.name for r in extract.all_rules()]
        broken = flags.unpivot(rules, index=rows, variable_name="rule").filter("value").select(*rows, "rule")
        mine = entries.filter(pl.col("extract") == extract.name, ~pl.col("rule").is_in(PARSE_RULES))
        assert mine.join(broken, on=[*rows, "rule"], how="anti").is_empty(), f"{extract.name}: listed, not broken"
        assert broken.join(allowed, on=[*rows, "rule"], how="anti").is_empty(), f"{extract.name}: broken, not listed"

        keys = pl.DataFrame(
            [{"_file": e["file"], "_row": e["row"], **e["key"]} for e in manifest if e["extract"] == extract.name],
            schema={"_file": pl.String, "_row": pl.Int64, **dict.fromkeys(extract.key, pl.String)},
        )
        written = flags.select(*rows, *(pl.col(k).cast(pl.String) for k in extract.key))
        assert keys.join(mine.select(rows), on=rows).join(written, on=rows, how="anti", nulls_equal=True).is_empty()

        for rule in (r for r in extract.rules if isinstance(r, UniqueKey)):
            first = flags.group_by(rule.columns, maintain_order=True).agg(
                first_file=pl.col("_file").first(), first_row=pl.col("_row").first()
            )
            copies = flags.join(mine.filter(pl.col("rule") == rule.name), on=rows).join(first, on=rule.columns)
            assert copies.height == mine.filter(pl.col("rule") == rule.name).height > 0
            assert (copies["first_row"] < copies["_row"]).all() and (copies["first_file"] == copies["_file"]).all()
            originals = copies.select(_file="first_file", _row="first_row")
            assert originals.join(entries, on=rows).is_empty(), "the first occurrence must be a good row"


def _parse_good_rows(path: Path, rel: str, extract: Extract, listed: dict) -> pl.DataFrame:
    """Check the listed parse defects in a CSV file, then parse every other row strictly."""
    header, rows = file_rows(path)
    kept = []
    for number, fields in enumerate(rows, start=1):
        entries = listed.get((rel, number), [])
        for entry in entries:
            if entry["rule"] == "parse.ragged":
                assert len(fields) != len(header), entry
            else:
                assert len(fields) == len(header), entry
                column = extract.column_names.index(entry["column"])
                assert fields[column] == entry["value"], entry
                if entry["rule"] == "parse.text":
                    assert re.search(CONTROL_CHARACTERS, entry["value"]), entry
                else:
                    assert not _parses(entry["value"], extract, entry["column"]), entry
        if not entries:
            kept.append(number)
    lines = path.read_text(encoding="utf-8").splitlines()
    text = "\n".join([lines[0], *(lines[n] for n in kept)]) + "\n"
    frame = contract_types(pl.read_csv(io.StringIO(text), infer_schema=False), extract)  # every unlisted row parses
    return frame.with_columns(_row=pl.Series(kept, dtype=pl.Int64))


def _parses(value: str, extract: Extract, column: str) -> bool:
    frame = pl.DataFrame(
        {c: [value if c == column else None] for c in extract.column_names}, schema=extract.column_names
    )
    frame = frame.cast(pl.String)
    return contract_types(frame, extract, strict=False)[column].is_not_null().item()


def test_bad_rows_cover_every_rule_of_the_contract(bad: sample_data.GenerationReport) -> None:
    rules = {entry["rule"] for entry in read_manifest(bad.out)}
    assert rules == ALL_RULES | PARSE_RULES
    assert sum(bad.defects.values()) == len(read_manifest(bad.out))


def test_bad_rows_are_where_the_manifest_says(bad: sample_data.GenerationReport) -> None:
    assert_manifest_matches_files(bad.out)


def test_bad_rows_leave_every_other_row_as_in_clean_mode(
    clean: sample_data.GenerationReport, bad: sample_data.GenerationReport
) -> None:
    listed: dict[str, set[int]] = {}
    for entry in read_manifest(bad.out):
        listed.setdefault(entry["file"], set()).add(entry["row"])
    for extract in EXTRACTS:
        for path in sorted(clean.out.glob(extract.pattern)):
            rel = path.relative_to(clean.out).as_posix()
            good = path.read_text(encoding="utf-8").splitlines()[1:]
            with_bad = (bad.out / rel).read_text(encoding="utf-8").splitlines()[1:]
            rows = listed.get(rel, set())
            if extract.many_files:  # invoice lines are overwritten in place
                assert len(with_bad) == len(good), rel
                changed = {i + 1 for i, (a, b) in enumerate(zip(good, with_bad, strict=True)) if a != b}
                assert changed == rows, rel
            else:  # small extracts get rows inserted
                assert [line for i, line in enumerate(with_bad, start=1) if i not in rows] == good, rel
    assert bad.rows["invoice_lines"] == SIZE["invoice_lines"]


def test_parquet_bad_rows_hold_value_defects_only(tmp_path: Path) -> None:
    report = generate(tmp_path, **SIZE, fmt="parquet", bad_rows=True)
    rules = {entry["rule"] for entry in read_manifest(tmp_path)}
    assert rules == ALL_RULES
    assert report.defects.keys() == rules
    assert_manifest_matches_files(tmp_path)


@pytest.mark.parametrize("as_of", [date(2026, 12, 31), date(2027, 2, 27)], ids=["month-end", "mid-february"])
def test_lines_dated_after_as_of_keep_an_fx_rate(tmp_path: Path, as_of: date) -> None:
    """After a month-end as-of date the next month has no FX rate yet: those lines switch to EUR."""
    generate(tmp_path, seed=4, accounts=100, invoice_lines=8000, as_of=as_of, bad_rows=True)
    future = [e for e in read_manifest(tmp_path) if e["rule"] == "invoice_lines.invoice_date.not_future"]
    assert len(future) >= 3 and all(date.fromisoformat(e["value"]) > as_of for e in future)
    assert_manifest_matches_files(tmp_path, as_of)


def test_defect_rate_makes_that_share_of_lines_bad_per_kind(tmp_path: Path) -> None:
    rate, lines = 0.01, 40_000
    report = generate(tmp_path, seed=11, accounts=100, invoice_lines=lines, defect_rate=rate)
    per_rule = Counter(e["rule"] for e in read_manifest(tmp_path) if e["extract"] == "invoice_lines")
    expected = rate * lines
    for rule in ("invoice_lines.key.unique", "invoice_lines.erp_customer_id.exists", "invoice_lines.line_no.positive"):
        assert 0.7 * expected < per_rule[rule] < 1.3 * expected, rule
    assert 1.4 * expected < per_rule["parse.ragged"] < 2.6 * expected  # two kinds: too many, too few fields
    assert report.rows["invoice_lines"] == lines
    # empty key columns would collide with each other at this rate: only non-key columns are emptied
    assert "invoice_lines.invoice_id.not_null" not in per_rule
    assert_manifest_matches_files(tmp_path)
