"""Links from the Dagster UI to the reports: served URLs under paths.reports_url,
file:// URLs otherwise, and the server `make dev` starts for them."""

from __future__ import annotations

import threading
import urllib.request
from pathlib import Path

import pytest

from kam_pipeline.report.serving import reports_server
from kam_pipeline.settings import SettingsError, load_settings

AS_OF = "2026-11-28"


def settings_for(tmp_path: Path, url: str = ""):
    return load_settings(
        as_of=AS_OF,
        warehouse_path=str(tmp_path / "bi" / "kam.duckdb"),
        environ={"KAM_REPORTS_URL": url} if url else {},
    )


def test_a_file_in_the_served_folder_links_under_the_reports_url(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, "http://127.0.0.1:3001")
    docs = settings.run_data_docs_dir("0123456789") / "index.html"
    assert settings.link(docs) == f"http://127.0.0.1:3001/data_docs/{AS_OF}_01234567/index.html"
    report = settings.reports_dir / "kam report 2026.html"
    assert settings.link(report) == "http://127.0.0.1:3001/html/kam%20report%202026.html"
    assert settings.link(docs.as_uri()) == settings.link(docs)  # the Data Docs URL a stored validation keeps


def test_without_a_reports_url_or_outside_the_folder_the_link_is_a_file_url(tmp_path: Path) -> None:
    report = settings_for(tmp_path).reports_dir / "kam_report.html"
    assert settings_for(tmp_path).link(report) == report.resolve().as_uri()
    elsewhere = tmp_path / "elsewhere" / "index.html"
    assert settings_for(tmp_path, "https://bi.example.com/kam/").link(elsewhere) == elsewhere.resolve().as_uri()


def test_a_reports_url_that_is_not_http_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^KAM_REPORTS_URL: String should match pattern"):
        settings_for(tmp_path, "file:///srv/reports")


def test_the_reports_server_serves_the_folder_the_links_point_into(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, "http://127.0.0.1:3001/")
    report = settings.reports_dir / "kam_report_2026-11-28.html"
    report.parent.mkdir(parents=True)
    report.write_text("<h1>KAM</h1>", encoding="utf-8")
    settings.warehouse_path.write_bytes(b"not for the web")
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never through a proxy
    with reports_server(settings.reports_root, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}/"
        try:
            with direct.open(base + settings.link(report).removeprefix("http://127.0.0.1:3001/"), timeout=5) as answer:
                assert answer.read().decode() == "<h1>KAM</h1>"
            with pytest.raises(urllib.error.HTTPError, match="404"):  # nothing above the reports folder
                direct.open(base + "../kam.duckdb", timeout=5)
        finally:
            server.shutdown()
