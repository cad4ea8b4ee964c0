"""A static file server for the reports folder (Data Docs, HTML reports).

The Dagster UI links each run's Data Docs and report; a browser does not
follow file:// links from a web page, so `make dev` serves the folder on the
loopback interface and the runs link to it (paths.reports_url). In a shared
deployment any web server that serves the folder does the same.
"""

from __future__ import annotations

from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _QuietHandler(SimpleHTTPRequestHandler):
    """Files only, without a log line per request on the terminal of `make dev`."""

    def log_message(self, format: str, *args: object) -> None:
        return


def reports_server(root: Path, host: str, port: int) -> ThreadingHTTPServer:
    """A server for the files below `root` (created if missing); port 0 picks a free one."""
    root.mkdir(parents=True, exist_ok=True)
    return ThreadingHTTPServer((host, port), partial(_QuietHandler, directory=str(root)))
