"""The short summary `kam-pipeline run` prints after a successful run."""

from kam_pipeline import warehouse
from kam_pipeline.settings import load_settings


def run_summary(as_of: str | None) -> str:
    """Where the warehouse is and what the run produced, from the warehouse itself."""
    settings = load_settings(as_of=as_of)
    lines = [f"as-of date: {settings.as_of}", f"warehouse:  {settings.warehouse_path}"]
    with warehouse.connect(settings.work_db, read_only=True) as con:
        rows = con.sql(
            "SELECT extract, rows_read, rows_accepted, rows_rejected FROM quality.reconciliation "
            "WHERE run_id = (SELECT run_id FROM quality.reconciliation ORDER BY rowid DESC LIMIT 1) ORDER BY extract"
        ).fetchall()
    lines.append("extract            read   accepted   rejected")
    lines += [f"{name:<16}{read:>7}{ok:>11}{bad:>11}" for name, read, ok, bad in rows]
    return "\n".join(lines)
