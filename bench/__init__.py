"""Benchmark of the service against a plain-DRF baseline and a bare-SQL floor (see README.md)."""
