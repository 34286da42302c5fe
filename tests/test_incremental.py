"""Incremental loads (issue 9): a run processes only what is new or changed, and what it
leaves is what a fresh build of the same folder leaves.

The Python part of the graph (ingest, normalization, extraction, claims, events: everything that
writes raw.*) is materialized in process, without dbt, on a folder that changes between runs:
files added, edited, deleted, renamed, a duplicate whose original goes away, a crash in the
middle of a batch. After each change every output table equals, row for row (timestamps
aside), the tables of a fresh build of the same folder into another pipeline database. The
collection is made of the seeds and variants of them (other numbers and names, some lines
kept), so that lines recur across files and the collection's line statistics change as files
come and go.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.assets import documents as documents_assets
from dagster_project.assets import stages
from dagster_project.definitions import defs
from dagster_project.resources import PipelineDuckDB, dbt_resource
from support import SEED_FILES, SEEDS_DIR

PYTHON_GROUPS = ("documents", "extraction", "events")
# every table the Python assets write that a fresh build must reproduce (the ledgers included)
OUTPUT_TABLES = ("raw_documents", "quarantined_documents", "normalized_documents", "normalize_quarantine",
                 "file_line_keys", "actor_mentions", "statistics", "date_mentions", "sentences", "claims",
                 "event_report_rows", "event_report_actors", "event_reports", "events", "linked_documents",
                 "done_actor_mentions", "done_statistics", "done_date_mentions", "done_sentences", "done_claims")


def run_python_assets(db: Path, folder: Path, **config) -> dg.ExecuteInProcessResult:
    instance = dg.DagsterInstance.ephemeral(settings={"telemetry": {"enabled": False}})
    ingest = {"documents_dir": str(folder), **config}
    return dg.materialize(
        [*defs.assets, *defs.asset_checks], instance=instance,
        selection=dg.AssetSelection.groups(*PYTHON_GROUPS).without_checks(),  # the dbt source tests aside
        resources={"duckdb": PipelineDuckDB(path=str(db)),  # dbt is not selected, but its op needs one
                   "dbt": dbt_resource()},
        run_config={"ops": {"ingest_documents": {"config": ingest}}}, raise_on_error=False)


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    events = [e for e in result.get_asset_materialization_events()
              if e.asset_key == dg.AssetKey(asset)]
    assert events, f"{asset} was not materialized"
    return {k: v.value for k, v in events[-1].materialization.metadata.items()}


def differences(a: Path, b: Path, tables=OUTPUT_TABLES) -> dict[str, tuple[int, int, int, int]]:
    """table -> (rows in a, rows in b, rows of a not in b, rows of b not in a), for the tables
    that differ; timestamps (when a file was read) are left out."""
    con = duckdb.connect()
    con.execute(f"attach '{a}' as a (read_only)")
    con.execute(f"attach '{b}' as b (read_only)")
    out = {}
    for table in tables:
        cols = [name for name, kind in con.execute(
            "select column_name, data_type from duckdb_columns() where database_name = 'a' "
            "and schema_name = 'raw' and table_name = ?", [table]).fetchall() if not kind.startswith("TIMESTAMP")]
        assert cols, f"raw.{table} missing"
        select = ", ".join(f'"{c}"' for c in cols)
        counts = [con.execute(f"select count(*) from {d}.raw.{table}").fetchone()[0] for d in ("a", "b")]
        only = [con.execute(f"select count(*) from (select {select} from {x}.raw.{table} except all "
                            f"select {select} from {y}.raw.{table})").fetchone()[0] for x, y in (("a", "b"), ("b", "a"))]
        if only != [0, 0] or counts[0] != counts[1]:
            out[table] = (*counts, *only)
    con.close()
    return out


def variant(text: str, k: int) -> str:
    """Another article of the same site: other figures and places, the boilerplate kept."""
    text = re.sub(r"\d+", lambda m: str(int(m.group()) + 7 * k), text)
    for old, new in (("Kabul", "Herat"), ("Taliban", "ISKP"), ("Afghanistan", "Pakistan"))[: 1 + k % 3]:
        text = text.replace(old, new)
    return text


def write_collection(folder: Path, n_variants: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in SEED_FILES:
        shutil.copyfile(SEEDS_DIR / name, folder / name)
    for k in range(1, n_variants + 1):
        for name in SEED_FILES[:2]:
            text = (SEEDS_DIR / name).read_text(encoding="utf-8")
            (folder / f"variant_{k}_{name}").write_text(variant(text, k), encoding="utf-8")


def assert_same_as_fresh(tmp_path: Path, incremental_db: Path, folder: Path, label: str) -> None:
    fresh_db = tmp_path / f"fresh_{label}.duckdb"
    result = run_python_assets(fresh_db, folder)
    assert result.success, f"fresh build ({label}) failed"
    assert differences(incremental_db, fresh_db) == {}, f"{label}: incremental run differs from a fresh build"


@pytest.fixture(scope="module")
def grown(tmp_path_factory):
    """A folder built once, then changed in every way a collection changes, and built again."""
    root = tmp_path_factory.mktemp("incremental")
    folder, db = root / "docs", root / "pipeline.duckdb"
    write_collection(folder, 2)
    shutil.copyfile(folder / SEED_FILES[3], folder / "copy_of_seed.txt")  # a duplicate of a kept file
    first = run_python_assets(db, folder)
    assert first.success
    again = run_python_assets(db, folder)
    assert again.success
    before = {t: duckdb.connect(str(db), read_only=True).execute(f"select count(*) from raw.{t}").fetchone()[0]
              for t in ("normalized_documents", "statistics")}
    # the changes: 2 files added (one repeating lines of the others), 1 edited, 1 deleted,
    # 1 renamed into a subfolder, and the original of the duplicate deleted
    for k in (3, 4):
        name = SEED_FILES[k % len(SEED_FILES)]
        (folder / f"added_{k}.txt").write_text(variant((SEEDS_DIR / name).read_text(encoding="utf-8"), k),
                                              encoding="utf-8")
    edited = folder / f"variant_1_{SEED_FILES[0]}"
    edited.write_text(edited.read_text(encoding="utf-8").replace(" the ", " THE ", 3), encoding="utf-8")
    (folder / f"variant_2_{SEED_FILES[1]}").unlink()
    (folder / "sub").mkdir()
    (folder / f"variant_2_{SEED_FILES[0]}").rename(folder / "sub" / "renamed.txt")
    (folder / SEED_FILES[3]).unlink()
    third = run_python_assets(db, folder)
    assert third.success
    return root, folder, db, first, again, third, before


def test_a_grown_folder_gives_what_a_fresh_build_gives(grown, tmp_path):
    _, folder, db, *_ = grown
    assert_same_as_fresh(tmp_path, db, folder, "grown")


def test_a_rerun_with_nothing_new_processes_nothing(grown):
    _, _, _, first, again, _, _ = grown
    assert metadata(first, "normalized_documents")["files_normalized_this_run"] > 0
    assert metadata(again, "normalized_documents")["files_normalized_this_run"] == 0
    assert metadata(again, "normalized_documents")["files_removed_this_run"] == 0
    for asset in ("actor_mentions", "statistics", "date_mentions", "sentences", "claims"):
        assert metadata(first, asset)["articles_processed_this_run"] > 0, asset
        assert metadata(again, asset)["articles_processed_this_run"] == 0, asset
        assert metadata(again, asset)["rows_written_this_run"] == 0, asset


def test_a_change_costs_the_changed_files_not_the_collection(grown):
    _, folder, db, first, _, third, _ = grown
    files = len([p for p in folder.rglob("*") if p.is_file()])
    normalized = metadata(third, "normalized_documents")
    # new: 2 added + the edited one; the renamed file and the duplicate keep their articles
    assert 3 <= normalized["files_normalized_this_run"] < files
    assert normalized["files_removed_this_run"] >= 2  # the deleted file and the old edit
    mentions = metadata(third, "actor_mentions")
    con = duckdb.connect(str(db), read_only=True)
    articles = con.execute("select count(*) from raw.normalized_documents").fetchone()[0]
    events = con.execute("select count(*) from raw.events").fetchone()[0]
    con.close()
    assert 0 < mentions["articles_processed_this_run"] < articles
    # linking runs over every report, but only the events it touched are written again
    linked = metadata(third, "events")
    assert linked["linking_written"] == "changes"
    assert 0 < linked["events_rewritten"] < events
    assert 0 < linked["articles_changed_since_last_linking"] < articles
    assert metadata(first, "events")["linking_written"] == "whole"


def test_events_left_behind_by_a_crash_after_the_reports_are_caught_up(tmp_path, monkeypatch):
    """A run killed after the event reports of its new articles were committed and before their
    events were: the next run has no article to process, and still writes the events of those
    articles (raw.linked_documents lags the ledger), giving what a fresh build gives."""
    folder, db = tmp_path / "docs", tmp_path / "pipeline.duckdb"
    write_collection(folder, 1)
    assert run_python_assets(db, folder).success
    (folder / "added.txt").write_text(variant((SEEDS_DIR / SEED_FILES[2]).read_text(encoding="utf-8"), 3),
                                      encoding="utf-8")
    from dagster_project.assets import events as events_asset

    def killed(*args, **kwargs):
        raise RuntimeError("simulated crash after the reports were committed")

    monkeypatch.setattr(events_asset, "event_table", killed)
    assert not run_python_assets(db, folder).success
    monkeypatch.undo()
    resumed = run_python_assets(db, folder)
    assert resumed.success
    assert metadata(resumed, "event_reports")["articles_processed_this_run"] == 0
    assert metadata(resumed, "events")["articles_changed_since_last_linking"] > 0
    assert_same_as_fresh(tmp_path, db, folder, "events_crash")


def test_renamed_files_and_surviving_duplicates_keep_their_articles(grown):
    _, _, db, *_ = grown
    con = duckdb.connect(str(db), read_only=True)
    names = {r[0] for r in con.execute("select distinct source_file from raw.normalized_documents").fetchall()}
    assert "sub/renamed.txt" in names
    assert f"variant_2_{SEED_FILES[0]}" not in names
    # the original of the duplicate is gone: its copy now carries the article, not a quarantine row
    assert "copy_of_seed.txt" in names
    assert con.execute("select count(*) from raw.quarantined_documents "
                       "where source_file = 'copy_of_seed.txt'").fetchone()[0] == 0
    assert SEED_FILES[3] not in names


def test_a_line_that_becomes_common_renormalizes_the_older_files(tmp_path):
    """A long line in two files is prose; in a third file it is boilerplate (scrape.score_lines):
    the third file's arrival changes the first two, as a fresh build of the three would."""
    folder, db = tmp_path / "docs", tmp_path / "pipeline.duckdb"
    folder.mkdir()
    shared = ("Subscribe to our newsletter to receive the latest analysis of the conflict in your inbox every "
              "morning, with reports from our correspondents in the region and a weekly digest of the most "
              "important developments that you may have missed, free of charge and without advertising.")
    bodies = [
        "Fighting in Herat killed 12 civilians on Monday, officials said. The attack began at dawn near the "
        "old market, where hundreds of families had gathered to buy food before the holiday. Witnesses said "
        "the gunmen arrived in two trucks and fired at the crowd for several minutes before fleeing north. "
        "The provincial governor ordered an investigation and closed the main roads into the city overnight.",
        "A roadside bomb in Kandahar wounded 4 soldiers on Tuesday, the army said in a statement. The patrol "
        "was returning to its base along the highway when the device exploded under the second vehicle. "
        "Nobody has claimed the attack, which came a day after talks between local elders and the army "
        "broke down over the release of prisoners held since the spring offensive in the district.",
        "Talks between the parties resumed in Doha on Wednesday after a pause of three weeks, mediators said. "
        "Both delegations met for four hours and agreed to continue on Thursday with a smaller group of "
        "negotiators. The agenda includes a ceasefire along the southern front, the exchange of prisoners "
        "and the return of families displaced by the fighting in the border provinces since last year.",
    ]
    for i, body in enumerate(bodies[:2]):
        (folder / f"a{i}.txt").write_text(f"Report {i}\n\n{body}\n\n{shared}\n", encoding="utf-8")
    assert run_python_assets(db, folder).success
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from raw.normalized_documents where body_text like '%newsletter%'"
                       ).fetchone()[0] == 2
    con.close()
    (folder / "a2.txt").write_text(f"Report 2\n\n{bodies[2]}\n\n{shared}\n", encoding="utf-8")
    result = run_python_assets(db, folder)
    assert result.success
    assert metadata(result, "normalized_documents")["files_renormalized_for_line_statistics"] == 2
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from raw.normalized_documents where body_text like '%newsletter%'"
                       ).fetchone()[0] == 0
    con.close()
    assert_same_as_fresh(tmp_path, db, folder, "line_statistics")
    # and back: the file goes, the line is prose again in the two others
    (folder / "a2.txt").unlink()
    assert run_python_assets(db, folder).success
    assert_same_as_fresh(tmp_path, db, folder, "line_statistics_back")


def test_a_crash_in_the_middle_of_a_batch_is_finished_by_the_next_run(tmp_path, monkeypatch):
    """Small batches, and the figure extractor fails on the third one: the run fails with two
    batches written; the next run does the rest, and the result is a fresh build's."""
    folder, db = tmp_path / "docs", tmp_path / "pipeline.duckdb"
    write_collection(folder, 2)
    monkeypatch.setattr(stages, "STAGE_BATCH_BYTES", 4000)
    monkeypatch.setattr(documents_assets, "NORMALIZE_BATCH_BYTES", 20000)
    from dagster_project.assets import extraction

    real, calls = extraction.extract_statistics, {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("simulated crash in the third batch")
        return real(*args, **kwargs)

    monkeypatch.setattr(extraction, "extract_statistics", flaky)
    failed = run_python_assets(db, folder)
    assert not failed.success
    con = duckdb.connect(str(db), read_only=True)
    done = con.execute("select count(*) from raw.done_statistics").fetchone()[0]
    articles = con.execute("select count(*) from raw.normalized_documents").fetchone()[0]
    con.close()
    assert 0 < done < articles, "two batches were committed before the crash, not all of them"
    resumed = run_python_assets(db, folder)
    assert resumed.success
    assert metadata(resumed, "statistics")["articles_processed_this_run"] == articles - done
    monkeypatch.undo()
    assert_same_as_fresh(tmp_path, db, folder, "crash")


def test_full_refresh_redoes_everything_and_gives_a_fresh_build(grown, tmp_path):
    root, folder, db, *_ = grown
    copy = tmp_path / "pipeline.duckdb"
    shutil.copyfile(db, copy)
    result = run_python_assets(copy, folder, full_refresh=True)
    assert result.success
    articles = duckdb.connect(str(copy), read_only=True).execute(
        "select count(*) from raw.normalized_documents").fetchone()[0]
    assert metadata(result, "statistics")["articles_processed_this_run"] > 0
    assert metadata(result, "actor_mentions")["articles_processed_this_run"] == articles
    assert_same_as_fresh(tmp_path, copy, folder, "full_refresh")


def test_a_change_of_the_event_code_writes_every_event_again(tmp_path, monkeypatch):
    """The events' rows are computed by events/tolls.py: after a change of it, the next run writes
    every event and report again instead of the touched ones only."""
    folder, db = tmp_path / "docs", tmp_path / "pipeline.duckdb"
    write_collection(folder, 0)
    assert metadata(run_python_assets(db, folder), "events")["linking_written"] == "whole"
    assert metadata(run_python_assets(db, folder), "events")["linking_written"] == "changes"
    from dagster_project.assets import events as events_asset

    monkeypatch.setattr(events_asset, "_event_code_version", lambda: "edited")
    again = metadata(run_python_assets(db, folder), "events")
    assert again["linking_written"] == "whole" and again["events_rewritten"] == again["dagster/row_count"] > 0


def test_events_written_a_share_at_a_time_are_the_events_written_at_once(tmp_path, monkeypatch):
    """write_linked computes the events' rows a share of the events at a time (LINK_WRITE_ROWS
    reports), whole and for the touched events alike: the tables equal those written at once."""
    from dagster_project.assets import events as events_asset

    folder = tmp_path / "docs"
    write_collection(folder, 1)
    once, shares = tmp_path / "once.duckdb", tmp_path / "shares.duckdb"
    run_python_assets(once, folder)
    monkeypatch.setattr(events_asset, "LINK_WRITE_ROWS", 4)
    first = metadata(run_python_assets(shares, folder), "events")
    assert first["linking_written"] == "whole" and first["events_rewritten"] == first["dagster/row_count"] > 3 * 4
    assert not differences(once, shares, ("events", "event_reports", "linked_documents"))
    write_collection(folder, 3)
    assert metadata(run_python_assets(shares, folder), "events")["linking_written"] == "changes"
    monkeypatch.setattr(events_asset, "LINK_WRITE_ROWS", 500_000)
    run_python_assets(once, folder)
    assert not differences(once, shares, ("events", "event_reports", "linked_documents"))


def test_article_sizes_read_the_texts_only_when_the_files_could_fill_a_batch(tmp_path, monkeypatch):
    """The stages cut their articles into batches by text length; an incremental run whose files
    are together well within a batch reads no text for it (one batch), a larger one reads the
    lengths of its own articles, a full run every length."""
    db = PipelineDuckDB(path=str(tmp_path / "p.duckdb"))
    with db.connect() as con:
        con.execute("create schema raw")
        con.execute("create table raw.raw_documents as select 'f' || i as file_id, 1000 as size_bytes from range(4) t(i)")
        con.execute("create table raw.normalized_documents as select 'd' || i as document_id, 'f' || i as file_id, "
                    "repeat('x', 100 * (i + 1)) as body_text from range(4) t(i)")
    assert stages.article_sizes(db, ["d1", "d2"]) == {}
    assert stages.article_sizes(db, []) == {}
    monkeypatch.setattr(stages, "STAGE_BATCH_BYTES", 3000)
    assert stages.article_sizes(db, ["d1", "d2"]) == {"d1": 200, "d2": 300}
    assert stages.article_sizes(db, ["d0", "d1", "d2", "d3"], whole=True) == {"d0": 100, "d1": 200, "d2": 300, "d3": 400}


def test_rows_by_position_reads_a_batchs_range_and_falls_back_to_keys_when_rowids_moved(tmp_path):
    """A stage's batch is read as the range of rowids its keys had when the run planned it; the
    rows are those a query by key returns, sorted by key, also when the keys are far apart, when
    some are gone, and when rowids no longer match (rows deleted and written again)."""
    db = PipelineDuckDB(path=str(tmp_path / "p.duckdb"))
    with db.connect() as con:
        con.execute("create schema raw")
        con.execute("create table raw.t as select 'k' || lpad((i * 7919 % 5000)::varchar, 5, '0') as key, "
                    "i as n, repeat('x', i % 50) as body from range(5000) t(i)")

    def by_key(keys):
        return db.query("select * from raw.t where key in (select unnest(?)) order by key", [keys])

    def positions():
        frame = db.query("select rowid as position, key from raw.t")
        return dict(zip(frame["key"], frame["position"]))

    where = positions()
    in_order = sorted(where, key=where.__getitem__)
    batch = in_order[1000:1400]
    assert stages.rows_by_position(db, "t", "key", batch, where).equals(by_key(batch))
    far = in_order[:3] + in_order[-3:]  # a range of 5,000 rows for 6 keys: read by key
    assert stages.rows_by_position(db, "t", "key", far, where).equals(by_key(far))
    gone = batch[:10] + ["no such key"]
    assert stages.rows_by_position(db, "t", "key", gone, where).equals(by_key(gone))
    with db.connect() as con:  # the batch's rows move to the end of the table
        con.execute("create table raw.moved as select * from raw.t where key in (select unnest(?))", [batch[:200]])
        con.execute("delete from raw.t where key in (select key from raw.moved)")
        con.execute("insert into raw.t select * from raw.moved")
    assert stages.rows_by_position(db, "t", "key", batch, where).equals(by_key(batch))
    assert stages.rows_by_position(db, "t", "key", batch, positions()).equals(by_key(batch))
    assert stages.rows_by_position(db, "t", "key", [], where).height == 0


def test_batch_reader_reads_what_batch_rows_reads(tmp_path, monkeypatch):
    """A stage's other inputs read by rowid range (several batches to do) are the rows batch_rows
    reads by key, in its order: for a batch whose rows lie together, for one spread over the
    table, for articles with no rows, and after rows moved (deleted and written again)."""
    db = PipelineDuckDB(path=str(tmp_path / "p.duckdb"))
    with db.connect() as con:
        con.execute("create schema raw")
        # 300 articles with 0-9 rows each, written article after article
        con.execute("create table raw.facts as select 'd' || lpad((i // 10)::varchar, 4, '0') as document_id, "
                    "(i % 10) * 3 % 7 as char_start, i as n from range(3000) t(i) where i % 10 < (i // 10) % 10")
    docs = [f"d{i:04d}" for i in range(300)]
    order = "document_id, char_start"

    batch_rows = stages.batch_rows

    def check(reader, ids):
        got, want = reader.rows("facts", ids, order), batch_rows(db, "facts", ids, order)
        assert got.sort(["document_id", "char_start", "n"]).equals(want.sort(["document_id", "char_start", "n"]))
        assert got.select("document_id", "char_start").equals(want.select("document_id", "char_start"))

    reader = stages.BatchReader(db)
    reader.plan(1)  # one batch: by key
    check(reader, docs[:40])
    reader.plan(40)
    assert reader.by_range
    by_key = []
    monkeypatch.setattr(stages, "batch_rows", lambda *a: by_key.append(a[2]) or batch_rows(*a))
    for ids in (docs[100:140], docs[::37], docs[10:11], docs[:1] + ["gone"], []):
        check(reader, ids)
    assert by_key == [docs[::37], []]  # the batches that lie together are read by range
    with db.connect() as con:
        con.execute("create table raw.moved as select * from raw.facts where document_id in ('d0105', 'd0106')")
        con.execute("delete from raw.facts where document_id in ('d0105', 'd0106')")
        con.execute("insert into raw.moved select document_id, char_start, -n from raw.moved")
        con.execute("insert into raw.facts select * from raw.moved")
    check(reader, docs[100:140])  # the ranges read before: the rows are no longer all there
