"""Incremental loads: what a run must read, and what each later stage must (re)do.

A collection grows every day; a run processes only what is new or changed.

**Files.** The pipeline database keeps an index of every entry the last runs found
(`raw.file_index`: path, kind, size, modification time, what became of it). A run walks the
folder (a `stat` per file, no reading) and compares:
- a path not in the index is *new*; a path whose kind, size or modification time differ is
  *changed*: both are read, decoded and deduplicated against the documents already kept;
- a path in the index that is no longer in the folder is *deleted*: its rows are removed from
  `raw_documents` / `quarantined_documents`, and every later stage removes what it made of it
  (the marts follow: a deleted file's articles, mentions, figures, claims and event reports
  disappear from the next snapshot; the publish guard refuses to lose more than half of them);
- a duplicate whose original is gone (deleted or changed) is read again: it may now be the
  original;
- everything else is *unchanged* and never opened.

**Stages.** Every later stage keys its output by what it read (a file's `file_id`, the hash of
its normalized text; an article's `document_id`, derived from it) and at each run compares its
input with what it has already done (`plan_keys`): keys to add (new, or changed: a changed
file has a new id) and keys to remove (deleted, or the old id of a changed file). A run that
crashed half-way is finished by the next one, and a re-run with no new files does nothing.

**Batches.** New work is cut into batches of bounded size (`batches`), each read from the
database, processed and written in one transaction, so that memory does not grow with the
collection and a crash loses at most the batch in flight.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

import polars as pl

from dagster_project.documents.ingest import Entry

T = TypeVar("T")

INDEX_SCHEMA = {
    "source_file": pl.String,
    "kind": pl.String,
    "size_bytes": pl.Int64,
    "mtime_ns": pl.Int64,
    "outcome": pl.String,  # 'raw' or 'quarantined'
    "file_id": pl.String,  # raw: the document's id; quarantined: null
    "content_sha256": pl.String,
    "reason": pl.String,  # quarantined: the reason
    "duplicate_of": pl.String,  # a duplicate: the source_file of the original
    "max_bytes": pl.Int64,  # the size limit the file was judged with
}


@dataclass
class FilePlan:
    read: list[Entry] = field(default_factory=list)  # to read: new, changed, re-queued duplicates
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)  # duplicates whose original is gone
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    originals: dict[str, tuple[str, str]] = field(default_factory=dict)  # kept file_id -> (source_file, sha256)

    @property
    def replaced(self) -> list[str]:
        """Paths whose old rows go: everything read again, and the deleted ones."""
        return sorted({e.name for e in self.read} | set(self.deleted))


def plan_files(entries: Sequence[Entry], index: pl.DataFrame | None, max_bytes: int, full: bool = False) -> FilePlan:
    """Compare a walk with the file index. `full` reads everything again."""
    plan = FilePlan()
    known: dict[str, dict] = {}
    if index is not None and index.height and not full:
        known = {r["source_file"]: r for r in index.iter_rows(named=True)}
    present = set()
    for entry in entries:
        present.add(entry.name)
        old = known.get(entry.name)
        if old is None:
            plan.new.append(entry.name)
            plan.read.append(entry)
        elif (old["kind"] != entry.kind or old["size_bytes"] != entry.size or old["mtime_ns"] != entry.mtime_ns
              or old["max_bytes"] != max_bytes):
            plan.changed.append(entry.name)
            plan.read.append(entry)
        else:
            plan.unchanged.append(entry.name)
    plan.deleted = sorted(set(known) - present)
    kept = {name for name in plan.unchanged if known[name]["outcome"] == "raw"}
    plan.originals = {known[name]["file_id"]: (name, known[name]["content_sha256"]) for name in sorted(kept)}
    # a duplicate stays one only while its original is kept
    by_name = {e.name: e for e in entries}
    for name in list(plan.unchanged):
        row = known[name]
        if row["reason"] == "duplicate" and row["duplicate_of"] not in kept:
            plan.unchanged.remove(name)
            plan.requeued.append(name)
            plan.read.append(by_name[name])
    plan.read.sort(key=lambda e: e.name)  # the first path of a set of duplicates is the original
    return plan


def index_rows(entries: Sequence[Entry], raw: pl.DataFrame, quarantined: pl.DataFrame,
               duplicate_of: dict[str, str], max_bytes: int) -> pl.DataFrame:
    """The file index rows of the entries just ingested (one per entry)."""
    raw_by = {r["source_file"]: r for r in raw.select("source_file", "file_id", "content_sha256").iter_rows(named=True)}
    bad_by = {r["source_file"]: r for r in quarantined.select("source_file", "reason", "content_sha256")
              .iter_rows(named=True)}
    rows = []
    for e in entries:
        r, b = raw_by.get(e.name), bad_by.get(e.name)
        rows.append({
            "source_file": e.name, "kind": e.kind, "size_bytes": e.size, "mtime_ns": e.mtime_ns,
            "outcome": "raw" if r else "quarantined", "file_id": r["file_id"] if r else None,
            "content_sha256": (r or b or {}).get("content_sha256"), "reason": b["reason"] if b else None,
            "duplicate_of": duplicate_of.get(e.name), "max_bytes": max_bytes,
        })
    return pl.DataFrame(rows, schema=INDEX_SCHEMA)


def _runs(items: Iterable[T], size_of: Callable[[T], int], max_bytes: int, max_rows: int | None = None
          ) -> Iterator[list[T]]:
    """Consecutive runs of `items` of at most `max_bytes` (by `size_of`) and `max_rows` items;
    an item larger than `max_bytes` is a run of its own."""
    batch: list[T] = []
    size = 0
    for item in items:
        n = size_of(item)
        if batch and (size + n > max_bytes or (max_rows is not None and len(batch) >= max_rows)):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += n
    if batch:
        yield batch


def entry_batches(entries: Sequence[Entry], max_bytes: int) -> Iterator[list[Entry]]:
    """Consecutive runs of entries holding at most `max_bytes` of files (at least one entry)."""
    return _runs(entries, lambda e: e.size or 0, max_bytes)


@dataclass
class KeyPlan:
    add: list[str]
    remove: list[str]


def plan_keys(wanted: Iterable[str], done: Iterable[str]) -> KeyPlan:
    """What a stage must do: the keys of its input it has not processed, and the keys it has
    processed that are no longer in its input."""
    wanted, done = set(wanted), set(done)
    return KeyPlan(sorted(wanted - done), sorted(done - wanted))


def batches(keys: Sequence[str], sizes: dict[str, int] | None, max_bytes: int, max_rows: int = 20_000
            ) -> Iterator[list[str]]:
    """Consecutive runs of `keys` of at most `max_bytes` (by `sizes`) and `max_rows` keys."""
    sizes = sizes or {}
    return _runs(keys, lambda k: sizes.get(k, 0), max_bytes, max_rows)
