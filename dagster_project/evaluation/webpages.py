"""Scores on `../shared/benchmarks/webpages/` (113 real pages as HTML and as text scrapes).

The metric is the one its README gives, so the figures compare with published ones:
- body: text split into `\\w+` tokens, 4-token shingles, per-page precision and recall of
  the extracted body's shingles against the truth's, mean precision and mean recall over
  pages, F1 of the two means. A page that became several articles is scored on their
  concatenation;
- title: exact after Unicode NFKC, case folding and ignoring punctuation;
- published date: exact day;
- authors: set F1 over names normalized like titles;
- single: share of pages that became exactly one article (every page holds one).

Title, date and authors are labelled on the `fundus` pages only (24 of 113).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

_TOKEN = re.compile(r"\w+")


def shingles(text: str | None, n: int = 4) -> set[tuple[str, ...]]:
    tokens = _TOKEN.findall((text or "").lower())
    if len(tokens) < n:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def body_precision_recall(predicted: str | None, truth: str | None) -> tuple[float, float]:
    p, g = shingles(predicted), shingles(truth)
    if not p and not g:
        return 1.0, 1.0
    if not p or not g:
        return 0.0, 0.0
    tp = len(p & g)
    return tp / len(p), tp / len(g)


def norm_title(text: str | None) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold()
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
    return " ".join(text.split())


def authors_f1(predicted: list[str] | None, truth: list[str] | None) -> float:
    p = {norm_title(a) for a in predicted or [] if norm_title(a)}
    g = {norm_title(a) for a in truth or [] if norm_title(a)}
    if not p and not g:
        return 1.0
    tp = len(p & g)
    if not tp:
        return 0.0
    precision, recall = tp / len(p), tp / len(g)
    return 2 * precision * recall / (precision + recall)


@dataclass
class Prediction:
    """What an extractor made of one page (several articles already concatenated)."""

    body: str = ""
    title: str | None = None
    published_date: str | None = None  # ISO day
    authors: list[str] = field(default_factory=list)
    n_articles: int = 1


@dataclass
class PageScore:
    page_id: str
    precision: float
    recall: float
    title_ok: bool | None
    date_ok: bool | None
    authors_f1: float | None
    n_articles: int


def load_gold(folder: Path) -> dict[str, dict]:
    return json.loads((folder / "gold.json").read_text(encoding="utf-8"))


def score_pages(gold: dict[str, dict], predictions: dict[str, Prediction]) -> tuple[dict[str, float], list[PageScore]]:
    """Aggregate scores (body_precision, body_recall, body_f1, title, published_date, authors,
    single_article) and one PageScore per page. A page with no prediction scores 0."""
    pages: list[PageScore] = []
    for page_id, truth in gold.items():
        pred = predictions.get(page_id) or Prediction(body="", n_articles=0)
        p, r = body_precision_recall(pred.body, truth["body"])
        labelled = truth.get("title") is not None
        pages.append(PageScore(
            page_id, p, r,
            title_ok=norm_title(pred.title) == norm_title(truth["title"]) if labelled else None,
            date_ok=(pred.published_date or "")[:10] == truth["published_date"] if labelled else None,
            authors_f1=authors_f1(pred.authors, truth["authors"]) if labelled else None,
            n_articles=pred.n_articles,
        ))
    n = len(pages) or 1
    mp, mr = sum(s.precision for s in pages) / n, sum(s.recall for s in pages) / n
    meta = [s for s in pages if s.title_ok is not None]
    m = len(meta) or 1
    return {
        "body_precision": mp,
        "body_recall": mr,
        "body_f1": 2 * mp * mr / (mp + mr) if mp + mr else 0.0,
        "title": sum(s.title_ok for s in meta) / m,
        "published_date": sum(s.date_ok for s in meta) / m,
        "authors": sum(s.authors_f1 for s in meta) / m,
        "single_article": sum(s.n_articles == 1 for s in pages) / n,
    }, pages


def pipeline_predictions(folder: Path) -> tuple[dict[str, Prediction], dict]:
    """Run the pipeline's own documents stage (ingest_folder, then normalize_documents) over
    every file of `folder`, read in place, and turn its articles into one Prediction per page.
    The body scored is the article text after the headline (body_char_start): the headline is
    scored as the title. Also returns counts: files, articles, quarantined at each stage."""
    from dagster_project.documents.ingest import ingest_folder
    from dagster_project.documents.normalize import normalize_documents

    raw, quarantined = ingest_folder(folder)
    result = normalize_documents(raw)
    docs = result.articles.sort("source_file", "article_index")
    predictions: dict[str, Prediction] = {}
    for (source_file,), group in docs.group_by("source_file", maintain_order=True):
        first = group.row(0, named=True)
        bodies = [b[s:] for b, s in zip(group["body_text"], group["body_char_start"])]
        predictions[Path(source_file).stem] = Prediction(
            body="\n\n".join(bodies),
            title=first["title"],
            published_date=first["published_date"].isoformat() if first["published_date"] else None,
            authors=[a for a in (first["authors"] or "").split("; ") if a],
            n_articles=group.height,
        )
    counts = {
        "files": raw.height + quarantined.height,
        "files_with_articles": len(predictions),
        "articles": docs.height,
        "quarantined_ingest": quarantined.height,
        "quarantined_normalize": result.rejected.height,
        "non_english": int((docs["language"] != "en").sum()) if docs.height else 0,
    }
    return predictions, counts


def webpage_scores(benchmark: Path, kind: str) -> tuple[dict[str, float], list[PageScore], dict]:
    """Scores of the pipeline on `benchmark`/`kind` ('html' or 'txt')."""
    gold = load_gold(benchmark)
    predictions, counts = pipeline_predictions(benchmark / kind)
    scores, pages = score_pages(gold, predictions)
    return scores, pages, counts
