"""The code's layout keeps its promises: one Dagster boundary, lineage from reads,
a repository that refers to nothing outside it."""

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from assets.definitions import defs
from assets.tables import Tables, UndeclaredTableError, upstream, warehouse_asset, writers
from kam_pipeline.ingest.contract import EXTRACTS

from .conftest import resources_for

REPO = Path(__file__).resolve().parent.parent
DOMAIN = REPO / "kam_pipeline"
OUTSIDE = "../" + "shared"  # written in two parts so that this file does not match itself


def test_nothing_outside_the_dagster_layer_imports_dagster() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for path in DOMAIN.rglob("*.py")
        if "import dagster" in (text := path.read_text(encoding="utf-8")) or "from dagster" in text
    ]
    assert offenders == []


def test_the_domain_package_loads_without_dagster() -> None:
    """Importing every domain module must not pull Dagster in (not even indirectly)."""
    modules = sorted(
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for path in DOMAIN.rglob("*.py")
    )
    code = f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\nprint('dagster' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_no_file_refers_to_a_path_outside_the_repository() -> None:
    """Facts the code relies on live in docs/decisions.md, not in a sibling folder."""
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    outside = [
        name
        for name in files
        if not name.startswith("bench/results/")
        and (REPO / name).is_file()
        and OUTSIDE in (REPO / name).read_text(encoding="utf-8", errors="replace")
    ]
    assert outside == []


def test_dependencies_are_the_writers_of_what_an_asset_reads() -> None:
    graph = defs().resolve_asset_graph()
    migration = graph.get(dg.AssetKey(["marts", "tier_migration"]))
    # It reads the segments' history, which the segments asset writes.
    assert {k.to_user_string() for k in migration.parent_keys} == {"marts/customer_segments"}
    assert writers("history.kam_candidates") == [dg.AssetKey(["marts", "kam_candidates"])]
    assert len(writers("quality.rejected_rows")) == len(EXTRACTS)  # one staging asset per extract
    report = graph.get(dg.AssetKey(["reports", "kam_report"]))
    assert "marts/kam_candidates" in {k.to_user_string() for k in report.parent_keys}
    assert upstream(["marts.kam_candidates", "history.kam_candidates"], dg.AssetKey(["marts", "kam_candidates"])) == []


def test_an_undeclared_read_fails_the_step(tmp_path: Path, tiny_landing: Path) -> None:
    @warehouse_asset("marts.sneaky", reads=[], group_name="test", description="Reads what it did not declare.")
    def sneaky(context: dg.AssetExecutionContext, tables: Tables) -> dg.MaterializeResult:
        tables.read("staging.account_managers")
        return dg.MaterializeResult()

    with pytest.raises(UndeclaredTableError, match=r"reads staging\.account_managers without declaring it"):
        dg.materialize([sneaky], resources=resources_for(tmp_path, tiny_landing))


def test_steps_are_named_after_their_asset_keys() -> None:
    job = defs().resolve_job_def("kam_nightly")
    names = {node.name for node in job.graph.node_defs}
    assert "staging__invoice_lines" in names and "marts__account_manager_load" in names
    assert all("__" in name for name in names)
