"""A small builder for hand-computed segmentation cases.

AS_OF is 2025-06-30: trailing window (2024-06-30, 2025-06-30], prior window
(2023-06-30, 2024-06-30], inactivity period (2025-04-01, 2025-06-30]. Sales
default to IN_WINDOW, inside the trailing window and the inactivity period.
Each account gets an ERP customer `E-<account_id>` unless told otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from kam_pipeline.ingest.contract.extracts import EXTRACTS_BY_NAME
from kam_pipeline.segmentation import build_customer_segments
from kam_pipeline.settings import SegmentationSettings

AS_OF = date(2025, 6, 30)
IN_WINDOW = date(2025, 6, 15)
IN_PRIOR = date(2024, 3, 15)


def _money(value: float | str | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def frame(extract: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = EXTRACTS_BY_NAME[extract].schema
    return pl.DataFrame({name: [row.get(name) for row in rows] for name in schema}, schema=schema)


@dataclass
class Extracts:
    accounts: list[dict[str, Any]] = field(default_factory=list)
    erp_customers: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    fx_rates: list[dict[str, Any]] = field(default_factory=list)
    opportunities: list[dict[str, Any]] = field(default_factory=list)

    def account(
        self,
        account_id: str,
        parent: str | None = None,
        *,
        industry: str = "Manufacturing",
        country: str = "DE",
        region: str = "NORTH",
        owner: str = "AM1",
        employees: int | None = None,
        wallet: float | None = None,
        position: int | None = None,
        key: bool = False,
        since: date | None = None,
        erp: bool = True,
    ) -> Extracts:
        self.accounts.append(
            {
                "account_id": account_id,
                "account_name": f"Name {account_id}",
                "parent_account_id": parent,
                "industry": industry,
                "country_code": country,
                "region": region,
                "owner_id": owner,
                "employee_count": employees,
                "estimated_wallet": _money(wallet),
                "competitive_position": position,
                "is_key_account": key,
                "key_account_since": since,
            }
        )
        if erp:
            self.erp(f"E-{account_id}", account_id)
        return self

    def erp(self, erp_customer_id: str, account_id: str | None) -> Extracts:
        self.erp_customers.append(
            {
                "erp_customer_id": erp_customer_id,
                "crm_account_id": account_id,
                "customer_name": erp_customer_id,
                "country_code": "DE",
            }
        )
        return self

    def sale(
        self,
        account_id: str,
        net: float,
        day: date = IN_WINDOW,
        *,
        cost: float | None = None,
        currency: str = "EUR",
        erp_customer_id: str | None = None,
    ) -> Extracts:
        """One invoice line (a credit note when `net` is negative)."""
        self.lines.append(
            {
                "invoice_id": f"I{len(self.lines) + 1}",
                "line_no": 1,
                "document_type": "CREDIT_NOTE" if net < 0 else "INVOICE",
                "invoice_date": day,
                "erp_customer_id": erp_customer_id or f"E-{account_id}",
                "product_id": "P1",
                "quantity": Decimal(1),
                "net_amount": _money(net),
                "cost_amount": _money(cost),
                "currency": currency,
            }
        )
        return self

    def rate(self, currency: str, month: str, rate: float) -> Extracts:
        self.fx_rates.append({"currency": currency, "month": month, "rate_to_reporting": _money(rate)})
        return self

    def opportunity(
        self,
        account_id: str,
        status: str,
        amount: float,
        close: date,
        *,
        probability: float = 1.0,
        currency: str = "EUR",
    ) -> Extracts:
        self.opportunities.append(
            {
                "opportunity_id": f"O{len(self.opportunities) + 1}",
                "account_id": account_id,
                "status": status,
                "amount": _money(amount),
                "currency": currency,
                "probability": probability,
                "created_date": date(2024, 1, 1),
                "close_date": close,
            }
        )
        return self

    def frames(self) -> dict[str, Any]:
        return {
            "lines": frame("invoice_lines", self.lines).lazy(),
            "erp_customers": frame("erp_customers", self.erp_customers),
            "accounts": frame("crm_accounts", self.accounts),
            "fx_rates": frame("fx_rates", self.fx_rates),
            "opportunities": frame("opportunities", self.opportunities),
        }

    def segments(
        self, settings: SegmentationSettings | None = None, as_of: date = AS_OF, **overrides: Any
    ) -> pl.DataFrame:
        settings = settings or SegmentationSettings(**overrides)
        return build_customer_segments(**self.frames(), settings=settings, as_of=as_of)


def by_customer(segments: pl.DataFrame, column: str) -> dict[str, Any]:
    """{customer_id: value} of one output column."""
    return dict(zip(segments.get_column("customer_id"), segments.get_column(column), strict=True))
