"""The documents-stage corpora (steps i-l), built from the raw seed files and cached in .bench/.

- Text scrapes (`build_text_corpus`): the five raw files of seeds/ (menus, share bars, related
  posts, footers and all), copied until there are `mb` MB of raw_text (10**6 bytes of UTF-8).
  A raw line is *prose* when, cleaned as the line model cleans it, it is a line of the body of
  an article that `normalize_documents` finds in the seeds; every copy varies its prose lines
  (`common.CopyVariation.prose`) and keeps the other lines byte-identical, apart from numbers
  and month names in them (`meta`: dates, view counts). So no two files and no two prose lines
  are the same, and boilerplate recurs in every copy of its file, as on a real site. Columns
  file_id (= ingest's `content_id`), source_file, raw_text, content_type ('text').
- HTML pages: the benchmark's saved pages, read in place (`html_pages_dir`, never copied), or
  else synthetic pages (`build_html_corpus`): each seed article, varied per copy the same way,
  wrapped in one of three page templates (navigation, inline scripts and styles, JSON-LD,
  share bar, related links, comments, newsletter box, cookie banner, footer). Columns
  file_id, source_file, raw_text.
- A folder of files for `ingest_folder` (`build_ingest_folder`): the first MB of the text
  scrapes, one file each under copyNNNNN/ (just written, so read back from the page cache: the
  step measures walking, decoding and hashing, not the disk).
"""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import os
import time
from datetime import date
from pathlib import Path

from scripts.bench.common import (BENCH_DIR, DATA_DIR, ROOT, SEEDS_DIR, CopyVariation, Gazetteer, rows_for_mb,
                                  vocabulary)
from scripts.bench.corpus import write_parquet

DOCS_CORPUS_VERSION = "d1"  # bump when the corpus logic changes (the sources below are hashed too)
_SOURCES = [Path(__file__), Path(__file__).with_name("common.py")]


# ---------------------------------------------------------------------------
# Seeds
# ---------------------------------------------------------------------------

def seed_files():
    """(raw seed files as ingest reads them, their normalized articles)."""
    from dagster_project.documents.ingest import ingest_folder
    from dagster_project.documents.normalize import load_publisher_domains, normalize_documents

    raw, _ = ingest_folder(SEEDS_DIR)
    raw = raw.sort("source_file")
    articles = normalize_documents(raw, load_publisher_domains(DATA_DIR / "publisher_domains.csv")).articles
    return raw, articles.sort("source_file", "article_index")


def _cache_key(kind: str, mb: float, seed: int, articles) -> str:
    h = hashlib.sha256(f"{DOCS_CORPUS_VERSION}:{kind}".encode())
    for path in _SOURCES + sorted(SEEDS_DIR.iterdir()) + [DATA_DIR / "actor_gazetteer.csv"]:
        h.update(path.read_bytes())
    for body in articles["body_text"]:  # the prose classification follows the normalizer
        h.update(body.encode())
    return f"{kind}_{mb:g}mb_seed{seed}_{h.hexdigest()[:12]}"


def _clean_lines(lines: list[str]) -> list[str]:
    import polars as pl

    from dagster_project.documents.scrape import clean_line

    return pl.DataFrame({"line": lines}, schema={"line": pl.String}).select(clean_line(pl.col("line")))["line"].to_list()


# ---------------------------------------------------------------------------
# Text scrapes
# ---------------------------------------------------------------------------

def text_corpus_path(mb: float, seed: int) -> Path:
    _, articles = seed_files()
    return BENCH_DIR / f"{_cache_key('text', mb, seed, articles)}.parquet"


def build_text_corpus(mb: float, seed: int, path: Path) -> dict:
    import polars as pl

    from dagster_project.documents.ingest import content_id

    t0 = time.perf_counter()
    raw, articles = seed_files()
    body_lines = {ln.strip() for body in articles["body_text"] for ln in body.split("\n") if ln.strip()}
    files = []  # (source_file, lines, prose flags)
    for name, text in zip(raw["source_file"], raw["raw_text"]):
        lines = text.split("\n")
        cleaned = _clean_lines(lines)
        files.append((name, lines, [bool(c) and c in body_lines for c in cleaned]))
    prose = sorted({ln.strip() for _, lines, flags in files for ln, f in zip(lines, flags) if f})
    # headlines quoted by other lines of their file (image alt text, breadcrumbs): the quote
    # must vary with the headline, or the article rules lose the evidence that names it
    quotes = []
    for _, lines, flags in files:
        heads = {ln.strip() for ln, f in zip(lines, flags) if f and 3 <= len(ln.split()) <= 40}
        quotes.append([sorted((h for h in heads if h in ln), key=len, reverse=True) if not f else []
                       for ln, f in zip(lines, flags)])
    gaz = Gazetteer()
    mentions = dict(zip(prose, gaz.mentions(prose)))
    vocab = vocabulary(prose)

    target = int(mb * 1_000_000)
    ids, names, texts = [], [], []
    total, copy = 0, 0
    while total < target:
        var = CopyVariation(f"{seed}:text:{copy}", gaz, mentions, vocab)
        for (name, lines, flags), quoted in zip(files, quotes):
            text = "\n".join(var.prose(ln) if f else var.meta(ln, q) for ln, f, q in zip(lines, flags, quoted))
            ids.append(content_id(text))
            names.append(f"copy{copy:05d}/{name}")
            texts.append(text)
            total += len(text.encode())
        copy += 1
    frame = pl.DataFrame({"file_id": ids, "source_file": names, "raw_text": texts},
                         schema={"file_id": pl.String, "source_file": pl.String, "raw_text": pl.String}
                         ).with_columns(content_type=pl.lit("text"))
    if frame["file_id"].n_unique() != frame.height:
        raise SystemExit("text corpus: two copies have the same text (variation bug)")
    write_parquet(frame, path)
    n_prose = sum(sum(flags) for _, _, flags in files)
    n_lines = sum(sum(1 for ln in lines if ln.strip()) for _, lines, _ in files)
    return {"build_seconds": round(time.perf_counter() - t0, 2), "copies": copy, "seed_files": len(files),
            "seed_prose_lines": n_prose, "seed_nonblank_lines": n_lines}


# ---------------------------------------------------------------------------
# Folder for ingest
# ---------------------------------------------------------------------------

def build_ingest_folder(text_corpus: Path, mb: float) -> Path:
    """The first `mb` MB of the text corpus, one file each; reused while the marker is there."""
    import polars as pl

    folder = BENCH_DIR / f"ingest_{text_corpus.stem}_{mb:g}mb"
    marker = folder.with_name(folder.name + ".complete")  # outside: the folder holds only the files
    if marker.exists() and folder.is_dir():
        return folder
    frame = pl.read_parquet(text_corpus, columns=["source_file", "raw_text"])
    rows = rows_for_mb(frame["raw_text"].str.len_bytes().to_list(), mb)
    for name, text in zip(frame["source_file"][:rows], frame["raw_text"][:rows]):
        out = folder / name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    marker.write_text(json.dumps({"files": rows}))
    return folder


# ---------------------------------------------------------------------------
# HTML pages
# ---------------------------------------------------------------------------

def html_pages_dir(explicit: Path | None = None) -> Path:
    """Where the saved web pages are: --html-pages, else $BENCHMARKS_DIR/webpages/html, else
    ../shared/benchmarks/webpages/html next to the repository (it may not exist)."""
    if explicit is not None:
        return explicit
    env = os.environ.get("BENCHMARKS_DIR")
    base = Path(env) if env else ROOT.parent / "shared" / "benchmarks"
    return base / "webpages" / "html"


def real_pages(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.html")) if folder.is_dir() else []


def read_real_pages(folder: Path, limit_mb: float | None):
    """The saved pages, read in place and decoded as ingest decodes them, in name order, until
    `limit_mb` MB of HTML. Columns file_id (the file's stem), source_file, raw_text."""
    import polars as pl

    from dagster_project.documents.ingest import decode_bytes

    ids, names, texts, total = [], [], [], 0
    for path in real_pages(folder):
        text = decode_bytes(path.read_bytes()).text
        if not text:
            continue
        ids.append(path.stem)
        names.append(path.name)
        texts.append(text)
        total += len(text.encode())
        if limit_mb is not None and total >= limit_mb * 1e6:
            break
    return pl.DataFrame({"file_id": ids, "source_file": names, "raw_text": texts},
                        schema={"file_id": pl.String, "source_file": pl.String, "raw_text": pl.String})


def html_corpus_path(mb: float, seed: int) -> Path:
    _, articles = seed_files()
    return BENCH_DIR / f"{_cache_key('html', mb, seed, articles)}.parquet"


_NAV = ["World", "Politics", "Security", "Middle East", "Asia", "Africa", "Europe", "Americas", "Analysis",
        "Opinion", "Reports", "Podcasts", "Videos", "Events", "Data", "About", "Contact", "Subscribe", "Donate"]
_SCRIPT = """
  window.dataLayer = window.dataLayer || [];
  function gtag(){dataLayer.push(arguments);}
  gtag('js', new Date()); gtag('config', 'G-%(tag)s', {anonymize_ip: true, page_path: location.pathname});
  (function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start': new Date().getTime(),event:'gtm.js'});
   var f=d.getElementsByTagName(s)[0], j=d.createElement(s), dl=l!='dataLayer'?'&l='+l:'';
   j.async=true; j.src='https://www.googletagmanager.com/gtm.js?id='+i+dl; f.parentNode.insertBefore(j,f);
  })(window,document,'script','dataLayer','GTM-%(tag)s');
  var adSlots = {top: {sizes: [[728, 90], [970, 250]], id: 'div-gpt-ad-top'},
                 side: {sizes: [[300, 250], [300, 600]], id: 'div-gpt-ad-side'}};
  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('.share a').forEach(function (a) {
      a.addEventListener('click', function (e) { e.preventDefault(); window.open(a.href, 'share', 'width=600,height=400'); });
    });
    var banner = document.getElementById('cookie-banner');
    if (banner && localStorage.getItem('cookies-ok')) { banner.style.display = 'none'; }
  });
"""
_STYLE = """
  body{margin:0;font-family:Georgia,serif;color:#222;background:#fff}
  header,footer{background:#10253f;color:#fff;padding:12px 24px}
  nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap}
  nav li{margin-right:18px} nav a{color:#fff;text-decoration:none;font-size:14px}
  .container{max-width:1180px;margin:0 auto;display:grid;grid-template-columns:1fr 320px;gap:32px}
  article p{font-size:19px;line-height:1.6;margin:0 0 1.1em} article h1{font-size:40px;line-height:1.15}
  .byline,.dateline{color:#666;font-size:14px} .share a{margin-right:8px}
  aside .related li{margin-bottom:10px} .newsletter{background:#f3f3f3;padding:16px}
  #cookie-banner{position:fixed;bottom:0;left:0;right:0;background:#000;color:#fff;padding:12px}
"""


def _esc(text: str) -> str:
    return html_lib.escape(text, quote=True)


def _article_html(title: str, paragraphs: list[str]) -> list[str]:
    """Paragraphs -> <h2> for short lines without sentence punctuation, <ul> for multi-line
    paragraphs, <p> otherwise."""
    out = []
    for para in paragraphs:
        lines = [ln.strip() for ln in para.split("\n") if ln.strip()]
        if not lines:
            continue
        if len(lines) > 1:
            out.append("<ul>" + "".join(f"<li>{_esc(ln)}</li>" for ln in lines) + "</ul>")
        elif len(lines[0].split()) <= 12 and lines[0][-1:] not in ".!?\"'”’:":
            out.append(f"<h2>{_esc(lines[0])}</h2>")
        else:
            out.append(f"<p>{_esc(lines[0])}</p>")
    return out


def render_page(site: int, copy: int, title: str, paragraphs: list[str], authors: list[str],
                published: date | None, related: list[str]) -> str:
    """One synthetic news page around an article, in one of three site templates."""
    sites = [("Global Security Review", "globalsecurityreview.example"),
             ("The Frontier Monitor", "frontiermonitor.example"),
             ("Conflict Watch Daily", "conflictwatch.example")]
    site_name, domain = sites[site % len(sites)]
    slug = "-".join(w.lower() for w in title.split()[:8] if w.isalnum()) or "article"
    url = f"https://www.{domain}/{(published or date(2020, 1, 1)).year}/{slug}-{copy}"
    nav = "".join(f'<li><a href="/{n.lower().replace(" ", "-")}/">{n}</a></li>' for n in _NAV)
    by = ", ".join(authors)
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "url": url,
          "publisher": {"@type": "Organization", "name": site_name}}
    if published:
        ld["datePublished"] = published.isoformat()
    if authors:
        ld["author"] = [{"@type": "Person", "name": a} for a in authors]
    meta = [f'<meta property="og:title" content="{_esc(title)}">', f'<meta property="og:site_name" content="{site_name}">',
            f'<meta property="og:url" content="{url}">', '<meta property="og:type" content="article">']
    if published and site != 2:  # the third site declares no date in its meta tags
        meta.append(f'<meta property="article:published_time" content="{published.isoformat()}T08:00:00+00:00">')
    if authors and site == 0:
        meta.append(f'<meta name="author" content="{_esc(by)}">')
    related_html = "".join(f'<li><a href="/analysis/{i}-{copy}">{_esc(r)}</a></li>' for i, r in enumerate(related))
    dateline = (f'<time class="dateline" datetime="{published.isoformat()}">{published.strftime("%B %d, %Y")}</time>'
                if published else "")
    byline = f'<p class="byline">By {_esc(by)}</p>' if authors else ""
    share = ('<div class="share"><a href="https://twitter.com/intent/tweet">Share on X</a>'
             '<a href="https://www.facebook.com/sharer.php">Facebook</a><a href="mailto:?subject=">Email</a></div>')
    body = "\n".join(_article_html(title, paragraphs))
    comments = ("" if site == 1 else
                '<section class="comments"><h3>Comments</h3><p>Comments are moderated and will appear after review.'
                ' Please keep the discussion civil.</p><form><textarea name="comment"></textarea>'
                '<button>Post comment</button></form></section>')
    tag = hashlib.md5(domain.encode()).hexdigest()[:8].upper()
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(title)} | {site_name}</title>
{chr(10).join(meta)}
<link rel="canonical" href="{url}">
<link rel="stylesheet" href="https://cdn.{domain}/assets/main.{tag.lower()}.css">
<style>{_STYLE}</style>
<script type="application/ld+json">{json.dumps(ld)}</script>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-{tag}"></script>
<script>{_SCRIPT % {"tag": tag}}</script>
</head>
<body class="single-post site-{site}">
<div id="cookie-banner">We use cookies to improve your experience and to show you relevant advertising.
 <a href="/privacy/">Privacy policy</a> <button onclick="localStorage.setItem('cookies-ok',1)">Accept all</button></div>
<header><a class="logo" href="/">{site_name}</a>
<nav aria-label="Main"><ul>{nav}</ul></nav>
<form class="search" action="/search"><input name="q" placeholder="Search"><button>Search</button></form></header>
<div class="ad" id="div-gpt-ad-top"></div>
<div class="container">
<main>
<div class="breadcrumbs"><a href="/">Home</a> &raquo; <a href="/analysis/">Analysis</a></div>
<article class="post">
<h1 class="entry-title">{_esc(title)}</h1>
{byline}
{dateline}
{share}
<div class="entry-content">
{body}
</div>
{share}
</article>
{comments}
</main>
<aside>
<div class="ad" id="div-gpt-ad-side"></div>
<section class="related"><h3>Related Posts</h3><ul>{related_html}</ul></section>
<section class="newsletter"><h3>Newsletter</h3><p>Get our weekly briefing on conflict and security in your inbox.</p>
<form><input type="email" placeholder="Your email"><button>Sign up</button></form></section>
</aside>
</div>
<footer><nav aria-label="Footer"><ul>{nav}</ul></nav>
<p>&copy; 2024 {site_name}. All rights reserved. <a href="/terms/">Terms of use</a> | <a href="/privacy/">Privacy</a></p></footer>
<script src="https://cdn.{domain}/assets/app.{tag.lower()}.js" defer></script>
<script>(function(){{var s=document.createElement('script');s.src='https://securepubads.g.doubleclick.net/tag/js/gpt.js';document.head.appendChild(s);}})();</script>
</body>
</html>
"""


def build_html_corpus(mb: float, seed: int, path: Path) -> dict:
    """Synthetic pages: every seed article of every copy, varied, in a site template."""
    import polars as pl

    t0 = time.perf_counter()
    _, articles = seed_files()
    seeds = []
    for row in articles.iter_rows(named=True):
        text = row["body_text"][row["body_char_start"]:]
        paragraphs = [p for p in text.split("\n\n") if p.strip()]
        authors = [a.strip() for a in (row["authors"] or "").split(";") if a.strip()]
        seeds.append((row["title"] or paragraphs[0][:80], paragraphs, authors, row["published_date"]))
    strings = sorted({s for title, paras, _, _ in seeds for s in [title, *(ln for p in paras for ln in p.split("\n"))]})
    gaz = Gazetteer()
    mentions = dict(zip(strings, gaz.mentions(strings)))
    vocab = vocabulary(strings)

    target = int(mb * 1_000_000)
    ids, names, pages = [], [], []
    total, copy = 0, 0
    while total < target:
        var = CopyVariation(f"{seed}:html:{copy}", gaz, mentions, vocab)
        titles = [var.prose(t) for t, *_ in seeds]
        for i, (title, paras, authors, pub) in enumerate(seeds):
            related = [t for j, t in enumerate(titles) if j != i][:6]
            page = render_page(i, copy, titles[i], ["\n".join(var.prose(ln) for ln in p.split("\n")) for p in paras],
                               authors, var.published(pub), related)
            ids.append(hashlib.sha256(page.encode()).hexdigest())
            names.append(f"copy{copy:05d}/page{i:02d}.html")
            pages.append(page)
            total += len(page.encode())
        copy += 1
    frame = pl.DataFrame({"file_id": ids, "source_file": names, "raw_text": pages},
                         schema={"file_id": pl.String, "source_file": pl.String, "raw_text": pl.String})
    if frame["file_id"].n_unique() != frame.height:
        raise SystemExit("html corpus: two pages are the same (variation bug)")
    write_parquet(frame, path)
    return {"build_seconds": round(time.perf_counter() - t0, 2), "copies": copy, "seed_articles": len(seeds)}
