"""dbt models as Dagster assets, and the atomic publication of the analysts' warehouse."""


import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import dagster as dg
import duckdb as duck
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from dagster_project.paths import (duckdb_cli, duckdb_memory_limit, duckdb_memory_limit_bytes, pipeline_db_path,
                                   previous_snapshot_path, warehouse_path)
from dagster_project.project import dbt_project, dbt_vars
from dagster_project.resources import working_config

# DuckDB 1.x clients (Evidence, duckdb-cli, most BI drivers) cannot open files written
# in DuckDB 2.0's format; pin the published file to a format they all read.
PUBLISHED_STORAGE_VERSION = "v1.4.0"
PUBLISHED_SCHEMA = "marts"
# Publishing fails when the new snapshot has lost more than this share of the previous one's
# documents (an empty folder, a wrong mount), unless the run config says it is intended.
MAX_DOCUMENT_LOSS = 0.5
# dbt run folders kept under dbt/target
_KEEP_DBT_RUNS = 3


class WarehouseTranslator(DagsterDbtTranslator):
    """Models get keys by layer (`marts/dim_document`), so a mart can share a name with the
    Python asset it reports on; sources keep the key of the Python asset that writes them
    (set in `_sources.yml` meta), which joins both into one lineage graph."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] not in ("model", "seed", "snapshot"):
            return spec
        layer = props["fqn"][1] if len(props["fqn"]) > 2 else "models"
        return spec.replace_attributes(
            key=dg.AssetKey([layer, props["name"]]),
            group_name=f"dbt_{layer}",
        ).merge_attributes(kinds={"duckdb"})

    def get_asset_check_spec(self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str,
                             project) -> dg.AssetCheckSpec | None:
        """A test on the raw sources checks a Python asset but runs in the dbt step. Blocking, it
        would make every Python asset downstream of that one wait for it, and Dagster would cut
        the dbt step into one `dbt build` per layer of Python assets (five invocations instead
        of one). Not blocking, it runs in the single `dbt build`, where a failure still stops
        the dbt models that read the source and fails the step."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or not spec.blocking:
            return spec
        parents = manifest["nodes"][unique_id]["depends_on"]["nodes"]
        if parents and all(parent.startswith("source.") for parent in parents):
            return spec._replace(blocking=False)
        return spec


# Every dbt test is a Dagster asset check: those on models on the model, those on the raw sources
# on the Python asset that writes the source (enable_source_tests_as_checks), and the singular
# tests that read several models on the one named in their `meta: dagster: ref` (dbt/tests/).
TRANSLATOR = WarehouseTranslator(settings=DagsterDbtTranslatorSettings(
    enable_asset_checks=True, enable_source_tests_as_checks=True))


def attach_source_tests(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest with every generic test on a source attached to that source.

    dbt sets `attached_node` for a test on a model but leaves it empty for a test on a source;
    dagster-dbt then infers the node from the test's dependencies, which works for a test that
    depends on one source only. A `relationships` test between two sources depends on both, so
    it would fall back to an observation (and `meta: dagster: ref` cannot name a source). Its
    `model` argument says which source it tests (`source('raw', 'claims')`): that source
    becomes its attached node, and the test a check of the asset that writes that table, with
    the other source as an additional dependency."""
    import re

    sources = {(node["source_name"], node["name"]): uid for uid, node in manifest.get("sources", {}).items()}
    nodes = dict(manifest["nodes"])
    for uid, node in nodes.items():
        if node.get("resource_type") != "test" or node.get("attached_node") or not node.get("test_metadata"):
            continue
        model = str(node["test_metadata"].get("kwargs", {}).get("model", ""))
        found = re.search(r"source\(\s*'([^']+)'\s*,\s*'([^']+)'\s*\)", model)
        if found and found.groups() in sources:
            nodes[uid] = {**node, "attached_node": sources[found.groups()]}
    return {**manifest, "nodes": nodes}


def _manifest() -> dict[str, Any]:
    import json

    return attach_source_tests(json.loads(dbt_project().manifest_path.read_text()))


@dbt_assets(manifest=_manifest(), project=dbt_project(), dagster_dbt_translator=TRANSLATOR)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """`dbt build`: staging views, intermediate models and marts, with their tests as asset checks.

    Each model's materialization carries its column schema (with the dbt descriptions, which
    persist_docs writes as comments), a preview and, for tables, its row count. dbt holds the
    pipeline database's single writer lock while it runs, so these are read once it has finished:
    the step's events are held until then (dbt's own progress goes to the log as it runs)."""
    invocation = dbt.cli(dbt_build_args(), context=context)
    held, error = [], None
    try:
        for event in invocation.stream():
            held.append(event)
    except Exception as exc:  # a failed model or test: what did succeed is still recorded
        error = exc
    yield from with_relation_metadata(held, invocation.manifest, context)
    prune_dbt_runs(invocation.target_path)
    if error is not None:
        raise error


def dbt_build_args() -> list[str]:
    """`dbt build` with what the incremental marts need (dbt/macros/incremental_documents.sql):
    the project's vars (a checksum of its macros: dbt's graph has none of their code, and an
    edited macro must redo every article; the manifest was parsed with the same vars, so the
    partial parse is reused), and `--full-refresh` when the run's ingest was a full refresh
    (`build --full`), so that the marts are rebuilt whole as the raw tables were."""
    import json

    args = ["build", "--vars", json.dumps(dbt_vars())]
    if _last_ingest_was_full_refresh():
        args.append("--full-refresh")
    return args


def _last_ingest_was_full_refresh() -> bool:
    try:
        con = duck.connect(str(pipeline_db_path()), read_only=True, config=working_config())
    except duck.Error:
        return False
    try:
        row = con.execute("select full_refresh from raw.ingest_runs order by ingested_at desc limit 1").fetchone()
    except duck.Error:  # no ingest history yet
        return False
    finally:
        con.close()
    return bool(row and row[0])


def with_relation_metadata(events: list, manifest: Mapping[str, Any], context=None) -> list:
    """`events` with each model's Output given relation_metadata of the relation dbt built."""
    from dagster_project.assets.table_metadata import relation_metadata

    outputs = [e for e in events if isinstance(e, dg.Output) and "unique_id" in (e.metadata or {})]
    if not outputs:
        return events
    extra: dict[str, dict] = {}
    try:
        con = duck.connect(str(pipeline_db_path()), read_only=True, config=working_config())
    except duck.Error as exc:  # never fail a build for its metadata
        if context is not None:
            context.log.warning(f"no row counts or column schemas for the dbt models: {exc}")
        return events
    try:
        sample = preview_articles(con)
        for event in outputs:
            uid = event.metadata["unique_id"].value
            node = manifest.get("nodes", {}).get(uid)
            if not node:
                continue
            materialized = node.get("config", {}).get("materialized")
            per_article = bool((node.get("config", {}).get("meta") or {}).get("rows_per_document"))
            try:
                extra[uid] = relation_metadata(con, node["schema"], node.get("alias") or node["name"],
                                               count=materialized in ("table", "incremental"),
                                               preview_where=sample if per_article and materialized == "view"
                                               else None)
            except duck.Error as exc:
                if context is not None:
                    context.log.warning(f"no metadata for {uid}: {exc}")
    finally:
        con.close()
    return [e.with_metadata({**e.metadata, **extra[e.metadata["unique_id"].value]})
            if isinstance(e, dg.Output) and "unique_id" in (e.metadata or {})
            and e.metadata["unique_id"].value in extra else e
            for e in events]


# articles the previews of the per-article views are taken from
_PREVIEW_ARTICLES = 50


def preview_articles(con: "duck.DuckDBPyConnection") -> str | None:
    """A condition on document_id for the previews of the per-article views (meta
    rows_per_document): some of the articles this run rebuilt (dbt_state.changed_documents),
    else some articles. Their aggregates and windows then read those articles only (the views
    let the filter through; dbt/models): at 100,000 documents `limit 5` on the whole views took
    9.7 s after every dbt build."""
    for query in ("select document_id from dbt_state.changed_documents order by 1 limit ?",
                  "select document_id from raw.normalized_documents order by 1 limit ?"):
        try:
            ids = [r[0] for r in con.execute(query, [_PREVIEW_ARTICLES]).fetchall()]
        except duck.Error:  # no such table yet
            continue
        if ids:
            return "document_id in (" + ", ".join(_literal(str(i)) for i in ids) + ")"
    return None


def prune_dbt_runs(current: os.PathLike, keep: int = _KEEP_DBT_RUNS) -> None:
    """Each dbt invocation writes its artifacts to its own folder under dbt/target (5-9 MB each):
    keep the `keep` newest, so the folder does not grow by every run."""
    import shutil
    from pathlib import Path

    current = Path(current)
    runs = sorted((p for p in current.parent.glob("warehouse_models-*") if p.is_dir()),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in runs[keep:]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)


MART_KEYS = [
    dg.AssetKey(["marts", name]) for name in (
        "dim_document", "dim_actor", "dim_date", "fct_actor_mention", "fct_statistic", "fct_date_mention",
        "bridge_document_actor", "quarantined_documents", "dim_sentence", "fct_event", "fct_event_report",
        "fct_claim", "bridge_event_document", "bridge_event_actor")
]




class PublishConfig(dg.Config):
    allow_document_loss: bool = False
    """Publish even when the new snapshot has lost more than MAX_DOCUMENT_LOSS of the documents
    of the one it replaces (set it when a smaller collection is intended)."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(target: os.PathLike) -> list[str]:
    """`<target>.tmp-<pid>-<ns>` files left by a publish that crashed: those of processes that
    are no longer running are removed. Returns their names."""
    target = os.fspath(target)
    folder, base = os.path.dirname(target) or ".", os.path.basename(target)
    removed = []
    for name in os.listdir(folder) if os.path.isdir(folder) else []:
        if not name.startswith(base + ".tmp-"):
            continue
        try:
            pid = int(name[len(base) + 5:].split("-")[0])
        except ValueError:
            continue
        if pid != os.getpid() and not _alive(pid):
            try:
                os.remove(os.path.join(folder, name))
                removed.append(name)
            except OSError:
                pass
    return removed


def previous_document_count(target: os.PathLike) -> int | None:
    """Documents in the snapshot about to be replaced (None when there is none or it cannot be
    read: then there is nothing to compare with)."""
    if not os.path.exists(target):
        return None
    try:
        con = duck.connect(os.fspath(target), read_only=True, config=working_config())
    except duck.Error:
        return None
    try:
        return con.execute(f"select count(*) from {PUBLISHED_SCHEMA}.dim_document").fetchone()[0]
    except duck.Error:
        return None
    finally:
        con.close()


# ---------------------------------------------------------------------------
# What the published file declares: keys derived from the dbt tests
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class TableKeys:
    """The constraints a published table is created with."""

    primary_key: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    not_null: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()


_KEY_TESTS = ("unique", "not_null", "relationships", "unique_combination_of_columns")


def declared_keys(manifest: Mapping[str, Any], schema: str = PUBLISHED_SCHEMA) -> dict[str, TableKeys]:
    """Primary, unique and foreign keys and NOT NULL columns of the models of `schema`, read from
    their dbt tests (only tests that always hold: severity error, no `where`):

    - primary key: the first column (YAML order) with both `unique` and `not_null`; a model without
      one gets its `unique_combination_of_columns` whose columns are all `not_null`;
    - FOREIGN KEY: every `relationships` test to another model of `schema` whose `field` is that
      model's primary key or another of its `unique` + `not_null` columns (DuckDB references only a
      primary key or a UNIQUE);
    - UNIQUE: those other columns that a foreign key references (each index costs a 256 KiB block
      of the file and time at publish, so unreferenced ones are not declared);
    - NOT NULL: every `not_null` column.
    Keyed by table name (the model's alias)."""
    models = {uid: node for uid, node in manifest.get("nodes", {}).items()
              if node.get("resource_type") == "model" and node.get("schema") == schema}
    name = {uid: node.get("alias") or node["name"] for uid, node in models.items()}
    unique: dict[str, set[str]] = {t: set() for t in name.values()}
    not_null: dict[str, set[str]] = {t: set() for t in name.values()}
    combos: dict[str, list[tuple[str, ...]]] = {t: [] for t in name.values()}
    refs: dict[str, list[tuple[str, str, str]]] = {t: [] for t in name.values()}
    for test in manifest.get("nodes", {}).values():
        meta = test.get("test_metadata") or {}
        attached = test.get("attached_node")
        if test.get("resource_type") != "test" or meta.get("name") not in _KEY_TESTS or attached not in models:
            continue
        config = test.get("config") or {}
        if str(config.get("severity") or "error").lower() != "error" or config.get("where"):
            continue
        table, kwargs = name[attached], meta.get("kwargs") or {}
        column = test.get("column_name") or kwargs.get("column_name")
        if meta["name"] == "unique":
            unique[table].add(column)
        elif meta["name"] == "not_null":
            not_null[table].add(column)
        elif meta["name"] == "unique_combination_of_columns":
            combos[table].append(tuple(kwargs["combination_of_columns"]))
        else:
            targets = [uid for uid in test.get("depends_on", {}).get("nodes", []) if uid != attached and uid in models]
            if len(targets) == 1 and kwargs.get("field"):
                refs[table].append((column, name[targets[0]], kwargs["field"]))

    def in_yaml_order(table: str, columns) -> list[str]:
        order = {c: i for i, c in enumerate(next(n for u, n in models.items() if name[u] == table).get("columns", {}))}
        return sorted(columns, key=lambda c: (order.get(c, len(order)), c))

    keys: dict[str, TableKeys] = {}
    for table in sorted(name.values()):
        singles = [(c,) for c in in_yaml_order(table, unique[table])]
        candidates = ([k for k in singles if k[0] in not_null[table]]
                      + [k for k in combos[table] if set(k) <= not_null[table]])
        keys[table] = TableKeys(primary_key=candidates[0] if candidates else (),
                                not_null=tuple(in_yaml_order(table, not_null[table])))
    referenced: dict[str, set[tuple[str, ...]]] = {t: set() for t in keys}
    for table in sorted(refs):
        fks = []
        for column, target, field in sorted(set(refs[table])):
            if target == table or not ((field,) == keys[target].primary_key
                                       or (field in unique[target] and field in not_null[target])):
                continue
            fks.append(ForeignKey((column,), target, (field,)))
            if (field,) != keys[target].primary_key:
                referenced[target].add((field,))
        keys[table] = replace(keys[table], foreign_keys=tuple(fks))
    return {t: replace(k, unique=tuple(sorted(referenced[t]))) for t, k in keys.items()}


def applicable_keys(keys: Mapping[str, TableKeys], columns: Mapping[str, Sequence[str]]) -> dict[str, TableKeys]:
    """`keys` cut down to what the tables about to be published (`columns`: table -> its columns)
    can hold: a key naming a missing column, or a foreign key to a missing table, is left out."""
    out = {}
    for table, cols in columns.items():
        k, have = keys.get(table, TableKeys()), set(cols)
        fits = lambda key: bool(key) and set(key) <= have  # noqa: E731
        out[table] = TableKeys(
            primary_key=k.primary_key if fits(k.primary_key) else (),
            unique=tuple(u for u in k.unique if fits(u)),
            not_null=tuple(c for c in k.not_null if c in have),
            foreign_keys=tuple(fk for fk in k.foreign_keys if fits(fk.columns) and fk.table in columns
                               and set(fk.ref_columns) <= set(columns[fk.table])),
        )
    # a foreign key needs the referenced key to exist in the published table too
    for table, k in out.items():
        kept = tuple(fk for fk in k.foreign_keys
                     if fk.ref_columns == out[fk.table].primary_key or fk.ref_columns in out[fk.table].unique)
        out[table] = replace(k, foreign_keys=kept)
    return out


# DuckDB enforces a primary, unique or foreign key with an index (ART) that it must hold in memory
# while it builds it ("ART indexes must currently be able to fit in memory during index creation",
# DuckDB's documentation on indexes), and it keeps every index of the file loaded while the file is
# written: at 100,000 documents the keys of all marts (21.9 million mentions with five indexes,
# 8.7 million sentences with two) did not fit in 4 GB. DuckDB 1.5's ART, measured with
# duckdb_memory() on 2 million rows: a primary or unique key on a 32-character id takes about 70
# bytes a row, a foreign key's index (many rows per value) about 16 (docs/benchmark.md).
UNIQUE_INDEX_BYTES_PER_ROW = 72
FOREIGN_INDEX_BYTES_PER_ROW = 16
# the share of DUCKDB_MEMORY_LIMIT the published file's key indexes may take (the rest is the
# copy's own working memory)
KEY_MEMORY_SHARE = 0.5


def index_count(keys: TableKeys) -> int:
    return (1 if keys.primary_key else 0) + len(keys.unique) + len(keys.foreign_keys)


def index_bytes_per_row(keys: TableKeys) -> int:
    return (UNIQUE_INDEX_BYTES_PER_ROW * ((1 if keys.primary_key else 0) + len(keys.unique))
            + FOREIGN_INDEX_BYTES_PER_ROW * len(keys.foreign_keys))


def keys_within_memory(keys: Mapping[str, TableKeys], rows: Mapping[str, int], budget_bytes: int
                       ) -> tuple[dict[str, TableKeys], list[str]]:
    """`keys` with the key constraints of the largest tables left out, so that the indexes DuckDB
    builds for the rest fit in `budget_bytes` (index_bytes_per_row for each row): the
    tables are taken from the cheapest to index up, and a table whose indexes no longer fit is
    published with its NOT NULL constraints only (its keys are still tested by dbt: unique,
    relationships); a foreign key to it goes too (applicable_keys). Returns the keys and the
    tables left without keys. A small warehouse keeps every key."""
    out, dropped, used = dict(keys), [], 0
    cost = {t: rows.get(t, 0) * index_bytes_per_row(k) for t, k in keys.items()}
    for table in sorted(keys, key=lambda t: (cost[t], t)):
        if used + cost[table] <= budget_bytes:
            used += cost[table]
        elif index_count(keys[table]):
            out[table] = replace(keys[table], primary_key=(), unique=(), foreign_keys=())
            dropped.append(table)
    return out, sorted(dropped)


def creation_order(keys: Mapping[str, TableKeys]) -> list[str]:
    """Tables in an order where every referenced table comes before the tables referencing it
    (DuckDB checks a foreign key when the table is created and when rows are inserted);
    alphabetical among tables that could go in any order."""
    from graphlib import TopologicalSorter

    sorter = TopologicalSorter({t: {fk.table for fk in k.foreign_keys if fk.table != t} for t, k in keys.items()})
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return order


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_table_sql(qualified: str, schema: str, columns: Sequence[tuple[str, str, bool]], keys: TableKeys) -> str:
    """CREATE TABLE `qualified` with `columns` ((name, DuckDB type, nullable)) and `keys`; foreign
    keys reference tables of `schema` in the connection's current database."""
    not_null = set(keys.not_null) | set(keys.primary_key)
    parts = [f"{_ident(c)} {dtype}{'' if nullable and c not in not_null else ' NOT NULL'}"
             for c, dtype, nullable in columns]
    cols = lambda key: ", ".join(_ident(c) for c in key)  # noqa: E731
    if keys.primary_key:
        parts.append(f"PRIMARY KEY ({cols(keys.primary_key)})")
    parts += [f"UNIQUE ({cols(u)})" for u in keys.unique]
    parts += [f"FOREIGN KEY ({cols(fk.columns)}) REFERENCES {schema}.{_ident(fk.table)} ({cols(fk.ref_columns)})"
              for fk in keys.foreign_keys]
    return f"create table {qualified} (\n    " + ",\n    ".join(parts) + "\n)"


# ---------------------------------------------------------------------------
# Publishing
# ---------------------------------------------------------------------------


def _discard(tmp: str) -> None:
    if os.path.exists(tmp):
        os.remove(tmp)


def _swap_in(tmp: str, target: str, keep_previous: str | None = None) -> bool:
    """Move the finished `tmp` over `target`, first removing a write-ahead log a read-write client
    left beside the target (DuckDB would replay it into the new file). With `keep_previous`, the
    file that was at `target` stays there as a second name of the same file (a hard link, made
    before the swap, so readers of either name never see a change): True when it was kept."""
    if os.path.exists(target + ".wal"):
        os.remove(target + ".wal")
    kept = False
    if keep_previous is not None and os.path.exists(target):
        try:
            if os.path.lexists(keep_previous):
                os.remove(keep_previous)  # a reader that holds it keeps reading its own copy
            os.link(target, keep_previous)
            kept = True
        except OSError:  # no hard links on this file system: nothing kept, the next publish copies
            kept = False
    os.replace(tmp, target)
    return kept


def publish_snapshot(source: os.PathLike, target: os.PathLike, schema: str = PUBLISHED_SCHEMA,
                     keys: Mapping[str, TableKeys] | None = None,
                     verify: Callable[[str, dict[str, int]], None] | None = None,
                     keep_previous: os.PathLike | None = None) -> dict[str, int]:
    """Copy `schema` from the pipeline database into a new file and atomically move it
    over `target`. Readers that hold the old file keep reading it; new readers get the
    new one; nobody ever sees a half-written file or blocks the pipeline.

    The new file describes itself: every table and column keeps its comment (dbt persist_docs),
    tables are created with `keys` (`declared_keys`, cut to the columns present) in an order where
    referenced tables come first, and schema `main` gets a view per table with the same comments,
    for clients that only list the default schema. `verify(path, counts)`, when given, is called
    on the finished temporary file and may raise: the target is then left as it was.

    A write-ahead log left beside the target by a client that opened it read-write is removed
    before the swap: DuckDB would replay it into the new file ("WAL does not match database file").

    With `keep_previous` (previous_snapshot_path), the snapshot it replaces stays under that name
    for the next publish_changes to start from."""
    target = os.fspath(target)
    remove_stale_temporaries(target)
    tmp = f"{target}.tmp-{os.getpid()}-{time.time_ns()}"
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    con = duck.connect(config=working_config())
    counts: dict[str, int] = {}
    try:
        src_path, dst_path = (str(p).replace("'", "''") for p in (os.fspath(source), tmp))
        con.execute(f"attach '{src_path}' as src (read_only)")
        con.execute(f"attach '{dst_path}' as dst (storage_version '{PUBLISHED_STORAGE_VERSION}')")
        # foreign keys name their table without a database: resolve them in the new file
        con.execute("use dst")
        # a transaction per table: hundreds of comments would otherwise each be a commit (a WAL
        # write and sync); and a table's key indexes (ART), which DuckDB must hold in memory
        # while it builds them, are written out at its checkpoint before the next table's are
        # built: in one transaction every table's were held at once (at 100,000 documents that
        # did not fit in 4 GB; the file is a temporary one until the swap, so nothing half-done
        # is ever published)
        con.execute(f"create schema dst.{_ident(schema)}")
        comments = dict(con.execute(
            "select table_name, comment from duckdb_tables() where database_name = 'src' and schema_name = ?",
            [schema]).fetchall())
        columns: dict[str, list[tuple[str, str, bool, str | None]]] = {t: [] for t in comments}
        for table, column, dtype, nullable, comment in con.execute(
                "select table_name, column_name, data_type, is_nullable, comment from duckdb_columns() "
                "where database_name = 'src' and schema_name = ? order by table_name, column_index", [schema]
        ).fetchall():
            columns[table].append((column, dtype, nullable, comment))
        fitted = applicable_keys(keys or {}, {t: [c[0] for c in cols] for t, cols in columns.items()})
        for name in creation_order(fitted):
            dst, src = f"dst.{_ident(schema)}.{_ident(name)}", f"src.{_ident(schema)}.{_ident(name)}"
            view = f"dst.main.{_ident(name)}"
            con.execute("begin")
            con.execute(create_table_sql(dst, _ident(schema), [c[:3] for c in columns[name]], fitted[name]))
            names = ", ".join(_ident(c[0]) for c in columns[name])
            con.execute(f"insert into {dst} ({names}) select {names} from {src}")
            con.execute(f"create view {view} as select * from {_ident(schema)}.{_ident(name)}")
            for relation, kind in ((dst, "table"), (view, "view")):
                if comments[name]:
                    con.execute(f"comment on {kind} {relation} is {_literal(comments[name])}")
                for column, _, _, comment in columns[name]:
                    if comment:
                        con.execute(f"comment on column {relation}.{_ident(column)} is {_literal(comment)}")
            counts[name] = con.execute(f"select count(*) from {dst}").fetchone()[0]
            con.execute("commit")
            con.execute("checkpoint dst")
        con.execute("use memory")
        con.execute("detach dst")
        con.close()
        if verify is not None:
            verify(tmp, dict(sorted(counts.items())))
    except BaseException:
        con.close()
        _discard(tmp)
        raise
    _swap_in(tmp, target, os.fspath(keep_previous) if keep_previous is not None else None)
    return dict(sorted(counts.items()))


# ---------------------------------------------------------------------------
# Reading the published file back with a real DuckDB 1.x client
# ---------------------------------------------------------------------------


class SnapshotUnreadable(RuntimeError):
    """The DuckDB 1.x client cannot open or query the file."""


def cli_query(cli: os.PathLike, path: os.PathLike, sql: str) -> list[dict[str, Any]]:
    """Run `sql` with the DuckDB CLI `cli` on `path` opened read-only (no ~/.duckdbrc); rows as dicts."""
    import json
    import subprocess

    proc = subprocess.run([os.fspath(cli), "-init", os.devnull, "-readonly", "-json", os.fspath(path), "-c", sql],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 or "Error" in proc.stderr:
        raise SnapshotUnreadable(f"{cli} cannot read {path}: {(proc.stderr or proc.stdout).strip()[:2000]}")
    return json.loads(proc.stdout) if proc.stdout.strip() else []


def cli_version(cli: os.PathLike) -> str:
    import subprocess

    return subprocess.run([os.fspath(cli), "-version"], capture_output=True, text=True, timeout=60).stdout.strip()


def snapshot_row_counts(cli: os.PathLike, path: os.PathLike) -> dict[str, int]:
    """Rows of every table and view of `path` ('schema.name' -> rows), read by the CLI `cli`."""
    objects = cli_query(cli, path, (
        "select schema_name as s, table_name as n from duckdb_tables() where database_name = current_database() "
        "union all select schema_name, view_name from duckdb_views() "
        "where database_name = current_database() and not internal order by 1, 2"))
    if not objects:
        return {}
    sql = " union all ".join(
        f"select {_literal(o['s'] + '.' + o['n'])} as name, count(*) as n from {_ident(o['s'])}.{_ident(o['n'])}"
        for o in objects)
    return {row["name"]: int(row["n"]) for row in cli_query(cli, path, sql)}


def expected_row_counts(mart_counts: Mapping[str, int], schema: str = PUBLISHED_SCHEMA) -> dict[str, int]:
    """What snapshot_row_counts should read in a file published from marts with `mart_counts`:
    each table in `schema`, and its view in `main`, with the same rows."""
    return {**{f"{schema}.{t}": n for t, n in mart_counts.items()}, **{f"main.{t}": n for t, n in mart_counts.items()}}


def count_differences(expected: Mapping[str, int], actual: Mapping[str, int]) -> list[str]:
    """One line per relation missing, unexpected, or with another row count."""
    out = [f"{name}: missing" for name in sorted(set(expected) - set(actual))]
    out += [f"{name}: not in the pipeline's marts" for name in sorted(set(actual) - set(expected))]
    out += [f"{name}: {actual[name]} rows, the pipeline has {expected[name]}"
            for name in sorted(set(expected) & set(actual)) if expected[name] != actual[name]]
    return out


def verify_with_cli(cli: os.PathLike, path: os.PathLike, mart_counts: Mapping[str, int]) -> list[str]:
    """Differences between `path` as the DuckDB 1.x CLI reads it and marts with `mart_counts`;
    SnapshotUnreadable when the CLI cannot read it."""
    return count_differences(expected_row_counts(mart_counts), snapshot_row_counts(cli, path))


def mart_row_counts(db: os.PathLike, schema: str = PUBLISHED_SCHEMA) -> dict[str, int]:
    """Rows of every table of `schema` in the DuckDB file `db` (opened read-only)."""
    with duck.connect(os.fspath(db), read_only=True, config=working_config()) as con:
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database() and schema_name = ? "
            "order by 1", [schema]).fetchall()]
        return {t: con.execute(f"select count(*) from {_ident(schema)}.{_ident(t)}").fetchone()[0] for t in tables}


def _manifest_keys() -> dict[str, TableKeys]:
    import json

    return declared_keys(json.loads(dbt_project().manifest_path.read_text()))


def published_constraints(path: os.PathLike, schema: str = PUBLISHED_SCHEMA) -> dict[str, TableKeys]:
    """The primary and foreign keys `path` declares on the tables of `schema`, as DuckDB reads them."""
    out: dict[str, TableKeys] = {}
    with duck.connect(os.fspath(path), read_only=True, config=working_config()) as con:
        rows = con.execute(
            "select table_name, constraint_type, constraint_column_names, referenced_table, referenced_column_names "
            "from duckdb_constraints() where database_name = current_database() and schema_name = ? "
            "and constraint_type in ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY') order by all", [schema]).fetchall()
    for table, kind, cols, ref_table, ref_cols in rows:
        k = out.setdefault(table, TableKeys())
        if kind == "PRIMARY KEY":
            out[table] = replace(k, primary_key=tuple(cols))
        elif kind == "UNIQUE":
            out[table] = replace(k, unique=(*k.unique, tuple(cols)))
        else:
            out[table] = replace(k, foreign_keys=(*k.foreign_keys, ForeignKey(tuple(cols), ref_table, tuple(ref_cols))))
    return out


# ---------------------------------------------------------------------------
# Publishing only what changed: a run whose marts equal the published snapshot's keeps the file
# ---------------------------------------------------------------------------

# Part of every fingerprint: bump it when publish_snapshot writes the file differently.
PUBLISH_FORMAT = "marts+main-views+keys+comments/1"
_STATE_SCHEMA = "publish_state"


def snapshot_fingerprint(db: os.PathLike, keys: Mapping[str, TableKeys], schema: str = PUBLISHED_SCHEMA) -> str:
    """What a snapshot published from `db` now would hold, as one checksum: the file format, the
    keys, every table's and column's name, type and comment, and every table's rows (count and
    an order-independent sum of row hashes). Reading it costs a scan of the marts, well under
    the copy it can save (0.5 s against 11-13 s at 2,000 documents)."""
    return fingerprints(db, keys, schema).content


@dataclass(frozen=True)
class Fingerprints:
    """`layout`: the file format, keys, tables, columns and comments; `content`: the layout and
    every table's rows; `tables`: table -> (rows, sum of row hashes)."""

    layout: str
    content: str
    tables: dict[str, tuple[int, int]]


def _row_sums(con: "duck.DuckDBPyConnection", relation: str) -> tuple[int, int]:
    n, total = con.execute(f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {relation} as t").fetchone()
    return int(n), int(total)


def fingerprints(db: os.PathLike, keys: Mapping[str, TableKeys], schema: str = PUBLISHED_SCHEMA) -> Fingerprints:
    """The checksums of what a snapshot published from `db` now would hold (see Fingerprints)."""
    import hashlib

    digest = hashlib.md5()
    digest.update(f"{PUBLISH_FORMAT}\0{PUBLISHED_STORAGE_VERSION}\0{sorted(keys.items())!r}\0".encode())
    with duck.connect(os.fspath(db), read_only=True, config=working_config()) as con:
        for row in con.execute(
                "select table_name, comment from duckdb_tables() where database_name = current_database() "
                "and schema_name = ? order by 1", [schema]).fetchall():
            digest.update(repr(row).encode())
        for row in con.execute(
                "select table_name, column_index, column_name, data_type, is_nullable, comment from duckdb_columns() "
                "where database_name = current_database() and schema_name = ? order by 1, 2", [schema]).fetchall():
            digest.update(repr(row).encode())
        layout = digest.hexdigest()
        tables = {r[0]: _row_sums(con, f"{_ident(schema)}.{_ident(r[0])}") for r in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database() and schema_name = ? "
            "order by 1", [schema]).fetchall()}
    for table, (n, total) in tables.items():
        digest.update(f"{table}\0{n}\0{total}\0".encode())
    return Fingerprints(layout, digest.hexdigest(), tables)


def _file_stamp(path: os.PathLike) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


@dataclass(frozen=True)
class SnapshotState:
    """What this pipeline database last published to a target (publish_state.snapshots)."""

    fingerprint: str
    layout: str | None
    published_at: str
    rows_changed_since_copy: int
    file_is_ours: bool  # the file there is still the one it wrote: same size and mtime, no WAL


def last_snapshot(db: os.PathLike, target: os.PathLike) -> SnapshotState | None:
    """The state of the last snapshot `db` published to `target`, or None (none recorded)."""
    try:
        with duck.connect(os.fspath(db), read_only=True, config=working_config()) as con:
            have = {r[0] for r in con.execute(
                "select column_name from duckdb_columns() where database_name = current_database() "
                "and schema_name = ? and table_name = 'snapshots'", [_STATE_SCHEMA]).fetchall()}
            extra = ("layout, rows_changed_since_copy" if {"layout", "rows_changed_since_copy"} <= have
                     else "null, 0")
            row = con.execute(f"select fingerprint, size_bytes, mtime_ns, published_at::varchar, {extra} "
                              f"from {_STATE_SCHEMA}.snapshots where target = ?", [os.path.abspath(target)]).fetchone()
    except duck.Error:  # no state yet
        return None
    if row is None:
        return None
    stamp = _file_stamp(target)
    ours = stamp is not None and (row[1], row[2]) == stamp and not os.path.exists(os.fspath(target) + ".wal")
    return SnapshotState(row[0], row[4], row[3], int(row[5] or 0), ours)


def unchanged_since(db: os.PathLike, target: os.PathLike, fingerprint: str) -> str | None:
    """When the last snapshot this pipeline database published to `target` had `fingerprint` and
    the file there is still the one it wrote (same size and modification time, no write-ahead
    log beside it): the time it was published. Else None: publish."""
    state = last_snapshot(db, target)
    if state is None or not state.file_is_ours or state.fingerprint != fingerprint:
        return None
    return state.published_at


def record_snapshot(db: os.PathLike, target: os.PathLike, fingerprint: str, layout: str | None = None,
                    rows_changed_since_copy: int = 0) -> None:
    """Remember what was just published to `target` (schema publish_state of the pipeline
    database, which is never published): its fingerprints, the file's size and modification
    time, and the rows changed in place since the file was last written whole."""
    stamp = _file_stamp(target)
    if stamp is None:
        return
    with duck.connect(os.fspath(db), config=working_config()) as con:
        con.execute(f"create schema if not exists {_STATE_SCHEMA}")
        con.execute(f"create table if not exists {_STATE_SCHEMA}.snapshots (target varchar primary key, "
                    f"fingerprint varchar not null, size_bytes bigint not null, mtime_ns bigint not null, "
                    f"published_at timestamp not null)")
        con.execute(f"alter table {_STATE_SCHEMA}.snapshots add column if not exists layout varchar")
        con.execute(f"alter table {_STATE_SCHEMA}.snapshots add column if not exists "
                    f"rows_changed_since_copy bigint default 0")
        con.execute(f"insert or replace into {_STATE_SCHEMA}.snapshots "
                    f"(target, fingerprint, size_bytes, mtime_ns, published_at, layout, rows_changed_since_copy) "
                    f"values (?, ?, ?, ?, now()::timestamp, ?, ?)",
                    [os.path.abspath(target), fingerprint, *stamp, layout, rows_changed_since_copy])


# What each snapshot holds, by article and event: the fingerprints the incremental marts were
# built from (dbt_state.built_documents / built_events, dbt/macros/incremental_documents.sql) when
# the snapshot was published. The next publish compares only the rows of the ids whose
# fingerprint moved since then (published_scopes), not every row of both files.
_SCOPE_KINDS = ("document", "event")


def record_published_ids(db: os.PathLike, target: os.PathLike) -> None:
    """Remember, for `target`, the built fingerprints of the marts it now holds."""
    with duck.connect(os.fspath(db), config=working_config()) as con:
        have = {r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database() "
            "and schema_name = 'dbt_state'").fetchall()}
        con.execute(f"create schema if not exists {_STATE_SCHEMA}")
        for kind in _SCOPE_KINDS:
            table = f"{_STATE_SCHEMA}.published_{kind}s"
            con.execute(f"create table if not exists {table} (target varchar not null, {kind}_id varchar not null, "
                        f"fingerprint varchar)")
            con.execute(f"delete from {table} where target = ?", [os.path.abspath(target)])
            if f"built_{kind}s" in have:
                con.execute(f"insert into {table} select ?, {kind}_id, fingerprint from dbt_state.built_{kind}s",
                            [os.path.abspath(target)])


def retire_snapshot_state(db: os.PathLike, target: os.PathLike, previous: os.PathLike, kept: bool) -> None:
    """After a publish replaced the file at `target`: what was recorded for it now describes the
    file kept at `previous` (the same file under a second name, same size and modification
    time), so its rows move there, replacing the older ones; when nothing was kept, the state of
    `previous` is dropped. Called before the new snapshot is recorded for `target`."""
    old, new = os.path.abspath(target), os.path.abspath(previous)
    with duck.connect(os.fspath(db), config=working_config()) as con:
        have = {r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database() "
            "and schema_name = ?", [_STATE_SCHEMA]).fetchall()}
        con.execute("begin")
        for table in ("snapshots", *(f"published_{kind}s" for kind in _SCOPE_KINDS)):
            if table not in have:
                continue
            con.execute(f"delete from {_STATE_SCHEMA}.{table} where target = ?", [new])
            if kept:
                con.execute(f"update {_STATE_SCHEMA}.{table} set target = ? where target = ?", [new, old])
        con.execute("commit")


def incremental_marts(manifest: Mapping[str, Any], schema: str = PUBLISHED_SCHEMA) -> dict[str, str]:
    """mart -> the kind of id its incremental model is rebuilt by ('document' or 'event')."""
    out = {}
    for node in manifest.get("nodes", {}).values():
        config = node.get("config") or {}
        if node.get("resource_type") == "model" and node.get("schema") == schema \
                and config.get("materialized") == "incremental":
            key = (config.get("meta") or {}).get("incremental_key") or "document_id"
            out[node.get("alias") or node["name"]] = key.removesuffix("_id")
    return out


def published_scopes(db: os.PathLike, target: os.PathLike, marts: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """For publish_changes: mart -> (id column, query over the attached `src`) of the ids whose
    rows may differ between the marts and the snapshot at `target`: those whose built fingerprint
    differs from the one recorded when the snapshot was published, those gone on either side,
    and the last dbt run's changed ids (a run that failed half-way rebuilt some without
    recording them). A kind without that state (no snapshot recorded yet) gets no scope: its
    marts are compared whole."""
    where = _literal(os.path.abspath(target))
    kinds = {}
    with duck.connect(os.fspath(db), read_only=True, config=working_config()) as con:
        have = {f"{r[0]}.{r[1]}" for r in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database()").fetchall()}
        for kind in _SCOPE_KINDS:
            need = {f"dbt_state.built_{kind}s", f"dbt_state.changed_{kind}s", f"{_STATE_SCHEMA}.published_{kind}s"}
            if not need <= have or not con.execute(
                    f"select count(*) from {_STATE_SCHEMA}.published_{kind}s where target = {where}").fetchone()[0]:
                continue
            built, published, changed = (f"src.dbt_state.built_{kind}s", f"src.{_STATE_SCHEMA}.published_{kind}s",
                                         f"src.dbt_state.changed_{kind}s")
            kinds[kind] = (
                f"select b.{kind}_id from {built} as b left join {published} as p "
                f"on p.target = {where} and p.{kind}_id = b.{kind}_id where p.fingerprint is distinct from b.fingerprint "
                f"union all select p.{kind}_id from {published} as p where p.target = {where} "
                f"and not exists (select 1 from {built} as b where b.{kind}_id = p.{kind}_id) "
                f"union all select {kind}_id from {changed}")
    return {mart: (f"{kind}_id", kinds[kind]) for mart, kind in marts.items() if kind in kinds}


# ---------------------------------------------------------------------------
# Publishing a change as a change: the previous snapshot, copied, with the changed rows replaced
# ---------------------------------------------------------------------------

# Rows changed in place since the file was last written whole, as a share of its rows, past which
# the next publish writes the file whole again: deleted and updated rows leave space behind that
# only a whole copy gives back, and past this share a whole copy is about as fast.
MAX_CHANGED_SHARE = 0.25


class ChangesNotApplicable(RuntimeError):
    """The previous snapshot cannot be updated in place (the reason says why): write it whole."""


@dataclass(frozen=True)
class PreviousSnapshot:
    """The snapshot before the current one (previous_snapshot_path), which publish_changes
    changes into the new one instead of a copy of the current one, with what its own state
    says: the scopes of the ids whose rows moved since it was published (published_scopes of its
    path) and the rows it may still change in place before it should be written whole."""

    path: str
    scopes: Mapping[str, tuple[str, str]] | None = None
    max_changed_rows: int | None = None


@dataclass
class AppliedChanges:
    counts: dict[str, int]
    inserted: dict[str, int]
    updated: dict[str, int]
    deleted: dict[str, int]
    seconds: float = 0.0
    started_from: str = "copy"     # 'previous' (the previous snapshot, changed) or 'copy' (of the current one)
    kept_previous: bool = False    # the replaced snapshot stays at keep_previous

    @property
    def rows_changed(self) -> int:
        return sum(self.inserted.values()) + sum(self.updated.values()) + sum(self.deleted.values())


def publish_changes(source: os.PathLike, target: os.PathLike, expected: Mapping[str, tuple[int, int]],
                    keys: Mapping[str, TableKeys] | None = None, schema: str = PUBLISHED_SCHEMA,
                    verify: Callable[[str, dict[str, int]], None] | None = None,
                    max_changed_rows: int | None = None,
                    scopes: Mapping[str, tuple[str, str]] | None = None,
                    previous: PreviousSnapshot | None = None,
                    keep_previous: os.PathLike | None = None) -> AppliedChanges:
    """Publish `schema` of `source` by copying the snapshot at `target` and changing, in the copy,
    only the rows that differ, then moving the copy over `target` atomically, as publish_snapshot
    does. The caller has checked that `target` is the snapshot this pipeline wrote with the same
    layout (tables, columns, comments, keys): only rows differ.

    Rows are matched on the table's primary key and compared by a hash of the whole row. A row
    that is gone, or whose key columns (primary, unique, foreign) changed, is deleted, children
    before parents; a row whose other columns changed is updated in place (DuckDB refuses to
    delete a row that another table still references); new rows are inserted, parents before
    children. The copy must then hold exactly `expected` (table -> rows and sum of row hashes,
    `fingerprints(source).tables`), else nothing is published and ChangesNotApplicable says why;
    so it is when more than `max_changed_rows` rows differ, or DuckDB refuses a change. The
    caller then writes the file whole.

    `scopes` (table -> (column, query)) limits the comparison of a table to the rows whose
    `column` is among the ids the query returns (a query over the attached pipeline database
    `src`; published_scopes gives the ids of the articles and events the incremental marts
    rebuilt since this snapshot). The rows outside are taken as equal, and the check of every
    table's rows against `expected`, which reads every row, still fails when one was not.

    `previous` names the snapshot before the current one (kept by the last publish with
    `keep_previous`): when it is there, is not the current file, and no reader holds it open
    (DuckDB's readers hold a shared lock on the file they read; a writer cannot lock it
    meanwhile), it is moved to the temporary name and changed there, with its own scopes and
    budget, and the copy of the current file (4.9 GB at 100,000 documents) is saved. Otherwise,
    or when it cannot be opened, the current file is copied as before. With `keep_previous`, the
    file this publish replaces stays at that path (_swap_in)."""
    import shutil

    target = os.fspath(target)
    remove_stale_temporaries(target)
    tmp = f"{target}.tmp-{os.getpid()}-{time.time_ns()}"
    started = time.perf_counter()
    started_from = "copy"
    if previous is not None and os.path.isfile(previous.path) and os.path.isfile(target) \
            and not os.path.samefile(previous.path, target) and not os.path.exists(previous.path + ".wal"):
        try:
            os.replace(previous.path, tmp)  # private from here on: nobody opens it by this name
            started_from = "previous"
        except OSError:
            pass
    # capped like every working connection: at 100,000 documents, uncapped, applying 113,350
    # changed rows took 10.3 GiB; over the cap the file is written whole instead (below)
    con = duck.connect(config=working_config())
    # never look the scoped ids up in the snapshot's primary-key index: DuckDB then fetches each
    # row on its own, body_text included (dim_document, 1,342 changed articles at 20,000
    # documents: 4.5 s against 0.16 s for a scan of the whole table that filters as it reads)
    con.execute("set index_scan_max_count = 0")
    result = AppliedChanges({}, {}, {}, {})
    try:
        src_path, dst_path = (str(p).replace("'", "''") for p in (os.fspath(source), tmp))
        con.execute(f"attach '{src_path}' as src (read_only)")
        if started_from == "previous":
            try:
                con.execute(f"attach '{dst_path}' as dst")
            except duck.Error:  # a reader still holds it (or it is unreadable): leave it to them
                _discard(tmp)
                started_from = "copy"
        if started_from == "previous":
            scopes, max_changed_rows = previous.scopes, previous.max_changed_rows
        else:
            shutil.copyfile(target, tmp)
            con.execute(f"attach '{dst_path}' as dst")
        result.started_from = started_from
        columns: dict[str, list[str]] = {}
        for table, column in con.execute(
                "select table_name, column_name from duckdb_columns() where database_name = 'src' "
                "and schema_name = ? order by table_name, column_index", [schema]).fetchall():
            columns.setdefault(table, []).append(column)
        published = {r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'dst' and schema_name = ?",
            [schema]).fetchall()}
        if published != set(columns) or set(expected) != set(columns):
            raise ChangesNotApplicable("the snapshot's tables differ from the marts'")
        nested = {(t, c) for t, c, dtype in con.execute(
            "select table_name, column_name, data_type from duckdb_columns() where database_name = 'src' "
            "and schema_name = ?", [schema]).fetchall() if _is_nested(dtype)}
        fitted = applicable_keys(keys or {}, columns)
        order = creation_order(fitted)
        scoped = _scope_tables(con, {t: s for t, s in (scopes or {}).items() if t in columns and s[0] in columns[t]})
        plans = {name: _change_plan(con, schema, name, columns[name], fitted[name],
                                    [c for c in columns[name] if (name, c) in nested], scoped.get(name))
                 for name in order}
        for name in order:  # parents before children: a replaced row's children are replaced too
            for fk in fitted[name].foreign_keys:
                if fk.table != name:
                    plans[name].replace_children_of(con, plans[fk.table], fk)
        changed = sum(p.changed for p in plans.values())
        if max_changed_rows is not None and changed > max_changed_rows:
            raise ChangesNotApplicable(f"{changed:,} rows differ, over the {max_changed_rows:,} that are "
                                       f"cheaper to change than to copy")
        try:
            # one statement per commit: DuckDB refuses to delete a referenced row in the transaction
            # that deleted the rows referencing it; the copy is private until it is moved over the target
            for name in reversed(order):
                result.deleted[name] = plans[name].delete(con)
            for name in order:
                result.updated[name] = plans[name].update(con)
            for name in order:
                result.inserted[name] = plans[name].insert(con)
        except duck.ConstraintException as exc:
            raise ChangesNotApplicable(f"DuckDB refused a change: {str(exc).splitlines()[0][:200]}") from None
        for name in order:
            actual = _row_sums(con, f"dst.{_ident(schema)}.{_ident(name)}")
            if actual != tuple(expected[name]):
                raise ChangesNotApplicable(f"{schema}.{name} came out different from the marts "
                                           f"({actual[0]:,} rows, the marts {expected[name][0]:,})")
            result.counts[name] = actual[0]
        con.execute("checkpoint dst")
        con.execute("detach dst")
        con.close()
        if verify is not None:
            verify(tmp, dict(sorted(result.counts.items())))
    except BaseException:
        con.close()
        _discard(tmp)
        raise
    result.kept_previous = _swap_in(tmp, target, os.fspath(keep_previous) if keep_previous is not None else None)
    result.counts = dict(sorted(result.counts.items()))
    result.seconds = round(time.perf_counter() - started, 2)
    return result


@dataclass
class _ChangePlan:
    """The rows of one table to delete, update and insert, kept in a temporary table of the
    primary key with `action`: 'delete' (gone), 'replace' (a key column changed: delete, then
    insert), 'update' (other columns changed) or 'insert' (new)."""

    schema: str
    table: str
    columns: list[str]
    key: list[str]        # the primary key, or every column when there is none
    plain: list[str]      # the columns in no key, index or constraint, of no nested type
    changes: str          # the temporary table
    changed: int
    equals: str = "="     # how key columns match: `is not distinct from` when they may be null

    def _rel(self, db: str) -> str:
        return f"{db}.{_ident(self.schema)}.{_ident(self.table)}"

    def _match(self, left: str, right: str) -> str:
        return " and ".join(f"{left}.{_ident(c)} {self.equals} {right}.{_ident(c)}" for c in self.key)

    def replace_children_of(self, con, parent: "_ChangePlan", fk: ForeignKey) -> None:
        """Mark for replacement the rows of this table that reference a row `parent` replaces
        (unchanged rows, and rows that were to be updated in place): DuckDB deletes a referenced
        row only once nothing references it."""
        joins = " and ".join(f"t.{_ident(a)} = pp.{_ident(b)}" for a, b in zip(fk.columns, fk.ref_columns))
        children = (f"select {', '.join('t.' + _ident(c) for c in self.key)} "
                    f"from {self._rel('dst')} as t join {parent._rel('dst')} as pp on {joins} "
                    f"join {parent.changes} as p on {parent._match('pp', 'p')} where p.action = 'replace'")
        con.execute(f"update {self.changes} as c set action = 'replace' from ({children}) as t "
                    f"where c.action = 'update' and {self._match('t', 'c')}")
        self.changed += con.execute(
            f"insert into {self.changes} select t.*, 'replace' from ({children}) as t "
            f"where not exists (select 1 from {self.changes} as c where {self._match('t', 'c')})").fetchone()[0]

    def delete(self, con) -> int:
        if not self.changed:
            return 0
        return con.execute(f"delete from {self._rel('dst')} as t using {self.changes} as c "
                           f"where c.action in ('delete', 'replace') and {self._match('t', 'c')}").fetchone()[0]

    def update(self, con) -> int:
        if not self.changed or not self.plain:
            return 0
        sets = ", ".join(f"{_ident(c)} = s.{_ident(c)}" for c in self.plain)
        return con.execute(
            f"update {self._rel('dst')} as t set {sets} from (select s.* from {self._rel('src')} as s "
            f"join {self.changes} as c on {self._match('s', 'c')} where c.action = 'update') as s "
            f"where {self._match('t', 's')}").fetchone()[0]

    def insert(self, con) -> int:
        if not self.changed:
            return 0
        names = ", ".join(_ident(c) for c in self.columns)
        return con.execute(
            f"insert into {self._rel('dst')} ({names}) select {', '.join('s.' + _ident(c) for c in self.columns)} "
            f"from {self._rel('src')} as s join {self.changes} as c on {self._match('s', 'c')} "
            f"where c.action in ('insert', 'replace')").fetchone()[0]


def _is_nested(data_type: str) -> bool:
    return data_type.endswith("]") or data_type.split("(")[0].strip().upper() in ("STRUCT", "MAP", "UNION")


# a scope of at most this many ids is written into the condition as a list of literals: DuckDB
# evaluates those in the scan, before reading the other columns the row hash needs, and a
# subquery after the scan (dim_document, 1,099 changed articles at 100,000 documents: 0.19 s
# against 1.23 s)
_SCOPE_LITERALS = 20_000


def _scope_tables(con, scopes: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """table -> a condition on its rows (alias t): `column` among the ids of the scope's query,
    each distinct query run once (a temporary table, or a list of literals when it is short)."""
    made: dict[str, str] = {}
    out = {}
    for table, (column, query) in sorted(scopes.items()):
        if query not in made:
            name = f"publish_scope_{len(made)}"
            con.execute(f"create or replace temp table {name} as select distinct * from ({query}) as ids")
            ids = con.execute(f"select * from temp.main.{name} limit {_SCOPE_LITERALS + 1}").fetchall()
            made[query] = (f"(select * from temp.main.{name})" if len(ids) > _SCOPE_LITERALS else
                           "(" + (", ".join(_literal(str(i)) for (i,) in ids if i is not None) or "null") + ")")
        out[table] = f"t.{_ident(column)} in {made[query]}"
    return out


def _change_plan(con, schema: str, table: str, columns: list[str], keys: TableKeys,
                 nested: Sequence[str] = (), scope: str | None = None) -> _ChangePlan:
    # DuckDB updates a column of a nested type (list, struct, map) by deleting and inserting the
    # row, which it refuses for a referenced row: such a change replaces the row, as a key change does
    constrained = set(keys.primary_key) | {c for u in keys.unique for c in u} | {
        c for fk in keys.foreign_keys for c in fk.columns} | set(nested)
    key = list(keys.primary_key) or list(columns)
    equals = "=" if keys.primary_key else "is not distinct from"
    plain = [c for c in columns if c not in constrained]
    keyed = [c for c in columns if c in constrained] or key
    changes = f"temp.main.{_ident('publish_changes_' + table)}"
    pk = ", ".join(_ident(c) for c in key)
    hashed = lambda cols: "hash(" + ", ".join(_ident(c) for c in cols) + ")"  # noqa: E731
    side = lambda db: (f"select {pk}, hash(t) as row_hash, {hashed(keyed)} as key_hash "  # noqa: E731
                       f"from {db}.{_ident(schema)}.{_ident(table)} as t" + (f" where {scope}" if scope else ""))
    con.execute(f"""
        create or replace temp table {_ident('publish_changes_' + table)} as
        select {', '.join(f'coalesce(n.{_ident(c)}, o.{_ident(c)}) as {_ident(c)}' for c in key)},
            case when n.row_hash is null then 'delete'
                 when o.row_hash is null then 'insert'
                 when n.key_hash <> o.key_hash then 'replace'
                 else 'update' end as action
        from ({side('src')}) as n
        full outer join ({side('dst')}) as o on {' and '.join(f'n.{_ident(c)} {equals} o.{_ident(c)}' for c in key)}
        where n.row_hash is distinct from o.row_hash""")
    changed = con.execute(f"select count(*) from {changes}").fetchone()[0]
    return _ChangePlan(schema, table, columns, key, plain, changes, changed, equals)


def _counts_table(counts: Mapping[str, int], keys: Mapping[str, TableKeys]) -> dg.TableMetadataValue:
    return dg.MetadataValue.table(
        records=[dg.TableRecord({"table": f"{PUBLISHED_SCHEMA}.{t}", "rows": n,
                                 "primary_key": ", ".join(keys.get(t, TableKeys()).primary_key),
                                 "foreign_keys": len(keys.get(t, TableKeys()).foreign_keys)})
                 for t, n in sorted(counts.items())],
        schema=dg.TableSchema(columns=[dg.TableColumn("table", "string"), dg.TableColumn("rows", "int"),
                                       dg.TableColumn("primary_key", "string"), dg.TableColumn("foreign_keys", "int")]))


@dg.asset(deps=MART_KEYS, group_name="publish", kinds={"duckdb"})
def published_warehouse(context: dg.AssetExecutionContext, config: PublishConfig) -> dg.MaterializeResult:
    """The file analysts and BI tools open (`WAREHOUSE_PATH`, default data/warehouse.duckdb):
    the `marts` schema with its dbt descriptions as comments, primary and foreign keys from the dbt
    tests, and a view per table in `main`, written in DuckDB 1.4 storage format, read back by the
    DuckDB 1.4 CLI before it is swapped in atomically. It refuses to replace a snapshot with one that
    lost more than MAX_DOCUMENT_LOSS of its documents, unless run config allow_document_loss is true."""
    target = warehouse_path()
    before = previous_document_count(target)
    with duck.connect(os.fspath(pipeline_db_path()), read_only=True, config=working_config()) as con:
        now = con.execute(f"select count(*) from {PUBLISHED_SCHEMA}.dim_document").fetchone()[0]
    if before and now < (1 - MAX_DOCUMENT_LOSS) * before and not config.allow_document_loss:
        raise dg.Failure(description=(
            f"Not publishing: the new warehouse has {now} documents, the published one {before} (more than "
            f"{MAX_DOCUMENT_LOSS:.0%} lost: an empty or wrong input folder?). {target} is unchanged. If the smaller "
            f"collection is intended, run with config ops.published_warehouse.config.allow_document_loss: true"))
    cli = duckdb_cli()

    def verify(path: str, counts: dict[str, int]) -> None:
        try:
            problems = verify_with_cli(cli, path, counts)
        except SnapshotUnreadable as exc:
            problems = [str(exc)]
        if problems:
            raise dg.Failure(description=f"Not publishing: the DuckDB 1.x CLI reads the new file differently "
                                         f"({'; '.join(problems)}). {target} is unchanged.")

    started = time.perf_counter()
    db = pipeline_db_path()
    previous = previous_snapshot_path(target)
    with duck.connect(os.fspath(db), read_only=True, config=working_config()) as con:
        rows = {t: con.execute(f"select count(*) from {PUBLISHED_SCHEMA}.{_ident(t)}").fetchone()[0]
                for (t,) in con.execute("select table_name from duckdb_tables() where database_name = "
                                        "current_database() and schema_name = ?", [PUBLISHED_SCHEMA]).fetchall()}
    keys, unkeyed = keys_within_memory(_manifest_keys(), rows, int(KEY_MEMORY_SHARE * duckdb_memory_limit_bytes()))
    if unkeyed:
        context.log.info(f"published_warehouse: {', '.join(unkeyed)} published without key constraints: their "
                         f"indexes would not fit in {KEY_MEMORY_SHARE:.0%} of DUCKDB_MEMORY_LIMIT "
                         f"({duckdb_memory_limit()}); dbt tests their keys")
    prints = fingerprints(db, keys)
    state = last_snapshot(db, target)
    unchanged = state.published_at if state and state.file_is_ours and state.fingerprint == prints.content else None
    mode, rows_changed, why_whole, started_from = "unchanged", 0, "", ""
    if unchanged is not None:
        counts = mart_row_counts(target)
        context.log.info(f"published_warehouse: the marts are unchanged since the snapshot of {unchanged}: "
                         f"{target} is not written again")
    else:
        applied = None
        budget = int(MAX_CHANGED_SHARE * sum(n for n, _ in prints.tables.values())) - (
            state.rows_changed_since_copy if state else 0)
        if state is None or not state.file_is_ours:
            why_whole = "no snapshot of this pipeline to change"
        elif state.layout != prints.layout:
            why_whole = "the tables, columns, comments or keys changed"
        elif _last_ingest_was_full_refresh():
            why_whole = "a full build"
        elif budget <= 0:
            why_whole = f"over {MAX_CHANGED_SHARE:.0%} of the rows were changed in place since the file was written whole"
        else:
            marts = incremental_marts(_manifest())
            try:
                applied = publish_changes(db, target, prints.tables, keys=keys, verify=verify if cli else None,
                                          max_changed_rows=budget, scopes=published_scopes(db, target, marts),
                                          previous=_previous_snapshot(db, previous, prints, marts),
                                          keep_previous=previous)
            except ChangesNotApplicable as exc:
                why_whole = str(exc)
            except duck.OutOfMemoryException as exc:  # the copy is discarded; writing whole fits
                why_whole = f"changing the copy needed more than DUCKDB_MEMORY_LIMIT ({str(exc).splitlines()[0][:160]})"
        if applied is not None:
            mode, counts, rows_changed = "changes applied", applied.counts, applied.rows_changed
            base = last_snapshot(db, previous) if applied.started_from == "previous" else state
            since_copy = (base.rows_changed_since_copy if base else 0) + rows_changed
            started_from = "the previous snapshot" if applied.started_from == "previous" else "a copy of the last snapshot"
            context.log.info(f"published_warehouse: {rows_changed:,} rows changed in place in {started_from} "
                             f"({applied.seconds} s)")
        else:
            mode, since_copy, started_from = "written whole", 0, "nothing"
            context.log.info(f"published_warehouse: writing {target} whole ({why_whole})")
            counts = publish_snapshot(db, target, keys=keys, verify=verify if cli else None, keep_previous=previous)
        kept = os.path.isfile(previous) and os.path.isfile(target) and not os.path.samefile(previous, target)
        retire_snapshot_state(db, target, previous, kept)
        record_snapshot(db, target, prints.content, prints.layout, since_copy)
    record_published_ids(db, target)
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(target)),
        "storage_version": PUBLISHED_STORAGE_VERSION,
        "tables": _counts_table(counts, published_constraints(target)),
        "written": unchanged is None,
        "unchanged_since": unchanged or "",
        "publish_mode": mode,
        "changed_from": started_from,
        "rows_changed": rows_changed,
        "previous_snapshot": dg.MetadataValue.path(previous) if os.path.isfile(previous) else "",
        "written_whole_because": why_whole,
        "tables_without_keys": dg.MetadataValue.json(unkeyed),
        "publish_seconds": round(time.perf_counter() - started, 2),
        "read_back_with": cli_version(cli) if cli else "not read back: the DuckDB 1.x CLI (duckdb-cli) is not installed",
        "open_with": f"duckdb -readonly {target}",
    })


def _previous_snapshot(db: os.PathLike, path: str, prints: "Fingerprints", marts: Mapping[str, str]
                       ) -> PreviousSnapshot | None:
    """The snapshot before the current one, when it is still the file this pipeline kept there
    (same size and modification time, no write-ahead log), has the marts' layout and may still
    be changed in place: publish_changes then starts from it."""
    state = last_snapshot(db, path)
    if state is None or not state.file_is_ours or state.layout != prints.layout:
        return None
    budget = int(MAX_CHANGED_SHARE * sum(n for n, _ in prints.tables.values())) - state.rows_changed_since_copy
    if budget <= 0:
        return None
    return PreviousSnapshot(path, published_scopes(db, path, marts), budget)


@dg.asset_check(asset=published_warehouse, blocking=True)
def published_warehouse_reads_back_in_duckdb_1x() -> dg.AssetCheckResult:
    """The published file, opened read-only by the DuckDB 1.4 CLI (a real 1.x client, not the
    pipeline's own DuckDB), has every table of the pipeline's marts with the same row count, and a
    view in `main` for each with the same rows. An unreadable or different file fails the check
    (and, being blocking, the run and everything downstream of the snapshot). Without the CLI the
    check warns: nothing then proves that 1.x clients can read the file."""
    target = warehouse_path()
    expected = mart_row_counts(pipeline_db_path())
    cli = duckdb_cli()
    if cli is None:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN, description=(
            "The DuckDB 1.x CLI is not installed next to the interpreter (pip install duckdb-cli==1.4.4.post2): "
            "the published file was not read back with a 1.x client"))
    client = cli_version(cli)
    try:
        actual = snapshot_row_counts(cli, target)
    except SnapshotUnreadable as exc:
        return dg.AssetCheckResult(passed=False, description=str(exc), metadata={"client": client})
    wanted = expected_row_counts(expected)
    problems = count_differences(wanted, actual)
    return dg.AssetCheckResult(
        passed=not problems,
        description="; ".join(problems) if problems else f"{len(expected)} tables and their views read back by {client}",
        metadata={
            "client": client,
            "relations": dg.MetadataValue.table(
                records=[dg.TableRecord({"relation": name, "pipeline_rows": wanted.get(name),
                                         "published_rows": actual.get(name)})
                         for name in sorted(set(wanted) | set(actual))],
                schema=dg.TableSchema(columns=[dg.TableColumn("relation", "string"),
                                               dg.TableColumn("pipeline_rows", "int"),
                                               dg.TableColumn("published_rows", "int")])),
        })
