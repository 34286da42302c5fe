"""dagster_project.documents.normalize (with scrape, articles, metadata, language): character
cleaning, the line model, article boundaries, metadata, the accounting of removed lines, and
every bad-input case of the documents issue."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date

import polars as pl
import pytest

from dagster_project.documents import metadata as meta
from dagster_project.documents.ingest import ingest_folder
from dagster_project.documents.normalize import (
    NORMALIZED_SCHEMA,
    assemble_articles,
    clean_text,
    fold_text,
    load_publisher_domains,
    normalize_documents,
)
from dagster_project.documents.scrape import text_lines
from support import SEED_000, SEED_000_HEADLINES, SEED_001, SEED_002, SEED_003, SEED_004, SEEDS_DIR


def raw_line(seed: str, line_no: int) -> str:
    """Line `line_no` (1-based, as in an editor) of a seed file, exactly as stored."""
    return (SEEDS_DIR / seed).read_text(encoding="utf-8").split("\n")[line_no - 1]


def clean(text: str) -> str:
    return pl.select(clean_text(pl.lit(text, dtype=pl.String))).item()


def one_file(text: str, name: str = "f.txt", content_type: str = "text") -> pl.DataFrame:
    return pl.DataFrame({"file_id": [name], "source_file": [name], "raw_text": [text], "content_type": [content_type]})


def files(texts: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame({"file_id": list(texts), "source_file": list(texts), "raw_text": list(texts.values()),
                         "content_type": ["text"] * len(texts)})


def article_text(row: dict) -> str:
    """The article text after the headline paragraph."""
    return row["body_text"][row["body_char_start"]:]


# Paragraphs of a plausible news story, written for these tests.
STORY = [
    "A suicide bomber struck a police checkpoint on the outskirts of Peshawar on Tuesday morning, "
    "killing at least 12 people and wounding 30 others, provincial officials said.",
    "The attacker detonated explosives as officers were inspecting vehicles on the main road to the "
    "tribal districts, according to a spokesman for the provincial police.",
    "Rescue workers took the wounded to Lady Reading Hospital, where doctors said the condition of "
    "several victims remained critical late into the evening.",
    "No group immediately claimed responsibility, but the Pakistani Taliban have carried out similar "
    "attacks on security forces in the region over the past year.",
    "The provincial government announced compensation for the families of the victims and ordered an "
    "inquiry into the security arrangements at the checkpoint.",
]
MENU = ["Home", "World", "Asia", "Politics", "Business", "Sport", "Opinion", "Video", "Subscribe", "Sign in"]


def page(*blocks: list[str] | str) -> str:
    out: list[str] = []
    for b in blocks:
        out.extend([b] if isinstance(b, str) else b)
    return "\n\n".join(out) + "\n"


@pytest.fixture(scope="module")
def publisher_domains() -> dict[str, str]:
    from dagster_project.paths import DATA_DIR

    return load_publisher_domains(DATA_DIR / "publisher_domains.csv")


@pytest.fixture(scope="module")
def raw_seeds() -> pl.DataFrame:
    raw, bad = ingest_folder(SEEDS_DIR)
    assert bad.height == 0
    return raw


@pytest.fixture(scope="module")
def articles(raw_seeds, publisher_domains) -> pl.DataFrame:
    return assemble_articles(raw_seeds, publisher_domains)


@pytest.fixture(scope="module")
def lines(raw_seeds) -> pl.DataFrame:
    return text_lines(raw_seeds.select(pl.col("source_file").alias("file_id"), "raw_text"),
                      meta.SIGNATURE_REGEX, meta.BIO_REGEX)


def article(articles: pl.DataFrame, seed: str, index: int = 0) -> dict:
    rows = articles.filter((pl.col("source_file") == seed) & (pl.col("article_index") == index))
    assert rows.height == 1, f"no article {index} in {seed}"
    return rows.row(0, named=True)


def line_row(lines: pl.DataFrame, seed: str, text: str) -> dict:
    rows = lines.filter((pl.col("file_id") == seed) & (pl.col("line") == text))
    assert rows.height, f"line not found in {seed}: {text!r}"
    return rows.row(0, named=True)


# ---------------------------------------------------------------------------
# clean_text
# ---------------------------------------------------------------------------


def test_clean_text_folds_typographic_quotes():
    assert clean(raw_line(SEED_000, 1)) == "Qatar's Mediation Challenges in the Afghan Peace Process"
    line = raw_line(SEED_000, 8)  # ... it maintained “cordial” relations with the group after 9/11.
    assert 'it maintained "cordial" relations with the group after 9/11.' in clean(line)
    # guillemets stay: they are breadcrumb separators ("Home » world » ..."), not quotes
    assert clean("‘Crusader’ «embassies» „x‟") == "'Crusader' «embassies» \"x\""


def test_clean_text_nfkc_and_no_break_spaces():
    line = raw_line(SEED_000, 121)  # "In\u00a0the aftermath of traumatic events, ..."
    assert "\u00a0" in line
    out = clean(line)
    assert out.startswith("In the aftermath of traumatic events, services which pledge support")
    assert clean("the ﬁght in Ｋａｂｕｌ in ２０２１ ²") == "the fight in Kabul in 2021 2"


def test_clean_text_removes_invisible_and_control_characters():
    text = "ISKP\u200b attacked \u00adthe embassy\x07 in\u2060 Kabul\ufeff airport\x1f today."
    assert clean(text) == "ISKP attacked the embassy in Kabul airport today."
    assert clean("one\r\ntwo\rthree\n") == "one\ntwo\nthree\n"
    assert clean("  Taliban   gains \t in   Kunduz  \n  next  ") == "Taliban gains in Kunduz\nnext"
    assert clean("Tali\u00adban fighters in Afghan\u00adistan") == "Taliban fighters in Afghanistan"


def test_clean_text_drops_interstitial_link_markup():
    line = raw_line(SEED_004, 17)
    assert line.startswith("[interstitial_link url=”https://www.washingtonpost.com/")
    assert clean(line) == ""
    assert clean("[interstitial_link url=x]Trump says[/interstitial_link] and [/interstitial_link]rest") == "and rest"


def test_fold_text_is_clean_text_on_one_string():
    line = raw_line(SEED_001, 61)
    assert fold_text(line) == clean(line)


def test_lines_keep_their_indentation_and_are_cleaned_like_clean_text(lines):
    row = line_row(lines, SEED_001, "• Fr")
    assert row["indent"] == 2
    raw = raw_line(SEED_000, 121)
    assert line_row(lines, SEED_000, clean(raw))["indent"] == 0


# ---------------------------------------------------------------------------
# The line model on the seeds: what is body and why the rest is not
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed,line,reason", [
    (SEED_001, "VIEWS", "navigation"),
    (SEED_001, "Share on FacebookShare on Twitter", "navigation"),
    (SEED_001, "15 September 2022", "date"),
    (SEED_001, "© 2018 EER - Copyright © European Eye on Radicalization.", "legal"),
    (SEED_002, "This site uses Akismet to reduce spam. Learn how your comment data is processed.", "legal"),
    (SEED_002, "by Omar El Sayed - World Editor", "byline"),
    (SEED_003, "March 28, 2024", "date"),
    (SEED_003, "Law enforcement officers stand guard near the burning Crocus City Hall concert venue following a "
               "shooting incident, outside Moscow, Russia, March 22, 2024. REUTERS/Yulia Morozova.", "caption"),
    (SEED_004, "- January 15, 2018", "date"),
    (SEED_000, "Afghan refugees entering Iran from Nimroz province of Afghanistan — a key smuggling province. "
               "Photo: social media", "caption"),
    (SEED_000, "Source: Long War Journal (control areas as of Aug. 8) By Scott Reinhard", "caption"),
    (SEED_000, "Chantelle Davis, Research Fellow at Rise to Peace", "byline"),
])
def test_removed_line_reasons(lines, seed, line, reason):
    row = line_row(lines, seed, line)
    assert not row["in_body"]
    assert row["removed_reason"] == reason


def test_caption_with_photo_credit_in_parentheses(lines):
    caption = fold_text(raw_line(SEED_004, 7))
    assert caption.endswith("(Rahmat Gul/Associated Press)")
    assert line_row(lines, SEED_004, caption)["removed_reason"] == "caption"


@pytest.mark.parametrize("junk", [
    "613\n", "VIEWS", "Share on Facebook", "interstitial_link", "washingtonpost.com", "cookies", "Akismet",
    "Adblock", "AdBlocker", "©", "Copyright", "Rahmat Gul/Associated Press", "REUTERS/Yulia Morozova",
    "Photo: social media", "picture sent to Rise to Peace", "300x293", "Related Posts", "Latest from Twitter",
    "The Escalating Israeli-Palestinian Conflict", "30 January 2023", "You may also like", "Leave a Comment",
    "No comments", "Post a Comment", "8 min read", "189 views", "Research Fellow at Rise to Peace",
    "Samuel Ramani is a DPhil candidate", "Home > News", "Director - Initiative on Nonstate Armed Actors",
])
def test_boilerplate_is_in_no_body(articles, junk):
    offenders = articles.filter(pl.col("body_text").str.contains(junk, literal=True))
    assert offenders.height == 0, f"{junk!r} found in {offenders['source_file'].to_list()}"


def test_interstitial_link_titles_are_not_body(articles):
    body = article_text(article(articles, SEED_004))
    assert "The new U.S. plan in Afghanistan may add a local militia" not in body
    assert "Washington's historical resistance to engagement with the Afghan militant group." in body
    assert "\n\n\n" not in body


# ---------------------------------------------------------------------------
# Articles of the seeds
# ---------------------------------------------------------------------------


def test_seeds_give_eleven_articles(articles):
    assert articles.schema == pl.Schema(NORMALIZED_SCHEMA)
    counts = dict(articles.group_by("source_file").len().iter_rows())
    assert counts == {SEED_000: 7, SEED_001: 1, SEED_002: 1, SEED_003: 1, SEED_004: 1}


def test_the_seven_posts_of_seed_000(articles):
    posts = articles.filter(pl.col("source_file") == SEED_000).sort("article_index")
    assert posts["title"].to_list() == SEED_000_HEADLINES
    assert set(posts["publisher"]) == {"Rise to Peace"}
    assert posts["published_date"].is_null().all()
    openings = [
        "As NATO's 20-year campaign in Afghanistan comes to an end",
        "On January 6th, 2021, white supremacists and militias breached the Capitol",
        "In recent weeks, the Taliban have made unprecedented gains",
        "Afghan youth Hekmatullah Sharifi, a 19-year-old boy from Balucha Village",
        "In the aftermath of traumatic events, services which pledge support",
        None,  # 000/5 opens with the caption-like line "ISIL on Gettr" (a judgement call)
        "On July 7th, a Taliban delegation visited Moscow",
    ]
    for row, opening in zip(posts.iter_rows(named=True), openings):
        if opening:
            assert article_text(row).startswith(opening)
    bodies = [article_text(r) for r in posts.iter_rows(named=True)]
    # subheadings stay inside their post, they do not start a new article
    assert "\n\nQatar challenges and potentiality in the peace process\n\n" in bodies[0]
    assert "\n\nDomestic Radicalization\n\n" in bodies[1]
    assert "\n\nTaliban Recruitment of Children\n\n" in bodies[3]
    assert not any("Picture 1" in b for b in bodies)
    assert not any(b.endswith("Rise to Peace") for b in bodies)


@pytest.mark.parametrize("seed,index,title,authors,publisher,published", [
    (SEED_000, 3, "Afghan Youth Killed by Iranian Police Whilst Fleeing the Taliban",
     "Chantelle Davis; Homa Aryan M", "Rise to Peace", None),
    (SEED_000, 5, "Can ISIL succeed in their political objective in 2021?", "Chantelle Davis", "Rise to Peace", None),
    (SEED_001, 0, "An International Security Dilemma: Russia, Jihadism, and Afghanistan", None,
     "European Eye on Radicalization", date(2022, 9, 15)),
    (SEED_002, 0, "Russia and the Taliban: A Strategic Alignment?", "Omar El Sayed", None, None),
    (SEED_003, 0, "Russia-Afghanistan relations in the aftermath of the Moscow attack", "Vanda Felbab-Brown",
     "brookings", date(2024, 3, 28)),
    (SEED_004, 0, "Russia is looking to engage with the Taliban. Here's why.", "Samuel Ramani",
     "The Washington Post", date(2018, 1, 15)),
])
def test_article_metadata(articles, seed, index, title, authors, publisher, published):
    a = article(articles, seed, index)
    assert a["title"] == title
    assert a["authors"] == authors
    assert (a["publisher"] or "").lower() == (publisher or "").lower()
    assert a["published_date"] == published


def test_headline_is_the_first_paragraph_of_the_body(articles):
    for a in articles.iter_rows(named=True):
        if a["title"] is None:
            assert a["body_char_start"] == 0
            continue
        assert a["body_text"].startswith(a["title"] + "\n\n")
        assert a["body_char_start"] == len(a["title"]) + 2
        assert a["body_text"][a["body_char_start"]:] == a["body_text"][len(a["title"]) + 2:]


def test_no_publication_date_from_the_related_posts_list(articles):
    a = article(articles, SEED_001)
    assert a["published_date"] == date(2022, 9, 15)
    assert "2023" not in a["body_text"]
    assert a["body_text"].rstrip().endswith("to recover political and economic ground.")


def test_ids_word_counts_hashes_and_language(articles, raw_seeds):
    file_ids = dict(zip(raw_seeds["source_file"], raw_seeds["file_id"]))
    for a in articles.iter_rows(named=True):
        expected_id = hashlib.sha256(f"{file_ids[a['source_file']]}:{a['article_index']}".encode()).hexdigest()[:32]
        assert a["document_id"] == expected_id
        assert a["content_sha256"] == hashlib.sha256(a["body_text"].encode("utf-8")).hexdigest()
        assert a["word_count"] == len(a["body_text"].split())
        assert a["body_text"] == a["body_text"].strip()
        assert "’" not in a["body_text"] and "\r" not in a["body_text"]
        assert a["language"] == "en"
        assert (a["content_type"], a["extraction_method"]) == ("text", "text_scrape")
    assert articles["document_id"].is_unique().all()


def test_assembly_is_deterministic(raw_seeds, publisher_domains, articles):
    again = assemble_articles(raw_seeds.reverse(), publisher_domains)
    key = ["source_file", "article_index"]
    assert again.sort(key).equals(articles.sort(key))


def test_crlf_file_gives_the_same_article():
    text = (SEEDS_DIR / SEED_004).read_text(encoding="utf-8")
    lf, crlf = (assemble_articles(one_file(t)).drop("document_id") for t in (text, text.replace("\n", "\r\n")))
    assert lf.equals(crlf)


# ---------------------------------------------------------------------------
# Nothing is lost without a trace
# ---------------------------------------------------------------------------


def test_every_non_blank_line_is_body_title_or_counted_as_removed(raw_seeds, articles):
    """Per file: body lines + the headline + the removed lines counted by reason = the non-blank
    lines of the file."""
    for name, text in zip(raw_seeds["source_file"], raw_seeds["raw_text"]):
        nonblank = sum(1 for line in clean(text).split("\n") if line.strip())
        rows = articles.filter(pl.col("source_file") == name)
        body_lines = sum(len([p for p in article_text(r).split("\n\n") if p.strip()]) for r in rows.iter_rows(named=True))
        removed = sum(x["lines"] for r in rows["removed_lines"] for x in r)
        titles = sum(1 for r in rows.iter_rows(named=True) if r["title"])
        removed_titles = sum(x["lines"] for r in rows["removed_lines"] for x in r if x["reason"] == "title")
        assert removed_titles == titles, name
        assert body_lines + removed == nonblank, (name, body_lines, removed, nonblank)


def test_boilerplate_only_and_blank_files_are_rejected_with_a_reason():
    raw = files({"a.txt": "613\nVIEWS\nShare on FacebookShare on Twitter\n", "b.txt": "Home\nMenu\nSearch\n"})
    result = normalize_documents(raw)
    assert result.articles.height == 0
    assert sorted(result.rejected["source_file"]) == ["a.txt", "b.txt"]
    assert set(result.rejected["reason"]) == {"boilerplate_only"}


@pytest.mark.parametrize("text", [
    "A bombing occurred in Trang.",
    "Gunmen kill Pakistani TV journalist",
    "Two soldiers were killed and three others injured when a roadside bomb hit their vehicle near Khar, "
    "officials said. The attack, which also damaged a school, was claimed by the Pakistani Taliban.",
])
def test_a_short_report_is_an_article(text):
    out = assemble_articles(one_file(text + "\n"))
    assert out.height == 1
    assert text in out["body_text"][0]


@pytest.mark.parametrize("sentence", [
    "Militants opened fire on the convoy, killing/injuring at least 14 soldiers near the border crossing.",
    "According to an NBC/Wall Street Journal poll, most voters supported the withdrawal from the region.",
    "Residents said the group would attack the market and/or the mosque if the talks failed again.",
    "Three people were killed when the bomb, which was hidden in roadblocks near the market, went off.",
])
def test_a_word_slash_word_sentence_is_never_a_caption(sentence):
    """The old caption rule matched any word/word case-insensitively and removed the line or the
    whole document (108 of 1,500 short incident reports vanished)."""
    out = assemble_articles(one_file(sentence + "\n"))
    assert out.height == 1 and sentence in out["body_text"][0]
    long_page = page(MENU, "Headline of a story about the border", STORY[:2], sentence, STORY[2:])
    assert sentence in assemble_articles(one_file(long_page))["body_text"][0]


def test_a_collection_of_short_reports_that_repeat_each_other_loses_none():
    """Reports that differ only in their figures share a line key across files; in files this
    small that is no sign of boilerplate."""
    texts = {f"r{i}.txt": f"A roadside bomb killed {i + 2} soldiers in North Waziristan on Monday.\n" for i in range(5)}
    out = assemble_articles(files(texts))
    assert sorted(out["source_file"]) == sorted(texts)


def test_related_box_in_the_header_menu_does_not_end_the_article():
    text = page(MENU, "You may also like", "Related articles", "More from World", MENU[:3],
                "Suicide bomber kills 12 at Peshawar checkpoint", "By Amina Khan | 3rd October 2024 | 4 min read",
                STORY)
    out = assemble_articles(one_file(text))
    assert out.height == 1
    body = article_text(out.row(0, named=True))
    assert all(p in body for p in STORY)


def test_related_box_mid_article_ends_that_box_not_the_document():
    related = ["Related articles", "Five things to know about the Pakistani Taliban",
               "Inside the fight for the tribal districts", "Why Peshawar keeps being targeted"]
    text = page(MENU, "Suicide bomber kills 12 at Peshawar checkpoint", STORY[:3], related, STORY[3:], MENU)
    out = assemble_articles(one_file(text))
    assert out.height == 1
    body = article_text(out.row(0, named=True))
    assert all(p in body for p in STORY), "text after the related box was lost"
    assert "Inside the fight for the tribal districts" not in body


def test_text_after_a_trailer_line_is_kept_and_a_long_file_keeps_its_words():
    """A two-page file lost page 2 after the first 'Related Posts' line; a 47 MB file kept 6,000
    words. Here: 200 distinct paragraphs with a trailer-looking line every 20."""
    paragraphs = []
    for i in range(200):
        paragraphs.append(f"In district {i}, officials reported that {i + 3} families had returned home after the "
                          f"fighting, and that schools in the area would reopen within {i % 7 + 2} weeks.")
        if i % 20 == 19:
            paragraphs.append("Related Posts")
    out = assemble_articles(one_file(page("Returns to the districts after the fighting", paragraphs)))
    kept = " ".join(out["body_text"])
    assert all(f"In district {i}," in kept for i in range(200))


def test_syndicated_copies_of_an_article_keep_their_bodies():
    """Three sites publish the same wire story: its long paragraphs recur across the files, the
    site chrome around them differs; nobody loses the article."""
    texts = {f"site{i}.txt": page([f"Site {i} Home", f"Site {i} World"], "Suicide bomber kills 12 at Peshawar checkpoint",
                                  STORY, [f"© 2024 Site {i}"]) for i in range(3)}
    out = assemble_articles(files(texts))
    assert out.height == 3
    for row in out.iter_rows(named=True):
        assert STORY[0] in row["body_text"]


# ---------------------------------------------------------------------------
# Header metadata on unseen forms
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("byline,authors,published", [
    ("By Mikhail Orlov | 3rd October 2024 | 4 min read", "Mikhail Orlov", date(2024, 10, 3)),
    ("Posted by Sara Haddad on Tuesday, 14 March 2023", "Sara Haddad", date(2023, 3, 14)),
    ("By Maya Gebeily and Anthony Deutsch\n\nMarch 7, 2024 7:55 AM UTC Updated 2 hours ago",
     "Maya Gebeily; Anthony Deutsch", date(2024, 3, 7)),
    ("Jane Doe Security Correspondent\n\nSat 24 Feb 2024 12.42 CET", "Jane Doe", date(2024, 2, 24)),
    ("Noora Mykkanen\n\nPublished November 18, 2024 9:26pm Updated November 19, 2024 4:23pm",
     "Noora Mykkanen", date(2024, 11, 18)),
    ("11:48, Thu, Jul 18, 2024 | UPDATED: 11:50, Thu, Jul 19, 2024", None, date(2024, 7, 18)),
    ("2025-03-29T11:36:01Z", None, date(2025, 3, 29)),
])
def test_byline_and_date_forms(byline, authors, published):
    text = page(MENU, "Suicide bomber kills 12 at Peshawar checkpoint", byline, STORY)
    row = assemble_articles(one_file(text)).row(0, named=True)
    assert row["title"] == "Suicide bomber kills 12 at Peshawar checkpoint"
    assert row["authors"] == authors
    assert row["published_date"] == published
    assert byline.split("\n")[0] not in row["body_text"]


def test_headline_before_its_deck_and_kicker():
    text = page(MENU, "PESHAWAR ATTACK", "Suicide bomber kills 12 at Peshawar checkpoint",
                "Police say the attacker targeted officers inspecting vehicles on the main road to the districts",
                "By Amina Khan", STORY)
    assert assemble_articles(one_file(text))["title"].to_list() == ["Suicide bomber kills 12 at Peshawar checkpoint"]


def test_headline_facts_reach_extraction():
    from dagster_project.extract.statistics import extract_statistics

    docs = assemble_articles(one_file(page(MENU, "Suicide bomber kills 20 in Peshawar", STORY)))
    stats = extract_statistics(docs)
    killed = stats.filter((pl.col("casualty_type") == "killed") & (pl.col("value") == 20))
    assert killed.height == 1
    assert killed["char_start"][0] < docs["body_char_start"][0]


@pytest.mark.parametrize("line,expected", [
    ("15 September 2022", date(2022, 9, 15)),
    ("March 28, 2024", date(2024, 3, 28)),
    ("- January 15, 2018", date(2018, 1, 15)),
    ("Published: 2024-03-28", date(2024, 3, 28)),
    ("Updated Monday, 5 September 2022", date(2022, 9, 5)),
    ("Posted on September 5, 2022", date(2022, 9, 5)),
    ("Sept. 5th, 2022", date(2022, 9, 5)),
    ("Sat 24 Feb 2024 12.42 CET", date(2024, 2, 24)),
    ("31 September 2022", None),
    ("2022-02-30", None),
    ("in EER Editorials, Opinion Pieces", None),
    ("613", None),
])
def test_parse_standalone_date(line, expected):
    assert meta.parse_standalone_date(line) == expected


# ---------------------------------------------------------------------------
# A listing of posts, HTML, language
# ---------------------------------------------------------------------------


LONGER = STORY + [
    "Witnesses described a loud explosion followed by gunfire, and said that traffic on the road was "
    "stopped for several hours while bomb disposal teams searched the area for a second device.",
    "The attack was the third on security forces in the province this month, and officials said that "
    "checkpoints on the main roads would be reinforced before the coming holiday.",
]


def test_a_listing_page_gives_its_posts_and_a_single_story_gives_one():
    """A listing: at least two more posts of 150+ words, each opened by a headline with a byline or
    date under it. One more dated story below an article is read as a teaser (LISTING_MIN_POSTS)."""
    quetta = [p.replace("Peshawar", "Quetta").replace("police checkpoint", "market") for p in LONGER]
    kabul = [p.replace("Peshawar", "Kabul").replace("police checkpoint", "bus station") for p in LONGER]
    posts_text = [("Suicide bomber kills 12 at Peshawar checkpoint", "By Amina Khan | 3 October 2024", LONGER),
                  ("Market blast in Quetta leaves many dead", "By Omar Baig | 2 October 2024", quetta),
                  ("Bus station attack in Kabul kills commuters", "By Leila Noori | 1 October 2024", kabul)]
    listing = page(MENU, *[x for title, by, body in posts_text for x in (title, by, body)])
    posts = assemble_articles(one_file(listing))
    assert posts["title"].to_list() == [t for t, _, _ in posts_text]
    assert posts["authors"].to_list() == ["Amina Khan", "Omar Baig", "Leila Noori"]
    assert posts["published_date"].to_list() == [date(2024, 10, 3), date(2024, 10, 2), date(2024, 10, 1)]
    two = page(MENU, *[x for title, by, body in posts_text[:2] for x in (title, by, body)])
    assert assemble_articles(one_file(two)).height == 1
    single = page(MENU, "Suicide bomber kills 12 at Peshawar checkpoint", "By Amina Khan", STORY[:3],
                  "What happens next", STORY[3:])
    assert assemble_articles(one_file(single)).height == 1


HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><title>Suicide bomber kills 13 in Kabul | Example News</title>
<meta property="og:title" content="Suicide bomber kills 13 in Kabul">
<meta name="author" content="Amina Khan">
<meta property="article:published_time" content="2024-10-03T08:00:00Z">
<script>var killed = "13 killed"; window.track("13 killed");</script>
<style>.x { color: red }</style></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Suicide bomber kills 13 in Kabul</h1>
<p>A suicide bomber struck near the airport in Kabul on Thursday, and 13 killed were counted by the
ministry, officials said, in an attack on a crowd waiting at the gate.</p>
<p>The attacker detonated explosives as people queued at the main gate, according to a spokesman for the
interior ministry, who said that dozens of others were wounded.</p>
<p>No group immediately claimed responsibility for the attack, which came a week after a similar bombing
in the same district of the capital.</p></article>
<footer>© 2024 Example News. All rights reserved.</footer></body></html>
"""


def test_an_html_page_is_extracted_not_stored_raw():
    from dagster_project.extract.statistics import extract_statistics

    result = normalize_documents(one_file(HTML_PAGE, "page.html", "html"))
    row = result.articles.row(0, named=True)
    assert row["title"] == "Suicide bomber kills 13 in Kabul"
    assert row["published_date"] == date(2024, 10, 3)
    assert (row["content_type"], row["extraction_method"]) == ("html", "trafilatura")
    for markup in ("<", ">", "DOCTYPE", "window.track", "color: red", "var killed"):
        assert markup not in row["body_text"]
    # once in the headline paragraph, once in the text: never from the script or the meta tags
    killed = extract_statistics(result.articles).filter(pl.col("value") == 13)
    assert killed.height == 2, killed
    assert (killed["char_start"] < row["body_char_start"]).sum() == 1


def test_an_html_page_without_article_text_is_rejected():
    result = normalize_documents(one_file("<html><body><nav><a href='/'>Home</a></nav></body></html>", "e.html", "html"))
    assert result.articles.height == 0
    assert result.rejected["reason"].to_list() == ["no_article_html"]


def test_language_is_detected_and_french_is_not_english():
    french = ("Un kamikaze a frappé mardi un poste de police à la périphérie de Peshawar, tuant au moins douze "
              "personnes et en blessant trente autres, selon les autorités de la province.\n\n"
              "Aucun groupe n'a immédiatement revendiqué l'attentat, mais les talibans pakistanais ont mené des "
              "attaques semblables contre les forces de sécurité dans la région au cours de l'année écoulée.\n")
    out = assemble_articles(files({"fr.txt": french, "en.txt": page(STORY)}))
    assert dict(zip(out["source_file"], out["language"])) == {"fr.txt": "fr", "en.txt": "en"}


def test_removed_lines_are_counted_by_reason_on_a_page():
    text = page(MENU, "Suicide bomber kills 12 at Peshawar checkpoint", "By Amina Khan | 3 October 2024",
                "Police inspect the site of the blast in Peshawar (Photo: Reuters/Fayaz Aziz)", STORY,
                "© 2024 Example News. All rights reserved.")
    row = assemble_articles(one_file(text)).row(0, named=True)
    removed = Counter({x["reason"]: x["lines"] for x in row["removed_lines"]})
    assert removed["title"] == 1 and removed["caption"] == 1 and removed["legal"] == 1
    assert removed["byline"] + removed["metadata"] + removed["date"] >= 1
    # every non-blank line of the page: the menu, headline, byline, caption, story and footer
    assert sum(removed.values()) + len(STORY) == len(MENU) + 4 + len(STORY)


def test_split_lines_cleans_every_line_as_clean_line_would(raw_seeds):
    """split_lines runs the full normalization only on lines that need it (after folding quotes,
    those with characters outside printable ASCII and dashes); the result must be the same as
    running it on every line."""
    from dagster_project.documents.scrape import clean_line, clean_whole_text, split_lines

    tricky = "Plain line  with  spaces \nTabs\there\n“Quotes” and ‘single’ – dash — em\nPrimes ″ ′ and …\n ﬁ ² \u00a0nbsp"
    raw = pl.concat([raw_seeds.select("file_id", "raw_text"),
                     pl.DataFrame({"file_id": ["tricky"], "raw_text": [tricky]})])
    fast = split_lines(raw).collect()
    full = (raw.lazy().select("file_id", clean_whole_text(pl.col("raw_text")).str.split("\n").alias("raw_line"))
            .explode("raw_line", empty_as_null=True).with_columns(pl.col("raw_line").fill_null(""))
            .with_columns(line=clean_line(pl.col("raw_line")), line_no=pl.int_range(pl.len()).over("file_id"))
            .sort("file_id", "line_no").collect())
    assert fast["line"].to_list() == full["line"].to_list()
