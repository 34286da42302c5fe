"""Event reports -> events: one row per real-world event, even when several articles report it.

In: the occurred reports of events/events.py (status 'occurred') and their actors. Out:
`event_key` for every report (the event it belongs to) and one row per event with its
type, dates, place, tolls (events/tolls.py) and the number of documents reporting it.

Two steps, both the way the reference datasets (UCDP, ACLED, GDELT's deduplication) do it:

1. Within an article, a report that refers back to an event already reported ("the attack",
   "this bombing": a definite trigger) and states no date of its own joins the nearest
   earlier report of the same family in that article (at most WITHIN_DOCUMENT_SENTENCES
   sentences back) whose place does not contradict it.
2. Across articles, two document-level events are one when they are blocked together and
   compatible:
   - block: the same family (violence; talks and visits; agreements; ...) and both incidents
     (a summary such as "30 killed this week" never merges with an incident, nor with another
     summary);
   - place: the same country when both have one, and the same place when both name a
     specific place of the same country... unless one is a place inside the other's country;
   - actors: when both name actors other than states (groups, persons, bodies), at least one
     is shared;
   - time, by how precise the dates are:
     - precise events (a range of at most FINE_DAYS: a day, "3-5 March") pair with each other
       when their ranges overlap once widened by DATE_SLACK_DAYS;
     - a coarse report ("in May", "in 2021") is compatible with every event of its period, so
       it never pairs freely: it attaches to the one precise event of its period that shares
       its specific place or one of its groups (the same place first, then the most shared
       actors, then the nearest date), or else to the first report of another article that
       states its period or the month, year or decade holding it and shares an anchor (the
       states count there outside violence: a withdrawal is a state's act). One attachment
       each, so that "in 2022" never chains the year's events into one;
     - an undated report attaches the same way, only on the same specific place and a shared
       actor other than a state: to a precise event of the UNDATED_WINDOW_DAYS before its
       article's publication, or else to the coarse report whose period starts last before
       it; two undated reports never link.
   Casualty figures are never a key (they feed the low / best / high); two events of the same
   type on different dates or in different places stay apart.

Every join is blocked on equal keys (family and day; family, anchor and month; family, anchor
and period), so the candidates grow with the collection, not with its square
(scripts/bench_linking.py, docs/benchmark.md): 36,120 articles' reports link in 11 s with 1.2 GiB
(the rule before this one, pairing coarse reports freely: 92 s, 8.0 GiB), 99,330 in 37 s with
2.6 GiB.

The clusters are the connected components of the compatible pairs (union-find); the event's
key is derived from its earliest report, so it does not change when a later article joins.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import polars as pl

from dagster_project.events.taxonomy import FAMILY, compatibility_frame

WITHIN_DOCUMENT_SENTENCES = 10
DATE_SLACK_DAYS = 1
# a date range at most this wide (a day, a week, "3-5 March") is precise: such events pair with
# each other; wider ones (a month, a year) attach to one precise event (_attach)
FINE_DAYS = 7
# an undated report refers to an event of the days before its article's publication
UNDATED_WINDOW_DAYS = 90
# candidate pairs compared a slice at a time (bounded memory: each carries both sides' facts)
PAIR_SLICE = 1_000_000
# what the cross-article step reads of a report (with doc_event, from within_document) and of
# a report's actor: the asset fetches only these from the pipeline database
LINK_COLUMNS = ("document_id", "trigger_char_start", "doc_event", "status", "event_type", "event_clarity",
                "date_start", "date_end", "date_precision", "location_actor_id", "location_text", "country_code",
                "location_type")
LINK_ACTOR_COLUMNS = ("document_id", "trigger_char_start", "actor_id")
_ANAPHORIC = re.compile(r"\b(?:the|this|that|these|those|its|their|such)\s+(?:[\w'-]+\s+){0,2}$")


def _event_key(document_id: str, trigger_char_start: int) -> str:
    return hashlib.sha256(f"{document_id}:{trigger_char_start}".encode()).hexdigest()[:32]


def _within_document(reports: pl.DataFrame, low_sentences: pl.DataFrame) -> pl.DataFrame:
    """Adds `doc_event` (the trigger_char_start of the report it belongs to in its article).

    An anaphor ("in the attack", a definite trigger) that states nothing new (no date, place or
    figure of its own: "the suicide bomber who attacked the Kabul airport" is another event)
    joins the nearest earlier report of a compatible type, at most WITHIN_DOCUMENT_SENTENCES
    sentences back, that the article grounds (a date, a place or a toll). An anaphor never
    grounds another one, so the antecedents are the reports that are not anaphors, and the
    whole step is joins."""
    if reports.height == 0:
        return reports.with_columns(doc_event=pl.lit(None, dtype=pl.Int32))
    rows = reports.join(low_sentences, on=["document_id", "sentence_index"], how="left")
    before = pl.col("low").str.slice(0, pl.max_horizontal(pl.col("trigger_char_start") - pl.col("sentence_char_start"),
                                                          pl.lit(0)))
    own = pl.col("date_start").is_not_null() | pl.col("location_actor_id").is_not_null() | pl.col("killed").is_not_null()
    incident = pl.col("event_clarity") == "incident"
    rows = rows.with_columns(
        _anaphor=before.str.contains(_ANAPHORIC.pattern.replace("\\b", "(?-u:\\b)")).fill_null(False) & ~own & incident,
        _grounded=own & incident,
    )
    anaphors = rows.filter(pl.col("_anaphor")).select("document_id", "trigger_char_start", "sentence_index", "event_type")
    heads = rows.filter(pl.col("_grounded")).select(
        "document_id", head_start="trigger_char_start", head_sentence="sentence_index", event_type_b="event_type")
    targets = (
        anaphors.join(heads, on="document_id")
        .filter((pl.col("head_start") < pl.col("trigger_char_start"))
                & (pl.col("sentence_index") - pl.col("head_sentence") <= WITHIN_DOCUMENT_SENTENCES))
        .join(compatibility_frame(), on=["event_type", "event_type_b"])
        .group_by("document_id", "trigger_char_start").agg(target=pl.col("head_start").max())
    )
    mapping = (
        rows.select("document_id", "trigger_char_start", "sentence_index", "event_type", "event_clarity")
        .join(targets, on=["document_id", "trigger_char_start"], how="left")
        .with_columns(target=pl.coalesce("target", "trigger_char_start"),
                      family=pl.col("event_type").replace_strict(FAMILY, return_dtype=pl.String))
    )
    # the headline (sentence 0) reports the article's main event: its report joins the first
    # later report of the same family and clarity (a summary headline, "30 killed in attacks
    # this week", is not the incident below it), and the reports that had joined it follow it
    first_of_family = (
        mapping.filter(pl.col("sentence_index") > 0).group_by("document_id", "family", "event_clarity")
        .agg(first=pl.col("trigger_char_start").min())
    )
    headline = (
        mapping.filter(pl.col("sentence_index") == 0)
        .join(first_of_family, on=["document_id", "family", "event_clarity"])
        .select("document_id", target="trigger_char_start", moved="first")
    )
    mapping = (
        mapping.join(headline, on=["document_id", "target"], how="left")
        .with_columns(doc_event=pl.coalesce("moved", "target").cast(pl.Int32))
        .select("document_id", pl.col("trigger_char_start").cast(pl.Int32), "doc_event")
    )
    return reports.join(mapping, on=["document_id", "trigger_char_start"], how="left")


def within_document(reports: pl.DataFrame, sentences: pl.DataFrame) -> pl.DataFrame:
    """Step 1 alone (it needs only the article's own reports and sentences, so it runs batch by
    batch): adds `doc_event` to the occurred reports, null to the others."""
    occurred = reports.filter(pl.col("status") == "occurred")
    low = sentences.select("document_id", "sentence_index", low=pl.col("sentence_text").str.to_lowercase())
    mapped = _within_document(occurred, low).select("document_id", "trigger_char_start", "doc_event")
    return reports.join(mapped, on=["document_id", "trigger_char_start"], how="left")


def _collapse(nodes: pl.DataFrame, signature: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Document-level events with the same facts (the same article syndicated a thousand
    times) are compared once. A signature that several documents share is one event: its
    members are paired with a representative (the lowest node), which stands for all of them
    with no document of its own; a signature of one document keeps its nodes apart (two
    attacks the same article reports with the same facts are still two). Returns the reduced
    nodes and the (node, node_b) pairs of the collapsed members."""
    nodes = nodes.with_columns(pl.col("specific_actors").fill_null([]).list.sort())
    groups = nodes.group_by(signature).agg(rep=pl.col("node").min(), members=pl.col("node"),
                                           n_docs=pl.col("document_id").n_unique())
    multi = groups.filter(pl.col("n_docs") > 1)
    same = (multi.select("rep", "members").explode("members", empty_as_null=True).filter(pl.col("members") != pl.col("rep"))
            .select(node="rep", node_b="members"))
    reduced = (
        nodes.join(groups.select("rep", "n_docs", node="members").explode("node", empty_as_null=True), on="node")
        .filter((pl.col("n_docs") == 1) | (pl.col("node") == pl.col("rep")))
        .with_columns(document_id=pl.when(pl.col("n_docs") > 1).then(pl.lit(None, dtype=pl.String))
                      .otherwise(pl.col("document_id")),
                      doc=pl.when(pl.col("n_docs") > 1).then(pl.lit(None, dtype=pl.UInt32)).otherwise(pl.col("doc")))
        .drop("n_docs", "rep")
    )
    return reduced, same


def _ranges(frame: pl.DataFrame) -> pl.DataFrame:
    """Date range widened by its precision: a day by DATE_SLACK_DAYS either side."""
    slack = pl.duration(days=DATE_SLACK_DAYS)
    day = pl.col("date_precision") == "day"
    return frame.with_columns(
        lo=pl.when(day).then(pl.col("date_start") - slack).otherwise(pl.col("date_start")),
        hi=pl.when(day).then(pl.col("date_end") + slack).otherwise(pl.col("date_end")),
    )


@dataclass(frozen=True)
class _Facts:
    """What comparing two nodes reads of each, as integers in node order, so that a pair's facts
    are gathered by position rather than joined (at 100,000 documents the coarse reports'
    candidates alone were 6.9 million pairs; joining the nodes' strings and actor lists onto
    them took 7.3 s, gathering codes 1.0 s): `frame` has per node its event type's code `et`,
    its actor set `aset` (an index into `sets`) and that set's size `n_actors`, its place `loc`
    (the actor code of location_actor_id), country `cc` and city `city` (an index into
    `cities`); `compatible` holds et * 65536 + et_b of the compatible pairs of types."""
    frame: pl.DataFrame
    sets: pl.Series
    cities: pl.Series
    compatible: pl.Series


def _facts(doc_events: pl.DataFrame) -> _Facts:
    """_Facts of the document-level events (their `node` is their row index)."""
    names = sorted(set(compatibility_frame()["event_type"]) | set(doc_events["event_type"].drop_nulls()))
    codes = {name: i for i, name in enumerate(names)}
    nodes = doc_events.select(
        "node", "cc", sa=pl.col("specific_actors").fill_null([]).list.sort(),
        et=pl.col("event_type").replace_strict(codes, default=None, return_dtype=pl.UInt16),
        loc=pl.col("location_actor_id"),
        city=pl.when(pl.col("location_type") == "place").then(pl.col("location_text").str.to_lowercase()))
    sets = nodes.group_by("sa", maintain_order=True).agg("node").with_row_index("aset")
    aset = sets.select("aset", "node").explode("node", empty_as_null=True).sort("node")["aset"]
    cities = nodes["city"].drop_nulls().unique().sort()
    frame = nodes.select(
        "et", "loc", "cc", aset=aset, n_actors=pl.lit(sets["sa"].list.len()).gather(aset),
        city=pl.col("city").replace_strict(cities, pl.Series(range(cities.len()), dtype=pl.UInt32), default=None))
    pairs = pl.Series([codes[a] * 65536 + codes[b] for a, b in compatibility_frame().iter_rows()], dtype=pl.UInt32)
    return _Facts(frame, sets["sa"], cities, pairs)


def _compatible_pairs(candidates: pl.DataFrame, facts: _Facts) -> pl.DataFrame:
    """The (node, node_b) candidates whose types are compatible, whose actors other than states
    are shared when both name some, and whose places do not contradict each other; with the
    number of shared actors and whether the place is the same (to rank attachments): the
    candidates' own columns and those two. Compared PAIR_SLICE candidates at a time, so that
    the pairs' gathered facts stay bounded however many candidates there are."""
    keep = [*candidates.columns, "shared", "same_place"]
    return pl.concat([_compatible_slice(candidates.slice(i, PAIR_SLICE), facts).select(keep)
                      for i in range(0, max(candidates.height, 1), PAIR_SLICE)])


def _compatible_slice(candidates: pl.DataFrame, facts: _Facts) -> pl.DataFrame:
    own = ("et", "aset", "n_actors", "loc", "cc", "city")
    rows = (
        candidates.lazy()
        .with_columns(*[pl.lit(facts.frame[c]).gather(pl.col("node")).alias(c) for c in own],
                      *[pl.lit(facts.frame[c]).gather(pl.col("node_b")).alias(f"{c}_b") for c in own])
        .filter((pl.col("et").cast(pl.UInt32) * 65536 + pl.col("et_b")).is_in(facts.compatible.implode()))
        .collect()
    )
    # the actors both name: computed once per pair of actor sets (a few thousand), not per pair
    combos = rows.select("aset", "aset_b").unique()
    combos = combos.with_columns(shared=pl.lit(facts.sets).gather(pl.col("aset")).list.set_intersection(
        pl.lit(facts.sets).gather(pl.col("aset_b"))).list.len().cast(pl.UInt32))
    rows = (
        rows.join(combos, on=["aset", "aset_b"], how="left")
        .filter((pl.col("n_actors") == 0) | (pl.col("n_actors_b") == 0) | (pl.col("shared") > 0))
        .with_columns(same_place=(pl.col("loc") == pl.col("loc_b")).fill_null(False))
    )
    # two specific places of one country (Ghazni, Khost) are two events, unless one is named
    # inside the other ("Kabul" and "Kabul airport"): read once per pair of cities
    apart = (pl.col("city").is_null() | pl.col("city_b").is_null() | pl.col("cc").is_null()
             | (pl.col("cc") != pl.col("cc_b")) | pl.col("same_place"))
    cities = rows.filter(~apart.fill_null(False)).select("city", "city_b").unique()
    text, text_b = pl.lit(facts.cities).gather(pl.col("city")), pl.lit(facts.cities).gather(pl.col("city_b"))
    inside = cities.filter(text.str.contains(text_b, literal=True) | text_b.str.contains(text, literal=True))
    return (rows.join(inside.with_columns(inside=pl.lit(True)), on=["city", "city_b"], how="left")
            .filter(apart | pl.col("inside").fill_null(False)))


def _anchors(frame: pl.DataFrame, states: bool = False) -> pl.DataFrame:
    """(node, family, anchor): the specific place and each actor other than a state; with
    `states`, the states too outside violence (a withdrawal, talks, an agreement are the
    states' own acts, where an attack is identified by its group)."""
    place = frame.filter(pl.col("location_type") == "place").select(
        "node", "family", anchor=pl.col("location_actor_id") * 2)
    column = "actors" if states and "actors" in frame.columns else "specific_actors"
    actors = frame.select("node", "family", column).explode(column, empty_as_null=True).filter(pl.col(column).is_not_null())
    if column == "actors":
        actors = actors.join(frame.select("node", "specific_actors"), on="node").filter(
            (pl.col("family") != "violence") | pl.col("specific_actors").list.contains(pl.col("actors")))
    return pl.concat([place, actors.select("node", "family", anchor=pl.col(column) * 2 + 1)]).unique()


def _attach(loose: pl.DataFrame, fine: pl.DataFrame, facts: pl.DataFrame, window: tuple[pl.Expr, pl.Expr],
            place_and_actor: bool = False) -> pl.DataFrame:
    """Each `loose` node (a coarse or undated report) with the one precise event of another
    article it best matches, as (node, node_b) with node < node_b: the precise event shares an
    anchor (its specific place or an actor other than a state) and the family, lies in the
    loose node's `window` (lo, hi), is in the same country when both have one, and passes
    _compatible_pairs. Best: the same place, then the most shared actors, then the nearest
    start, then the earliest node. The join is blocked on (family, anchor, month), so its size
    is the number of precise events sharing an anchor in the window's months, never the square
    of the collection."""
    if loose.height == 0 or fine.height == 0:
        return pl.DataFrame(schema={"node": pl.UInt32, "node_b": pl.UInt32})
    lo, hi = window
    left = loose.select("node", "family", "cc", "doc", w_lo=lo, w_hi=hi).filter(
        pl.col("w_lo").is_not_null())
    left = (left.with_columns(month=pl.date_ranges(pl.col("w_lo").dt.month_start(), pl.col("w_hi"), interval="1mo"))
            .explode("month", empty_as_null=True).join(_anchors(loose).drop("family"), on="node"))
    right = fine.select(node_b="node", lo_b="lo", family="family", cc_b="cc", doc_b="doc",
                        month=pl.col("lo").dt.month_start())
    right = right.join(_anchors(fine).rename({"node": "node_b"}).drop("family"), on="node_b")
    candidates = (
        left.lazy().join(right.lazy(), on=["family", "anchor", "month"])
        .filter((pl.col("lo_b") >= pl.col("w_lo")) & (pl.col("lo_b") <= pl.col("w_hi"))
                & (pl.col("cc").is_null() | pl.col("cc_b").is_null() | (pl.col("cc") == pl.col("cc_b")))
                & (pl.col("doc").is_null() | pl.col("doc_b").is_null() | (pl.col("doc") != pl.col("doc_b"))))
        .select("node", "node_b", distance=(pl.col("lo_b") - pl.col("w_lo")).abs())
        .unique(["node", "node_b"])
        .collect()
    )
    ranked = _compatible_pairs(candidates, facts)
    if place_and_actor:
        ranked = ranked.filter(pl.col("same_place") & (pl.col("shared") > 0))
    return _best(ranked)


def _period_reps(coarse: pl.DataFrame) -> pl.DataFrame:
    """Per (family, anchor, stated period lo_b..hi_b) of the coarse reports: the first report
    (lowest node) and the first of another document, so that a report of either document finds
    one of another article. The rest of the group joins through them."""
    keyed = (coarse.select("node", "lo", "hi", "doc").join(_anchors(coarse, states=True), on="node")
             .sort("node").unique(["family", "anchor", "lo", "hi", "doc"], keep="first", maintain_order=True))
    return (
        keyed.group_by("family", "anchor", "lo", "hi", maintain_order=True)
        .agg(node_1=pl.col("node").first(), doc_1=pl.col("doc").first(),
             node_2=pl.col("node").get(1, null_on_oob=True), doc_2=pl.col("doc").get(1, null_on_oob=True))
        .rename({"lo": "lo_b", "hi": "hi_b"})
    )


def _pick_rep(candidates: pl.LazyFrame | pl.DataFrame) -> pl.Expr:
    """node_b: the period's first report unless it is of the loose node's own document."""
    own = pl.col("doc").is_not_null() & (pl.col("doc_1") == pl.col("doc")).fill_null(False)
    return pl.when(own).then(pl.col("node_2")).otherwise(pl.col("node_1")).alias("node_b")


def _coarse_candidates(loose: pl.DataFrame, reps: pl.DataFrame, facts: pl.DataFrame) -> pl.DataFrame:
    """Each `loose` coarse node (with its anchors) with the best report of another article that
    states its own period or the calendar month, year or decade holding it: an equality join
    on (family, anchor, period), so each node has at most four candidate periods per anchor."""
    if loose.height == 0 or reps.height == 0:
        return pl.DataFrame(schema={"node": pl.UInt32, "node_b": pl.UInt32})
    year = pl.col("lo").dt.year()
    decade = (year // 10) * 10
    periods = pl.concat([
        loose.with_columns(lo_b=pl.col("lo"), hi_b=pl.col("hi")),
        loose.filter(pl.col("lo").dt.month_start() == pl.col("hi").dt.month_start()).with_columns(
            lo_b=pl.col("lo").dt.month_start(), hi_b=pl.col("lo").dt.month_end()),
        loose.filter(year == pl.col("hi").dt.year()).with_columns(
            lo_b=pl.date(year, 1, 1), hi_b=pl.date(year, 12, 31)),
        loose.filter(decade == (pl.col("hi").dt.year() // 10) * 10).with_columns(
            lo_b=pl.date(decade, 1, 1), hi_b=pl.date(decade + 9, 12, 31)),
    ]).unique(["node", "anchor", "lo_b", "hi_b"])
    candidates = (
        periods.join(reps, on=["family", "anchor", "lo_b", "hi_b"])
        .select("node", _pick_rep(periods), distance=pl.col("hi_b") - pl.col("lo_b"))
        .filter(pl.col("node_b").is_not_null() & (pl.col("node_b") != pl.col("node")))
        .unique(["node", "node_b"])
    )
    return _best(_compatible_pairs(candidates, facts))


def _undated_candidates(loose: pl.DataFrame, reps: pl.DataFrame, facts: pl.DataFrame) -> pl.DataFrame:
    """Each undated `loose` node (with its anchors and published_date) with the coarse report
    of another article, sharing its specific place and an actor, whose period starts last on
    or before the publication: an as-of join per (family, anchor), one candidate per anchor."""
    if loose.height == 0 or reps.height == 0:
        return pl.DataFrame(schema={"node": pl.UInt32, "node_b": pl.UInt32})
    left = loose.sort("published_date")
    candidates = (
        left.join_asof(reps.sort("lo_b"), left_on="published_date", right_on="lo_b", by=["family", "anchor"],
                       strategy="backward", check_sortedness=False)
        .filter(pl.col("lo_b").is_not_null())
        .select("node", _pick_rep(left), distance=pl.col("published_date") - pl.col("lo_b"))
        .filter(pl.col("node_b").is_not_null() & (pl.col("node_b") != pl.col("node")))
        .unique(["node", "node_b"])
    )
    return _best(_compatible_pairs(candidates, facts).filter(pl.col("same_place") & (pl.col("shared") > 0)))


def _best(ranked: pl.DataFrame) -> pl.DataFrame:
    """Per node, its best candidate: the same place, then the most shared actors, then the
    nearest start, then the lowest node; as (node, node_b) with node < node_b."""
    best = (
        ranked.sort(["node", "same_place", "shared", "distance", "node_b"], descending=[False, True, True, False, False])
        .group_by("node", maintain_order=True).first()
    )
    return best.select(pl.min_horizontal("node", "node_b").alias("node"),
                       pl.max_horizontal("node", "node_b").alias("node_b")).cast(pl.UInt32)


def link_events(reports: pl.DataFrame, report_actors: pl.DataFrame, sentences: pl.DataFrame | None = None,
                documents: pl.DataFrame | None = None, actor_types: pl.DataFrame | None = None) -> pl.DataFrame:
    """Adds `event_key` to the occurred reports (the others get null). The within-article step
    reads `sentences`, unless the reports carry `doc_event` already (within_document, run batch
    by batch; then the cross-article step needs no text at all). `documents`
    (document_id, published_date) bounds undated reports: an event an article reports without
    a date happened on or before the article's publication. `actor_types` (the gazetteer's
    actor_id, actor_type) tells the actors that identify an event from the states around it."""
    occurred = reports.filter(pl.col("status") == "occurred")
    if "doc_event" not in occurred.columns:
        occurred = within_document(occurred, sentences).filter(pl.col("status") == "occurred")
    keys = event_keys(occurred.select(LINK_COLUMNS), report_actors.select(LINK_ACTOR_COLUMNS), documents,
                      actor_types)
    return reports.join(keys, on=["document_id", "trigger_char_start"], how="left")


def event_keys(occurred: pl.DataFrame, report_actors: pl.DataFrame, documents: pl.DataFrame | None = None,
               actor_types: pl.DataFrame | None = None) -> pl.DataFrame:
    """(document_id, trigger_char_start, event_key): the event of each occurred report (with
    `doc_event`, the within-article step done), from LINK_COLUMNS of the reports and
    LINK_ACTOR_COLUMNS of their actors only. What link_events does without carrying the
    reports' other columns (texts, tolls, qualifiers) through the linking: the asset reads
    only these columns, so its memory is the linking's own (docs/benchmark.md)."""
    # the linking compares documents, actors, places and countries but never reads them: each
    # becomes a UInt32 code (its rank among the values), so that the groups, joins and actor
    # lists below are integer work (at 100,000 documents the ids were 32-character strings in
    # 1.8 million reports and 4.5 million actor rows)
    ids = pl.concat([report_actors["actor_id"], occurred["location_actor_id"]]).drop_nulls().unique().sort()
    countries = occurred["country_code"].drop_nulls().unique().sort()

    def code(column: str, values: pl.Series) -> pl.Expr:
        return pl.col(column).replace_strict(values, pl.Series(range(values.len()), dtype=pl.UInt32), default=None)

    occurred = occurred.with_columns(doc=pl.col("document_id").rank("dense").cast(pl.UInt32),
                                     location_actor_id=code("location_actor_id", ids), cc=code("country_code", countries))
    # document-level events: the first report's facts, completed by the later ones
    doc_events = (
        occurred.sort("doc", "trigger_char_start")
        .group_by("doc", "doc_event", maintain_order=True)
        .agg(
            pl.col("document_id").first(),
            pl.col("event_type").first(), pl.col("event_clarity").first(),
            pl.col("date_start").drop_nulls().first(), pl.col("date_end").drop_nulls().first(),
            pl.col("date_precision").drop_nulls().first(),
            pl.col("location_actor_id").drop_nulls().first(), pl.col("location_text").drop_nulls().first(),
            pl.col("cc").drop_nulls().first(),
            pl.col("location_type").drop_nulls().first(),
        )
        .with_columns(family=pl.col("event_type").replace_strict(FAMILY, return_dtype=pl.String))
    )
    # the actors that identify an event: not states (half the events of a region name the
    # same country), only the groups, persons and bodies taking part
    specific = (pl.col("actor_id").is_in(actor_types.filter(pl.col("actor_type") != "state")["actor_id"].implode())
                if actor_types is not None else pl.lit(True))
    actors = (
        report_actors.select("document_id", "trigger_char_start", "actor_id", specific=specific)
        .join(occurred.select("document_id", "trigger_char_start", "doc", "doc_event"),
              on=["document_id", "trigger_char_start"])
        .select("doc", "doc_event", "specific", actor_id=code("actor_id", ids))
        .group_by("doc", "doc_event")
        .agg(actors=pl.col("actor_id").unique(), specific_actors=pl.col("actor_id").filter("specific").unique())
    )
    if actor_types is not None:
        # an event that names states only has no specific actors (null, as when it names none)
        actors = actors.with_columns(specific_actors=pl.when(pl.col("specific_actors").list.len() > 0)
                                     .then("specific_actors"))
    doc_events = _ranges(doc_events.join(actors, on=["doc", "doc_event"], how="left")).with_row_index("node")
    # candidate pairs: same family, both incidents, both dated, ranges overlap, other documents
    cand = doc_events.filter((pl.col("event_clarity") == "incident") & pl.col("lo").is_not_null())
    cand, same = _collapse(cand, ["family", "event_type", "lo", "hi", "cc", "specific_actors",
                                  "location_actor_id", "location_type"])
    cand = cand.with_columns(
        fine=(pl.col("hi").fill_null(pl.col("lo")) - pl.col("lo")) <= pl.duration(days=FINE_DAYS + 2 * DATE_SLACK_DAYS))
    fine = cand.filter("fine")
    facts = _facts(doc_events)
    # precise events pair with each other when their ranges overlap: blocked on the family and
    # the later start, which lies in both ranges; so every day of one range (at most FINE_DAYS
    # and the slack) meets the start day of the other, not every day of it (that was a join of
    # days with days, 8x the rows at 100,000 documents). The block join carries only integers;
    # two events that start on the same day meet twice and are kept once
    narrow = fine.select("node", "family", "lo", "hi", "cc", "doc")
    days = narrow.with_columns(bucket=pl.date_ranges("lo", pl.col("hi").fill_null(pl.col("lo")), interval="1d")
                               ).explode("bucket", empty_as_null=True).lazy()
    starts = narrow.select("node", "family", "cc", "doc", bucket="lo").lazy()
    blocked = (
        days.join(starts, on=["family", "bucket"], suffix="_b")
        .filter(
            ((pl.col("bucket") > pl.col("lo")) | (pl.col("node") < pl.col("node_b")))
            & (pl.col("cc").is_null() | pl.col("cc_b").is_null() | (pl.col("cc") == pl.col("cc_b")))
            & (pl.col("doc").is_null() | pl.col("doc_b").is_null() | (pl.col("doc") != pl.col("doc_b")))
        )
        .select(pl.min_horizontal("node", "node_b").alias("node"), pl.max_horizontal("node", "node_b").alias("node_b"))
        .collect()
    )
    pairs = _compatible_pairs(blocked, facts).select("node", "node_b")
    # a month- or year-precision report ("in March", "last year") is compatible with every
    # event of its period: it attaches to the one precise event of another article that shares
    # its specific place or one of its actors, never to a second one (it would chain every
    # event of the year into one), and never to another coarse report (unless both state the
    # same facts: _collapse)
    coarse = cand.filter(~pl.col("fine"))
    attached = _attach(coarse, fine, facts, window=(pl.col("lo"), pl.col("hi").fill_null(pl.col("lo"))))
    # a coarse report that no precise event takes joins a coarse report of another article
    # that states its period, or the month, year or decade holding it, and shares an anchor
    # ("the withdrawal in August 2021", "the withdrawal in 2021"): the narrowest, one report only
    left = (coarse.filter(~pl.col("node").is_in(attached["node"].implode()))
            .select("node", "lo", "hi", "doc").join(_anchors(coarse, states=True), on="node"))
    attached = pl.concat([attached, _coarse_candidates(left, _period_reps(coarse), facts)])
    # an undated report attaches the same way, only on a shared specific place (not just a
    # country) and a shared actor, to an event of the UNDATED_WINDOW_DAYS before its
    # article's publication
    if documents is not None and "published_date" in documents.columns:
        doc_events = doc_events.join(documents.select("document_id", "published_date"), on="document_id", how="left")
    else:
        doc_events = doc_events.with_columns(published_date=pl.lit(None, dtype=pl.Date))
    placed = ((pl.col("event_clarity") == "incident") & (pl.col("location_type") == "place")
              & (pl.col("specific_actors").list.len() > 0))
    undated, same_undated = _collapse(doc_events.filter(placed & pl.col("lo").is_null()),
                                      ["family", "event_type", "location_actor_id", "specific_actors", "published_date"])
    loose = _attach(undated.filter(pl.col("published_date").is_not_null()), fine.filter(placed), facts,
                    window=(pl.col("published_date") - pl.duration(days=UNDATED_WINDOW_DAYS), pl.col("published_date")),
                    place_and_actor=True)
    # or, failing a precise one, to a coarse event whose period starts before the publication
    rest = undated.filter(pl.col("published_date").is_not_null() & ~pl.col("node").is_in(loose["node"].implode()))
    left = (rest.select("node", "doc", "published_date").join(_anchors(rest), on="node"))
    loose = pl.concat([loose, _undated_candidates(left, _period_reps(coarse.filter(placed)), facts)])
    # undated reports with the same facts link where their representative does
    linked_reps = pl.concat([loose["node"], loose["node_b"]]).unique()
    same_undated = same_undated.filter(pl.col("node").is_in(linked_reps.implode()))
    pairs = pl.concat([pairs, attached.cast(pairs.schema), loose.cast(pairs.schema), same.cast(pairs.schema),
                       same_undated.cast(pairs.schema)]).unique()
    parent = list(range(doc_events.height))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs.iter_rows():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    doc_events = doc_events.with_columns(root=pl.Series([find(i) for i in range(doc_events.height)], dtype=pl.UInt32))
    # the key of a cluster: from its earliest report (by document, then position)
    first = (
        doc_events.sort("doc", "doc_event").group_by("root", maintain_order=True).first()
        .select("root", key_doc="document_id", key_pos="doc_event")
    )
    keys = first.with_columns(event_key=pl.Series([_event_key(d, p) for d, p in zip(first["key_doc"], first["key_pos"])],
                                                  dtype=pl.String))
    doc_events = doc_events.join(keys.select("root", "event_key"), on="root")
    return (occurred.join(doc_events.select("doc", "doc_event", "event_key"), on=["doc", "doc_event"])
            .select("document_id", "trigger_char_start", "event_key"))

