"""Text-scrape lines -> articles: where each article starts and ends, its headline, byline,
publication date, body text, and an account of every line it leaves out.

In: the lines of `scrape.text_lines` (one row per line with its features, `segment`, `in_body`
and `removed_reason`). Out: one row per article (file_id, article_index, title, authors,
published_date, publisher, text, removed: list of {reason, lines}).

Boundaries. A headline opens a new article only on strong evidence: an image's alt text or a
breadcrumb names it, the line before it is the previous post's signature or author bio, or a
byline or date line follows it. A file is a *listing* when at least two such posts of 150+
words follow its first one (a blog's front page); everything else is one article: the chunk
with the most prose, under the headline its text supports best. Listings go through the
sequential rules of `listing_chunks` (which also split at drops of lexical cohesion); they are
rare, so that Python loop touches few files. Everything else here is polars over all
articles at once: on 100 MB of pages, Python sees only byline candidates and names.

Headline: among the header zone's candidate lines (3-40 words, not navigation, metadata or
boilerplate recurring across files, not a sentence ending in '.', ',', ';' or ':'), one named
by another line of the file wins; otherwise the one whose content words the article's first
1,000 words support best (`metadata.title_support`), unless a supported candidate sits a few
lines above it with no prose between (then the best one is its deck).
"""

from __future__ import annotations

import math
import re
from collections import Counter

import polars as pl

from dagster_project.documents import metadata as meta
from dagster_project.documents.scrape import DATE_PATTERN

LISTING_MIN_WORDS = 150
LISTING_MIN_POSTS = 2  # posts after the first one (one more dated story is a teaser on 7 % of single pages)
NEW_ARTICLE_COHESION = 0.10
_WINDOW_WORDS = 250
_HEADING_MAX_WORDS = 20
HEADER_LINES = meta.HEADER_LINES
EARLY_METADATA_LINES = 15
TRAILER_LINES = meta.TRAILER_LINES
LEAD_WORDS = 500
TIMINGS: list | None = None  # set to a list to record (step, seconds) of `assemble`
_AUTHOR_BOX = r"^(?:the\s+)?authors?:?$|^about the authors?:?$|^author bios?:?$"

ARTICLE_SCHEMA = {
    "file_id": pl.String, "article_index": pl.Int32, "title": pl.String, "authors": pl.String,
    "publisher": pl.String, "published_date": pl.Date, "text": pl.String,
    "removed": pl.List(pl.Struct({"reason": pl.String, "lines": pl.Int32})),
}


# --- vectorized line kinds used here -----------------------------------------------------------

def title_candidate() -> pl.Expr:
    """`metadata.is_title_candidate` as an expression."""
    n = pl.col("n_words")
    plain = (
        ~pl.col("bullet") & ~pl.col("caption") & ~pl.col("legal") & ~pl.col("date_line") & ~pl.col("byline")
        & ~pl.col("signature") & ~pl.col("breadcrumb") & ~pl.col("ui_label") & (pl.col("files_with_line") < 2)
        & ~pl.col("line").str.contains(r"[.,;:]$")
    )
    return (n >= meta.TITLE_MIN_WORDS) & (n <= meta.TITLE_MAX_WORDS) & (pl.col("named_heading") | plain)


def _nonblank(lines: pl.DataFrame) -> pl.DataFrame:
    """Non-blank lines with their index among them (nb), candidate and evidence flags."""
    nb = lines.filter(pl.col("line") != "").sort("file_id", "line_no").with_columns(
        nb=pl.int_range(pl.len()).over("file_id").cast(pl.Int32),
        title_cand=title_candidate(),
    )
    # an "Authors" / "About the author" heading and the few lines under it are an author box
    box_head = pl.when(pl.col("low").str.contains(_AUTHOR_BOX)).then(pl.col("nb"))
    nb = nb.with_columns(box=pl.col("nb") - box_head.forward_fill().over("file_id")).with_columns(
        in_author_box=pl.col("box").is_not_null() & (pl.col("box") <= 3),
    ).with_columns(
        in_body=pl.col("in_body") & ~pl.col("in_author_box"),
        removed_reason=pl.when(pl.col("in_author_box")).then(pl.lit("byline")).otherwise(pl.col("removed_reason")),
    ).drop("box")
    author_close = pl.col("signature") | pl.col("bio")
    meta_line = pl.col("byline") | pl.col("date_line")
    return nb.with_columns(
        strong=pl.col("named_heading")
        | author_close.shift(1).over("file_id").fill_null(False)
        | meta_line.shift(-1).over("file_id").fill_null(False)
        | meta_line.shift(-2).over("file_id").fill_null(False),
        prose_before=pl.col("prose").cast(pl.Int32).cum_sum().over("file_id") - pl.col("prose").cast(pl.Int32),
    )


# --- boundaries and the articles of non-listing files -----------------------------------------

def _body_chunks(nb: pl.DataFrame) -> pl.DataFrame:
    """Body rows with `chunk` (0.. per file), `heading_nb` (the nb of the headline that opens
    the chunk, null for chunk 0), `chunk_words` and the file's `listing` flag."""
    # the last strong headline candidate outside the body, carried forward over the lines
    gap_title = pl.when(pl.col("title_cand") & pl.col("strong") & ~pl.col("in_body")).then(pl.col("nb"))
    nb = nb.with_columns(last_gap_title=gap_title.forward_fill().over("file_id"))
    body = nb.filter("in_body").with_columns(
        body_index=pl.int_range(pl.len()).over("file_id"),
        prev_body_nb=pl.col("nb").shift(1).over("file_id"),
        new_run=(pl.col("segment") != pl.col("segment").shift(1).over("file_id")).fill_null(False),
    )
    in_run = (pl.col("body_index") > 0) & pl.col("title_cand") & (pl.col("n_words") <= _HEADING_MAX_WORDS) \
        & pl.col("strong")
    gap = (pl.col("body_index") > 0) & pl.col("new_run") & (pl.col("last_gap_title") > pl.col("prev_body_nb"))
    body = body.with_columns(
        heading_nb=pl.when(in_run).then(pl.col("nb")).when(gap).then(pl.col("last_gap_title")),
    ).with_columns(
        chunk=pl.col("heading_nb").is_not_null().cast(pl.Int32).cum_sum().over("file_id"),
    ).with_columns(
        heading_nb=pl.col("heading_nb").first().over("file_id", "chunk"),
        chunk_words=pl.col("n_words").filter(pl.col("prose")).sum().over("file_id", "chunk"),
    )
    listing = (
        body.group_by("file_id", "chunk")
        .agg(pl.col("chunk_words").first())
        .group_by("file_id")
        .agg(listing=((pl.col("chunk") > 0) & (pl.col("chunk_words") >= LISTING_MIN_WORDS)).sum() >= LISTING_MIN_POSTS)
    )
    return body.join(listing, on="file_id")


HEADED_WEIGHT = 2.0
_HEADED_WITHIN = 6


def _single_articles(body: pl.DataFrame, nb: pl.DataFrame) -> pl.DataFrame:
    """Members (file_id, line_no, nb, article_index=0) of the main chunk of each non-listing
    file, with the chunk's own boundary headline (`own_heading_nb`) for reference.

    The main chunk is the one with the most prose words, a chunk right under a headline that a
    byline or date line follows (at most _HEADED_WITHIN lines above its first line) counting
    HEADED_WEIGHT times: a story under its headline beats a longer customer-service notice or
    comment thread further down the page."""
    single = body.filter(~pl.col("listing"))
    chunks = (
        single.group_by("file_id", "chunk")
        .agg(pl.col("chunk_words").first(), pl.col("heading_nb").first(), first_nb=pl.col("nb").min())
        .sort("file_id", "first_nb")
    )
    headlines = (
        nb.filter(pl.col("title_cand") & pl.col("strong") & ~pl.col("in_body"))
        .select("file_id", pl.col("nb").alias("headline_nb")).sort("file_id", "headline_nb")
    )
    chunks = chunks.join_asof(headlines, left_on="first_nb", right_on="headline_nb", by="file_id",
                              strategy="backward", check_sortedness=False)
    main = (
        chunks.with_columns(weight=pl.col("chunk_words") * pl.when(
            (pl.col("first_nb") - pl.col("headline_nb")) <= _HEADED_WITHIN).then(HEADED_WEIGHT).otherwise(1.0))
        .sort("file_id", "weight", "chunk", descending=[False, True, False])
        .group_by("file_id", maintain_order=True)
        .first()
    )
    members = single.join(main.select("file_id", "chunk"), on=["file_id", "chunk"]).filter(
        pl.col("heading_nb").is_null() | (pl.col("nb") != pl.col("heading_nb")))
    return members.select("file_id", "line_no", "nb", pl.lit(0, dtype=pl.Int32).alias("article_index"),
                          pl.col("heading_nb").alias("own_heading_nb"), pl.lit(False).alias("fixed"))


# --- listings: sequential rules, few files -------------------------------------------------------

def _cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))


def _window(rows: list[dict], forward: bool) -> tuple[Counter, int]:
    """Content words of the prose rows within _WINDOW_WORDS words (each row's words are
    computed once and kept on the row)."""
    total: Counter = Counter()
    n = 0
    for r in rows if forward else reversed(rows):
        if r["prose"]:
            total.update(r["stems"] or ())
            n += r["n_words"]
            if n >= _WINDOW_WORDS:
                break
    return total, n


def listing_chunks(nonblank: list[dict]) -> list[tuple[list[int], int | None, bool]]:
    """The posts of a listing file: (body line_nos, headline line_no or None, fixed) each.

    Left to right, a boundary is a heading inside the body or the headline in the gap before a
    new content run. It opens a post on strong evidence, or when the text on its two sides, each
    at least LISTING_MIN_WORDS words, shares less vocabulary than NEW_ARTICLE_COHESION
    (TextTiling, Hearst 1997). When a post opens at a heading and one of the next short lines is
    named by an image's alt text, that one is the headline and the lines between are dropped (a
    screenshot's caption). Posts before the biggest one are kept when they have a headline
    (strong evidence or enough words); without one they are page furniture."""
    body = [r for r in nonblank if r["in_body"]]
    position = {r["line_no"]: k for k, r in enumerate(nonblank)}
    bounds: list[tuple[int, dict | None, bool]] = [(0, None, False)]
    skipped: set[int] = set()
    last_start = 0
    for i in range(1, len(body)):
        r, prev = body[i], body[i - 1]
        gap = [x for x in nonblank[position[prev["line_no"]] + 1:position[r["line_no"]]] if x["title_cand"]]
        if r["title_cand"] and r["n_words"] <= _HEADING_MAX_WORDS:
            heading = r
        elif gap and (r["segment"] != prev["segment"] or gap[-1]["strong"]):
            heading = gap[-1]  # the headline in the gap before a new run, or a strong one in any gap
        else:
            continue
        left, n_left = _window(body[last_start:i], forward=False)
        right, n_right = _window(body[i:], forward=True)
        weak = n_left >= LISTING_MIN_WORDS and n_right >= LISTING_MIN_WORDS and _cosine(left, right) < NEW_ARTICLE_COHESION
        if not (heading["strong"] or weak):
            continue
        if heading is r and not r["named_heading"]:
            for j in range(i + 1, min(i + 4, len(body))):
                if body[j]["n_words"] > _HEADING_MAX_WORDS:
                    break
                if body[j]["named_heading"] and body[j]["title_cand"]:
                    skipped.update(x["line_no"] for x in body[i:j])
                    i, heading = j, body[j]
                    break
        bounds.append((i, heading, heading["strong"]))
        last_start = i
    chunks = []
    for k, (start, heading, strong) in enumerate(bounds):
        end = bounds[k + 1][0] if k + 1 < len(bounds) else len(body)
        members = [x["line_no"] for x in body[start:end]
                   if x["line_no"] not in skipped and (heading is None or x["line_no"] != heading["line_no"])]
        words = sum(x["n_words"] for x in body[start:end] if x["prose"])
        chunks.append((members, heading, strong, words))
    main = max(range(len(chunks)), key=lambda k: chunks[k][3])
    out = []
    for k, (members, heading, strong, words) in enumerate(chunks):
        if k < main and k > 0 and not (heading is not None and (strong or words >= LISTING_MIN_WORDS)):
            continue
        if members:
            out.append((members, heading["line_no"] if heading else None, heading is not None))
    return out


_LISTING_COLUMNS = ["line_no", "line", "n_words", "prose", "in_body", "segment", "named_heading", "title_cand", "strong"]
# (rows also get "stems": the content words of a prose body row)


def _listing_articles(nb: pl.DataFrame, body: pl.DataFrame) -> pl.DataFrame:
    files = body.filter("listing")["file_id"].unique().to_list()
    rows: list[dict] = []
    if files:
        sub = nb.filter(pl.col("file_id").is_in(files)).select("file_id", *_LISTING_COLUMNS)
        # content words of the prose rows, computed in one vectorized pass (metadata.content_words)
        stems = (_stems(sub.filter(pl.col("prose") & pl.col("in_body")), ["file_id", "line_no"])
                 .group_by("file_id", "line_no").agg(pl.col("stem").alias("stems")))
        sub = sub.join(stems, on=["file_id", "line_no"], how="left")
        for (file_id,), group in sub.group_by("file_id", maintain_order=True):
            lines = group.sort("line_no").to_dicts()
            for index, (members, heading_line, fixed) in enumerate(listing_chunks(lines)):
                rows.extend(dict(file_id=file_id, line_no=m, article_index=index, heading_line=heading_line,
                                 fixed=fixed) for m in members)
    frame = pl.DataFrame(rows, schema={"file_id": nb.schema["file_id"], "line_no": pl.Int32, "article_index": pl.Int32,
                                       "heading_line": pl.Int32, "fixed": pl.Boolean})
    nb_of = nb.select("file_id", "line_no", "nb")
    return (
        frame.join(nb_of, on=["file_id", "line_no"])
        .join(nb_of.rename({"line_no": "heading_line", "nb": "own_heading_nb"}), on=["file_id", "heading_line"],
              how="left")
        .select("file_id", "line_no", "nb", "article_index", "own_heading_nb", "fixed")
    )


# --- headline ------------------------------------------------------------------------------------

_STOPWORDS = sorted(meta.STOPWORDS)


def _stems(frame: pl.DataFrame, key: list[str], text: str = "line") -> pl.DataFrame:
    """key + stem, one row per content word of `text` (metadata.content_words, vectorized)."""
    word = pl.col("word")
    return (
        frame.select(*key, pl.col(text).str.to_lowercase().str.extract_all(r"\p{L}[\p{L}'-]{2,}").alias("word"))
        .explode("word", empty_as_null=True)
        .drop_nulls("word")
        .filter(~word.is_in(_STOPWORDS))
        .with_columns(word=word.str.replace(r"'s$", ""))
        .with_columns(
            stem=pl.when((word.str.len_chars() > 4) & word.str.ends_with("ies"))
            .then(word.str.slice(0, word.str.len_chars() - 3) + "y")
            .when((word.str.len_chars() > 3) & word.str.ends_with("s") & ~word.str.ends_with("ss"))
            .then(word.str.slice(0, word.str.len_chars() - 1))
            .otherwise(word)
        )
        .select(*key, "stem")
    )


def _headlines(nb: pl.DataFrame, members: pl.DataFrame) -> pl.DataFrame:
    """(file_id, article_index) -> title_nb, the chosen headline's nb (null: none)."""
    art = ["file_id", "article_index"]
    spans = members.group_by(art).agg(first_nb=pl.col("nb").min(), n_members=pl.len(),
                                      own=pl.col("own_heading_nb").first(), fixed=pl.col("fixed").first())
    # articles whose headline is fixed (a post of a listing opened at it)
    fixed = spans.filter(pl.col("fixed")).select(*art, pl.col("own").alias("title_nb"))
    free = spans.filter(~pl.col("fixed"))
    # the window above the article, and its opening line when it reads like a headline
    window = (
        free.join(nb.select("file_id", "nb", "line", "title_cand", "named_heading", "n_words", "prose",
                            "prose_before", "in_body"), on="file_id")
        .filter(
            ((pl.col("nb") >= pl.col("first_nb") - HEADER_LINES) & (pl.col("nb") < pl.col("first_nb")))
            | ((pl.col("nb") == pl.col("first_nb")) & (pl.col("n_members") > 1)
               & (pl.col("n_words") <= _HEADING_MAX_WORDS))
        )
        .filter("title_cand")
    )
    named = (
        window.filter("named_heading").sort("nb").group_by(art).agg(pl.col("nb").last().alias("named_nb"))
    )
    # support of each candidate by the article's first LEAD_WORDS words
    lead_rows = (
        members.join(nb.select("file_id", "nb", "line", "n_words", "prose"), on=["file_id", "nb"])
        .sort("file_id", "article_index", "nb")
        .filter("prose")  # the lead is prose: a heading, the opener included, never supports itself
        .with_columns(before=pl.col("n_words").cum_sum().over(art) - pl.col("n_words"))
        .filter(pl.col("before") < LEAD_WORDS)
    )
    lead = _stems(lead_rows, art).unique()
    cand = window.select(*art, "nb", "line", "prose_before").with_columns(cand_id=pl.int_range(pl.len()))
    cand_stems = _stems(cand, [*art, "cand_id"]).unique()
    hits = (
        cand_stems.join(lead.with_columns(hit=pl.lit(True)), on=[*art, "stem"], how="left")
        .group_by("cand_id")
        .agg(
            n=pl.len(),
            hits=pl.col("hit").fill_null(False).sum(),
            weight=pl.when(pl.col("hit").fill_null(False))
            .then(pl.when(pl.col("stem").str.len_chars() >= 5).then(1.0).otherwise(0.5)).otherwise(0.0).sum(),
        )
    )
    scored = (
        cand.join(hits, on="cand_id")
        .with_columns(support=pl.col("weight") * pl.col("hits") / pl.col("n"), overlap=pl.col("hits") / pl.col("n"))
        .filter((pl.col("overlap") >= meta.TITLE_MIN_OVERLAP) & (pl.col("support") >= 0.5))
    )
    best = (
        scored.sort("support", "nb", descending=True).group_by(art, maintain_order=True)
        .agg(best_nb=pl.col("nb").first(), best_prose=pl.col("prose_before").first())
    )
    # a supported candidate a few lines above the best one, with no prose between: the headline
    deck = (
        scored.join(best, on=art)
        .filter((pl.col("nb") < pl.col("best_nb")) & (pl.col("best_nb") - pl.col("nb") <= 6)
                & (pl.col("prose_before") == pl.col("best_prose")))
        .group_by(art).agg(pl.col("nb").max().alias("above_nb"))
    )
    chosen = (
        free.select(*art).join(named, on=art, how="left").join(best, on=art, how="left").join(deck, on=art, how="left")
        .select(*art, title_nb=pl.coalesce("named_nb", "above_nb", "best_nb"))
    )
    return pl.concat([fixed, chosen]).with_columns(pl.col("title_nb").cast(pl.Int32))


# --- publication date ----------------------------------------------------------------------------

_MONTH_NUMBER = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}


def _first_date(low: pl.Expr) -> list[pl.Expr]:
    """The first full date of a lower-cased line as a pl.Date (null when impossible or
    ambiguous), and its label ('published', 'updated' or null) from the text before it."""
    from dagster_project.documents.scrape import _DAY, _MON, _YEAR

    dmy = low.str.extract_groups(rf"(?-u:\b)({_DAY})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MON})\.?,?\s+({_YEAR})(?-u:\b)")
    mdy = low.str.extract_groups(rf"(?-u:\b)({_MON})\.?\s+({_DAY})(?:st|nd|rd|th)?,?\s+({_YEAR})(?-u:\b)")
    ymd = low.str.extract_groups(rf"(?-u:\b)({_YEAR})[-/]([01][0-9])[-/]([0-3][0-9])")
    num = low.str.extract_groups(rf"(?-u:\b)([0-9]{{1,2}})[./]([0-9]{{1,2}})[./]({_YEAR})(?-u:\b)")

    def month(e: pl.Expr) -> pl.Expr:
        return e.str.slice(0, 3).replace_strict(_MONTH_NUMBER, default=None, return_dtype=pl.Int32)

    def as_date(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
        return pl.concat_str(y.cast(pl.String), m.cast(pl.Int32).cast(pl.String).str.zfill(2),
                             d.cast(pl.Int32).cast(pl.String).str.zfill(2), separator="-").str.to_date(strict=False)

    pos = {
        "dmy": low.str.find(rf"(?-u:\b){_DAY}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MON}\.?,?\s+{_YEAR}(?-u:\b)"),
        "mdy": low.str.find(rf"(?-u:\b){_MON}\.?\s+{_DAY}(?:st|nd|rd|th)?,?\s+{_YEAR}(?-u:\b)"),
        "ymd": low.str.find(rf"(?-u:\b){_YEAR}[-/][01][0-9][-/][0-3][0-9]"),
        "num": low.str.find(rf"(?-u:\b)[0-9]{{1,2}}[./][0-9]{{1,2}}[./]{_YEAR}(?-u:\b)"),
    }
    a, b = num.struct.field("1").cast(pl.Int32), num.struct.field("2").cast(pl.Int32)
    values = {
        "dmy": as_date(dmy.struct.field("3"), month(dmy.struct.field("2")), dmy.struct.field("1")),
        "mdy": as_date(mdy.struct.field("3"), month(mdy.struct.field("1")), mdy.struct.field("2")),
        "ymd": as_date(ymd.struct.field("1"), ymd.struct.field("2"), ymd.struct.field("3")),
        # day and month told apart only when one of them exceeds 12
        "num": pl.when((a > 12) & (b <= 12)).then(as_date(num.struct.field("3"), b, a))
        .when((b > 12) & (a <= 12)).then(as_date(num.struct.field("3"), a, b)),
    }
    first = pl.min_horizontal(*pos.values())
    value = pl.coalesce(*[pl.when(p == first).then(v) for p, v in zip(pos.values(), values.values())])
    before = low.str.slice(0, first)
    label = (
        pl.when(before.str.contains(r"(?-u:\b)(?:updated|modified|edited)(?-u:\b)")).then(pl.lit("updated"))
        .when(before.str.contains(r"(?-u:\b)(?:published|posted)(?-u:\b)|published")).then(pl.lit("published"))
    )
    return [value.alias("date"), label.alias("label")]


def _dates(nb: pl.DataFrame, members: pl.DataFrame, titles: pl.DataFrame, bounds: pl.DataFrame) -> pl.DataFrame:
    """(file_id, article_index) -> published_date, date_nb. The place ranks first: between the
    headline and the article's first body line, then the few lines above the headline, then the
    metadata lines among the article's first lines; then the label (published, none, updated)."""
    art = ["file_id", "article_index"]
    spans = bounds.join(titles, on=art, how="left")
    rows = (
        nb.filter(~pl.col("in_body") & pl.col("low").str.contains(DATE_PATTERN))
        .select("file_id", "nb", "low")
        .join(spans, on="file_id")
        .with_columns(top=pl.coalesce(pl.col("title_nb") - 6, pl.col("first_nb") - HEADER_LINES))
        .filter(
            (pl.col("nb") > pl.col("prev_last_nb")) & (pl.col("nb") >= pl.col("top"))
            & (pl.col("nb") < pl.col("first_nb") + EARLY_METADATA_LINES)
        )
        .with_columns(
            place=pl.when(pl.col("nb") > pl.col("first_nb")).then(2)
            .when(pl.col("title_nb").is_not_null() & (pl.col("nb") < pl.col("title_nb"))).then(1).otherwise(0),
            *_first_date(pl.col("low")),
        )
        .drop_nulls("date")
        .with_columns(label_rank=pl.col("label").replace_strict({"published": 0, "updated": 2}, default=1,
                                                                   return_dtype=pl.Int32))
    )
    return (
        rows.sort("place", "label_rank", "nb").group_by(art, maintain_order=True)
        .agg(published_date=pl.col("date").first(), date_nb=pl.col("nb").first())
    )


# --- authors -------------------------------------------------------------------------------------

def _authors(nb: pl.DataFrame, bounds: pl.DataFrame, titles: pl.DataFrame, dates: pl.DataFrame,
             texts: pl.DataFrame) -> pl.DataFrame:
    """(file_id, article_index) -> authors (list), author_nbs (the lines they were read from).

    From the header zone (a byline, a 'By' line with names under it, a name line next to the
    date or a relative time), else a closing signature or bio, an 'Authors' block after the
    article, or '<Name> reports.' in the text. Only those few lines reach Python."""
    art = ["file_id", "article_index"]
    spans = bounds.join(titles, on=art, how="left").join(dates, on=art, how="left")
    zone = (
        nb.filter(~pl.col("in_body") & (pl.col("n_words") <= 20))
        .select("file_id", "nb", "line", "byline", "low")
        .join(spans, on="file_id")
        .filter(
            (pl.col("nb") > pl.col("prev_last_nb"))
            & (pl.col("nb") >= pl.coalesce("title_nb", pl.col("first_nb") - HEADER_LINES))
            & (pl.col("nb") < pl.col("first_nb") + EARLY_METADATA_LINES)
        )
    )
    near_time = pl.col("low").str.contains(r"(?-u:\b)[0-9]+\s+(?:seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?)\s+ago")
    by_alone = pl.col("low").str.contains(r"^by:?$")
    zone = zone.with_columns(
        after_by=pl.when(by_alone).then(pl.col("nb")).forward_fill().over(art),
        time_nb=pl.when(near_time).then(pl.col("nb")).forward_fill().over(art),
    ).filter(
        pl.col("byline") | by_alone | (pl.col("nb") - pl.col("after_by") <= 12)
        | ((pl.col("nb") - pl.col("date_nb")).abs() <= 3) | near_time
    )
    found: list[dict] = []
    groups: dict[tuple[str, int], list[dict]] = {}
    for r in zone.sort("file_id", "article_index", "nb").select(*art, "nb", "line", "date_nb").iter_rows(named=True):
        groups.setdefault((r["file_id"], r["article_index"]), []).append(r)
    for (file_id, index), group in groups.items():
        rows = [{"line_no": r["nb"], "line": r["line"]} for r in group]
        names, used = meta.byline_authors(rows, group[0]["date_nb"])
        if names:
            found.append(dict(file_id=file_id, article_index=index, authors=names, author_nbs=used))
    fid = nb.schema["file_id"]
    header = pl.DataFrame(found, schema={"file_id": fid, "article_index": pl.Int32,
                                         "authors": pl.List(pl.String), "author_nbs": pl.List(pl.Int32)})
    # closing signatures and bios: the article's last 3 body lines and the lines after it
    closing = (
        nb.filter(pl.col("signature") | pl.col("bio")).select("file_id", "nb", "line")
        .join(bounds, on="file_id")
        .filter((pl.col("nb") >= pl.col("last_nb") - 3) & (pl.col("nb") <= pl.col("last_nb") + TRAILER_LINES)
                & (pl.col("nb") < pl.col("next_first_nb")))
        .with_columns(name=pl.coalesce(pl.col("line").str.extract(meta.SIGNATURE_REGEX, 1),
                                       pl.col("line").str.extract(meta.BIO_REGEX, 1)))
        .drop_nulls("name")
        .group_by(art).agg(pl.col("name").unique(maintain_order=True).alias("closing"),
                           pl.col("nb").alias("closing_nbs"))
    )
    # an "Authors" block after the article
    block_rows = (
        nb.select("file_id", "nb", "line", "low").join(bounds, on="file_id")
        .filter((pl.col("nb") > pl.col("last_nb")) & (pl.col("nb") <= pl.col("last_nb") + TRAILER_LINES)
                & (pl.col("nb") < pl.col("next_first_nb")))
        .with_columns(head=pl.when(pl.col("low").str.contains(_AUTHOR_BOX))
                      .then(pl.col("nb")).forward_fill().over(art))
        .filter(pl.col("head").is_not_null() & (pl.col("nb") > pl.col("head")) & (pl.col("nb") <= pl.col("head") + 5))
    )
    block = [dict(file_id=r["file_id"], article_index=r["article_index"], name=r["line"])
             for r in block_rows.select(*art, "line").to_dicts() if meta.is_person_name(r["line"])]
    block_frame = pl.DataFrame(block, schema={"file_id": fid, "article_index": pl.Int32, "name": pl.String})
    block_frame = block_frame.group_by(art).agg(pl.col("name").alias("block"))
    # "<Name> reports." in the text
    reports = texts.select(*art, found=pl.col("text").str.extract_all(r"(?:^|[.!?] )[A-Z][a-z]+(?: [A-Z][a-z]+){1,2} reports\.(?:\n|$)"))
    reports = reports.explode("found", empty_as_null=True).drop_nulls("found")
    reports = [dict(file_id=r["file_id"], article_index=r["article_index"], name=n)
               for r in reports.to_dicts() for n in meta.reports_authors(r["found"].lstrip(".!? "))]
    reports_frame = pl.DataFrame(reports, schema={"file_id": fid, "article_index": pl.Int32,
                                                  "name": pl.String}).group_by(art).agg(pl.col("name").alias("reports"))
    out = (
        bounds.select(art).join(header, on=art, how="left").join(closing, on=art, how="left")
        .join(block_frame, on=art, how="left").join(reports_frame, on=art, how="left")
        .with_columns(
            authors=pl.coalesce("authors", "closing", "block", "reports"),
            author_nbs=pl.when(pl.col("authors").is_not_null()).then(pl.col("author_nbs"))
            .otherwise(pl.lit([], dtype=pl.List(pl.Int32))),
        )
    )
    return out.select(*art, "authors", "author_nbs", pl.col("closing_nbs").fill_null([]))


# --- publisher -----------------------------------------------------------------------------------

def _publishers(nb: pl.DataFrame, raw: pl.DataFrame, domains: dict[str, str]) -> pl.DataFrame:
    """file_id -> publisher: a copyright line, a masthead in capitals, the site's own links, or a
    short Title Case line closing the file."""
    ends = nb.with_columns(last=pl.col("nb") == pl.col("nb").max().over("file_id"))
    few = ends.filter(pl.col("legal") | (pl.col("nb") < 5) | pl.col("last") | pl.col("line").str.contains(r"\bat [A-Z]"))
    out = []
    hosts: dict[str, str | None] = {}
    if domains:
        host_rows = (
            raw.select("file_id", pl.col("raw_text").str.extract_all(r"https?://([\w.-]+)").alias("url"))
            .explode("url", empty_as_null=True).drop_nulls("url")
            .with_columns(host=pl.col("url").str.replace(r"^https?://(?:www\.)?", "").str.to_lowercase())
            .filter(pl.col("host").is_in(list(domains)))
            .group_by("file_id", "host").len().sort("file_id", "len", descending=[False, True])
            .group_by("file_id", maintain_order=True).first()
        )
        hosts = {f: domains[h] for f, h in zip(host_rows["file_id"], host_rows["host"])}
    by_file: dict[str, list[dict]] = {}
    for r in few.sort("file_id", "nb").select("file_id", "line", "n_words", "legal", "bullet").iter_rows(named=True):
        by_file.setdefault(r["file_id"], []).append(r)
    for file_id, rows in by_file.items():
        publisher = meta.publisher_from_lines(rows) or hosts.get(file_id) or meta.trailing_site_name(rows)
        out.append(dict(file_id=file_id, publisher=publisher))
    return pl.DataFrame(out, schema={"file_id": nb.schema["file_id"], "publisher": pl.String})


# --- all of it -----------------------------------------------------------------------------------

def assemble(lines: pl.DataFrame, raw: pl.DataFrame, domains: dict[str, str],
             file_id_dtype: pl.DataType = pl.String) -> pl.DataFrame:
    """Lines of `scrape.text_lines` -> ARTICLE_SCHEMA rows (file_id of `file_id_dtype`)."""
    import time as _t
    _T = [_t.perf_counter()]

    def tick(label):
        if TIMINGS is not None:
            TIMINGS.append((label, _t.perf_counter() - _T[0]))
        _T[0] = _t.perf_counter()

    art = ["file_id", "article_index"]
    nb = _nonblank(lines)
    body = _body_chunks(nb)
    members = pl.concat([_single_articles(body, nb), _listing_articles(nb, body)])
    tick("chunks")
    titles = _headlines(nb, members)
    tick("titles")
    # members minus the headline when it opened the article (an "opener")
    members = members.join(titles, on=art, how="left").filter(
        pl.col("title_nb").is_null() | (pl.col("nb") != pl.col("title_nb"))).drop("title_nb")
    bounds = (
        members.group_by(art).agg(first_nb=pl.col("nb").min(), last_nb=pl.col("nb").max())
        .sort("file_id", "article_index")
        .with_columns(
            prev_last_nb=pl.col("last_nb").shift(1).over("file_id").fill_null(-1),
            next_first_nb=pl.col("first_nb").shift(-1).over("file_id").fill_null(2**30),
        )
    )
    dates = _dates(nb, members, titles, bounds)
    tick("dates")
    # closing bios (prose) are not body; signatures never were
    bios = (
        nb.filter(pl.col("bio")).select("file_id", "nb").join(bounds, on="file_id")
        .filter(pl.col("nb") >= pl.col("last_nb") - 3).filter(pl.col("nb") <= pl.col("last_nb"))
        .select("file_id", "nb", pl.lit(True).alias("closing_bio"))
    )
    members = members.join(bios, on=["file_id", "nb"], how="left").filter(pl.col("closing_bio").is_null())
    texts = (
        members.join(nb.select("file_id", "nb", "line"), on=["file_id", "nb"])
        .sort("file_id", "article_index", "nb")
        .group_by(art, maintain_order=True).agg(text=pl.col("line").str.join("\n\n"))
    )
    authors = _authors(nb, bounds, titles, dates, texts)
    tick("authors")
    publishers = _publishers(nb, raw, domains)
    tick("publishers")
    removed = _removed(nb, members, bounds, titles, dates, authors)
    tick("removed")
    return (
        texts.join(titles, on=art, how="left")
        .join(nb.select("file_id", pl.col("nb").alias("title_nb"), pl.col("line").alias("title")),
              on=["file_id", "title_nb"], how="left")
        .join(dates, on=art, how="left")
        .join(authors, on=art, how="left")
        .join(publishers, on="file_id", how="left")
        .join(removed, on=art, how="left")
        .with_columns(
            authors=pl.when(pl.col("authors").list.len() > 0).then(
                pl.col("authors").list.unique(maintain_order=True)
                .list.set_difference(pl.concat_list(pl.col("publisher").fill_null("")))
                .list.join("; ")),
        )
        .with_columns(authors=pl.when(pl.col("authors") != "").then(pl.col("authors")))
        .sort("file_id", "article_index")
        .select(list(ARTICLE_SCHEMA))
        .cast({**ARTICLE_SCHEMA, "file_id": file_id_dtype})
    )


def _removed(nb: pl.DataFrame, members: pl.DataFrame, bounds: pl.DataFrame, titles: pl.DataFrame,
             dates: pl.DataFrame, authors: pl.DataFrame) -> pl.DataFrame:
    """(file_id, article_index) -> removed: every non-blank line of the file that is in no
    article's body, counted by reason for one article (the next one that ends after it, else the
    file's last), so that no line disappears without a trace."""
    art = ["file_id", "article_index"]
    used = pl.concat([
        titles.drop_nulls("title_nb").select("file_id", pl.col("title_nb").alias("nb"), pl.lit("title").alias("use")),
        dates.select("file_id", pl.col("date_nb").alias("nb"), pl.lit("metadata").alias("use")),
        authors.select("file_id", pl.col("author_nbs").alias("nb")).explode("nb", empty_as_null=True).drop_nulls("nb")
        .with_columns(use=pl.lit("metadata")),
    ]).unique(["file_id", "nb"], keep="first")
    owner = bounds.select("file_id", "article_index", pl.col("last_nb")).sort("file_id", "last_nb")
    out_rows = (
        nb.join(members.select("file_id", "nb", pl.lit(True).alias("member")), on=["file_id", "nb"], how="left")
        .filter(pl.col("member").is_null())
        .join(used, on=["file_id", "nb"], how="left")
        .sort("file_id", "nb")
        .join_asof(owner, left_on="nb", right_on="last_nb", by="file_id", strategy="forward", check_sortedness=False)
    )
    last = bounds.group_by("file_id").agg(pl.col("article_index").max().alias("last_article"))
    reason = (
        pl.when(pl.col("use") == "title").then(pl.lit("title"))
        .when(pl.col("removed_reason").is_not_null()).then(pl.col("removed_reason"))
        .when(pl.col("use").is_not_null()).then(pl.col("use"))
        .when(pl.col("bio")).then(pl.lit("byline"))
        .when(pl.col("in_body") & pl.col("prose")).then(pl.lit("prose_outside_article"))
        .otherwise(pl.lit("short_line"))
    )
    return (
        out_rows.join(last, on="file_id", how="inner")
        .with_columns(article_index=pl.coalesce("article_index", "last_article"), reason=reason)
        .group_by(*art, "reason").agg(pl.len().cast(pl.Int32).alias("lines"))
        .sort(*art, "reason")
        .group_by(art, maintain_order=True)
        .agg(removed=pl.struct("reason", "lines"))
    )
