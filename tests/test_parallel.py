"""Both cores for normalization (dagster_project/parallel.py): a batch cut into runs of files
normalized in worker processes gives the single-process result, row for row."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dagster_project import parallel
from dagster_project.documents.ingest import ingest_folder
from dagster_project.documents.normalize import (combine_normalized, line_keys, load_publisher_domains,
                                                 normalize_documents)
from dagster_project.paths import DATA_DIR
from support import SEEDS_DIR


@pytest.mark.parametrize("weights,parts", [([5, 1, 1, 1, 1, 1], 2), ([1] * 10, 3), ([3], 4), ([1, 1], 5),
                                           ([0, 0, 7, 0], 2), ([9, 1, 9, 1, 9, 1, 9], 4)])
def test_cut_points_are_contiguous_cover_everything_and_are_never_empty(weights, parts):
    runs = parallel.cut_points(weights, parts)
    assert runs[0][0] == 0 and runs[-1][1] == len(weights)
    assert all(a < b for a, b in runs) and all(b == c for (_, b), (c, _) in zip(runs, runs[1:]))
    assert len(runs) <= min(parts, len(weights))


def test_cut_points_balance_the_weights():
    runs = parallel.cut_points([1] * 100, 4)
    assert [b - a for a, b in runs] == [25, 25, 25, 25]


def test_workers_setting(monkeypatch):
    monkeypatch.setenv("PIPELINE_WORKERS", "3")
    assert parallel.worker_count() == 3
    monkeypatch.delenv("PIPELINE_WORKERS")
    assert 1 <= parallel.worker_count() <= parallel.MAX_DEFAULT_WORKERS
    for bad in ("0", "two", "-1", "1.5"):
        monkeypatch.setenv("PIPELINE_WORKERS", bad)
        with pytest.raises(parallel.WorkersSettingError, match="PIPELINE_WORKERS"):
            parallel.worker_count()


def test_normalizing_in_two_processes_equals_one(monkeypatch):
    """The seeds (text scrapes with boilerplate, a listing page) and a small HTML page, cut into
    one run per file: the articles and the rejected files are those of one process, in order."""
    raw, bad = ingest_folder(SEEDS_DIR)
    assert bad.height == 0
    html = ("<html><head><title>Shelling in Kharkiv kills 4 | Example News</title>"
            "<meta property='article:published_time' content='2024-03-02'></head><body><nav>Home | World</nav>"
            "<article><h1>Shelling in Kharkiv kills 4</h1><p>" + "Officials said four people were killed. " * 30
            + "</p></article></body></html>")
    extra = raw.head(1).with_columns(file_id=pl.lit("f" * 64), source_file=pl.lit("page.html"),
                                     content_type=pl.lit("html"), raw_text=pl.lit(html))
    empty = raw.head(1).with_columns(file_id=pl.lit("e" * 64), source_file=pl.lit("menu.txt"),
                                     content_type=pl.lit("text"), raw_text=pl.lit("Home\nAbout\nContact\n"))
    raw = pl.concat([raw, extra, empty]).sort("file_id")
    frequency = line_keys(raw).group_by("key").agg(files_with_line=pl.len())
    domains = load_publisher_domains(DATA_DIR / "publisher_domains.csv")
    one = normalize_documents(raw, domains, frequency)
    monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(parallel, "MIN_RUN_BYTES", 1)
    try:
        two = parallel.map_by_key(normalize_documents, {"raw_documents": raw}, "file_id", main="raw_documents",
                                  weight="raw_text", shared={"publisher_domains": domains,
                                                             "document_frequency": frequency},
                                  combine=combine_normalized, workers=2)
        assert parallel._POOL is not None and parallel._POOL_SIZE == 2  # it did run in worker processes
    finally:
        parallel.shutdown()
    assert one.articles.height > raw.height and one.rejected.height >= 1
    assert_frame_equal(one.articles, two.articles)
    assert_frame_equal(one.rejected, two.rejected)


def _die(**_):
    import os

    os._exit(3)


def test_a_worker_that_dies_fails_the_call_and_the_next_call_gets_new_workers(monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 0)
    frame = pl.DataFrame({"file_id": ["a", "b", "c", "d"], "raw_text": ["x" * 10] * 4})
    try:
        with pytest.raises(BrokenProcessPool):
            parallel.map_by_key(_die, {"rows": frame}, "file_id", main="rows", weight="raw_text", workers=2)
        assert parallel._POOL is None
        out = parallel.map_by_key(_count_rows, {"rows": frame}, "file_id", main="rows", weight="raw_text", workers=2)
        assert out["n"].to_list() == [2, 2]  # two runs of two files, in order
    finally:
        parallel.shutdown()


def _count_rows(rows: pl.DataFrame) -> pl.DataFrame:
    return pl.DataFrame({"n": [rows.height]})
