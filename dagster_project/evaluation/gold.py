"""Scores against the hand-labelled gold for the seed documents (eval/gold/seeds_gold.json).

Matching rules (see eval/gold/README.md for the labelling conventions):
- articles are paired by (source_file, title), falling back to article_index;
- a gold statistic or date is located by its anchor (the n-th occurrence in the
  article body); a prediction matches it when the spans overlap and the values agree
  (statistics: type, value, casualty type; dates: date_start and date_end), one to one;
- actor mentions are compared as counts per (article, actor, surface form): the
  multiset overlap gives true positives; gold canonical names are resolved to
  gazetteer actors through the gazetteer's own aliases.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from dagster_project.paths import DATA_DIR, REPO_ROOT
from dagster_project.extract.actors import extract_actor_mentions, load_gazetteer
from dagster_project.extract.dates import extract_dates
from dagster_project.documents.ingest import ingest_folder
from dagster_project.documents.normalize import assemble_articles, fold_text, load_publisher_domains
from dagster_project.extract.statistics import extract_statistics

GOLD_PATH = REPO_ROOT / "eval" / "gold" / "seeds_gold.json"


@dataclass
class Score:
    tp: float = 0
    fp: float = 0
    fn: float = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _norm(s: str | None) -> str:
    return " ".join(fold_text(s).lower().split()) if s else ""


def predict(seeds_dir: Path) -> dict[str, pl.DataFrame]:
    """Run the pipeline's pure functions on the seeds. The gold labels the article text after
    the headline, so predictions inside the headline paragraph are left out of the scores."""
    raw, _ = ingest_folder(seeds_dir)
    docs = assemble_articles(raw, load_publisher_domains(DATA_DIR / "publisher_domains.csv"))
    gaz = load_gazetteer()
    starts = docs.select("document_id", "body_char_start")

    def after_headline(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.join(starts, on="document_id").filter(
            pl.col("char_start") >= pl.col("body_char_start")).drop("body_char_start")

    return {
        "documents": docs,
        "gazetteer": gaz,
        "actors": after_headline(extract_actor_mentions(docs, gaz)),
        "statistics": after_headline(extract_statistics(docs)),
        "dates": after_headline(extract_dates(docs)),
    }


def _pair_articles(gold_articles: list[dict], docs: pl.DataFrame) -> dict[tuple[str, int], dict]:
    """(source_file, gold article_index) -> predicted document row."""
    rows = docs.to_dicts()
    out = {}
    for g in gold_articles:
        same_file = [r for r in rows if r["source_file"] == g["source_file"]]
        by_title = [r for r in same_file if _norm(r["title"]) == _norm(g["title"])]
        by_index = [r for r in same_file if r["article_index"] == g["article_index"]]
        match = (by_title or by_index or [None])[0]
        if match:
            out[(g["source_file"], g["article_index"])] = match
    return out


def _locate(body: str, anchor: str, occurrence: int, start: int = 0) -> tuple[int, int] | None:
    """The `occurrence`-th place of `anchor` in the article text after the headline (the gold
    counts occurrences in the article body; body_text opens with the headline)."""
    needle = fold_text(anchor)
    pos = start - 1
    for _ in range(max(occurrence, 1)):
        pos = body.find(needle, pos + 1)
        if pos < 0:
            return None
    return pos, pos + len(needle)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _span_scores(gold_items, preds: pl.DataFrame, paired, key, agree) -> dict[str, Score]:
    """One-to-one matching of gold items to predictions by overlapping span + agreement."""
    scores: dict[str, Score] = {}
    used: set[str] = set()
    by_doc: dict[str, list[dict]] = {}
    for r in preds.to_dicts():
        by_doc.setdefault(r["document_id"], []).append(r)
    evaluated_docs = {d["document_id"] for d in paired.values()}
    for g in gold_items:
        s = scores.setdefault(key(g), Score())
        doc = paired.get((g["source_file"], g["article_index"]))
        span = _locate(doc["body_text"], g["anchor"], g.get("occurrence", 1), doc["body_char_start"]) if doc else None
        if span is None:
            s.fn += 1
            continue
        hit = next((p for p in by_doc.get(doc["document_id"], []) if p["_id"] not in used
                    and _overlap(span, (p["char_start"], p["char_end"])) and agree(g, p)), None)
        if hit:
            used.add(hit["_id"])
            s.tp += 1
        else:
            s.fn += 1
    for r in preds.to_dicts():
        if r["document_id"] in evaluated_docs and r["_id"] not in used:
            scores.setdefault(key(r), Score()).fp += 1
    return scores


def _num_eq(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= max(0.01, 0.005 * abs(float(b)))


def _d(v) -> date | None:
    return date.fromisoformat(v) if isinstance(v, str) else v


def evaluate_gold(seeds_dir: Path = REPO_ROOT / "seeds", gold_path: Path = GOLD_PATH) -> dict:
    gold = json.loads(gold_path.read_text())
    pred = predict(seeds_dir)
    docs = pred["documents"]
    paired = _pair_articles(gold["articles"], docs)
    results: dict[str, Score] = {}

    # --- metadata -------------------------------------------------------------
    for field in ("title", "authors", "publisher", "published_date"):
        s = Score()
        for g in gold["articles"]:
            doc = paired.get((g["source_file"], g["article_index"]))
            gv = g[field]
            pv = doc[field] if doc else None
            if field == "authors":
                gv = sorted(_norm(a) for a in gv) or None
                pv = sorted(_norm(a) for a in pv.split(";")) if pv else None
            elif field in ("title", "publisher"):
                gv, pv = (_norm(gv) or None), (_norm(pv) or None)
            elif field == "published_date":
                gv = _d(gv)
            if pv is not None and pv == gv:
                s.tp += 1
            else:
                s.fp += pv is not None
                s.fn += gv is not None
        results[f"meta.{field}"] = s
    s = Score(tp=len(paired), fn=len(gold["articles"]) - len(paired),
              fp=docs.filter(pl.col("source_file").is_in([g["source_file"] for g in gold["articles"]])).height
              - len(paired))
    results["meta.article_split"] = s

    # --- statistics -----------------------------------------------------------
    stats = pred["statistics"].with_row_index("_id")
    st = _span_scores(
        gold["statistics"], stats, paired, key=lambda x: f"statistics.{x['statistic_type']}",
        agree=lambda g, p: g["statistic_type"] == p["statistic_type"] and _num_eq(g["value"], p["value"])
        and (g.get("casualty_type") or None) == (p.get("casualty_type") or None),
    )
    results.update(st)
    qual_ok = qual_n = 0
    for g in gold["statistics"]:
        doc = paired.get((g["source_file"], g["article_index"]))
        span = _locate(doc["body_text"], g["anchor"], g.get("occurrence", 1), doc["body_char_start"]) if doc else None
        if not span:
            continue
        cands = stats.filter((pl.col("document_id") == doc["document_id"]) & (pl.col("char_start") < span[1])
                             & (pl.col("char_end") > span[0]) & (pl.col("statistic_type") == g["statistic_type"]))
        if cands.height:
            qual_n += 1
            qual_ok += cands["qualifier"][0] == g["qualifier"]
    results["statistics.qualifier_accuracy"] = Score(tp=qual_ok, fp=qual_n - qual_ok, fn=qual_n - qual_ok)

    # --- dates ----------------------------------------------------------------
    dates = pred["dates"].with_row_index("_id")
    agree_date = lambda g, p: _d(g["date_start"]) == p["date_start"] and _d(g["date_end"]) == p["date_end"]  # noqa: E731
    results.update(_span_scores(gold["dates"], dates, paired, key=lambda x: "dates.all", agree=agree_date))
    inferred_gold = [g for g in gold["dates"] if g["year_inferred"]]
    inf = _span_scores(inferred_gold, dates.filter("year_inferred"), paired,
                       key=lambda x: "dates.year_inferred", agree=agree_date)
    results.update(inf)

    # --- actor mentions ---------------------------------------------------------
    gaz = pred["gazetteer"]
    alias_to_id = {}
    for actor_id, aliases in zip(gaz["actor_id"], gaz["aliases"]):
        for a in aliases:
            alias_to_id.setdefault(a.lower(), actor_id)
    gold_counts: Counter = Counter()
    for g in gold["actor_mentions"]:
        doc = paired.get((g["source_file"], g["article_index"]))
        if not doc:
            continue
        actor = alias_to_id.get(g["canonical_name"].lower()) or alias_to_id.get(g["surface"].lower()) \
            or f"unknown:{g['canonical_name']}"
        gold_counts[(doc["document_id"], actor, fold_text(g["surface"]))] += g["count"]
    evaluated_docs = {d["document_id"] for d in paired.values()}
    pred_counts = Counter(
        (r["document_id"], r["actor_id"], r["surface_text"])
        for r in pred["actors"].to_dicts() if r["document_id"] in evaluated_docs
    )
    tp = sum(min(c, pred_counts[k]) for k, c in gold_counts.items())
    results["actors.mentions"] = Score(tp=tp, fp=sum(pred_counts.values()) - tp, fn=sum(gold_counts.values()) - tp)

    # --- traps and boilerplate ------------------------------------------------
    trap_hits = []
    for n in gold["negatives"]:
        doc = paired.get((n["source_file"], n["article_index"]))
        span = _locate(doc["body_text"], n["anchor"], 1, doc["body_char_start"]) if doc else None
        if not span:
            continue
        frame = {"statistics": pred["statistics"].filter(pl.col("statistic_type") == "casualty"),
                 "dates": pred["dates"], "actor_mentions": pred["actors"]}.get(n["field"])
        if frame is None:
            continue
        hit = frame.filter((pl.col("document_id") == doc["document_id"]) & (pl.col("char_start") < span[1])
                           & (pl.col("char_end") > span[0]))
        if n["field"] == "actor_mentions":
            # The trap is a shorter name matched inside a longer one: a mention that overlaps
            # the name (without a trailing "(ACRONYM)") but does not cover all of it.
            core = re.sub(r"\s*\([^)]*\)$", "", fold_text(n["anchor"]))
            cs, ce = span[0], span[0] + len(core)
            hit = frame.filter((pl.col("document_id") == doc["document_id"]) & (pl.col("char_start") < ce)
                               & (pl.col("char_end") > cs) & ~((pl.col("char_start") <= cs) & (pl.col("char_end") >= ce)))
        if hit.height:
            trap_hits.append(n["anchor"])
    bodies = "\n".join(b[s:] for b, s in zip(docs["body_text"], docs["body_char_start"]))
    leaked = [x["text"] for x in gold["non_body_lines"]
              if len(fold_text(x["text"])) > 12 and fold_text(x["text"]) in bodies]
    return {
        "scores": results,
        "traps_total": len(gold["negatives"]),
        "trap_hits": trap_hits,
        "non_body_total": len(gold["non_body_lines"]),
        "non_body_leaked": leaked,
    }
