"""Scores of the events layer.

- `wiki_event_scores`: on the 324 Wikipedia incident descriptions of
  ../shared/benchmarks/terror_incidents_wiki.csv, through the whole pipeline (documents,
  sentences, extractors, claims, event reports, linking): the coded perpetrator (`actor1`)
  found as the perpetrator of the row's main event (its violent, occurred incident with the
  largest toll, else its first one), and the coded killed / wounded equal to that event's
  best. Rows whose `actor1` names no gazetteer actor (a lone attacker's name) cannot be
  matched and are counted apart; 'Unknown'-like values expect no perpetrator.
- `seed_event_scores`: precision and recall of the document-level events against the hand
  gold of the seeds (eval/gold/seeds_events_claims.json), type agreement, and the
  cross-document links (every gold pair linked, no false link).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import polars as pl

from dagster_project.paths import REPO_ROOT

EVENTS_GOLD = REPO_ROOT / "eval" / "gold" / "seeds_events_claims.json"
_UNKNOWN = {"unknown", "unidentified", "none", ""}


def run_pipeline(raw: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """raw (file_id, source_file, raw_text, content_type) -> every table the events layer uses."""
    from dagster_project.documents.normalize import normalize_documents
    from dagster_project.events.claims import extract_claims
    from dagster_project.events.events import event_reports
    from dagster_project.events.linking import link_events
    from dagster_project.events.tolls import event_table
    from dagster_project.extract.actors import extract_actor_mentions, load_gazetteer
    from dagster_project.extract.dates import extract_dates
    from dagster_project.extract.sentences import split_sentences
    from dagster_project.extract.statistics import extract_statistics

    docs = normalize_documents(raw).articles
    gaz = load_gazetteer()
    sents = split_sentences(docs)
    mentions = extract_actor_mentions(docs, gaz)
    stats = extract_statistics(docs)
    dates = extract_dates(docs)
    claims = extract_claims(docs.select("document_id", "body_text"), sents, mentions, gaz)
    reports, actors = event_reports(docs, sents, stats, dates, mentions, gaz, claims)
    linked = link_events(reports, actors, sents, docs, gaz.select("actor_id", "actor_type"))
    return dict(documents=docs, gazetteer=gaz, sentences=sents, mentions=mentions, statistics=stats, dates=dates,
                claims=claims, reports=linked, report_actors=actors, events=event_table(linked, sents))


def _actor_ids(names: list[str], gazetteer: pl.DataFrame) -> dict[str, set[str]]:
    """Coded actor strings -> the gazetteer actors named in them (same matcher as the texts)."""
    from dagster_project.extract.actors import extract_actor_mentions

    frame = pl.DataFrame({"document_id": names, "body_text": names}).unique()
    found = extract_actor_mentions(frame, gazetteer)
    out: dict[str, set[str]] = defaultdict(set)
    for doc, actor in zip(found["document_id"], found["actor_id"]):
        out[doc].add(actor)
    return out


def wiki_event_scores(path: Path) -> dict[str, float]:
    rows = pl.read_csv(path, infer_schema_length=0).with_columns(
        pl.col("fatalities").cast(pl.Float64, strict=False).fill_null(0),
        pl.col("wounded").cast(pl.Float64, strict=False).fill_null(0),
    )
    raw = rows.select(pl.col("id").alias("file_id"), (pl.col("id") + ".txt").alias("source_file"),
                      pl.col("text").alias("raw_text"), pl.lit("text").alias("content_type"))
    out = run_pipeline(raw)
    docs, reports, actors, events = out["documents"], out["reports"], out["report_actors"], out["events"]
    file_of = dict(zip(docs["document_id"], docs["file_id"]))
    # the main event of each row: violent, occurred incident with the largest toll, else the first
    main = (
        reports.filter(pl.col("violent") & (pl.col("status") == "occurred") & pl.col("event_key").is_not_null())
        .join(events.select("event_key", "killed_best", "injured_best"), on="event_key", how="left")
        .with_columns(file_id=pl.col("document_id").replace_strict(file_of, return_dtype=pl.String),
                      toll=pl.col("killed_best").fill_null(-1))
        .sort("file_id", "toll", "trigger_char_start", descending=[False, True, False])
        .group_by("file_id", maintain_order=True).first()
    )
    perps = (
        actors.filter(pl.col("role") == "perpetrator")
        .join(reports.select("document_id", "trigger_char_start", "event_key"), on=["document_id", "trigger_char_start"])
        .group_by("event_key").agg(pl.col("actor_id").unique())
    )
    main = main.join(perps, on="event_key", how="left")
    coded = _actor_ids([a for a in rows["actor1"].fill_null("").to_list() if a.strip().lower() not in _UNKNOWN],
                       out["gazetteer"])
    by_file = {r["file_id"]: r for r in main.iter_rows(named=True)}
    # the actors each text names (a perpetrator the text never names cannot be found)
    named_in = defaultdict(set)
    for doc, actor in zip(out["mentions"]["document_id"], out["mentions"]["actor_id"]):
        named_in[file_of.get(doc)].add(actor)
    hit = matchable = unknown_ok = unknown_n = killed_ok = wounded_ok = with_event = named_n = named_hit = 0
    for r in rows.iter_rows(named=True):
        ev = by_file.get(r["id"])
        with_event += ev is not None
        predicted = set(ev["actor_id"] or []) if ev else set()
        actor1 = (r["actor1"] or "").strip()
        if actor1.lower() in _UNKNOWN:
            unknown_n += 1
            unknown_ok += not predicted
        elif coded.get(actor1):
            matchable += 1
            hit += bool(predicted & coded[actor1])
            if coded[actor1] & named_in[r["id"]]:
                named_n += 1
                named_hit += bool(predicted & coded[actor1])
        killed = ev["killed_best"] if ev and ev["killed_best"] is not None else 0.0
        wounded = ev["injured_best"] if ev and ev["injured_best"] is not None else 0.0
        killed_ok += killed == r["fatalities"]
        wounded_ok += wounded == r["wounded"]
    n = rows.height
    return {
        "rows": n,
        "rows_with_an_event": with_event,
        "perpetrator_matchable_rows": matchable,
        "perpetrator_found": hit / matchable if matchable else 0.0,
        "perpetrator_named_rows": named_n,
        "perpetrator_found_where_named": named_hit / named_n if named_n else 0.0,
        "perpetrator_unknown_rows": unknown_n,
        "event_killed_best_exact": killed_ok / n,
        "event_wounded_best_exact": wounded_ok / n,
    }


# --- the seed gold -------------------------------------------------------------------------------

def _locate(body: str, anchor: str, occurrence: int = 1) -> tuple[int, int] | None:
    pos = -1
    for _ in range(max(occurrence, 1)):
        pos = body.find(anchor, pos + 1)
        if pos < 0:
            return None
    return pos, pos + len(anchor)


def _pred_doc_events(reports: pl.DataFrame) -> tuple[dict, dict]:
    """(document_id, event_key) -> (sentence start, sentence end, trigger start, trigger end) of
    its occurred reports, and -> report rows."""
    spans: dict[tuple[str, str], list[tuple[int, int, int, int]]] = defaultdict(list)
    rows: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in reports.filter(pl.col("status") == "occurred").iter_rows(named=True):
        spans[(r["document_id"], r["event_key"])].append(
            (r["sentence_char_start"], r["sentence_char_end"], r["trigger_char_start"], r["trigger_char_end"]))
        rows[(r["document_id"], r["event_key"])].append(r)
    return spans, rows


def _match(spans: dict, document_id: str, span: tuple[int, int]) -> tuple[str, str] | None:
    """The predicted document-level event a gold anchor refers to: among those with a report in
    the anchor's sentence, the one whose trigger lies in the anchor, else the nearest trigger
    (a sentence may report several events)."""
    best, best_d = None, None
    for k, ss in spans.items():
        if k[0] != document_id:
            continue
        for a, b, ts, te in ss:
            if not a <= span[0] < b:
                continue
            d = 0 if (ts < span[1] and span[0] < te) else min(abs(ts - span[1]), abs(span[0] - te))
            if best_d is None or d < best_d:
                best, best_d = k, d
    return best


def seed_event_scores(gold_path: Path = EVENTS_GOLD, seeds_dir: Path = REPO_ROOT / "seeds",
                      pipeline: dict[str, pl.DataFrame] | None = None) -> dict[str, float]:
    """Document-level events against the seed gold ({} when the gold file is absent).

    A predicted document-level event (an article's occurred reports sharing one event_key)
    matches a gold row of that article when one of its reporting sentences holds the row's
    anchor or one of its other anchors. Recall counts the core rows found; precision counts
    predictions matching no gold row (core or stretch) as false, and predictions matching a
    labelled negative (negated, future, hypothetical) too. Types are compared on ACLED's event
    type and on the PLOVER code (the gold's own type names are another taxonomy). Links: every
    pair of articles of a gold cross-document event should share one event_key; a
    must-not-link pair sharing one is a false link."""
    if not gold_path.exists():
        return {}
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    if pipeline is None:
        from dagster_project.documents.ingest import ingest_folder

        raw, _ = ingest_folder(seeds_dir)
        pipeline = run_pipeline(raw)
    docs, reports = pipeline["documents"], pipeline["reports"]
    by_article = {(r["source_file"], r["article_index"]): r for r in docs.iter_rows(named=True)}
    spans, rows = _pred_doc_events(reports)

    def find(item: dict, anchors: list[tuple[str, int]]) -> tuple[str, str] | None:
        doc = by_article.get((item["source_file"], item["article_index"]))
        if doc is None:
            return None
        for anchor, occurrence in anchors:
            span = _locate(doc["body_text"], anchor, occurrence)
            if span is None:
                continue
            hit = _match(spans, doc["document_id"], span)
            if hit:
                return hit
        return None

    matched: dict[tuple[str, str], list[dict]] = defaultdict(list)
    core = found = plover_ok = acled_ok = acled_n = 0
    located: dict[tuple[str, int, str], tuple[str, str]] = {}
    for g in gold.get("events", []):
        anchors = [(g["anchor"], g.get("occurrence", 1))] + [
            (a["anchor"], a.get("occurrence", 1)) if isinstance(a, dict) else (a, 1) for a in g.get("other_anchors", [])]
        hit = find(g, anchors)
        if hit:
            matched[hit].append(g)
            located[(g["source_file"], g["article_index"], g["event_key"])] = hit
        if g.get("tier", "core") == "core":
            core += 1
            if hit:
                found += 1
                plover_ok += g.get("plover_event_type") in {r["plover_event_type"] for r in rows[hit]}
                if g.get("acled_event_type"):
                    acled_n += 1
                    acled_ok += g["acled_event_type"] in {r["acled_event_type"] for r in rows[hit]}
    negatives = {k for n in gold.get("event_negatives", []) if (k := find(n, [(n["anchor"], n.get("occurrence", 1))]))}
    false_pos = sum(1 for k in spans if k not in matched or k in negatives)
    # cross-document links
    pairs = linked = 0
    for link in gold.get("cross_document_links", []):
        arts = sorted({(m["source_file"], m["article_index"]) for m in link["mentions"]})
        for i in range(len(arts)):
            for j in range(i + 1, len(arts)):
                if arts[i][0] == arts[j][0]:
                    continue  # posts of one file are one source
                pairs += 1
                a = located.get((*arts[i], link["event_key"]))
                b = located.get((*arts[j], link["event_key"]))
                linked += bool(a and b and a[1] == b[1])
    false_links = 0
    for pair in gold.get("must_not_link", []):
        a = find(pair["a"], [(pair["a"]["anchor"], pair["a"].get("occurrence", 1))])
        b = find(pair["b"], [(pair["b"]["anchor"], pair["b"].get("occurrence", 1))])
        false_links += bool(a and b and a[1] == b[1])
    return {
        "events.recall": found / core if core else 0.0,
        "events.precision": (len(spans) - false_pos) / len(spans) if spans else 0.0,
        "events.plover_accuracy": plover_ok / found if found else 0.0,
        "events.acled_accuracy": acled_ok / acled_n if acled_n else 0.0,
        "links.recall": linked / pairs if pairs else 1.0,
        "links.false_links": float(false_links),
        # share of the gold's must-not-link pairs kept apart (higher is better, so it can have a floor)
        "links.kept_apart": 1 - false_links / len(gold["must_not_link"]) if gold.get("must_not_link") else 1.0,
        "events.gold_core_rows": float(core),
        "events.predicted": float(len(spans)),
    }
