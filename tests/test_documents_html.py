"""dagster_project.documents.html: web pages -> article body and metadata (inline pages only)."""

from __future__ import annotations

import datetime as dt
import json
import re

import polars as pl
import pytest

from dagster_project.documents.html import (
    HTML_FRAME_SCHEMA,
    choose_title,
    extract_html,
    extract_html_frame,
    looks_like_html,
    normalize_authors,
    strip_site_suffix,
)

SENTENCE = ("The ceasefire talks resumed on Tuesday after two weeks of shelling along the northern "
            "front, officials said, and both delegations agreed to meet again within ten days. ")
PARAS = [
    ("Negotiators from both sides met in the border town for the first time since March. " + SENTENCE * 2).strip(),
    ("Aid agencies said convoys carrying food and medicine were waiting at three crossings. " + SENTENCE * 2).strip(),
    ("A spokesman for the regional governor said the shelling had damaged the water station. " + SENTENCE * 2).strip(),
]


def news_page(head: str = "", article_top: str = "", lang: str = 'lang="en-GB"') -> str:
    body = "".join(f"<p>{p}</p>\n" for p in PARAS)
    return f"""<!DOCTYPE html>
<html {lang}><head><meta charset="utf-8">
{head}
<style>body {{ font-family: serif; }} .hidden-style-rule {{ display: none; }}</style>
<script>var trackingPixel = function() {{ return document.cookie; }}; window.dataLayer = [];</script>
</head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/weather">Weather</a></li></ul></nav></header>
<main><article>
<h1>Talks resume in the north as ceasefire holds</h1>
{article_top}
{body}
<script>document.write("injectedScriptMarker");</script>
<noscript>Please enable JavaScript to view the comments.</noscript>
</article></main>
<aside><h2>Most read</h2><ul><li><a href="/a">Celebrity wedding pictures</a></li><li><a href="/b">Ten best beaches</a></li></ul></aside>
<footer><p>Copyright 2023 Example Times Ltd. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body></html>"""


def test_body_has_paragraphs_and_no_markup_or_script():
    article = extract_html(news_page(head="<title>Talks resume in the north as ceasefire holds</title>"))
    assert article is not None
    body = article.body_text
    assert body.split("\n\n") == PARAS  # exactly the three paragraphs, headline not repeated
    for leaked in ("<", ">", "trackingPixel", "document.", "injectedScriptMarker", "font-family",
                   "hidden-style-rule", "Copyright", "Privacy", "Most read", "Celebrity", "Weather",
                   "enable JavaScript"):
        assert leaked not in body, leaked
    assert "\n\n\n" not in body
    assert all(line == line.strip() for line in body.split("\n"))


def test_metadata_from_meta_tags_and_json_ld():
    ld = {
        "@context": "https://schema.org", "@type": "NewsArticle",
        "headline": "Talks resume in the north as ceasefire holds",
        "datePublished": "2023-05-04T10:00:00Z",
        "author": [{"@type": "Person", "name": "Jane Doe"}, {"@type": "Person", "name": "Omar Haddad"}],
        "publisher": {"@type": "NewsMediaOrganization", "name": "Example Times"},
    }
    head = f"""<title>Talks resume in the north as ceasefire holds | World | Example Times</title>
<meta property="og:title" content="Guns fall silent: what next?">
<meta property="og:site_name" content="Example Times">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2023-05-04T10:00:00Z">
<script type="application/ld+json">{json.dumps(ld)}</script>"""
    article = extract_html(news_page(head=head), url="https://www.example-times.com/world/talks")
    assert article is not None
    # JSON-LD headline and <title> (suffixes stripped) agree and outvote og:title
    assert article.title == "Talks resume in the north as ceasefire holds"
    assert article.authors == ["Jane Doe", "Omar Haddad"]
    assert article.publisher == "Example Times"
    assert article.published_date == dt.date(2023, 5, 4)
    assert article.date_source == "trafilatura"
    assert article.language == "en"


def test_og_title_wins_a_tie_and_site_suffix_is_stripped():
    head = """<title>Ceasefire holds in the north - Example Times</title>
<meta property="og:title" content="Talks resume in the north as ceasefire holds | Example Times">
<meta property="og:site_name" content="Example Times">"""
    article = extract_html(news_page(head=head))
    assert article is not None and article.title == "Talks resume in the north as ceasefire holds"


def test_visible_byline_and_time_element_without_meta_tags():
    top = ('<p class="byline">By <a rel="author" href="/staff/john-smith">John Smith</a></p>'
           '<time datetime="2022-11-09T08:30:00Z">9 November 2022</time>')
    article = extract_html(news_page(article_top=top, lang=""))
    assert article is not None
    assert article.authors == ["John Smith"]
    assert article.title == "Talks resume in the north as ceasefire holds"  # the h1
    assert article.published_date == dt.date(2022, 11, 9)
    assert article.date_source == "trafilatura"
    assert article.language is None  # nothing declared: no guessing
    assert "John Smith" not in article.body_text


def test_htmldate_fallback_when_the_markup_has_no_date():
    top = "<p>Published on 4 May 2023</p>"
    article = extract_html(news_page(article_top=top))
    assert article is not None
    assert article.published_date == dt.date(2023, 5, 4)
    assert article.date_source == "htmldate"

    undated = extract_html(news_page())
    assert undated is not None
    assert undated.published_date is None and undated.date_source is None


def test_no_article_text_gives_none():
    nav_only = """<html><head><title>Example Times</title></head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/sport">Sport</a></li></ul></nav></header>
<main></main><footer><ul><li><a href="/privacy">Privacy policy</a></li><li><a href="/terms">Terms of use</a></li></ul></footer>
<script>var x = 1;</script></body></html>"""
    assert extract_html(nav_only) is None
    assert extract_html("") is None
    assert extract_html("   \n ") is None


def test_fragment_from_a_txt_file():
    fragment = "\n".join(f"<p>{p}</p>" for p in PARAS)
    assert looks_like_html(fragment)
    article = extract_html(fragment)
    assert article is not None and article.body_text == "\n\n".join(PARAS)


def test_code_and_escaped_markup_in_text_nodes_never_reach_the_body():
    top = ("<p>var handler = function(e) { window.location = '/x'; return false; }; document.getElementById('a');</p>"
           "<p>Readers saw raw &lt;div class=\"promo\"&gt;markup&lt;/div&gt; in the feed, "
           "and the play &lt;Hamlet&gt; opened on Friday in the capital to full houses.</p>")
    article = extract_html(news_page(article_top=top))
    assert article is not None
    body = article.body_text
    assert "function(" not in body and "window.location" not in body
    assert "<div" not in body and "</div>" not in body
    assert "markup" in body  # the text around the tags stays
    assert "<Hamlet>" in body  # angle brackets that are not HTML tags are text


def test_last_first_citation_authors_become_first_last():
    head = """<meta name="citation_author" content="Kowalski, Marta">
<meta name="citation_author" content="Van der Berg, Anna">
<meta name="dc.creator" content="Kowalski, Marta">
<meta name="author" content="Kowalski; Marta">"""
    article = extract_html(news_page(head=head))
    assert article is not None
    assert article.authors == ["Marta Kowalski", "Anna Van der Berg"]


def test_author_normalization_rules():
    assert normalize_authors(["Lena Hart", "Lena-Hart", "LENA HART"]) == ["Lena Hart"]
    # the site name is the publisher repeated when a person is named ...
    assert normalize_authors(["Example Times", "Jane Doe"], ["Example Times"]) == ["Jane Doe"]
    # ... but kept when it is the only author the page states
    assert normalize_authors(["Example Times"], ["Example Times"]) == ["Example Times"]

    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Talks resume",
          "author": [{"@type": "Person", "name": "By PAUL MERCER, Staff Writer"},
                     {"@type": "Person", "name": "Jane Doe and Omar Haddad"}]}
    head = (f'<script type="application/ld+json">{json.dumps(ld)}</script>'
            '<meta property="article:author" content="jdoe_handle">')
    article = extract_html(news_page(head=head))
    assert article is not None
    assert article.authors == ["Paul Mercer", "Jane Doe", "Omar Haddad"]

    swapped = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Talks resume",
               "author": [{"@type": "Person", "name": "Doe, Jane"}, {"@type": "Person", "name": "Haddad, Omar"}]}
    article = extract_html(news_page(head=f'<script type="application/ld+json">{json.dumps(swapped)}</script>'))
    assert article is not None and article.authors == ["Jane Doe", "Omar Haddad"]

    org = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Talks resume",
           "author": {"@type": "NewsMediaOrganization", "name": "Example News"}}
    article = extract_html(news_page(head=f'<script type="application/ld+json">{json.dumps(org)}</script>'))
    assert article is not None and article.authors == ["Example News"]


def test_title_helpers():
    assert strip_site_suffix("Headline here | World News | Example Times", ["Example Times"]) == "Headline here | World News"
    assert strip_site_suffix("Headline - with a dash - Example Times", ["Example Times"]) == "Headline - with a dash"
    assert strip_site_suffix("Headline * Example Times * by Jane Doe", ["Example Times"]) == "Headline"
    assert strip_site_suffix("Plain headline", ["Example Times"]) == "Plain headline"
    assert choose_title({"og": "A", "jsonld": "B", "title_tag": "B | Section"}) == "B"
    assert choose_title({"og": "A", "jsonld": "B", "title_tag": "C"}) == "A"
    assert choose_title({"h1": "Visible headline", "title_tag": "SEO title"}) == "Visible headline"
    assert choose_title({}, "fallback") == "fallback"


@pytest.mark.parametrize("text", [
    "<!DOCTYPE html><html><body><p>x</p></body></html>",
    "\ufeff  <!-- saved page -->\n<html lang='en'><head><title>x</title></head></html>",
    "<?xml version='1.0'?>\n<html xmlns='http://www.w3.org/1999/xhtml'><body>x</body></html>",
    "\n\n<HEAD><TITLE>Old page</TITLE></HEAD><BODY>text</BODY>",
    "<div class='story'><p>First paragraph of the story.</p><p>Second paragraph.</p><p>Third.</p></div>",
])
def test_looks_like_html_true(text):
    assert looks_like_html(text)


@pytest.mark.parametrize("text", [
    "",
    "Officials said the ceasefire held overnight.\n\nAid convoys crossed at dawn.",
    "Use the <b> tag for bold text, the editor wrote in the style guide.",
    "If a < b and b > c then the comparison chain a < b > c is ambiguous.",
    "Casualties <100 were reported; turnout was >60% in the <html> era of the web. " * 40,
])
def test_looks_like_html_false(text):
    assert not looks_like_html(text)


def test_extract_html_frame_schema_and_types():
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Talks resume in the north",
          "datePublished": "2023-05-04", "author": {"@type": "Person", "name": "Jane Doe"}}
    pages = pl.DataFrame({
        "file_id": ["a", "b", "c"],
        "raw_text": [
            news_page(head=f'<script type="application/ld+json">{json.dumps(ld)}</script>'),
            "<html><body><nav><a href='/'>Home</a></nav></body></html>",
            news_page(),
        ],
    })
    out = extract_html_frame(pages)
    assert out.schema == pl.Schema(HTML_FRAME_SCHEMA)
    assert list(out.columns) == ["file_id", "title", "authors", "publisher", "published_date",
                                 "date_source", "language", "body_text"]
    assert out["file_id"].to_list() == ["a", "c"]
    assert out["authors"].to_list() == [["Jane Doe"], []]
    assert out["published_date"].to_list() == [dt.date(2023, 5, 4), None]
    assert out["date_source"].to_list() == ["trafilatura", None]
    assert out["title"].to_list() == ["Talks resume in the north", "Talks resume in the north as ceasefire holds"]
    assert all(re.fullmatch(r"[^<>]+", body) for body in out["body_text"].to_list())

    empty = extract_html_frame(pl.DataFrame({"file_id": [], "raw_text": []}, schema={"file_id": pl.String, "raw_text": pl.String}))
    assert empty.height == 0 and empty.schema == pl.Schema(HTML_FRAME_SCHEMA)
