"""A run whose marts equal the published snapshot's keeps the file (assets/warehouse.py:
snapshot_fingerprint, unchanged_since, record_snapshot); any change to rows, columns, comments,
keys or the file itself publishes again."""

from __future__ import annotations

import os

import duckdb
import pytest

from dagster_project.assets import warehouse as w


@pytest.fixture
def pipeline(tmp_path):
    db = tmp_path / "pipeline.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.dim_document (document_id varchar, title varchar)")
        con.execute("insert into marts.dim_document values ('a', 'one'), ('b', 'two')")
        con.execute("comment on table marts.dim_document is 'One row per article.'")
        con.execute("create table marts.fct_statistic (statistic_id varchar, document_id varchar, value double)")
        con.execute("insert into marts.fct_statistic values ('s1', 'a', 3), ('s2', 'a', 3)")
    return db


def _change(db, sql):
    with duckdb.connect(str(db)) as con:
        con.execute(sql)


KEYS = {"dim_document": w.TableKeys(primary_key=("document_id",))}


def test_the_fingerprint_follows_rows_columns_comments_and_keys(pipeline):
    base = w.snapshot_fingerprint(pipeline, KEYS)
    assert w.snapshot_fingerprint(pipeline, KEYS) == base  # stable
    assert w.snapshot_fingerprint(pipeline, {}) != base
    changes = [
        "update marts.fct_statistic set value = 4 where statistic_id = 's2'",
        "insert into marts.fct_statistic values ('s2', 'a', 4)",  # a duplicate row counts
        "comment on column marts.dim_document.title is 'The headline.'",
        "alter table marts.dim_document add column language varchar",
    ]
    seen = {base}
    for sql in changes:
        _change(pipeline, sql)
        now = w.snapshot_fingerprint(pipeline, KEYS)
        assert now not in seen, sql
        seen.add(now)


def test_row_order_does_not_matter(pipeline, tmp_path):
    base = w.snapshot_fingerprint(pipeline, KEYS)
    _change(pipeline, "create or replace table marts.fct_statistic as "
                      "select * from marts.fct_statistic order by statistic_id desc")
    assert w.snapshot_fingerprint(pipeline, KEYS) == base


def test_unchanged_only_while_the_published_file_is_the_one_written(pipeline, tmp_path):
    target = tmp_path / "published" / "warehouse.duckdb"
    fingerprint = w.snapshot_fingerprint(pipeline, KEYS)
    assert w.unchanged_since(pipeline, target, fingerprint) is None  # nothing published yet
    w.publish_snapshot(pipeline, target, keys=KEYS)
    w.record_snapshot(pipeline, target, fingerprint)
    assert w.unchanged_since(pipeline, target, fingerprint) is not None
    assert w.unchanged_since(pipeline, target, "another") is None
    assert w.unchanged_since(pipeline, tmp_path / "elsewhere.duckdb", fingerprint) is None
    (target.parent / (target.name + ".wal")).write_bytes(b"")  # a client opened it read-write
    assert w.unchanged_since(pipeline, target, fingerprint) is None
    os.remove(str(target) + ".wal")
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # replaced by someone else
    assert w.unchanged_since(pipeline, target, fingerprint) is None
    with duckdb.connect(str(pipeline), read_only=True) as con:  # the state is not in the published schema
        assert con.execute("select count(*) from duckdb_tables() where schema_name = 'marts'").fetchone()[0] == 2
        assert con.execute("select count(*) from publish_state.snapshots").fetchone()[0] == 1
