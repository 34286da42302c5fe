"""All evaluation scores as one flat dict, with the targets from the issue tracker."""

from __future__ import annotations

import os
from pathlib import Path

from dagster_project.evaluation.benchmarks import ucdp_scores, wiki_scores
from dagster_project.evaluation.gold import evaluate_gold
from dagster_project.paths import REPO_ROOT

FLOORS_PATH = REPO_ROOT / "eval" / "floors.json"
TARGETS = {
    "gold.statistics.casualty.precision": 0.95, "gold.statistics.casualty.recall": 0.95,
    "gold.statistics.percentage.precision": 0.95, "gold.statistics.percentage.recall": 0.95,
    "gold.actors.mentions.precision": 0.95, "gold.actors.mentions.recall": 0.95,
    "gold.dates.all.precision": 0.90, "gold.dates.all.recall": 0.90,
    "gold.dates.year_inferred.precision": 0.90, "gold.dates.year_inferred.recall": 0.90,
    "wiki.killed_exact_overall": 0.75, "wiki.killed_exact_stated": 0.95, "wiki.wounded_exact_stated": 0.90,
}


def benchmarks_dir(explicit: Path | None = None) -> Path:
    if explicit:
        return explicit
    env = os.environ.get("BENCHMARKS_DIR")
    if env:
        return Path(env)
    shared = REPO_ROOT.parent / "shared" / "benchmarks"
    # A copy ships in eval/benchmarks (with its licence notes) so a clone evaluates on its own.
    return shared if (shared / "terror_incidents_wiki.csv").exists() else REPO_ROOT / "eval" / "benchmarks"


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
    for prefix, file, scorer in (("wiki", "terror_incidents_wiki.csv", wiki_scores),
                                 ("ucdp", "ucdp_ged_pakistan_headlines.csv", ucdp_scores)):
        path = folder / file
        if not path.exists():
            notes.append(f"{prefix} benchmark not found at {path}: skipped")
            continue
        values, _ = scorer(path)
        out.update({f"{prefix}.{k}": round(float(v), 4) for k, v in values.items()})
    return out, notes
