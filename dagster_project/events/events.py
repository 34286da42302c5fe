"""Sentences -> event reports: what happened, when, where, to whom, by whom, with what toll, as
one article's sentence says it.

In: documents (document_id, body_text, published_date), sentences (split_sentences),
statistics, date mentions, actor mentions (the extractors' outputs), the gazetteer, and claims
(events/claims.py; responsibility claims and denials name perpetrators). Out: one row per
(document, sentence) that reports an event (`REPORT_SCHEMA`), and its actors with their roles
(`REPORT_ACTOR_SCHEMA`). events/linking.py turns reports into events.

Rules, all as polars expressions over the sentences that hold a trigger:
- Trigger: the taxonomy's trigger words (events/taxonomy.py); the most specific one of the
  sentence gives the type. A bare casualty verb ("killed") is an event trigger only when the
  sentence states a casualty figure or names an agent of violence.
- Status: `negated` ("no group has claimed", "was not attacked"), `future` ("talks planned for
  next week", "will meet"), `hypothetical` ("could fall in six months", "threatened to attack"),
  else `occurred`: a cue word in the sentence before the trigger. Only occurred reports become
  events (the others stay in event_reports, flagged).
- Clarity: `summary` when the sentence aggregates ("30 killed this week", "attacks rose 40 % in
  2022", "carried out 110 attacks", "so far this year"), else `incident`. A summary never merges
  into an incident (linking), and a count of attacks is not an attack.
- When: the sentence's first resolved date mention (date_start / date_end as the date
  extractor gives them, UCDP-style earliest and latest day; precision from its granularity).
- Where: the sentence's first gazetteer place, else its first state (country); country_code
  from the gazetteer.
- Toll: the sentence's casualty figures, added up as `casualty_totals` adds them per phrase.
- Who: gazetteer actors of the sentence that are not the place. `perpetrator`: named before a
  violent trigger, after "by", or the claimant of a responsibility claim about it; a group that
  denies is never the perpetrator. `target`: named after the trigger ("attacked the Russian
  embassy", "against", "on"). `mediator`: next to "mediat-", "facilitat-", "broker-".
  `host`: after "hosted", or the state of the meeting's place. Everyone else: `participant`.
"""

from __future__ import annotations

import polars as pl

from dagster_project.events.taxonomy import TRIGGERS, WEAK_TRIGGERS, kind_frame
from dagster_project.events.tolls import VAGUE_VALUES
from dagster_project.extract.spans import find_spans, form_of, in_parallel
from dagster_project.extract.statistics import casualty_totals

REPORT_SCHEMA = {
    "document_id": pl.String,
    "sentence_index": pl.Int32,
    "sentence_char_start": pl.Int32,
    "sentence_char_end": pl.Int32,
    "trigger_text": pl.String,
    "trigger_char_start": pl.Int32,
    "trigger_char_end": pl.Int32,
    "event_type": pl.String,
    "acled_event_type": pl.String,
    "acled_sub_event_type": pl.String,
    "plover_event_type": pl.String,
    "violent": pl.Boolean,
    "status": pl.String,
    "event_clarity": pl.String,
    "date_start": pl.Date,
    "date_end": pl.Date,
    "date_precision": pl.String,
    "location_actor_id": pl.String,
    "location_text": pl.String,
    "location_type": pl.String,
    "country_code": pl.String,
    "killed": pl.Float64,
    "injured": pl.Float64,
    "killed_qualifier": pl.String,
    "injured_qualifier": pl.String,
}
REPORT_ACTOR_SCHEMA = {
    "document_id": pl.String,
    "sentence_index": pl.Int32,
    "trigger_char_start": pl.Int32,
    "actor_id": pl.String,
    "role": pl.String,
    "surface_text": pl.String,
    "char_start": pl.Int32,
    "char_end": pl.Int32,
}

_B = "(?-u:\\b)"
_NEGATION = rf"{_B}(?:no|not|never|without|neither|nor|denied|denies|deny|failed to|did not|didn't|has not|have not|hasn't|haven't|wasn't|weren't|none)(?:{_B}|$)"
_FUTURE = rf"{_B}(?:will|shall|plans? to|planned|planning|upcoming|next (?:week|month|year)|to be held|expected to|scheduled|intends? to|set to|aims? to)(?:{_B}|$)"
# a future cue after the trigger: "talks in Geneva are planned for next week", "the summit will be
# held in May" (present tense only: "the attack was planned for months" happened)
_FUTURE_AFTER = (rf"^[^.;:]{{0,60}}?{_B}(?:is|are|remains?) (?:now |still |tentatively )?(?:planned|scheduled|expected|set|due|slated)"
                 rf" (?:to|for){_B}|^[^.;:]{{0,60}}?{_B}will (?:be held|take place|begin|start|resume|open|convene){_B}")
_HYPOTHETICAL = (rf"{_B}(?:could|would|might|may|should|must|ought to|needs? to|if|unless|whether|threat(?:en|ened|ens)? to|risks?|possib(?:le|ly|ility)|potential(?:ly)?|"
                 rf"willing(?:ness)? to|able to|ability to|readiness to|ready for|offer(?:ed|s)? to|reluctant to|propos(?:ed|al)|"
                 rf"unlikely|would-be|conditional on|urg(?:e|es|ed|ing)|call(?:s|ed)? on|hop(?:e|es|ed|ing)|sought to|seeking|"
                 rf"in any|any ensuing|incite|"
                 rf"fear(?:s|ed)?|warn(?:s|ed)? (?:of|that)|likely to|capable of|ready to|prepared to|seeks? to|want(?:s|ed)? to|try(?:ing)? to|tried to|attempt(?:s|ed)? to|call(?:s|ed)? for)(?:{_B}|$)")
_SUMMARY = (rf"{_B}(?:this|last|past|previous|each|every|the past) (?:\w+ )?(?:week|month|year|decade)s?{_B}|{_B}so far{_B}|"
            rf"{_B}since (?:19|20)[0-9][0-9]{_B}|{_B}a total of{_B}|{_B}in total{_B}|{_B}per (?:year|month|day){_B}|{_B}annual(?:ly)?{_B}|"
            rf"{_B}on average{_B}|{_B}(?:attacks|bombings|incidents|strikes|killings|deaths|casualties|violence) (?:have |has )?"
            rf"(?:rose|risen|fell|fallen|increased|decreased|doubled|dropped|surged|declined){_B}|"
            rf"{_B}[0-9][0-9,]* (?:\w+ ){{0,3}}(?:attacks|incidents|bombings|strikes|operations|raids|killings){_B}|"
            rf"%|{_B}percent{_B}|{_B}number of (?:attacks|incidents|deaths){_B}|{_B}dozens of (?:attacks|bombings){_B}|"
            rf"{_B}(?:series|wave|spate|string) of (?:attacks|bombings|killings){_B}")
# an agent of violence named in the sentence makes a bare "killed" an event
_AGENT = rf"{_B}(?:gunm[ae]n|militants?|fighters?|insurgents?|attackers?|bomber|terrorists?|soldiers|troops|forces|police)(?:{_B}|$)"
_BY = rf"{_B}(?:by|from)\s*$"
# a past-tense or finite verb form: "-ed" forms and the irregular ones the triggers use
_METAPHOR = rf"{_B}(?:verbal|rhetorical|ideological|propaganda|cyber|legal|personal|scathing|blistering|written|media|smear)\s+$"
_FINITE_VERB = rf"(?:ed|met|held|withdrew|threw|struck|took|fell|overran|retook|fought|signed|agreed|hosted|visited)(?:{_B}|$)|{_B}(?:met|held|withdrew|threw|struck|took)(?:{_B}|$)"
_LOCATIVE = rf"{_B}(?:in|into|inside|across|throughout|near|outside|from|of northern|of southern|of eastern|of western)\s+(?:the\s+)?$"
_TARGET_BEFORE = rf"{_B}(?:on|against|targeting|targeted|at|the|an?|of)\s*$"
_MEDIATOR = rf"{_B}(?:mediat\w*|facilitat\w*|broker\w*|intermediar\w*)"
_HOSTED = rf"{_B}(?:hosted|host|hosts|hosting|invited)\s*$"
_FORCES = rf"{_B}(?:soldiers|troops|forces|police|policemen|officers|army|military|security personnel|checkpoint|convoy|base|garrison){_B}"

_TRIGGER_SCAN = "|".join(f"(?:{p})" for _, p in TRIGGERS)
_QUAL_RANK = {"exact": 0, "approximately": 1, "at_least": 2, "at_most": 3, "vague": 4}


# Windows over a sentence, on frames sorted by sentence (the integer `_grp`) and position:
# shifts masked at the sentence boundary. polars' `.over()` with ~10^5 small groups cost ~1 s
# per 20 MB here; these are plain vector shifts.
def _first_in_sentence() -> pl.Expr:
    return (pl.col("_grp") != pl.col("_grp").shift(1)).fill_null(True)


def _prev_in_sentence(e: pl.Expr) -> pl.Expr:
    return pl.when(pl.col("_grp") == pl.col("_grp").shift(1)).then(e.shift(1))


def _next_in_sentence(e: pl.Expr) -> pl.Expr:
    return pl.when(pl.col("_grp") == pl.col("_grp").shift(-1)).then(e.shift(-1))


def _sentence_of(spans: pl.LazyFrame, sentences: pl.LazyFrame, start_col: str = "char_start") -> pl.LazyFrame:
    """Adds sentence_index, sentence_char_start, sentence_char_end to rows with a char offset."""
    sent = sentences.select("document_id", "sentence_index", pl.col("char_start").alias("sentence_char_start"),
                            pl.col("char_end").alias("sentence_char_end")).sort("document_id", "sentence_char_start")
    return (
        spans.with_columns(pl.col(start_col).cast(pl.Int32).alias("_pos")).sort("document_id", "_pos")
        .join_asof(sent, left_on="_pos", right_on="sentence_char_start", by="document_id", strategy="backward",
                   check_sortedness=False)
        .filter(pl.col("_pos") < pl.col("sentence_char_end"))
        .drop("_pos")
    )


def _triggers(documents: pl.DataFrame, sentences: pl.DataFrame) -> pl.LazyFrame:
    spans = in_parallel(documents.select("document_id", "body_text"),
                        lambda lf: find_spans(lf, _TRIGGER_SCAN, lowercase=True))
    typed = spans.lazy().with_columns(
        event_type=form_of([(name, pattern.replace("(?-u:\\b)", "")) for name, pattern in TRIGGERS], flags="i"),
    ).drop_nulls("event_type")
    return _sentence_of(typed, sentences.lazy())


def event_reports(documents: pl.DataFrame, sentences: pl.DataFrame, statistics: pl.DataFrame, dates: pl.DataFrame,
                  mentions: pl.DataFrame, gazetteer: pl.DataFrame,
                  claims: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(reports: REPORT_SCHEMA, report_actors: REPORT_ACTOR_SCHEMA).

    A sentence may report several events ("The attack on the concert hall in Moscow was claimed
    by ISKP, the group that bombed the Kabul airport in August 2021, killing 183"). Each trigger
    opens a *segment* that runs to the next trigger (the first one also takes the sentence's
    start); the facts of a segment (places, dates, figures, actors) are its own. Consecutive
    segments merge into one report when they can be one event (both violent or both not, no two
    different places, no two different dates): "attacked the embassy with a suicide bomber on 5
    September, killing six" is one suicide bombing."""
    if documents.height == 0 or sentences.height == 0:
        return pl.DataFrame(schema=REPORT_SCHEMA), pl.DataFrame(schema=REPORT_ACTOR_SCHEMA)
    key = ["document_id", "sentence_index"]
    sents = sentences.lazy()
    # materialized once: the lazy frames below are read by several collects, and polars does not
    # share work across collects (measured: 2x on the events step of the benchmark)
    text = sents.select(*key, low=pl.col("sentence_text").str.to_lowercase()).collect().lazy()
    trig = _triggers(documents, sentences).join(kind_frame().lazy(), on="event_type")
    stats_in = _sentence_of(statistics.lazy(), sents)
    cas = stats_in.filter(pl.col("statistic_type") == "casualty")
    has_figure = cas.select(*key).unique().with_columns(has_figure=pl.lit(True))
    gaz_types = gazetteer.lazy().select("actor_id", "actor_type")
    has_person = (
        _sentence_of(mentions.lazy(), sents).join(gaz_types, on="actor_id")
        .filter(pl.col("actor_type") == "person").select(*key).unique().with_columns(has_person=pl.lit(True))
    )
    trig = (
        trig.join(has_figure, on=key, how="left").join(has_person, on=key, how="left").join(text, on=key)
        .with_columns(has_figure=pl.col("has_figure").fill_null(False), agent=pl.col("low").str.contains(_AGENT),
                      has_person=pl.col("has_person").fill_null(False))
        # a bare casualty verb needs a figure, an agent of violence or a named victim in its sentence
        .filter(~pl.col("event_type").is_in(sorted(WEAK_TRIGGERS)) | pl.col("has_figure") | pl.col("agent")
                | pl.col("has_person"))
        .sort(*key, "char_start")
        # an integer per sentence: windows over it are ~10x faster than over (document_id, sentence_index)
        .with_columns(_grp=((pl.col("document_id") != pl.col("document_id").shift(1))
                            | (pl.col("sentence_index") != pl.col("sentence_index").shift(1))).fill_null(True).cum_sum())
        .with_columns(
            segment_start=pl.when(_first_in_sentence()).then(pl.col("sentence_char_start"))
            .otherwise(pl.col("char_start")).cast(pl.Int32),
            segment_end=_next_in_sentence(pl.col("char_start")).fill_null(pl.col("sentence_char_end")).cast(pl.Int32),
        )
        .collect().lazy()
    )
    # facts of each segment
    seg = trig.select(*key, "segment_start", "segment_end", "char_start").sort("document_id", "segment_start")

    def in_segment(frame: pl.LazyFrame) -> pl.LazyFrame:
        return (
            frame.with_columns(pl.col("char_start").cast(pl.Int32).alias("_pos")).sort("document_id", "_pos")
            .join_asof(seg.select("document_id", "sentence_index", "segment_start", "segment_end",
                                  pl.col("char_start").alias("trigger_start")),
                       left_on="_pos", right_on="segment_start", by="document_id", strategy="backward",
                       check_sortedness=False)
            .filter(pl.col("_pos") < pl.col("segment_end"))
            .drop("_pos")
        )

    gaz = gazetteer.lazy().select("actor_id", "actor_type", "country_code")
    # a state is the place only after a locative preposition ("in Afghanistan", "into Tajikistan"):
    # as an adjective or a noun ("the Russian embassy", "Iranian police", "Russia said") it is an actor
    bodies = documents.lazy().select("document_id", "body_text")
    placed = (
        mentions.lazy().join(gaz, on="actor_id", how="left").filter(pl.col("actor_type").is_in(["place", "state"]))
        .join(bodies, on="document_id")
        .with_columns(preceding=pl.col("body_text").str.slice(pl.max_horizontal(pl.col("char_start") - 14, pl.lit(0)),
                                                              pl.min_horizontal(pl.col("char_start"), pl.lit(14)))
                      .str.to_lowercase())
        .filter((pl.col("actor_type") == "place") | pl.col("preceding").str.contains(_LOCATIVE))
        .drop("body_text", "preceding")
    )
    places = (
        in_segment(placed)
        .with_columns(place_rank=pl.when(pl.col("actor_type") == "place").then(0).otherwise(1))
        .sort("trigger_start", "place_rank", "char_start").group_by("document_id", "trigger_start", maintain_order=True).first()
        .select("document_id", "trigger_start", place_id="actor_id", place_text="surface_text", place_country="country_code",
                place_type="actor_type")
    )
    when = (
        in_segment(dates.lazy().filter(pl.col("date_start").is_not_null()))
        .sort("char_start").group_by("document_id", "trigger_start", maintain_order=True).first()
        .select("document_id", "trigger_start", seg_date_start="date_start", seg_date_end="date_end",
                seg_precision="granularity")
    )
    trig = (
        trig.join(places, left_on=["document_id", "char_start"], right_on=["document_id", "trigger_start"], how="left")
        .join(when, left_on=["document_id", "char_start"], right_on=["document_id", "trigger_start"], how="left")
        .sort(*key, "char_start")
    )
    # "captured" with no place in its segment captured people, not territory
    trig = trig.with_columns(
        event_type=pl.when((pl.col("event_type") == "territory_seized") & pl.col("place_id").is_null())
        .then(pl.lit("arrest")).otherwise(pl.col("event_type")),
    ).drop("acled_event_type", "acled_sub_event_type", "plover_event_type", "violent", "rank").join(
        kind_frame().lazy(), on="event_type")
    # merge a segment into the previous one of its sentence when they can be one event
    prev = lambda c: _prev_in_sentence(pl.col(c))  # noqa: E731
    clash_place = prev("place_id").is_not_null() & pl.col("place_id").is_not_null() & (prev("place_id") != pl.col("place_id"))
    clash_date = (prev("seg_date_start").is_not_null() & pl.col("seg_date_start").is_not_null()
                  & ((pl.col("seg_date_start") > prev("seg_date_end")) | (pl.col("seg_date_end") < prev("seg_date_start"))))
    new_report = _first_in_sentence() | (prev("violent") != pl.col("violent")) | clash_place | clash_date
    count = new_report.cast(pl.Int32).cum_sum()
    trig = trig.sort(*key, "char_start").with_columns(
        report=count - pl.when(_first_in_sentence()).then(count).forward_fill())
    # "..., killing nearly 200 people": a bare casualty verb with no place or date of its own
    # belongs to the last violent report before it, even across a non-violent one ("during the
    # withdrawal")
    # (-1 at each sentence's start stops the forward fill at the sentence boundary)
    last_violent = (pl.when(_first_in_sentence()).then(-1).otherwise(pl.col("_violent_report").shift(1))
                    .forward_fill().replace(-1, None))
    attach = (pl.col("event_type").is_in(sorted(WEAK_TRIGGERS)) & pl.col("place_id").is_null()
              & pl.col("seg_date_start").is_null() & last_violent.is_not_null())
    trig = trig.with_columns(_violent_report=pl.when(pl.col("violent")).then(pl.col("report"))).with_columns(
        report=pl.when(attach).then(last_violent).otherwise(pl.col("report"))).drop("_violent_report").collect().lazy()
    rkey = [*key, "report"]
    group = (
        trig.sort(*rkey, "rank", "char_start")
        .group_by(rkey, maintain_order=True)
        .agg(
            pl.col("match").first().alias("trigger_text"), pl.col("_grp").first(),
            pl.col("char_start").first().cast(pl.Int32).alias("trigger_char_start"),
            pl.col("char_end").first().cast(pl.Int32).alias("trigger_char_end"),
            pl.col("event_type").first(), pl.col("acled_event_type").first(), pl.col("acled_sub_event_type").first(),
            pl.col("plover_event_type").first(), pl.col("violent").first(),
            pl.col("sentence_char_start").first(), pl.col("sentence_char_end").first(), pl.col("low").first(),
            pl.col("segment_start").min().alias("report_start"), pl.col("segment_end").max().alias("report_end"),
            pl.col("place_id").sort_by("char_start").drop_nulls().first().alias("location_actor_id"),
            pl.col("place_text").sort_by("char_start").drop_nulls().first().alias("location_text"),
            pl.col("place_country").sort_by("char_start").drop_nulls().first().alias("country_code"),
            pl.col("place_type").sort_by("char_start").drop_nulls().first().alias("location_type"),
            pl.col("seg_date_start").sort_by("char_start").drop_nulls().first().alias("date_start"),
            pl.col("seg_date_end").sort_by("char_start").drop_nulls().first().alias("date_end"),
            pl.col("seg_precision").sort_by("char_start").drop_nulls().first().alias("date_precision"),
        )
    )
    # status: a cue between the previous report's trigger (or the sentence start) and this
    # trigger; clarity: the report's own text
    group = group.sort(*key, "trigger_char_start").with_columns(
        cue_from=_prev_in_sentence(pl.col("trigger_char_end")).fill_null(pl.col("sentence_char_start")))
    before = pl.col("low").str.slice(pl.col("cue_from") - pl.col("sentence_char_start"),
                                     pl.max_horizontal(pl.col("trigger_char_start") - pl.col("cue_from"), pl.lit(0)))
    window = before.str.slice(pl.max_horizontal(before.str.len_chars().cast(pl.Int64) - 60, pl.lit(0)))
    own = pl.col("low").str.slice(pl.col("report_start") - pl.col("sentence_char_start"),
                                  pl.col("report_end") - pl.col("report_start"))
    after = pl.col("low").str.slice(pl.col("trigger_char_end") - pl.col("sentence_char_start"),
                                    pl.max_horizontal(pl.col("report_end") - pl.col("trigger_char_end"), pl.lit(0)))
    # armed forces as the target make an attack a battle; as the source ("..., police said") they do not
    forces_in_own = own.str.replace_all(
        rf"{_FORCES}\s+(?:said|say|says|told|reported|stated|added|confirmed|spokesm[ae]n)(?:{_B}|$)", "").str.contains(_FORCES)
    group = group.with_columns(
        status=pl.when(window.str.contains(_NEGATION)).then(pl.lit("negated"))
        .when(before.str.contains(_FUTURE) | after.str.contains(_FUTURE_AFTER)).then(pl.lit("future"))
        .when(before.str.contains(_HYPOTHETICAL)).then(pl.lit("hypothetical"))
        .otherwise(pl.lit("occurred")),
        event_clarity=pl.when(own.str.contains(_SUMMARY)).then(pl.lit("summary")).otherwise(pl.lit("incident")),
        # a non-violent event named by a noun ("support for", "recognition of", "sanctions",
        # "mediation") with no date and no specific place is a topic, not an event that happened
        generic=(~pl.col("violent") & ~pl.col("trigger_text").str.to_lowercase().str.contains(_FINITE_VERB)
                 & pl.col("date_start").is_null() & (pl.col("location_type").fill_null("") != "place"))
        # a subheading ("Diplomatic Engagement and Recognition") names a topic; the headline
        # (sentence 0) and a dated timeline item ("2015: ISIL captures Ramadi") name events
        | ((pl.col("sentence_index") > 0) & ~pl.col("low").str.contains(r"[.!?:;\"')]\s*$")
           & (pl.col("low").str.count_matches(" ") < 12) & pl.col("date_start").is_null()),
        negated_inside=pl.col("trigger_text").str.to_lowercase().str.contains(rf"{_B}(?:no|not|never){_B}"),
        # "an ideological attack", "a verbal assault": a figure of speech, not violence
        metaphor=before.str.contains(_METAPHOR),
        # an attack on armed forces is a battle in ACLED's terms
        acled_event_type=pl.when((pl.col("event_type") == "attack") & forces_in_own)
        .then(pl.lit("Battles")).otherwise(pl.col("acled_event_type")),
        acled_sub_event_type=pl.when((pl.col("event_type") == "attack") & forces_in_own)
        .then(pl.lit("Armed clash")).otherwise(pl.col("acled_sub_event_type")),
    )
    # coordinated triggers share a status: "should increase the evacuation flights and airstrikes"
    gap = pl.col("low").str.slice(pl.col("cue_from") - pl.col("sentence_char_start"),
                                  pl.max_horizontal(pl.col("trigger_char_start") - pl.col("cue_from"), pl.lit(0)))
    coordinated = (_prev_in_sentence(pl.col("trigger_char_end")).is_not_null()
                   & gap.str.contains(rf"^[\w\s-]{{0,25}}(?:,|{_B}and|{_B}or)\s*(?:the\s+|an?\s+)?$"))
    group = group.with_columns(
        status=pl.when(coordinated & (pl.col("status") == "occurred"))
        .then(_prev_in_sentence(pl.col("status"))).otherwise(pl.col("status")))
    group = group.with_columns(
        status=pl.when(pl.col("negated_inside")).then(pl.lit("negated"))
        .when((pl.col("status") == "occurred") & (pl.col("generic") | pl.col("metaphor"))).then(pl.lit("generic"))
        .otherwise(pl.col("status")),
    ).drop("generic", "negated_inside", "metaphor")
    # toll: the report's casualty figures, added up per phrase by casualty_totals
    # (figures are placed by segment, then go with the segment's report: a participle clause,
    # "..., killing nearly 200", keeps its figure when it joins a report across another one)
    seg_report = trig.select("document_id", "sentence_index", "report", "segment_start", "segment_end")
    figures = (
        cas.with_columns(pl.col("char_start").cast(pl.Int32).alias("_pos")).sort("document_id", "_pos")
        .join_asof(seg_report.sort("document_id", "segment_start"),
                   left_on="_pos", right_on="segment_start", by="document_id", strategy="backward", check_sortedness=False)
        .filter(pl.col("_pos") < pl.col("segment_end")).drop("_pos", "segment_start", "segment_end")
        .with_columns(document_id=pl.concat_str("document_id", pl.col("sentence_index").cast(pl.String),
                                                pl.col("report").cast(pl.String), separator="#"))
        .collect()
    )
    totals = casualty_totals(figures.select(list(statistics.columns)), victims_only=False)
    quals = (
        figures.with_columns(qrank=pl.col("qualifier").replace_strict(_QUAL_RANK, default=5, return_dtype=pl.Int32))
        .sort("qrank", descending=True).group_by("document_id", "casualty_type").agg(pl.col("qualifier").first())
    )
    parts = pl.col("document_id").str.split("#")
    toll = (
        totals.join(quals, on=["document_id", "casualty_type"], how="left")
        .with_columns(doc=parts.list.get(0), sentence_index=parts.list.get(1).cast(pl.Int32),
                      report=parts.list.get(2).cast(pl.Int32))
        .lazy().group_by("doc", "sentence_index", "report").agg(
            killed=pl.col("total").filter(pl.col("casualty_type") == "killed").first(),
            injured=pl.col("total").filter(pl.col("casualty_type") == "injured").first(),
            killed_qualifier=pl.col("qualifier").filter(pl.col("casualty_type") == "killed").first(),
            injured_qualifier=pl.col("qualifier").filter(pl.col("casualty_type") == "injured").first(),
        ).rename({"doc": "document_id"})
    )
    # a report with only a vague figure ("dozens were killed") takes the word's ACLED value
    word = pl.col("surface_text").str.to_lowercase().str.extract("(" + "|".join(sorted(VAGUE_VALUES, key=len, reverse=True)) + ")", 1)
    vague = (
        figures.filter(pl.col("qualifier") == "vague").with_columns(word=word).drop_nulls("word")
        .with_columns(value=pl.col("word").replace_strict(VAGUE_VALUES, return_dtype=pl.Float64),
                      doc=parts.list.get(0), sentence_index=parts.list.get(1).cast(pl.Int32),
                      report=parts.list.get(2).cast(pl.Int32))
        .group_by("doc", "sentence_index", "report").agg(
            vague_killed=pl.col("value").filter(pl.col("casualty_type") == "killed").max(),
            vague_injured=pl.col("value").filter(pl.col("casualty_type") == "injured").max())
        .rename({"doc": "document_id"}).lazy()
    )
    reports = (
        group.join(toll, on=rkey, how="left").join(vague, on=rkey, how="left")
        .with_columns(
            killed_qualifier=pl.when(pl.col("killed").is_null() & pl.col("vague_killed").is_not_null())
            .then(pl.lit("vague")).otherwise(pl.col("killed_qualifier")),
            injured_qualifier=pl.when(pl.col("injured").is_null() & pl.col("vague_injured").is_not_null())
            .then(pl.lit("vague")).otherwise(pl.col("injured_qualifier")),
            killed=pl.coalesce("killed", "vague_killed"), injured=pl.coalesce("injured", "vague_injured"),
        )
        .sort(*key, "trigger_char_start")
        .collect()
    )
    actors = _report_actors(reports, mentions, gazetteer, text, claims)
    return reports.select(list(REPORT_SCHEMA)).cast(REPORT_SCHEMA), actors


def _report_actors(reports: pl.DataFrame, mentions: pl.DataFrame, gazetteer: pl.DataFrame, text: pl.LazyFrame,
                   claims: pl.DataFrame | None) -> pl.DataFrame:
    key = ["document_id", "sentence_index"]
    rep = reports.lazy().select(*key, "report_start", "report_end", "trigger_char_start", "trigger_char_end",
                                "violent", "location_actor_id", "sentence_char_start").sort("document_id", "report_start")
    gaz = gazetteer.lazy().select("actor_id", "actor_type")
    rows = (
        mentions.lazy().join(gaz, on="actor_id", how="left")
        .filter(pl.col("actor_type") != "place")
        .with_columns(pl.col("char_start").cast(pl.Int32).alias("_pos")).sort("document_id", "_pos")
        .join_asof(rep, left_on="_pos", right_on="report_start", by="document_id", strategy="backward",
                   check_sortedness=False)
        .filter(pl.col("_pos") < pl.col("report_end")).drop("_pos")
        .filter(pl.col("actor_id") != pl.col("location_actor_id").fill_null(""))
        .join(text, on=key)
        .with_columns(before_text=pl.col("low").str.slice(0, pl.col("char_start") - pl.col("sentence_char_start")))
        .with_columns(
            before_trigger=pl.col("char_end") <= pl.col("trigger_char_start"),
            after_trigger=pl.col("char_start") >= pl.col("trigger_char_end"),
            by_before=pl.col("before_text").str.slice(-12).str.contains(_BY),
            target_cue=pl.col("before_text").str.slice(-14).str.contains(_TARGET_BEFORE),
            mediator=pl.col("low").str.slice(pl.max_horizontal(pl.col("char_start") - pl.col("sentence_char_start") - 40,
                                                                pl.lit(0)), 90).str.contains(_MEDIATOR),
            hosted=pl.col("before_text").str.slice(-12).str.contains(_HOSTED),
        )
        .with_columns(
            role=pl.when(pl.col("violent") & pl.col("by_before")).then(pl.lit("perpetrator"))
            .when(pl.col("violent") & pl.col("after_trigger")).then(pl.lit("target"))
            .when(pl.col("violent") & pl.col("before_trigger")).then(pl.lit("perpetrator"))
            .when(pl.col("mediator")).then(pl.lit("mediator"))
            .when(pl.col("hosted")).then(pl.lit("host"))
            .otherwise(pl.lit("participant"))
        )
        .select(*key, "trigger_char_start", "actor_id", "role", "surface_text", pl.col("char_start").cast(pl.Int32),
                pl.col("char_end").cast(pl.Int32))
        .collect()
    )
    if claims is not None and claims.height:
        rows = _apply_claims(rows, reports, claims, mentions, gazetteer)
    return (rows.unique(subset=["document_id", "trigger_char_start", "actor_id", "role"], keep="first", maintain_order=True)
            .select(list(REPORT_ACTOR_SCHEMA)).cast(REPORT_ACTOR_SCHEMA).sort("document_id", "trigger_char_start", "char_start"))


_SUSPECT = r"(?-u:\b)(?:suspect\w*|believed|blam\w*|accus\w*|attributed|linked to|behind)(?-u:\b)"


def _apply_claims(rows: pl.DataFrame, reports: pl.DataFrame, claims: pl.DataFrame, mentions: pl.DataFrame,
                  gazetteer: pl.DataFrame) -> pl.DataFrame:
    """A group that claims responsibility for a violent event of its article is its perpetrator;
    so is an armed group that the article's sources suspect or blame ("the Islamic State is
    suspected", "officials blamed the Taliban") when nobody claims it; a group that denies is
    not the perpetrator (its perpetrator rows become participant rows)."""
    key = ["document_id", "sentence_index"]
    violent = reports.filter(pl.col("violent") & (pl.col("status") == "occurred")).select(*key, "trigger_char_start")
    kinds = claims.filter(pl.col("claimant_actor_id").is_not_null()).select(
        "document_id", pl.col("sentence_index").alias("claim_sentence"), pl.col("claimant_actor_id").alias("actor_id"),
        "claim_type", pl.col("claimant_text").alias("surface_text"),
        pl.col("claimant_char_start").cast(pl.Int32).alias("char_start"),
        pl.col("claimant_char_end").cast(pl.Int32).alias("char_end"))
    deniers = kinds.filter(pl.col("claim_type") == "denial").select("document_id", "actor_id").unique()
    # the responsibility claim is about the violent event reported in the same sentence, else
    # the one reported last before it in the article
    claimers = kinds.filter(pl.col("claim_type") == "responsibility_claim")
    about = (
        claimers.sort("document_id", "claim_sentence")
        .join_asof(violent.sort("document_id", "sentence_index"), left_on="claim_sentence", right_on="sentence_index",
                   by="document_id", strategy="backward", check_sortedness=False)
        .drop_nulls("sentence_index")
        .select(*key, "trigger_char_start", "actor_id", pl.lit("perpetrator").alias("role"), "surface_text",
                "char_start", "char_end")
    )
    # suspicion: armed groups named inside a claim whose cue suspects or blames
    groups = gazetteer.filter(pl.col("actor_type") == "armed_group").select("actor_id")
    suspicious = claims.filter(pl.col("cue").fill_null("").str.to_lowercase().str.contains(_SUSPECT)).select(
        "document_id", pl.col("sentence_index").alias("claim_sentence"), "char_start", "char_end")
    named = (
        mentions.join(groups, on="actor_id").select(
            "document_id", "actor_id", "surface_text", pl.col("char_start").alias("m_start"), pl.col("char_end").alias("m_end"))
        .join(suspicious, on="document_id")
        .filter((pl.col("m_start") >= pl.col("char_start")) & (pl.col("m_end") <= pl.col("char_end")))
        .select("document_id", "claim_sentence", "actor_id", "surface_text",
                pl.col("m_start").cast(pl.Int32).alias("char_start"), pl.col("m_end").cast(pl.Int32).alias("char_end"))
    )
    claimed_docs = about.select("document_id").unique()
    suspected = (
        named.join(claimed_docs, on="document_id", how="anti").sort("document_id", "claim_sentence")
        .join_asof(violent.sort("document_id", "sentence_index"), left_on="claim_sentence", right_on="sentence_index",
                   by="document_id", strategy="backward", check_sortedness=False)
        .drop_nulls("sentence_index")
        .select(*key, "trigger_char_start", "actor_id", pl.lit("perpetrator").alias("role"), "surface_text",
                "char_start", "char_end")
    )
    rows = pl.concat([rows, about.cast(rows.schema), suspected.cast(rows.schema)])
    if deniers.height:
        rows = rows.join(deniers.with_columns(denies=pl.lit(True)), on=["document_id", "actor_id"], how="left").with_columns(
            role=pl.when(pl.col("denies").fill_null(False) & (pl.col("role") == "perpetrator"))
            .then(pl.lit("participant")).otherwise(pl.col("role"))
        ).drop("denies")
    return rows
