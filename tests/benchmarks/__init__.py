"""Benchmarks: run as `python -m tests.benchmarks.<name>`; not collected by pytest."""
