"""dagster_project.extract.spans: regex matches with character offsets, and stable ids."""

from __future__ import annotations

import hashlib
import re

import polars as pl
import pytest

from dagster_project.extract.spans import find_literals, find_spans, fold_case, in_parallel, stable_id
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
    assert out.columns == ["row", "match", "char_start", "char_end", "match_no", "prev_char", "next_char"]
    assert out.select("match", "char_start", "char_end").rows() == [("13", 8, 10), ("170", 29, 32)]
    assert out.select("prev_char", "next_char").rows() == [(" ", " "), (" ", " ")]


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


def test_fold_case_keeps_the_length_of_every_character():
    """Offsets found on the lowercased copy must be valid in the original text."""
    every = "".join(chr(i) for i in range(0x110000) if not 0xD800 <= i < 0xE000)
    s = pl.Series([every, "İstanbul İSKP"])
    assert pl.select(fold_case(pl.lit(s)).str.len_chars()).to_series().to_list() == s.str.len_chars().to_list()
    assert pl.select(fold_case(pl.lit("İSKP Taliban"))).item() == "iskp taliban"


@pytest.mark.parametrize("prefix", list(PREFIXES))
def test_lowercase_scan_gives_original_text_and_offsets(prefix):
    text = PREFIXES[prefix] + "İ " + SENTENCE
    frame = pl.DataFrame({"document_id": ["d0"], "body_text": [text]})
    out = find_spans(frame, r"(?-u:\b)(?:tehrik-e-taliban pakistan|iskp|ttp)(?-u:\b)", lowercase=True).collect()
    assert out["match"].to_list() == ["ISKP", "Tehrik-e-Taliban Pakistan", "TTP"]
    assert_offsets(out, pl.DataFrame({"document_id": ["d0"], "body_text": [text]}), surface_col="match")


def literal_spans(texts: list[str], literals: list[str]) -> pl.DataFrame:
    frame = pl.DataFrame({"document_id": [f"d{i}" for i in range(len(texts))], "body_text": texts})
    return find_literals(frame, literals).collect()


@pytest.mark.parametrize("prefix", list(PREFIXES))
def test_literals_longest_first_ascii_case_insensitive_with_offsets(prefix):
    text = PREFIXES[prefix] + SENTENCE
    out = literal_spans([text], ["taliban", "tehrik-e-taliban pakistan", "iskp", "ttp", "pakistan"])
    assert out["match"].to_list() == ["ISKP", "Tehrik-e-Taliban Pakistan", "TTP"]
    assert_offsets(out, pl.DataFrame({"document_id": ["d0"], "body_text": [text]}), surface_col="match")


def test_literals_respect_ascii_word_boundaries():
    text = "Iranian officials met Iran's envoy, U.S.-led forces and the U.S.; Kabulov not Kabul2 but Kabul."
    out = literal_spans([text], ["iran", "u.s.", "kabul", "kabulov"])
    assert out["match"].to_list() == ["Iran", "U.S.", "U.S.", "Kabulov", "Kabul"]
    assert_offsets(out, pl.DataFrame({"document_id": ["d0"], "body_text": [text]}), surface_col="match")


def test_literals_adjacent_matches_and_text_edges():
    out = literal_spans(["TalibanTaliban", "Taliban", "taliban-ISKP"], ["taliban", "iskp"])
    assert out.select("document_id", "match").rows() == [("d1", "Taliban"), ("d2", "taliban"), ("d2", "ISKP")]


def test_in_parallel_equals_one_pass_and_keeps_row_order():
    texts = [f"{i} killed in {PREFIXES[p]} attack number {i * 7}" for i in range(300) for p in PREFIXES]
    frame = pl.DataFrame({"document_id": [f"d{i:04}" for i in range(len(texts))], "body_text": texts})
    one = find_spans(frame, r"\d+").collect()
    many = in_parallel(frame, lambda lf: find_spans(lf, r"\d+"), min_bytes=1_000)
    assert many.equals(one)


def test_literal_failing_its_right_boundary_falls_back_to_a_shorter_literal():
    """A regex backtracks from 'Benue State' to 'Benue' in 'Benue States'; so must we."""
    out = literal_spans(["Benue States and Benue State."], ["benue state", "benue"])
    assert out["match"].to_list() == ["Benue", "Benue State"]


def test_lowercase_pattern_rewrites_letters_and_classes_only():
    from dagster_project.extract.spans import lowercase_pattern
    assert lowercase_pattern(r"(?:\A|[^\w./-])(?P<cur>US\$|[A-Z]\.)\d+(?-u:\b)") == \
        r"(?:\A|[^a-z0-9_./-])(us\$|[a-z]\.)[0-9]+(?-u:\b)"
    with pytest.raises(ValueError):
        lowercase_pattern(r"(?i:taliban)")
