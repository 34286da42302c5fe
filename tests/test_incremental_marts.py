"""Incremental marts (issue 9, the dbt side): the document-grain marts (dim_sentence,
fct_actor_mention, fct_statistic, fct_date_mention, bridge_document_actor) rebuild only the
articles that are new, changed or gone (dbt/macros/incremental_documents.sql), and what they
hold afterwards is what a fresh build of the same folder holds.

Three console builds: a folder, the same folder changed (a file added, one edited, one
deleted) built incrementally, and a fresh build of the changed folder; the published marts
of the second and third are compared row for row."""

from __future__ import annotations

import duckdb
import pytest

from console_support import make_env, marts_differences, run_build
from support import SEED_FILES, SEEDS_DIR
from test_incremental import variant, write_collection

INCREMENTAL_MARTS = ("dim_sentence", "fct_actor_mention", "fct_statistic", "fct_date_mention", "bridge_document_actor")


def _query(path, sql: str):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def changed(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental_marts")
    folder = root / "docs"
    write_collection(folder, 1)
    env = make_env(root / "incremental", folder)
    first = run_build(env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    documents_before = _query(env.pipeline_db, "select count(*) from raw.normalized_documents")[0][0]
    (folder / "added.txt").write_text(variant((SEEDS_DIR / SEED_FILES[2]).read_text(encoding="utf-8"), 5),
                                      encoding="utf-8")
    edited = folder / f"variant_1_{SEED_FILES[1]}"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Taliban", "Haqqani network", 2), encoding="utf-8")
    (folder / SEED_FILES[4]).unlink()
    second = run_build(env)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    fresh = make_env(root / "fresh", folder)
    third = run_build(fresh)
    assert third.returncode == 0, third.stdout[-3000:] + third.stderr[-3000:]
    return env, fresh, documents_before


def test_the_changed_run_rebuilt_the_changed_articles_only(changed):
    env, _, documents_before = changed
    rebuilt = _query(env.pipeline_db, "select count(*) from dbt_state.changed_documents")[0][0]
    documents_now = _query(env.pipeline_db, "select count(*) from raw.normalized_documents")[0][0]
    # the added file's articles, the edited file's, the deleted file's: a few of the collection
    assert 0 < rebuilt < min(documents_before, documents_now) / 2, (rebuilt, documents_before, documents_now)
    # the state now says the marts hold every current article's version
    built, current = _query(env.pipeline_db, "select (select count(*) from dbt_state.built_documents), "
                                             "(select count(*) from dbt_state.current_documents)")[0]
    assert built == current == documents_now


def test_the_deleted_file_left_the_incremental_marts(changed):
    env, _, _ = changed
    for mart in INCREMENTAL_MARTS:
        orphans = _query(env.warehouse, f"select count(*) from marts.{mart} where document_id not in "
                                        "(select document_id from marts.dim_document)")[0][0]
        assert orphans == 0, mart


def test_an_incremental_build_gives_what_a_fresh_build_gives(changed):
    env, fresh, _ = changed
    assert marts_differences(env.warehouse, fresh.warehouse) == []


def test_the_per_article_views_are_tested_on_the_changed_articles_only(changed):
    """During the incremental build the generic tests of a view whose rows per article depend
    on that article alone (meta rows_per_document) read the rows of changed_documents, like the
    incremental marts'; a view that carries links across articles (the event reports' keys) is
    tested whole. At 100,000 documents the whole-view tests of the mentions took 41 s of a run
    that changed nothing."""
    env, _, _ = changed
    runs = sorted((env.root / "dbt_target").glob("warehouse_models-*"), key=lambda p: p.stat().st_mtime)
    compiled = runs[-1] / "run" / "geo_warehouse" / "models"

    def sql(model_yml: str, test: str) -> str:
        return (compiled / model_yml / f"{test}.sql").read_text()

    for model_yml, test in (("staging/stg_actor_mentions.yml", "unique_stg_actor_mentions_mention_id"),
                            ("intermediate/int_actor_mentions_enriched.yml",
                             "unique_int_actor_mentions_enriched_mention_id"),
                            ("staging/stg_normalized_documents.yml", "unique_stg_normalized_documents_document_id")):
        assert "dbt_state.changed_documents" in sql(model_yml, test), test
    assert "changed_documents" not in sql("staging/stg_event_reports.yml", "unique_stg_event_reports_event_report_id")
