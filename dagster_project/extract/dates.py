"""Date expressions: find them, resolve them to [date_start, date_end] with a granularity.

One combined regex finds every candidate in one vectorized pass (`find_spans`);
the matched strings (a tiny fraction of the text) are then parsed with anchored
per-form regexes, still as polars expressions. Coordinated expressions
("17th and 18th of July 2021", "September and December 2022", "August 3rd and 6th")
become one row per member, each with its own span.

Year inference for expressions without a year ("5 September", "Aug. 8"): the most
recent such date not after the publication date; without a publication date, the
year of the nearest preceding expression in the same article that states a year;
otherwise unresolved. `year_inferred` flags them.

Solar Hijri dates ("5/8/1400", years 1300-1499 in a numeric date) are never read
as Gregorian: they are resolved to the Gregorian span of their Solar Hijri year,
because day/month order in such numeric dates is ambiguous; `calendar` says so.
"""

from __future__ import annotations

import calendar as _cal
import re
from datetime import date

import polars as pl

from dagster_project.extract.spans import find_spans, form_of, in_parallel, unnamed

WB = r"(?-u:\b)"
# Full month names, or abbreviations with or without their dot ("Aug. 8", "Sept 5").
M_ = (
    rf"(?:(?:January|February|March|April|May|June|July|August|September|October|November|December){WB}"
    rf"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)(?:\.|{WB}))"
)
D = rf"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?{WB}"
Y = rf"(?:1[6-9]\d\d|20\d\d){WB}"
PART = r"(?:[Ee]arly|[Mm]id|[Ll]ate|(?:[Tt]he )?(?:[Ee]nd|[Bb]eginning|[Ss]tart|[Mm]iddle) of)"
# Words that make a bare capitalized month name a date ("in May", not "may").
MONTH_CONTEXT = r"(?:[Tt]he|[Ii]n|[Ss]ince|[Uu]ntil|[Bb]y|[Ff]rom|[Tt]o|[Oo]f|[Dd]uring|[Ll]ast|[Nn]ext|[Tt]his|[Bb]etween|[Ee]nd of|[Ee]arly|[Mm]id|[Ll]ate|[Oo]n|[Aa]nd|[Bb]efore|[Aa]fter)"

# Each form: (name, anchored pattern with named groups). Order = priority.
FORMS: list[tuple[str, str]] = [
    ("dd_and_d_m_y", rf"(?P<d1>{D}) and (?P<d2>{D}) (?:of )?(?P<m>{M_}),? (?P<y>{Y})"),
    ("m_d_and_d_y", rf"(?P<m>{M_}) (?P<d1>{D}),? and (?P<d2>{D}),? (?P<y>{Y})"),
    ("m_d_and_d", rf"(?P<m>{M_}) (?P<d1>{D}) and (?P<d2>{D})"),
    ("m_and_m_y", rf"(?P<m1>{M_}) and (?P<m>{M_}),? (?P<y>{Y})"),
    ("d_m_y", rf"(?P<d>{D}) (?:of )?(?P<m>{M_}),? (?P<y>{Y})"),
    ("m_d_y", rf"(?P<m>{M_}) (?P<d>{D}),? (?P<y>{Y})"),
    ("iso", rf"(?P<y>{Y[:-len(WB)]})-(?P<mn>[01]\d)-(?P<d>[0-3]\d){WB}"),
    ("numeric", rf"(?P<a>[0-3]?\d)/(?P<b>[0-3]?\d)/(?P<y>1[3-4]\d\d|1[6-9]\d\d|20\d\d){WB}"),
    ("nine_eleven", r"9/11(?-u:\b)"),
    ("part_decade", rf"(?P<part>{PART})[- ](?P<y>(?:1[6-9]|20)\d0)s{WB}"),
    ("part_m_y", rf"(?P<part>{PART})[- ](?P<m>{M_}),? (?P<y>{Y})"),
    ("part_y", rf"(?P<part>{PART})[- ](?P<y>{Y})"),
    ("part_m", rf"(?P<part>{PART})[- ](?P<m>{M_})"),
    ("m_y", rf"(?P<m>{M_}),? (?P<y>{Y})"),
    ("d_m", rf"(?P<d>{D}) (?:of )?(?P<m>{M_})"),
    ("m_d", rf"(?P<m>{M_}) (?P<d>{D})"),
    ("between_y", rf"(?:[Bb]etween|[Ff]rom) (?P<y>{Y}) (?:and|to|until) (?P<y2>{Y})"),
    ("y_range", rf"(?P<y>{Y[:-len(WB)]})[-–/](?P<y2>(?:1[6-9]|20)?\d\d){WB}"),
    ("decade", rf"(?P<y>(?:1[6-9]|20)\d0)s{WB}"),
    # A bare month needs a context word ("in May", not "may"); the word is trimmed off
    # and what follows is parsed again, so "on July 7th" is still a day.
    ("ctx_m", rf"(?P<ctx>{MONTH_CONTEXT}) (?P<m>{M_})(?: (?:{D})(?:,? and (?:{D}))?(?:,? (?:{Y}))?| and (?:{M_}),? (?:{Y})|,? (?:{Y}))?"),
    ("y", rf"(?P<y>{Y})"),
    ("month_only", rf"(?P<m>{M_})"),
]
# Alternatives are tried left to right at each position (leftmost-first), so longer
# forms come first. Groups are only named in the anchored per-form patterns.
COMBINED = WB + "(?:" + "|".join(unnamed(p) for name, p in FORMS if name != "month_only") + ")"

GRANULARITIES = ("day", "month", "year", "decade", "partial", "range", "unresolved")
# Keyed by (document_id, char_start, char_end); the warehouse derives date_mention_id from
# that key in dbt staging (see docs/raw_tables.md).
DATE_SCHEMA = {
    "document_id": pl.String,
    "surface_text": pl.String,
    "date_start": pl.Date,
    "date_end": pl.Date,
    "granularity": pl.String,
    "year_inferred": pl.Boolean,
    "calendar": pl.String,
    "char_start": pl.Int64,
    "char_end": pl.Int64,
}

_MONTH_NUM = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}


def _month_expr(col: str) -> pl.Expr:
    key = pl.col(col).str.slice(0, 3).str.to_lowercase()
    return key.replace_strict(_MONTH_NUM, default=None, return_dtype=pl.Int32)


def _day_expr(col: str) -> pl.Expr:
    return pl.col(col).str.extract(r"(\d+)", 1).cast(pl.Int32)


def _year_expr(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Int32, strict=False)


def _mk_date(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    """A date, or null for an impossible one ("31 September"): a typo never fails a run."""
    text = pl.concat_str([y.cast(pl.String), m.cast(pl.String).str.zfill(2), d.cast(pl.String).str.zfill(2)],
                         separator="-")
    return text.str.to_date("%Y-%m-%d", strict=False)


def _month_end(y: pl.Expr, m: pl.Expr) -> pl.Expr:
    return _mk_date(y, m, pl.lit(1)).dt.month_end()


def _part_bounds(part: pl.Expr, cuts: tuple[int, int, int, int], base: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """early / mid / late as offsets from `base`: cuts = (mid_start, late_start, end, early_start)."""
    mid, late, end, first = cuts
    p = part.str.to_lowercase().str.replace(r"^(?:the )?(?:beginning|start) of$", "early").str.replace(
        r"^(?:the )?end of$", "late").str.replace(r"^(?:the )?middle of$", "mid")
    start = pl.when(p == "early").then(base + first).when(p == "mid").then(base + mid).otherwise(base + late)
    stop = pl.when(p == "early").then(base + mid - 1).when(p == "mid").then(base + late - 1).otherwise(base + end)
    return start, stop


def _parse_form(matches: pl.DataFrame, name: str, pattern: str) -> pl.DataFrame:
    """Rows of `matches` that fully match one form, parsed into member rows with
    columns: document_id, char_start, char_end, y_explicit (Int32 or null), start parts."""
    rx = "^(?:" + pattern + ")$"
    sub = matches.filter(pl.col("form") == name)
    if sub.is_empty():
        return sub.head(0)
    groups = re.findall(r"\?P<(\w+)>", pattern)
    if groups:
        sub = sub.with_columns(pl.col("match").str.extract_groups(rx).alias("g")).unnest("g")
    return sub.with_columns([pl.lit(None, dtype=pl.String).alias(g) for g in
                             ("d", "d1", "d2", "m", "m1", "y", "y2", "part", "a", "b", "mn", "ctx")
                             if g not in groups])


def _members(parsed: pl.DataFrame) -> pl.DataFrame:
    """Expand coordinated forms into one row per member with its own span and fields."""
    base = parsed.with_columns(
        member=pl.lit(0), mon=_month_expr("m"), day=_day_expr("d"), yr=_year_expr("y"),
    )
    f = pl.col("form")
    # second member of a coordination: suffix after " and "
    coord = base.filter(f.is_in(["dd_and_d_m_y", "m_d_and_d_y", "m_d_and_d", "m_and_m_y"]))
    after_and = pl.col("match").str.find(" and ", literal=True)  # byte offset; prefix is ASCII
    m1 = coord.with_columns(
        member=pl.lit(1),
        # first member: "17th" / "August 3rd" / "September"
        char_end=pl.col("char_start") + after_and.cast(pl.Int64),
        day=pl.when(f == "m_and_m_y").then(None).otherwise(_day_expr("d1")),
        mon=pl.when(f == "m_and_m_y").then(_month_expr("m1")).otherwise(_month_expr("m")),
    )
    m2 = coord.with_columns(
        member=pl.lit(2),
        char_start=pl.col("char_start") + after_and.cast(pl.Int64) + 5,
        day=pl.when(f == "m_and_m_y").then(None).otherwise(_day_expr("d2")),
    )
    single = base.filter(~f.is_in(["dd_and_d_m_y", "m_d_and_d_y", "m_d_and_d", "m_and_m_y"]))
    return pl.concat([single, m1, m2], how="diagonal_relaxed")


def resolve(members: pl.DataFrame, documents: pl.DataFrame) -> pl.DataFrame:
    """Compute date_start/date_end/granularity, inferring missing years."""
    f = pl.col("form")
    yr, mon, day = pl.col("yr"), pl.col("mon"), pl.col("day")
    df = members.join(documents.select("document_id", "published_date"), on="document_id", how="left")
    no_year = f.is_in(["m_d_and_d", "part_m", "d_m", "m_d", "month_only"])
    # Explicit years seen so far in the article (for documents without a publication date).
    df = df.sort("document_id", "char_start").with_columns(
        # a Solar Hijri year counts as the Gregorian year it starts in (1400 -> 2021)
        prev_year=pl.when(no_year | (f == "nine_eleven")).then(None)
        .when((f == "numeric") & yr.is_between(1300, 1499)).then(yr + 621).otherwise(yr)
        .forward_fill().over("document_id"),
    )
    pub = pl.col("published_date")
    md_after_pub = (mon > pub.dt.month()) | ((mon == pub.dt.month()) & (day.fill_null(1) > pub.dt.day()))
    inferred = (
        pl.when(pub.is_not_null())
        .then(pub.dt.year().cast(pl.Int32) - md_after_pub.cast(pl.Int32))
        .otherwise(pl.col("prev_year"))
    )
    df = df.with_columns(
        year_inferred=no_year & inferred.is_not_null(),
        yr=pl.when(no_year).then(inferred).otherwise(yr),
    )
    # Numeric d/m/y: Solar Hijri when the year is 1300-1499; else day-first if unambiguous.
    a = pl.col("a").cast(pl.Int32, strict=False)
    b = pl.col("b").cast(pl.Int32, strict=False)
    hijri = (f == "numeric") & yr.is_between(1300, 1499)
    numeric_mon = pl.when(a > 12).then(b).otherwise(a)
    numeric_day = pl.when(a > 12).then(a).otherwise(b)
    part = pl.col("part")
    # Thirds: days 1-10 / 11-20 / 21-end of a month; months Jan-Apr / May-Aug / Sep-Dec
    # of a year; years 0-3 / 4-6 / 7-9 of a decade.
    m_lo, m_hi = _part_bounds(part, (11, 21, 30, 1), pl.lit(0))
    yrs_lo, yrs_hi = _part_bounds(part, (4, 7, 9, 0), yr)
    mon_lo, mon_hi = _part_bounds(part, (5, 9, 12, 1), pl.lit(0))
    y2 = pl.col("y2").cast(pl.Int32, strict=False)
    y2_full = pl.when(y2 < 100).then((yr // 100) * 100 + y2).otherwise(y2)
    start = (
        pl.when(f.is_in(["dd_and_d_m_y", "m_d_and_d_y", "m_d_and_d", "d_m_y", "m_d_y", "d_m", "m_d"])
                & day.is_not_null())
        .then(_mk_date(yr, mon, day))
        .when(f.is_in(["m_and_m_y", "m_y", "month_only"]))
        .then(_mk_date(yr, mon, pl.lit(1)))
        .when(f == "iso").then(_mk_date(yr, pl.col("mn").cast(pl.Int32), _day_expr("d")))
        .when(hijri).then(_mk_date(yr + 621, pl.lit(3), pl.lit(21)))
        .when(f == "numeric").then(_mk_date(yr, numeric_mon, numeric_day))
        .when(f == "nine_eleven").then(_mk_date(pl.lit(2001), pl.lit(9), pl.lit(11)))
        .when(f == "part_decade").then(_mk_date(yrs_lo, pl.lit(1), pl.lit(1)))
        .when(f == "part_m_y").then(_mk_date(yr, mon, m_lo))
        .when(f == "part_m").then(_mk_date(yr, mon, m_lo))
        .when(f == "part_y").then(_mk_date(yr, mon_lo, pl.lit(1)))
        .when(f.is_in(["between_y", "y_range", "decade", "y"])).then(_mk_date(yr, pl.lit(1), pl.lit(1)))
    )
    end = (
        pl.when(f.is_in(["dd_and_d_m_y", "m_d_and_d_y", "m_d_and_d", "d_m_y", "m_d_y", "d_m", "m_d", "iso",
                         "numeric", "nine_eleven"]) & ~hijri & day.is_not_null() | f.is_in(["iso", "nine_eleven"])
                | ((f == "numeric") & ~hijri))
        .then(pl.col("_start"))
        .when(f.is_in(["m_and_m_y", "m_y", "month_only"])).then(_month_end(yr, mon))
        .when(hijri).then(_mk_date(yr + 622, pl.lit(3), pl.lit(20)))
        .when(f == "part_decade").then(_mk_date(yrs_hi, pl.lit(12), pl.lit(31)))
        .when(f.is_in(["part_m_y", "part_m"])).then(
            pl.when(part.str.to_lowercase().str.contains("late|end")).then(_month_end(yr, mon)).otherwise(_mk_date(yr, mon, m_hi)))
        .when(f == "part_y").then(_mk_date(yr, mon_hi, pl.lit(1)).dt.month_end())
        .when(f.is_in(["between_y", "y_range"])).then(_mk_date(y2_full, pl.lit(12), pl.lit(31)))
        .when(f == "decade").then(_mk_date(yr + 9, pl.lit(12), pl.lit(31)))
        .when(f == "y").then(_mk_date(yr, pl.lit(12), pl.lit(31)))
    )
    gran = (
        pl.when(pl.col("_start").is_null()).then(pl.lit("unresolved"))
        .when(hijri).then(pl.lit("year"))
        .when(f.is_in(["part_decade", "part_m_y", "part_m", "part_y"])).then(pl.lit("partial"))
        .when(pl.col("_start") == pl.col("_end")).then(pl.lit("day"))
        .when(f.is_in(["m_and_m_y", "m_y", "month_only"])).then(pl.lit("month"))
        .when(f.is_in(["between_y", "y_range"])).then(pl.lit("range"))
        .when(f == "decade").then(pl.lit("decade"))
        .otherwise(pl.lit("year"))
    )
    df = df.with_columns(_start=start).with_columns(_end=end).with_columns(
        granularity=gran,
        calendar=pl.when(hijri).then(pl.lit("solar_hijri")).otherwise(pl.lit("gregorian")),
    )
    bad_range = pl.col("_end") < pl.col("_start")
    return df.with_columns(
        date_start=pl.when(bad_range).then(None).otherwise(pl.col("_start")),
        date_end=pl.when(bad_range).then(None).otherwise(pl.col("_end")),
        granularity=pl.when(bad_range).then(pl.lit("unresolved")).otherwise(pl.col("granularity")),
        year_inferred=pl.col("year_inferred") & pl.col("_start").is_not_null(),
    )


def extract_dates(documents: pl.DataFrame) -> pl.DataFrame:
    """documents (document_id, body_text, published_date) -> date_mentions (DATE_SCHEMA)."""
    spans = in_parallel(documents.select("document_id", "body_text"), lambda lf: find_spans(lf, COMBINED))
    if spans.is_empty():
        return pl.DataFrame(schema=DATE_SCHEMA)
    spans = spans.with_columns(form=form_of(FORMS[:-1]))
    # Context-word matches: drop the word, keep the rest and classify it again.
    ctx = pl.col("match").str.extract(r"^(" + MONTH_CONTEXT + r" )", 1)
    spans = spans.with_columns(
        char_start=pl.when(pl.col("form") == "ctx_m").then(pl.col("char_start") + ctx.str.len_chars())
        .otherwise(pl.col("char_start")),
        match=pl.when(pl.col("form") == "ctx_m").then(pl.col("match").str.slice(ctx.str.len_chars()))
        .otherwise(pl.col("match")),
    )
    reform = form_of([f for f in FORMS if f[0] not in ("ctx_m", "month_only")], default="month_only")
    spans = spans.with_columns(
        form=pl.when(pl.col("form") == "ctx_m").then(reform).otherwise(pl.col("form"))
    ).filter(pl.col("form").is_not_null())
    parsed = pl.concat([_parse_form(spans, n, p) for n, p in FORMS], how="diagonal_relaxed")
    members = _members(parsed)
    out = resolve(members, documents)
    # Surface text = the member's slice of the body (exact by construction).
    out = out.join(documents.select("document_id", "body_text"), on="document_id").with_columns(
        surface_text=pl.col("body_text").str.slice(pl.col("char_start"), pl.col("char_end") - pl.col("char_start")),
    )
    out = out.with_columns(
        year_inferred=pl.col("year_inferred").fill_null(False),
    )
    return out.select(list(DATE_SCHEMA)).sort("document_id", "char_start")


# --------------------------------------------------------------------------
# Standalone date lines (publication dates in article headers)
# --------------------------------------------------------------------------

def parse_standalone_date(text: str) -> date | None:
    """Parse a line that is a full date ("15 September 2022", "- January 15, 2018")."""
    t = text.strip(" -–—•|")
    t = re.sub(r"(?i)^(?:published|posted|updated|date)\s*:?\s*", "", t)
    t = re.sub(r"(?i)^on\s+", "", t)
    t = re.sub(r"(?i)^(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+", "", t)
    m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+)\.?,?\s+(\d{4})", t)
    if m:
        d, mon, y = m.groups()
    else:
        m = re.fullmatch(r"([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", t)
        if m:
            mon, d, y = m.groups()
        else:
            m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", t)
            if not m:
                return None
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    mnum = _MONTH_NUM.get(mon[:3].lower())
    if not mnum:
        return None
    try:
        day = int(d)
        if day > _cal.monthrange(int(y), mnum)[1]:
            return None
        return date(int(y), mnum, day)
    except ValueError:
        return None
