"""Publishing a self-describing snapshot, without the whole pipeline: keys derived from dbt tests,
creation order, comments and views, the read-back with the DuckDB 1.4 CLI before the swap and in the
asset check after it."""

from __future__ import annotations

import os

import dagster as dg
import duckdb
import pytest

from dagster_project.assets import warehouse as wh
from dagster_project.assets.warehouse import (ForeignKey, TableKeys, applicable_keys, count_differences,
                                              creation_order, declared_keys, publish_snapshot)
from support import duckdb_cli, query

needs_cli = pytest.mark.skipif(duckdb_cli() is None, reason="DuckDB 1.4 CLI (duckdb-cli==1.4.4.post2) not installed")


def _model(name, columns, schema="marts"):
    return f"model.p.{name}", {"resource_type": "model", "name": name, "alias": name, "schema": schema,
                               "columns": {c: {"name": c} for c in columns}}


def _test(kind, model, column=None, severity="ERROR", where=None, to=None, **kwargs):
    uid = f"test.p.{kind}_{model}_{column or '_'.join(kwargs.get('combination_of_columns', []))}_{to}_{severity}_{where}"
    nodes = [f"model.p.{model}"] + ([f"model.p.{to}"] if to else [])
    return uid, {"resource_type": "test", "attached_node": f"model.p.{model}", "column_name": column,
                 "test_metadata": {"name": kind, "kwargs": kwargs}, "config": {"severity": severity, "where": where},
                 "depends_on": {"nodes": nodes}}


def _manifest(*nodes):
    return {"nodes": dict(nodes)}


def test_keys_come_from_tests_that_always_hold():
    m = _manifest(
        _model("dim_a", ["a_key", "a_id", "name"]),
        _model("bridge", ["a_id", "b_id", "n"]),
        _model("fct", ["fct_id", "a_id", "a_key", "maybe_id", "free"]),
        _model("stg_x", ["x_id"], schema="staging"),
        # dim_a: a_key comes first in the YAML, so it is the primary key; a_id is unique too
        _test("unique", "dim_a", "a_id"), _test("not_null", "dim_a", "a_id"),
        _test("unique", "dim_a", "a_key"), _test("not_null", "dim_a", "a_key"),
        _test("unique", "dim_a", "name"),  # unique but nullable: never a key
        # bridge: no single key, a combination of not-null columns
        _test("unique_combination_of_columns", "bridge", combination_of_columns=["a_id", "b_id"]),
        _test("not_null", "bridge", "a_id"), _test("not_null", "bridge", "b_id"),
        _test("relationships", "bridge", "a_id", to="dim_a", field="a_id", column_name="a_id"),
        _test("unique", "fct", "fct_id"), _test("not_null", "fct", "fct_id"),
        _test("relationships", "fct", "a_key", to="dim_a", field="a_key", column_name="a_key"),
        _test("relationships", "fct", "a_id", to="dim_a", field="name", column_name="a_id"),  # not a key of dim_a
        _test("relationships", "fct", "maybe_id", severity="warn", to="dim_a", field="a_key"),  # may not hold
        _test("not_null", "fct", "free", where="n > 0"),  # holds on a subset only
        _test("relationships", "fct", "free", to="stg_x", field="x_id"),  # not a published model
    )
    keys = declared_keys(m)
    assert set(keys) == {"dim_a", "bridge", "fct"}
    assert keys["dim_a"] == TableKeys(primary_key=("a_key",), unique=(("a_id",),), not_null=("a_key", "a_id"))
    assert keys["bridge"].primary_key == ("a_id", "b_id")
    assert keys["bridge"].foreign_keys == (ForeignKey(("a_id",), "dim_a", ("a_id",)),)
    assert keys["fct"] == TableKeys(primary_key=("fct_id",), not_null=("fct_id",),
                                    foreign_keys=(ForeignKey(("a_key",), "dim_a", ("a_key",)),))
    assert creation_order(keys) == ["dim_a", "bridge", "fct"]


def test_keys_are_cut_to_the_tables_and_columns_being_published():
    keys = {"dim_a": TableKeys(primary_key=("a_id",)),
            "fct": TableKeys(primary_key=("fct_id",), not_null=("fct_id", "gone"),
                             foreign_keys=(ForeignKey(("a_id",), "dim_a", ("a_id",)),
                                           ForeignKey(("b_id",), "dim_b", ("b_id",))))}
    fitted = applicable_keys(keys, {"fct": ["fct_id", "a_id", "b_id"], "dim_a": ["other"]})
    # dim_a has no a_id here: no primary key, so nothing can reference it; dim_b is not published
    assert fitted == {"fct": TableKeys(primary_key=("fct_id",), not_null=("fct_id",)), "dim_a": TableKeys()}


def make_source(path, orphan: bool = False) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.dim_document as select 'doc' || i as document_id, ['a', 'b'] as tags "
                "from range(3) t(i)")
    con.execute("create table marts.fct_statistic as select 's' || i as statistic_id, "
                f"{'''case when i = 2 then 'nowhere' else 'doc' || i end''' if orphan else ''''doc' || i'''} "
                "as document_id from range(3) t(i)")
    con.execute("comment on table marts.fct_statistic is 'One row per figure'")
    con.execute("comment on column marts.fct_statistic.document_id is 'The article (dim_document.document_id)'")
    con.close()


KEYS = {"dim_document": TableKeys(primary_key=("document_id",)),
        "fct_statistic": TableKeys(primary_key=("statistic_id",),
                                   foreign_keys=(ForeignKey(("document_id",), "dim_document", ("document_id",)),))}


def test_publish_declares_keys_and_copies_comments_to_tables_and_views(tmp_path):
    source, target = tmp_path / "pipeline.duckdb", tmp_path / "warehouse.duckdb"
    make_source(source)
    assert publish_snapshot(source, target, keys=KEYS) == {"dim_document": 3, "fct_statistic": 3}
    assert query(target, "select table_name, constraint_type, constraint_column_names, referenced_table "
                         "from duckdb_constraints() where constraint_type in ('PRIMARY KEY', 'FOREIGN KEY') "
                         "order by all") == [
        ("dim_document", "PRIMARY KEY", ["document_id"], None),
        ("fct_statistic", "FOREIGN KEY", ["document_id"], "dim_document"),
        ("fct_statistic", "PRIMARY KEY", ["statistic_id"], None)]
    assert query(target, "select schema_name, comment from duckdb_columns() where table_name = 'fct_statistic' "
                         "and column_name = 'document_id' order by 1") == [
        ("main", "The article (dim_document.document_id)"), ("marts", "The article (dim_document.document_id)")]
    assert query(target, "select comment from duckdb_views() where view_name = 'fct_statistic'") == [
        ("One row per figure",)]
    assert query(target, "select tags from main.dim_document limit 1") == [(["a", "b"],)]


def test_a_key_that_does_not_hold_fails_the_publish_and_keeps_the_old_file(tmp_path):
    source, target = tmp_path / "pipeline.duckdb", tmp_path / "warehouse.duckdb"
    make_source(source)
    publish_snapshot(source, target, keys=KEYS)
    source.unlink()
    make_source(source, orphan=True)
    with pytest.raises(duckdb.ConstraintException):
        publish_snapshot(source, target, keys=KEYS)
    assert query(target, "select count(*) from marts.fct_statistic where document_id = 'nowhere'") == [(0,)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipeline.duckdb", "warehouse.duckdb"]


def test_a_failed_verification_keeps_the_old_file(tmp_path):
    source, target = tmp_path / "pipeline.duckdb", tmp_path / "warehouse.duckdb"
    make_source(source)
    publish_snapshot(source, target)
    inode = os.stat(target).st_ino
    seen = []

    def refuse(path, counts):
        seen.append((os.path.exists(path), counts))
        raise RuntimeError("unreadable")

    with pytest.raises(RuntimeError, match="unreadable"):
        publish_snapshot(source, target, verify=refuse)
    assert seen == [(True, {"dim_document": 3, "fct_statistic": 3})]
    assert os.stat(target).st_ino == inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipeline.duckdb", "warehouse.duckdb"]


def test_count_differences_names_every_relation():
    assert count_differences({"marts.a": 1, "marts.b": 2, "main.a": 1}, {"marts.a": 1, "marts.b": 3, "main.c": 0}) == [
        "main.a: missing", "main.c: not in the pipeline's marts", "marts.b: 3 rows, the pipeline has 2"]


# ---------------------------------------------------------------------------
# The asset and its check with the real 1.4 CLI
# ---------------------------------------------------------------------------


def _pipeline(path, documents: int = 3) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(f"create table marts.dim_document as select 'doc' || range as document_id from range({documents})")
    con.execute("create table marts.fct_claim as select 'c' || range as claim_id from range(5)")
    con.close()


def _materialize(tmp_path, monkeypatch, *, check_only: bool = False):
    monkeypatch.setenv("DUCKDB_PATH", str(tmp_path / "pipeline.duckdb"))
    monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / "warehouse.duckdb"))
    selection = dg.AssetSelection.checks(wh.published_warehouse_reads_back_in_duckdb_1x) if check_only else None
    return dg.materialize([wh.published_warehouse, wh.published_warehouse_reads_back_in_duckdb_1x],
                          selection=selection, raise_on_error=False)


@needs_cli
def test_the_check_passes_on_a_fresh_publish_and_fails_on_a_file_that_differs(tmp_path, monkeypatch):
    _pipeline(tmp_path / "pipeline.duckdb")
    result = _materialize(tmp_path, monkeypatch)
    assert result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.metadata["client"].value.startswith("v1.4.")
    metadata = result.asset_materializations_for_node("published_warehouse")[0].metadata
    assert [(r.data["table"], r.data["rows"]) for r in metadata["tables"].records] == [
        ("marts.dim_document", 3), ("marts.fct_claim", 5)]
    assert metadata["read_back_with"].value.startswith("v1.4.")

    # someone opens the published file read-write and deletes rows: the check fails, and it blocks
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("delete from marts.fct_claim where claim_id = 'c0'")
    con.close()
    result = _materialize(tmp_path, monkeypatch, check_only=True)
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert "marts.fct_claim: 4 rows, the pipeline has 5" in evaluation.description
    assert not result.success  # a blocking check that fails fails its run

    # a file the 1.4 CLI cannot open at all
    (tmp_path / "warehouse.duckdb").write_bytes(b"not a database" * 100)
    result = _materialize(tmp_path, monkeypatch, check_only=True)
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed and "cannot read" in evaluation.description


@needs_cli
def test_a_snapshot_the_1_4_cli_cannot_open_is_never_swapped_in(tmp_path, monkeypatch):
    _pipeline(tmp_path / "pipeline.duckdb")
    assert _materialize(tmp_path, monkeypatch).success
    inode = os.stat(tmp_path / "warehouse.duckdb").st_ino
    # a newer storage format than DuckDB 1.4 reads (what the pipeline's DuckDB 1.5 writes by choice)
    monkeypatch.setattr(wh, "PUBLISHED_STORAGE_VERSION", "v1.5.0")
    result = _materialize(tmp_path, monkeypatch)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure).event_specific_data.error.to_string()
    assert "the DuckDB 1.x CLI reads the new file differently" in failure and "unchanged" in failure
    assert os.stat(tmp_path / "warehouse.duckdb").st_ino == inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipeline.duckdb", "warehouse.duckdb"]


def test_the_largest_tables_go_without_keys_when_their_indexes_would_not_fit():
    """DuckDB must hold a key's index in memory while it builds it: the keys of the cheapest
    tables to index are kept up to the budget, the largest tables keep NOT NULL only, and a
    foreign key to a table left without keys goes with it (applicable_keys)."""
    from dagster_project.assets.warehouse import index_bytes_per_row, keys_within_memory

    keys = {
        "dim_a": TableKeys(primary_key=("a_id",), not_null=("a_id",)),
        "big": TableKeys(primary_key=("big_id",), not_null=("big_id", "a_id"),
                         foreign_keys=(ForeignKey(("a_id",), "dim_a", ("a_id",)),)),
        "fct": TableKeys(primary_key=("fct_id",), not_null=("fct_id",),
                         foreign_keys=(ForeignKey(("big_id",), "big", ("big_id",)),)),
    }
    rows = {"dim_a": 10, "big": 1_000_000, "fct": 1_000}
    kept, dropped = keys_within_memory(keys, rows, budget_bytes=10**9)
    assert dropped == [] and kept == keys
    budget = 10 * index_bytes_per_row(keys["dim_a"]) + 1_000 * index_bytes_per_row(keys["fct"])
    kept, dropped = keys_within_memory(keys, rows, budget_bytes=budget)
    assert dropped == ["big"]
    assert kept["big"] == TableKeys(not_null=("big_id", "a_id"))
    assert kept["dim_a"] == keys["dim_a"] and kept["fct"] == keys["fct"]
    fitted = applicable_keys(kept, {"dim_a": ["a_id"], "big": ["big_id", "a_id"], "fct": ["fct_id", "big_id"]})
    assert fitted["fct"].foreign_keys == () and fitted["fct"].primary_key == ("fct_id",)


def test_memory_limit_in_bytes_reads_sizes_as_duckdb_does(monkeypatch):
    from dagster_project.paths import duckdb_memory_limit_bytes

    for value, expected in (("2GB", 2 * 10**9), ("1.5GiB", int(1.5 * 2**30)), ("300 MiB", 300 * 2**20),
                            ("512KB", 512_000)):
        monkeypatch.setenv("DUCKDB_MEMORY_LIMIT", value)
        assert duckdb_memory_limit_bytes() == expected
    monkeypatch.delenv("DUCKDB_MEMORY_LIMIT")
    assert duckdb_memory_limit_bytes() == 2 * 10**9


def test_the_third_publish_changes_the_snapshot_the_second_replaced(tmp_path, monkeypatch):
    """Through the asset: the first run writes the file whole, the second changes a copy of it and
    keeps the replaced one as warehouse.previous.duckdb, the third changes that file (two runs'
    changes) and no copy is made; every published file holds the marts' rows."""
    db = tmp_path / "pipeline.duckdb"
    _pipeline(db, documents=40)  # a change of 2 rows stays under a quarter of them (else: written whole)
    seen = []
    for step in range(3):
        if step:
            con = duckdb.connect(str(db))
            con.execute(f"insert into marts.dim_document values ('new{step}')")
            con.execute(f"delete from marts.fct_claim where claim_id = 'c{step}'")
            con.close()
        result = _materialize(tmp_path, monkeypatch)
        assert result.success
        meta = result.asset_materializations_for_node("published_warehouse")[0].metadata
        seen.append((meta["publish_mode"].value, meta["changed_from"].value))
        assert query(tmp_path / "warehouse.duckdb", "select count(*) from marts.dim_document") == [(40 + step,)]
        assert query(tmp_path / "warehouse.duckdb", "select count(*) from marts.fct_claim") == [(5 - step,)]
    assert seen == [("written whole", "nothing"), ("changes applied", "a copy of the last snapshot"),
                    ("changes applied", "the previous snapshot")]
    assert query(tmp_path / "warehouse.previous.duckdb", "select count(*) from marts.dim_document") == [(41,)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipeline.duckdb", "warehouse.duckdb",
                                                          "warehouse.previous.duckdb"]
