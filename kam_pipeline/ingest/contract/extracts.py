"""The extract contract: the six entities, their columns, types and rules.

This module is the single declaration that ingestion (parsing and casting),
validation (quarantine and the Great Expectations suites), the staging DDL
and docs/extracts.md are checked against. Change a rule here and every one of
them follows.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kam_pipeline import table_spec
from kam_pipeline.ingest.contract.codes import COUNTRY_CODES, CURRENCY_CODES
from kam_pipeline.ingest.contract.rules import (
    AcyclicHierarchy,
    Between,
    Matches,
    NotAfterAsOf,
    NotBefore,
    NotNull,
    OneOf,
    References,
    RequiredWhen,
    Rule,
    RuleContext,
    UniqueKey,
)

MONEY = pl.Decimal(18, 4)
RATE = pl.Decimal(18, 8)


#: Where a row came from. Parsed and staged rows carry their landing file and
#: data row number (1 = first row after the header) as technical columns,
#: with a leading underscore beside the extract's own columns; a quarantine
#: row names the same two facts `source_file` and `source_row`.
SOURCE_FILE = "_source_file"
SOURCE_ROW = "_source_row"
REJECTED_FILE = "source_file"
REJECTED_ROW = "source_row"
SOURCE_POSITION = (
    table_spec.Column(SOURCE_FILE, pl.String, "Landing file the row was read from, relative to the landing directory."),
    table_spec.Column(SOURCE_ROW, pl.Int64, "Data row number in that file (header not counted; line = row + 1)."),
)


@dataclass(frozen=True)
class Column(table_spec.Column):
    """One column of an extract: its contract type, meaning and whether it is required."""

    required: bool = True  # not-null
    free_text: bool = False  # kept as written; other text (codes, ids) is trimmed of surrounding spaces


@dataclass(frozen=True)
class Extract(table_spec.HasColumns):
    """One entity of the landing directory.

    `pattern` is the glob (relative to the landing directory) that finds its
    files; `many_files` allows several (invoice lines may arrive per month).
    `key` identifies a row for people fixing the source system.
    """

    name: str
    system: str
    pattern: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    rules: tuple[Rule, ...]
    many_files: bool = False
    may_be_empty: bool = False  # an empty file is valid (no opportunities, no foreign currency)
    optional: bool = False  # the extract may be missing altogether (no file means no rows)
    freshness_column: str | None = None  # its newest date shows whether the export is stale

    @property
    def table(self) -> str:
        """Staging table name in the warehouse."""
        return f"staging.{self.name}"

    @property
    def staging_table(self) -> table_spec.Table:
        """The published staging table: the accepted rows with their source position."""
        return table_spec.Table(
            self.table, f"{self.description} Accepted rows only.", (*SOURCE_POSITION, *self.columns)
        )

    def all_rules(self) -> tuple[Rule, ...]:
        """Declared rules plus one not-null rule per required column."""
        not_null = tuple(
            NotNull(name=f"{self.name}.{c.name}.not_null", column=c.name) for c in self.columns if c.required
        )
        return not_null + self.rules


def month_key(column: str) -> pl.Expr:
    """Calendar month of a date as the integer YYYYMM: the month whose FX rate
    converts a line (methodology §S3)."""
    return (pl.col(column).dt.year() * 100 + pl.col(column).dt.month()).cast(pl.Int32)


def fx_month_key() -> pl.Expr:
    """`fx_rates.month` ('YYYY-MM') as the integer YYYYMM."""
    return pl.col("month").str.replace("-", "", literal=True).cast(pl.Int32)


def fx_rate_key(currency: pl.Expr, month: pl.Expr) -> pl.Expr:
    """A currency and a YYYYMM month, as the FX-rate reference compares them.
    A struct of a string and an integer hashes in 60 % of the time of the
    text `CUR|YYYY-MM` it replaces (measured on 10 M lines)."""
    return pl.struct(currency.alias("currency"), month.alias("month"))


def _fx_key(ctx: RuleContext) -> pl.Expr:
    """A line's currency and invoice month; null (exempt) for the reporting
    currency, and where the currency or the date is missing (other rules
    quarantine those)."""
    foreign = (pl.col("currency") != ctx.reporting_currency) & pl.col("invoice_date").is_not_null()
    return pl.when(foreign).then(fx_rate_key(pl.col("currency"), month_key("invoice_date")))


def _fx_currency_key(ctx: RuleContext) -> pl.Expr:
    """The currency, null (exempt) when it is the reporting currency."""
    return pl.when(pl.col("currency") != ctx.reporting_currency).then(pl.col("currency")).otherwise(None)


FX_RATES = Extract(
    name="fx_rates",
    system="erp",
    pattern="erp/fx_rates.*",
    description="Monthly rate of each currency to the reporting currency.",
    columns=(
        Column("currency", pl.String, "ISO 4217 code of the foreign currency."),
        Column("month", pl.String, "Calendar month `YYYY-MM` the rate applies to."),
        Column("rate_to_reporting", RATE, "Value of one unit of `currency` in the reporting currency."),
    ),
    key=("currency", "month"),
    may_be_empty=True,
    rules=(
        UniqueKey(name="fx_rates.key.unique", column="currency", columns=("currency", "month")),
        OneOf(name="fx_rates.currency.iso4217", column="currency", values=CURRENCY_CODES),
        Matches(name="fx_rates.month.format", column="month", pattern=r"^\d{4}-(?:0[1-9]|1[0-2])$"),
        Between(name="fx_rates.rate_to_reporting.positive", column="rate_to_reporting", min_value=0, strict_min=True),
    ),
)

ACCOUNT_MANAGERS = Extract(
    name="account_managers",
    system="crm",
    pattern="crm/account_managers.*",
    description="Account managers and key account managers with their yearly capacity.",
    columns=(
        Column("owner_id", pl.String, "Account manager id, referenced by `crm_accounts.owner_id`."),
        Column("name", pl.String, "Display name as in the CRM.", free_text=True),
        Column("role", pl.String, "`AM` (account manager) or `KAM` (key account manager)."),
        Column("region", pl.String, "Sales region the manager works in."),
        Column("capacity_hours", pl.Float64, "Hours per year available for customer work (> 0)."),
        Column("hourly_cost", MONEY, "Fully loaded cost of one hour, in the reporting currency."),
    ),
    key=("owner_id",),
    rules=(
        UniqueKey(name="account_managers.owner_id.unique", column="owner_id", columns=("owner_id",)),
        OneOf(name="account_managers.role.allowed", column="role", values=("AM", "KAM")),
        Between(name="account_managers.capacity_hours.positive", column="capacity_hours", min_value=0, strict_min=True),
        Between(name="account_managers.hourly_cost.not_negative", column="hourly_cost", min_value=0),
    ),
)

CRM_ACCOUNTS = Extract(
    name="crm_accounts",
    system="crm",
    pattern="crm/accounts.*",
    description="CRM accounts with their group hierarchy, owner and key-account flag.",
    columns=(
        Column("account_id", pl.String, "CRM account id."),
        Column("account_name", pl.String, "Account name as in the CRM.", free_text=True),
        Column(
            "parent_account_id", pl.String, "Parent account in the group hierarchy; empty for a top account.", False
        ),
        Column("industry", pl.String, "Industry of the account."),
        Column("country_code", pl.String, "ISO 3166 alpha-2 country code."),
        Column("region", pl.String, "Sales region."),
        Column("owner_id", pl.String, "Account manager who owns the account."),
        Column("employee_count", pl.Int64, "Number of employees, when known.", False),
        Column(
            "estimated_wallet", MONEY, "Sales' estimate of yearly spend on what we sell (reporting currency).", False
        ),
        Column("competitive_position", pl.Int64, "1-5, 5 = we are clearly the leading supplier.", False),
        Column("is_key_account", pl.Boolean, "Currently in the key account programme."),
        Column("key_account_since", pl.Date, "Date the account entered the programme.", False),
    ),
    key=("account_id",),
    rules=(
        UniqueKey(name="crm_accounts.account_id.unique", column="account_id", columns=("account_id",)),
        OneOf(name="crm_accounts.country_code.iso3166", column="country_code", values=COUNTRY_CODES),
        Between(name="crm_accounts.employee_count.not_negative", column="employee_count", min_value=0),
        Between(name="crm_accounts.estimated_wallet.not_negative", column="estimated_wallet", min_value=0),
        Between(
            name="crm_accounts.competitive_position.range", column="competitive_position", min_value=1, max_value=5
        ),
        NotAfterAsOf(name="crm_accounts.key_account_since.not_future", column="key_account_since"),
        References(name="crm_accounts.owner_id.exists", column="owner_id", target="account_managers"),
        References(name="crm_accounts.parent_account_id.exists", column="parent_account_id", target="crm_accounts"),
        AcyclicHierarchy(name="crm_accounts.hierarchy.acyclic", column="parent_account_id"),
    ),
)

#: Actions of a KAM override (methodology §K5.8).
OVERRIDE_ACTIONS = ("INCLUDE", "EXCLUDE", "TIER")
#: The tiers of the segmentation, from most to least attention (§S10): what a
#: TIER override may force, declared here because the contract checks it.
TIERS = ("STRATEGIC", "CORE", "DEVELOP", "MAINTAIN", "SERVE_EFFICIENTLY", "LAPSED", "PROSPECT")

KAM_OVERRIDES = Extract(
    name="kam_overrides",
    system="crm",
    pattern="crm/kam_overrides.*",
    description=(
        "Decisions of the KAM committee that overrule the ranking: include or exclude a customer, or force its "
        "tier, with the reason, the approver and the validity. Optional: no file means no overrides."
    ),
    columns=(
        Column("override_id", pl.String, "Id of the override in the CRM."),
        Column("account_id", pl.String, "CRM account it is about; it applies to the account's group."),
        Column("action", pl.String, "`INCLUDE` (key account), `EXCLUDE` (never key account) or `TIER` (force a tier)."),
        Column("tier", pl.String, "The tier a TIER override forces; empty otherwise.", False),
        Column("reason", pl.String, "Why the committee overrules the ranking (required, not blank).", free_text=True),
        Column("approved_by", pl.String, "Who approved the override.", free_text=True),
        Column("valid_from", pl.Date, "First day the override applies."),
        Column(
            "valid_until", pl.Date, "Last day it applies; required for INCLUDE and TIER, open-ended EXCLUDE.", False
        ),
    ),
    key=("override_id",),
    optional=True,
    may_be_empty=True,
    rules=(
        UniqueKey(name="kam_overrides.override_id.unique", column="override_id", columns=("override_id",)),
        OneOf(name="kam_overrides.action.allowed", column="action", values=OVERRIDE_ACTIONS),
        OneOf(name="kam_overrides.tier.allowed", column="tier", values=TIERS),
        Matches(
            name="kam_overrides.reason.not_blank",
            column="reason",
            pattern=r"\S",
            expects="reason must not be blank",
            group="completeness",
        ),
        RequiredWhen(name="kam_overrides.tier.required", column="tier", when_column="action", when_values=("TIER",)),
        RequiredWhen(
            name="kam_overrides.valid_until.required",
            column="valid_until",
            when_column="action",
            when_values=("INCLUDE", "TIER"),
        ),
        NotBefore(name="kam_overrides.valid_until.not_before_valid_from", column="valid_until", other="valid_from"),
        References(name="kam_overrides.account_id.exists", column="account_id", target="crm_accounts"),
    ),
)

ERP_CUSTOMERS = Extract(
    name="erp_customers",
    system="erp",
    pattern="erp/customers.*",
    description="ERP customers (sold-to parties) and their mapping to CRM accounts.",
    columns=(
        Column("erp_customer_id", pl.String, "ERP customer number."),
        Column("crm_account_id", pl.String, "CRM account the customer maps to; empty = not mapped.", False),
        Column("customer_name", pl.String, "Name in the ERP.", free_text=True),
        Column("country_code", pl.String, "ISO 3166 alpha-2 country code."),
    ),
    key=("erp_customer_id",),
    rules=(
        UniqueKey(name="erp_customers.erp_customer_id.unique", column="erp_customer_id", columns=("erp_customer_id",)),
        OneOf(name="erp_customers.country_code.iso3166", column="country_code", values=COUNTRY_CODES),
        References(name="erp_customers.crm_account_id.exists", column="crm_account_id", target="crm_accounts"),
    ),
)

INVOICE_LINES = Extract(
    name="invoice_lines",
    system="erp",
    pattern="erp/invoice_lines/*",
    many_files=True,
    freshness_column="invoice_date",
    description="Invoice and credit-note lines from the ERP.",
    columns=(
        Column("invoice_id", pl.String, "Invoice or credit-note number."),
        Column("line_no", pl.Int64, "Line number within the document (>= 1)."),
        Column("document_type", pl.String, "`INVOICE` or `CREDIT_NOTE`."),
        Column("invoice_date", pl.Date, "Document date."),
        Column("erp_customer_id", pl.String, "ERP customer invoiced."),
        Column("product_id", pl.String, "Product sold."),
        Column("quantity", MONEY, "Quantity sold."),
        Column("net_amount", MONEY, "Net amount in `currency`: >= 0 on invoices, <= 0 on credit notes."),
        Column("cost_amount", MONEY, "Cost of goods in `currency`; empty = margin unknown.", False),
        Column("currency", pl.String, "ISO 4217 code of the document currency."),
    ),
    key=("invoice_id", "line_no"),
    rules=(
        UniqueKey(name="invoice_lines.key.unique", column="invoice_id", columns=("invoice_id", "line_no")),
        Between(name="invoice_lines.line_no.positive", column="line_no", min_value=1),
        OneOf(name="invoice_lines.document_type.allowed", column="document_type", values=("INVOICE", "CREDIT_NOTE")),
        OneOf(name="invoice_lines.currency.iso4217", column="currency", values=CURRENCY_CODES),
        Between(
            name="invoice_lines.net_amount.sign_invoice",
            column="net_amount",
            min_value=0,
            when_column="document_type",
            when_value="INVOICE",
        ),
        Between(
            name="invoice_lines.net_amount.sign_credit_note",
            column="net_amount",
            max_value=0,
            when_column="document_type",
            when_value="CREDIT_NOTE",
        ),
        NotAfterAsOf(name="invoice_lines.invoice_date.not_future", column="invoice_date"),
        References(name="invoice_lines.erp_customer_id.exists", column="erp_customer_id", target="erp_customers"),
        References(
            name="invoice_lines.currency.fx_rate_exists",
            column="currency",
            target="fx_rates",
            key=_fx_key,
            expects="a foreign currency must have an FX rate for the invoice month",
        ),
    ),
)

OPPORTUNITIES = Extract(
    name="opportunities",
    system="crm",
    pattern="crm/opportunities.*",
    description="Sales opportunities: open pipeline, won and lost deals.",
    columns=(
        Column("opportunity_id", pl.String, "CRM opportunity id."),
        Column("account_id", pl.String, "CRM account of the opportunity."),
        Column("status", pl.String, "`OPEN`, `WON` or `LOST`."),
        Column("amount", MONEY, "Deal value in `currency` (> 0)."),
        Column("currency", pl.String, "ISO 4217 code of the amount."),
        Column("probability", pl.Float64, "Win probability 0-1."),
        Column("created_date", pl.Date, "Date the opportunity was created."),
        Column("close_date", pl.Date, "Expected or actual close date."),
    ),
    key=("opportunity_id",),
    may_be_empty=True,
    rules=(
        UniqueKey(name="opportunities.opportunity_id.unique", column="opportunity_id", columns=("opportunity_id",)),
        OneOf(name="opportunities.status.allowed", column="status", values=("OPEN", "WON", "LOST")),
        OneOf(name="opportunities.currency.iso4217", column="currency", values=CURRENCY_CODES),
        Between(name="opportunities.amount.positive", column="amount", min_value=0, strict_min=True),
        Between(name="opportunities.probability.range", column="probability", min_value=0, max_value=1),
        NotAfterAsOf(name="opportunities.created_date.not_future", column="created_date"),
        References(name="opportunities.account_id.exists", column="account_id", target="crm_accounts"),
        References(
            name="opportunities.currency.fx_rate_exists",
            column="currency",
            target="fx_currencies",
            key=_fx_currency_key,
            expects="a foreign currency must have an FX rate in the as-of month or earlier",
        ),
    ),
)

#: In dependency order: an extract's references point only to earlier ones
#: (or to itself, for the account hierarchy).
EXTRACTS: tuple[Extract, ...] = (
    FX_RATES,
    ACCOUNT_MANAGERS,
    CRM_ACCOUNTS,
    KAM_OVERRIDES,
    ERP_CUSTOMERS,
    INVOICE_LINES,
    OPPORTUNITIES,
)

EXTRACTS_BY_NAME = {e.name: e for e in EXTRACTS}
