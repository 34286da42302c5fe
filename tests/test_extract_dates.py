"""dagster_project.extract.dates: date expressions -> [date_start, date_end] with a granularity.

Sentences are copied from the seed documents (quotes folded as normalize.clean_text does).
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from dagster_project.extract.dates import DATE_SCHEMA, extract_dates
from dagster_project.documents.ingest import ingest_folder
from dagster_project.documents.normalize import assemble_articles
from support import SEED_001, SEED_004, SEEDS_DIR, assert_offsets, docs_frame


def dates_in(text: str, published: date | None = None) -> list[dict]:
    docs = docs_frame(text, published=[published])
    out = extract_dates(docs)
    assert out.schema == pl.Schema(DATE_SCHEMA)
    assert_offsets(out, docs)
    return out.to_dicts()


def one(text: str, surface: str, published: date | None = None) -> dict:
    rows = [r for r in dates_in(text, published) if r["surface_text"] == surface]
    assert len(rows) == 1, f"expected one {surface!r} in {[r['surface_text'] for r in dates_in(text, published)]}"
    return rows[0]


def check(row: dict, start, end, granularity, inferred=False, calendar="gregorian"):
    assert (row["date_start"], row["date_end"], row["granularity"], row["year_inferred"], row["calendar"]) == (
        start, end, granularity, inferred, calendar)


# --- forms with a year ------------------------------------------------------------------


def test_day_month_year():
    check(one("15 September 2022", "15 September 2022"), date(2022, 9, 15), date(2022, 9, 15), "day")


def test_month_day_comma_year():
    check(one("March 28, 2024", "March 28, 2024"), date(2024, 3, 28), date(2024, 3, 28), "day")


def test_ordinal_day_first():
    text = ("On 1st June 2021 former Trump administration official Jason Miller launched \"Gettr\" a pro Trump, "
            "pro \"free speech\" alternative to Twitter, aimed at conservative Americans.")
    row = one(text, "1st June 2021")
    check(row, date(2021, 6, 1), date(2021, 6, 1), "day")
    assert row["char_start"] == 3


def test_ordinal_month_first():
    text = ("Without the protection from foreign force troops on the ground, who are due to decrease drastically "
            "more until September 11th, 2021, there will always be a struggle to maintain livelihoods")
    check(one(text, "September 11th, 2021"), date(2021, 9, 11), date(2021, 9, 11), "day")
    text = "On February 15th, 1989, the last Soviet soldier crossed the Friendship Bridge"
    check(one(text, "February 15th, 1989"), date(1989, 2, 15), date(1989, 2, 15), "day")


def readings(rows: list[dict]) -> list[tuple]:
    return [(r["surface_text"], r["date_start"], r["date_end"], r["granularity"]) for r in rows]


def test_coordinated_days_become_two_rows():
    text = ("On 17th and 18th of July 2021, peace talks were held in Doha between the Taliban and the Afghan "
            "government.")
    rows = dates_in(text)
    assert readings(rows) == [
        ("17th", date(2021, 7, 17), date(2021, 7, 17), "day"),
        ("18th of July 2021", date(2021, 7, 18), date(2021, 7, 18), "day"),
    ]
    assert not any(r["year_inferred"] for r in rows)
    assert (rows[0]["char_start"], rows[0]["char_end"]) == (3, 7)
    assert len({(r["char_start"], r["char_end"]) for r in rows}) == 2


def test_coordinated_months_become_two_rows():
    text = ("ISKP has also repeatedly attacked international targets in Afghanistan: the Russian and Pakistani "
            "embassies in Kabul in September and December 2022 and a hotel frequented by Chinese businessmen.")
    assert readings(dates_in(text)) == [
        ("September", date(2022, 9, 1), date(2022, 9, 30), "month"),
        ("December 2022", date(2022, 12, 1), date(2022, 12, 31), "month"),
    ]


def test_month_year():
    text = ("According to OHCHR data, October 2020 marked the highest monthly number of civilian casualties of "
            "the year")
    check(one(text, "October 2020"), date(2020, 10, 1), date(2020, 10, 31), "month")
    text = "In December 2015, former CIA counterterrorism expert Philip Mudd stated that Russia frequently shares"
    check(one(text, "December 2015"), date(2015, 12, 1), date(2015, 12, 31), "month")


def test_bare_year():
    text = ("The decision to open a political office hosting Taliban leaders in Doha in 2013, was a major step for "
            "the Afghan peace negotiations.")
    rows = dates_in(text)
    assert len(rows) == 1
    check(rows[0], date(2013, 1, 1), date(2013, 12, 31), "year")
    assert rows[0]["surface_text"] == "2013"


def test_part_of_decade():
    text = ("The major policy shift towards the Taliban occurred in the mid-2010s, following the 2014 breakdown of "
            "Russian-Western relations over Ukraine.")
    rows = dates_in(text)
    assert [r["surface_text"] for r in rows] == ["mid-2010s", "2014"]
    check(rows[0], date(2014, 1, 1), date(2016, 12, 31), "partial")
    check(rows[1], date(2014, 1, 1), date(2014, 12, 31), "year")


def test_decade():
    text = ("When the Afghan Civil War erupted in the 1990s, Russia tried to avoid any involvement in the "
            "conflict.")
    check(one(text, "1990s"), date(1990, 1, 1), date(1999, 12, 31), "decade")


def test_year_ranges():
    text = ("Russia's involvement in Afghanistan dates back to the Soviet-Afghan War (1979-1989). This experience "
            "shaped Russia's current approach")
    check(one(text, "1979-1989"), date(1979, 1, 1), date(1989, 12, 31), "range")
    text = ("From 2018-2019, the Taliban's ground operations against ISKP in Afghanistan's Nangarhar province "
            "crucially supplemented the U.S. air campaign against the group")
    check(one(text, "2018-2019"), date(2018, 1, 1), date(2019, 12, 31), "range")
    text = ("Although Qatar did not recognize the Taliban between 1996 and 2001, it maintained \"cordial\" "
            "relations with the group after 9/11.")
    rows = dates_in(text)
    assert [r["surface_text"] for r in rows] == ["between 1996 and 2001", "9/11"]
    check(rows[0], date(1996, 1, 1), date(2001, 12, 31), "range")
    check(rows[1], date(2001, 9, 11), date(2001, 9, 11), "day")


def test_part_of_year():
    text = ("In late 2022, the Taliban also presumably decimated ISKP cells targeting Uzbekistan & Tajikistan.")
    check(one(text, "late 2022"), date(2022, 9, 1), date(2022, 12, 31), "partial")


def test_solar_hijri_numeric_date_is_never_year_1400():
    text = ("Evidence confirms that Hekmat died at 5:00 AM on 5/8/1400 after surgery in response to the attack at "
            "a 200-bed hospital in Nimroz province.")
    rows = dates_in(text)
    assert len(rows) == 1
    row = rows[0]
    assert row["surface_text"] == "5/8/1400"
    # Solar Hijri 1400 = 21 March 2021 .. 20 March 2022
    check(row, date(2021, 3, 21), date(2022, 3, 20), "year", calendar="solar_hijri")
    assert row["date_start"].year != 1400 and row["date_end"].year != 1400


def test_solar_hijri_year_is_not_used_to_infer_later_years():
    text = ("Evidence confirms that Hekmat died at 5:00 AM on 5/8/1400 after surgery. Reports have described the "
            "Taliban to be recruiting minors since the withdrawal of American troops from Afghanistan in early "
            "July, where they are described as child soldiers")
    rows = {r["surface_text"]: r for r in dates_in(text)}
    assert set(rows) == {"5/8/1400", "early July"}
    # the Hijri year counts as the Gregorian year it starts in (1400 -> 2021), never as 1400
    check(rows["early July"], date(2021, 7, 1), date(2021, 7, 10), "partial", inferred=True)


def test_gregorian_numeric_date():
    check(one("He died on 13/8/2021 in Kabul.", "13/8/2021"), date(2021, 8, 13), date(2021, 8, 13), "day")


# --- year inference -----------------------------------------------------------------------


def test_year_inferred_from_publication_date():
    text = ("The Islamic State's Khorasan Province (ISKP) attacked the Russian embassy in Afghanistan with a suicide "
            "bomber on 5 September, killing six people")
    check(one(text, "5 September", date(2022, 9, 15)), date(2022, 9, 5), date(2022, 9, 5), "day", inferred=True)


def test_inferred_date_is_never_after_publication():
    text = "In December, Russian Foreign Minister Sergey Lavrov told Indian diplomats that Moscow supported"
    check(one(text, "December", date(2018, 1, 15)), date(2017, 12, 1), date(2017, 12, 31), "month", inferred=True)


@pytest.mark.parametrize("published,expected", [
    (date(2021, 8, 10), date(2021, 8, 8)),   # published two days later
    (date(2021, 8, 8), date(2021, 8, 8)),    # same day
    (date(2021, 8, 1), date(2020, 8, 8)),    # published before 8 August: the previous year's
])
def test_abbreviated_month_with_day(published, expected):
    text = "Source: Long War Journal (control areas as of Aug. 8) By Scott Reinhard"
    check(one(text, "Aug. 8", published), expected, expected, "day", inferred=True)


def test_year_inferred_from_preceding_year_without_publication_date():
    text = ("In 2021 the Taliban made unprecedented gains. Source: Long War Journal (control areas as of Aug. 8) "
            "On August 3rd and 6th, the Taliban demonstrated their ability to penetrate deep into Kabul.")
    rows = dates_in(text)
    assert [(r["surface_text"], r["date_start"], r["year_inferred"]) for r in rows] == [
        ("2021", date(2021, 1, 1), False),
        ("Aug. 8", date(2021, 8, 8), True),
        ("August 3rd", date(2021, 8, 3), True),
        ("6th", date(2021, 8, 6), True),
    ]


def test_no_year_anywhere_is_unresolved():
    text = ("On July 7th, a Taliban delegation visited Moscow and met with the Kremlin envoy for Afghanistan, "
            "Zamir Kabuluv.")
    row = one(text, "July 7th")
    assert (row["date_start"], row["date_end"], row["granularity"], row["year_inferred"]) == (
        None, None, "unresolved", False)


def test_lowercase_may_is_not_a_month():
    text = "The Taliban may interpret the move as an attempt to support the Afghan government. In May 2022, it launched"
    assert [r["surface_text"] for r in dates_in(text)] == ["May 2022"]


def test_text_without_dates_and_empty_input():
    assert dates_in("Officially, Russia continues to label the Taliban a terrorist organization.") == []
    empty = extract_dates(docs_frame())
    assert empty.height == 0 and empty.schema == pl.Schema(DATE_SCHEMA)


def test_ids_are_deterministic_and_unique():
    docs = docs_frame("On 17th and 18th of July 2021, peace talks were held in Doha.", "In 2013 and in 2013.")
    a, b = extract_dates(docs), extract_dates(docs.reverse())
    assert a.equals(b)
    assert not a.select("document_id", "char_start", "char_end").is_duplicated().any()


# --- on the real seeds ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_dates():
    raw, _ = ingest_folder(SEEDS_DIR)
    docs = assemble_articles(raw)
    return docs, extract_dates(docs)


def test_seed_dates_offsets_and_ranges(seed_dates):
    docs, dates = seed_dates
    assert dates.height > 50
    assert_offsets(dates, docs)
    resolved = dates.filter(pl.col("date_start").is_not_null())
    assert (resolved["date_end"] >= resolved["date_start"]).all()
    assert resolved.filter(pl.col("date_start").dt.year() < 1900).height == 0  # no Hijri year as Gregorian
    assert not dates.select("document_id", "char_start", "char_end").is_duplicated().any()


def test_seed_001_dates_come_from_the_body_only(seed_dates):
    docs, dates = seed_dates
    doc = docs.filter(pl.col("source_file") == SEED_001)
    rows = dates.join(doc.select("document_id"), on="document_id")
    assert rows.filter(pl.col("date_start").dt.year() >= 2023).height == 0  # related posts are from 2023
    sept = rows.filter(pl.col("surface_text") == "5 September").row(0, named=True)
    assert (sept["date_start"], sept["year_inferred"]) == (date(2022, 9, 5), True)
    # "... Ayman al-Zawahiri was killed in the Taliban capital at the end of July."
    july = rows.filter(pl.col("surface_text").str.ends_with("July")).row(0, named=True)
    assert july["date_start"].year == 2022 and july["date_start"].month == 7
    assert (july["date_end"], july["year_inferred"]) == (date(2022, 7, 31), True)


def test_seed_004_december_is_the_year_before_publication(seed_dates):
    docs, dates = seed_dates
    doc_id = docs.filter(pl.col("source_file") == SEED_004)["document_id"][0]
    first = dates.filter(pl.col("document_id") == doc_id).sort("char_start").row(0, named=True)
    assert (first["surface_text"], first["date_start"], first["granularity"]) == ("December", date(2017, 12, 1), "month")


# --- impossible calendar dates ----------------------------------------------------------------

# An impossible calendar date (a typo, or February 29 inferred into a non-leap year) becomes an
# unresolved row; it must never fail the batch.


@pytest.mark.parametrize("text,published", [
    ("On 31 September 2021 the talks resumed in Doha.", None),
    ("The attack happened on 2021-02-30 in Kabul.", None),
    ("The attack happened on 31/02/2021 in Kabul.", None),
    ("On February 29, the Taliban delegation visited Moscow.", date(2023, 3, 1)),
], ids=["31-september", "iso-feb-30", "numeric-feb-31", "feb-29-inferred-non-leap"])
def test_impossible_dates_are_unresolved_not_fatal(text, published):
    rows = dates_in(text, published)
    assert len(rows) == 1
    assert rows[0]["granularity"] == "unresolved" and rows[0]["date_start"] is None


def test_one_bad_date_does_not_sink_the_other_documents():
    docs = docs_frame("On 17th and 18th of July 2021, peace talks were held in Doha.",
                      "On 31 September 2021 the talks resumed in Doha.")
    out = extract_dates(docs)
    assert out.filter(pl.col("document_id") == "doc0").height == 2
