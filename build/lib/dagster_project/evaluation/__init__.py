"""Evaluation of extraction against labelled data (own gold and external benchmarks)."""
