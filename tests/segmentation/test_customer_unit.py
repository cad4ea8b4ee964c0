"""§S2: the customer unit and its attributes."""

from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from kam_pipeline.segmentation.customer_unit import account_customers, customers_of
from kam_pipeline.settings import SegmentationSettings

from .builder import by_customer


def three_levels(data) -> None:
    data.account("TOP", region="NORTH", country="DE", owner="AM1", industry="Chemicals", position=4)
    data.account("MID", "TOP", region="SOUTH", country="IT", owner="AM2", industry="Retail", position=1)
    data.account("LEAF", "MID", region="WEST", country="FR", owner="AM3", industry="Retail", position=1)
    data.sale("LEAF", 100).sale("MID", 50)


def test_grandchild_revenue_lands_on_the_top_account(data) -> None:
    three_levels(data)
    out = data.segments()
    assert out.select("customer_id", "customer_name", "region", "country_code", "owner_id", "industry").rows() == [
        ("TOP", "Name TOP", "NORTH", "DE", "AM1", "Chemicals")
    ]
    assert by_customer(out, "revenue_t12m") == {"TOP": Decimal("150.00")}
    assert by_customer(out, "competitive_position") == {"TOP": 4}
    assert by_customer(out, "threat_reasons") == {"TOP": ""}  # the children's weak position does not count


def test_account_unit_keeps_accounts_apart(data) -> None:
    three_levels(data)
    out = data.segments(customer_unit="account")
    assert by_customer(out, "revenue_t12m") == {
        "LEAF": Decimal("100.00"),
        "MID": Decimal("50.00"),
        "TOP": Decimal("0.00"),
    }
    assert by_customer(out, "region") == {"LEAF": "WEST", "MID": "SOUTH", "TOP": "NORTH"}
    assert by_customer(out, "abc_class") == {"LEAF": "A", "MID": "A", "TOP": "N"}
    assert by_customer(out, "portfolio_rank") == {"LEAF": 1, "MID": 1, "TOP": None}


def test_key_account_fields_of_the_group(data) -> None:
    data.account("TOP").account("K1", "TOP", key=True, since=date(2022, 1, 1))
    data.account("K2", "K1", key=True, since=date(2021, 5, 1))
    data.account("EX", "TOP", key=False, since=date(2019, 1, 1))  # left the programme: ignored
    data.account("PLAIN")
    out = data.segments()
    assert by_customer(out, "is_current_key_account") == {"PLAIN": False, "TOP": True}
    assert by_customer(out, "key_account_since") == {"PLAIN": None, "TOP": date(2021, 5, 1)}


def test_erp_customers_map_through_crm_account_id(data) -> None:
    data.account("X").erp("E-X2", "X").erp("E-FREE", None)
    data.sale("X", 10).sale("X", 20, erp_customer_id="E-X2").sale("X", 999, erp_customer_id="E-FREE")
    out = data.segments()
    assert by_customer(out, "revenue_t12m") == {"X": Decimal("30.00")}


def test_every_crm_customer_unit_gets_a_row(data) -> None:
    data.account("PROSPECT", erp=False).account("CUSTOMER").sale("CUSTOMER", 10)
    out = data.segments()
    assert by_customer(out, "tier") == {"CUSTOMER": "CORE", "PROSPECT": "PROSPECT"}
    assert out.filter(customer_id="PROSPECT").select("revenue_t12m", "trend", "abc_class").row(0) == (
        Decimal("0.00"),
        "NONE",
        "N",
    )


def test_broken_hierarchy_is_an_error(data) -> None:
    data.account("ORPHAN", "MISSING")
    with pytest.raises(ValueError, match="broken hierarchy"):
        data.segments()


def test_customers_of_named_accounts_match_the_whole_hierarchy() -> None:
    accounts = pl.DataFrame(
        [("TOP", None), ("MID", "TOP"), ("LEAF", "MID"), ("OTHER", None), ("KID", "OTHER"), ("LONE", None)],
        schema={"account_id": pl.String, "parent_account_id": pl.String},
        orient="row",
    )
    named = pl.Series(["LEAF", "KID", "LEAF", "UNKNOWN"])
    settings = SegmentationSettings()
    whole = dict(account_customers(accounts, settings).rows())
    found = dict(customers_of(accounts, named, settings).rows())
    assert found == {name: whole[name] for name in ("LEAF", "MID", "TOP", "KID", "OTHER")}  # the chains only
    assert found["LEAF"] == "TOP"
