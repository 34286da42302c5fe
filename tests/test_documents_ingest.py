"""dagster_project.documents.ingest: decode a file or quarantine it with a reason."""

from __future__ import annotations

import codecs
import shutil
from datetime import datetime

import polars as pl
import pytest

from dagster_project.documents.ingest import QUARANTINE_SCHEMA, RAW_SCHEMA, decode_bytes, ingest_folder
from support import (
    BINARY_BYTES,
    CP1252_TEXT,
    SEED_003,
    SEED_004,
    SEED_FILES,
    SEEDS_DIR,
    UTF16_TEXT,
    sha256_hex,
    write_bad_files,
)

# Real text from the seeds (file 004 opens with a breadcrumb; file 001 starts with Arabic).
SEED_004_SENTENCE = ("Russia’s presidential envoy to Afghanistan, Zamir Kabulov, cited Moscow’s successful resolution "
                     "to the 1995-1996 hostage crisis to justify his argument that dialogue with moderate Taliban "
                     "members can achieve positive results.")
SEED_001_NAV = "• عربي\n  • Fr\n  • Es\nNo Result\n"


def test_utf8_is_decoded_as_is():
    data = (SEEDS_DIR / SEED_004).read_bytes()
    verdict = decode_bytes(data)
    assert verdict.reason is None
    assert verdict.encoding == "utf-8"
    assert verdict.text == data.decode("utf-8")
    assert SEED_004_SENTENCE in verdict.text


def test_utf8_with_arabic_and_bullets():
    verdict = decode_bytes(SEED_001_NAV.encode("utf-8"))
    assert (verdict.encoding, verdict.text) == ("utf-8", SEED_001_NAV)


def test_utf8_bom_is_stripped():
    verdict = decode_bytes(codecs.BOM_UTF8 + SEED_004_SENTENCE.encode("utf-8"))
    assert verdict.encoding == "utf-8-sig"
    assert verdict.text == SEED_004_SENTENCE
    assert not verdict.text.startswith("\ufeff")


@pytest.mark.parametrize("encode", [
    lambda t: t.encode("utf-16"),                          # native order with BOM
    lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),
    lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
], ids=["utf-16", "utf-16-le-bom", "utf-16-be-bom"])
def test_utf16_with_bom(encode):
    verdict = decode_bytes(encode(UTF16_TEXT))
    assert verdict.reason is None
    assert verdict.encoding == "utf-16"
    assert verdict.text == UTF16_TEXT  # including the Cyrillic and the emoji (a surrogate pair)


def test_utf32_with_bom_is_not_mistaken_for_utf16():
    verdict = decode_bytes(SEED_004_SENTENCE.encode("utf-32"))
    assert (verdict.encoding, verdict.text) == ("utf-32", SEED_004_SENTENCE)


def test_bom_with_invalid_payload_is_undecodable():
    verdict = decode_bytes(codecs.BOM_UTF8 + b"Kabul \xff\xfe\xfd airport")
    assert verdict.text is None
    assert verdict.reason == "undecodable"


def test_cp1252_seed_text_is_decoded_to_the_same_characters():
    """Seed 003 has curly quotes, dashes and a no-break space: all in cp1252."""
    text = (SEEDS_DIR / SEED_003).read_text(encoding="utf-8")
    verdict = decode_bytes(text.encode("cp1252"))
    assert verdict.reason is None
    assert verdict.text == text


@pytest.mark.parametrize("text", [
    "Russia’s presidential envoy to Afghanistan, Zamir Kabulov, met diplomats in Genève.",
    CP1252_TEXT,
], ids=["one-sentence", "article"])
def test_cp1252_accented_letters_survive(text):
    """charset_normalizer's best() guess wins, and for English text with a few Western-European
    accents it is cp1257 or cp1250: decode_bytes('Russia’s presidential envoy to Afghanistan,
    Zamir Kabulov, met diplomats in Genève.'.encode('cp1252')) returns encoding 'cp1250' and
    '... in Genčve.'; 'déjà vu' becomes 'déją vu', 'très' 'trčs', 'São' 'Săo'. The mojibake
    reaches normalized_documents and dim_document without any warning. Fix: after strict UTF-8
    fails, try strict cp1252 before the statistical guess (or prefer cp1252 among the guesses)."""
    verdict = decode_bytes(text.encode("cp1252"))
    assert verdict.text == text
    assert verdict.encoding in ("cp1252", "windows-1252", "latin_1", "iso8859_1", "iso8859_15")


def test_empty_file():
    verdict = decode_bytes(b"")
    assert (verdict.text, verdict.reason) == (None, "empty")


def test_whitespace_only_has_no_text():
    verdict = decode_bytes(b" \n\t\r\n ")
    assert (verdict.text, verdict.reason) == (None, "no_text")


def test_nul_bytes_mean_binary():
    verdict = decode_bytes(BINARY_BYTES)
    assert (verdict.text, verdict.reason) == (None, "binary")
    # a single NUL inside otherwise valid UTF-8 text is enough
    assert decode_bytes(SEED_004_SENTENCE.encode() + b"\x00").reason == "binary"


def test_control_characters_mean_binary():
    data = ("Kabul " + "\x01\x02\x03\x04" * 10 + " airport").encode("ascii")
    assert decode_bytes(data).reason == "binary"


# ---------------------------------------------------------------------------
# ingest_folder
# ---------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(SEEDS_DIR, docs)
    expected = write_bad_files(docs)
    return docs, expected


def test_ingest_folder_splits_good_and_bad_files(folder):
    docs, expected = folder
    now = datetime(2024, 3, 28, 12, 0, 0)
    raw, bad = ingest_folder(docs, now=now)
    assert raw.schema == pl.Schema(RAW_SCHEMA)
    assert bad.schema == pl.Schema(QUARANTINE_SCHEMA)

    decoded = [name for name, reason in expected.items() if reason is None]
    assert sorted(raw["source_file"]) == sorted([*SEED_FILES, *decoded])
    assert dict(zip(bad["source_file"], bad["reason"])) == {k: v for k, v in expected.items() if v}
    # hidden files are neither ingested nor quarantined
    assert ".DS_Store" not in set(raw["source_file"]) | set(bad["source_file"])
    assert set(raw["ingested_at"]) == {now} and set(bad["quarantined_at"]) == {now}

    for row in raw.iter_rows(named=True):
        data = (docs / row["source_file"]).read_bytes()
        assert row["file_id"] == row["content_sha256"] == sha256_hex(data)
        assert row["size_bytes"] == len(data)
    encodings = dict(zip(raw["source_file"], raw["encoding"]))
    assert {encodings[f] for f in SEED_FILES} == {"utf-8"}
    assert encodings["export_utf16_bom.txt"] == "utf-16"
    texts = dict(zip(raw["source_file"], raw["raw_text"]))
    assert texts["export_utf16_bom.txt"] == UTF16_TEXT
    assert texts[SEED_003] == (SEEDS_DIR / SEED_003).read_text(encoding="utf-8")


def test_duplicate_keeps_the_first_name_and_quarantines_the_copy(folder):
    docs, _ = folder
    raw, bad = ingest_folder(docs)
    dup = bad.filter(pl.col("reason") == "duplicate").row(0, named=True)
    assert dup["source_file"] == "zz_copy_of_003.txt"
    assert SEED_003 in dup["detail"]
    assert dup["content_sha256"] == sha256_hex((SEEDS_DIR / SEED_003).read_bytes())
    assert raw["file_id"].is_unique().all()
    assert raw.filter(pl.col("file_id") == dup["content_sha256"])["source_file"].to_list() == [SEED_003]


def test_too_large_files_are_quarantined_without_reading(folder):
    docs, _ = folder
    limit = 10_300  # between the sizes of the seeds (8,653 ... 34,213 bytes)
    raw, bad = ingest_folder(docs, max_bytes=limit)
    too_large = bad.filter(pl.col("reason") == "too_large")
    sizes = {f.name: f.stat().st_size for f in docs.iterdir() if not f.name.startswith(".")}
    assert set(too_large["source_file"]) == {f for f, s in sizes.items() if s > limit}
    assert {SEED_FILES[0], SEED_003, "zz_copy_of_003.txt"} <= set(too_large["source_file"])
    assert too_large["content_sha256"].is_null().all()
    assert all(str(limit) in d for d in too_large["detail"])
    assert {f for f, s in sizes.items() if 0 < s <= limit and f != "scan_0001.bin"} == set(raw["source_file"])


def test_nested_folders_use_posix_relative_names(tmp_path):
    (tmp_path / "2024" / "march").mkdir(parents=True)
    shutil.copy(SEEDS_DIR / SEED_003, tmp_path / "2024" / "march" / "brookings.txt")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    raw, bad = ingest_folder(tmp_path)
    assert raw["source_file"].to_list() == ["2024/march/brookings.txt"]
    assert bad.height == 0


def test_empty_folder(tmp_path):
    raw, bad = ingest_folder(tmp_path)
    assert (raw.height, bad.height) == (0, 0)
    assert raw.schema == pl.Schema(RAW_SCHEMA)
    assert bad.schema == pl.Schema(QUARANTINE_SCHEMA)
