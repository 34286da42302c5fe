"""dagster_project.text.spans: regex matches with character offsets, and stable ids."""

from __future__ import annotations

import hashlib
import re

import polars as pl
import pytest

from dagster_project.text.spans import find_spans, stable_id
from support import assert_offsets

# From seed 003 (after quote folding), and seed 001's navigation (Arabic) in front of it.
SENTENCE = ("ISKP also intensively intermingled with another militant group in eastern Afghanistan: "
            "Tehrik-e-Taliban Pakistan (TTP).")
PREFIXES = {
    "ascii": "",
    "arabic": "• عربي\n• Fr\n",
    "cyrillic": "Посольство России в Кабуле — ",
    "emoji": "📍🇷🇺 ",  # code points outside the BMP (surrogate pairs in UTF-16, 4 bytes in UTF-8)
    "combining": "Ame\u0301lie e\u0301crit: ",  # decomposed accents: two code points each
}


def spans(texts: list[str], pattern: str) -> pl.DataFrame:
    frame = pl.DataFrame({"document_id": [f"d{i}" for i in range(len(texts))], "body_text": texts})
    return find_spans(frame, pattern).collect()


@pytest.mark.parametrize("prefix", list(PREFIXES.values()), ids=list(PREFIXES))
def test_offsets_are_in_code_points_even_after_multibyte_text(prefix):
    text = prefix + SENTENCE
    out = spans([text], r"(?-u:\b)(?:Taliban|TTP|ISKP|Afghanistan)(?-u:\b)")
    assert out["match"].to_list() == ["ISKP", "Afghanistan", "Taliban", "TTP"]
    expected = [(m.start(), m.end()) for m in re.finditer(r"\b(?:Taliban|TTP|ISKP|Afghanistan)\b", text)]
    assert list(zip(out["char_start"], out["char_end"])) == expected
    assert out["match_no"].to_list() == [0, 1, 2, 3]
    assert_offsets(out.rename({"match": "surface_text"}), pl.DataFrame({"document_id": ["d0"], "body_text": [text]}))


def test_several_documents_keep_their_own_offsets():
    texts = [PREFIXES["cyrillic"] + SENTENCE, SENTENCE, "no mention here", "", "TTP"]
    out = spans(texts, r"\bTTP\b")
    assert out.select("document_id", "char_start", "char_end").rows() == [
        ("d0", len(PREFIXES["cyrillic"]) + SENTENCE.index("TTP"), len(PREFIXES["cyrillic"]) + SENTENCE.index("TTP") + 3),
        ("d1", SENTENCE.index("TTP"), SENTENCE.index("TTP") + 3),
        ("d4", 0, 3),
    ]
    assert out.schema["char_start"] == pl.Int64 and out.schema["char_end"] == pl.Int64


def test_matches_are_leftmost_first_and_non_overlapping():
    out = spans(["Tehrik-e-Taliban Pakistan"], r"Tehrik-e-Taliban Pakistan|Taliban")
    assert out["match"].to_list() == ["Tehrik-e-Taliban Pakistan"]
    out = spans(["aaaa"], r"a{2}")
    assert list(zip(out["char_start"], out["char_end"])) == [(0, 2), (2, 4)]


def test_match_at_the_very_end_and_start():
    out = spans(["Kabul airport Kabul"], r"\bKabul\b")
    assert list(zip(out["char_start"], out["char_end"])) == [(0, 5), (14, 19)]


def test_lazy_input_and_custom_columns():
    lf = pl.LazyFrame({"row": [7], "txt": ["killing 13 U.S. soldiers and 170 Afghans"]})
    out = find_spans(lf, r"\d+", id_col="row", text_col="txt").collect()
    assert out.columns == ["row", "match", "char_start", "char_end", "match_no"]
    assert out.select("match", "char_start", "char_end").rows() == [("13", 8, 10), ("170", 29, 32)]


def test_null_text_gives_no_match():
    frame = pl.DataFrame({"document_id": ["a", "b"], "body_text": [None, "TTP"]}, schema={
        "document_id": pl.String, "body_text": pl.String})
    out = find_spans(frame, r"\bTTP\b").collect()
    assert out.select("document_id", "match", "char_start", "char_end").rows() == [("b", "TTP", 0, 3)]


def test_literal_pattern():
    """polars' str.replace_all treats a pattern without regex metacharacters as a literal and
    then inserts the replacement '\\x00${0}\\x01' verbatim: find_spans(frame with 'Kabul airport
    Kabul', 'Kabul') returns match '${0}' at (0, 4) and (13, 17). Production patterns always
    contain metacharacters ((?-u:\\b), alternations), so the pipeline is not affected today.
    Fix: wrap the pattern as '(?:' + pattern + ')' in find_spans."""
    out = spans(["Kabul airport Kabul"], "Kabul")
    assert out.select("match", "char_start", "char_end").rows() == [("Kabul", 0, 5), ("Kabul", 14, 19)]


def test_stable_id_is_sha256_of_joined_values():
    df = pl.DataFrame({"document_id": ["abc", "abc"], "char_start": [1, 1], "casualty_type": ["killed", None]})
    out = df.select(stable_id("document_id", "char_start", "casualty_type").alias("id"))["id"].to_list()
    assert out[0] == hashlib.sha256(b"abc|1|killed").hexdigest()[:32]
    assert out[1] == hashlib.sha256(b"abc|1|").hexdigest()[:32]
    assert all(re.fullmatch(r"[0-9a-f]{32}", v) for v in out)
    # same values, same id, run after run; different order of columns, different id
    again = df.select(stable_id("document_id", "char_start", "casualty_type").alias("id"))["id"].to_list()
    assert again == out
    swapped = df.select(stable_id("char_start", "document_id", "casualty_type").alias("id"))["id"].to_list()
    assert swapped[0] != out[0]
