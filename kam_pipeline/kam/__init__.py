"""Key Account Management: selection and deselection of key accounts, resource
allocation, account-manager load, programme return and tier migration.

Pure Polars functions over one snapshot of marts.customer_segments and
staging.account_managers (docs/methodology.md, "Key Account Management").
"""

from kam_pipeline.kam.allocation import resource_allocation
from kam_pipeline.kam.candidates import select_key_accounts
from kam_pipeline.kam.kam_team import key_account_capacity
from kam_pipeline.kam.load import account_manager_load, capacity_gap
from kam_pipeline.kam.migration import tier_migration
from kam_pipeline.kam.programme import programme_return

__all__ = [
    "account_manager_load",
    "capacity_gap",
    "key_account_capacity",
    "programme_return",
    "resource_allocation",
    "select_key_accounts",
    "tier_migration",
]
