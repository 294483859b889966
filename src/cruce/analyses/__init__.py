"""Analyses over the resolved model: one subpackage per flow (``firearms`` first).

Each reads what it needs from the store with set-based SQL into Arrow (``extract``), computes in
an in-memory DuckDB beside the store, and returns plain rows that the CLI, the API and the pages
show alike, each with the filter that gives back the records behind it.
"""
