"""The incremental runner shared by the per-article stages (mentions, figures, dates,
sentences, claims, event reports).

Each stage keeps a ledger, `raw.done_<stage>` (document_id, version): the articles it has
processed and with which version of its inputs (the gazetteer's hash for the stages that read
it: a changed gazetteer redoes them) and of the article (its text, title, date and language: an
article normalized again differently is redone). At each run it compares the ledger with the articles in
raw.normalized_documents (documents/incremental.py: plan_keys), removes the rows of articles
that are gone, and processes the new ones in batches of bounded size, each batch's rows and
ledger entries written in one transaction. Re-runs with nothing new do nothing; a crashed run
is finished by the next one; nothing is processed twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

import dagster as dg
import polars as pl

from dagster_project.documents.incremental import batches, plan_keys
from dagster_project.assets.table_metadata import table_metadata
from dagster_project.resources import PipelineDuckDB

# Articles are processed in batches of at most this much body text (and at most 20,000 rows):
# the extractors' memory is a few times their input, and polars' threads are busy at this size.
STAGE_BATCH_BYTES = 32 * 1024 * 1024
LEDGER_SCHEMA = {"document_id": pl.String, "version": pl.String}


@dataclass
class StageRun:
    processed: int  # articles processed this run
    removed: int  # articles whose rows were removed this run
    batches: int
    rows: dict[str, int]  # output table -> rows written this run


def frame_hash(frame: pl.DataFrame) -> str:
    """A version string for an input table (the gazetteer): its content, in a stable order."""
    text = frame.sort(frame.columns[0]).write_csv()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_document_stage(
    context: dg.AssetExecutionContext | None,
    duckdb: PipelineDuckDB,
    stage: str,
    outputs: dict[str, dict],
    process: Callable[[pl.DataFrame], dict[str, pl.DataFrame]],
    columns: tuple[str, ...] = ("document_id", "body_text"),
    where: str = "true",
    version: str = "",
    reader: BatchReader | None = None,
) -> StageRun:
    """Run `process` (articles -> {table: rows}) over the articles of normalized_documents
    (those matching `where`) that the stage has not done with `version`; remove the rows of
    the articles that are gone. `outputs` gives each output table's schema: every table exists
    after the run, even when empty, and every row has a document_id."""
    ledger = f"done_{stage}"
    # an article's version: the stage's own (its inputs' hash) and the article's content, so an
    # article normalized again with another text, date or title is redone under the same id
    wanted = duckdb.query(
        f"select rowid as position, document_id, ? || ':' || md5(concat_ws(chr(31), content_sha256, "
        f"coalesce(title, ''), coalesce(published_date::varchar, ''), coalesce(language, ''))) as version "
        f"from raw.normalized_documents where {where}", [version])
    expected = dict(zip(wanted["document_id"], wanted["version"]))
    positions = dict(zip(wanted["document_id"], wanted["position"]))
    done: set[str] = set()
    stale: list[str] = []
    if duckdb.has_table(ledger):
        for document_id, have in duckdb.query(f"select document_id, version from raw.{ledger}").iter_rows():
            if expected.get(document_id) == have:
                done.add(document_id)
            else:  # gone, or changed: its rows go, and a changed article is done again
                stale.append(document_id)
    plan = plan_keys(wanted["document_id"], done)
    # in the table's order, so that a batch's articles lie together (rows_by_position)
    add = sorted(plan.add, key=positions.__getitem__)
    remove = sorted(stale)
    duckdb.apply(
        deletes={**{table: ("document_id", remove) for table in outputs}, ledger: ("document_id", remove)},
        inserts={**{table: pl.DataFrame(schema=schema) for table, schema in outputs.items()},
                 ledger: pl.DataFrame(schema=LEDGER_SCHEMA)},
    )
    sizes = article_sizes(duckdb, add, whole=len(add) == wanted.height)
    written = {table: 0 for table in outputs}
    n_batches = done_now = 0
    select = ", ".join(dict.fromkeys(("document_id", *columns)))
    planned = list(batches(add, sizes, STAGE_BATCH_BYTES))
    if reader is not None:
        reader.plan(len(planned))
    for batch in planned:
        docs = rows_by_position(duckdb, "normalized_documents", "document_id", batch, positions, select)
        if "document_id" not in columns:
            docs = docs.drop("document_id")
        out = process(docs)
        duckdb.apply(
            deletes={**{table: ("document_id", batch) for table in outputs}, ledger: ("document_id", batch)},
            inserts={**{table: out[table].cast(outputs[table]) for table in outputs},
                     ledger: pl.DataFrame({"document_id": batch, "version": [expected[d] for d in batch]},
                                          schema=LEDGER_SCHEMA)},
        )
        for table in outputs:
            written[table] += out[table].height
        n_batches += 1
        done_now += len(batch)
        if context is not None and len(add) > len(batch):
            context.log.info(f"{stage}: {done_now} of {len(add)} articles")
    if reader is not None:
        reader.release()
    return StageRun(processed=len(add), removed=len(remove), batches=n_batches, rows=written)


def rows_by_position(duckdb: PipelineDuckDB, table: str, key: str, keys: list[str], positions: dict[str, int],
                     select: str = "*") -> pl.DataFrame:
    """The rows of raw.<table> whose `key` (unique in the table, and in `select`) is one of
    `keys`, sorted by it. `positions` gives each key's rowid, read earlier in the run.

    A batch of keys taken in their table's order lies in one short range of rowids: that range
    is read and filtered here. A semi-join on the list of keys (`key in (select unnest(?))`)
    read the whole column of texts at every batch: 0.5 s against 0.04 s for a 32 MB batch of
    articles at 100,000 documents, at each of some 40 batches of each of six stages. DuckDB
    may move rowids when it compacts a table: unless exactly the keys come back, the rows are
    read by key."""
    wanted = list(dict.fromkeys(keys))
    spots = [positions.get(k) for k in wanted]
    if wanted and None not in spots:
        low, high = min(spots), max(spots)
        if high - low < 2 * len(wanted) + 1024:  # else the range holds mostly other rows
            frame = duckdb.query(f"select {select} from raw.{table} where rowid between ? and ?", [low, high])
            frame = frame.filter(pl.col(key).is_in(wanted))
            if frame.height == len(wanted) and frame[key].n_unique() == len(wanted):
                return frame.sort(key)
    return duckdb.query(f"select {select} from raw.{table} where {key} in (select unnest(?)) order by {key}",
                        [wanted])


class BatchReader:
    """A stage's other inputs (raw tables of rows keyed by document_id: sentences, mentions...),
    batch by batch. When the stage has several batches to do (a full build: some 40 at 100,000
    documents), each table's rowid range per article is read once (min, max, rows), and a batch's
    rows are read as the few ranges that hold them, as rows_by_position does: the tables were
    written batch by batch in the same order, so a batch's rows lie together, but for articles
    written again since (a file normalized again in an incremental run). By key, the five inputs
    of the event reports took 158 s over the 39 batches of 100,000 documents (a scan of each
    table's key column at every batch), by range 28 s. Unless exactly the expected rows come
    back, they are read by key (batch_rows)."""

    def __init__(self, duckdb: PipelineDuckDB):
        self.duckdb = duckdb
        self.by_range = False
        # table -> (document_id, low, high, n): a frame, 256 MB less than dicts of tuples for the
        # five inputs of the event reports at 100,000 documents
        self._ranges: dict[str, pl.DataFrame] = {}

    def plan(self, n_batches: int) -> None:
        """Reading the ranges costs about a by-key read of each table: worth it from 3 batches."""
        self.by_range = n_batches >= 3

    def release(self) -> None:
        """The stage's batches are done: the ranges go (linking runs after them)."""
        self.by_range = False
        self._ranges.clear()

    def rows(self, table: str, document_ids: list[str], order: str = "document_id") -> pl.DataFrame:
        if self.by_range and document_ids:
            ranges = self._ranges.get(table)
            if ranges is None:
                ranges = self._ranges[table] = self.duckdb.query(
                    f"select document_id, min(rowid) as low, max(rowid) as high, count(*) as n "
                    f"from raw.{table} group by document_id")
            spans = ranges.filter(pl.col("document_id").is_in(document_ids)).sort("low")
            if spans.height == 0:
                return self.duckdb.query(f"select * from raw.{table} limit 0")
            # the batch's rows as a few ranges: the articles rewritten since the table was
            # written whole (an incremental run, a file normalized again) lie elsewhere
            segments: list[list[int]] = []
            for low, high in zip(spans["low"].to_list(), spans["high"].to_list()):
                if segments and low - segments[-1][1] <= 1024:
                    segments[-1][1] = max(segments[-1][1], high)
                else:
                    segments.append([low, high])
            expected = int(spans["n"].sum())
            covered = sum(high - low + 1 for low, high in segments)
            if len(segments) <= 64 and covered < 2 * expected + 1024 * len(segments):
                where = " or ".join("rowid between ? and ?" for _ in segments)
                frame = self.duckdb.query(f"select * from raw.{table} where {where}",
                                          [bound for segment in segments for bound in segment])
                frame = frame.filter(pl.col("document_id").is_in(document_ids))
                if frame.height == expected:
                    return frame.sort([c.strip() for c in order.split(",")], nulls_last=True, maintain_order=True)
        return batch_rows(self.duckdb, table, document_ids, order)


def batch_rows(duckdb: PipelineDuckDB, table: str, document_ids: list[str], order: str = "document_id"
               ) -> pl.DataFrame:
    """The rows of raw.<table> for these articles (a stage's other inputs, batch by batch)."""
    return duckdb.query(f"select * from raw.{table} where document_id in (select unnest(?)) order by {order}",
                        [document_ids])


def article_sizes(duckdb: PipelineDuckDB, document_ids: list[str], whole: bool = False) -> dict[str, int]:
    """document_id -> characters of body_text, for cutting `document_ids` into batches. Reading
    the lengths reads the texts (0.7 s for the 43,000 articles of 20,000 documents, at each of
    the six stages); so when the articles' files together are well within one batch (their
    bytes bound the texts that were read from them), no length is read and they make one batch."""
    if not document_ids:
        return {}
    if not whole:
        total = duckdb.query(
            "select coalesce(sum(f.size_bytes), 0) as n from raw.normalized_documents as d "
            "join raw.raw_documents as f using (file_id) where d.document_id in (select unnest(?))",
            [document_ids])["n"][0]
        if 2 * int(total) <= STAGE_BATCH_BYTES:
            return {}
    lengths = duckdb.query(
        "select document_id, strlen(body_text) as n from raw.normalized_documents"
        + ("" if whole else " where document_id in (select unnest(?))"), None if whole else [document_ids])
    return dict(zip(lengths["document_id"], lengths["n"]))


def table_count(duckdb: PipelineDuckDB, table: str) -> int:
    return int(duckdb.query(f"select count(*) as n from raw.{table}")["n"][0]) if duckdb.has_table(table) else 0


def stage_metadata(run: StageRun, duckdb: PipelineDuckDB, table: str) -> dict:
    return {
        **table_metadata(duckdb, table),
        "dagster/row_count": table_count(duckdb, table),
        "articles_processed_this_run": run.processed,
        "articles_removed_this_run": run.removed,
        "rows_written_this_run": run.rows.get(table, 0),
        "batches": run.batches,
    }
