"""What the Dagster UI shows for a table an asset wrote: its row count, its column schema (names,
DuckDB types, descriptions where the table has column comments) and a small markdown preview.

The Python assets call `table_metadata` after writing their raw table; the dbt step calls
`relation_metadata` for each model once `dbt build` has finished and released the file (dbt
holds DuckDB's single writer lock while it runs, so the pipeline cannot read the file before).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import dagster as dg
import duckdb as duck

from dagster_project.resources import PipelineDuckDB

PREVIEW_ROWS = 5
PREVIEW_CHARS = 60  # a longer value is cut, with an ellipsis: body texts would fill the page


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def markdown_preview(columns: list[str], rows: list[tuple]) -> str:
    """A markdown table of `rows` (already limited), values cut to PREVIEW_CHARS."""
    if not columns:
        return "(no columns)"
    lines = ["| " + " | ".join(_cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    if not rows:
        lines.append("| " + " | ".join("" for _ in columns) + " |")
    return "\n".join(lines)


@lru_cache(maxsize=1)
def source_descriptions() -> dict[str, dict[str, str]]:
    """table -> column -> description of the raw tables, from the dbt sources (_sources.yml,
    through the manifest): the one place the raw tables' columns are documented."""
    import json

    from dagster_project.project import dbt_project

    try:
        manifest = json.loads(dbt_project().manifest_path.read_text())
    except (OSError, ValueError):
        return {}
    return {node["name"]: {c: (v.get("description") or "").strip() for c, v in node.get("columns", {}).items()}
            for node in manifest.get("sources", {}).values() if node.get("schema") == "raw"}


def relation_metadata(con: duck.DuckDBPyConnection, schema: str, name: str, count: bool = True,
                      descriptions: dict[str, str] | None = None, preview_where: str | None = None) -> dict:
    """Row count (for a table; a view is not counted unless `count`), column schema and preview
    of schema.name, read through `con`; a column without a comment takes its description from
    `descriptions`. `preview_where` limits the rows the preview is taken from (a view that
    aggregates computes every row before its `limit`)."""
    descriptions = descriptions or {}
    cols = con.execute(
        "select column_name, data_type, comment, is_nullable from duckdb_columns() "
        "where schema_name = ? and table_name = ? and database_name = current_database() order by column_index",
        [schema, name]).fetchall()
    if not cols:
        return {}
    relation = f'"{schema}"."{name}"'
    schema_value = dg.TableSchema(columns=[
        dg.TableColumn(name=c, type=t, description=d or descriptions.get(c) or None,
                       constraints=dg.TableColumnConstraints(nullable=bool(n)))
        for c, t, d, n in cols])
    meta: dict[str, Any] = {"dagster/column_schema": schema_value}
    if count:
        meta["dagster/row_count"] = int(con.execute(f"select count(*) from {relation}").fetchone()[0])
    where = f" where {preview_where}" if preview_where else ""
    result = con.execute(f"select * from {relation}{where} limit {PREVIEW_ROWS}")
    meta["preview"] = dg.MetadataValue.md(markdown_preview([d[0] for d in result.description], result.fetchall()))
    return meta


def table_metadata(duckdb: PipelineDuckDB, table: str, schema: str = "raw") -> dict:
    """relation_metadata of a table of the pipeline database, its columns described as in the dbt sources."""
    with duckdb.connect() as con:
        return relation_metadata(con, schema, table, descriptions=source_descriptions().get(table, {}))
