"""Pure text logic: decoding, normalization and extraction over polars DataFrames.

Nothing in this package imports Dagster, so every function here is unit-testable
and could run on any engine.
"""
