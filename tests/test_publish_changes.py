"""Publishing a change as a change (assets/warehouse.py publish_changes): the previous snapshot is
copied and only the rows that differ are deleted, updated or inserted; the result holds exactly
the rows a whole copy holds, DuckDB 1.4 reads it, and when the change cannot be applied the
target is left as it was, with no temporary file, so the caller writes the file whole."""

from __future__ import annotations

import os

import duckdb
import pytest

from dagster_project.assets import warehouse as w
from dagster_project.assets.warehouse import ForeignKey, TableKeys
from support import duckdb_cli

KEYS = {
    "dim_document": TableKeys(primary_key=("document_id",)),
    "fct_statistic": TableKeys(primary_key=("statistic_id",),
                               foreign_keys=(ForeignKey(("document_id",), "dim_document", ("document_id",)),)),
    "fct_claim": TableKeys(primary_key=("claim_id",),
                           foreign_keys=(ForeignKey(("statistic_id",), "fct_statistic", ("statistic_id",)),)),
    "loose": TableKeys(),
}


def make_source(path) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.dim_document as select 'doc' || i as document_id, 'title ' || i as title, "
                "['a'] as tags from range(100) t(i)")
    con.execute("create table marts.fct_statistic as select 's' || i as statistic_id, 'doc' || (i % 100) "
                "as document_id, i as value, [i] as parts from range(1000) t(i)")
    con.execute("create table marts.fct_claim as select 'c' || i as claim_id, 's' || i as statistic_id, "
                "'said' as cue from range(500) t(i)")
    con.execute("create table marts.loose as select i % 7 as k, 'x' as v from range(50) t(i)")
    con.execute("comment on table marts.fct_statistic is 'One row per figure'")
    con.close()


def change_source(path) -> None:
    con = duckdb.connect(str(path))
    con.execute("delete from marts.fct_claim where statistic_id in "
                "(select statistic_id from marts.fct_statistic where document_id = 'doc5')")
    con.execute("delete from marts.fct_statistic where document_id = 'doc5'")
    con.execute("delete from marts.dim_document where document_id = 'doc5'")            # gone
    con.execute("update marts.dim_document set title = 'new' where document_id = 'doc7'")  # referenced: in place
    con.execute("update marts.dim_document set tags = ['b'] where document_id = 'doc3'")    # nested: replaced
    con.execute("update marts.fct_statistic set document_id = 'doc8' where statistic_id = 's9'")  # a key column
    con.execute("update marts.fct_statistic set value = -1 where statistic_id = 's13'")   # updated, referenced
    con.execute("update marts.fct_statistic set parts = [0, 1] where statistic_id = 's23'")  # nested, referenced
    con.execute("insert into marts.dim_document values ('doc100', 't', ['c'])")
    con.execute("insert into marts.fct_statistic values ('s1000', 'doc100', 3, [])")
    con.execute("insert into marts.loose values (99, 'y')")
    con.close()


def rows(path, table):
    with duckdb.connect(str(path), read_only=True) as con:
        return sorted(con.execute(f"select * from marts.{table}").fetchall(), key=repr)


@pytest.fixture
def published(tmp_path):
    source, target = tmp_path / "pipeline.duckdb", tmp_path / "warehouse.duckdb"
    make_source(source)
    w.publish_snapshot(source, target, keys=KEYS)
    change_source(source)
    return source, target


def test_changes_applied_to_a_copy_equal_a_whole_copy(published, tmp_path):
    source, target = published
    expected = w.fingerprints(source, KEYS)
    applied = w.publish_changes(source, target, expected.tables, keys=KEYS)
    whole = tmp_path / "whole.duckdb"
    w.publish_snapshot(source, whole, keys=KEYS)
    for table in KEYS:
        assert rows(target, table) == rows(whole, table), table
    assert w.fingerprints(target, KEYS).tables == w.fingerprints(whole, KEYS).tables == expected.tables
    assert w.fingerprints(target, KEYS).layout == w.fingerprints(whole, KEYS).layout  # keys, comments, columns
    assert w.published_constraints(target) == w.published_constraints(whole)
    # only what differs was touched: doc3's nested change replaces it and, with it, its 10 figures
    assert applied.updated["dim_document"] == 1 and applied.inserted["dim_document"] == 2
    assert applied.deleted["dim_document"] == 2
    # figures deleted: doc5's 10 (gone), doc3's 10 (their parent is replaced), s9 (a key column), s23
    # (a nested column); s13 is updated in place
    assert applied.deleted["fct_statistic"] == 10 + 10 + 1 + 1
    assert applied.updated["fct_statistic"] == 1
    assert applied.counts == {"dim_document": 100, "fct_claim": 495, "fct_statistic": 991, "loose": 51}
    assert applied.rows_changed < 100
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]


@pytest.mark.skipif(duckdb_cli() is None, reason="DuckDB 1.4 CLI (duckdb-cli==1.4.4.post2) not installed")
def test_the_changed_file_stays_readable_by_duckdb_1x(published):
    source, target = published
    w.publish_changes(source, target, w.fingerprints(source, KEYS).tables, keys=KEYS)
    assert w.cli_query(duckdb_cli(), target, "select count(*) as n from marts.fct_statistic") == [{"n": 991}]


def test_too_many_changed_rows_leave_the_target_as_it_was(published, tmp_path):
    source, target = published
    before = target.read_bytes()
    with pytest.raises(w.ChangesNotApplicable, match="rows differ"):
        w.publish_changes(source, target, w.fingerprints(source, KEYS).tables, keys=KEYS, max_changed_rows=5)
    assert target.read_bytes() == before
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]


def test_a_change_duckdb_refuses_or_a_result_that_differs_is_not_published(published, tmp_path):
    source, target = published
    before = target.read_bytes()
    con = duckdb.connect(str(source))
    con.execute("insert into marts.fct_statistic values ('s2000', 'nowhere', 1, [])")  # breaks the foreign key
    con.close()
    with pytest.raises(w.ChangesNotApplicable, match="refused"):
        w.publish_changes(source, target, w.fingerprints(source, KEYS).tables, keys=KEYS)
    assert target.read_bytes() == before
    wrong = dict(w.fingerprints(source, KEYS).tables, loose=(51, 0))
    con = duckdb.connect(str(source))
    con.execute("delete from marts.fct_statistic where statistic_id = 's2000'")
    con.close()
    with pytest.raises(w.ChangesNotApplicable, match="came out different"):
        w.publish_changes(source, target, wrong, keys=KEYS)
    assert target.read_bytes() == before
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]


def _scoped(ids: list[str]) -> dict[str, tuple[str, str]]:
    listed = " union all ".join(f"select '{i}' as document_id" for i in ids)
    return {"dim_document": ("document_id", listed), "fct_statistic": ("document_id", listed)}


def test_a_scope_compares_only_its_rows_and_gives_the_same_file(published, tmp_path):
    """With the articles that changed as the scope (what published_scopes derives from dbt's state),
    the copy equals a whole copy; rows outside the scope are not compared."""
    source, target = published
    expected = w.fingerprints(source, KEYS)
    # doc3, doc5, doc7, doc100 changed; s9 moved from doc9 to doc8, s13 and s23 are doc3's and doc13's and doc23's
    applied = w.publish_changes(source, target, expected.tables, keys=KEYS,
                                scopes=_scoped(["doc3", "doc5", "doc7", "doc8", "doc9", "doc13", "doc23", "doc100"]))
    whole = tmp_path / "whole.duckdb"
    w.publish_snapshot(source, whole, keys=KEYS)
    for table in KEYS:
        assert rows(target, table) == rows(whole, table), table
    assert applied.counts == {"dim_document": 100, "fct_claim": 495, "fct_statistic": 991, "loose": 51}


def test_a_change_outside_the_scope_is_not_published_as_if_equal(published):
    """A scope that misses a changed row (a stale state) must not publish a file that differs from
    the marts: the check of every row against the marts' fingerprints refuses it."""
    source, target = published
    before = target.read_bytes()
    with pytest.raises(w.ChangesNotApplicable, match="came out different|refused"):
        w.publish_changes(source, target, w.fingerprints(source, KEYS).tables, keys=KEYS,
                          scopes=_scoped(["doc3", "doc5", "doc100"]))  # doc7's title change is outside
    assert target.read_bytes() == before


def test_published_scopes_follow_the_built_fingerprints(tmp_path):
    """published_scopes: the ids whose built fingerprint moved since the snapshot was published,
    those gone on either side, and the last run's changed ids; none before a snapshot is recorded."""
    db, target = tmp_path / "pipeline.duckdb", tmp_path / "warehouse.duckdb"
    marts = {"dim_document": "document", "fct_event": "event"}
    con = duckdb.connect(str(db))
    con.execute("create schema dbt_state")
    con.execute("create table dbt_state.built_documents as select * from (values ('d1', 'a'), ('d2', 'b'), "
                "('d3', 'c')) t(document_id, fingerprint)")
    con.execute("create table dbt_state.changed_documents (document_id varchar)")
    con.execute("create table dbt_state.built_events (event_id varchar, fingerprint varchar)")
    con.execute("create table dbt_state.changed_events (event_id varchar)")
    con.close()
    assert w.published_scopes(db, target, marts) == {}
    w.record_published_ids(db, target)
    con = duckdb.connect(str(db))
    con.execute("update dbt_state.built_documents set fingerprint = 'b2' where document_id = 'd2'")
    con.execute("delete from dbt_state.built_documents where document_id = 'd3'")
    con.execute("insert into dbt_state.built_documents values ('d4', 'd')")
    con.execute("insert into dbt_state.changed_documents values ('d1')")
    con.close()
    scopes = w.published_scopes(db, target, marts)
    assert set(scopes) == {"dim_document"}  # no event was published yet
    column, query = scopes["dim_document"]
    con = duckdb.connect()
    con.execute(f"attach '{db}' as src (read_only)")
    assert column == "document_id"
    assert sorted(r[0] for r in con.execute(query).fetchall()) == ["d1", "d2", "d3", "d4"]
    con.close()
    assert w.published_scopes(db, tmp_path / "elsewhere.duckdb", marts) == {}  # per target


def test_incremental_marts_from_the_manifest():
    import json

    from dagster_project.project import dbt_project

    marts = w.incremental_marts(json.loads(dbt_project().manifest_path.read_text()))
    assert marts["dim_document"] == "document" and marts["fct_event"] == "event"
    assert marts["bridge_event_actor"] == "event" and marts["fct_claim"] == "document"
    assert "dim_actor" not in marts and "dim_date" not in marts


def _second_change(path) -> None:
    con = duckdb.connect(str(path))
    con.execute("update marts.dim_document set title = 'newer' where document_id = 'doc11'")
    con.execute("delete from marts.fct_claim where claim_id = 'c400'")
    con.execute("insert into marts.loose values (100, 'z')")
    con.close()


@pytest.fixture
def with_previous(tmp_path):
    """Three states of the marts: the first published, then the second published over it with the
    first kept as the previous snapshot, then the third in the source."""
    source, target = tmp_path / "pipeline.duckdb", tmp_path / "warehouse.duckdb"
    previous = w.previous_snapshot_path(target)
    make_source(source)
    w.publish_snapshot(source, target, keys=KEYS)
    first = os.stat(target).st_ino
    change_source(source)
    w.publish_changes(source, target, w.fingerprints(source, KEYS).tables, keys=KEYS, keep_previous=previous)
    assert os.stat(previous).st_ino == first  # the replaced file, under its second name
    _second_change(source)
    return source, target, previous


def _same_as_whole(source, target, tmp_path) -> None:
    whole = tmp_path / "whole.duckdb"
    w.publish_snapshot(source, whole, keys=KEYS)
    for table in KEYS:
        assert rows(target, table) == rows(whole, table), table
    assert w.fingerprints(target, KEYS).tables == w.fingerprints(whole, KEYS).tables
    whole.unlink()


def test_the_previous_snapshot_is_changed_instead_of_copying_the_current_one(with_previous, tmp_path):
    """Two runs' changes applied to the snapshot before the current one give the file a whole
    copy gives; the current one becomes the previous, and nothing else is left behind."""
    source, target, previous = with_previous
    old_previous, current = os.stat(previous).st_ino, os.stat(target).st_ino
    applied = w.publish_changes(source, target, w.fingerprints(source, KEYS).tables, keys=KEYS,
                                previous=w.PreviousSnapshot(str(previous)), keep_previous=previous)
    assert applied.started_from == "previous" and applied.kept_previous
    assert os.stat(target).st_ino == old_previous   # changed in place, then moved over the target
    assert os.stat(previous).st_ino == current      # the replaced one is the next run's previous
    _same_as_whole(source, target, tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["pipeline.duckdb", "warehouse.duckdb", "warehouse.previous.duckdb"]


def test_a_previous_snapshot_a_reader_holds_open_is_left_to_the_reader(with_previous, tmp_path):
    """A reader in another process that opened the snapshot before it was replaced holds a lock on
    it: the publish copies the current file instead, and the reader never sees a change."""
    import subprocess
    import sys

    source, target, previous = with_previous
    reader = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys\n"
         f"con = duckdb.connect({str(previous)!r}, read_only=True)\n"
         "q = \"select count(*), max(title) from marts.dim_document\"\n"
         "print(con.execute(q).fetchone(), flush=True)\n"
         "sys.stdin.readline()\n"
         "print(con.execute(q).fetchone(), flush=True)\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        seen = reader.stdout.readline().strip()
        applied = w.publish_changes(source, target, w.fingerprints(source, KEYS).tables, keys=KEYS,
                                    previous=w.PreviousSnapshot(str(previous)), keep_previous=previous)
        out, _ = reader.communicate("\n", timeout=60)
    finally:
        reader.kill()
    assert applied.started_from == "copy" and applied.kept_previous
    assert out.strip() == seen == "(100, 'title 99')"  # the first snapshot, unchanged, no error
    _same_as_whole(source, target, tmp_path)
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]


def test_a_previous_name_of_the_current_file_is_never_changed(published, tmp_path):
    """A crash between the hard link and the swap leaves the previous name on the current file:
    changing it would change what readers of the current snapshot read, so it is copied."""
    source, target = published
    previous = w.previous_snapshot_path(target)
    os.link(target, previous)
    before = target.read_bytes()
    reader = duckdb.connect(str(target), read_only=True)
    try:
        applied = w.publish_changes(source, target, w.fingerprints(source, KEYS).tables, keys=KEYS,
                                    previous=w.PreviousSnapshot(previous), keep_previous=previous)
        assert applied.started_from == "copy"
        assert reader.execute("select count(*) from marts.dim_document where document_id = 'doc5'").fetchone() == (1,)
    finally:
        reader.close()
    assert open(previous, "rb").read() == before  # the replaced file, untouched, is the previous now
    _same_as_whole(source, target, tmp_path)


def test_retired_state_describes_the_previous_file(tmp_path):
    """What was recorded for the target moves to the previous snapshot's path when the file is
    kept there, and is dropped when it is not."""
    db, target = tmp_path / "pipeline.duckdb", tmp_path / "warehouse.duckdb"
    previous = w.previous_snapshot_path(target)
    make_source(db)
    con = duckdb.connect(str(db))
    con.execute("create schema dbt_state")
    con.execute("create table dbt_state.built_documents as select document_id, 'f' as fingerprint from marts.dim_document")
    con.execute("create table dbt_state.changed_documents (document_id varchar)")
    con.close()
    w.publish_snapshot(db, target, keys=KEYS)
    w.record_snapshot(db, target, "print-1", "layout")
    w.record_published_ids(db, target)
    os.link(target, previous)  # what _swap_in does before moving the new file in
    w.retire_snapshot_state(db, target, previous, kept=True)
    assert w.last_snapshot(db, target) is None
    state = w.last_snapshot(db, previous)
    assert state.fingerprint == "print-1" and state.layout == "layout" and state.file_is_ours
    assert set(w.published_scopes(db, previous, {"dim_document": "document"})) == {"dim_document"}
    w.retire_snapshot_state(db, target, previous, kept=False)
    assert w.last_snapshot(db, previous) is None
    assert w.published_scopes(db, previous, {"dim_document": "document"}) == {}
