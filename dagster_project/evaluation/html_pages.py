"""Scores of the HTML extractor (`dagster_project.documents.html`) on the web-page benchmark
(`../shared/benchmarks/webpages/`: 113 saved pages, truth in gold.json), next to plain
trafilatura on the same pages, with the metric of `evaluation.webpages`.

Pages are read in place and decoded the way ingest decodes files (`decode_bytes`). By
default each extractor gets the page's URL, as in the published trafilatura figures;
`--no-url` measures what the pipeline sees (files on disk, no URL).

    python -m dagster_project.evaluation.html_pages [--folder DIR] [--no-url] [--repeat N] [--pages]

prints both score tables, the title-rule measurements (`TITLE_RULES`) and the time per
page and throughput (MB of HTML per second) of both extractors, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Callable

from trafilatura import bare_extraction

from dagster_project.documents.html import (
    choose_title,
    extract_html,
    page_title_candidates,
    titles_agree,
    vote_title,
)
from dagster_project.documents.ingest import decode_bytes
from dagster_project.evaluation.webpages import Prediction, load_gold, norm_title, score_pages



def default_folder() -> Path:
    """$BENCHMARKS_DIR/webpages, else ../shared/benchmarks/webpages next to the repository."""
    env = os.environ.get("BENCHMARKS_DIR")
    if env:
        return Path(env) / "webpages"
    return Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "webpages"


def _pages(folder: Path) -> list[tuple[str, str, str | None, int]]:
    """(page id, decoded HTML, URL from gold.json, size in bytes) for every html/*.html."""
    gold = load_gold(folder)
    pages = []
    for path in sorted((folder / "html").glob("*.html")):
        data = path.read_bytes()
        text = decode_bytes(data).text or ""
        pages.append((path.stem, text, (gold.get(path.stem) or {}).get("url"), len(data)))
    return pages


def _ours(html: str, url: str | None) -> Prediction | None:
    article = extract_html(html, url=url)
    if article is None:
        return None
    return Prediction(
        body=article.body_text,
        title=article.title,
        published_date=article.published_date.isoformat() if article.published_date else None,
        authors=list(article.authors),
    )


def _plain_trafilatura(html: str, url: str | None) -> Prediction | None:
    doc = bare_extraction(html, url=url, with_metadata=True)
    if doc is None:
        return None
    return Prediction(
        body=doc.text or "",
        title=doc.title,
        published_date=doc.date,
        authors=[a.strip() for a in (doc.author or "").split(";") if a.strip()],
    )


def _run(folder: Path, extractor: Callable, use_url: bool) -> tuple[dict[str, float], list, float, int]:
    pages = _pages(folder)
    predictions: dict[str, Prediction] = {}
    start = time.perf_counter()
    for page_id, html, url, _ in pages:
        pred = extractor(html, url if use_url else None)
        if pred is not None:
            predictions[page_id] = pred
    elapsed = time.perf_counter() - start
    scores, per_page = score_pages(load_gold(folder), predictions)
    return scores, per_page, elapsed, sum(size for *_, size in pages)


def _time_pass(pages: list, extractor: Callable, use_url: bool) -> float:
    start = time.perf_counter()
    for _, html, url, _ in pages:
        extractor(html, url if use_url else None)
    return time.perf_counter() - start


def html_scores(folder: Path, use_url: bool = True) -> tuple[dict[str, float], list]:
    """`score_pages` output of `extract_html` over every html/*.html page of `folder`."""
    scores, per_page, _, _ = _run(folder, _ours, use_url)
    return scores, per_page


def trafilatura_scores(folder: Path, use_url: bool = True) -> tuple[dict[str, float], list]:
    """The same for plain trafilatura (`bare_extraction(html, url, with_metadata=True)`)."""
    scores, per_page, _, _ = _run(folder, _plain_trafilatura, use_url)
    return scores, per_page


# ---------------------------------------------------------------------------
# Title rules: every general rule measured, the module's own is "vote og/jsonld/title"
# ---------------------------------------------------------------------------

def _h1_if_agrees(c: dict, fallback: str | None) -> str | None:
    h1, others = c.get("h1"), [c.get("og"), c.get("title_tag")]
    if h1 and any(o and titles_agree(h1, o) for o in others):
        return h1
    return c.get("og") or fallback


TITLE_RULES: dict[str, Callable[[dict, str | None], str | None]] = {
    "trafilatura title": lambda c, t: t,
    "og:title (suffix stripped)": lambda c, t: c.get("og") or t,
    "JSON-LD headline, else og:title": lambda c, t: c.get("jsonld") or c.get("og") or t,
    "<title> (suffix stripped)": lambda c, t: c.get("title_tag") or t,
    "h1, else og:title": lambda c, t: c.get("h1") or c.get("og") or t,
    "h1 if it agrees with og:title/<title>, else og:title": _h1_if_agrees,
    "vote og/jsonld/title, ties og (ours: choose_title)": choose_title,
    "vote og/jsonld/title, ties jsonld": lambda c, t: vote_title([c.get("jsonld"), c.get("og"), c.get("title_tag")]) or c.get("h1") or t,
    "vote og/jsonld/title/h1, ties og": lambda c, t: vote_title([c.get("og"), c.get("jsonld"), c.get("title_tag"), c.get("h1")]) or t,
    "vote og/jsonld/title/h1, ties h1": lambda c, t: vote_title([c.get("h1"), c.get("og"), c.get("jsonld"), c.get("title_tag")]) or t,
    "vote og/h1/title, ties og": lambda c, t: vote_title([c.get("og"), c.get("h1"), c.get("title_tag")]) or t,
}


def title_rule_scores(folder: Path, use_url: bool = True) -> dict[str, float]:
    """Share of the title-labelled pages each rule of TITLE_RULES gets right, plus the
    share where at least one candidate is right (the ceiling of choosing among them)."""
    gold = load_gold(folder)
    hits = {name: 0 for name in TITLE_RULES}
    any_right, n = 0, 0
    for page_id, html, url, _ in _pages(folder):
        truth = (gold.get(page_id) or {}).get("title")
        if truth is None:
            continue
        n += 1
        candidates, traf_title = page_title_candidates(html, url if use_url else None)
        for name, rule in TITLE_RULES.items():
            hits[name] += norm_title(rule(candidates, traf_title)) == norm_title(truth)
        if any(norm_title(v) == norm_title(truth) for v in [*candidates.values(), traf_title] if v):
            any_right += 1
    scores = {name: hit / (n or 1) for name, hit in hits.items()}
    scores["(ceiling: some candidate is right)"] = any_right / (n or 1)
    return scores


def _table(ours: dict[str, float], theirs: dict[str, float]) -> str:
    lines = [f"{'metric':18s} {'ours':>7s} {'trafilatura':>12s}", "-" * 39]
    for key in ("body_precision", "body_recall", "body_f1", "title", "published_date", "authors", "single_article"):
        lines.append(f"{key:18s} {ours[key]:7.3f} {theirs[key]:12.3f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=None,
                        help="the webpages benchmark folder (default: $BENCHMARKS_DIR/webpages, else ../shared/benchmarks/webpages)")
    parser.add_argument("--no-url", action="store_true", help="do not give the extractors the page URL")
    parser.add_argument("--repeat", type=int, default=1, help="time N passes of each extractor, keep the fastest")
    parser.add_argument("--pages", action="store_true", help="also list the pages where ours misses a label")
    args = parser.parse_args()
    use_url = not args.no_url
    args.folder = args.folder or default_folder()

    theirs, _, t_time, size = _run(args.folder, _plain_trafilatura, use_url)
    ours, per_page, o_time, _ = _run(args.folder, _ours, use_url)
    pages = _pages(args.folder)
    for _ in range(args.repeat - 1):  # best of N passes, alternating, for steadier timings
        t_time = min(t_time, _time_pass(pages, _plain_trafilatura, use_url))
        o_time = min(o_time, _time_pass(pages, _ours, use_url))
    n = len(per_page)
    print(f"{n} pages, {size / 1e6:.1f} MB of HTML, URL given: {use_url}\n")
    print(_table(ours, theirs))
    print("\ntitle rules (share of the title-labelled pages right):")
    for name, value in title_rule_scores(args.folder, use_url).items():
        print(f"  {name:55s} {value:.3f}")
    print(f"\nspeed (same run, best of {args.repeat} pass(es); decoding excluded):")
    for name, seconds in (("ours", o_time), ("plain trafilatura", t_time)):
        print(f"  {name:18s} {seconds / n * 1000:7.1f} ms/page  {size / 1e6 / seconds:6.2f} MB/s")
    if args.pages:
        print("\npages where ours misses:")
        for page in per_page:
            if page.title_ok is False or page.date_ok is False or (page.authors_f1 is not None and page.authors_f1 < 1):
                print(f"  {page.page_id}: title={page.title_ok} date={page.date_ok} authors_f1={page.authors_f1}")


if __name__ == "__main__":
    main()
