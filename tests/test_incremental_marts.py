"""Incremental marts (issue 9, the dbt side): the document-grain marts (INCREMENTAL_MARTS)
rebuild only the articles that are new, changed or gone, or whose reports' events changed
(dbt/macros/incremental_documents.sql), and what they hold afterwards is what a fresh build of
the same folder holds.

Three console builds: a folder, the same folder changed (a file added, one edited, one
deleted) built incrementally, and a fresh build of the changed folder; the published marts
of the second and third are compared row for row."""

from __future__ import annotations

import duckdb
import pytest

from console_support import make_env, marts_differences, run_build
from support import SEED_FILES, SEEDS_DIR
from test_incremental import variant, write_collection

INCREMENTAL_MARTS = ("dim_document", "dim_sentence", "fct_actor_mention", "fct_statistic", "fct_date_mention",
                     "bridge_document_actor", "fct_claim", "fct_event_report", "bridge_event_document")
# per article of the pipeline database: its row, and the events of its reports (what linking decided)
ARTICLE_STATE = ("select d.document_id, d.source_file, md5(d::varchar || f::varchar), "
                 "(select string_agg(r.trigger_char_start || '=' || coalesce(r.event_key, ''), ',' "
                 "order by r.trigger_char_start) from raw.event_reports r where r.document_id = d.document_id) "
                 "from raw.normalized_documents d join raw.raw_documents f using (file_id)")


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
    state_before = _query(env.pipeline_db, ARTICLE_STATE)
    (folder / "added.txt").write_text(variant((SEEDS_DIR / SEED_FILES[2]).read_text(encoding="utf-8"), 5),
                                      encoding="utf-8")
    edited = folder / f"variant_1_{SEED_FILES[1]}"
    edited.write_text(edited.read_text(encoding="utf-8").replace("ISKP", "Haqqani network", 2), encoding="utf-8")
    (folder / SEED_FILES[4]).unlink()
    second = run_build(env)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    fresh = make_env(root / "fresh", folder)
    third = run_build(fresh)
    assert third.returncode == 0, third.stdout[-3000:] + third.stderr[-3000:]
    return env, fresh, documents_before, state_before


def test_the_changed_run_rebuilt_the_changed_articles_only(changed):
    """Rebuilt: the articles whose row or file changed (the added file's, the edited file's,
    older ones normalized again because a line became common), the deleted file's, and those whose reports
    changed event (test below); nothing else."""
    env, _, documents_before, state_before = changed
    rebuilt = {row[0] for row in _query(env.pipeline_db, "select document_id from dbt_state.changed_documents")}
    documents_now = _query(env.pipeline_db, "select count(*) from raw.normalized_documents")[0][0]
    before = {doc: (row, keys) for doc, _, row, keys in state_before}
    after = {doc: (row, keys) for doc, _, row, keys in _query(env.pipeline_db, ARTICLE_STATE)}
    changed_rows = {doc for doc in before.keys() | after.keys()
                    if doc not in before or doc not in after or before[doc][0] != after[doc][0]}
    moved_events = {doc for doc in before.keys() & after.keys() if before[doc][1] != after[doc][1]}
    assert rebuilt == changed_rows | moved_events
    # and some were left as they were (a collection of 7 articles, 3 files touched)
    assert 0 < len(rebuilt) < len(before.keys() | after.keys()), (rebuilt, documents_before, documents_now)
    # the state now says the marts hold every current article's version
    built, current = _query(env.pipeline_db, "select (select count(*) from dbt_state.built_documents), "
                                             "(select count(*) from dbt_state.current_documents)")[0]
    assert built == current == documents_now


def test_the_deleted_file_left_the_incremental_marts(changed):
    env, _, _, _ = changed
    for mart in INCREMENTAL_MARTS:
        orphans = _query(env.warehouse, f"select count(*) from marts.{mart} where document_id not in "
                                        "(select document_id from marts.dim_document)")[0][0]
        assert orphans == 0, mart


def test_an_incremental_build_gives_what_a_fresh_build_gives(changed):
    env, fresh, _, _ = changed
    assert marts_differences(env.warehouse, fresh.warehouse) == []


def test_the_per_article_views_are_tested_on_the_changed_articles_only(changed):
    """During the incremental build the generic tests of a view whose rows per article depend
    on that article alone (meta rows_per_document) read the rows of changed_documents, like the
    incremental marts'; a view that carries links across articles (the event reports' keys) is
    tested whole. At 100,000 documents the whole-view tests of the mentions took 41 s of a run
    that changed nothing."""
    env, _, _, _ = changed
    runs = sorted((env.root / "dbt_target").glob("warehouse_models-*"), key=lambda p: p.stat().st_mtime)
    compiled = runs[-1] / "run" / "geo_warehouse" / "models"

    def sql(model_yml: str, test: str) -> str:
        return (compiled / model_yml / f"{test}.sql").read_text()

    def reads_changed(sql: str, kind: str = "document") -> bool:
        # the changed ids as literals (at most 20,000) or the state table
        return f"{kind}_id in ('" in sql or f"dbt_state.changed_{kind}s" in sql

    for model_yml, test in (("staging/stg_actor_mentions.yml", "unique_stg_actor_mentions_mention_id"),
                            ("intermediate/int_actor_mentions_enriched.yml",
                             "unique_int_actor_mentions_enriched_mention_id"),
                            ("staging/stg_normalized_documents.yml", "unique_stg_normalized_documents_document_id")):
        assert reads_changed(sql(model_yml, test)), test
    # the event reports carry their keys, which the fingerprint covers; the marts of events read
    # the events this run rebuilt
    assert reads_changed(sql("staging/stg_event_reports.yml", "unique_stg_event_reports_event_report_id"))
    assert reads_changed(sql("marts/fct_event.yml", "unique_fct_event_event_id"), "event")
    # singular tests: one article's sentences at a time, one event against its articles; files
    # against articles whole
    tests = runs[-1] / "run" / "geo_warehouse" / "tests"
    assert reads_changed((tests / "assert_dim_sentence_spans_do_not_overlap.sql").read_text())
    assert reads_changed((tests / "assert_fct_event_agrees_with_its_reports.sql").read_text(), "event")
    whole = (tests / "assert_quarantined_files_have_no_documents.sql").read_text()
    assert not reads_changed(whole) and "changed_" not in whole


def test_an_article_whose_reports_changed_event_is_rebuilt(changed):
    """Linking crosses articles: an article that joins or leaves an event can change the event's
    key (its earliest report's, by document id: events/linking.py), so the reports of articles
    that did not change get another event_id. Their fingerprint covers the keys: they are
    rebuilt, and their rows in fct_event_report, fct_claim and bridge_event_document follow the
    new keys (the comparison with a fresh build above checks the values)."""
    env, _, _, state_before = changed
    before = {doc: (row, keys) for doc, _, row, keys in state_before}
    after = {doc: (row, keys) for doc, _, row, keys in _query(env.pipeline_db, ARTICLE_STATE)}
    moved = {doc for doc in before.keys() & after.keys() if before[doc] != after[doc] and before[doc][0] == after[doc][0]}
    assert moved, "no unchanged article's report changed event: the case is not exercised"
    rebuilt = {row[0] for row in _query(env.pipeline_db, "select document_id from dbt_state.changed_documents")}
    assert moved <= rebuilt, moved - rebuilt


def test_the_changed_run_rebuilt_the_changed_events_only(changed):
    """fct_event and bridge_event_actor are incremental on the event: rebuilt are the events whose
    row changed, that an article joined or left, or one of whose articles changed; the others
    stay (their rows equal a fresh build's, test above)."""
    env, _, _, _ = changed
    rebuilt, events, built, current = _query(env.pipeline_db, """
        select (select count(*) from dbt_state.changed_events where event_id in (select event_key from raw.events)),
               (select count(*) from raw.events), (select count(*) from dbt_state.built_events),
               (select count(*) from dbt_state.current_events)""")[0]
    # the events of the article that did not change (its file untouched, no event of its moved) stay
    assert 0 < rebuilt < events, (rebuilt, events)
    assert built == current == events
    stale = _query(env.pipeline_db, """
        select count(*) from dbt_state.current_events c join dbt_state.built_events b using (event_id)
        where c.fingerprint <> b.fingerprint""")[0][0]
    assert stale == 0



def test_rows_that_no_state_lists_leave_the_marts(changed):
    """Rows of an event or an article that nothing produces any more leave the marts even when
    the built state does not list them, in every incremental mart (the state was lost, the mart
    was a table before it became incremental, or a run was killed between two marts: at 100,000
    documents rows of gone events stayed in bridge_event_actor, and publishing failed on the
    foreign key). Last in the module: it changes the build's folder."""
    env, fresh, _, _ = changed
    con = duckdb.connect(str(env.pipeline_db))
    try:
        con.execute("insert into marts.fct_event select * replace ('gone' || event_id as event_id) "
                    "from marts.fct_event limit 1")
        con.execute("insert into marts.dim_document select * replace ('gone' || document_id as document_id) "
                    "from marts.dim_document limit 1")
        # what a run killed between two marts leaves: rows of an event or article that the first
        # mart no longer holds and no state lists (at 100,000 documents, bridge_event_actor)
        con.execute("insert into marts.bridge_event_actor select * replace ('stray' || event_id as event_id) "
                    "from marts.bridge_event_actor limit 1")
        con.execute("insert into marts.fct_claim select * replace ('stray' || document_id as document_id, "
                    "'stray' || claim_id as claim_id) from marts.fct_claim limit 1")
        con.execute("drop table dbt_state.built_events")
        con.execute("delete from dbt_state.built_documents where document_id in "
                    "(select document_id from marts.dim_document limit 1)")
    finally:
        con.close()
    result = run_build(env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert _query(env.pipeline_db, "select count(*) from marts.fct_event where event_id like 'gone%'") == [(0,)]
    assert _query(env.pipeline_db, "select count(*) from marts.dim_document where document_id like 'gone%'") == [(0,)]
    assert _query(env.pipeline_db, "select count(*) from marts.bridge_event_actor where event_id like 'stray%'") == [(0,)]
    assert _query(env.pipeline_db, "select count(*) from marts.fct_claim where document_id like 'stray%'") == [(0,)]
    assert marts_differences(env.warehouse, fresh.warehouse) == []
