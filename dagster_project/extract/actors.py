"""Actor mentions from a gazetteer (data, not code: `dagster_project/data/actor_gazetteer.csv`).

All aliases go into one Aho-Corasick automaton (`spans.find_literals`), longest alias
first, so at any position the longest alias wins ("Tehrik-e-Taliban Pakistan" is TTP,
not Taliban) and matches never overlap. An alias with no lowercase letter (US, U.S.,
IS, ISKP) counts only as written; any other alias matches in any case ("taliban").
Word boundaries are ASCII, like `(?-u:\\b)`: hyphens and apostrophes separate words, so
"Russian-Taliban", "U.S.-led" and "Taliban's" all match. One pass over the text finds
every mention; a regex alternation of the same 1,700 aliases was 5-15 times slower
(docs/benchmark.md).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import polars as pl

from dagster_project.extract.spans import find_literals, in_parallel

GAZETTEER_PATH = Path(__file__).resolve().parent.parent / "data" / "actor_gazetteer.csv"
ACTOR_TYPES = ("state", "armed_group", "international_org", "government_body", "organization", "person", "place")
GAZETTEER_SCHEMA = {
    "actor_id": pl.String,
    "actor_key": pl.String,
    "canonical_name": pl.String,
    "actor_type": pl.String,
    "country_code": pl.String,
    "aliases": pl.List(pl.String),
}
# Keyed by (document_id, char_start): mentions never overlap. The warehouse derives
# mention_id from that key in dbt staging (see docs/raw_tables.md).
MENTION_SCHEMA = {
    "document_id": pl.String,
    "actor_id": pl.String,
    "surface_text": pl.String,
    "char_start": pl.Int64,
    "char_end": pl.Int64,
}


def actor_id_for(actor_key: str) -> str:
    return hashlib.sha256(f"actor:{actor_key}".encode()).hexdigest()[:32]


def load_gazetteer(path: Path = GAZETTEER_PATH) -> pl.DataFrame:
    """The gazetteer as a DataFrame; `aliases` includes the canonical name."""
    raw = pl.read_csv(path, infer_schema_length=0).with_columns(pl.col("aliases").fill_null(""))
    df = raw.with_columns(
        actor_id=pl.col("actor_key").map_elements(actor_id_for, return_dtype=pl.String),
        country_code=pl.when(pl.col("country_code").str.strip_chars() == "").then(None)
        .otherwise(pl.col("country_code").str.strip_chars()),
        aliases=pl.concat_list(
            pl.col("canonical_name"),
            pl.col("aliases").str.split("|").list.eval(pl.element().str.strip_chars()).list.eval(
                pl.element().filter(pl.element() != "")),
        ).list.unique(maintain_order=True),
    )
    return df.select(list(GAZETTEER_SCHEMA))


def validate_gazetteer(gaz: pl.DataFrame) -> list[str]:
    """Problems that would make matching ambiguous or the warehouse wrong."""
    problems = []
    if gaz["actor_key"].is_duplicated().any():
        problems.append("duplicate actor_key")
    bad_types = set(gaz["actor_type"]) - set(ACTOR_TYPES)
    if bad_types:
        problems.append(f"unknown actor_type {sorted(bad_types)}")
    cc = gaz["country_code"].drop_nulls()
    if not cc.str.contains(r"^[A-Z]{3}$").all():
        problems.append("country_code must be ISO 3166-1 alpha-3")
    keys = _alias_table(gaz)
    dup = keys.filter(pl.col("lookup").is_duplicated() & (pl.col("actor_id").n_unique().over("lookup") > 1))
    if dup.height:
        problems.append(f"aliases shared by several actors: {sorted(set(dup['lookup']))[:10]}")
    return problems


def _case_sensitive(alias: str) -> bool:
    return not any(ch.islower() for ch in alias)


def _alias_table(gaz: pl.DataFrame) -> pl.DataFrame:
    rows = [
        (alias, actor_id, _case_sensitive(alias))
        for actor_id, aliases in zip(gaz["actor_id"], gaz["aliases"])
        for alias in aliases
    ]
    df = pl.DataFrame(rows, schema={"alias": pl.String, "actor_id": pl.String, "case_sensitive": pl.Boolean},
                      orient="row")
    return df.with_columns(
        lookup=pl.when(pl.col("case_sensitive")).then(pl.col("alias")).otherwise(pl.col("alias").str.to_lowercase())
    ).unique(subset=["lookup", "actor_id"], maintain_order=True)


def _ascii_lower(text: str) -> str:
    return re.sub(r"[A-Z]+", lambda m: m.group(0).lower(), text)


def build_matcher(gaz: pl.DataFrame) -> tuple[list[str], pl.DataFrame]:
    """(literals to search, alias lookup table) for `extract_actor_mentions`.

    The search ignores ASCII case only, so an alias with non-ASCII letters is also
    searched in capitals ("TÜRKIYE"); the lookup table then decides which matches count."""
    table = _alias_table(gaz)
    literals = {_ascii_lower(a) for a in table["alias"]}
    literals |= {a.upper() for a in table.filter(~pl.col("case_sensitive"))["alias"] if not a.isascii()}
    return sorted(literals), table.select("lookup", "actor_id", "case_sensitive")


def _mentions_plan(lf: pl.LazyFrame, literals: list[str], table: pl.DataFrame) -> pl.LazyFrame:
    exact = table.filter("case_sensitive").select(pl.col("lookup").alias("match"), pl.col("actor_id").alias("cs_id"))
    folded = table.filter(~pl.col("case_sensitive")).select(pl.col("lookup").alias("lower"),
                                                            pl.col("actor_id").alias("ci_id"))
    return (
        find_literals(lf, literals)
        .with_columns(lower=pl.col("match").str.to_lowercase())
        .join(exact.lazy(), on="match", how="left")
        .join(folded.lazy(), on="lower", how="left")
        .with_columns(actor_id=pl.coalesce("cs_id", "ci_id"))
        .filter(pl.col("actor_id").is_not_null())
        .rename({"match": "surface_text"})
        .select(list(MENTION_SCHEMA))
    )


def extract_actor_mentions(documents: pl.DataFrame, gaz: pl.DataFrame,
                           matcher: tuple[list[str], pl.DataFrame] | None = None) -> pl.DataFrame:
    """documents (document_id, body_text) -> actor_mentions (MENTION_SCHEMA)."""
    literals, table = matcher or build_matcher(gaz)
    docs = documents.select("document_id", "body_text")
    return in_parallel(docs, lambda lf: _mentions_plan(lf, literals, table)).sort("document_id", "char_start")
