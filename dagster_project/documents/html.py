"""Web pages (HTML) -> one article each: body, title, authors, site name, date, language.

Pure functions, no Dagster. The page is parsed once (trafilatura's `load_html`); the
structured signals the rules below need (meta tags, the schema.org JSON-LD article, the
document <title>, the h1 headings, <html lang>) are read from that tree, and the same tree
is handed to trafilatura (which works on its own copy) for the article body and its
metadata. htmldate dates the pages trafilatura cannot.

Body
----
trafilatura's main-content extraction decides what the article is; menus, share bars,
related lists, footers, <script>, <style> and <noscript> never reach it. Settings:
- favor_precision: for a warehouse whose extractors count casualties and money, a related-
  article teaser leaking into the body (with its own figures) is worse than a missed
  paragraph. On the web-page benchmark it measures body P/R 0.959/0.976 against the
  balanced mode's 0.948/0.978 (F1 0.968 vs 0.963), at roughly 20% more time;
- comments on: trafilatura then moves a comment section out of the main text (it is
  discarded here); with comments off it stays in the body;
- tables on (they are article content, e.g. casualty tables).
The body is serialized from trafilatura's XML tree, not from its text output, so that
paragraphs are exact: every block (paragraph, heading, list item, quote, table row, code
block) becomes one paragraph, paragraphs are separated by exactly one blank line, a <br>
inside a paragraph stays a single line break, runs of spaces collapse, zero-width
characters go and no line has leading or trailing space. Table cells are joined with " | ".
The first paragraph is dropped when it equals (after case/punctuation folding) the title or
one of the page's title declarations: the headline belongs to `title`, not to the body.
Two guards make "no markup, no JavaScript" hold even for broken pages whose text nodes carry
escaped or unparsed code: sequences shaped like HTML tags (a known HTML element name:
`<div ...>`, `</p>`; and `<!-- -->`) are removed from the text, while angle brackets around
other words ("<Hamlet>", a work title in East Asian typography) are text and stay; a paragraph
that reads as code (JavaScript or CSS constructs such as `function(`, `=>`, `var x =`,
`document.`, `.cls {a: b;}` together with code punctuation `{}();=<>[]` making up at least
5% of it) is dropped. A page whose body has fewer than 5 words and 25 characters (a menu
label, a stub) yields no article.

Title: majority of the page's own declarations
----------------------------------------------
A page declares its headline up to three times in its metadata: og:title (the social
sharing title; twitter:title when og:title is absent), the JSON-LD article `headline`, and
the document <title>. Editors rewrite them independently (the sharing title is often a
shorter or punchier variant), so no single one is reliably "the" title. The rule:
1. strip a trailing site-name suffix from each: the title is split on spaced separators
   (" | ", " - ", " – ", " — ", " * ", " · ", " • ", " :: ", " » ", " / ", " ~ "); the first
   segment after the first one that names the site, and everything after it, are dropped.
   A segment names the site when it equals a site name (og:site_name, application-name,
   the JSON-LD publisher, trafilatura's site name, the domain's registrable label, each
   with or without a leading "The"), or has at most three words and contains one of them
   ("Example Online" on example.co.uk; "Headline | World News | Example News" becomes
   "Headline | World News", which rule 2 then matches to "Headline");
2. two declarations agree when they are equal after Unicode NFKC, case folding and ignoring
   punctuation, or when one is the other followed by more separator-delimited segments
   (the <title> "Headline | Section" agrees with the headline "Headline");
3. when og:title or the JSON-LD headline exists, the declaration agreeing with the most
   others wins; on a tie og:title wins (the title the publisher chose to show when the page
   is shared, and the one most pages set). Among the declarations agreeing with the winner
   the shortest (the one without section suffixes) is returned;
4. otherwise the visible h1 (the first h1 inside <article>/<main>, else the first h1 of at
   least two words), then the <title>, then trafilatura's title. The h1 comes before the
   <title> because the <title> alone is the weakest signal measured (search-engine titles
   are rewritten most often).
Measured on the 24 title-labelled benchmark pages (`dagster_project/evaluation/
html_pages.py`, `TITLE_RULES`): this vote 0.833; og:title alone 0.792; JSON-LD headline
alone 0.792; the vote with JSON-LD winning ties 0.792; h1 alone 0.708; <title> alone 0.542;
any vote that includes the h1 0.750; "h1 when it agrees with og:title/<title>" 0.750;
trafilatura 0.750. The labels follow per-site parser choices (og:title on some sites, the
JSON-LD headline on others, and on this set the two camps are split 4 to 5 among the pages
where the metadata disagree), so no rule that only looks at the page can separate them.

Authors
-------
Sources, first one yielding a name wins:
1. the JSON-LD article's `author` (Person objects, `@id` references resolved within the
   page's JSON-LD, plain strings): the page's structured, per-person statement, free of the
   "Last, First", handle and URL problems of meta tags;
2. `citation_author` / `dc.creator` meta tags (one per author): bibliographic convention is
   "Last, First", so a value with exactly one comma is turned into "First Last";
3. trafilatura's author string (meta author tags, bylines), split on ";".
If no person name results, an organization the JSON-LD declares as the author (e.g. a news
organization with a no-byline policy) is used, because it is what the page states.
Every name is cleaned: tags and entities removed, a leading "By" dropped, "A and B" /
"A & B" split, "A B, C D" (a comma list of multi-word names) split, "Last, First" (one word
on each side of a single comma, the only way a comma gets into a one-person name) turned
into "First Last", a job title after a comma ("Jane Roe, Staff Writer") dropped, a
weekday or month name glued to the end by a dateline ("Jane Roe Monday") removed, an
all-capitals name title-cased. A value is dropped when it is a URL, an e-mail address,
an @handle or a user_name, contains digits, or (from meta tags and trafilatura) is a single
word: person names as "First Last" have at least two words, single words there are user
handles or first names only (trafilatura applies the same rule to meta author tags).
Names that differ only by case, hyphens, dots or spaces ("Jane Roe" / "Jane-Roe")
are one person; the first spelling with a space is kept, page order is preserved. A name
equal to the site name, and a bare job title ("Staff writer"), are dropped when a person is
also named (the publisher repeated, a role, not a person); alone they are kept.

Publisher, date, language
-------------------------
- publisher: trafilatura's site name (og:site_name, JSON-LD publisher, ...), else
  og:site_name / application-name; None when the page names none. A site name given as a
  URL is reduced to its host ("https://www.x.com" -> "x.com").
- published_date: trafilatura's date, computed with htmldate restricted to the page's
  date markup (meta tags, JSON-LD, <time>, the URL; original publication date preferred
  over modification dates) -> date_source 'trafilatura'. When that finds nothing,
  htmldate's extensive search (dates written in the page text, e.g. "Published 4 May
  2023") -> date_source 'htmldate'. The split keeps the weaker text-pattern evidence
  labelled. htmldate's last resort turns a copyright notice ("© 2023") into January 1 of
  that year: such a result is rejected (a site's copyright year is not a publication
  date). Dates after today are rejected (htmldate max_date).
- language: the page's declaration only (<html lang>, Content-Language, og:locale, the
  JSON-LD inLanguage), reduced to the lowercase primary subtag ("en-GB" -> "en"); None
  when the page declares none (no guessing here).
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import json
import re
import unicodedata
from copy import copy
from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

__all__ = [
    "HTML_FRAME_SCHEMA",
    "HtmlArticle",
    "PageSignals",
    "choose_title",
    "extract_html",
    "extract_html_frame",
    "looks_like_html",
    "normalize_authors",
    "page_title_candidates",
    "read_signals",
    "strip_site_suffix",
    "title_candidates",
    "titles_agree",
    "vote_title",
]

HTML_FRAME_SCHEMA = {
    "file_id": pl.String,
    "title": pl.String,
    "authors": pl.List(pl.String),
    "publisher": pl.String,
    "published_date": pl.Date,
    "date_source": pl.String,
    "language": pl.String,
    "body_text": pl.String,
}


@dataclass(frozen=True)
class HtmlArticle:
    body_text: str
    title: str | None
    authors: list[str]
    publisher: str | None
    published_date: dt.date | None
    date_source: str | None
    language: str | None


# ---------------------------------------------------------------------------
# Sniffing
# ---------------------------------------------------------------------------

_SNIFF_CHARS = 4096
_LEADING_JUNK = re.compile(r"^(?:\s+|<!--.*?-->|<\?xml[^>]*\?>)+", re.S)
_DOC_START = re.compile(r"<(?:!doctype\s+html|html|head|body)[\s>/]", re.I)
_BLOCK_TAG = re.compile(
    r"<(/?)(?:p|div|span|a|br|hr|li|ul|ol|table|tr|td|th|h[1-6]|section|article|header|footer|"
    r"nav|main|aside|script|style|img|meta|link|title|figure|figcaption|blockquote|form|"
    r"button|iframe|noscript|strong|em)(?:\s[^<>]*)?/?>",
    re.I,
)


def looks_like_html(text: str) -> bool:
    """True when `text` is an HTML document or fragment (for .txt files holding HTML).

    Looks at the first 4 KB only. A document start (`<!doctype html`, `<html`, `<head`,
    `<body`) after whitespace, a BOM, an XML declaration or comments is enough; otherwise
    at least 4 HTML tags, 2 of them closing tags, at a density of at least one per 400
    characters (plain text that mentions "<b>" once, or "a < b", has neither)."""
    if not text:
        return False
    head = text[:_SNIFF_CHARS].lstrip("\ufeff")
    start = _LEADING_JUNK.match(head)
    rest = head[start.end():] if start else head
    if _DOC_START.match(rest[:40]):
        return True
    tags = _BLOCK_TAG.findall(head)
    closing = sum(1 for slash in tags if slash)
    return len(tags) >= 4 and closing >= 2 and len(tags) * 400 >= len(head.strip())


# ---------------------------------------------------------------------------
# Page signals: meta tags, JSON-LD article, <title>, h1, lang
# ---------------------------------------------------------------------------

_WS = re.compile(r"\s+")
# HTML element names only: "<Hamlet>" (a work title in angle brackets) is text, "<div ...>" is not
_HTML_TAGS = (
    "a|abbr|address|article|aside|audio|b|base|bdi|bdo|blockquote|body|br|button|canvas|caption|cite|"
    "code|col|colgroup|data|datalist|dd|del|details|dfn|dialog|div|dl|dt|em|embed|fieldset|figcaption|"
    "figure|font|footer|form|h[1-6]|head|header|hgroup|hr|html|i|iframe|img|input|ins|kbd|label|legend|"
    "li|link|main|map|mark|menu|meta|meter|nav|noscript|object|ol|optgroup|option|output|p|param|picture|"
    "pre|progress|q|rp|rt|ruby|s|samp|script|section|select|small|source|span|strong|style|sub|summary|"
    "sup|svg|path|table|tbody|td|template|textarea|tfoot|th|thead|time|title|tr|track|u|ul|var|video|wbr"
)
_TAGLIKE = re.compile(
    rf"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<!doctype[^>]*>|</?(?:{_HTML_TAGS})(?:\s[^<>]*)?/?>", re.S | re.I
)
_ZERO_WIDTH = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff]")
_ARTICLE_TYPE = re.compile(r"(?:article|posting|report)$", re.I)


def _clean(value: object) -> str | None:
    """Entities decoded, tags removed, whitespace collapsed; None when empty."""
    if not isinstance(value, str):
        return None
    text = html_lib.unescape(html_lib.unescape(value)) if "&" in value else value
    text = _ZERO_WIDTH.sub("", _TAGLIKE.sub(" ", text))
    text = _WS.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    return text or None


@dataclass
class PageSignals:
    """What the page declares about itself, read before trafilatura touches the tree."""

    meta: dict[str, list[str]] = field(default_factory=dict)   # lowercased name/property -> values
    title_tag: str | None = None
    h1: list[str] = field(default_factory=list)                # article/main h1 first
    lang: str | None = None
    article: dict | None = None                                # main JSON-LD article node
    ld_ids: dict[str, dict] = field(default_factory=dict)      # JSON-LD @id -> node

    def first(self, *keys: str) -> str | None:
        for key in keys:
            for value in self.meta.get(key, ()):
                if value:
                    return value
        return None


def _ld_types(node: dict) -> list[str]:
    kind = node.get("@type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [k for k in kind if isinstance(k, str)]
    return []


def _is_article(node: dict) -> bool:
    return any(_ARTICLE_TYPE.search(k) for k in _ld_types(node))


def _parse_json_ld(raw: str) -> object | None:
    raw = raw.strip()
    if raw.startswith("<!--"):
        raw = raw[4:]
    if raw.endswith("-->"):
        raw = raw[:-3]
    raw = raw.strip().rstrip(";")
    try:
        return json.loads(raw, strict=False)
    except ValueError:
        return None


def _read_json_ld(tree: HtmlElement, signals: PageSignals) -> None:
    """The main article node: the first article-typed node met breadth-first over all
    JSON-LD blocks, not descending into article nodes (a live blog's updates, related
    articles and `hasPart` items are never the main article)."""
    roots: list[object] = []
    for script in tree.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        parsed = _parse_json_ld(script.text or "")
        if parsed is not None:
            roots.append(parsed)
    queue: list[object] = list(roots)
    found: dict | None = None
    i = 0
    while i < len(queue) and i < 5000:
        node = queue[i]
        i += 1
        if isinstance(node, list):
            queue.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        ident = node.get("@id")
        if isinstance(ident, str) and len(node) > 1:
            signals.ld_ids.setdefault(ident, node)
        if _is_article(node):
            if found is None:
                found = node
            continue
        queue.extend(v for v in node.values() if isinstance(v, (dict, list)))
    signals.article = found


def _text_of(element: HtmlElement) -> str | None:
    return _clean(element.text_content())


def read_signals(tree: HtmlElement) -> PageSignals:
    signals = PageSignals()
    for meta in tree.iter("meta"):
        content = meta.get("content")
        if content is None:
            continue
        value = _clean(content)
        if not value:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attr)
            if key:
                signals.meta.setdefault(key.strip().lower(), []).append(value)
    title = tree.find(".//head/title")
    if title is None:  # not an <svg> <title> further down
        title = next((t for t in tree.iter("title") if t.getparent() is None or t.getparent().tag != "svg"), None)
    if title is not None:
        signals.title_tag = _text_of(title)
    in_main = [_text_of(h) for h in tree.xpath("//article//h1|//main//h1")]
    others = [_text_of(h) for h in tree.iter("h1")]
    seen: list[str] = []
    for text in in_main + [t for t in others if t and len(t.split()) >= 2]:
        if text and text not in seen:
            seen.append(text)
    signals.h1 = seen
    root = tree.getroottree().getroot()
    signals.lang = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or None
    _read_json_ld(tree, signals)
    return signals


# ---------------------------------------------------------------------------
# Title
# ---------------------------------------------------------------------------

_SEPARATOR = re.compile(r"\s+(?:\||-|–|—|\*|·|•|::|»|/|~)\s+")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go"}


_PUNCT = re.compile(r"[^\w\s]|_")


def _key(text: str | None) -> str:
    """Comparison key: NFKC, case folded, punctuation and symbols ignored, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text or "").translate(_QUOTES).casefold().replace("'", "")
    return " ".join(_PUNCT.sub(" ", text).split())


def _compact(text: str | None) -> str:
    return re.sub(r"[\W_]+", "", (text or "").casefold())


def _domain_label(url: str | None) -> str | None:
    """'https://www.example.co.uk/x' -> 'example' (the registrable label)."""
    if not url:
        return None
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", url.strip().lower()).split("/")[0].split(":")[0]
    labels = [part for part in host.split(".") if part]
    if len(labels) < 2:
        return None
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return labels[-3]
    return labels[-2]


def _site_matcher(site_names: list[str]) -> list[str]:
    keys = []
    for name in site_names:
        key = _compact(name)
        if key and key not in keys:
            keys.append(key)
        if key.startswith("the") and len(key) > 6 and key[3:] not in keys:
            keys.append(key[3:])
    return keys


def _names_site(segment: str, site_keys: list[str]) -> bool:
    seg = _compact(segment)
    if not seg:
        return False
    if seg in site_keys or (seg.startswith("the") and seg[3:] in site_keys):
        return True
    if len(segment.split()) <= 3:
        return any(len(k) >= 4 and k in seg for k in site_keys)
    return False


def strip_site_suffix(title: str | None, site_names: list[str]) -> str | None:
    """Drop a trailing " | Site name ..." (see the module docstring, title rule 1)."""
    if not title:
        return title
    site_keys = _site_matcher(site_names)
    if not site_keys:
        return title
    cuts = list(_SEPARATOR.finditer(title))
    for i, cut in enumerate(cuts):
        end = cuts[i + 1].start() if i + 1 < len(cuts) else len(title)
        if _names_site(title[cut.end():end], site_keys):
            head = title[:cut.start()].strip()
            return head or title
    return title


def titles_agree(a: str, b: str) -> bool:
    """Title rule 2 of the module docstring."""
    if _key(a) == _key(b):
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    target = _key(short)
    return any(_key(long[:cut.start()]) == target for cut in _SEPARATOR.finditer(long))


def title_candidates(signals: PageSignals, site_names: list[str]) -> dict[str, str | None]:
    """The page's title declarations, each with its site-name suffix stripped."""
    headline = None
    if signals.article:
        headline = _clean(signals.article.get("headline")) or _clean(signals.article.get("name"))
    raw = {
        "og": signals.first("og:title", "twitter:title"),
        "jsonld": headline,
        "title_tag": signals.title_tag,
        "h1": signals.h1[0] if signals.h1 else None,
    }
    return {name: strip_site_suffix(value, site_names) for name, value in raw.items()}


def vote_title(candidates: list[str | None]) -> str | None:
    """The candidate agreeing with the most others (earlier wins ties), returned as the
    shortest of the candidates agreeing with it."""
    present = [c for c in candidates if c]
    if not present:
        return None
    best, best_support = None, -1
    for cand in present:
        support = sum(titles_agree(cand, other) for other in present)
        if support > best_support:
            best, best_support = cand, support
    group = [c for c in present if titles_agree(best, c)]
    return min(group, key=len)


def choose_title(candidates: dict[str, str | None], fallback: str | None = None) -> str | None:
    """Title rule of the module docstring: when og:title or the JSON-LD headline exists, the
    vote of og:title, JSON-LD headline and <title> (og:title first on ties); else the h1,
    else the <title>, else `fallback` (trafilatura's title)."""
    if candidates.get("og") or candidates.get("jsonld"):
        return vote_title([candidates.get("og"), candidates.get("jsonld"), candidates.get("title_tag")])
    return candidates.get("h1") or candidates.get("title_tag") or fallback


# ---------------------------------------------------------------------------
# Authors
# ---------------------------------------------------------------------------

_BY = re.compile(r"^(?:(?:written|words|reporting|posted)\s+)?by[:\s]+", re.I)
_SPLIT_AND = re.compile(r"\s+(?:and|&)\s+|\s*;\s*", re.I)
_ROLE = re.compile(
    r"\b(?:writer|reporter|correspondent|editor|columnist|contributor|producer|journalist|staff|"
    r"analyst|bureau|desk|intern|photographer|newsroom)s?\b", re.I)
_BAD_NAME = re.compile(r"://|^www\.|@|_|\d|^/|\.(?:com|org|net|co\.uk)\b", re.I)
# a byline glued to its dateline: "Jane Roe Monday", "Jane Roe November"
_TRAILING_DATE_WORD = re.compile(
    r"(?:\s+(?:mon|tues|wednes|thurs|fri|satur|sun)day|\s+(?:january|february|march|april|may|june|july|"
    r"august|september|october|november|december))+$", re.I)


def _person_key(name: str) -> str:
    return re.sub(r"[\s.\-‐‑_']+", "", name.casefold())


_LAST_COMMA_FIRST = re.compile(r"^([^\W\d_][\w'’.-]*), ([^\W\d_][\w'’.-]*)$")


def _swap_last_first(name: str) -> str:
    parts = [p.strip() for p in name.split(",")]
    if len(parts) == 2 and all(parts) and not re.search(r"\b(?:jr|sr|ii|iii|iv|phd|md)\b\.?$", parts[1], re.I):
        return f"{parts[1]} {parts[0]}"
    return name


def _ld_author_names(signals: PageSignals) -> tuple[list[str], list[str]]:
    """(person names, organization names) of the JSON-LD article's author field."""
    if not signals.article:
        return [], []
    value = signals.article.get("author")
    items = value if isinstance(value, list) else [value]
    persons: list[str] = []
    orgs: list[str] = []
    for item in items:
        if isinstance(item, dict) and "@id" in item and len(item) <= 2 and "name" not in item:
            item = signals.ld_ids.get(item["@id"], item)
        if isinstance(item, str):
            name = _clean(item)
            if name:
                persons.append(name)
        elif isinstance(item, dict):
            name = item.get("name")
            if isinstance(name, list):
                name = name[0] if name else None
            if not isinstance(name, str) and (item.get("givenName") or item.get("familyName")):
                name = f"{item.get('givenName') or ''} {item.get('familyName') or ''}"
            name = _clean(name)
            if not name:
                continue
            types = {t.lower() for t in _ld_types(item)}
            if types and "person" not in types:
                orgs.append(name)
            else:
                persons.append(name)
    return persons, orgs


def _clean_names(values: list[str], *, last_first: bool, single_word_ok: bool) -> list[str]:
    names: list[str] = []
    for value in values:
        value = _clean(value)
        if not value:
            continue
        value = _BY.sub("", value)
        if last_first:
            pieces = [_swap_last_first(value)]
        else:
            pieces = [p for p in _SPLIT_AND.split(value) if p]
            # "Jane Doe, John Roe": a comma list of multi-word names
            expanded: list[str] = []
            for piece in pieces:
                one_one = _LAST_COMMA_FIRST.match(piece.strip())
                if one_one and not _ROLE.search(piece):
                    # "Roe, Jane": a comma between two single words is "Last, First"
                    expanded.append(f"{one_one.group(2)} {one_one.group(1)}")
                    continue
                parts = [p.strip() for p in piece.split(",")]
                if len(parts) > 1:
                    # "Jane Roe, Staff Writer": a job title after the name is not a name
                    parts = [parts[0]] + [p for p in parts[1:] if not _ROLE.search(p)]
                if len(parts) > 1 and all(len(p.split()) >= 2 for p in parts):
                    expanded.extend(parts)
                else:
                    expanded.append(", ".join(parts))
            pieces = expanded
        for piece in pieces:
            piece = _TRAILING_DATE_WORD.sub("", _BY.sub("", piece)).strip(" ,;:|-–—")
            if not piece or _BAD_NAME.search(piece):
                continue
            if not single_word_ok and len(piece.split()) < 2:
                continue
            if piece.isupper() and len(piece) > 3:
                piece = piece.title()
            names.append(piece)
    return names


def normalize_authors(names: list[str], site_names: Iterable[str] = ()) -> list[str]:
    """Deduplicate names differing only by case/hyphens/dots/spaces (first spelling with a
    space kept, page order preserved); drop the site name and bare job titles when a
    person is also named."""
    kept: dict[str, str] = {}
    for name in names:
        key = _person_key(name)
        if not key:
            continue
        if key not in kept:
            kept[key] = name
        elif " " not in kept[key] and " " in name:
            kept[key] = name
    site_keys = {_person_key(s) for s in site_names if s}
    result = list(kept.values())
    # the site name or a bare job title ("Staff Writer") is dropped when a person is named
    named = [n for n in result if _person_key(n) not in site_keys and not _ROLE.search(n)]
    return named if named else result


def _authors(signals: PageSignals, trafilatura_author: str | None, site_names: list[str]) -> list[str]:
    persons, orgs = _ld_author_names(signals)
    sources = [
        _clean_names(persons, last_first=False, single_word_ok=True),
        _clean_names(signals.meta.get("citation_author", []) + signals.meta.get("dc.creator", []),
                     last_first=True, single_word_ok=False),
        _clean_names((trafilatura_author or "").split(";"), last_first=False, single_word_ok=False),
    ]
    for names in sources:
        names = normalize_authors(names, site_names)
        if names:
            return names
    return normalize_authors(_clean_names(orgs, last_first=False, single_word_ok=True))


# ---------------------------------------------------------------------------
# Body
# ---------------------------------------------------------------------------

_BLOCKS = {"p", "head", "item", "quote", "row", "code", "list", "table", "div", "body", "graphic"}
_PARA = "\x00"
_CODE_WORDS = re.compile(
    r"\bfunction\s*\(|=>|\bvar\s+\w+\s*=|\b(?:let|const)\s+\w+\s*=|\bdocument\.\w+|\bwindow\.\w+|"
    r"\}\s*\)\s*\(|@media\b|!important\b|[.#][\w-]+\s*\{[^}]*:[^}]*;",
)
_EDGE_PIPES = re.compile(r"^(?:\|\s*)+|(?:\s*\|)+$|(?<=\|)(?:\s*\|)+")
_CODE_CHARS = re.compile(r"[{}();=<>\[\]]")


def _flatten(element, out: list[str], in_row: bool = False) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    # inside a table row everything is inline: cells are joined with " | "
    block = tag in _BLOCKS and not in_row
    mark = _PARA if block else (" " if in_row and tag in _BLOCKS else "")
    if tag == "cell" and element.getprevious() is not None:
        mark = " | "
    out.append(mark)
    if tag == "lb":
        out.append("\n")
    if element.text and tag != "graphic":
        out.append(element.text)
    for child in element:
        _flatten(child, out, in_row or tag == "row")
    if block:
        out.append(_PARA)
    elif in_row and tag in _BLOCKS:
        out.append(" ")
    if element.tail:
        out.append(element.tail)


def _looks_like_code(paragraph: str) -> bool:
    if not _CODE_WORDS.search(paragraph):
        return False
    return len(_CODE_CHARS.findall(paragraph)) >= max(4, len(paragraph) * 0.05)


def body_from_tree(body) -> str:
    """trafilatura's XML body -> paragraphs separated by one blank line (see docstring)."""
    if body is None:
        return ""
    out: list[str] = []
    _flatten(body, out)
    text = "".join(out)
    paragraphs = []
    for chunk in text.split(_PARA):
        chunk = _ZERO_WIDTH.sub("", _TAGLIKE.sub(" ", chunk))
        lines = [_EDGE_PIPES.sub("", _WS.sub(" ", line).strip()) for line in chunk.split("\n")]
        para = "\n".join(line for line in lines if line)
        if para and not _looks_like_code(para):
            paragraphs.append(para)
    return "\n\n".join(paragraphs)


# ---------------------------------------------------------------------------
# Language, date
# ---------------------------------------------------------------------------

_LANG = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]+)*$", re.I)


def _language(signals: PageSignals) -> str | None:
    inlang = signals.article.get("inLanguage") if signals.article else None
    for value in (signals.lang, signals.first("content-language", "language", "og:locale"),
                  inlang if isinstance(inlang, str) else None):
        if value:
            match = _LANG.match(value.strip().split(",")[0].strip())
            if match:
                return match.group(1).lower()
    return None


def _to_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


_COPYRIGHT = re.compile(r"(?:©|&copy;|&#169;|\(c\)|copyright)\s*(?:\d{4}\s*[-–]\s*)?(\d{4})", re.I)


def _is_copyright_year(day: dt.date, html: str) -> bool:
    """htmldate's last resort turns a copyright notice into January 1 of its year."""
    return (day.month, day.day) == (1, 1) and any(
        int(year) == day.year for year in _COPYRIGHT.findall(html))


def _today() -> str:
    return dt.date.today().isoformat()


# ---------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------

# fewer words and characters than this is a menu label or a stub ("Home"), not an article
# (characters too, because CJK text has few space-separated words)
MIN_BODY_WORDS, MIN_BODY_CHARS = 5, 25
_TOKEN = re.compile(r"\w+")


def _too_short(body: str) -> bool:
    return len(_TOKEN.findall(body)) < MIN_BODY_WORDS and len(body) < MIN_BODY_CHARS


_FULL_DOC = re.compile(r"<(?:html|body)[\s>]", re.I)


def _load(html: str) -> HtmlElement | None:
    if not _FULL_DOC.search(html[:_SNIFF_CHARS * 4]):
        # a bare fragment: trafilatura's loader expects a document
        html = f"<html><body><div>{html}</div></body></html>"
    try:
        return load_html(html)
    except (TypeError, ValueError):
        return None


def _drop_leading_title(body: str, titles: list[str | None]) -> str:
    """The headline repeated as the body's first paragraph belongs to `title`, not the body."""
    first, _, rest = body.partition("\n\n")
    titles = [t for t in titles if t and len(first) <= 2 * len(t)]  # cheap length check first
    if titles:
        key = _key(first)
        if any(key == _key(t) for t in titles):
            return rest
    return body


def _site_names(signals: PageSignals, sitename: str | None, url: str | None) -> list[str]:
    """Every name the page gives itself, plus the domain's registrable label."""
    publisher = (signals.article or {}).get("publisher")
    names = [sitename, signals.first("og:site_name"), signals.first("application-name"),
             _clean(publisher.get("name")) if isinstance(publisher, dict) else None,
             _domain_label(url or signals.first("og:url"))]
    return [n for n in names if n]


def page_title_candidates(html: str, url: str | None = None) -> tuple[dict[str, str | None], str | None]:
    """For measuring title rules: the page's title declarations (suffixes stripped, as
    `extract_html` sees them) and trafilatura's own title."""
    tree = _load(html)
    if tree is None:
        return {}, None
    signals = read_signals(tree)
    meta = extract_metadata(copy(tree), url, extensive=False)
    return title_candidates(signals, _site_names(signals, meta.sitename, url or meta.url)), _clean(meta.title)


def extract_html(html: str, url: str | None = None) -> HtmlArticle | None:
    """One web page -> its article, or None when the page holds no article text."""
    if not html or not html.strip():
        return None
    tree = _load(html)
    if tree is None:
        return None
    signals = read_signals(tree)
    date_params = {"original_date": True, "extensive_search": False, "max_date": _today()}
    doc = bare_extraction(
        # comments on: trafilatura then moves comment sections out of the body (ignored here)
        tree, url=url, with_metadata=True, include_comments=True, include_tables=True, favor_precision=True,
        date_extraction_params=date_params,
    )
    if doc is None:
        return None
    body = body_from_tree(doc.body)
    if _too_short(body):
        return None

    site_names = _site_names(signals, doc.sitename, url or doc.url)
    candidates = title_candidates(signals, site_names)
    title = choose_title(candidates, _clean(doc.title))
    body = _drop_leading_title(body, [title, *candidates.values()])
    if _too_short(body):
        return None
    publisher = _clean(doc.sitename) or signals.first("og:site_name", "application-name")
    if publisher and re.match(r"(?i)^(?:https?://)?(?:www\.)?[\w-]+(?:\.[\w-]+)+/?$", publisher) and "://" in publisher:
        publisher = re.sub(r"(?i)^https?://(?:www\.)?", "", publisher).rstrip("/")

    published, source = _to_date(doc.date), "trafilatura"
    if published is None:
        found = find_date(tree, url=url or doc.url, original_date=True, extensive_search=True,
                          max_date=_today())
        published, source = _to_date(found), "htmldate"
        if published is not None and _is_copyright_year(published, html):
            published = None
    if published is None:
        source = None

    return HtmlArticle(
        body_text=body,
        title=title,
        authors=_authors(signals, doc.author, site_names),
        publisher=publisher,
        published_date=published,
        date_source=source,
        language=_language(signals) or _lang_from_doc(doc),
    )


def _lang_from_doc(doc) -> str | None:
    value = getattr(doc, "language", None)
    match = _LANG.match(value) if isinstance(value, str) else None
    return match.group(1).lower() if match else None


def extract_html_frame(raw: pl.DataFrame) -> pl.DataFrame:
    """Columns file_id, raw_text (decoded HTML) -> one row per page that yielded an article
    (schema HTML_FRAME_SCHEMA). trafilatura parses and extracts one document at a time, so
    this is a per-document Python loop; everything else in the pipeline stays columnar."""
    rows: dict[str, list] = {name: [] for name in HTML_FRAME_SCHEMA}
    for file_id, text in zip(raw.get_column("file_id").to_list(), raw.get_column("raw_text").to_list()):
        article = extract_html(text) if text else None
        if article is None:
            continue
        rows["file_id"].append(file_id)
        rows["title"].append(article.title)
        rows["authors"].append(list(article.authors))
        rows["publisher"].append(article.publisher)
        rows["published_date"].append(article.published_date)
        rows["date_source"].append(article.date_source)
        rows["language"].append(article.language)
        rows["body_text"].append(article.body_text)
    return pl.DataFrame(rows, schema=HTML_FRAME_SCHEMA)
