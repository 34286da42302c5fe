"""Helpers shared by the test modules (imported as `support`; pytest puts tests/ on sys.path)."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import duckdb
import polars as pl

REPO_ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = REPO_ROOT / "seeds"

SEED_000 = "000_01229dbda35faaa8.txt"
SEED_001 = "001_c0c906e45ef5adaf.txt"
SEED_002 = "002_54c70d6161487893.txt"
SEED_003 = "003_e9a858076d68c2bc.txt"
SEED_004 = "004_eceaff661c3caaec.txt"
SEED_FILES = (SEED_000, SEED_001, SEED_002, SEED_003, SEED_004)

# The seven posts of the "Rise to Peace" page in seed 000, in reading order.
SEED_000_HEADLINES = [
    "Qatar's Mediation Challenges in the Afghan Peace Process",
    "Deradicalization and Combating Domestic Terrorism in the U.S",
    "A Bleak Picture for Afghanistan: A Weekly Update on Taliban Advances",
    "Afghan Youth Killed by Iranian Police Whilst Fleeing the Taliban",
    "Support Services for Victims of Terror in the United States: What Is Available?",
    "Can ISIL succeed in their political objective in 2021?",
    "The Evolving Russian-Taliban Relations",
]

# ---------------------------------------------------------------------------
# Bad / unusual input files added next to the seeds for the end-to-end build.
# ---------------------------------------------------------------------------

EMPTY_FILE = "empty.txt"
BINARY_FILE = "scan_0001.bin"
CP1252_FILE = "legacy_cp1252.txt"
UTF16_FILE = "export_utf16_bom.txt"
# Sorts after 003_... so the seed keeps its name and the copy is the one quarantined.
DUPLICATE_FILE = "zz_copy_of_003.txt"
HIDDEN_FILE = ".DS_Store"

# Real sentences from seed 004, plus Western-European accented words (à, è, é, ü, « »)
# that only a correct cp1252 / latin-1 decode keeps.
CP1252_TEXT = (
    "Russia’s Taliban Engagement: A View from Genève\n"
    "\n"
    "In December, Russian Foreign Minister Sergey Lavrov told Indian diplomats that Moscow supported "
    "diplomatic engagement with the Taliban. A European diplomat in Genève described the Kremlin’s "
    "approach as « déjà vu », and a café owner in Zürich said the talks were très sérieux.\n"
    "\n"
    "Russia’s presidential envoy to Afghanistan, Zamir Kabulov, cited Moscow’s successful resolution to "
    "the 1995-1996 hostage crisis to justify his argument that dialogue with moderate Taliban members can "
    "achieve positive results. Officially, Russia continues to label the Taliban a terrorist organization. "
    "Since 2007, however, Moscow has unofficially maintained diplomatic links with Taliban members.\n"
)
CP1252_TITLE = "Russia's Taliban Engagement: A View from Genève"

# Real sentences from seed 001, plus Cyrillic and a non-BMP emoji before a mention (a
# surrogate pair in UTF-16, one code point in Python, DuckDB and polars).
UTF16_TEXT = (
    "ISKP and the Attack on the Russian Embassy\n"
    "\n"
    "The Islamic State’s Khorasan Province (ISKP) attacked the Russian embassy in Afghanistan with a "
    "suicide bomber on 5 September, killing six people, including a senior diplomat. Посольство России в "
    "Кабуле — the Russian embassy in Kabul 📍 — was the target.\n"
    "\n"
    "About two-dozen people were wounded in the attack, according to Al-Naba. The Taliban and its "
    "Al-Qaeda accessory have fought fiercely with ISKP for many years, and ISKP still survived.\n"
)
UTF16_TITLE = "ISKP and the Attack on the Russian Embassy"

BINARY_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 8 + b"\x00\x00\x00endstream"


def write_bad_files(folder: Path) -> dict[str, str | None]:
    """Write the unusual files into `folder`; returns {file name: expected quarantine reason or None}."""
    (folder / EMPTY_FILE).write_bytes(b"")
    (folder / BINARY_FILE).write_bytes(BINARY_BYTES)
    (folder / CP1252_FILE).write_bytes(CP1252_TEXT.encode("cp1252"))
    (folder / UTF16_FILE).write_bytes(UTF16_TEXT.encode("utf-16"))  # with BOM
    (folder / DUPLICATE_FILE).write_bytes((SEEDS_DIR / SEED_003).read_bytes())
    (folder / HIDDEN_FILE).write_bytes(b"\x00\x00\x00\x01Bud1")
    return {
        EMPTY_FILE: "empty",
        BINARY_FILE: "binary",
        DUPLICATE_FILE: "duplicate",
        HIDDEN_FILE: "hidden",  # not read, but accounted for with a quarantine row
        CP1252_FILE: None,
        UTF16_FILE: None,
    }


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------
# Assertions
# ---------------------------------------------------------------------------


def assert_offsets(extracted: pl.DataFrame, documents: pl.DataFrame, *, id_col: str = "document_id",
                   text_col: str = "body_text", surface_col: str = "surface_text") -> None:
    """Every row satisfies body[char_start:char_end] == surface_text (Python string slicing,
    i.e. code points), with 0 <= char_start < char_end <= len(body)."""
    bodies = dict(zip(documents[id_col].to_list(), documents[text_col].to_list()))
    bad = []
    for row in extracted.iter_rows(named=True):
        body = bodies[row[id_col]]
        start, end = row["char_start"], row["char_end"]
        ok = 0 <= start < end <= len(body) and body[start:end] == row[surface_col]
        if not ok:
            bad.append((row[surface_col], start, end, body[max(start, 0):max(end, 0)]))
    assert not bad, f"offsets do not point at surface_text: {bad[:5]}"


def docs_frame(*texts: str, published: list | None = None) -> pl.DataFrame:
    """A documents frame (document_id, body_text, published_date) for the extractors."""
    return pl.DataFrame(
        {
            "document_id": [f"doc{i}" for i in range(len(texts))],
            "body_text": list(texts),
            "published_date": published if published is not None else [None] * len(texts),
        },
        schema={"document_id": pl.String, "body_text": pl.String, "published_date": pl.Date},
    )


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Run one query on a DuckDB file opened read-only, and close it again (never keep a
    connection: DuckDB caches open databases per process)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def duckdb_cli() -> Path | None:
    """The `duckdb` CLI of the PyPI package duckdb-cli (DuckDB 1.4), next to this interpreter."""
    for name in ("duckdb", "duckdb.exe"):
        candidate = Path(sys.executable).parent / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None
