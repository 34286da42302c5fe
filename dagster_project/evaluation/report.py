"""All evaluation scores as one flat dict, with the targets from the issue tracker."""

from __future__ import annotations

import os
from pathlib import Path

from dagster_project.evaluation.benchmarks import ucdp_scores, wiki_scores
from dagster_project.evaluation.gold import evaluate_gold
from dagster_project.evaluation.webpages import webpage_scores
from dagster_project.paths import REPO_ROOT

FLOORS_PATH = REPO_ROOT / "eval" / "floors.json"
TARGETS = {
    "gold.statistics.casualty.precision": 0.95, "gold.statistics.casualty.recall": 0.95,
    "gold.statistics.percentage.precision": 0.95, "gold.statistics.percentage.recall": 0.95,
    "gold.actors.mentions.precision": 0.95, "gold.actors.mentions.recall": 0.95,
    "gold.dates.all.precision": 0.90, "gold.dates.all.recall": 0.90,
    "gold.dates.year_inferred.precision": 0.90, "gold.dates.year_inferred.recall": 0.90,
    "wiki.killed_exact_overall": 0.75, "wiki.killed_exact_stated": 0.95, "wiki.wounded_exact_stated": 0.90,
    # the documents issue: text scrapes and HTML pages of ../shared/benchmarks/webpages
    "webpages.txt.body_f1": 0.90, "webpages.txt.title": 0.85, "webpages.txt.published_date": 0.85,
    "webpages.txt.authors": 0.70, "webpages.txt.single_article": 0.95,
    "webpages.html.body_f1": 0.95, "webpages.html.title": 0.85, "webpages.html.published_date": 0.90,
    "webpages.html.authors": 0.80,
    # the events issue: the seed gold for events and cross-document links, the wiki incidents
    "gold.events.recall": 0.85, "gold.events.precision": 0.85, "gold.links.recall": 1.0, "gold.links.kept_apart": 1.0,
    "gold.claims.core_recall": 0.85, "gold.claims.core_precision": 0.85,
    "wiki.claims.core_recall": 0.80, "wiki.claims.core_precision": 0.80,
}


def benchmarks_dir(explicit: Path | None = None) -> Path:
    """$BENCHMARKS_DIR, else ../shared/benchmarks next to the repository. The benchmarks are read
    in place and never copied into the project (their licences and the rule that the pages are
    for measuring only)."""
    if explicit:
        return explicit
    env = os.environ.get("BENCHMARKS_DIR")
    if env:
        return Path(env)
    return REPO_ROOT.parent / "shared" / "benchmarks"


def collect_scores(bench: Path | None = None) -> tuple[dict[str, float], list[str]]:
    out: dict[str, float] = {}
    notes: list[str] = []
    gold = evaluate_gold()
    for name, s in gold["scores"].items():
        out[f"gold.{name}.precision"] = round(s.precision, 4)
        out[f"gold.{name}.recall"] = round(s.recall, 4)
        out[f"gold.{name}.f1"] = round(s.f1, 4)
    out["gold.traps_avoided"] = round(1 - len(gold["trap_hits"]) / max(gold["traps_total"], 1), 4)
    out["gold.boilerplate_removed"] = round(1 - len(gold["non_body_leaked"]) / max(gold["non_body_total"], 1), 4)
    if gold["trap_hits"]:
        notes.append(f"traps hit: {gold['trap_hits']}")
    if gold["non_body_leaked"]:
        notes.append(f"non-body lines left in bodies: {gold['non_body_leaked']}")
    folder = benchmarks_dir(bench)
    for kind in ("txt", "html"):
        pages = folder / "webpages"
        if not (pages / "gold.json").exists():
            notes.append(f"webpages benchmark not found at {pages}: skipped (set BENCHMARKS_DIR)")
            break
        scores, _, counts = webpage_scores(pages, kind)
        out.update({f"webpages.{kind}.{k}": round(float(v), 4) for k, v in scores.items()})
        # share of the files that end in an article or a quarantine row (must be 1: nothing lost)
        accounted = counts["files_with_articles"] + counts["quarantined_ingest"] + counts["quarantined_normalize"]
        out[f"webpages.{kind}.files_accounted"] = round(accounted / max(counts["files"], 1), 4)
    for prefix, file, scorer in (("wiki", "terror_incidents_wiki.csv", wiki_scores),
                                 ("ucdp", "ucdp_ged_pakistan_headlines.csv", ucdp_scores)):
        path = folder / file
        if not path.exists():
            notes.append(f"{prefix} benchmark not found at {path}: skipped (set BENCHMARKS_DIR)")
            continue
        values, _ = scorer(path)
        out.update({f"{prefix}.{k}": round(float(v), 4) for k, v in values.items()})
    # events: the hand gold on the seeds, and the coded perpetrator and tolls of the wiki incidents
    from .events import seed_event_scores, wiki_event_scores

    seed_events = seed_event_scores()
    for key in ("events.recall", "events.precision", "events.plover_accuracy", "events.acled_accuracy",
                "links.recall", "links.kept_apart"):
        out[f"gold.{key}"] = round(float(seed_events[key]), 4)
    notes.append(f"seed events: {int(seed_events['events.predicted'])} predicted for "
                 f"{int(seed_events['events.gold_core_rows'])} gold rows, "
                 f"{int(seed_events['links.false_links'])} must-not-link pairs joined")
    # claims: the seed gold, and wiki_claims.json (labelled by someone else)
    from .claims import seed_claim_scores, wiki_claim_scores

    claim_keys = ("core_precision", "core_recall", "all_precision", "all_recall", "type_accuracy")
    seed_claims = seed_claim_scores()
    if "skipped" in seed_claims:
        notes.append(f"seed claims: {seed_claims['skipped']}")
    else:
        out.update({f"gold.claims.{k}": round(float(seed_claims[k]), 4) for k in claim_keys})
        out["gold.claims.negatives_kept_out"] = round(
            1 - seed_claims["negatives_hit"] / max(seed_claims["negatives"], 1), 4)
    if (folder / "wiki_claims.json").exists():
        wiki_claims = wiki_claim_scores(folder)
        out.update({f"wiki.claims.{k}": round(float(wiki_claims[k]), 4) for k in claim_keys})
    else:
        notes.append(f"wiki_claims benchmark not found at {folder / 'wiki_claims.json'}: skipped")
    wiki = folder / "terror_incidents_wiki.csv"
    if wiki.exists():
        values = wiki_event_scores(wiki)
        for key in ("perpetrator_found", "perpetrator_found_where_named", "event_killed_best_exact",
                    "event_wounded_best_exact"):
            out[f"wiki.events.{key}"] = round(float(values[key]), 4)
        out["wiki.events.rows_with_an_event"] = round(values["rows_with_an_event"] / max(values["rows"], 1), 4)
    return out, notes
