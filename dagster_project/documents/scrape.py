"""Plain-text scrapes of web pages -> the lines that make up their articles.

A text scrape keeps every visible block of a page as a line: menus, share bars, cookie
notices, related-article lists and footers around the article. This module decides, for
every line, whether it belongs to an article, and says why when it does not.

Flow (every step is a polars expression over all lines of all files at once):

1. `split_lines`: files (file_id, raw_text) -> lines (file_id, line_no, indent, line). The
   indentation of the raw line is kept as a feature: a renderer such as inscriptis, lynx or
   w3m indents nested blocks, so the paragraphs of one article share one indentation.
2. `line_features`: words, sentence punctuation, bullets, captions, legal notices, and two
   corpus statistics: how often the line recurs in its own file, and in how many files of
   the collection it occurs. Lines that recur across documents are boilerplate (menus,
   share bars, newsletter boxes, footers): corpus statistics, not a list of phrases.
3. `score_lines`: a line is *prose* when it reads like a sentence (at least 6 words ending
   with sentence punctuation, or 25 words). Prose scores +words, every other non-blank line
   a small penalty.
4. `content_segments`: the maximal-scoring runs of lines (maximum subsequence segmentation,
   Pasternack & Roth 2009, "Extracting article text from the web with maximum subsequence
   segmentation"), found again left and right of each run until no run reaches
   MIN_SEGMENT_SCORE. An article is one or a few such runs; a related box, a comment or a
   cookie notice between them ends a run, not the document.
5. `select_body_lines`: inside a kept run, prose lines and the headings between them are
   body; a box nested deeper than the run's own paragraphs (an aside, a "most read" list) is
   left out unless it is mostly prose (a block quote, a list of sentences). Every other
   non-blank line gets a `removed_reason`.

Measured on ../shared/benchmarks/webpages/txt (`python3 tasks.py eval`), never tuned to a
page: the stopword-density feature of jusText was measured too and left out (it lowered F1).
"""

from __future__ import annotations

import polars as pl

# --- character cleaning ------------------------------------------------------------------

QUOTE_FOLD = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
}
_PRE_FOLD = {k: v for k, v in QUOTE_FOLD.items() if k not in ("\u2032", "\u2033")}
_SPACES = r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]"


def clean_whole_text(expr: pl.Expr) -> pl.Expr:
    """Steps that need the whole text: line endings, byte-order marks, markup spanning lines."""
    return (
        expr.str.replace_all("\r\n?", "\n")
        .str.replace_all("\ufeff", "")
        .str.replace_all(r"(?s)\[interstitial_link[^\]]*\].*?\[/interstitial_link\]", "")
        .str.replace_all(r"\[/?interstitial_link[^\]]*\]", "")
    )


def clean_line(expr: pl.Expr) -> pl.Expr:
    """Character-level normalization of text without line breaks: NFKC, ASCII quotes, no control
    or zero-width characters, runs of spaces collapsed, no leading or trailing space."""
    return (
        expr.str.normalize("NFKC")
        .str.replace_many(list(QUOTE_FOLD), list(QUOTE_FOLD.values()))
        # soft hyphens, zero-width characters and BOMs join words: remove them;
        # C0/C1 controls other than \n separate words: make them spaces
        .str.replace_all(r"[\u00ad\u200b-\u200d\u2060\ufeff]", "")
        .str.replace_all(r"[\u200e\u200f\x00-\x09\x0b-\x1f\x7f-\x9f]", " ")
        .str.replace_all(_SPACES + "+", " ")
        .str.strip_chars(" ")
    )


def clean_text(expr: pl.Expr) -> pl.Expr:
    """The same normalization for a whole text, line breaks kept (used on titles, benchmark
    texts and gold anchors)."""
    return (
        clean_whole_text(expr)
        .str.normalize("NFKC")
        .str.replace_many(list(QUOTE_FOLD), list(QUOTE_FOLD.values()))
        .str.replace_all(r"[\u00ad\u200b-\u200d\u2060\ufeff]", "")
        .str.replace_all(r"[\u200e\u200f\x00-\x09\x0b-\x1f\x7f-\x9f]", " ")
        .str.replace_all(_SPACES + "+", " ")
        .str.replace_all(r"(?m)^ +| +$", "")
    )


def fold_text(text: str) -> str:
    """`clean_text` for one Python string (gold anchors, tests)."""
    return pl.select(clean_text(pl.lit(text, dtype=pl.String))).item()


# --- lines and their features --------------------------------------------------------------

_BULLET = r"^(?:[*+•·▪►◦‣○●■□–—-]|\d{1,2}[.)])(?:\s|$)"
_SENTENCE_END = r"[.!?…。！？:;]['\")\]]*$|['\"”’)]$"
# Photo credits and caption markers, in the forms news sites use everywhere. Agency credits
# ("(Rahmat Gul/Associated Press)", "REUTERS/Yulia Morozova.") are matched case-sensitively and
# only at the end of a line, so that "killing/injuring" or "and/or" in a sentence never is one.
_CAPTION_PATTERNS = (
    r"\([A-Z][^()/]{1,40}(?:/[A-Z][^()/]{1,40}){1,3}\)\.?\s*$",
    r"(?-u:\b)[A-Z]{2,}/[A-Z][a-z]+(?: [A-Z][a-z]+){0,2}\.?$",
)
# The same on the lower-cased line.
_CAPTION_PATTERNS_LOWER = (
    r"\((?:picture|photo|photograph|image|credit|source|video)s?\s*:[^()]*\)\s*$",
    r"(?-u:\b)(?:photo|image|picture|video)\s+credits?\s*:|(?-u:\b)credit\s*:\s*\S.{0,60}$",
    r"^(?:photo|image|picture|photograph|video|screenshot|source|map|graphic)s?\s*:",
    r"(?-u:\b)(?:photograph|photo|picture|image|illustration)s?\s*:\s*[^\s:][^:]{0,80}$",
    r"poses? for a (?:picture|photo)|(?:picture|photo) sent to|^getty images$",
    r"(?-u:\b)[0-9]{2,4}x[0-9]{2,4}(?-u:\b)",
)
# Cookie banners, consent dialogs, copyright and anti-spam notices: one genre on every site
# (on the lower-cased line).
_LEGAL = (
    r"©|(?-u:\b)(?:copyright|all rights reserved|cookies?|akismet|recaptcha|privacy (?:policy|notice|settings)"
    r"|terms (?:of (?:use|service)|and conditions))(?-u:\b)|(?-u:\b)adblock"
    r"|(?-u:\b)consent(?-u:\b).{0,80}(?-u:\b)(?:partners|preferences|data)(?-u:\b)"
    r"|(?-u:\b)personal (?:data|information)(?-u:\b).{0,80}(?-u:\b)(?:opt[ -]out|sell|partners|advertis)"
)
# Labels of page controls, in any combination ("Share on FacebookShare on Twitter", "613 VIEWS",
# "Skip to main content", "Load more"): a line made only of these words (and numbers) is a
# widget, not text. Lower-cased, on lines of at most 8 words, camel-case glue split first.
_UI_WORDS = (
    "share|shares|shared|on|via|facebook|twitter|x|whatsapp|linkedin|reddit|pinterest|telegram|instagram|youtube|tiktok"
    "|flipboard|pocket|email|e-mail|mail|print|tweet|copy|link|links|url|comment|comments|reply|replies|view|views"
    "|like|likes|follow|us|subscribe|subscribed|sign|signup|in|up|out|log|login|logout|register|account|menu|search"
    "|home|skip|to|main|content|navigation|load|more|show|less|read|next|previous|prev|back|top|close|open|toggle"
    "|advertisement|advertising|ad|ads|sponsored|save|saved|bookmark|download|app|the|min|mins|minute|minutes|read"
    "|listen|watch|play|video|photo|photos|gallery|all|results|result|no|view|see|and|or|rss|feed|newsletter"
)
# (no word boundaries: labels glued together, "share on facebookshare on twitter", still match,
# and a word that merely starts like one, "shareholders", does not)
_UI_LINE = rf"^(?:{_UI_WORDS}|[0-9.,:/|·•*+()\[\]-]|\s)+$"
# Inline promotions of other pages: "READ MORE: <headline>", "Related: <headline>" (lower-cased).
_PROMO = r"^(?:read more|read next|related|see also|also read|read also|more|watch|listen|recommended|don't miss|must read)\s*:"
# "Home > News > Politics", "World » Asia » Afghanistan": a trail of links, not a sentence.
_BREADCRUMB = r"^(?:[Hh]ome|HOME)\s*[»>›|/]|^[^»>›|]{1,60}(?:\s[»>›|]\s[^»>›|]{1,120}){2,}$"
# Metadata lines, on the lower-cased line: full dates, times, date words, bylines.
_MON = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
        r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_DAY = r"(?:[12][0-9]|3[01]|0?[1-9])"
_YEAR = r"(?:19[5-9][0-9]|20[0-9][0-9])"
DATE_PATTERN = (
    rf"(?-u:\b){_DAY}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MON}\.?,?\s+{_YEAR}(?-u:\b)"
    rf"|(?-u:\b){_MON}\.?\s+{_DAY}(?:st|nd|rd|th)?,?\s+{_YEAR}(?-u:\b)"
    rf"|(?-u:\b){_YEAR}[-/][01][0-9][-/][0-3][0-9]|(?-u:\b)[0-9]{{1,2}}[./][0-9]{{1,2}}[./]{_YEAR}(?-u:\b)"
)
_TIME = r"(?-u:\b)[0-9]{1,2}[:.][0-9]{2}(?::[0-9]{2})?\s*(?:[ap]\.?m\.?)?|(?-u:\b)[0-9]{1,2}\s*[ap]\.?m\.?"
_DATE_WORDS = (
    r"(?-u:\b)(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday)?(?-u:\b)"
    r"|(?-u:\b)(?:first published|published|last updated|updated|posted|modified|on|at|gmt|utc|bst|cet|cest|est|edt|pst|pdt|ist)(?-u:\b)"
)
_BYLINE = r"^(?:[*•·-]\s*)?(?:(?:written|posted|words|reported|story)\s+)?by[:\s]+\p{L}"
PROSE_MIN_WORDS = 6
PROSE_LONG_WORDS = 25


def split_lines(raw: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """(file_id, raw_text) -> one row per line: file_id, line_no, indent, line (cleaned).

    Typographic quotes are folded first (one Aho-Corasick pass); the rest of the normalization
    (NFKC, invisible characters) then runs only on the lines that still hold a character outside
    printable ASCII and the dashes, which NFKC leaves as they are: after folding that is 3 % of the
    lines of English news here, and the result is the same as running it on all of them."""
    lf = raw.lazy() if isinstance(raw, pl.DataFrame) else raw
    raw_line = pl.col("raw_line")
    lines = (
        lf.select("file_id", clean_whole_text(pl.col("raw_text")).str.split("\n").alias("raw_line"))
        .explode("raw_line", empty_as_null=True)
        .with_columns(raw_line.fill_null(""))
        .with_columns(
            line_no=pl.int_range(pl.len()).over("file_id").cast(pl.Int32),
            # leading white space, in characters: only the relative depth matters
            indent=(raw_line.str.len_chars() - raw_line.str.strip_chars_start(" \t\u00a0\u3000").str.len_chars())
            .cast(pl.Int32),
            # (primes are left to NFKC, which turns a double prime into two primes first)
            raw_line=raw_line.str.replace_many(list(_PRE_FOLD), list(_PRE_FOLD.values())),
        )
        .with_columns(plain=~raw_line.str.contains(r"[^\x20-\x7e\u2013\u2014]"))
    )
    plain = lines.filter("plain").with_columns(line=raw_line.str.replace_all(" {2,}", " ").str.strip_chars(" "))
    other = lines.filter(~pl.col("plain")).with_columns(line=clean_line(raw_line))
    return pl.concat([plain, other]).drop("raw_line", "plain").sort("file_id", "line_no")


def line_key(lowered: pl.Expr) -> pl.Expr:
    """The form in which lines are compared across files: (already lower case) digits as 0,
    no bullet."""
    return lowered.str.replace_all(r"[0-9]+", "0").str.replace(r"^(?:[*+•·▪►◦‣○●■□–—-]\s*)", "")


def line_document_frequency(lines: pl.LazyFrame) -> pl.LazyFrame:
    """key -> number of files of the collection in which the line occurs."""
    return (
        lines.filter(pl.col("line") != "")
        .select("file_id", line_key(pl.col("line").str.to_lowercase()).hash().alias("key"))
        .unique()
        .group_by("key")
        .agg(pl.len().cast(pl.Int32).alias("files_with_line"))
    )


def line_features(lines: pl.LazyFrame, document_frequency: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """Adds n_words, ends_sentence, bullet, caption, legal, breadcrumb, repeats (in the file)
    and files_with_line (in the collection; 1 when no collection statistics are given).

    Case-insensitive patterns run on a lower-cased copy with ASCII word boundaries: Unicode
    case folding and `\\b` made them 10-15 times slower here."""
    line, low = pl.col("line"), pl.col("low")
    out = lines.with_columns(low=line.str.to_lowercase()).with_columns(
        # words: runs of non-space (a CJK character carries about half a word of text)
        n_words=(pl.when(line == "").then(0).otherwise(line.str.count_matches(" ", literal=True) + 1)
                 + line.str.count_matches(r"[\p{Han}\p{Hiragana}\p{Katakana}]") // 2).cast(pl.Int32),
        ends_sentence=line.str.contains(_SENTENCE_END),
        bullet=line.str.contains(_BULLET),
        caption=pl.any_horizontal([line.str.contains(p) for p in _CAPTION_PATTERNS]
                                  + [low.str.contains(p) for p in _CAPTION_PATTERNS_LOWER]),
        legal=low.str.contains(_LEGAL),
        breadcrumb=line.str.contains(_BREADCRUMB) | low.str.contains(_PROMO),
        ui_label=low.str.contains(_UI_LINE) & (line.str.count_matches(" ", literal=True) < 8),
        # compared by a 64-bit hash: joins and windows over whole lines cost more than the hash
        key=line_key(low).hash(),
    ).with_columns(
        repeats=pl.len().over("file_id", "key").cast(pl.Int32),
    )
    # a caption printed twice, the second time with its credit: the first copy is a caption too
    following = (
        out.filter(line != "")
        .select("file_id", "line_no", next_line=line.shift(-1).over("file_id"),
                next_caption=pl.col("caption").shift(-1).over("file_id"))
    )
    out = out.join(following, on=["file_id", "line_no"], how="left").with_columns(
        caption=pl.col("caption") | (
            pl.col("next_caption").fill_null(False) & (line.str.len_chars() >= 20)
            & pl.col("next_line").fill_null("").str.starts_with(line) & (pl.col("next_line") != line))
    ).drop("next_line", "next_caption")
    if document_frequency is None:
        out = out.with_columns(files_with_line=pl.lit(1, dtype=pl.Int32))
    else:
        out = out.join(document_frequency, on="key", how="left").with_columns(
            pl.col("files_with_line").fill_null(1))
    return out


def score_lines(features: pl.LazyFrame) -> pl.LazyFrame:
    """Adds `prose`, `recurring` and the segmentation `score`.

    A line that recurs in 2 files of the collection is boilerplate when it is short; a long one
    (syndicated copies of a paragraph exist) needs 3 files. A short line repeated inside its
    own file is a menu entry. Metadata lines (dates, bylines, signatures) are never prose."""
    n = pl.col("n_words")
    recurring = (
        ((pl.col("files_with_line") >= 2) & (n <= 40)) | (pl.col("files_with_line") >= 3)
        | ((pl.col("repeats") >= 2) & (n <= 8))
    )
    prose = (
        ((pl.col("ends_sentence") & (n >= PROSE_MIN_WORDS)) | (n >= PROSE_LONG_WORDS))
        & ~(pl.col("bullet") & (n < 10))
        & ~pl.col("caption") & ~pl.col("legal") & ~pl.col("breadcrumb") & ~pl.col("ui_label")
        & ~pl.col("date_line") & ~pl.col("byline") & ~pl.col("signature")
    )
    # a copy of an article published elsewhere (syndication): most of its prose recurs in other
    # files, and it is that prose, not boilerplate; a disclaimer recurring on every page of a
    # site is a small share of each page's prose
    recurring_prose_share = (
        n.filter(prose & recurring & (n >= PROSE_MIN_WORDS)).sum().over("file_id")
        / n.filter(prose).sum().over("file_id").clip(lower_bound=1)
    )
    recurring = recurring & ~(prose & (recurring_prose_share >= 0.5))
    return features.with_columns(recurring=recurring, prose=prose & ~recurring).with_columns(
        score=pl.when(pl.col("line") == "").then(0)
        .when(pl.col("prose")).then(n)
        .otherwise(-(pl.min_horizontal(n, pl.lit(8)) + 2))
        .cast(pl.Int32)
    )


def metadata_kinds(features: pl.LazyFrame, signature_regex: str, bio_regex: str) -> pl.LazyFrame:
    """Adds the line kinds that carry metadata: `date_line` (a full date with little else: a
    time, a weekday, a label, a name or two), `byline` ("By ..."), `signature` and `bio`
    (patterns from documents/metadata.py), and `named_heading`: a line that another line of the
    file names as its last part (a breadcrumb "Home > News > <headline>", an image's alt text
    "<file name> - <headline>"). The naming alt-text line itself becomes a caption."""
    line, low = pl.col("line"), pl.col("low")
    short = pl.col("n_words") <= 20
    # the part after the first " - " (alt text), the part after the last separator (breadcrumb);
    # literal splits, regexes only on the few lines that hold a separator
    after_dash = line.str.splitn(" - ", 2).struct.field("field_1")
    dash_len = line.str.find(" - ", literal=True)
    alt_of = pl.when((dash_len >= 2) & (dash_len <= 160) & after_dash.str.len_chars().is_between(10, 300)).then(after_dash)
    features = features.with_columns(line_hash=line.hash())
    crumbs = (
        features.filter(line.str.contains_any(["»", ">", "›", "|", "/"]))
        .select("file_id", line.str.extract(r"(?:^|\s)[»>›|/]\s*([^»>›|/]{10,300})$", 1).str.strip_chars().alias("named"))
    )
    suffixes = (
        pl.concat([features.select("file_id", alt_of.alias("named")), crumbs])
        .drop_nulls("named")
        .select("file_id", pl.col("named").hash().alias("line_hash"))
        .unique()
        .with_columns(named_heading=pl.lit(True))
    )
    alt_lines = (
        features.select("file_id", "line_no", alt_of.hash().alias("line_hash"), alt_of.is_not_null().alias("has"))
        .filter("has")
        .join(features.select("file_id", "line_hash").unique(), on=["file_id", "line_hash"])
        .select("file_id", "line_no", pl.lit(True).alias("alt_text"))
    )
    with_date = features.filter(short & low.str.contains(DATE_PATTERN)).select(
        "file_id", "line_no",
        date_line=low.str.replace_all(DATE_PATTERN, " ").str.replace_all(_TIME, " ")
        .str.replace_all(_DATE_WORDS, " ").str.count_matches(r"\p{L}{2,}") <= 5,
    )
    return (
        features.join(suffixes, on=["file_id", "line_hash"], how="left")
        .join(alt_lines, on=["file_id", "line_no"], how="left")
        .join(with_date, on=["file_id", "line_no"], how="left")
        .with_columns(
            named_heading=pl.col("named_heading").fill_null(False),
            date_line=pl.col("date_line").fill_null(False),
            byline=short & low.str.contains(_BYLINE),
            signature=(pl.col("n_words") <= 30) & line.str.contains(signature_regex),
            bio=(pl.col("n_words") <= 80) & line.str.contains(bio_regex),
        )
        .with_columns(caption=(pl.col("caption") | pl.col("alt_text").fill_null(False)) & ~pl.col("date_line"))
        .drop("alt_text", "line_hash")
    )


# --- maximum subsequence segmentation -------------------------------------------------------

MIN_SEGMENT_SCORE = 40
KEEP_SHARE_OF_BEST = 0.3
_MAX_PASSES = 16


def content_segments(scored: pl.LazyFrame) -> pl.DataFrame:
    """Adds `segment` (the segment's first line_no, null outside) and `segment_score`.

    Each pass finds, in every part of every file, the run of consecutive lines with the
    largest score sum (Kadane's algorithm as running sums: the best run ending at a line is its
    prefix sum minus the smallest prefix sum before it). A run reaching MIN_SEGMENT_SCORE is a
    segment; the lines left and right of it become two new parts for the next pass. The passes
    run on a narrow frame (row, integer part key, line_no, score) that stays in file order."""
    frame = scored.collect() if isinstance(scored, pl.LazyFrame) else scored
    frame = frame.sort("file_id", "line_no").with_row_index("_row")
    work = frame.select(
        "_row", "line_no", "score",
        key=pl.col("file_id").rank("dense").cast(pl.Int64) * (1 << 24),
    )
    done: list[pl.DataFrame] = []
    for n_pass in range(_MAX_PASSES):
        if n_pass > 0:
            # a part whose positive scores sum to less than MIN_SEGMENT_SCORE holds no segment
            work = work.filter(pl.col("score").clip(lower_bound=0).sum().over("key") >= MIN_SEGMENT_SCORE)
        if work.height == 0:
            break
        ranked = (
            work.lazy()
            .with_columns(prefix=pl.col("score").cum_sum().over("key"))
            .with_columns(before=pl.col("prefix") - pl.col("score"))
            .with_columns(lowest=pl.col("before").cum_min().over("key"))
            .with_columns(
                gain=pl.col("prefix") - pl.col("lowest"),
                start=pl.when(pl.col("before") == pl.col("lowest")).then(pl.col("line_no"))
                .forward_fill().over("key"),
            )
            .with_columns(best_gain=pl.col("gain").max().over("key"))
            .with_columns(
                # the first line where the best gain is reached ends the segment
                best_end=pl.when(pl.col("gain") == pl.col("best_gain")).then(pl.col("line_no")).min().over("key"),
            )
            .with_columns(
                best_start=pl.when(pl.col("line_no") == pl.col("best_end")).then(pl.col("start")).max().over("key"),
            )
            # a short file (an incident report, a note) may hold less than MIN_SEGMENT_SCORE of prose
            .with_columns(found=(pl.col("best_gain") >= MIN_SEGMENT_SCORE) | (
                (pl.col("best_gain") >= PROSE_MIN_WORDS) if n_pass == 0 else pl.lit(False)))
            .with_columns(inside=pl.col("found") & pl.col("line_no").is_between(pl.col("best_start"), pl.col("best_end")))
            .collect()
        )
        done.append(ranked.filter("inside").select("_row", segment=pl.col("best_start"), segment_score=pl.col("best_gain")))
        work = ranked.filter(pl.col("found") & ~pl.col("inside")).select(
            "_row", "line_no", "score",
            key=pl.col("key") * 2 + (pl.col("line_no") > pl.col("best_end")).cast(pl.Int64) + 1,
        )
    found = pl.concat([d.cast({"segment": pl.Int32, "segment_score": pl.Int32}) for d in done]) if done else \
        pl.DataFrame(schema={"_row": pl.UInt32, "segment": pl.Int32, "segment_score": pl.Int32})
    out = frame.join(found, on="_row", how="left").sort("_row").drop("_row")
    return _keep_segments(out)


REVIVE_GAP_LINES = 12


def _keep_segments(lines: pl.DataFrame) -> pl.DataFrame:
    """Weak segments (below KEEP_SHARE_OF_BEST of the file's best) are teasers, comments or
    notices, unless their paragraphs sit at the same indentation (> 0) as a strong segment at
    most REVIVE_GAP_LINES non-blank lines away: then an inline box (a newsletter sign-up, a
    video) had cut the article in two."""
    lines = lines.with_columns(nb_index=(pl.col("line") != "").cast(pl.Int32).cum_sum().over("file_id"))
    segs = (
        lines.filter(pl.col("segment").is_not_null())
        .group_by("file_id", "segment")
        .agg(
            score=pl.col("segment_score").first(),
            first=pl.col("nb_index").min(),
            last=pl.col("nb_index").max(),
            container=pl.col("indent").filter(pl.col("prose")).mode().first(),
        )
        .sort("file_id", "first")
        .with_columns(strong=pl.col("score") >= KEEP_SHARE_OF_BEST * pl.col("score").max().over("file_id"))
    )
    strong_last = pl.when(pl.col("strong")).then(pl.col("last"))
    strong_first = pl.when(pl.col("strong")).then(pl.col("first"))
    strong_container = pl.when(pl.col("strong")).then(pl.col("container"))
    segs = segs.with_columns(
        prev_last=strong_last.shift(1).forward_fill().over("file_id"),
        prev_container=strong_container.shift(1).forward_fill().over("file_id"),
        next_first=strong_first.shift(-1).backward_fill().over("file_id"),
        next_container=strong_container.shift(-1).backward_fill().over("file_id"),
    ).with_columns(
        kept=pl.col("strong") | (
            (pl.col("container") > 0) & (
                ((pl.col("first") - pl.col("prev_last") <= REVIVE_GAP_LINES)
                 & (pl.col("container") == pl.col("prev_container")))
                | ((pl.col("next_first") - pl.col("last") <= REVIVE_GAP_LINES)
                   & (pl.col("container") == pl.col("next_container")))
            ).fill_null(False)
        )
    )
    out = lines.join(segs.select("file_id", "segment", "kept"), on=["file_id", "segment"], how="left")
    return out.with_columns(
        segment=pl.when(pl.col("kept").fill_null(False)).then(pl.col("segment")),
        weak_segment=pl.col("segment").is_not_null() & ~pl.col("kept").fill_null(False),
    ).drop("kept").sort("file_id", "line_no")


# --- body lines -------------------------------------------------------------------------------

HEADING_MAX_WORDS = 15


def select_body_lines(segmented: pl.DataFrame) -> pl.DataFrame:
    """Adds `in_body` and `removed_reason` (null for body and blank lines).

    Inside a segment: prose is body; a short line between two prose lines of the segment is a
    subheading (body) unless it is a bullet, a caption, a legal notice or boilerplate that
    recurs; a run of lines indented deeper than the segment's paragraphs is a nested box,
    kept only when most of its words are prose."""
    seg = pl.col("segment")
    over_seg = ["file_id", "segment"]
    lf = segmented.lazy().with_columns(
        # the indentation of most of the segment's prose words: the article's container
        container=pl.col("indent").filter(pl.col("prose")).mode().first().over(over_seg),
    )
    nested = seg.is_not_null() & (pl.col("indent") > pl.col("container")) & (pl.col("line") != "")
    lf = lf.with_columns(nested=nested)
    # runs of consecutive non-blank nested lines (blank lines do not break a run)
    lf = lf.with_columns(
        nested_run=pl.when(pl.col("line") != "").then(
            (pl.col("nested") != pl.col("nested").shift(1).over("file_id")).fill_null(True).cast(pl.Int32)
        )
    )
    lf = lf.with_columns(
        nested_run=pl.col("nested_run").fill_null(0).cum_sum().over("file_id"),
    ).with_columns(
        nested_prose_share=(
            pl.col("n_words").filter(pl.col("prose")).sum().over("file_id", "nested_run")
            / pl.col("n_words").sum().over("file_id", "nested_run").clip(lower_bound=1)
        )
    )
    prose_line_no = pl.when(pl.col("prose") & seg.is_not_null()).then(pl.col("line_no"))
    nonblank = pl.col("line") != ""
    lf = lf.with_columns(
        prev_prose=prose_line_no.forward_fill().over(over_seg),
        next_prose=prose_line_no.backward_fill().over(over_seg),
    )
    # a run of 3+ consecutive non-blank lines that are not prose is a list of links (a "related"
    # box, a tag list), not subheadings: a subheading stands alone between paragraphs
    runs = (
        lf.filter(nonblank).select(
            "file_id", "line_no",
            run=(pl.col("prose") != pl.col("prose").shift(1).over("file_id")).fill_null(True).cast(pl.Int32)
            .cum_sum().over("file_id"),
        )
        .with_columns(run_length=pl.len().over("file_id", "run"))
        .select("file_id", "line_no", "run_length")
    )
    lf = lf.join(runs, on=["file_id", "line_no"], how="left")
    heading = (
        (pl.col("n_words") >= 1) & (pl.col("n_words") <= HEADING_MAX_WORDS)
        & ~pl.col("bullet") & ~pl.col("caption") & ~pl.col("legal") & ~pl.col("recurring") & ~pl.col("breadcrumb")
        & ~pl.col("ui_label") & pl.col("prev_prose").is_not_null() & pl.col("next_prose").is_not_null()
        & (pl.col("run_length").fill_null(1) < 3)
        & (pl.col("line").str.contains(r"\p{L}"))
    )
    box_kept = ~pl.col("nested") | (pl.col("nested_prose_share") >= 0.5)
    metadata = pl.col("date_line") | pl.col("byline") | pl.col("signature")
    in_body = seg.is_not_null() & box_kept & (pl.col("prose") | heading) & ~metadata
    blank = pl.col("line") == ""
    reason = (
        pl.when(blank | in_body).then(None)
        .when(pl.col("date_line")).then(pl.lit("date"))
        .when(pl.col("byline") | pl.col("signature")).then(pl.lit("byline"))
        .when(pl.col("legal")).then(pl.lit("legal"))
        .when(pl.col("caption")).then(pl.lit("caption"))
        .when(pl.col("recurring") & (pl.col("files_with_line") >= 2)).then(pl.lit("recurs_across_files"))
        .when(pl.col("recurring")).then(pl.lit("repeated_in_file"))
        .when(seg.is_not_null() & ~box_kept).then(pl.lit("nested_box"))
        .when(seg.is_null() & pl.col("prose")).then(pl.lit("prose_outside_article"))
        .when(pl.col("bullet") | pl.col("ui_label") | pl.col("breadcrumb") | (pl.col("n_words") <= 4))
        .then(pl.lit("navigation"))
        .otherwise(pl.lit("short_line"))
    )
    return lf.with_columns(in_body=in_body, removed_reason=reason).collect()


SHORT_FILE_LINES = 5


def short_file_fallback(lines: pl.DataFrame) -> pl.DataFrame:
    """A file with no content run at all (a short note, a one-paragraph incident report, a
    headline): its lines of at least 4 words (3 for a sentence) that are not navigation, page
    controls, boilerplate or metadata
    are the body, if they hold at least 4 words in all ("A bombing occurred in Trang."). In a file of at most SHORT_FILE_LINES
    lines, a line that recurs across files still counts: a collection of short reports repeats
    whole sentences ("A bomb killed 3 in Quetta" and "... 5 in Quetta" share a key), and a file
    that small is not page furniture."""
    small = (pl.col("line") != "").sum().over("file_id") <= SHORT_FILE_LINES
    keepable = (
        ((pl.col("n_words") >= 4) | (pl.col("ends_sentence") & (pl.col("n_words") >= 3)))
        & ~pl.col("bullet") & ~pl.col("legal") & (~pl.col("recurring") | small) & ~pl.col("ui_label")
        & ~pl.col("caption") & ~pl.col("date_line") & ~pl.col("byline") & ~pl.col("breadcrumb")
    )
    no_body = ~pl.col("in_body").any().over("file_id")
    enough = pl.col("n_words").filter(keepable).sum().over("file_id") >= 4
    fallback = no_body & enough & keepable
    return lines.with_columns(
        in_body=pl.col("in_body") | fallback,
        segment=pl.when(fallback).then(pl.lit(0, dtype=pl.Int32)).otherwise(pl.col("segment")),
        segment_score=pl.when(fallback).then(pl.col("n_words").filter(fallback).sum().over("file_id"))
        .otherwise(pl.col("segment_score")).cast(pl.Int32),
        removed_reason=pl.when(fallback).then(None).otherwise(pl.col("removed_reason")),
    )


def file_line_keys(raw: pl.DataFrame) -> pl.DataFrame:
    """(file_id, raw_text) -> the distinct (file_id, key) of its non-empty lines: what the
    collection's line statistics count (kept per file so that an incremental run can add new
    files to them and take deleted ones out)."""
    return (
        split_lines(raw.select("file_id", "raw_text")).filter(pl.col("line") != "")
        .select("file_id", line_key(pl.col("line").str.to_lowercase()).hash().alias("key"))
        .unique().collect()
    )


def text_lines(raw: pl.DataFrame, signature_regex: str, bio_regex: str,
               document_frequency: pl.DataFrame | None = None) -> pl.DataFrame:
    """The whole line model: (file_id, raw_text) -> one row per line with its features,
    segment, `in_body` and `removed_reason`. Collection statistics (key -> files_with_line)
    are taken over `raw`, unless `document_frequency` gives them for the whole collection
    (which then includes these files): an incremental run or a batch of a large one."""
    # materialized between stages: a lazy plan that reads a frame in several branches
    # recomputes it in each (measured 30 % slower)
    lines = split_lines(raw.select("file_id", "raw_text")).collect()
    frequency = (line_document_frequency(lines.lazy()).collect() if document_frequency is None
                 else document_frequency.select("key", pl.col("files_with_line").cast(pl.Int32)))
    features = line_features(lines.lazy(), frequency.lazy()).collect()
    features = metadata_kinds(features.lazy(), signature_regex, bio_regex)
    return short_file_fallback(select_body_lines(content_segments(score_lines(features))))
