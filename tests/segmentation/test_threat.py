"""§S9: threat reasons and level."""

from datetime import date

from .builder import IN_PRIOR, by_customer


def threats(data, **settings) -> dict[str, tuple[str, str]]:
    out = data.segments(**settings)
    reasons, level = by_customer(out, "threat_reasons"), by_customer(out, "threat_level")
    return {k: (reasons[k], level[k]) for k in reasons}


def test_declining_at_minus_15_percent(data) -> None:
    data.account("AT").sale("AT", 85).sale("AT", 100, IN_PRIOR)
    data.account("ABOVE").sale("ABOVE", 85.01).sale("ABOVE", 100, IN_PRIOR)
    assert threats(data) == {"AT": ("DECLINING", "MEDIUM"), "ABOVE": ("", "NONE")}


def test_high_through_growth_at_minus_30_percent(data) -> None:
    data.account("AT").sale("AT", 70).sale("AT", 100, IN_PRIOR)
    data.account("ABOVE").sale("ABOVE", 70.01).sale("ABOVE", 100, IN_PRIOR)
    assert threats(data) == {"AT": ("DECLINING", "HIGH"), "ABOVE": ("DECLINING", "MEDIUM")}


def test_inactive_without_an_invoice_in_the_last_90_days(data) -> None:
    # inactivity period (2025-04-01, 2025-06-30]
    data.account("AT_START").sale("AT_START", 100, date(2025, 4, 1))
    data.account("AFTER_START").sale("AFTER_START", 100, date(2025, 4, 2))
    data.account("CREDIT_ONLY").sale("CREDIT_ONLY", 100, date(2025, 3, 1)).sale("CREDIT_ONLY", -10, date(2025, 6, 1))
    data.account("NO_REVENUE")
    assert threats(data) == {
        "AFTER_START": ("", "NONE"),
        "AT_START": ("INACTIVE", "MEDIUM"),
        "CREDIT_ONLY": ("INACTIVE", "MEDIUM"),
        "NO_REVENUE": ("", "NONE"),
    }


def test_lost_deals_worth_a_quarter_of_revenue_and_the_minimum_amount(data) -> None:
    data.account("AT").sale("AT", 100_000).opportunity("AT", "LOST", 25_000, date(2025, 1, 1))
    data.account("BELOW").sale("BELOW", 100_000).opportunity("BELOW", "LOST", 24_999.99, date(2025, 1, 1))
    data.account("SMALL").sale("SMALL", 1_000).opportunity("SMALL", "LOST", 900, date(2025, 1, 1))  # 90 %, < 25 000
    data.account("OLD").sale("OLD", 100_000).opportunity("OLD", "LOST", 90_000, date(2024, 6, 30))  # at D − W
    data.account("OPEN").sale("OPEN", 100_000).opportunity("OPEN", "OPEN", 90_000, date(2025, 8, 1))
    data.account("NO_REVENUE").opportunity("NO_REVENUE", "LOST", 90_000, date(2025, 1, 1))
    data.account("SUM").sale("SUM", 100_000)
    data.opportunity("SUM", "LOST", 10_000, date(2025, 6, 30)).opportunity("SUM", "LOST", 15_000, date(2024, 7, 1))
    assert threats(data) == {
        "AT": ("LOST_DEALS", "MEDIUM"),
        "BELOW": ("", "NONE"),
        "NO_REVENUE": ("", "NONE"),
        "OLD": ("", "NONE"),
        "OPEN": ("", "NONE"),
        "SMALL": ("", "NONE"),
        "SUM": ("LOST_DEALS", "MEDIUM"),
    }
    assert threats(data, threat_lost_deals_min_amount=500.0)["SMALL"] == ("LOST_DEALS", "MEDIUM")


def test_weak_position_of_the_top_account(data) -> None:
    data.account("WEAK", position=2).account("WEAK_CHILD", "WEAK", position=5)
    data.account("OK", position=3).account("OK_CHILD", "OK", position=1)
    data.account("UNKNOWN")
    assert threats(data) == {"WEAK": ("WEAK_POSITION", "MEDIUM"), "OK": ("", "NONE"), "UNKNOWN": ("", "NONE")}


def test_two_reasons_make_high_and_are_listed_in_fixed_order(data) -> None:
    data.account("X", position=1).sale("X", 100_000, date(2025, 3, 1))
    data.opportunity("X", "LOST", 50_000, date(2025, 2, 1)).sale("X", 200_000, IN_PRIOR)
    assert threats(data) == {"X": ("DECLINING,INACTIVE,LOST_DEALS,WEAK_POSITION", "HIGH")}


def test_threat_thresholds_come_from_the_settings(data) -> None:
    data.account("X", position=3).sale("X", 100)
    assert threats(data, threat_weak_position_max=3) == {"X": ("WEAK_POSITION", "MEDIUM")}
