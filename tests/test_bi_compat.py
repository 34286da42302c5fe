"""BI compatibility of the published warehouse.

* A real DuckDB 1.x client - the `duckdb` CLI 1.4 from the PyPI package duckdb-cli, installed next
  to this interpreter - opens the published file read-only and reads every mart (the pipeline itself
  runs DuckDB 1.5, whose default storage format 1.4 clients cannot open).
* Publishing never blocks or breaks a reader: a full materialization runs while a Python
  read-only connection keeps querying the published file and the 1.4 CLI holds it open
  (conftest.rebuilt_warehouse); both keep reading their snapshot, and a fresh reader sees the new file.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
from pathlib import Path

import pytest

from support import duckdb_cli, query

pytestmark = pytest.mark.integration

CLI = duckdb_cli()
needs_cli = pytest.mark.skipif(CLI is None, reason=(
    "DuckDB 1.4 CLI not found next to the interpreter (install the test extra: pip install duckdb-cli==1.4.4.post2)"))

MARTS = ["bridge_document_actor", "dim_actor", "dim_date", "dim_document", "fct_actor_mention", "fct_date_mention",
         "fct_statistic", "quarantined_documents"]


def run_cli(path: Path, sql: str, *, stdin: bool = False) -> list[list[str]]:
    """Run SQL with the 1.4 CLI on `path` opened read-only; returns CSV rows."""
    args = [str(CLI), "-readonly", "-csv", "-noheader", str(path)]
    proc = subprocess.run(args + ([] if stdin else ["-c", sql]), input=sql if stdin else None,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"duckdb CLI failed ({proc.returncode}): {proc.stderr}"
    assert "Error" not in proc.stderr, proc.stderr
    return list(csv.reader(io.StringIO(proc.stdout)))


@needs_cli
def test_cli_is_duckdb_1_4():
    out = subprocess.run([str(CLI), "-version"], capture_output=True, text=True, timeout=60).stdout
    assert out.startswith("v1.4."), out


@needs_cli
def test_duckdb_1_4_cli_reads_every_mart(built_warehouse):
    path = built_warehouse.paths.warehouse
    expected = {t: query(path, f"select count(*) from marts.{t}")[0][0] for t in MARTS}
    sql = " union all ".join(f"select '{t}', count(*) from marts.{t}" for t in MARTS) + " order by 1"
    counts = {name: int(n) for name, n in run_cli(path, sql)}
    assert counts == expected
    assert counts["dim_document"] == 13 and counts["dim_actor"] > 500


@needs_cli
def test_duckdb_1_4_cli_runs_an_analyst_query_from_stdin(built_warehouse):
    sql = """
        select a.canonical_name, count(*) as mentions
        from marts.fct_actor_mention m join marts.dim_actor a using (actor_id)
        group by all order by mentions desc, a.canonical_name limit 3;
        select d.title, s.value::int from marts.fct_statistic s join marts.dim_document d using (document_id)
        where s.statistic_type = 'casualty' and s.casualty_type = 'killed' and s.subject = 'U.S. soldiers';
        select count(*) from marts.fct_statistic s join marts.dim_document d using (document_id)
        where substr(d.body_text, s.char_start + 1, s.char_end - s.char_start) <> s.surface_text;
        select list_contains(aliases, 'ISKP') from marts.dim_actor where canonical_name = 'Islamic State Khorasan Province';
    """
    rows = run_cli(built_warehouse.paths.warehouse, sql, stdin=True)
    assert rows[0][0] == "Taliban"
    assert ["Russia-Afghanistan relations in the aftermath of the Moscow attack", "13"] in rows
    assert ["0"] in rows and ["true"] in rows


def test_publishing_while_readers_hold_the_file(built_warehouse, rebuilt_warehouse):
    readers = rebuilt_warehouse.readers
    python = readers["python"]
    assert python["returncode"] == 0, python["stderr"]
    assert python["errors"] == []
    # the reader kept querying while the pipeline ran and published the new file
    during = [t for t in python["query_times"] if rebuilt_warehouse.started <= t <= rebuilt_warehouse.finished]
    assert len(during) >= 10, f"only {len(during)} queries ran during the rebuild"
    # it reads the snapshot it opened (the first build), before and after the swap
    assert python["ready"] == python["final"]
    assert python["final"]["documents"] == 13
    first_ingested = query(built_warehouse.snapshot, "select max(ingested_at)::varchar from marts.dim_document")[0][0]
    assert python["final"]["ingested_at"] == first_ingested

    # the file was replaced (new inode), not rewritten in place under the readers
    assert rebuilt_warehouse.warehouse_inode != built_warehouse.warehouse_inode
    if Path("/proc").is_dir():
        held = [t for t in readers["open_fds_after_build"]["python"] if str(built_warehouse.paths.warehouse) in t]
        assert held and all(t.endswith("(deleted)") for t in held), held

    # a fresh reader sees the new build
    new_ingested = query(built_warehouse.paths.warehouse, "select max(ingested_at)::varchar from marts.dim_document")[0][0]
    assert new_ingested > first_ingested
    assert query(built_warehouse.paths.warehouse, "select count(*) from marts.dim_document")[0][0] == 13
    # no temporary file is left next to the published one
    leftovers = [p.name for p in built_warehouse.paths.warehouse.parent.iterdir() if ".tmp-" in p.name]
    assert leftovers == []


@needs_cli
def test_cli_holding_the_file_keeps_working_and_a_new_cli_sees_the_new_file(built_warehouse, rebuilt_warehouse):
    cli = rebuilt_warehouse.readers["cli"]
    assert cli is not None
    assert cli["returncode"] == 0, cli["stderr"]
    first_ingested = query(built_warehouse.snapshot, "select max(ingested_at)::varchar from marts.dim_document")[0][0]
    held = list(csv.reader(io.StringIO(cli["stdout"])))
    assert held == [["13", first_ingested]]
    fresh = run_cli(built_warehouse.paths.warehouse,
                    "select count(*), max(ingested_at)::varchar from marts.dim_document")
    assert fresh[0][0] == "13" and fresh[0][1] > first_ingested
    assert os.stat(built_warehouse.paths.warehouse).st_ino == rebuilt_warehouse.warehouse_inode
