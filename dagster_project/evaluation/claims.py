"""Scores of the attributed-statement extractor (events/claims.py).

- `wiki_claim_scores`: ../shared/benchmarks/wiki_claims.json (read in place; its `conventions`
  say what is labelled) on the texts of terror_incidents_wiki.csv, joined by `id`.
- `seed_claim_scores`: the hand-labelled claims of the seed articles
  (eval/gold/seeds_events_claims.json), skipped with a message while that file is absent.

Both run the pipeline's own functions: documents through `normalize_documents` (wiki) or
`ingest_folder` + `assemble_articles` (seeds), then `split_sentences`,
`extract_actor_mentions` and `extract_claims`.

Metric. Labelled strings are located in body_text (the body may open with a headline
paragraph, so positions are found in the body, never assumed from the raw text): the content
at its first occurrence at or after the previous labelled claim's content, the claimant at
its occurrence nearest to that content. A predicted claim matches a labelled one when
- their content spans overlap by at least `MIN_OVERLAP` of the labelled content's length, and
- the claimants agree: both null, or the predicted claimant overlaps the labelled one (as
  spans in the body, or as case-insensitive whole-word text);
one to one, best overlap first. Precision counts every prediction that matches no labelled
claim (core or stretch) as a false positive; a prediction matching a stretch claim is
neutral for the core scores. Recall is reported per kind as well (the prediction's claim_type
is not required to agree; its agreement is reported as `type_accuracy`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dagster_project.documents.normalize import fold_text
from dagster_project.paths import REPO_ROOT

MIN_OVERLAP = 0.3
SEED_GOLD_PATH = REPO_ROOT / "eval" / "gold" / "seeds_events_claims.json"
KINDS = ("responsibility_claim", "indirect", "passive", "direct", "mixed", "denial", "according_to")
# the extractor's 'mixed' (reported speech with a quoted part) is the benchmark's 'direct'
KIND_OF_TYPE = {"mixed": "direct"}


@dataclass
class Gold:
    doc: str
    idx: int
    kind: str
    tier: str
    c_start: int | None
    c_end: int | None
    cl_start: int | None
    cl_end: int | None
    claimant: str | None
    resolved: str | None = None


def _word_re(s: str) -> re.Pattern:
    return re.compile(r"(?<!\w)" + re.escape(s) + r"(?!\w)", re.IGNORECASE)


def _occurrences(body: str, s: str, ignore_case: bool = False) -> list[int]:
    if not s:
        return []
    if ignore_case:
        return [m.start() for m in _word_re(s).finditer(body)]
    out, i = [], body.find(s)
    while i >= 0:
        out.append(i)
        i = body.find(s, i + 1)
    return out


def _nth(occ: list[int], n) -> int | None:
    return occ[int(n) - 1] if n and 0 < int(n) <= len(occ) else None


def locate(body: str, claims: list[dict], doc: str) -> list[Gold]:
    """Labelled claims -> Gold with spans in `body`. A `content_occurrence` /
    `claimant_occurrence` (1-based, every start position counted) picks the occurrence; without
    one the list order (text order) does: the content's first occurrence at or after the
    previous claim's, the claimant's occurrence nearest to its content."""
    out, last = [], 0
    for i, c in enumerate(claims):
        content = fold_text(c["content"]) if c.get("content") else ""
        occ = _occurrences(body, content)
        after = [o for o in occ if o >= last]
        start = _nth(occ, c.get("content_occurrence")) if c.get("content_occurrence") else None
        if start is None:
            start = (after or occ or [None])[0]
        if start is not None:
            last = start
        cl = fold_text(c["claimant_text"]) if c.get("claimant_text") else None
        cl_start = None
        if cl and c.get("claimant_occurrence"):
            cl_start = _nth(_occurrences(body, cl), c["claimant_occurrence"])
        if cl and start is not None and cl_start is None:
            cands = _occurrences(body, cl) or _occurrences(body, cl, ignore_case=True)
            end = start + len(content)

            def dist(o: int) -> tuple[int, int]:
                o_end = o + len(cl)
                if o_end <= start:
                    return (start - o_end, 0)
                if o >= end:
                    return (o - end, 1)  # after the content: only when nothing before is as near
                return (0, 0)
            if cands:
                cl_start = min(cands, key=dist)
                if not _occurrences(body, cl):  # found ignoring case: keep the text's own spelling
                    cl = body[cl_start:cl_start + len(cl)]
        out.append(Gold(doc, i, c["kind"], c.get("tier", "core"), start,
                        None if start is None else start + len(content),
                        cl_start, None if cl_start is None else cl_start + len(cl), cl, c.get("resolved_claimant")))
    return out


def _words_overlap(a: str, b: str) -> bool:
    a, b = a.lower().strip(), b.lower().strip()
    return bool(_word_re(a).search(b) or _word_re(b).search(a))


def _claimant_ok(g: Gold, p: dict, actor_names: dict[str, list[str]] | None = None) -> int:
    """How the claimants agree: 3 both null or the spans overlap, 2 the texts share whole
    words, 1 the labelled resolved claimant (the person a 'He' is) is the predicted claimant
    or its gazetteer actor; 0 they do not."""
    if g.claimant is None or p["claimant_text"] is None:
        return 3 if g.claimant is None and p["claimant_text"] is None else 0
    if g.cl_start is not None and p["claimant_char_start"] is not None and \
            p["claimant_char_start"] < g.cl_end and g.cl_start < p["claimant_char_end"]:
        return 3
    if _words_overlap(g.claimant, p["claimant_text"]):
        return 2
    if g.resolved:
        if _words_overlap(fold_text(g.resolved), p["claimant_text"]):
            return 1
        names = (actor_names or {}).get(p.get("claimant_actor_id") or "", [])
        return int(any(_words_overlap(fold_text(g.resolved), n) for n in names))
    return 0


def match(gold: list[Gold], preds: list[dict], actor_names: dict[str, list[str]] | None = None
          ) -> tuple[dict[int, int], list[tuple[Gold, dict, float]]]:
    """One-to-one matches, best claimant agreement then best overlap first: {pred index: gold
    index} and the pairs."""
    pairs = []
    for gi, g in enumerate(gold):
        if g.c_start is None:
            continue
        glen = max(1, g.c_end - g.c_start)
        for pi, p in enumerate(preds):
            if p["document_id"] != g.doc:
                continue
            ov = min(g.c_end, p["char_end"]) - max(g.c_start, p["char_start"])
            agree = _claimant_ok(g, p, actor_names) if ov >= MIN_OVERLAP * glen else 0
            if agree:
                pairs.append((agree, ov / glen, gi, pi))
    pairs.sort(key=lambda t: (-t[0], -t[1], t[2], t[3]))
    used_g, used_p, out, detail = set(), set(), {}, []
    for _, score, gi, pi in pairs:
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        out[pi] = gi
        detail.append((gold[gi], preds[pi], score))
    return out, detail


def score(gold: list[Gold], preds: list[dict], actor_names: dict[str, list[str]] | None = None) -> dict[str, float]:
    matched, _ = match(gold, preds, actor_names)
    fp = sum(1 for i in range(len(preds)) if i not in matched)
    hit = set(matched.values())
    core = [i for i, g in enumerate(gold) if g.tier == "core"]
    tp_core = sum(1 for i in core if i in hit)
    tp_all = len(hit)
    out = {
        "claims_labelled": len(gold),
        "claims_core": len(core),
        "claims_predicted": len(preds),
        "labels_not_located": sum(1 for g in gold if g.c_start is None),
        "core_precision": tp_core / (tp_core + fp) if tp_core + fp else 1.0,
        "core_recall": tp_core / len(core) if core else 1.0,
        "all_precision": tp_all / (tp_all + fp) if tp_all + fp else 1.0,
        "all_recall": tp_all / len(gold) if gold else 1.0,
        "false_positives": fp,
    }
    for kind in KINDS:
        ks = [i for i, g in enumerate(gold) if g.kind == kind]
        kc = [i for i in ks if gold[i].tier == "core"]
        if ks:
            out[f"recall_{kind}"] = sum(1 for i in ks if i in hit) / len(ks)
            out[f"n_{kind}"] = len(ks)
        if kc:
            out[f"core_recall_{kind}"] = sum(1 for i in kc if i in hit) / len(kc)
    agree = [preds[pi]["claim_type"] == gold[gi].kind
             or KIND_OF_TYPE.get(preds[pi]["claim_type"], preds[pi]["claim_type"]) == KIND_OF_TYPE.get(gold[gi].kind, gold[gi].kind)
             for pi, gi in matched.items()]
    out["type_accuracy"] = sum(agree) / len(agree) if agree else 1.0
    return out


def _run_pipeline(docs: pl.DataFrame) -> pl.DataFrame:
    from dagster_project.events.claims import extract_claims
    from dagster_project.extract.actors import extract_actor_mentions, load_gazetteer
    from dagster_project.extract.sentences import split_sentences

    gaz = load_gazetteer()
    d = docs.select("document_id", "body_text")
    sents = split_sentences(d)
    mentions = extract_actor_mentions(d, gaz)
    return extract_claims(d, sents, mentions, gaz)


def _actor_names() -> dict[str, list[str]]:
    from dagster_project.extract.actors import load_gazetteer

    gaz = load_gazetteer()
    return {a: list(al) for a, al in zip(gaz["actor_id"], gaz["aliases"])}


def wiki_claim_details(benchmarks_dir: Path) -> tuple[list[Gold], list[dict], dict[int, int]]:
    """Gold, predictions and matches on wiki_claims.json (for reports and debugging)."""
    from dagster_project.documents.normalize import normalize_documents

    labels = json.loads((Path(benchmarks_dir) / "wiki_claims.json").read_text(encoding="utf-8"))["rows"]
    texts = pl.read_csv(Path(benchmarks_dir) / "terror_incidents_wiki.csv", infer_schema_length=0).select("id", "text")
    raw = texts.select(pl.col("id").alias("file_id"), (pl.col("id") + ".txt").alias("source_file"),
                       pl.col("text").alias("raw_text"), pl.lit("text").alias("content_type"))
    docs = normalize_documents(raw).articles.select("document_id", "file_id", "body_text")
    preds = _run_pipeline(docs).join(docs.select("document_id", "file_id"), on="document_id")
    by_file = {f: (d, b) for d, f, b in docs.iter_rows()}
    gold: list[Gold] = []
    for row_id, row in labels.items():
        if row_id not in by_file:  # a text the pipeline quarantined: its claims are all missed
            gold += [Gold(row_id, i, c["kind"], c.get("tier", "core"), None, None, None, None, c["claimant_text"])
                     for i, c in enumerate(row["claims"])]
            continue
        doc, body = by_file[row_id]
        gold += locate(body, row["claims"], doc)
    plist = list(preds.iter_rows(named=True))
    matched, _ = match(gold, plist)
    return gold, plist, matched


def wiki_claim_scores(benchmarks_dir: Path) -> dict[str, float]:
    """Precision / recall of extract_claims on wiki_claims.json (see the module docstring)."""
    gold, preds, _ = wiki_claim_details(benchmarks_dir)
    return score(gold, preds)


def seed_claim_details(gold_path: Path = SEED_GOLD_PATH, seeds_dir: Path | None = None
                       ) -> tuple[list[Gold], list[dict], dict[int, int]] | None:
    from dagster_project.documents.ingest import ingest_folder
    from dagster_project.documents.normalize import assemble_articles, load_publisher_domains
    from dagster_project.paths import DATA_DIR

    gold_path = Path(gold_path)
    if not gold_path.exists():
        return None
    data = json.loads(gold_path.read_text(encoding="utf-8"))
    raw, _ = ingest_folder(Path(seeds_dir) if seeds_dir else REPO_ROOT / "seeds")
    docs = assemble_articles(raw, load_publisher_domains(DATA_DIR / "publisher_domains.csv"))
    preds = _run_pipeline(docs)
    by_key = {(sf, int(ai)): (d, b, s) for d, sf, ai, b, s in docs.select(
        "document_id", "source_file", "article_index", "body_text", "body_char_start").iter_rows()}
    groups: dict[tuple[str, int], list[dict]] = {}
    for c in data.get("claims", []):
        groups.setdefault((c["source_file"], int(c.get("article_index", 0))), []).append(c)
    gold: list[Gold] = []
    keep_headline: set[str] = set()
    for key, claims in groups.items():
        if key not in by_key:
            gold += [Gold(f"missing:{key}", i, c.get("kind", ""), c.get("tier", "core"), None, None, None, None,
                          c.get("claimant_text")) for i, c in enumerate(claims)]
            continue
        doc, body, start = by_key[key]
        located = locate(body, claims, doc)
        if any(g.c_start is not None and g.c_start < start for g in located):
            keep_headline.add(doc)
        gold += located
    starts = {d: s for d, _, s in by_key.values()}
    # the gold labels the article text after the headline (as the other seed gold does)
    plist = [p for p in preds.iter_rows(named=True)
             if p["document_id"] in keep_headline or p["char_start"] >= starts.get(p["document_id"], 0)]
    matched, _ = match(gold, plist, _actor_names())
    # spans the gold says are not claims ("claim_negatives"): predictions touching one
    negatives = []
    for n in data.get("claim_negatives", []):
        key = (n["source_file"], int(n.get("article_index", 0)))
        if key in by_key:
            doc, body, _ = by_key[key]
            anchor = fold_text(n["anchor"])
            start = _nth(_occurrences(body, anchor), n.get("occurrence") or 1)
            if start is not None:
                negatives.append((doc, start, start + len(anchor)))
    hits = sum(1 for d, a, b in negatives if any(
        p["document_id"] == d and ((p["char_start"] < b and a < p["char_end"]) or (p["cue_char_start"] < b and a < p["cue_char_end"]))
        for i, p in enumerate(plist) if i not in matched))
    seed_claim_details.negatives = (len(negatives), hits)
    return gold, plist, matched


def seed_claim_scores(gold_path: Path = SEED_GOLD_PATH, seeds_dir: Path | None = None) -> dict[str, float | str]:
    """Precision / recall on the seed claims gold; {'skipped': reason} while it is absent.
    A claim is found with the right claimant when the claimant overlaps the labelled one or
    its resolved name (resolved_claimant, e.g. the person a 'He' refers to)."""
    details = seed_claim_details(gold_path, seeds_dir)
    if details is None:
        return {"skipped": f"{gold_path} not found (the seed claims gold is not written yet)"}
    gold, preds, _ = details
    out: dict[str, float | str] = score(gold, preds, _actor_names())
    out["negatives"], out["negatives_hit"] = getattr(seed_claim_details, "negatives", (0, 0))
    return out


def _print_misses(gold: list[Gold], preds: list[dict], matched: dict[int, int], bodies: dict[str, str]) -> None:
    hit = set(matched.values())
    for i, g in enumerate(gold):
        if i not in hit:
            body = bodies.get(g.doc, "")
            text = body[g.c_start:g.c_end] if g.c_start is not None else "?"
            print(f"  MISS [{g.kind}/{g.tier}] {g.claimant!r} :: {text[:120]!r}")
    for pi, p in enumerate(preds):
        if pi not in matched:
            print(f"  FP   [{p['claim_type']}] {p['claimant_text']!r} | {p['cue']!r} :: {p['claim_text'][:120]!r}")


def main() -> None:
    """python -m dagster_project.evaluation.claims [-v]: the scores (and with -v the misses and
    false positives) on wiki_claims.json and on the seed claims gold."""
    import os
    import sys

    from dagster_project.documents.normalize import normalize_documents

    bench = Path(os.environ.get("BENCHMARKS_DIR", REPO_ROOT.parent / "shared" / "benchmarks"))
    verbose = "-v" in sys.argv
    fmt = lambda d: json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in d.items()}, indent=1)  # noqa: E731
    if (bench / "wiki_claims.json").exists():
        gold, preds, matched = wiki_claim_details(bench)
        print("wiki_claims:", fmt(score(gold, preds)))
        if verbose:
            texts = pl.read_csv(bench / "terror_incidents_wiki.csv", infer_schema_length=0)
            raw = texts.select(pl.col("id").alias("file_id"), (pl.col("id") + ".txt").alias("source_file"),
                               pl.col("text").alias("raw_text"), pl.lit("text").alias("content_type"))
            docs = normalize_documents(raw).articles
            _print_misses(gold, preds, matched, dict(zip(docs["document_id"], docs["body_text"])))
    else:
        print(f"wiki_claims: skipped, {bench / 'wiki_claims.json'} not found")
    print("seeds:", fmt(seed_claim_scores()))
    if verbose and SEED_GOLD_PATH.exists():
        from dagster_project.documents.ingest import ingest_folder
        from dagster_project.documents.normalize import assemble_articles

        docs = assemble_articles(ingest_folder(REPO_ROOT / "seeds")[0])
        gold, preds, matched = seed_claim_details()
        _print_misses(gold, preds, matched, dict(zip(docs["document_id"], docs["body_text"])))


if __name__ == "__main__":
    main()
