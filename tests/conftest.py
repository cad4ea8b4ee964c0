"""Shared fixtures: small landing directories and settings pointing at temp folders."""

import ast
import re
from pathlib import Path

import pytest

from assets.resources import SettingsResource

AS_OF = "2026-11-28"

TINY = {
    "crm/account_managers.csv": """owner_id,name,role,region,capacity_hours,hourly_cost
AM1,Ann Example,AM,DACH,1200,90
K1,Kay Example,KAM,DACH,1500,110.5
""",
    "crm/accounts.csv": """account_id,account_name,parent_account_id,industry,country_code,region,owner_id,employee_count,estimated_wallet,competitive_position,is_key_account,key_account_since
A,Alpha Group,,Retail,DE,DACH,AM1,100,50000,3,true,2024-01-01
B,"Beta, Sub",A,Retail,DE,DACH,AM1,10,,,false,
C,Gamma Grandchild,B,Retail,AT,DACH,K1,,,5,FALSE,
""",
    "crm/opportunities.csv": """opportunity_id,account_id,status,amount,currency,probability,created_date,close_date
O1,A,OPEN,1000,EUR,0.5,2026-01-01,2026-12-31
O2,C,LOST,250.75,USD,0,2026-02-01,2026-03-01
""",
    "erp/customers.csv": """erp_customer_id,crm_account_id,customer_name,country_code
C1,A,Alpha GmbH,DE
C2,,Loose Ltd,GB
C3,C,Gamma AG,AT
""",
    "erp/fx_rates.csv": """currency,month,rate_to_reporting
USD,2026-02,0.92
USD,2026-10,0.9
""",
    "erp/invoice_lines/2026-10.csv": """invoice_id,line_no,document_type,invoice_date,erp_customer_id,product_id,quantity,net_amount,cost_amount,currency
I1,1,INVOICE,2026-10-01,C1,P1,1,100.5,50,EUR
I1,2,INVOICE,2026-10-01,C1,P2,2.5,100,,USD
I2,1,CREDIT_NOTE,2026-10-03,C3,P1,-1,-20,-10,EUR
""",
    "erp/invoice_lines/2026-11.csv": """invoice_id,line_no,document_type,invoice_date,erp_customer_id,product_id,quantity,net_amount,cost_amount,currency
I3,1,INVOICE,2026-11-02,C2,P1,1,10,5,EUR
""",
}


def write_landing(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def tiny_landing(tmp_path: Path) -> Path:
    return write_landing(tmp_path / "landing", TINY)


def resources_for(tmp_path: Path, landing: Path, as_of: str = AS_OF, **overrides: object) -> dict[str, object]:
    """Dagster resources writing into temp folders only."""
    settings = SettingsResource(
        landing_dir=str(landing),
        warehouse_path=str(tmp_path / "published" / "kam.duckdb"),
        as_of=as_of,
        overrides={
            "paths.work_dir": str(tmp_path / "work"),
            "paths.data_docs_dir": str(tmp_path / "data_docs"),
            **overrides,
        },
    )
    return {"settings": settings}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """How many damaged extracts the robustness suite tried (tests/test_robustness_fuzz.py)."""
    tried: dict[str, int] = getattr(config, "kam_fuzz_tried", {})
    if tried:
        terminalreporter.write_sep("-", "robustness suite")
        for kind, count in tried.items():
            terminalreporter.write_line(f"{count} generated cases tried: {kind}")


def readme_bi_queries() -> list[str]:
    """The SQL of every `con.sql(...)` in the README's BI guide ("For BI users")."""
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    guide = readme.split("## For BI users", 1)[1].split("\n## ", 1)[0]
    queries = []
    for block in re.findall(r"```python\n(.*?)```", guide, re.DOTALL):
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "sql":
                queries.append(ast.literal_eval(node.args[0]))
    return queries
