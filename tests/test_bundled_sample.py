"""The bundled sample (`make run`'s data) reads like a company: the KAM decisions,
the hours plan and the threat list a sales leader would sign (issue 13's acceptance).

Runs the real job once on the default-size sample, so it is the slowest test of
its kind; every assertion is a property of the published warehouse.
"""

from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.definitions import defs
from assets.nightly import JOB_NAME, settings_run_config
from tools.sample_data import DEFAULT_AS_OF, generate


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    root = tmp_path_factory.mktemp("bundled")
    landing = generate(root / "landing").out  # the defaults `make run` uses
    path = root / "bi" / "kam.duckdb"
    config = settings_run_config(landing_dir=str(landing), warehouse_path=str(path))
    config["resources"]["settings"]["config"]["overrides"] = {"paths.data_docs_dir": str(root / "docs")}
    result = (
        defs()
        .resolve_job_def(JOB_NAME)
        .execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), run_config=config, partition_key=DEFAULT_AS_OF.isoformat()
        )
    )
    assert result.success
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


def one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    return con.execute(sql).fetchone()


def test_key_accounts_still_among_the_top_customers_and_eligible_are_kept(warehouse) -> None:
    strays = one(
        warehouse,
        """
        WITH ranked AS (
            SELECT customer_id, rank() OVER (ORDER BY revenue_t12m DESC) AS revenue_rank FROM marts.customer_segments
        )
        SELECT count(*) FILTER (WHERE c.proposed_decision <> 'KEEP'), count(*)
        FROM marts.kam_candidates AS c JOIN ranked USING (customer_id)
        WHERE c.is_current_key_account AND c.eligible AND ranked.revenue_rank <= 25
        """,
    )
    assert strays[1] >= 10 and strays[0] == 0


def test_review_changes_stay_within_capacity_and_the_turnover_cap(warehouse) -> None:
    seats, cap, proposed_add = one(
        warehouse, "SELECT max_key_accounts, turnover_seats, proposed_add FROM marts.kam_programme"
    )
    kept_or_added = one(
        warehouse, "SELECT count(*) FROM marts.kam_candidates WHERE proposed_decision IN ('KEEP', 'ADD')"
    )[0]
    replaced = one(warehouse, "SELECT count(*) FROM marts.kam_candidates WHERE decision_reason LIKE '%replaced by%'")[0]
    assert kept_or_added <= seats and replaced <= cap and proposed_add > 0
    assert (
        one(warehouse, "SELECT count(*) FROM marts.kam_candidates WHERE decision_reason NOT SIMILAR TO '.*[0-9].*'")[0]
        == 0
    )


def test_account_managers_are_loaded_like_a_real_team(warehouse) -> None:
    mean, over, under, overdrawn = one(
        warehouse,
        """
        SELECT avg(utilisation), count(*) FILTER (WHERE load_status = 'OVER'),
               count(*) FILTER (WHERE load_status = 'UNDER'), count(*) FILTER (WHERE allocated_hours > capacity_hours)
        FROM marts.account_manager_load WHERE role = 'AM'
        """,
    )
    assert 0.8 <= mean <= 1.1
    assert over >= 1 and under >= 1 and overdrawn == 0
    assert one(warehouse, "SELECT count(*) FROM marts.capacity_gap WHERE gap_fte IS NULL")[0] == 0


def test_at_risk_is_an_exception_list_and_dormant_is_split(warehouse) -> None:
    share = one(
        warehouse,
        "SELECT avg(at_risk::INT) FROM marts.customer_segments WHERE segment_class IN ('A', 'B')",
    )[0]
    assert share < 0.15
    tiers = dict(warehouse.execute("SELECT tier, count(*) FROM marts.customer_segments GROUP BY 1").fetchall())
    assert tiers.get("LAPSED", 0) > 0 and tiers.get("PROSPECT", 0) > 0 and "DORMANT" not in tiers


def test_the_programme_return_uses_a_prior_period_control_group(warehouse) -> None:
    key, control, roi, as_of = one(
        warehouse, "SELECT key_accounts, control_customers, roi, as_of_date FROM marts.kam_programme"
    )
    assert key > 0 and control > 0 and roi is not None
    assert as_of == DEFAULT_AS_OF and isinstance(as_of, date)


def test_the_sample_is_the_one_make_run_uses() -> None:
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text(encoding="utf-8")
    assert f"SAMPLE_AS_OF := {DEFAULT_AS_OF.isoformat()}" in makefile


def test_the_sample_overrides_show_each_status(warehouse) -> None:
    statuses = dict(warehouse.execute("SELECT status, count(*) FROM marts.kam_overrides GROUP BY ALL").fetchall())
    # a conflict takes two overrides on one customer; every other status occurs once
    assert statuses == {"APPLIED": 1, "EXPIRED": 1, "NOT_YET_VALID": 1, "NO_EFFECT": 1, "CONFLICT": 2}
    assert one(warehouse, "SELECT count(DISTINCT customer_id) FROM marts.kam_overrides WHERE status = 'CONFLICT'") == (
        1,
    )
    expired = one(
        warehouse,
        "SELECT c.decision_source, c.override_id FROM marts.kam_overrides AS o "
        "JOIN marts.kam_candidates AS c USING (customer_id) WHERE o.status = 'EXPIRED'",
    )
    assert expired == ("RULE", None)


def test_the_include_displaces_exactly_the_lowest_ranked_pick(warehouse) -> None:
    override_id, included = one(
        warehouse, "SELECT override_id, customer_id FROM marts.kam_overrides WHERE status = 'APPLIED'"
    )
    assert one(warehouse, f"SELECT proposed_decision FROM marts.kam_candidates WHERE customer_id = '{included}'") == (
        "ADD",
    )
    lowest_pick = one(
        warehouse,
        "SELECT customer_id FROM marts.kam_candidates WHERE rule_proposed_decision IN ('KEEP', 'ADD') "
        "ORDER BY selection_rank DESC NULLS FIRST LIMIT 1",
    )
    gave_way = warehouse.execute(
        "SELECT customer_id, proposed_decision, decision_reason FROM marts.kam_candidates "
        "WHERE decision_source = 'OVERRIDE' AND override_id IS NULL"
    ).fetchall()
    assert [row[0] for row in gave_way] == [lowest_pick[0]]
    assert gave_way[0][1] in ("DESELECT", "WATCH")
    assert f"gives way to the seat(s) taken by INCLUDE override(s) {override_id} ({included})" in gave_way[0][2]
    seats, seated = one(
        warehouse,
        "SELECT max_key_accounts, (SELECT count(*) FROM marts.kam_candidates "
        "WHERE proposed_decision IN ('KEEP', 'ADD')) FROM marts.kam_programme",
    )
    assert seated == seats


def test_both_shipped_scenarios_are_compared_with_the_base_plan(warehouse) -> None:
    rows = warehouse.execute(
        "SELECT scenario, key_accounts, added, removed, unchanged FROM marts.scenario_comparison ORDER BY scenario"
    ).fetchall()
    assert [row[0] for row in rows] == ["a_cut_70", "base", "one_more_kam"]
    for scenario, key_accounts, added, removed, unchanged in rows:
        if scenario == "base":
            base = one(
                warehouse, "SELECT count(*) FROM marts.kam_candidates WHERE proposed_decision IN ('KEEP', 'ADD')"
            )
            assert (key_accounts, added, removed, unchanged) == (base[0], 0, 0, base[0])
            continue
        # the same counts, recomputed from the two plans' proposals
        expected = one(
            warehouse,
            f"""
            WITH s AS (SELECT customer_id FROM marts.scenario_candidates
                       WHERE scenario = '{scenario}' AND proposed_decision IN ('KEEP', 'ADD')),
                 b AS (SELECT customer_id FROM marts.kam_candidates WHERE proposed_decision IN ('KEEP', 'ADD'))
            SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM s ANTI JOIN b USING (customer_id)),
                   (SELECT count(*) FROM b ANTI JOIN s USING (customer_id)),
                   (SELECT count(*) FROM s SEMI JOIN b USING (customer_id))
            """,
        )
        assert (key_accounts, added, removed, unchanged) == expected
    more = dict(warehouse.execute("SELECT scenario, max_key_accounts FROM marts.scenario_comparison").fetchall())
    assert more["one_more_kam"] > more["base"]  # 1 400 planned hours are four more seats of 300 h
