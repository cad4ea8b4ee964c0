"""Benchmark of the nightly job against a plain DuckDB floor (`python -m bench.run`).

Not part of the test suite and not installed with the package: it times what
an operator gets (the full `kam_nightly` job in a fresh Python process) on
generated landing data of growing size, and keeps every result under
bench/results/ so that a regression shows against the previous result.
"""
