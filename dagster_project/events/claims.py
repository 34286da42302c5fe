"""Attributed statements ("who says so"): one row per claim a sentence attributes to a source.

In: documents (document_id, body_text), sentences (`extract.sentences.split_sentences`),
actor_mentions (`extract.actors.extract_actor_mentions`) and the gazetteer (`load_gazetteer`).
Out: `CLAIM_SCHEMA`, one row per attributed statement: the claimant as written (null when the
text names no source), the cue, the claim's content, each with its span in body_text
(0-based, end-exclusive; body_text[start:end] is the text), whether the content is quoted, and
the claim type:

| claim_type             | form                                                                 |
|------------------------|----------------------------------------------------------------------|
| `responsibility_claim` | "X claimed responsibility for ...", "the attack was claimed by X",   |
|                        | "X says they are behind the attack", "X claimed it had fired ..."    |
| `denial`               | "X denied any involvement", "X rejected the allegations"             |
| `according_to`         | "according to X, ...", "... per X", "..., citing X"                  |
| `passive`              | no named source: "It was reported that ...", "X is suspected",       |
|                        | "were reported killed", "reportedly", "was blamed on"                |
| `direct`               | the content is the claimant's own words in quote marks               |
| `mixed`                | reported speech with a quoted part: said he "did it for Al Aqsa"     |
| `indirect`             | any other attributed statement: "X said (that) ...", "S, officials   |
|                        | said", accusations, blame, beliefs with a holder ("police believe")  |

How: a cascade of finite-state patterns over part-of-speech-like tags, in the manner of
FASTUS-style shallow parsers, all as polars expressions over whole columns; no model.

1. Prefilter: only sentences that hold a cue word (`CUE_PREFILTER`, one regex over the
   sentence column) go on; in news text about a third of the sentences.
2. Tokens: one `extract_all` pass over those sentences; every token gets a one-character tag
   from one lexicon join (determiner, pronoun, auxiliary, negation, preposition, time word,
   cue verb with its class, ...) or its shape (capitalized, number, -ly adverb, word), and a
   sentence becomes a tag string, one character per token. A few rewrites of the tag string
   read cue words as nouns where they are ("the claims", "reports say", "a UN report
   documented").
3. Cues: the cue tokens of the tag strings. For each cue its left and right context are
   slices of the tag string; the claimant, the content and the frame ("X said (that) S",
   "S, X said", '"Q," said X', "As X noted, S", "according to X", "It was reported that",
   "X is suspected", responsibility, denial, utterances) are regex matches over those
   slices. A match's group lengths are token counts, so offsets come back from the token
   offset lists with `list.get`. Each verb class says what it needs ("announced" a clause,
   "found" a "that", "show" a document or finding as its subject, "described" an "X as Y").
4. Quotes are paired per paragraph over body_text (an unclosed quote ends at the paragraph
   break, so a claim never crosses one); a quoted content takes the whole quote even when it
   runs over several sentences, a quote split by its cue ('"A," he said. "B."') is one claim,
   and a cue that ends its paragraph with a colon takes the next paragraph (its quote).
5. Claimants: appositives ("Hugh Hill, a doctor, said" -> "Hugh Hill"; "the umbrella group,
   Taliban," kept whole), relative pronouns (", who said" -> the antecedent), coordinated
   verbs ("claimed responsibility and said", ", saying") share the subject, coordinated
   speakers ("Both A and B claimed") give one claim each, and pronouns keep their own span
   but resolve to the only gazetteer person (he, she) or group (they, it, we) of the last
   three sentences. claimant_actor_id is the gazetteer actor the claimant phrase contains
   (a person first, then groups and organisations, then states, then places; the rightmost
   on ties).

Not claims: negated ("no group has claimed responsibility", "did not say", "There was no
immediate claim") and hypothetical ones ("might say"), "claimed 7 lives", prenominal
"suspected" / "alleged" ("suspected gunmen"), passives of speech verbs other than the
reporting ones ("had been denied entry"), questions, the writer's comment after a content
(", a claim that could not be verified").

Large inputs run as slices of whole documents in threads (`extract_claims(min_bytes=...)`).

Natural key: (document_id, char_start, cue_char_start, claimant_char_start); the claimant is
part of it because coordinated speakers share the cue and the content.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import polars as pl

from dagster_project.extract.spans import find_spans

CLAIM_SCHEMA = {
    "document_id": pl.String,
    "sentence_index": pl.Int32,
    "claimant_text": pl.String,
    "claimant_char_start": pl.Int64,
    "claimant_char_end": pl.Int64,
    "claimant_actor_id": pl.String,
    "cue": pl.String,
    "cue_char_start": pl.Int64,
    "cue_char_end": pl.Int64,
    "claim_text": pl.String,
    "char_start": pl.Int64,
    "char_end": pl.Int64,
    "is_direct_quote": pl.Boolean,
    "claim_type": pl.String,
}
CLAIM_TYPES = ("direct", "indirect", "mixed", "according_to", "responsibility_claim", "denial", "passive")

# --- cue lexicon (data) -----------------------------------------------------------------------
# Reporting verbs by lemma, with their class. The union of two published lists:
# - textacy's reporting verbs (`textacy.extract.triples._reporting_verbs`, used by its
#   direct-quotation extractor; Burton DeWilde, Apache-2.0);
# - the Gender Gap Tracker's English quote verbs (sfu-discourse-lab/GenderGapTracker,
#   nlp/english/rules/quote_verb_list.txt; Asr et al., "The Gender Gap Tracker", PLoS ONE 16(1), 2021).
# Left out although on a list: verbs that in news mostly report acts, not statements (accept,
# continue, ensure, present, release, post, read, order, ask, urge, recommend, decline, convince,
# persist, preach, rave, point, charge, criticize, denounce, decry, agree, promise, dispute: mostly
# the noun). Added for attributions the lists lack: propose, posit, calculate, assess; deny-type
# (refute, disavow, reject / dismiss + "claims"); blame-type (attribute); characterizations
# (portray, label, brand, hail, laud); utterances (shout, yell, chant, scream); the hedges and
# prepositional cues ("according to", "per", "citing").
# Classes: say (takes any content); strict (needs "that", a colon, a quote, a clause or "X as
# Y": these verbs also take plain objects, "announced a ceasefire"); tell (takes an addressee);
# cognition (needs a clause: "believe the IRA was responsible"); suspect (also takes an
# object: "Turkish authorities suspect ISIL"); describe ("X as Y", "X to be Y"); evidence (a
# document, a finding or a name as the source: "investigations suggest"); show (a document or
# finding as the source); find (only "found that"); claim; deny; deny_if (reject / dismiss: a
# denial only of "claims", "allegations", ...); blame; utter (a quote follows); call ("called the
# shooting a terrorist attack"); passive (only in agentless passives: "was considered", "is
# being treated as").
REPORTING_VERBS: dict[str, str] = {
    # say
    "say": "say", "state": "say", "add": "say", "argue": "say", "assert": "say", "reassert": "say",
    "contend": "say", "insist": "say", "maintain": "strict", "claim": "claim", "allege": "say",
    "report": "say", "confirm": "say", "reconfirm": "say", "warn": "tell", "caution": "tell",
    "acknowledge": "say", "admit": "say", "concede": "say", "reveal": "say", "disclose": "say", "cite": "say",
    "tell": "tell", "inform": "tell", "assure": "tell", "reassure": "tell", "remind": "tell", "notify": "tell",
    "quote": "strict",
    # strict
    "announce": "strict", "declare": "strict", "explain": "strict", "note": "strict", "mention": "strict",
    "observe": "strict", "remark": "strict", "comment": "strict", "reply": "strict", "respond": "strict",
    "stress": "strict", "emphasize": "strict", "emphasise": "strict", "reiterate": "strict", "restate": "strict",
    "clarify": "strict", "proclaim": "strict", "exclaim": "strict", "write": "strict", "tweet": "strict",
    "testify": "strict", "predict": "strict", "complain": "strict", "conclude": "strict", "recall": "strict",
    "speak": "strict", "highlight": "strict", "underline": "strict", "specify": "strict", "retell": "strict",
    "reckon": "strict", "indicate": "strict", "propose": "strict", "posit": "strict",
    # cognition (a holder's belief; agentless in the passive); believe / think / fear / worry
    # need a clause ("believe the Continuity IRA was responsible"), suspect / estimate take an
    # object too ("Turkish authorities suspect ISIL")
    "believe": "cognition", "think": "cognition", "suspect": "suspect", "fear": "cognition",
    "estimate": "suspect", "worry": "cognition", "hope": "cognition", "calculate": "cognition", "assess": "cognition",
    # characterizations: only "X as Y" / "X to be Y" ("described the attack as cowardly",
    # "was lauded by the ambassador as a friend")
    "describe": "describe", "characterize": "describe", "characterise": "describe", "portray": "describe",
    "label": "describe", "brand": "describe", "hail": "describe", "laud": "describe", "praise": "describe",
    # views held: "Russia views the Taliban as a pragmatic partner", "regards them as allies"
    # ("sees ... as" is left out: "the stand-off sees protesters ...", "see X as Y refuse")
    "view": "describe", "regard": "describe",
    # evidence
    "suggest": "evidence", "show": "show", "demonstrate": "find", "find": "find", "illustrate": "find",
    # deny / blame / utter / call
    "deny": "deny", "refute": "deny", "disavow": "deny",
    "reject": "deny_if", "dismiss": "deny_if",
    "blame": "blame", "accuse": "blame", "attribute": "blame",
    "shout": "utter", "yell": "utter", "scream": "utter", "chant": "utter",
    "call": "call",
    # passive only
    "consider": "passive", "treat": "passive", "understand": "passive",
    "presume": "passive",
}
# verbs whose agentless passive is an attribution to an unnamed source ("X is suspected",
# "It was reported that ...", "was blamed on"); the wiki_claims conventions' list
PASSIVE_OK = frozenset("""report say believe suspect allege think confirm consider describe blame treat
estimate fear understand presume accuse""".split())
# a negated passive of these is still a belief with a negated content ("are not believed to be
# life threatening")
NEG_RAISING = frozenset("believe think consider suspect fear".split())
# verbs that are a cue only before "responsibility" / "credit" ("took responsibility")
RESPONSIBILITY_VERBS = {"take": "resp", "accept": "resp", "assume": "resp", "bear": "resp"}
HEDGES = ("reportedly", "allegedly", "purportedly", "supposedly")

_IRREGULAR = {
    "say": ("said", "says", "saying"), "tell": ("told", "tells", "telling"), "think": ("thought", "thinks", "thinking"),
    "write": ("wrote", "written", "writes", "writing"), "speak": ("spoke", "spoken", "speaks", "speaking"),
    "find": ("found", "finds", "finding"), "show": ("showed", "shown", "shows", "showing"),
    "take": ("took", "taken", "takes", "taking"), "bear": ("bore", "borne", "bears", "bearing"),
    "understand": ("understood", "understands", "understanding"), "retell": ("retold", "retells", "retelling"),
    "admit": ("admitted", "admits", "admitting"), "regret": ("regretted", "regrets", "regretting"),
}


def _inflections(lemma: str) -> list[tuple[str, str]]:
    """(form, form type) for a lemma: base, 3rd person -s, past / participle -ed, -ing."""
    if lemma in _IRREGULAR:
        forms = _IRREGULAR[lemma]
        out = [(lemma, "base")]
        for f in forms:
            out.append((f, "ing" if f.endswith("ing") else "s" if f.endswith("s") and f != lemma else "ed"))
        return out
    if lemma.endswith("e"):
        ed, ing, s = lemma + "d", lemma[:-1] + "ing", lemma + "s"
    elif lemma.endswith("y") and lemma[-2] not in "aeiou":
        ed, ing, s = lemma[:-1] + "ied", lemma + "ing", lemma[:-1] + "ies"
    elif lemma.endswith(("s", "sh", "ch", "x", "z")):
        ed, ing, s = lemma + "ed", lemma + "ing", lemma + "es"
    else:
        ed, ing, s = lemma + "ed", lemma + "ing", lemma + "s"
    return [(lemma, "base"), (s, "s"), (ed, "ed"), (ing, "ing")]


def _cue_forms() -> pl.DataFrame:
    rows = []
    for lemma, cls in {**REPORTING_VERBS, **RESPONSIBILITY_VERBS}.items():
        for form, ftype in _inflections(lemma):
            rows.append((form, lemma, cls, ftype))
    df = pl.DataFrame(rows, schema={"low": pl.String, "lemma": pl.String, "cls": pl.String, "ftype": pl.String},
                      orient="row")
    # forms that are nouns far more often than verbs in news ("state media", "Islamic state")
    return df.unique("low", keep="first", maintain_order=True).filter(~pl.col("low").is_in(list(NOUN_FORMS)))


NOUN_FORMS = frozenset({"state"})
CUE_FORMS = _cue_forms()

# Word tags: one character per token. Function words by lexicon (any case), the rest by shape.
_TAG_WORDS = {
    "D": """the this these those its his her their our my your other another every such any various numerous
            certain whose""",
    "K": "some many several both most all each few",
    "I": "a an",
    "P": "he she they it we you",
    "O": "him them us me himself herself themselves itself ourselves myself yourself",
    "W": "who whom which",
    "T": "that",
    "e": "is are was were be been being am",
    "h": "has have had having",
    "m": "will would could should may might must can shall did does do cannot",
    "x": """no not never nobody none nothing neither nor didn't doesn't don't hasn't haven't hadn't isn't
            aren't wasn't weren't won't wouldn't can't couldn't shouldn't""",
    "r": """also later then now first again already still just once initially earlier previously recently
            since subsequently immediately soon repeatedly further instead even only yet meanwhile long always
            often sometimes usually""",
    "H": " ".join(HEDGES),
    "c": "and or &",
    "b": """because when after before if unless until where whether without so""",
    "B": "but while whilst whereas although though however",
    "A": "as",
    "o": """of for to at from in al el ul e i wal bin ibn bint de del della da du la le van von der den y""",
    "p": """on with into over under about against during near within through across amid among toward towards
            around despite behind via than like upon onto outside inside following including beside between
            beyond throughout""",
    "y": "by",
    "t": """today yesterday tonight tomorrow monday tuesday wednesday thursday friday saturday sunday january
            february march april may june july august september october november december jan feb mar apr jun
            jul aug sep sept oct nov dec week weeks month months year years day days morning afternoon evening
            night weekend last next ago hour hours minute minutes decade decades""",
    "n": """one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
            seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds
            thousand thousands million millions dozen dozens scores""",
    "R": "responsibility credit",
    "X": """attack attacks bombing bombings blast blasts assault assaults explosion explosions shooting shootings
            killing killings massacre kidnapping kidnappings abduction operation strike strikes ambush raid raids
            incident incidents bomb bombs""",
    "E": "there",
    "Z": "according citing",
    "z": "per",
}
# tags that hold in any case ("The", "Both", "No", "He", "March", "One", "According"); other
# lexicon words count only in lower case or as the first word of a sentence ("Al" in "Al
# Shabaab" is a name, not the particle "al")
_ANY_CASE_TAGS = "DKIxPtnZ"
_LY_NOT_ADVERBS = """family supply reply rally ally tally assembly belly bully fly holy ugly jelly anomaly monopoly
    butterfly lily homily italy july folly gully rely apply comply imply multiply elderly deadly friendly costly
    lonely lovely orderly timely weekly monthly daily yearly nightly hourly""".split()


_PUNCT = {",": ",", ";": ";", ":": ":", ".": ".", "!": ".", "?": ".", "…": ".", "(": "(", ")": ")",
          "[": "(", "]": ")", "-": "-", "–": "-", "—": "-", "'": "'"}


def _tag_table() -> pl.DataFrame:
    rows = list(_PUNCT.items())
    for tag, words in _TAG_WORDS.items():
        for w in words.split():
            rows.append((w, tag))
    df = pl.DataFrame(rows, schema={"low": pl.String, "lex": pl.String}, orient="row")
    return df.unique("low", keep="first", maintain_order=True)


TAG_TABLE = _tag_table()


def _lexicon() -> pl.DataFrame:
    """One lookup per token: its function-word tag and its cue-verb reading."""
    words = pl.concat([TAG_TABLE.select("low"), CUE_FORMS.select("low")]).unique()
    return words.join(TAG_TABLE, on="low", how="left").join(CUE_FORMS, on="low", how="left")


LEXICON = _lexicon()

# Nouns that stand as a source for evidence verbs ("Initial investigations show ...").
EVIDENCE_NOUNS = frozenset("""investigation investigations data figures figure records evidence footage documents
    document analysis study studies research report reports survey surveys poll polls results images video
    videos statistics tests autopsy findings assessment assessments intelligence review reviews audit""".split())
# titles whose period is part of the name ("Mr. Khan", "Gen. Milley")
TITLES = frozenset("""mr mrs ms dr prof gen lt col maj capt sgt cmdr adm brig gov sen rep pres supt insp det st
    jr sr rev fr hon""".split())
# lemmas whose -s form is as often a plural noun ("Fatality estimates", "reports")
NOUN_AMBIGUOUS = frozenset("""estimate report claim fear comment reply tweet call note show find warn state remark
    stress highlight worry hope quote cite praise label brand""".split())
HYPOTHETICAL_MODALS = frozenset("might may could would should can cannot must".split())
# verbs that come before their speaker in '"...," said X'
INVERTING = frozenset("""say add write explain insist note reply respond warn tell declare argue recall remark comment
    stress observe conclude continue ask""".split())
PLURAL_HEADS = frozenset("police people military media staff personnel public they we you i crew".split())
PRONOUNS_PERSON = ("he", "she")
PRONOUNS_GROUP = ("they", "it", "we")


def _prefilter() -> str:
    """A regex over the sentence as written (case-sensitive: "Islamic State" and "United
    States" are names, and a cue word is capitalized only at the start of a sentence); verbs
    that are cues only before "responsibility" or only in the passive are matched so."""
    forms = CUE_FORMS.filter(~pl.col("cls").is_in(["resp", "passive"]))["low"].to_list()
    words = sorted(set(forms) | set(HEDGES) | {"according", "citing"})
    resp = sorted(CUE_FORMS.filter(pl.col("cls") == "resp")["low"].to_list())
    passive = sorted(CUE_FORMS.filter((pl.col("cls") == "passive") & (pl.col("ftype") == "ed"))["low"].to_list())
    cap = sorted({w.capitalize() for w in words})
    return "|".join([
        r"\b(?:" + "|".join(words) + r")\b",
        r"^(?:" + "|".join(cap) + r")\b",
        r"\b(?:" + "|".join(resp) + r") (?:full |sole |the )?(?:responsibility|credit)\b",
        r"\b(?:is|are|was|were|be|been|being) (?:[a-z]+ )?(?:" + "|".join(passive) + r")\b",
        r"\b[Pp]er (?:the |a |an |[A-Z])",
        r"[a-z]ed(?: it| this)?:",
    ])


CUE_PREFILTER = _prefilter()

# tokens: abbreviations with inner periods (U.S.), numbers (1,500.5), words with inner
# apostrophes or hyphens (Jama'at, al-Qaeda), a plural possessive (DHS'), single symbols
TOKEN_RE = r"(?:\p{L}\.){2,}|\p{N}+(?:[.,]\p{N}+)*|[\p{L}\p{N}]*[sS]'|[\p{L}\p{N}]+(?:['&-][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]"

# --- tag-string grammar -------------------------------------------------------------------------
# A noun phrase: an optional determiner, a word, then words, quotes, "of/for/in/by ... + word",
# "Name and Name", "(ACRONYM)"; a pronoun or a quantifier ("Some", "Many") alone is one too.
# Verbs are not told from nouns (no tagger): the frames around a cue keep a noun phrase short.
_NAME = r"(?:C(?:c[DKI]?C)*)"  # "Iraq and the Levant": "and" only between capitalized words
_NPU = rf"(?:[wnQq']|{_NAME}|[oy][DKI]?(?:[wnQ]|{_NAME})|\(C\)|O)"
NP = rf"(?:P|K|(?:\(C\)|[DKI]?(?:[wnQ]|{_NAME})){_NPU}*)"
# a short noun phrase (the antecedent of a relative pronoun)
NPS = r"(?:[DKIn]?[wCnX']{0,3}[wCX])"
# time adjuncts and adverbs between a subject and its verb, or a verb and its content
_ADJ = r"(?:r|[op]?[DKI]?[nt]*t[nt]*)"
_ADJ_STRIP = rf"(?:,?{_ADJ}|,[op][DKI]?[wC]{{1,3}},)+,?"
_FINAL_R = rf"(?:{_ADJ}|[op][DKIO]?[wCnO]{{0,4}}(?:c[DKIO]?[wCO]{{1,3}})?)*[.:]?q?"


def _g(expr: pl.Expr, pattern: str) -> pl.Expr:
    return expr.str.extract_groups(pattern)


def _len(field: pl.Expr) -> pl.Expr:
    return field.fill_null("").str.len_chars().cast(pl.Int32)


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=CLAIM_SCHEMA)


# --- stage 1-2: candidate sentences, tokens, tags ---------------------------------------------

def _candidates(sentences: pl.DataFrame) -> pl.DataFrame:
    s = sentences.select("document_id", "sentence_index", "char_start", "char_end", "sentence_text")
    s = s.filter(pl.col("sentence_text").str.contains(CUE_PREFILTER))
    return s.with_row_index("_sid").with_columns(pl.col("_sid").cast(pl.Int64))


def _tokens(cand: pl.DataFrame) -> pl.DataFrame:
    """One row per token of the candidate sentences: (_sid, tok, ts, te, ti) and its tag.

    Every non-space character belongs to a token (TOKEN_RE ends with "any other symbol"), so
    `extract_all` of "white space + token" returns pieces that tile the sentence: a running
    sum of their lengths gives the offsets (3x faster here than wrapping every match with
    `find_spans`)."""
    pieces = cand.select("_sid", piece=pl.col("sentence_text").str.extract_all(r"\s*(?:" + TOKEN_RE + ")")).explode(
        "piece", empty_as_null=True).drop_nulls("piece")
    first = pl.col("_sid") != pl.col("_sid").shift(1, fill_value=-1)
    tok = pieces.with_columns(full=pl.col("piece").str.len_chars().cast(pl.Int32),
                              tok=pl.col("piece").str.strip_chars_start())
    tok = tok.with_columns(run=pl.col("full").cum_sum(), tl=pl.col("tok").str.len_chars().cast(pl.Int32)).with_columns(
        base=pl.when(first).then(pl.col("run") - pl.col("full")).forward_fill(),
        ti=(pl.int_range(pl.len()) - pl.when(first).then(pl.int_range(pl.len())).forward_fill()).cast(pl.Int32),
        spaced=pl.col("full") > pl.col("tl"),
    ).with_columns(te=(pl.col("run") - pl.col("base")).cast(pl.Int32)).with_columns(
        ts=pl.col("te") - pl.col("tl"))
    same_next = pl.col("_sid").shift(-1) == pl.col("_sid")
    # a quote mark opens after a space, the sentence start or a bracket / dash, before a word
    tok = tok.with_columns(
        opening=((pl.col("ti") == 0) | pl.col("spaced") | pl.col("tok").shift(1).is_in(["(", "[", "-", "—", "–"]))
        & same_next & ~pl.col("spaced").shift(-1).fill_null(True),
    ).select("_sid", "tok", "ts", "te", "ti", "opening")
    same_next2 = pl.col("_sid").shift(-2) == pl.col("_sid")
    same_next3 = pl.col("_sid").shift(-3) == pl.col("_sid")
    tok = tok.with_columns(low=pl.col("tok").str.to_lowercase()).with_columns(
        n1=pl.when(same_next).then(pl.col("low").shift(-1)),
        n2=pl.when(same_next2).then(pl.col("low").shift(-2)),
        n3=pl.when(same_next3).then(pl.col("low").shift(-3)),
        n1_cap=pl.when(same_next).then(pl.col("tok").shift(-1).str.contains(r"^\p{Lu}")),
    )
    tok = tok.join(LEXICON, on="low", how="left", maintain_order="left")
    tok = tok.with_columns(n1_cls=pl.when(same_next).then(pl.col("cls").shift(-1)))
    # shape flags first, as columns (each is used by several tag rules): the class of the
    # first character, looked up for the few distinct first characters
    first_char = tok["tok"].str.slice(0, 1)
    kinds = {ch: "U" if ch.isupper() else "L" if ch.isalpha() else "N" if ch.isnumeric() else "P"
             for ch in first_char.unique().to_list() if ch is not None}
    shape = first_char.replace_strict(kinds, default="P", return_dtype=pl.String)
    tok = tok.with_columns(is_cap=shape == "U", is_letter=shape.is_in(["U", "L"]), is_num=shape == "N")
    is_cap = pl.col("is_cap")
    lower_ok = ~is_cap | (pl.col("ti") == 0)
    dets = list(_TAG_WORDS["D"].split()) + list(_TAG_WORDS["K"].split()) + ["a", "an"]
    resp_next = pl.col("n1").is_in(["responsibility", "credit"]) | (
        pl.col("n1").is_in(["full", "sole", "the"]) & pl.col("n2").is_in(["responsibility", "credit"]))
    tok = tok.with_columns(
        colon_verb=(
            pl.col("lex").is_null() & pl.col("cls").is_null() & ~is_cap & pl.col("low").str.ends_with("ed")
            & (pl.col("low").str.len_bytes() >= 5)
            & (((pl.col("n1") == ":") & (pl.col("n2").is_null() | (pl.col("n2") == '"')))
               | (pl.col("n1").is_in(["it", "this"]) & (pl.col("n2") == ":") & (pl.col("n3").is_null() | (pl.col("n3") == '"'))))),
        title_dot=(pl.col("tok") == ".") & pl.col("low").shift(1).is_in(list(TITLES)) & (pl.col("ti") > 0),
    )
    opening = pl.col("opening")
    cue_tag = pl.when(pl.col("ftype") == "ing").then(pl.lit("G")).when(pl.col("ftype") == "s").then(pl.lit("S")) \
        .otherwise(pl.lit("V"))
    colon_verb = pl.col("colon_verb")
    # most tokens: the lexicon's tag (function words, punctuation), else the word's shape
    default = (
        pl.when(pl.col("lex").is_not_null() & (lower_ok | pl.col("lex").is_in(list(_ANY_CASE_TAGS)))).then(pl.col("lex"))
        .when(pl.col("is_num")).then(pl.lit("n"))
        .when(is_cap).then(pl.lit("C"))
        .when(pl.col("low").str.ends_with("ly") & (pl.col("low").str.len_bytes() >= 4)
              & ~pl.col("low").is_in(_LY_NOT_ADVERBS)).then(pl.lit("r"))
        .when(pl.col("is_letter")).then(pl.lit("w"))
        .otherwise(pl.lit("#"))
    )
    # the few tokens with rules of their own, computed on their rows only
    special = (pl.col("title_dot") | pl.col("tok").is_in(['"', "I", "May"]) | pl.col("low").is_in(["according", "citing", "per"])
               | pl.col("cls").is_not_null() | colon_verb)
    rule = (
        pl.when(pl.col("title_dot")).then(pl.lit("'"))
        .when(pl.col("tok") == '"').then(pl.when(opening).then(pl.lit("Q")).otherwise(pl.lit("q")))
        .when((pl.col("tok") == "I")).then(pl.lit("P"))
        .when((pl.col("tok") == "May")).then(pl.lit("t"))
        .when(pl.col("low") == "according").then(pl.when(pl.col("n1") == "to").then(pl.lit("Z")).otherwise(pl.lit("w")))
        .when(pl.col("low") == "citing").then(pl.lit("Z"))
        .when(pl.col("low") == "per").then(
            pl.when(pl.col("n1").is_in(dets) | pl.col("n1_cap").fill_null(False)).then(pl.lit("z")).otherwise(pl.lit("p")))
        .when(pl.col("cls").is_not_null() & lower_ok & ((pl.col("cls") != "resp") | resp_next)).then(cue_tag)
        .when(pl.col("cls") == "resp").then(pl.lit("w"))
        .when(colon_verb).then(pl.lit("V"))
        .otherwise(default)
    )
    tags = tok.select(default).to_series()
    idx = tok.select(pl.arg_where(special)).to_series()
    if idx.len():
        tags = tags.scatter(idx, tok[idx].select(rule).to_series())
    return tok.with_columns(
        tag=tags,
        cls=pl.when(colon_verb & pl.col("cls").is_null()).then(pl.lit("colon")).otherwise(pl.col("cls")),
        lemma=pl.when(colon_verb & pl.col("lemma").is_null()).then(pl.col("low")).otherwise(pl.col("lemma")),
        ftype=pl.when(colon_verb & pl.col("ftype").is_null()).then(pl.lit("ed")).otherwise(pl.col("ftype")),
    )


def _sentence_tags(tok: pl.DataFrame, cand: pl.DataFrame) -> pl.DataFrame:
    # per-token flags as a string like the tags, one digit a token: 1 an evidence noun, 2 a
    # plural-looking word, 4 a hypothetical modal (summed)
    code = (pl.col("low").is_in(list(EVIDENCE_NOUNS)).cast(pl.Int8)
            + 2 * (pl.col("low").str.ends_with("s") & ~pl.col("low").str.ends_with("ss")
                   | pl.col("low").is_in(list(PLURAL_HEADS))).cast(pl.Int8)
            + 4 * pl.col("low").is_in(list(HYPOTHETICAL_MODALS)).cast(pl.Int8))
    sent = tok.sort("_sid", "ti").group_by("_sid", maintain_order=True).agg(
        raw_tags=pl.col("tag").str.join(""), ts=pl.col("ts"), te=pl.col("te"), low=pl.col("low"),
        flags=code.cast(pl.String).str.join(""))
    t = pl.col("raw_tags")
    # noun readings of cue words: after a determiner ("the claims", "the suspect"), and an -s
    # form before a verb or an auxiliary ("reports say", "claims were")
    t = t.str.replace_all(r"([DKIn])[VSG]", "${1}w")
    t = t.str.replace_all(r"S(r*[VSGehm])", "w${1}").str.replace_all(r"S(r*[VSGehm])", "w${1}")
    t = t.str.replace_all("S", "V", literal=True)
    # a cue word right before a cue verb is a noun: "a United Nations report documented"
    t = t.str.replace_all(r"V(r*V)", "w${1}")
    return sent.with_columns(tags=t, n_tok=pl.col("ts").list.len().cast(pl.Int32)).join(
        cand.select("_sid", "document_id", "sentence_index", pl.col("char_start").alias("s_start"),
                    pl.col("char_end").alias("s_end"), "sentence_text"), on="_sid")


# --- stage 3: cue rows and frames ---------------------------------------------------------------

def _cue_rows(sent: pl.DataFrame, tok: pl.DataFrame) -> pl.DataFrame:
    cues = find_spans(sent.select("_sid", "tags"), r"[VGZzH]", id_col="_sid", text_col="tags").select(
        "_sid", pl.col("char_start").cast(pl.Int32).alias("c0"), pl.col("match").alias("ctag")).collect()
    cues = cues.join(sent, on="_sid").join(
        tok.select("_sid", pl.col("ti").alias("c0"), "lemma", "cls", "ftype", pl.col("low").alias("clow"), "n1_cls", "n1"),
        on=["_sid", "c0"], how="left")
    tags = pl.col("tags")
    c0 = pl.col("c0")
    cues = cues.with_columns(
        c1=pl.when((pl.col("ctag") == "Z") & (pl.col("clow") == "according")).then(c0 + 2).otherwise(c0 + 1),
        pre=tags.str.slice(0, c0),
    ).with_columns(
        grp_raw=pl.col("pre").str.extract(r"([ehmxrH]*)$", 1).fill_null(""),
    ).with_columns(
        glead=_len(pl.col("grp_raw").str.extract(r"^(r*)", 1)),
    ).with_columns(
        g0=pl.when(pl.col("ctag").is_in(["H", "Z", "z"])).then(c0)
        .otherwise(c0 - _len(pl.col("grp_raw")) + pl.col("glead")),
    ).with_columns(
        grp=tags.str.slice(pl.col("g0"), (c0 - pl.col("g0")).clip(0)),
        Lt=tags.str.slice(0, pl.col("g0")),
    ).with_columns(
        # responsibility: "claimed responsibility", "took full responsibility"
        resp_off=pl.when(pl.col("cls").is_in(["claim", "resp"])).then(
            pl.when(tags.str.slice(pl.col("c1"), 1) == "R").then(0)
            .when(tags.str.slice(pl.col("c1"), 2).str.contains(r"^[wDK]R$")).then(1)),
    ).with_columns(
        c1e=pl.when(pl.col("resp_off").is_not_null()).then(pl.col("c1") + pl.col("resp_off") + 1).otherwise(pl.col("c1")),
    ).with_columns(
        Rt=tags.str.slice(pl.col("c1e")),
        passive=pl.col("grp").str.contains("e") & (pl.col("ftype") == "ed"),
        has_aux=pl.col("grp").str.contains(r"[ehm]"),
        # "might say", "could argue": a hypothetical statement is no attribution
        hypothetical=pl.col("flags").str.slice(pl.col("g0"), (c0 - pl.col("g0")).clip(0)).str.contains("[4567]"),
        negated=pl.col("grp").str.contains("x")
        | pl.col("sentence_text").str.slice(0, pl.col("ts").list.get(pl.col("g0"), null_on_oob=True))
        .str.to_lowercase().str.contains(r"\b(?:yet|refused|declined|failed|unable|not) to\s*$"),
    )
    return cues


def _frames(cues: pl.DataFrame) -> pl.DataFrame:
    Lt, Rt = pl.col("Lt"), pl.col("Rt")
    g0, c1e = pl.col("g0"), pl.col("c1e")
    cls, lemma = pl.col("cls"), pl.col("lemma")

    # left context without trailing adverbs / time adjuncts ("later", ", on Tuesday,")
    strip = _g(Lt, rf"^(.*?)({_ADJ_STRIP})$")
    # a stripped ", meanwhile," is balanced; "... in April 2017," closes a clause opened before
    # (", involving ... in April 2017, suggests"): then a comma stays and no subject ends there
    sfx = strip.struct.field("2")
    cues = cues.with_columns(
        Lc=pl.when(strip.struct.field("1").is_not_null()).then(
            strip.struct.field("1") + pl.when(~sfx.str.starts_with(",") & sfx.str.ends_with(",")).then(pl.lit(","))
            .otherwise(pl.lit("")))
        .otherwise(Lt))
    Lc = pl.col("Lc")
    rel = _g(Lc, rf"^(.*?)({NP})(,?W)$")
    raise_ = _g(Lc, rf"^(.*?)({NP})([ehmr]*Vo)$")
    # a subject with an appositive starts its clause: the sentence, a strong boundary, or a
    # short opener ("However,", "On Monday,")
    opener = r"(?:|.*[;:.(bBcT]|(?:[rB]|[op][DKI]?[wCnt]+|t+),)"
    app = _g(Lc, rf"^({opener})({NP})(,)({NP})(,)$")
    # "A senior official, speaking on condition of anonymity, said"; "The report, released on
    # Tuesday, found"; "The minister, who visited the site, said"
    app_clause = _g(Lt, rf"^({opener})({NP})(,[GWw][^,;]*,)$")
    # "A recent study by Gina Ligon, the Director of ..., Technology, and ... and her
    # colleagues, found": the sentence's first noun phrase, whatever the commas between
    app_long = _g(Lt, rf"^((?:[rB],)?)({NP})(,[^;]*,)$")
    nameapp = _g(Lc, rf"^((?:[rB],?)?)(C{{2,4}})(,)({NP})$")
    plain = _g(Lc, rf"^(.*?)({NP})()$")
    f = lambda s, k: s.struct.field(k)  # noqa: E731
    app_desc = f(app, "4").str.contains(r"^[DKIw]")  # "Hugh Hill, a doctor," -> Hugh Hill
    rel_ok = f(rel, "1").is_not_null() & (
        (pl.col("low").list.get(_len(f(rel, "1")) + _len(f(rel, "2")) + _len(f(rel, "3")) - 1, null_on_oob=True) != "which")
        | pl.col("flags").str.slice(_len(f(rel, "1")), _len(f(rel, "2"))).str.contains("[1357]")
        | (f(rel, "2").str.ends_with("C") & (_len(f(rel, "2")) <= 5)))
    # a participle after a comma ("..., saying") shares the sentence's subject; "quoted a
    # witness as saying" is the witness's
    as_g = _g(Lc, rf"^(.*?)({NP})A$")
    no_own = (pl.col("ctag") == "G") & Lc.str.ends_with(",")
    rel = pl.when(rel_ok).then(rel)
    cues = cues.with_columns(
        own_a=pl.when(no_own).then(None)
        .when((pl.col("ctag") == "G") & f(as_g, "1").is_not_null()).then(_len(f(as_g, "1")))
        .when(f(rel, "1").is_not_null()).then(_len(f(rel, "1")))
        .when(f(app_clause, "1").is_not_null()).then(_len(f(app_clause, "1")))
        .when(f(app_long, "1").is_not_null() & f(app, "1").is_null()).then(_len(f(app_long, "1")))
        .when(f(raise_, "1").is_not_null()).then(_len(f(raise_, "1")))
        .when(f(app, "1").is_not_null()).then(_len(f(app, "1")))
        .when(f(nameapp, "1").is_not_null() & (_len(f(nameapp, "1")) + _len(f(nameapp, "2")) + 1 + _len(f(nameapp, "4")) == _len(Lc)))
        .then(_len(f(nameapp, "1")))
        .when(f(plain, "1").is_not_null()).then(_len(f(plain, "1"))),
        own_b=pl.when(no_own).then(None)
        .when((pl.col("ctag") == "G") & f(as_g, "1").is_not_null()).then(_len(f(as_g, "1")) + _len(f(as_g, "2")))
        .when(f(rel, "1").is_not_null()).then(_len(f(rel, "1")) + _len(f(rel, "2")))
        .when(f(app_clause, "1").is_not_null()).then(_len(f(app_clause, "1")) + _len(f(app_clause, "2")))
        .when(f(app_long, "1").is_not_null() & f(app, "1").is_null()).then(_len(f(app_long, "1")) + _len(f(app_long, "2")))
        .when(f(raise_, "1").is_not_null()).then(_len(f(raise_, "1")) + _len(f(raise_, "2")))
        .when(f(app, "1").is_not_null()).then(
            pl.when(app_desc).then(_len(f(app, "1")) + _len(f(app, "2")))
            .otherwise(_len(f(app, "1")) + _len(f(app, "2")) + 1 + _len(f(app, "4"))))
        .when(f(nameapp, "1").is_not_null() & (_len(f(nameapp, "1")) + _len(f(nameapp, "2")) + 1 + _len(f(nameapp, "4")) == _len(Lc)))
        .then(_len(f(nameapp, "1")) + _len(f(nameapp, "2")))
        .when(f(plain, "1").is_not_null()).then(_len(f(plain, "1")) + _len(f(plain, "2"))),
        is_relative=f(rel, "1").is_not_null(),
    )
    # a bare lowercase word is a speaker only when plural ("officials", "police"): "kept
    # telling me" has none; nor is a phrase that ends with an object ("recorded himself")
    own_tags = pl.col("tags").str.slice(pl.col("own_a").fill_null(0), (pl.col("own_b") - pl.col("own_a")).fill_null(0).clip(0))
    bad_own = ((own_tags == "w") & ~pl.col("flags").str.slice(pl.col("own_a").fill_null(0), 1).is_in(list("2367"))
               & (pl.col("ftype") != "s")) | own_tags.str.ends_with("O")
    cues = cues.with_columns(own_a=pl.when(bad_own).then(None).otherwise(pl.col("own_a")),
                             own_b=pl.when(bad_own).then(None).otherwise(pl.col("own_b")))
    # a claimant right after a negation ("no group has claimed"), or a bare determiner-less
    # lowercase word right after "no" / "not"
    cues = cues.with_columns(
        negated=pl.col("negated") | (pl.col("own_a").is_not_null() & (Lc.str.slice(pl.col("own_a") - 1, 1) == "x")
                                     & (pl.col("own_a") > 0)),
        # the subject is shared with an earlier verb: "claimed responsibility and said", ", saying"
        inherit_ok=Lc.str.contains(r"(?:[,;]?[cbB]r*|,)$") | (Lc == "") | (pl.col("ctag") == "G"),
    )
    # content helpers on the right context
    that = _g(Rt, r"^([^.,;:QqVGT]{0,10}?)T")
    colon = _g(Rt, r"^([^.;QqVGT]{0,6}?):")
    addr = _g(Rt, r"^([DKI]?[wC]|C+(?:oC+)?|O)[DKIPnCwQ]")
    directive = Rt.str.contains(rf"^{NP}o[wV]")
    adj = _g(Rt, rf"^((?:{_ADJ}|[op][DKI]w)+,?)[^.]")
    andverb = _g(Rt, r"^(c[Vw])")
    cues = cues.with_columns(
        skip=pl.when(f(that, "1").is_not_null()).then(_len(f(that, "1")) + 1)
        .when(f(colon, "1").is_not_null()).then(_len(f(colon, "1")) + 1)
        .when((cls == "tell") & directive).then(0)
        .when((cls == "tell") & f(addr, "1").is_not_null()).then(_len(f(addr, "1")))
        .when(f(adj, "1").is_not_null()).then(_len(f(adj, "1")))
        .when((cls.is_in(["deny", "deny_if"])) & f(andverb, "1").is_not_null()).then(2)
        .when((cls == "describe") & Rt.str.starts_with("A")).then(1)
        .otherwise(0),
        skip_kind=pl.when(f(that, "1").is_not_null()).then(pl.lit("that"))
        .when(f(colon, "1").is_not_null()).then(pl.lit("colon")).otherwise(pl.lit("")),
    )
    rest = Rt.str.slice(pl.col("skip"))
    cues = cues.with_columns(
        R_rest=rest,
        # to the end of the sentence or a semicolon
        # to the end of the sentence, a semicolon or a contrast (", but ..."; not ", but that ..."),
        # or the closing mark of a quote the cue stands in ('"I think we won," Smith said')
        pre_end=pl.col("c1e") + pl.col("skip") + pl.min_horizontal(
            _len(rest.str.extract(r"^(.*?)(?:;|,B[^T]|,B$|$)", 1)),
            pl.when(rest.str.contains(r"^[^Qq;]*?[,.]?q")).then(_len(rest.str.extract(r"^([^Qq;]*?)[,.]?q", 1)))
            .otherwise(10_000)),
        # an object ("blamed the PKK, which denied involvement") ends before a relative clause
        obj_end=pl.col("c1e") + pl.col("skip") + _len(rest.str.extract(r"^(.*?)(?:;|,[WB]|$)", 1)),
        # a clause follows: "announced 4 US personnel were among the dead"
        clause_follows=rest.str.contains(r"^(?:P|[DKIn]*[wCnq'o]{0,7}[ehmV])") | (pl.col("skip_kind") != ""),
        # a quote of at least three tokens, or one that ends the clause ('maintained "cordial"
        # relations' is a scare quote)
        quote_follows=rest.str.contains(r"^Q[^q]{3,}|^Q[^q]*q[.,;]*$"),
    )

    # clause boundaries for agentless passives and hedges: the subject starts after the last
    # boundary of the left context, the predicate ends at the first of the right context
    b1 = _g(Lt, r"^(.*[;:.(bB,])[^;:.(bB,]")
    b2 = _g(Lt, r"^(.*c)[DKIPnC]")
    relant = _g(Lt, rf"^(.*?)({NPS})(,?[TW])$")
    relparen = _g(Lt, rf"^((?:.*[;:.(bB])?)({NPS})(,[WG][^,;]*,)$")
    relant_comma = _g(Lt, rf"^(.*?)({NPS}),$")
    cend = _g(Rt, r"^(.*?)(?:[;.]|,[bBcG]|[bB]|c[DKIPCVG]|$)")
    cend_comma = _g(Rt, r"^(.*?)(?:[,;.]|$)")
    cues = cues.with_columns(
        subj_a=pl.when(f(relant, "1").is_not_null()).then(_len(f(relant, "1")))
        .when(f(relparen, "2").is_not_null()).then(_len(f(relparen, "1")))
        .otherwise(pl.max_horizontal(_len(f(b1, "1")), _len(f(b2, "1")) )),
        pred_end=c1e + _len(f(cend, "1")),
        subj_head_end=pl.when(f(relparen, "2").is_not_null()).then(_len(f(relparen, "1")) + _len(f(relparen, "2"))),
        post_end=c1e + _len(f(cend_comma, "1")),
        post_a=pl.when(f(relant_comma, "1").is_not_null()).then(_len(f(relant_comma, "1")))
        .when(f(relant, "1").is_not_null()).then(_len(f(relant, "1")))
        .otherwise(g0 - _len(Lt.str.extract(rf"({NPS})$", 1))),
    )

    # right-hand noun phrase (after "according to", "by", an inverted "said X")
    rnp = _g(Rt, rf"^({NP})((?:,{NP},?)?)")
    by_np = _g(Rt, rf"^y({NP})")
    cues = cues.with_columns(
        rnp_len=_len(f(rnp, "1")),
        rnp_app=_len(f(rnp, "2")),
        by_len=_len(f(by_np, "1")),
    )
    # sentence-final attribution: "S, officials said." / '"Q," he said.' / "S, as X claimed."
    # after a tell verb the addressee may come first: '"...," Guterres told reporters in New York.'
    # ", the army said, in the latest attack": a verbless remainder after a comma
    final_r = (Rt.str.contains(rf"^{_FINAL_R}$") | Rt.str.contains(r"^,[GQZ]") | Rt.str.contains(r"^,[^ehmVGTQ;]*$")
               | ((cls == "tell") & Rt.str.contains(rf"^(?:[DKI]?[wCn]{{1,3}}|O)(?:{_FINAL_R}$|,)")))
    fin = _g(Lc, rf"^(.*?)([.,]?q,?|,A?|q)({NP})$")
    # '"...," said a resident who asked not to be named.'
    inv = (Lc.str.contains(r"(?:[.,]?q,?|,)$") & Rt.str.contains(rf"^{NP}(?:,{NP},?)?(?:,?W[^,;.]*)?{_FINAL_R}$")
           & (pl.col("rnp_len") > 0) & pl.col("ftype").is_in(["ed", "s"]) & lemma.is_in(list(INVERTING))
           & f(app, "1").is_null() & f(app_clause, "1").is_null())
    as_f = _g(Lc, rf"^((?:.*[,;.bB])?)A({NP})((?:,{NP},)?)$")
    as_r = _g(Rt, r"^([^,;.:TQ]{0,8}),")
    paren = _g(Lc, rf"^(.+?),({NP})$")
    relobj = _g(Lc, rf"^(.*?)({NPS})(,?[TW])({NP})$")
    fin_content = Lc.str.slice(0, _len(f(fin, "1")))
    cues = cues.with_columns(
        is_final=final_r & f(fin, "1").is_not_null() & fin_content.str.contains(r"[wehmVGQqX]"),
        fin_cut=_len(f(fin, "1")), fin_punct=_len(f(fin, "2")), fin_np=_len(f(fin, "3")),
        is_inv=inv,
        is_as=f(as_f, "2").is_not_null() & f(as_r, "1").is_not_null(),
        as_a=_len(f(as_f, "1")) + 1, as_np=_len(f(as_f, "2")),
        as_skip=_len(f(as_r, "1")) + 1,
        # "Instead, the official said, the weapons were showing up": a short opener, a clause after
        is_paren=f(paren, "1").is_not_null() & Rt.str.contains(r"^,[^G]") & Rt.str.contains(r"^,[^;]*[ehmV]")
        & (_len(f(paren, "1")) <= 4) & ~f(paren, "1").str.contains(r"[ehmVQ]"),
        is_relobj=f(relobj, "1").is_not_null() & Rt.str.contains(r"^r*[ehmV]"),
        relobj_a=_len(f(relobj, "1")),
        relobj_cl=_len(f(relobj, "1")) + _len(f(relobj, "2")) + _len(f(relobj, "3")),
        relobj_clb=_len(f(relobj, "1")) + _len(f(relobj, "2")) + _len(f(relobj, "3")) + _len(f(relobj, "4")),
    )

    # --- the frame of each cue ------------------------------------------------------------
    ctag = pl.col("ctag")
    passive = pl.col("passive")
    by_agent = Rt.str.starts_with("y") & (pl.col("by_len") > 0)
    it_subject = Lc.str.contains(r"(?:^|[,;:.bBc])P$") & (pl.col("low").list.get(pl.col("g0") - 1, null_on_oob=True) == "it")
    resp_cue = pl.col("resp_off").is_not_null()
    resp_obj = (cls == "claim") & Rt.str.contains(r"^[DKI]?[wC]{0,2}X") & ~passive
    claimed_lives = (cls == "claim") & pl.col("sentence_text").str.slice(
        pl.col("ts").list.get(pl.col("c1e"), null_on_oob=True)).str.contains(r"(?i)^(?:the\s+)?(?:[\w,]+\s+){0,3}lives\b")
    # "reportedly said": the hedge is part of the speech cue; "had reportedly shown": a hedge
    hedge_alone = (ctag == "H") & ~pl.col("n1_cls").is_in(["say", "strict", "tell", "claim", "deny", "deny_if",
                                                            "blame", "utter", "cognition"]).fill_null(False)
    bare_prenominal = (lemma.is_in(["suspect", "allege"]) & (pl.col("ftype") == "ed") & ~pl.col("has_aux")
                       & ~Rt.str.contains(r"^[oTA:y]"))
    post_nominal = (lemma.is_in(["suspect", "believe", "think", "allege", "say", "report", "consider", "accuse"])
                    & (pl.col("ftype") == "ed") & ~pl.col("has_aux")
                    & ((pl.col("n1") == "to") | ((pl.col("n1") == "of") & lemma.is_in(["suspect", "allege", "accuse"])))
                    & (pl.col("own_b").is_null() | (pl.col("own_b") < _len(Lc)) | Lc.str.contains(r"[wCn],?$")))
    deny_ok = (cls == "deny") | ((cls == "deny_if") & pl.col("sentence_text").str.slice(
        pl.col("ts").list.get(pl.col("c1e"), null_on_oob=True)).str.contains(
        r"^(?:the |these |those |such |all |any )?(?:\w+ ){0,2}(?:claims?|allegations?|accusations?|reports?|charges?|suggestions?)\b"))
    # a bare participle after a counted noun with nothing after it: "50 injuries reported,"
    own_tags = pl.col("tags").str.slice(pl.col("own_a").fill_null(0), (pl.col("own_b") - pl.col("own_a")).fill_null(0).clip(0))
    passive_bare = (lemma.is_in(list(PASSIVE_OK)) & (pl.col("ftype") == "ed") & ~pl.col("has_aux")
                    & (Rt.str.contains(r"^(?:[,;.]|$)") | pl.col("n1").is_in(["killed", "dead", "missing", "injured", "wounded"]))
                    & own_tags.str.contains("n") & ~own_tags.str.contains("[CP]"))
    frame = (
        pl.when(hedge_alone).then(pl.lit("hedge"))
        .when(ctag == "H").then(pl.lit(None))
        .when(ctag.is_in(["Z", "z"])).then(pl.lit("according"))
        .when(passive & by_agent & (cls == "claim")).then(pl.lit("resp_by"))
        .when((cls == "claim") & (pl.col("ftype") == "ed") & ~pl.col("has_aux") & by_agent).then(pl.lit("resp_by_bare"))
        .when(passive & by_agent).then(pl.lit("passive_by"))
        .when(passive & lemma.is_in(list(PASSIVE_OK)) & it_subject & (pl.col("skip_kind") == "that")).then(pl.lit("passive_it"))
        .when(passive & lemma.is_in(list(PASSIVE_OK))).then(pl.lit("passive"))
        .when(passive | (cls == "passive")).then(pl.lit(None))
        .when(post_nominal).then(pl.lit("passive_post"))
        .when(bare_prenominal).then(pl.lit(None))
        .when(resp_cue).then(pl.lit("resp"))
        .when(resp_obj).then(pl.lit("resp_obj"))
        .when(cls.is_in(["deny", "deny_if"])).then(pl.when(deny_ok).then(pl.lit("deny")))
        .when(cls == "utter").then(
            pl.when(Rt.str.contains(r"^[,:]?Q")).then(pl.lit("utter")))
        .when(claimed_lives).then(pl.lit(None))
        .when(passive_bare).then(pl.lit("passive_bare"))
        .when(pl.col("is_inv")).then(pl.lit("final_inv"))
        .when(pl.col("is_final")).then(pl.lit("final"))
        .when(pl.col("is_as")).then(pl.lit("as"))
        .when(pl.col("is_paren")).then(pl.lit("paren"))
        .when(pl.col("is_relobj")).then(pl.lit("relobj"))
        .otherwise(pl.lit("pre"))
    )
    cues = cues.with_columns(frame=frame).filter(pl.col("frame").is_not_null())
    # what each class of verb needs in the plain "X said ..." frame
    ftype = pl.col("ftype")
    as_object = pl.col("R_rest").str.contains(r"^(?:P|O|[DKI]?[wCnXQq'o]+)(?:A|oe)")
    strict_ok = pl.col("clause_follows") | pl.col("quote_follows") | as_object
    own_a0, own_n = pl.col("own_a").fill_null(0), (pl.col("own_b") - pl.col("own_a")).fill_null(0).clip(0)
    own_tags = pl.col("tags").str.slice(own_a0, own_n)
    own_evidence = pl.col("flags").str.slice(own_a0, own_n).str.contains("[1357]")
    evidence_ok = (own_tags.str.contains("C") | own_evidence).fill_null(False)
    # a base form with no auxiliary before a preposition or the end is a noun ("the baggage
    # claim in Terminal 2"), unless a time adjunct follows ("officials say on Tuesday")
    noun_reading = ((ftype == "base") & ~pl.col("has_aux") & Rt.str.contains(r"^r*[op.,;:)]")
                    & ~Rt.str.contains(r"^r*[op][DKI]?[nt]*t"))
    # a base form with no auxiliary needs a plural subject ("Turkish authorities suspect ISIL",
    # "Officials say"): "Islamic state militants", "Myanmar's Rakhine state" are nouns
    plural_subject = pl.col("flags").str.slice((pl.col("own_b") - 1).fill_null(0), 1).is_in(list("2367")) \
        | (pl.col("tags").str.slice((pl.col("own_b") - 1).fill_null(0), 1) == "C") | pl.col("own_a").is_null()
    # "said little about", "said nothing": no content
    no_content = pl.col("sentence_text").str.slice(pl.col("ts").list.get(pl.col("c1e") + pl.col("skip"), null_on_oob=True)) \
        .str.contains(r"(?i)^(?:little|nothing|anything|otherwise)\b|^so\W*$")
    pre_ok = (
        pl.when((ftype == "base") & ~pl.col("has_aux") & ~plural_subject.fill_null(True)).then(False)
        .when(cls == "strict").then(strict_ok)
        .when(cls == "describe").then(as_object | pl.col("Rt").str.starts_with("A"))
        .when(cls == "call").then(pl.col("R_rest").str.contains(r"^(?:[DKI]?[wCX]{1,4}|P|O)[IQ]"))
        .when(cls == "find").then(pl.col("skip_kind") == "that")
        .when(cls == "colon").then(pl.col("skip_kind") == "colon")
        .when(cls == "evidence").then(evidence_ok & strict_ok)
        .when(cls == "show").then(own_evidence.fill_null(False) & (ftype != "ing"))
        .when((cls == "cognition") | lemma.is_in(["inform", "assure", "reassure", "remind", "notify"])).then(strict_ok)
        .when((ftype == "s") & lemma.is_in(list(NOUN_AMBIGUOUS))).then(strict_ok)
        # a subject shared with an earlier verb: only with a clause ("and said it was"), but
        # "denied responsibility and blamed the Islamic State"
        .when(pl.col("own_a").is_null() & ~cls.is_in(["blame", "suspect", "claim", "deny", "deny_if"])).then(strict_ok)
        .otherwise(True)
    # the content must start a proposition, not a prepositional phrase ("warned of", "said in"),
    # but "over 300 people", "at least 20" are figures
    ) & ~noun_reading & ~no_content.fill_null(False) & (~pl.col("R_rest").str.contains(r"^(?:[AbBcy.,;:)\-]|$|[op](?:[^nw]|w[^n]|w?$))")
                         | ((pl.col("skip_kind") == "that") & (pl.col("R_rest") != ""))
                         | ((pl.col("skip_kind") == "colon") & (pl.col("R_rest") == "")))
    # (evaluated as a column first: inside a filter polars may run it on an empty subset)
    cues = cues.with_columns(_pre_ok=pre_ok, _evidence_ok=evidence_ok)
    cues = cues.filter((pl.col("frame") != "pre") | pl.col("_pre_ok"))
    cues = cues.filter((pl.col("frame") != "paren") | (ftype == "ed"))
    cues = cues.filter((cls != "evidence") | pl.col("_evidence_ok") | ~pl.col("frame").is_in(["final", "as", "paren"]))
    # negation kills every frame but the negated passive of a belief ("are not believed to be")
    cues = cues.filter(~pl.col("negated") | ((pl.col("frame") == "passive") & lemma.is_in(list(NEG_RAISING))))
    cues = cues.filter(~pl.col("hypothetical"))
    # "According to X, it is estimated that S": the estimate is X's, one claim
    acc_before = (pl.col("frame") == "according").cast(pl.Int32).cum_sum().over("_sid") \
        - (pl.col("frame") == "according").cast(pl.Int32)
    cues = cues.sort("_sid", "c0").filter(
        ~(pl.col("frame").is_in(["passive_it", "passive", "passive_post", "passive_bare", "hedge"]) & (acc_before > 0)))
    # "..., as a recent report documented:" + a block quote: the clause before and the next
    # paragraph are both the report's
    colon_next = cues.filter((pl.col("frame") == "final") & (pl.col("skip_kind") == "colon") & (pl.col("R_rest") == ""))
    cues = pl.concat([cues, colon_next.with_columns(frame=pl.lit("colon_next"))]).sort("_sid", "c0")
    return cues


def _claim_spans(cues: pl.DataFrame) -> pl.DataFrame:
    """Token spans of claimant (cl_a, cl_b) and content (ct_a, ct_b) per frame."""
    fr = pl.col("frame")
    g0, c1e = pl.col("g0"), pl.col("c1e")
    passive_like = fr.is_in(["passive", "passive_it", "passive_post", "passive_bare", "hedge"])
    # claimant from the left of the cue, or shared with the previous cue of the sentence
    cues = cues.sort("_sid", "c0").with_columns(
        prev_a=pl.col("own_a").forward_fill().shift(1).over("_sid"),
        prev_b=pl.col("own_b").forward_fill().shift(1).over("_sid"),
        prev_c1e=pl.col("c1e").shift(1).over("_sid"),
        prev_subj_a=pl.when(fr.is_in(["passive", "hedge"])).then(pl.col("subj_a")).forward_fill().shift(1).over("_sid"),
    )
    # the sentence's subject, for a participial or coordinated cue with no earlier cue
    sstart = _g(pl.col("tags"), rf"^((?:[rB],?|o[DKI]?[wCnt]+,|t+,?)?)({NP})[ehmVr]")
    cues = cues.with_columns(
        sent_a=_len(sstart.struct.field("1")),
        sent_b=pl.when(sstart.struct.field("2").is_not_null()).then(
            _len(sstart.struct.field("1")) + _len(sstart.struct.field("2"))),
    )
    left_cl = fr.is_in(["resp", "resp_obj", "deny", "utter", "pre", "final", "as", "paren", "colon_next"])
    inherit = pl.col("inherit_ok") & pl.col("own_a").is_null()
    cues = cues.with_columns(
        cl_a=pl.when(fr.is_in(["final", "colon_next"])).then(pl.col("fin_cut") + pl.col("fin_punct"))
        .when(fr == "final_inv").then(c1e)
        .when(fr == "according").then(c1e)
        .when(fr.is_in(["resp_by", "resp_by_bare", "passive_by"])).then(c1e + 1)
        .when(fr == "relobj").then(pl.col("relobj_cl"))
        .when(fr == "as").then(pl.col("as_a"))
        .when(left_cl & pl.col("own_a").is_not_null()).then(pl.col("own_a"))
        .when(left_cl & inherit & pl.col("prev_a").is_not_null()).then(pl.col("prev_a"))
        .when(left_cl & inherit & pl.col("prev_subj_a").is_not_null()).then(pl.col("prev_subj_a"))
        .when(left_cl & inherit & pl.col("sent_b").is_not_null() & (pl.col("sent_b") <= g0)).then(pl.col("sent_a")),
        cl_b=pl.when(fr.is_in(["final", "colon_next"])).then(pl.col("fin_cut") + pl.col("fin_punct") + pl.col("fin_np"))
        .when(fr == "final_inv").then(c1e + pl.col("rnp_len"))
        .when(fr == "according").then(c1e + pl.col("rnp_len"))
        .when(fr.is_in(["resp_by", "resp_by_bare", "passive_by"])).then(c1e + 1 + pl.col("by_len"))
        .when(fr == "relobj").then(pl.col("relobj_clb"))
        .when(fr == "as").then(pl.col("as_a") + pl.col("as_np"))
        .when(left_cl & pl.col("own_a").is_not_null()).then(pl.col("own_b"))
        .when(left_cl & inherit & pl.col("prev_a").is_not_null()).then(pl.col("prev_b"))
        .when(left_cl & inherit & pl.col("prev_subj_a").is_not_null()).then(g0.shift(1).over("_sid"))
        .when(left_cl & inherit & pl.col("sent_b").is_not_null() & (pl.col("sent_b") <= g0)).then(pl.col("sent_b")),
    )
    # a sentence-final or according-to content on the left starts after the last semicolon /
    # colon / full stop of the sentence before the cue
    left_start = _len(pl.col("Lt").str.extract(r"^(.*[;:.])", 1))
    # for "according to X": X, then ", S" or " S"; a final "..., according to X." takes the left
    acc_after = c1e + pl.col("rnp_len")
    acc_rest = pl.col("Rt").str.slice(pl.col("rnp_len"))
    acc_left = acc_rest.str.contains(r"^\.?q?$") | acc_rest.str.contains(r"^,?[cbB]") | (pl.col("clow") == "citing")
    # "The attackers, according to police, were armed": the whole clause around it
    acc_paren = pl.col("Lt").str.ends_with(",") & acc_rest.str.contains(r"^,r*[ehmV]")
    prev_final_cut = pl.when(fr.shift(1).over("_sid") == "final").then(pl.col("fin_cut").shift(1).over("_sid"))
    resp_tail = _g(pl.col("Rt"), r"^((?:[oAp][DKI]?[wCXnQq']+|[wCXnQq'])*)")
    cues = cues.with_columns(
        ct_a=pl.when(fr == "final").then(left_start)
        .when(fr == "final_inv").then(left_start)
        .when(fr == "according").then(pl.when(acc_left | acc_paren).then(left_start)
                                      .otherwise(acc_after + acc_rest.str.starts_with(",").cast(pl.Int32)))
        .when(fr == "resp").then(c1e - 1)
        .when(fr == "resp_obj").then(c1e)
        .when(fr.is_in(["resp_by", "resp_by_bare"])).then(
            pl.when(fr == "resp_by_bare").then(pl.col("post_a")).otherwise(pl.col("subj_a")))
        .when(fr == "passive_by").then(pl.col("subj_a"))
        .when(fr == "passive_it").then(c1e + pl.col("skip"))
        .when(fr.is_in(["passive", "hedge"])).then(
            pl.when(pl.col("subj_a") < g0).then(pl.col("subj_a")).otherwise(c1e))
        .when(fr == "passive_post").then(pl.col("post_a"))
        .when(fr == "passive_bare").then(pl.min_horizontal("subj_a", "own_a"))
        .when(fr == "as").then(c1e + pl.col("as_skip"))
        .when(fr == "paren").then(c1e + 1)
        .when(fr == "relobj").then(pl.col("relobj_a"))
        .otherwise(c1e + pl.col("skip")),
        ct_b=pl.when(fr == "final").then(pl.col("fin_cut"))
        .when(fr == "final_inv").then(pl.col("g0") - pl.col("Lc").str.extract(r"([.,]?q,?|,)$", 1).str.len_chars().fill_null(0))
        .when(fr == "according").then(pl.when(acc_left).then(pl.coalesce(
            prev_final_cut, g0 - pl.col("Lt").str.extract(r"(,?)$", 1).str.len_chars().fill_null(0))).otherwise(pl.col("pre_end")))
        .when(fr == "resp").then(c1e + _len(resp_tail.struct.field("1")))
        .when(fr == "resp_obj").then(pl.col("post_end"))
        .when(fr.is_in(["resp_by", "resp_by_bare"])).then(
            pl.when(fr == "resp_by_bare").then(g0).otherwise(pl.coalesce("subj_head_end", g0)))
        .when(fr == "passive_by").then(pl.col("pred_end"))
        .when(fr == "passive_it").then(pl.col("pre_end"))
        .when(fr.is_in(["passive", "hedge"])).then(
            pl.when((pl.col("pred_end") == c1e) & (pl.col("subj_a") < g0)).then(g0).otherwise(pl.col("pred_end")))
        .when(fr == "passive_post").then(pl.col("post_end"))
        .when(fr == "passive_bare").then(pl.col("pred_end"))
        .when(fr == "relobj").then(pl.col("pred_end"))
        .when(pl.col("cls").is_in(["blame", "deny", "deny_if", "suspect"])).then(pl.col("obj_end"))
        .otherwise(pl.col("pre_end")),
    )
    cues = cues.with_columns(ct_b=pl.max_horizontal("ct_a", "ct_b"))
    # a claim needs a claimant unless it is agentless
    cues = cues.filter(passive_like | (pl.col("cl_b") > pl.col("cl_a")))
    return cues


def _cut_at_next(cues: pl.DataFrame) -> pl.DataFrame:
    """A content on the right ends where the next cue's own clause starts ("A reported X, while
    B said Y"): at a boundary (, ; and but while) just before the next claimant or cue."""
    nxt = pl.min_horizontal(pl.col("own_a"), pl.col("g0")).shift(-1).over("_sid")
    cues = cues.sort("_sid", "c0").with_columns(next_start=nxt)
    before = _g(pl.col("tags").str.slice(0, pl.col("next_start")), r"^(.*?)((?:,?[cbB]|[,;])r*)$")
    cut = _len(before.struct.field("1"))
    return cues.with_columns(
        ct_b=pl.when(pl.col("next_start").is_not_null() & before.struct.field("1").is_not_null()
                     & (pl.col("next_start") > pl.col("ct_a")) & (pl.col("next_start") < pl.col("ct_b"))
                     & (cut > pl.col("ct_a"))
                     ).then(cut).otherwise(pl.col("ct_b")))


def _trim(cues: pl.DataFrame) -> pl.DataFrame:
    """Leading / trailing punctuation out of the content token span."""
    seg = pl.col("tags").str.slice(pl.col("ct_a"), (pl.col("ct_b") - pl.col("ct_a")).clip(0))
    lead = _len(seg.str.extract(r"^([,:;\-]*)", 1))
    trail = _len(seg.str.extract(r"([.,:;\-]*)$", 1))
    cues = cues.with_columns(ct_a=pl.col("ct_a") + lead).with_columns(
        ct_b=pl.max_horizontal(pl.col("ct_a"), pl.col("ct_b") - trail))
    # an empty content survives only as a colon that ends its paragraph (content: the next one)
    return cues.filter((pl.col("ct_b") > pl.col("ct_a")) | ((pl.col("skip_kind") == "colon") & (pl.col("R_rest") == "")))


# the end of what a responsibility claim claims: the time or venue of the claim, the writer's
# comment ("without offering evidence") and a following clause are not part of it
_RESP_END = (r"(?i)^(responsibility(?:\s+(?:for|as|over|of)\b.*?)?)(?:\s+(?:in (?:a|an|its|his|her|their|the) "
             r"(?:\w+ )?(?:statement|video|message|post|posting|manifesto|claim|communiqu\S*|letter|announcement|audio|"
             r"recording|note|website|channel)\b|via\b|through\b|on (?:its|his|her|their|social|telegram|twitter|the "
             r"group's|\d|\w+day\b)|without\b|after\b|the (?:following|next) \w+|hours\b|days\b|shortly\b|late\b|"
             r"early\b|earlier\b|later\b|saying\b|and\b|but\b|while\b|a day\b)|[,;.(]|$)")


def _to_chars(cues: pl.DataFrame) -> pl.DataFrame:
    ts, te, s0 = pl.col("ts"), pl.col("te"), pl.col("s_start").cast(pl.Int64)
    get = lambda lst, i: lst.list.get(i, null_on_oob=True).cast(pl.Int64)  # noqa: E731
    cue_end_tok = pl.col("c1e") - 1
    resp_text = pl.col("sentence_text").str.slice(get(ts, pl.col("ct_a"))).str.extract(_RESP_END, 1)
    cues = cues.with_columns(
        ct_b=pl.when((pl.col("frame") == "resp") & resp_text.is_not_null()).then(None).otherwise(pl.col("ct_b")),
        resp_len=pl.when(pl.col("frame") == "resp").then(resp_text.str.len_chars().cast(pl.Int64)))
    return cues.with_columns(
        cue_char_start=s0 + get(ts, pl.col("g0")),
        cue_char_end=s0 + get(te, cue_end_tok),
        claimant_char_start=pl.when(pl.col("cl_b") > pl.col("cl_a")).then(s0 + get(ts, pl.col("cl_a"))),
        claimant_char_end=pl.when(pl.col("cl_b") > pl.col("cl_a")).then(s0 + get(te, pl.col("cl_b") - 1)),
        char_start=pl.when((pl.col("ct_b") > pl.col("ct_a")) | pl.col("resp_len").is_not_null()).then(s0 + get(ts, pl.col("ct_a"))),
        char_end=pl.when(pl.col("resp_len").is_not_null()).then(s0 + get(ts, pl.col("ct_a")) + pl.col("resp_len"))
        .when(pl.col("ct_b") > pl.col("ct_a")).then(s0 + get(te, pl.col("ct_b") - 1)),
        # where the quote before a sentence-final cue closes, for the quote stage
        tail_q_pos=pl.when((pl.col("frame") == "final")).then(
            s0 + get(ts, pl.col("fin_cut") + pl.col("tags").str.slice(pl.col("fin_cut"), pl.col("fin_punct")).str.find("q"))),
        tail_q_inv=pl.when(pl.col("frame") == "final_inv").then(
            s0 + get(ts, pl.col("g0") - 1 - pl.col("Lc").str.extract(r"q(,?)$", 1).str.len_chars())),
        colon_end=pl.col("R_rest").str.contains(r"^$") & (pl.col("skip_kind") == "colon")
        & pl.col("frame").is_in(["pre", "colon_next"]),
    )


# --- stage 4: quotes and paragraphs -------------------------------------------------------------

def _marks(docs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(quotes, paragraphs) from one pass over the bodies for quote marks and line breaks.

    quotes: (document_id, q_open, q_close, closed), paired per paragraph; q_close is the
    position of the closing mark, or the paragraph's end when the quote is never closed (an
    odd mark never runs past a line break). Marks are oriented by their neighbours (opening
    after a space or bracket, closing before one or before punctuation); an ambiguous mark
    closes an open quote, else opens one.
    paragraphs: (document_id, para, p_start, p_end), the text between line breaks."""
    m = find_spans(docs, r'"|\n+').select("document_id", "match", "char_start", "char_end", "prev_char",
                                           "next_char").collect()
    ends = docs.select("document_id", pl.col("body_text").str.len_chars().cast(pl.Int64).alias("doc_len"))
    m = m.with_columns(pl.col("char_start").cast(pl.Int64), pl.col("char_end").cast(pl.Int64),
                       nl=pl.col("match") != '"').sort("document_id", "char_start")
    m = m.with_columns(para=pl.col("nl").cast(pl.Int32).cum_sum().over("document_id"))
    # paragraphs: from the end of one line-break run to the start of the next
    nl = m.filter("nl")
    starts = pl.concat([ends.select("document_id", pl.lit(0, dtype=pl.Int32).alias("para"), pl.lit(0, dtype=pl.Int64).alias("p_start")),
                        nl.select("document_id", "para", pl.col("char_end").alias("p_start"))])
    stops = pl.concat([nl.select("document_id", (pl.col("para") - 1).alias("para"), pl.col("char_start").alias("p_end")),
                       ends.join(nl.group_by("document_id").agg(pl.col("para").max()), on="document_id", how="left")
                       .select("document_id", pl.col("para").fill_null(0), pl.col("doc_len").alias("p_end"))])
    paras = starts.join(stops, on=["document_id", "para"]).filter(pl.col("p_end") > pl.col("p_start"))
    q = m.filter(~pl.col("nl")).with_columns(
        kind=pl.when(pl.col("prev_char").is_in(["", " ", "(", "[", "-", "—", "–", "\n"])
                     & ~pl.col("next_char").is_in(["", " ", "\n"])).then(pl.lit("o"))
        .when(~pl.col("prev_char").is_in(["", " ", "\n"]) & (pl.col("next_char").is_in(["", " ", "\n"])
                                                            | pl.col("next_char").str.contains(r"^[\p{P}]")))
        .then(pl.lit("c")).otherwise(pl.lit("a")),
    )
    # an ambiguous mark closes when the mark before it in the paragraph opens
    q = q.with_columns(prev_kind=pl.col("kind").shift(1).over("document_id", "para")).with_columns(
        kind=pl.when(pl.col("kind") == "a").then(
            pl.when(pl.col("prev_kind") == "o").then(pl.lit("c")).otherwise(pl.lit("o"))).otherwise(pl.col("kind")))
    q = q.with_columns(
        nxt_kind=pl.col("kind").shift(-1).over("document_id", "para"),
        nxt_pos=pl.col("char_start").shift(-1).over("document_id", "para"),
    )
    opens = q.filter(pl.col("kind") == "o").join(paras.select("document_id", "para", "p_end"),
                                                 on=["document_id", "para"], how="left")
    quotes = opens.select(
        "document_id", pl.col("char_start").alias("q_open"),
        pl.when(pl.col("nxt_kind").is_in(["c", "o"])).then(pl.col("nxt_pos")).otherwise(pl.col("p_end")).alias("q_close"),
        (pl.col("nxt_kind") == "c").fill_null(False).alias("closed"),
    )
    return quotes, paras.with_columns(pl.col("para").cast(pl.Int64))


def _apply_quotes(claims: pl.DataFrame, docs: pl.DataFrame, quotes: pl.DataFrame, paras: pl.DataFrame) -> pl.DataFrame:
    # paragraph of each cue, and the next paragraph
    claims = claims.sort("document_id", "cue_char_start").join_asof(
        paras.sort("document_id", "p_start"), left_on="cue_char_start", right_on="p_start", by="document_id",
        check_sortedness=False)
    nxt = paras.select("document_id", (pl.col("para") - 1).alias("para"), pl.col("p_start").alias("np_start"),
                       pl.col("p_end").alias("np_end"))
    claims = claims.join(nxt, on=["document_id", "para"], how="left")
    # (a) a content that opens with a quote mark takes the whole quote
    qo = quotes.select("document_id", pl.col("q_open").alias("char_start"), pl.col("q_close").alias("qo_close"))
    claims = claims.join(qo, on=["document_id", "char_start"], how="left")
    # (b) "...," he said: the quote closing before the claimant
    qc = quotes.filter("closed").select("document_id", pl.col("q_close").alias("tail_q"), pl.col("q_open").alias("qc_open"))
    claims = claims.with_columns(tail_q=pl.coalesce("tail_q_pos", "tail_q_inv")).join(qc, on=["document_id", "tail_q"], how="left")
    # (c) a colon at the end of the paragraph: the next paragraph (its quote when it opens with one)
    qn = quotes.select("document_id", pl.col("q_open").alias("np_start"), pl.col("q_close").alias("qn_close"))
    claims = claims.join(qn, on=["document_id", "np_start"], how="left")
    colon_next = pl.col("colon_end") & pl.col("np_start").is_not_null() & (pl.col("p_end") <= pl.col("cue_char_end") + 2)
    claims = claims.with_columns(
        q_from=pl.when(pl.col("qo_close").is_not_null()).then(pl.lit("open"))
        .when(pl.col("qc_open").is_not_null()).then(pl.lit("close"))
        .when(colon_next & pl.col("qn_close").is_not_null()).then(pl.lit("next_quote"))
        .when(colon_next).then(pl.lit("next_para")),
    ).with_columns(
        char_start=pl.when(pl.col("q_from") == "open").then(pl.col("char_start") + 1)
        .when(pl.col("q_from") == "close").then(pl.col("qc_open") + 1)
        .when(pl.col("q_from") == "next_quote").then(pl.col("np_start") + 1)
        .when(pl.col("q_from") == "next_para").then(pl.col("np_start"))
        .otherwise(pl.col("char_start")),
        char_end=pl.when(pl.col("q_from") == "open").then(pl.col("qo_close"))
        .when(pl.col("q_from") == "close").then(pl.col("tail_q"))
        .when(pl.col("q_from") == "next_quote").then(pl.col("qn_close"))
        .when(pl.col("q_from") == "next_para").then(pl.col("np_end"))
        .otherwise(pl.col("char_end")),
    )
    # (d) a quote split by its cue: '"A," he said. "B."' / '"A," he said, "B."'
    after = quotes.select("document_id", pl.col("q_open").alias("split_open"), pl.col("q_close").alias("split_close"))
    claims = claims.with_columns(attr_end=pl.max_horizontal("cue_char_end", "claimant_char_end")).sort("document_id", "attr_end")
    claims = claims.join_asof(after.sort("document_id", "split_open"), left_on="attr_end", right_on="split_open",
                              by="document_id", strategy="forward", check_sortedness=False)
    claims = claims.join(docs.select("document_id", "body_text"), on="document_id")
    gap = pl.col("body_text").str.slice(pl.col("attr_end"), (pl.col("split_open") - pl.col("attr_end")).clip(0))
    # after "said X, a spokeswoman." the rest of the attribution sentence is the gap
    sent_gap = pl.col("body_text").str.slice(pl.col("s_end"), (pl.col("split_open") - pl.col("s_end")).clip(0))
    split = pl.col("q_from").is_in(["open", "close"]) & (pl.col("char_end") <= pl.col("cue_char_start")) \
        & pl.col("split_open").is_not_null() & (pl.col("split_close") - pl.col("split_open") > 2) & (pl.col("split_open") < pl.col("p_end")) & (
        gap.str.contains(r"^[ ,.;:]*$")
        | (pl.col("frame").is_in(["final", "final_inv"]) & (pl.col("split_open") >= pl.col("s_end")) & sent_gap.str.contains(r"^\s*$")))
    claims = claims.with_columns(char_end=pl.when(split).then(pl.col("split_close")).otherwise(pl.col("char_end")))
    # trailing comma / semicolon inside the span; whitespace
    text = pl.col("body_text").str.slice(pl.col("char_start"), (pl.col("char_end") - pl.col("char_start")).clip(0))
    claims = claims.with_columns(
        _lead=_len(text.str.extract(r"^(\s*)", 1)).cast(pl.Int64),
        _trail=_len(text.str.extract(r"([\s,;]*)$", 1)).cast(pl.Int64),
    ).with_columns(
        char_start=pl.col("char_start") + pl.col("_lead"),
        char_end=pl.max_horizontal(pl.col("char_start") + pl.col("_lead"), pl.col("char_end") - pl.col("_trail")),
    ).filter(pl.col("char_end") > pl.col("char_start"))
    # a stray closing quote mark at the end of a content that is not a quote ("...presence."")
    text = pl.col("body_text").str.slice(pl.col("char_start"), (pl.col("char_end") - pl.col("char_start")).clip(0))
    stray = pl.col("q_from").is_null() & text.str.ends_with('"') & (text.str.count_matches('"') % 2 == 1)
    claims = claims.with_columns(char_end=pl.when(stray).then(pl.col("char_end") - 1).otherwise(pl.col("char_end")))
    return claims.filter(pl.col("char_end") > pl.col("char_start"))


def _quoted_share(claims: pl.DataFrame, docs: pl.DataFrame, quotes: pl.DataFrame) -> pl.DataFrame:
    """Share of the content inside quote marks that give the claimant's own words: a quote the
    content itself reports ('the suspect shouted "Allah Akbar"') does not count."""
    quotes = quotes.filter("closed")
    key = claims.select("_cid", "document_id", "char_start", "char_end")
    ov = key.join(quotes, on="document_id").filter(
        (pl.col("q_open") + 1 < pl.col("char_end")) & (pl.col("q_close") > pl.col("char_start")))
    ov = ov.join(docs.select("document_id", "body_text"), on="document_id").with_columns(
        before=pl.col("body_text").str.slice(pl.max_horizontal(pl.col("q_open") - 30, 0),
                                             pl.col("q_open") - pl.max_horizontal(pl.col("q_open") - 30, 0)).str.to_lowercase(),
    ).filter(~(pl.col("before").str.contains(
        r"\b(?:shouted|shouting|yelled|yelling|chanted|chanting|screamed|screaming|cried|wrote|read|reading|said|saying|says|told \w+|called it|dubbed|named|titled|entitled)\W*$")
        & (pl.col("q_open") > pl.col("char_start"))))
    share = ov.with_columns(
        inside=(pl.min_horizontal("q_close", "char_end") - pl.max_horizontal(pl.col("q_open") + 1, "char_start")).clip(0),
    ).group_by("_cid").agg(pl.col("inside").sum())
    return claims.join(share, on="_cid", how="left").with_columns(
        quoted=pl.when(pl.col("q_from").is_in(["open", "close", "next_quote"])).then(1.0)
        .otherwise(pl.col("inside").fill_null(0) / (pl.col("char_end") - pl.col("char_start")))
    )


# --- stage 5: claimants ---------------------------------------------------------------------------

def _split_coordinated(claims: pl.DataFrame, mentions: pl.DataFrame) -> pl.DataFrame:
    """'Both A and B claimed' -> one claim for A, one for B; never inside a gazetteer name
    ('Islamic State of Iraq and the Levant'), never when a side is not a name or a
    determined noun phrase."""
    has = claims.filter(pl.col("claimant_text").str.contains(r" and (?:the |[\p{Lu}])") & pl.col("claimant_text").is_not_null())
    if has.height == 0:
        return claims
    ands = find_spans(has.select("_cid", "claimant_text"), r" and ", id_col="_cid", text_col="claimant_text").select(
        "_cid", pl.col("char_start").cast(pl.Int64).alias("a_pos"), "next_char").collect()
    ands = ands.join(has.select("_cid", "document_id", "claimant_char_start", "claimant_text"), on="_cid")
    ands = ands.with_columns(abs_pos=pl.col("claimant_char_start") + pl.col("a_pos"),
                             left=pl.col("claimant_text").str.slice(0, pl.col("a_pos")))
    inside = ands.join(mentions.select("document_id", pl.col("char_start").alias("m_s"), pl.col("char_end").alias("m_e")),
                       on="document_id").filter((pl.col("m_s") < pl.col("abs_pos")) & (pl.col("m_e") > pl.col("abs_pos")))
    # "Kandahar and Kabul insiders": the conjuncts share a lowercase head, one speaker
    right = pl.col("claimant_text").str.slice(pl.col("a_pos") + 5)
    ands = ands.join(inside.select("_cid", "a_pos").unique(), on=["_cid", "a_pos"], how="anti").filter(
        pl.col("left").str.contains(r"(?:^|\s)\p{Lu}[\p{L}'.-]*$") & (
            pl.col("next_char").str.contains(r"^\p{Lu}") | pl.col("next_char").is_in(["t"]))
        & ~right.str.contains(r"\s\p{Ll}[\p{L}'-]*$")
        # "Secretary for Counterterrorism and Threat Prevention", "State of Iraq and the Levant"
        & ~pl.col("left").str.contains(r"\b(?:of|for|on|in|to|from|at|with)\s+(?:the\s+)?(?:\p{Lu}[\p{L}'.-]*\s+)*\p{Lu}[\p{L}'.-]*$"))
    if ands.height == 0:
        return claims
    cuts = ands.group_by("_cid").agg(pl.col("a_pos").sort())
    parts = has.join(cuts, on="_cid").with_columns(
        bounds=pl.concat_list(pl.lit(0, dtype=pl.Int64), pl.col("a_pos"))).with_columns(
        ends=pl.concat_list(pl.col("a_pos"), pl.col("claimant_text").str.len_chars().cast(pl.Int64)),
        starts=pl.concat_list(pl.lit(0, dtype=pl.Int64), pl.col("a_pos").list.eval(pl.element() + 5)),
    ).explode("starts", "ends", empty_as_null=True).with_columns(
        part=pl.col("claimant_text").str.slice(pl.col("starts"), (pl.col("ends") - pl.col("starts")).clip(0)))
    both = _len(pl.col("part").str.extract(r"^((?:[Bb]oth|[Ee]ither) )", 1)).cast(pl.Int64)
    parts = parts.with_columns(
        claimant_char_start=pl.col("claimant_char_start") + pl.col("starts") + both,
        claimant_char_end=pl.col("claimant_char_start") + pl.col("ends"),
    ).drop("bounds", "ends", "starts", "part", "a_pos")
    keep = claims.join(cuts.select("_cid"), on="_cid", how="anti")
    return pl.concat([keep, parts.select(keep.columns)])


def _resolve_actors(claims: pl.DataFrame, mentions: pl.DataFrame, gazetteer: pl.DataFrame,
                    sentences: pl.DataFrame) -> pl.DataFrame:
    types = gazetteer.select("actor_id", "actor_type")
    m = mentions.select("document_id", "actor_id", pl.col("char_start").cast(pl.Int64).alias("m_s"),
                        pl.col("char_end").cast(pl.Int64).alias("m_e")).join(types, on="actor_id", how="left")
    rank = pl.col("actor_type").replace_strict(
        {"person": 0, "armed_group": 1, "organization": 1, "international_org": 1, "government_body": 1, "state": 2,
         "place": 3}, default=4, return_dtype=pl.Int32)
    key = claims.select("_cid", "document_id", "claimant_char_start", "claimant_char_end", "claimant_text",
                        "sentence_index")
    docs = key.select("document_id").unique()
    m = m.join(docs, on="document_id")
    # the sentence of each mention, so that a claimant meets only its own sentence's mentions
    starts = sentences.join(docs, on="document_id").select(
        "document_id", pl.col("sentence_index").alias("m_sent"), pl.col("char_start").cast(pl.Int64).alias("m_s"))
    m = m.sort("document_id", "m_s").join_asof(starts.sort("document_id", "m_s"), on="m_s", by="document_id",
                                               check_sortedness=False)
    inside = key.join(m, left_on=["document_id", "sentence_index"], right_on=["document_id", "m_sent"]).filter(
        (pl.col("m_s") < pl.col("claimant_char_end")) & (pl.col("m_e") > pl.col("claimant_char_start")))
    best = inside.with_columns(rank=rank).sort("_cid", "rank", -pl.col("m_s")).group_by("_cid").agg(
        pl.col("actor_id").first().alias("np_actor"))
    # pronouns: the only person (he, she) / group (they, it, we) of the last three sentences
    pron = key.filter(pl.col("claimant_text").str.to_lowercase().is_in(list(PRONOUNS_PERSON + PRONOUNS_GROUP)))
    wstarts = starts.select("document_id", pl.col("m_sent").alias("w_idx"), pl.col("m_s").alias("w_start"))
    pron = pron.with_columns(w_idx=pl.max_horizontal(pl.col("sentence_index") - 3, 0).cast(pl.Int32)).join(
        wstarts, on=["document_id", "w_idx"], how="left")
    person = pl.col("claimant_text").str.to_lowercase().is_in(list(PRONOUNS_PERSON))
    cand = pron.join(m, on="document_id").filter(
        (pl.col("m_s") >= pl.col("w_start")) & (pl.col("m_e") <= pl.col("claimant_char_start"))).filter(
        pl.when(person).then(pl.col("actor_type") == "person")
        .otherwise(pl.col("actor_type").is_in(["armed_group", "organization", "international_org", "government_body"])))
    resolved = cand.group_by("_cid").agg(pl.col("actor_id").unique()).filter(pl.col("actor_id").list.len() == 1).select(
        "_cid", pl.col("actor_id").list.first().alias("pron_actor"))
    return claims.join(best, on="_cid", how="left").join(resolved, on="_cid", how="left").with_columns(
        claimant_actor_id=pl.coalesce("pron_actor", "np_actor"))


# --- entry point ----------------------------------------------------------------------------------

_RESP_CONTENT = (r"(?i)^(?:it|they|we|the group|the organi[sz]ation|its (?:fighters|militants|members|men))\s+"
                 r"(?:(?:was|were|is|are|had been|has been|have been)\s+)?(?:behind|responsible for|carried out|"
                 r"conducted|perpetrated|staged|launched)\b")


# "..., a claim that could not be verified", "..., an accusation the rebels reject": the
# writer's comment on the claim, not part of it
_COMMENT_CUT = (r"^(.*?),\s+(?:a|an|the|another|which is a)\s+(?:[\w-]+\s+){0,3}?(?:claim|accusation|charge|allegation|"
                r"assertion|figure|account|version|denial|number)s?\b")
# "[ISKP] claimed it had fired rockets into Tajikistan": a claim of one's own attack
_RESP_ACT = (r"(?i)^(?:it|they|we|the group|its (?:fighters|militants|members|men))\s+(?:had|has|have)\s+(?:\w+ly\s+)?"
             r"(?:fired|attacked|bombed|killed|shot|targeted|struck|ambushed|detonated|kidnapped|abducted|executed|"
             r"carried out|launched|staged)\b")


def extract_claims(documents: pl.DataFrame, sentences: pl.DataFrame, actor_mentions: pl.DataFrame,
                   gazetteer: pl.DataFrame, *, min_bytes: int = 4_000_000) -> pl.DataFrame:
    """documents (document_id, body_text), sentences (split_sentences), actor_mentions
    (extract_actor_mentions), gazetteer (load_gazetteer) -> CLAIM_SCHEMA rows, sorted by
    (document_id, char_start, cue_char_start, claimant_char_start).

    Every step works per document, so a large input is cut into slices of whole documents
    (about `min_bytes` of text or more each, at most one per polars thread) that run in
    threads: polars releases the GIL, and a string expression over one column runs on one core."""
    if documents.height == 0 or sentences.height == 0:
        return _empty()
    docs = documents.select("document_id", "body_text")
    total = int(docs["body_text"].str.len_bytes().sum() or 0)
    n = max(1, min(pl.thread_pool_size(), total // max(min_bytes, 1), docs.height))
    if n == 1:
        return _extract(docs, sentences, actor_mentions, gazetteer)
    part = docs.select("document_id").with_columns(_part=(pl.int_range(pl.len()) % n).cast(pl.Int32))
    slices = [(docs.join(part.filter(pl.col("_part") == k).drop("_part"), on="document_id"),
               sentences.join(part.filter(pl.col("_part") == k).drop("_part"), on="document_id"),
               actor_mentions.join(part.filter(pl.col("_part") == k).drop("_part"), on="document_id"))
              for k in range(n)]
    with ThreadPoolExecutor(max_workers=n) as pool:
        parts = list(pool.map(lambda a: _extract(a[0], a[1], a[2], gazetteer), slices))
    return pl.concat(parts).sort("document_id", "char_start", "cue_char_start", "claimant_char_start", nulls_last=False)


def _extract(documents: pl.DataFrame, sentences: pl.DataFrame, actor_mentions: pl.DataFrame,
             gazetteer: pl.DataFrame) -> pl.DataFrame:
    if documents.height == 0 or sentences.height == 0:
        return _empty()
    cand = _candidates(sentences)
    if cand.height == 0:
        return _empty()
    tok = _tokens(cand)
    sent = _sentence_tags(tok, cand)
    cues = _cue_rows(sent, tok)
    cues = _frames(cues)
    if cues.height == 0:
        return _empty()
    cues = _claim_spans(cues)
    cues = _cut_at_next(cues)
    cues = _trim(cues)
    cues = _to_chars(cues)
    docs = documents.select("document_id", "body_text").join(cues.select("document_id").unique(), on="document_id")
    claims = cues.filter(pl.col("char_start").is_not_null() | pl.col("colon_end")).with_columns(
        char_start=pl.coalesce("char_start", "cue_char_end"), char_end=pl.coalesce("char_end", "cue_char_end"))
    claims = claims.select(
        "document_id", "sentence_index", "sentence_text", "frame", "cls", "claimant_char_start", "claimant_char_end", "cue_char_start",
        "cue_char_end", "char_start", "char_end", "tail_q_pos", "tail_q_inv", "colon_end",
        pl.col("s_end").cast(pl.Int64),
    )
    quotes, paras = _marks(docs)
    claims = _apply_quotes(claims, docs, quotes, paras)
    # the writer's comment after the content: "..., an accusation the rebels reject"
    text = pl.col("body_text").str.slice(pl.col("char_start"), (pl.col("char_end") - pl.col("char_start")).clip(0))
    head = text.str.extract(_COMMENT_CUT, 1)
    claims = claims.with_columns(char_end=pl.when(pl.col("q_from").is_null() & head.is_not_null() & (head != ""))
                                 .then(pl.col("char_start") + head.str.len_chars().cast(pl.Int64))
                                 .otherwise(pl.col("char_end")))
    claims = claims.with_row_index("_cid")
    claims = _quoted_share(claims, docs, quotes)
    body = pl.col("body_text")
    sl = lambda a, b: body.str.slice(pl.col(a), (pl.col(b) - pl.col(a)).clip(0))  # noqa: E731
    claims = claims.with_columns(claimant_text=pl.when(pl.col("claimant_char_start").is_not_null()).then(
        sl("claimant_char_start", "claimant_char_end")))
    claims = _split_coordinated(claims, actor_mentions).drop("_cid").with_row_index("_cid")
    claims = claims.with_columns(claimant_text=pl.when(pl.col("claimant_char_start").is_not_null()).then(
        sl("claimant_char_start", "claimant_char_end")))
    claims = _resolve_actors(claims, actor_mentions, gazetteer, sentences)
    content = sl("char_start", "char_end")
    fr = pl.col("frame")
    direct = pl.col("quoted") >= 0.25
    ctype = (
        pl.when(fr.is_in(["resp", "resp_obj", "resp_by", "resp_by_bare"])).then(pl.lit("responsibility_claim"))
        .when((fr == "deny") | ((fr == "passive_by") & pl.col("cls").is_in(["deny", "deny_if"]))).then(pl.lit("denial"))
        .when(pl.col("claimant_text").is_not_null() & (pl.col("cls") != "blame") & content.str.contains(_RESP_CONTENT))
        .then(pl.lit("responsibility_claim"))
        .when(pl.col("claimant_text").is_not_null() & (pl.col("cls") == "claim") & content.str.contains(_RESP_ACT))
        .then(pl.lit("responsibility_claim"))
        .when(fr == "according").then(pl.lit("according_to"))
        .when(pl.col("claimant_text").is_null()).then(pl.lit("passive"))
        .when(direct & (pl.col("quoted") >= 0.9)).then(pl.lit("direct"))
        .when(direct).then(pl.lit("mixed"))
        .otherwise(pl.lit("indirect"))
    )
    out = claims.with_columns(
        cue=sl("cue_char_start", "cue_char_end"),
        claim_text=content,
        is_direct_quote=direct,
        claim_type=ctype,
    )
    # a content with no word ("(...)"); a question does not report a statement ("Do you think
    # I was wrong?"), unless it is quoted before its attribution
    question = pl.col("sentence_text").str.strip_chars(' "\'').str.ends_with("?") & ~pl.col("frame").is_in(["final", "final_inv"])
    out = out.filter(pl.col("claim_text").str.contains(r"[\p{L}\p{N}]") & ~question.fill_null(False))
    # one claim per (document, content start, cue start, claimant start): the claim's key
    # (stg_claims.claim_id). Two cues can start at the same word, a hedge and the passive it
    # opens ("X, allegedly was believed to be Y": "allegedly", "allegedly was believed"): the
    # longest cue is kept, its content is the fuller one.
    key = ["document_id", "char_start", "cue_char_start", "claimant_char_start"]
    out = out.select(pl.col(k).cast(v) for k, v in CLAIM_SCHEMA.items())
    out = out.sort([*key, "cue_char_end", "char_end"], descending=[False] * len(key) + [True, True],
                   nulls_last=False, maintain_order=True).unique(subset=key, keep="first", maintain_order=True)
    return out.sort(*key, nulls_last=False)
