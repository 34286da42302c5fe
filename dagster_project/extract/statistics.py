"""Figures in text: casualties (killed / injured), percentages, money and counts.

One combined regex finds every candidate phrase in one vectorized pass
(`find_spans`). Each candidate is then parsed with its anchored form, which has
named groups for coordinated members ("killing 13 U.S. soldiers and 170 Afghans",
"eight people were killed and 20 injured", "killed a soldier, 4 paramilitaries
and 4 civilians"); every member becomes one row with its own span, value,
qualifier, casualty type and subject. A coordination that does not hold up
(`_misread`) is scanned again without the form that misread it.

Never casualties, by construction: a number glued to a hyphen ("19-year-old",
"200-bed", "16-year war") is not a number token here; counters and reading times
are removed by normalization; durations and years are filtered out of counts.
"""

from __future__ import annotations


import polars as pl

from dagster_project.extract.numbers import DIGITS, NUM, QUAL, VAGUE, WORDNUM, parse_number, qualifier_of
from dagster_project.extract.spans import find_spans, form_of, in_parallel, lowercase_pattern, stable_id, unnamed

# Keyed by (document_id, char_start, char_end, statistic_type, casualty_type); the warehouse
# derives statistic_id from that key in dbt staging (see docs/raw_tables.md).
STAT_SCHEMA = {
    "document_id": pl.String,
    "statistic_type": pl.String,
    "value": pl.Float64,
    "qualifier": pl.String,
    "casualty_type": pl.String,
    "subject": pl.String,
    "unit": pl.String,
    "is_total": pl.Boolean,
    "group_id": pl.String,
    "surface_text": pl.String,
    "char_start": pl.Int64,
    "char_end": pl.Int64,
}

WB = r"(?-u:\b)"
KILL = r"(?:shot dead|shot and killed|gunned down|stabbed to death|(?:the )?deaths? of|kill(?:ed|ing|s)?|massacr(?:ed|ing|es)|slaughter(?:ed|ing|s)?|execut(?:ed|ing|es))"
HURT = r"(?:(?:the )?(?:wounding|injuring|injury|injuries) of|stab(?:bed|bing|s)?|wound(?:ed|ing|s)?|injur(?:ed|ing|es|e)|maim(?:ed|ing|s)?)"
# Verbs whose casualty type comes from the words after the number ("left 12 dead",
# "claimed 7 civilians' lives").
LEAVE = r"(?:left|leaving|leaves?|claim(?:ed|ing|s)?(?: the lives of)?)"
NOUN_KILLED = r"(?:killed|dead|died|slain|perished|lost their lives|deaths|fatalities|lives|to death|gunned down|executed|murdered|massacred|beheaded|assassinated)"
NOUN_HURT = r"(?:wounded|injured|hurt|injuries|wounds|stabbed)"
AUX = r"(?:(?:were|was|have been|has been|had been|are|is|been|being|has|got|reportedly|also|later|all|confirmed|feared|believed|left|as|more|in total|in all|shot|shot and|stabbed|stabbed and|became|become|sustained|suffered|critically|seriously|slightly|fatally|got|have|had) )*"
# An apposition between a number and its verb: "40 people, 6 security personnel and
# 34 civilians, were killed" / "At least 31 people, including 5 policemen, were killed" /
# "16 people[citation needed] were killed".
# (Unbounded repeats: counted ones like {1,90} multiply the regex automaton's states and made
# the whole statistics pass ~4x slower; punctuation bounds the apposition anyway.)
APPOS = r"(?:,[^,.;:]+,| \([^()]+\)|,? including [^,.;:]+?|\[[^\[\]]*\])?"
# A subject word: abbreviations like "U.S." or ordinary words. No digits, so a tail
# stops before the next number ("... soldiers and 170 Afghans").
TOK = r"(?:[A-Z]\.(?:[A-Z]\.)+|[A-Za-z][A-Za-z'-]*)"
# The same without the word "and" (spelled out: the engine has no look-ahead), for a last
# member's tail: "killing the driver and a civilian [and] wounding 5" must stop before "and".
TOKNA = r"(?:[A-Z]\.(?:[A-Z]\.)+|[b-zB-Z][A-Za-z'-]*|[aA](?:[a-mo-zA-MO-Z'-][A-Za-z'-]*|[nN](?:[a-ce-zA-CE-Z'-][A-Za-z'-]*|[dD][A-Za-z'-]+)?)?)"
NUMV = rf"(?:{NUM}|{VAGUE})"
# A number must end at a space or punctuation, never at a hyphen ("19-year-old").
END = r"(?:[^\w-]|\z)"

# Lists of victims: "killed a soldier, 4 paramilitaries and 4 civilians", "killing the driver and
# a civilian", "22 civilians, 2 police officers, and 5 attackers were killed". A member is a number
# phrase, or a noun phrase with a determiner: one person (`_bad_member` checks that its head is
# singular). Members between the first and the last are the `mid` group.
DET = r"(?:their|the|his|her|an|a)(?-u:\b)"
# "the 2 officers", "his two sons": a number with a determiner
_DNUM = rf"(?:(?:the|his|her|their) )?{NUM}"
_MID = rf"(?P<mid>(?:, (?:{QUAL} )?(?:{_DNUM}|{DET})(?: {TOK}){{0,4}}?)*)"
PERP = (r"(?:attackers?|assailants?|gunm[ae]n|(?:suicide )?bombers?|terrorists?|perpetrators?"
        r"|militants?|insurgents?|jihadists?|knifem[ae]n|shooters?|hijackers?|kidnappers?)")
# "16 people were killed in the attack, including the suicide bomber": the attackers are part of
# the figure (`casualty_totals` takes them out of victim counts).
_INCL_PERP = rf"including (?:(?:the|one|a|an|{DIGITS}|{WORDNUM}) )?(?:(?:would-be|suspected|alleged|lone) )?{PERP}"
INCL = rf"(?P<inc>(?: {TOK})*?,? {_INCL_PERP})?"
# A part of a group: "1 of 4 young children injured has died", "One of the injured died" (the
# injured are the group here, not the verb; `casualty_totals` adds such deaths to the dead).
PART = rf"(?: of (?:the |those |these )?(?:{NUM}(?:(?: {TOK})*? (?:injured|wounded))?|injured|wounded))"
_V1 = rf"(?P<v1>{KILL}|{HURT}|{LEAVE}) (?:a group of |a total of |the |all )?(?:(?P<q1>{QUAL}) )?(?:a group of )?"
_M1V = rf"{_V1}(?P<n1>{NUMV})"
FORMS: list[tuple[str, str]] = [
    # killing 13 U.S. soldiers and 170 Afghans / killed at least 55 people and injured 94 /
    # killed a suspected bomber, a soldier, 4 paramilitaries and 4 civilians. The first member's tail is
    # unbounded ("killed a candidate running for a seat in the assembly, his driver and a guard"):
    # TOK stops at punctuation and digits, and unbounded repeats keep the automaton small.
    ("verb_pair", rf"(?P<m1>{_V1}(?P<n1>{NUMV}|{DET})(?P<t1>(?: {TOK})*?)){_MID},? (?P<sep>and|while) (?P<m2>(?:(?P<v2>{KILL}|{HURT}) )?(?:(?P<q2>{QUAL}) )?(?P<n2>{_DNUM}|{DET})(?P<t2>(?: {TOKNA}){{0,3}}))"),
    # killing six people / kill 11 miners / left at least 12 soldiers dead
    ("verb", rf"(?P<m1>{_M1V}(?P<t1>(?: {TOK}){{0,4}})){INCL}"),
    # death toll rose to 141
    ("toll", rf"(?P<m1>(?:death toll|toll|number of (?:dead|deaths|fatalities)) (?:[a-z]+ ){{0,3}}?(?:to|of|at|reached|is|was|stood at|stands at) (?:(?P<q1>{QUAL}) )?(?P<n1>{NUM}))"),
    # eight people were killed and 20 injured / 68 people were killed and at least 165 were injured
    ("noun_pair", rf"(?P<m1>(?:(?P<q1>{QUAL}) )?(?P<n1>{NUMV})(?P<t1>(?: {TOK})*?){APPOS} {AUX}(?P<w1>{NOUN_KILLED}|{NOUN_HURT}))(?:,? and|,|;) (?P<m2>(?:(?P<q2>{QUAL}) )?(?P<n2>{NUM})(?P<t2>(?: {TOK}){{0,2}}?) {AUX}(?P<w2>{NOUN_KILLED}|{NOUN_HURT}))"),
    # 32 people and 3 suicide bombers were killed / Four military personnel and 2 civilians were killed /
    # At least 22 civilians, 2 police officers, and 5 attackers were killed
    ("noun_coord", rf"(?P<m1>(?:(?P<q1>{QUAL}) )?(?P<n1>{NUM})(?P<t1>(?: {TOK}){{1,4}}?)){_MID},? and (?P<m2>(?:(?P<q2>{QUAL}) )?(?P<n2>{_DNUM}|{DET})(?P<t2>(?: {TOK}){{0,4}}?){APPOS} {AUX}(?P<w2>{NOUN_KILLED}|{NOUN_HURT}))"),
    # (noun_pair and noun: the subject tail is an unbounded repeat, which keeps the regex
    # automaton small - a counted {0,12} made the whole scan twice as slow; `_misread` drops
    # readings whose subject has more than SUBJECT_WORDS words.)
    # About two-dozen people were wounded / 16 killed. An object after a bare verb means
    # active voice ("Two bombs killed at least 100 people"): `_parse` re-reads the text
    # from the verb on with the verb forms.
    ("noun", rf"(?P<m1>(?:(?P<q1>{QUAL}) )?(?P<n1>{NUMV})(?P<t1>{PART}?(?: {TOK})*?)(?P<ap>{APPOS}) {AUX}(?P<w1>{NOUN_KILLED}|{NOUN_HURT}))(?P<obj> (?:the |a group of )?(?:{QUAL} )?{NUMV}(?: {TOK}){{0,4}}?(?:,? and (?:(?:{KILL}|{HURT}) )?(?:{QUAL} )?{NUM}(?: {TOK}){{0,3}})?)?{INCL}"),
    # nearly 90% / 95 per cent / 28 percent
    ("percent", rf"(?P<m1>(?:(?P<q1>{QUAL}) )?(?P<n1>{DIGITS}|{WORDNUM}) ?(?P<pct>%|per ?cent(?:age points?)?(?-u:\b)|percent(?:age points?)?(?-u:\b)))"),
    # two-thirds / about a quarter / a third of
    ("fraction", rf"(?P<m1>(?:(?P<q1>{QUAL}) )?(?P<frac>(?:two|three|four)[- ](?:thirds|quarters|fifths)|(?:a|one)[- ](?:half|third|quarter|fifth)|half)(?P<of> of)?){WB}"),
    # $500,000 / US$ 3 million / 20 million dollars
    ("money", rf"(?P<m1>(?:(?P<q1>{QUAL}) )?(?P<cur>US\$|\$|€|£|USD|EUR) ?(?P<n1>{DIGITS}(?: ?(?:million|billion|thousand|bn|mn|m|k)(?-u:\b))?))"),
    ("money_words", rf"(?P<m1>(?:(?P<q1>{QUAL}) )?(?P<n1>{NUM}) (?P<cur>dollars|euros|pounds|afghanis|rupees|roubles|rubles))"),
    # 110 domestic extremist attacks / more than 10 international disputes
    # (a word of the tail ends with a period only as initials, "U.S.": the forms match without
    # case, so "three detained. Evidence confirms" read "detained." as a word and crossed the
    # sentence end)
    ("count", rf"(?P<m1>(?:(?P<q1>{QUAL}) )?(?P<n1>{DIGITS}|{WORDNUM})(?P<t1>(?: (?:[a-z][a-z'-]*|[A-Z]\.(?:[A-Z]\.)+|[A-Z][A-Za-z-]+)){{0,2}}? [a-z][a-z-]*s)){WB}"),
]
# Longest subject between a number and its verb in the noun forms ("About two-dozen [people]
# were wounded"): a longer stretch is no subject of the number.
SUBJECT_WORDS = 12
# Forms that read two members joined by "and".
_COORDINATION = ("verb_pair", "noun_pair", "noun_coord")
_GROUPS = ["mid", "sep", "inc", "ap", "m1", "m2", "v1", "v2", "q1", "q2", "n1", "n2", "t1", "t2", "w1", "w2", "obj", "pct", "frac", "of", "cur"]
# The regex engine has no look-behind, so the character before a phrase is consumed
# (and trimmed again in `_parse`): a number after a hyphen, slash or dot ("B-52",
# "COVID-19", "9/11") is not a figure.
_LEAD = r"(?:\A|[^\w./-])"
COMBINED = _LEAD + "(?i:" + "|".join(unnamed(p) for _, p in FORMS) + ")"
# The same regex for the lowercased copy of the text that `find_spans(..., lowercase=True)`
# scans: without `(?i)` and with ASCII classes it runs about 10x faster (docs/benchmark.md).
SCAN = lowercase_pattern(_LEAD + "(?:" + "|".join(unnamed(p) for _, p in FORMS) + ")")

# Words that end a subject ("killing six people [in the attack]").
_SUBJECT_STOP = (
    r"(?i)(?:^|\s)(?:and|or|but|were|was|are|is|have|has|had|been|in|on|at|when|after|before|as|during|including|while"
    r"|from|by|with|near|inside|outside|since|across|after|the|a|an|this|that|which|who|whom|it|its|their|his|her"
    r"|dead|killed|injured|wounded|died|hurt|to|for|into|over|under|among|between|per|according|than|later|earlier"
    r"|yesterday|today|overnight|so|far|also|said|says|reportedly|each|alone)(?:\s|$).*$"
)
_TIME_UNITS = r"(?i)(?:^|\s)(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centuries|times|rounds?|miles?|kilometers?|km|percent|per|cent)$"
_OTHER_FATE = r"(?i)(?-u:\b)(?:missing|arrested|kidnapped|abducted|taken hostage|hostages?|rescued|captured|detained|displaced|evacuated|unharmed|safe)(?-u:\b)"
# Subjects that are the attackers, not the victims.
PERPETRATORS = rf"(?i)(?-u:\b){PERP}$"
_FRACTIONS = {"half": 50.0, "third": 100 / 3, "quarter": 25.0, "fifth": 20.0}


def _fraction_value(frac: pl.Expr) -> pl.Expr:
    f = frac.str.to_lowercase()
    num = (
        pl.when(f.str.starts_with("two")).then(2).when(f.str.starts_with("three")).then(3)
        .when(f.str.starts_with("four")).then(4).otherwise(1)
    )
    base = (
        pl.when(f.str.contains("half")).then(_FRACTIONS["half"]).when(f.str.contains("third")).then(_FRACTIONS["third"])
        .when(f.str.contains("quarter")).then(_FRACTIONS["quarter"]).otherwise(_FRACTIONS["fifth"])
    )
    return (num * base).round(2)


def _casualty_type(verb: pl.Expr, word: pl.Expr, tail: pl.Expr) -> pl.Expr:
    v = verb.str.to_lowercase()
    w = pl.concat_str([word.fill_null(""), tail.fill_null("")], separator=" ").str.to_lowercase()
    return (
        pl.when(w.str.contains(r"(?-u:\b)to death(?-u:\b)")).then(pl.lit("killed"))
        .when(v.str.contains("^" + KILL + "$")).then(pl.lit("killed"))
        .when(v.str.contains("^" + HURT + "$")).then(pl.lit("injured"))
        .when(w.str.contains(r"(?-u:\b)" + NOUN_KILLED + r"(?-u:\b)")).then(pl.lit("killed"))
        .when(w.str.contains(r"(?-u:\b)" + NOUN_HURT + r"(?-u:\b)")).then(pl.lit("injured"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _parse(matches: pl.DataFrame) -> pl.DataFrame:
    """Classify each match into its form and extract named groups."""
    out = _read(_trim_lead(matches), FORMS)
    # Active voice: "<agent> killed <object>" -> re-read from the verb with the verb forms.
    passive = pl.col("m1").str.contains(r"(?i)(?:were|was|been|are|is|be|got|became) (?:\w+ )?\w+$")
    active = (pl.col("form") == "noun") & pl.col("obj").is_not_null() & ~passive & pl.col("w1").str.contains(
        "^(?i:" + KILL + "|" + HURT + ")$")
    redo = out.filter(active).select(
        "document_id", "match_no",
        (pl.col("char_start") + pl.col("m1").str.len_chars() - pl.col("w1").str.len_chars()).alias("char_start"),
        pl.concat_str(["w1", "obj", pl.col("inc").fill_null("")]).alias("match"),
    )
    verb_forms = [f for f in FORMS if f[0] in ("verb_pair", "verb")]
    return _with_all_groups(out.head(0), [out.filter(~active), _read(_rescan(redo, verb_forms), verb_forms)])


def _trim_lead(matches: pl.DataFrame) -> pl.DataFrame:
    """Drop the character `_LEAD` consumed before a phrase."""
    lead = pl.col("match").str.contains(r"^[^\w$€£]")
    return matches.with_columns(
        char_start=pl.col("char_start") + lead.cast(pl.Int64),
        match=pl.when(lead).then(pl.col("match").str.slice(1)).otherwise(pl.col("match")),
    )


def _read(matches: pl.DataFrame, forms: list[tuple[str, str]]) -> pl.DataFrame:
    """Parse matches with `forms`. A reading that does not hold up (`_misread`) is replaced
    by what the scan would have found without it: another form's reading at the same
    position, then the figures after it ("in the 2 attacks, 40 people were killed and more
    than 30 were injured" is no list: "2 attacks", then "40 ... and more than 30 ...")."""
    m = matches.with_columns(form=form_of(forms, "i")).filter(pl.col("form").is_not_null())
    out = _with_all_groups(m.head(0), _extract(m, forms))
    if out.is_empty():
        return out
    out = _misread(out)
    parts = [out.filter(pl.col("_misread").is_null())]
    for reason in out.filter(pl.col("_misread").is_not_null())["_misread"].unique().sort().to_list():
        # As if the scan had not taken this reading: what the other forms read at this
        # position, then a new scan after that reading (or after the first number).
        bad = out.filter(pl.col("_misread") == reason)
        drop = {"number": _COORDINATION, "long": ("noun_pair", "noun")}.get(reason, (reason,))
        others = [f for f in forms if f[0] not in drop]
        here = _rescan(bad, others).join(bad.select("document_id", "char_start"), on=["document_id", "char_start"])
        parts.append(_read(here, others))
        after_n1 = pl.col("q1").str.len_chars().fill_null(-1) + 1 + pl.col("n1").str.len_chars()
        skip = pl.max_horizontal(after_n1, pl.col("_here_end").fill_null(0) - pl.col("char_start"))
        bad = bad.join(here.select("document_id", "char_start", pl.col("char_end").alias("_here_end")),
                       on=["document_id", "char_start"], how="left")
        bad = bad.with_columns(char_start=pl.col("char_start") + skip, match=pl.col("match").str.slice(skip))
        parts.append(_read(_rescan(bad, forms), forms))
    return _with_all_groups(out.head(0), parts).drop("_misread")


def _rescan(matches: pl.DataFrame, forms: list[tuple[str, str]]) -> pl.DataFrame:
    """All phrases that `forms` find inside the text of `matches`, with document offsets."""
    if matches.is_empty():
        return matches.select("document_id", "match_no", "char_start", "match").with_columns(
            char_end=pl.col("char_start"))
    texts = matches.select("document_id", "match_no", pl.col("char_start").alias("_base"), "match").with_columns(
        _rid=pl.int_range(pl.len()).cast(pl.String))
    pattern = _LEAD + "(?i:" + "|".join(unnamed(p) for _, p in forms) + ")"
    spans = find_spans(texts.select("_rid", "match"), pattern, id_col="_rid", text_col="match").collect()
    spans = spans.select("_rid", "match", pl.col("char_start").alias("_off")).join(
        texts.select("_rid", "document_id", "match_no", "_base"), on="_rid")
    spans = _trim_lead(spans.select("document_id", "match_no", (pl.col("_base") + pl.col("_off")).alias("char_start"),
                                    "match"))
    return spans.with_columns(char_end=pl.col("char_start") + pl.col("match").str.len_chars())


def _with_all_groups(empty: pl.DataFrame, parts: list[pl.DataFrame]) -> pl.DataFrame:
    """Concatenate per-form frames; every named group becomes a column (null where absent)."""
    out = pl.concat(parts, how="diagonal_relaxed") if parts else empty
    return out.with_columns([pl.lit(None, dtype=pl.String).alias(g) for g in _GROUPS if g not in out.columns])


def _extract(matches: pl.DataFrame, forms: list[tuple[str, str]]) -> list[pl.DataFrame]:
    parts = []
    for name, pattern in forms:
        sub = matches.filter(pl.col("form") == name)
        if sub.is_empty():
            continue
        sub = sub.with_columns(pl.col("match").str.extract_groups("^(?i:" + pattern + ")$").alias("g")).unnest("g")
        parts.append(sub)
    return parts


# A coordinated member: a number phrase, or a determiner and a noun phrase (one person).
_MEMBER = rf"^(?i:(?:{QUAL} )?{_DNUM}(?: {TOK})*|{DET}(?: {TOK})+)$"
_NUM_FIRST = rf"^(?i:(?:{QUAL} )?{_DNUM})(?: |$)"
# A member with a verb is a clause ("in the 2 attacks, 40 people were killed"), not a victim.
_CLAUSE = rf"(?i)(?-u:\b)(?:was|were|is|are|has|have|had|been|being|{NOUN_KILLED}|{NOUN_HURT})(?-u:\b)"


def _bad_member(text: pl.Expr) -> pl.Expr:
    """True for a member that is no victim count: not a number or determiner phrase, one
    that runs across "and" or holds a verb, or a determiner phrase whose head noun is
    plural ("the passengers" says nothing about how many) or is no person."""
    det = ~text.str.contains(_NUM_FIRST) & text.str.contains(rf"^(?i:{DET}) ")
    head = (text.str.replace(rf"^(?i:{DET}) ", "").str.replace(_SUBJECT_STOP, "").str.strip_chars(" ,.;:")
            .str.extract(r"(\S+)$", 1))
    plural = head.is_null() | head.str.contains(r"(?i)[^su]s$")
    # "and a car bomb exploded", "and a day later attacked": a clause or a time, not a person
    clause = text.str.contains(rf"^(?i:{DET}) \S+ (?:\S+ )*?\S+ed(?: |$)") | head.str.contains(
        r"(?i)^(?:day|week|month|year|hour|minute|moment|time|night|morning|evening|while)$")
    return (~text.str.contains(_MEMBER) | text.str.contains(r"(?i) and ") | text.str.contains(_CLAUSE)
            | (det & (plural | clause))).fill_null(True)


def _misread(out: pl.DataFrame) -> pl.DataFrame:
    """`out` with `_misread`: why a reading is wrong (the form to drop, "number" or
    "long"), else null. The costly checks run only on the few coordination rows."""
    f = pl.col("form")
    # more than SUBJECT_WORDS words between a number and its verb
    long = f.is_in(["noun_pair", "noun"]) & (pl.col("t1").str.count_matches(" ") > SUBJECT_WORDS)
    coord = f.is_in(_COORDINATION)
    plain = out.filter(~coord).with_columns(_misread=pl.when(long).then(pl.lit("long")).otherwise(None))
    coordinated = out.filter(coord)
    if coordinated.is_empty():
        return plain
    v2 = pl.col("v2").is_not_null()

    def is_det(n: str) -> pl.Expr:
        return pl.col(n).str.contains(rf"^(?i:{DET})$").fill_null(False)

    mids = pl.col("mid").fill_null("").str.split(", ").list.slice(1)
    bad_mid = mids.list.eval(_bad_member(pl.element())).list.any().fill_null(False)
    # One person by a determiner counts only in a list of victims of one verb: "killing the
    # driver and injuring 3" does not say the driver was a victim, nor "while the attacker fled".
    det_misread = (
        (is_det("n1") & (v2 | _bad_member(pl.concat_str(["n1", "t1"]))))
        | (is_det("n2") & (v2 | (pl.col("sep").fill_null("") == "while") | _bad_member(pl.concat_str(["n2", "t2"]))))
        | ((pl.col("mid").fill_null("") != "") & (v2 | bad_mid | _bad_member(pl.concat_str(["n1", "t1"]))))
    )
    coordinated = coordinated.with_columns(_misread=(
        pl.when(long).then(pl.lit("long"))
        # "one hundred and fifty people" is one number, not "one hundred" and "fifty people"
        .when(pl.concat_str([pl.col("n1"), pl.col("t1").fill_null(""), pl.lit(" and "), pl.col("n2")])
              .str.contains("^(?i:" + WORDNUM + ")$"))
        .then(pl.lit("number"))
        # "Two German tourists and a Czech citizen were killed and 3 injured": the first subject
        # of a pair is itself coordinated
        .when((f == "noun_pair") & pl.col("t1").str.contains(rf"(?i)(?:^| )and (?:an?|{WORDNUM})(?: |$)"))
        .then(pl.lit("noun_pair"))
        .when(f.is_in(["verb_pair", "noun_coord"]) & det_misread).then(f)
        # "One of the victims died and the other was injured": a clause, not a first subject
        .when((f == "noun_coord") & pl.concat_str(["n1", "t1"]).str.contains(_CLAUSE)).then(f)
        .otherwise(None)
    ))
    return pl.concat([plain, coordinated])


_MEMBER_GROUPS = rf"^(?i:(?:(?P<q>{QUAL}) )?(?:(?P<n>{_DNUM})|(?P<d>{DET}))(?P<t>(?: {TOK})*))$"


def _by_det(num: pl.Expr) -> pl.Expr:
    return num.str.contains(rf"^(?i:{DET})$").fill_null(False)


def _member_num(num: pl.Expr) -> pl.Expr:
    """The number of a member: a determiner alone ("a soldier", "his driver") is one person;
    "his two sons" is two."""
    return (pl.when(num.str.contains(rf"^(?i:{DET})$")).then(pl.lit("a"))
            .otherwise(num.str.replace(r"^(?i:(?:the|his|her|their) )", "")))


def _member_rows(parsed: pl.DataFrame) -> pl.DataFrame:
    """One row per member (first, last, and any between them) with its text, start offset and fields."""
    f = pl.col("form")
    first = parsed.with_columns(
        member=pl.lit(1), text=pl.col("m1"), start=pl.col("char_start"),
        verb=pl.col("v1"), qual=pl.col("q1"), num=_member_num(pl.col("n1")), tail=pl.col("t1"), word=pl.col("w1"),
        by_det=_by_det(pl.col("n1")),
    )
    second = parsed.filter(pl.col("m2").is_not_null()).with_columns(
        member=pl.lit(2), text=pl.col("m2"),
        start=pl.col("char_end") - pl.col("m2").str.len_chars(),
        verb=pl.coalesce(pl.col("v2"), pl.lit(None, dtype=pl.String)),
        qual=pl.col("q2"), num=_member_num(pl.col("n2")), tail=pl.col("t2"), word=pl.col("w2"),
        by_det=_by_det(pl.col("n2")),
    )
    # members between the first and the last: ", a soldier, 4 paramilitaries" right after m1
    middle = (
        parsed.filter(pl.col("mid").fill_null("") != "")
        .with_columns(_r=pl.int_range(pl.len()), _piece=pl.col("mid").str.split(", ").list.slice(1))
        .explode("_piece", empty_as_null=True)
        .with_columns(_len=pl.col("_piece").str.len_chars(), member=pl.int_range(3, pl.len() + 3).over("_r"))
        .with_columns(_off=(pl.col("_len") + 2).cum_sum().over("_r") - pl.col("_len"))
        .with_columns(pl.col("_piece").str.extract_groups(_MEMBER_GROUPS).alias("_g")).unnest("_g")
        .with_columns(text=pl.col("_piece"), start=pl.col("char_start") + pl.col("m1").str.len_chars() + pl.col("_off"),
                      verb=pl.lit(None, dtype=pl.String), qual=pl.col("q"), num=_member_num(pl.coalesce("n", "d")),
                      tail=pl.col("t"), word=pl.lit(None, dtype=pl.String), by_det=pl.col("d").is_not_null())
        .drop("_r", "_piece", "_len", "_off", "q", "n", "d", "t")
    )
    # "..., including the suicide bomber": the attackers within the figure, as a row of its own
    # (its surface starts with "including": `casualty_totals` takes it out of victim counts)
    incl_perp = f"(?i){_INCL_PERP}"
    ap_start = (pl.col("char_start") + pl.col("q1").str.len_chars().fill_null(-1) + 1
                + pl.col("n1").str.len_chars() + pl.col("t1").str.len_chars())
    included = (
        parsed.filter(f.is_in(["noun", "verb"]) & (pl.col("inc").is_not_null()
                                                    | pl.col("ap").fill_null("").str.contains("including", literal=True)))
        .with_columns(
            _src=pl.coalesce("inc", pl.when(pl.col("ap").str.contains(incl_perp + ",?$")).then(pl.col("ap"))),
            _src_start=pl.when(pl.col("inc").is_not_null())
            .then(pl.col("char_end") - pl.col("inc").str.len_chars()).otherwise(ap_start))
        .filter(pl.col("_src").is_not_null())
        .with_columns(text=pl.col("_src").str.extract(f"({incl_perp})", 1))
        .with_columns(
            member=pl.lit(0),
            start=pl.col("_src_start") + pl.col("_src").str.replace(incl_perp + ".*$", "").str.len_chars(),
            verb=pl.lit(None, dtype=pl.String), qual=pl.lit(None, dtype=pl.String), word=pl.lit(None, dtype=pl.String),
            # a number, or one attacker ("the suicide bomber"); "the suicide bombers" says not how many
            num=pl.coalesce(
                _member_num(pl.col("text").str.extract(rf"^(?i:including ({DIGITS}|{WORDNUM}|one) )", 1)),
                pl.when(~pl.col("text").str.contains(r"(?i)s$")).then(pl.lit("a"))),
            tail=pl.col("text").str.replace(rf"^(?i:including (?:(?:{DIGITS}|{WORDNUM}|the|one|an?) )?)", " "),
        )
        .drop("_src", "_src_start")
    )
    rows = pl.concat([first, second, middle, included], how="diagonal_relaxed")
    rows = rows.with_columns(list_size=pl.len().over("document_id", "char_start"))
    ctype_own = _casualty_type(pl.col("verb").fill_null(""), pl.col("word"), pl.col("tail"))
    # the first member inherits from the second in "32 people and 3 bombers were killed",
    # the second from the first in "killing 13 U.S. soldiers and 170 Afghans"
    ctype_first = _casualty_type(pl.col("v1").fill_null(""), pl.coalesce("w1", "w2"), pl.col("t1"))
    is_cas = f.is_in(["verb_pair", "verb", "toll", "noun_pair", "noun_coord", "noun"])
    rows = rows.with_columns(
        casualty_type=pl.when(f == "toll").then(pl.lit("killed"))
        .when(is_cas).then(pl.coalesce(ctype_own, ctype_first)).otherwise(None),
        statistic_type=pl.when(is_cas).then(pl.lit("casualty"))
        .when(f.is_in(["percent", "fraction"])).then(pl.lit("percentage"))
        .when(f.is_in(["money", "money_words"])).then(pl.lit("money"))
        .otherwise(pl.lit("count")),
    )
    # Verb-first tails and counts end at the first word that is not part of the subject.
    trimmed = pl.col("tail").fill_null("").str.replace(_SUBJECT_STOP, "")
    # the subject of a part is its group: "Three of the 4 attackers" -> attackers
    of_group = pl.col("tail").fill_null("").str.replace(rf"^(?i: of (?:the |those |these )?(?:{NUM} )?)", " ")
    subject = (of_group.str.replace(_SUBJECT_STOP, "").str.strip_chars(" ,.;:")
               .str.replace(r"(?i)^(?:of|other|others of)(?:\s+|$)", ""))
    cut_tail = f.is_in(["verb_pair", "verb", "count"])
    rows = rows.with_columns(
        text=pl.when(cut_tail).then(
            pl.col("text").str.slice(0, pl.col("text").str.len_chars() - pl.col("tail").fill_null("").str.len_chars())
            + trimmed.str.strip_chars_end(" ,.;:")
        ).otherwise(pl.col("text")),
        subject=pl.when(f.is_in(["percent", "fraction", "money", "money_words", "toll"])).then(None)
        .when(subject == "").then(None).otherwise(subject),
    )
    return rows


def extract_statistics(documents: pl.DataFrame) -> pl.DataFrame:
    """documents (document_id, body_text) -> statistics (STAT_SCHEMA)."""
    docs = documents.select("document_id", "body_text")
    spans = in_parallel(docs, lambda lf: find_spans(lf, SCAN, lowercase=True))
    if spans.is_empty():
        return pl.DataFrame(schema=STAT_SCHEMA)
    rows = _member_rows(_parse(spans))
    nums = rows.select(pl.col("num").unique()).to_series().to_list()
    values = pl.DataFrame({"num": nums, "num_value": [parse_number(n) for n in nums]},
                          schema={"num": pl.String, "num_value": pl.Float64})
    rows = rows.join(values, on="num", how="left")
    f = pl.col("form")
    is_vague = pl.col("num").fill_null("").str.contains("^(?i:" + VAGUE + ")$")
    qual_map = {w: qualifier_of(w) for w in rows.select(pl.col("qual").drop_nulls().unique()).to_series().to_list()}
    rows = rows.with_columns(
        value=pl.when(f == "fraction").then(_fraction_value(pl.col("frac"))).otherwise(pl.col("num_value")),
        qualifier=pl.when(is_vague).then(pl.lit("vague"))
        .otherwise(pl.col("qual").str.to_lowercase().replace_strict(
            {k.lower(): v for k, v in qual_map.items()}, default="exact", return_dtype=pl.String).fill_null("exact")),
        unit=pl.when(pl.col("statistic_type") == "percentage").then(pl.lit("percent"))
        .when(pl.col("statistic_type") == "money").then(
            pl.col("cur").str.to_lowercase().str.strip_chars().replace_strict(
                {"$": "USD", "us$": "USD", "usd": "USD", "dollars": "USD", "€": "EUR", "eur": "EUR", "euros": "EUR",
                 "£": "GBP", "pounds": "GBP", "afghanis": "AFN", "rupees": "PKR", "roubles": "RUB", "rubles": "RUB"},
                default=None, return_dtype=pl.String))
        .otherwise(None),
        is_total=f == "toll",
        group_id=stable_id("document_id", "char_start"),
    )
    keep = (
        # a casualty needs a type, and is not an age or a duration ("28 year old ... was shot dead");
        # a coordinated member with another fate ("2 others missing") does not inherit the type.
        ~((pl.col("statistic_type") == "casualty") & (
            pl.col("casualty_type").is_null()
            | pl.col("tail").fill_null("").str.contains(r"(?i)^ (?:years?|months?|weeks?|days?|hours?)(?-u:\b)")
            # ... but "12 hostages were executed": the subject's own verb says what happened
            | (pl.col("tail").fill_null("").str.contains(_OTHER_FATE)
               & ~(pl.col("word").is_not_null() & pl.col("tail").str.contains(r"(?i)^ hostages$")))))
        & ~((f == "count") & (
            pl.col("text").str.contains(_TIME_UNITS)
            | pl.col("num").str.contains(r"^(?:1[6-9]|20)\d\d$")
            | pl.col("num").str.to_lowercase().is_in(["one", "a"])
            | pl.col("subject").is_null()))
        & ~((f == "fraction") & pl.col("q1").is_null() & pl.col("of").is_null()
            & ~pl.col("frac").str.contains(r"(?i)^(?:two|three|four)"))
        & (pl.col("value").is_not_null() | is_vague)
        # "40 people, 6 security personnel and 34 civilians were killed": when the first of three
        # or more members counts people in general and is the sum of the others, it is the total
        # and the rest its breakdown ("Two Americans, a Swiss and a Dutch national" is a list).
        & ~(f.is_in(["verb_pair", "noun_coord"]) & (pl.col("member") > 1) & (pl.col("list_size") >= 3) & (
            pl.col("subject").filter(pl.col("member") == 1).first().over("group_id").fill_null("people")
            .str.contains(r"(?i)^(?:people|persons|individuals|victims|casualties)$")
            & (pl.col("value").filter(pl.col("member") == 1).first().over("group_id")
               == pl.col("value").filter(pl.col("member") > 1).sum().over("group_id"))).fill_null(False))
    )
    rows = rows.filter(keep)
    # one person named by a determiner is a figure only next to another kept member of its list
    rows = rows.filter(~pl.col("by_det").fill_null(False) | (pl.len().over("group_id") > 1))
    rows = rows.with_columns(
        char_start=pl.col("start"),
        char_end=pl.col("start") + pl.col("text").str.len_chars(),
        surface_text=pl.col("text"),
    )
    # A figure repeated in the same sentence is one figure: same value, type and kind
    # within one match group are collapsed (the first mention is kept).
    rows = rows.unique(subset=["group_id", "statistic_type", "casualty_type", "value", "member"], keep="first")
    return rows.select(list(STAT_SCHEMA)).sort("document_id", "char_start")


# Figures that add to a total given before them: "Four more people were also killed", "another
# 9 died", and deaths among the injured ("One of the injured died").
_MORE = rf"(?i)^(?:(?:{QUAL} )?{NUM} more|(?:another|an additional|a further) {NUM})(?-u:\b)"
_PART_OF = rf"(?i)^(?:{QUAL} )?{NUM} of(?-u:\b)"
_OF_INJURED = rf"(?i)^(?:{QUAL} )?{NUM} of (?:the |those |these )?(?:{NUM} )?(?:[A-Za-z'-]+ )*?(?:injured|wounded)(?-u:\b)"


def casualty_totals(statistics: pl.DataFrame, victims_only: bool = True) -> pl.DataFrame:
    """Per document and casualty type, the total a reader would report.

    Figures in one coordinated phrase add up ("13 U.S. soldiers and 170 Afghans" = 183);
    across phrases the largest phrase total wins, because articles restate and break down
    the same toll ("26 were killed ... in total 26 were killed"); an explicit death toll wins
    over everything. A part of a group ("4 were wounded, 1 of whom seriously") is not added
    to it. Figures that say they come on top ("4 more people were also killed", "one of
    the injured later died") are added to the largest of the others. Vague figures carry
    no value and are ignored. With `victims_only` the attackers' own casualties ("3
    suicide bombers were killed", "16 were killed, including the bomber") are left out, as
    victim counts do; without it every death counts, as conflict-event datasets (UCDP) do.
    """
    cas = statistics.filter((pl.col("statistic_type") == "casualty") & pl.col("value").is_not_null())
    # "16 killed, including the suicide bomber": the attackers are within the figure; victim
    # counts take them out of it, others ignore the row
    within = pl.col("surface_text").str.contains("^(?i:including) ")
    perp = pl.col("subject").fill_null("").str.contains(PERPETRATORS)
    if victims_only:
        cas = cas.filter(~perp | within).with_columns(value=pl.when(within).then(-pl.col("value")).otherwise("value"))
    else:
        cas = cas.filter(~within)
    surface = pl.col("surface_text")
    part = surface.str.contains(_PART_OF)
    cas = cas.with_columns(
        # a part is its own phrase: restating part of a group never adds to the group
        group_id=pl.when(part).then(pl.concat_str(["group_id", "char_start"], separator="|")).otherwise("group_id"),
        extra=surface.str.contains(_MORE) | ((pl.col("casualty_type") == "killed") & surface.str.contains(_OF_INJURED)),
    )
    # ... on top of a figure stated before it: "wounded another 65" after "killed 30" is no addition
    first_plain = pl.col("char_start").filter(~pl.col("extra")).min().over("document_id", "casualty_type")
    cas = cas.with_columns(extra=pl.col("extra") & (first_plain < pl.col("char_start")).fill_null(False))
    per_group = cas.group_by("document_id", "casualty_type", "group_id").agg(
        pl.col("value").sum().alias("group_total"), pl.col("is_total").any().alias("is_toll"),
        pl.col("extra").all().alias("extra"), (~within).any().alias("has_figure"))
    per_group = per_group.filter("has_figure")  # "dozens killed, including the bomber" gives no number
    largest = pl.col("group_total").filter(~pl.col("extra")).max().fill_null(0.0)
    return per_group.group_by("document_id", "casualty_type").agg(
        pl.when(pl.col("is_toll").any()).then(pl.col("group_total").filter(pl.col("is_toll")).max())
        .otherwise(largest + pl.col("group_total").filter(pl.col("extra")).sum()).alias("total")
    )
