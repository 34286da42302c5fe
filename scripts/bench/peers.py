"""Peers of the extractors: pyahocorasick for the gazetteer, datefinder for dates, spaCy's
EntityRuler (blank("en"), no model download) for the gazetteer."""

from __future__ import annotations

import re
import string

_ASCII_WORD = frozenset(string.ascii_letters + string.digits + "_")


def _alias_rows(gaz):
    """(alias, actor_id, actor_type, case_sensitive): same rule as actors._case_sensitive."""
    for actor_id, actor_type, aliases in zip(gaz["actor_id"], gaz["actor_type"], gaz["aliases"]):
        for alias in aliases:
            yield alias, actor_id, actor_type, not any(ch.islower() for ch in alias)


def build_aho(gaz):
    """One automaton of all aliases, case-folded; the value carries what the check needs."""
    import ahocorasick

    entries: dict[str, list[tuple[str, str, bool, bool, bool]]] = {}
    for alias, actor_id, _, cs in _alias_rows(gaz):
        left = re.match(r"\w", alias[0]) is not None
        right = re.match(r"\w", alias[-1]) is not None
        entries.setdefault(alias.lower(), []).append((alias, actor_id, cs, left, right))
    auto = ahocorasick.Automaton()
    for key, lst in entries.items():
        auto.add_word(key, (len(key), lst))
    auto.make_automaton()
    return auto


def _lower_same_length(text: str) -> str:
    low = text.lower()
    if len(low) != len(text):  # e.g. "İ" lowers to two code points: keep offsets aligned
        low = "".join(c.lower()[:1] or c for c in text)
    return low


def aho_mentions(docs, auto):
    """pyahocorasick peer: iter_long over the lowercased text, then the same checks as
    extract_actor_mentions, in Python: ASCII word boundaries, and exact case for all-caps aliases."""
    import polars as pl

    W = _ASCII_WORD
    out_doc, out_actor, out_surface, out_start, out_end = [], [], [], [], []
    for doc_id, text in zip(docs["document_id"], docs["body_text"]):
        low = _lower_same_length(text)
        n = len(text)
        for end_idx, (length, lst) in auto.iter_long(low):
            end = end_idx + 1
            start = end - length
            for alias, actor_id, cs, left, right in lst:
                if left and start > 0 and text[start - 1] in W:
                    continue
                if right and end < n and text[end] in W:
                    continue
                if cs and text[start:end] != alias:
                    continue
                out_doc.append(doc_id)
                out_actor.append(actor_id)
                out_surface.append(text[start:end])
                out_start.append(start)
                out_end.append(end)
                break
    return pl.DataFrame({"document_id": out_doc, "actor_id": out_actor, "surface_text": out_surface,
                         "char_start": out_start, "char_end": out_end},
                        schema={"document_id": pl.String, "actor_id": pl.String, "surface_text": pl.String,
                                "char_start": pl.Int64, "char_end": pl.Int64})


def build_spacy(gaz):
    """blank("en") + EntityRuler phrase patterns. One ruler matches LOWER (case-insensitive
    aliases), a second matches ORTH (all-caps aliases such as US, IS, ISKP)."""
    import spacy

    nlp = spacy.blank("en")
    nlp.max_length = 10**9
    ci = nlp.add_pipe("entity_ruler", name="ruler_ci", config={"phrase_matcher_attr": "LOWER"})
    cs = nlp.add_pipe("entity_ruler", name="ruler_cs")
    ci_pat, cs_pat = [], []
    for alias, actor_id, actor_type, case_sens in _alias_rows(gaz):
        (cs_pat if case_sens else ci_pat).append({"label": actor_type.upper(), "pattern": alias, "id": actor_id})
    ci.add_patterns(ci_pat)
    cs.add_patterns(cs_pat)
    return nlp


def spacy_mentions(docs, nlp) -> int:
    n = 0
    for doc in nlp.pipe(docs["body_text"].to_list(), batch_size=64):
        n += len(doc.ents)
    return n


def datefinder_dates(docs) -> tuple[int, int]:
    import datefinder

    n, errors = 0, 0
    for text in docs["body_text"]:
        try:
            for _ in datefinder.find_dates(text, source=True, index=True):
                n += 1
        except Exception:  # noqa: BLE001 - dateutil raises on some candidates; count and go on
            errors += 1
    return n, errors
