"""dagster_project.extract.actors: gazetteer loading, validation and mention extraction.

Sentences are copied from the seed documents (quotes folded as normalize.clean_text does).
"""

from __future__ import annotations

import polars as pl
import pytest

from dagster_project.extract.actors import (
    ACTOR_TYPES,
    GAZETTEER_SCHEMA,
    MENTION_SCHEMA,
    actor_id_for,
    build_matcher,
    extract_actor_mentions,
    load_gazetteer,
    validate_gazetteer,
)
from dagster_project.documents.ingest import ingest_folder
from dagster_project.documents.normalize import assemble_articles
from support import SEEDS_DIR, assert_offsets, docs_frame


@pytest.fixture(scope="module")
def gazetteer() -> pl.DataFrame:
    return load_gazetteer()


@pytest.fixture(scope="module")
def matcher(gazetteer):
    return build_matcher(gazetteer)


@pytest.fixture(scope="module")
def keys(gazetteer) -> dict[str, str]:
    """actor_id -> actor_key"""
    return dict(zip(gazetteer["actor_id"], gazetteer["actor_key"]))


@pytest.fixture
def mentions(gazetteer, matcher, keys):
    def run(*texts: str) -> list[tuple[str, str]]:
        docs = docs_frame(*texts)
        out = extract_actor_mentions(docs, gazetteer, matcher)
        assert out.schema == pl.Schema(MENTION_SCHEMA)
        assert_offsets(out, docs)
        return [(r["surface_text"], keys[r["actor_id"]]) for r in out.sort("document_id", "char_start").to_dicts()]
    return run


# --- the gazetteer --------------------------------------------------------------------------


def test_gazetteer_loads_and_is_valid(gazetteer):
    assert gazetteer.schema == pl.Schema(GAZETTEER_SCHEMA)
    assert gazetteer.height >= 500
    assert validate_gazetteer(gazetteer) == []
    assert gazetteer["actor_key"].is_unique().all() and gazetteer["actor_id"].is_unique().all()
    assert set(gazetteer["actor_type"]) == set(ACTOR_TYPES)
    for key, actor_id, name, aliases in gazetteer.select("actor_key", "actor_id", "canonical_name",
                                                         "aliases").iter_rows():
        assert actor_id == actor_id_for(key)
        assert aliases[0] == name and len(aliases) == len(set(aliases)) and "" not in aliases


def test_gazetteer_rows(gazetteer):
    by_key = {r["actor_key"]: r for r in gazetteer.iter_rows(named=True)}
    iskp = by_key["iskp"]
    assert (iskp["canonical_name"], iskp["actor_type"], iskp["country_code"]) == (
        "Islamic State Khorasan Province", "armed_group", "AFG")
    assert {"ISKP", "ISIS-K", "ISIS-Khorasan", "Islamic State's Khorasan Province",
            "Islamic State of Iraq and the Levant – Khorasan Province"} <= set(iskp["aliases"])
    assert by_key["islamic_state"]["country_code"] is None
    assert (by_key["ttp"]["country_code"], by_key["isi"]["actor_type"]) == ("PAK", "government_body")
    assert {"Kabulov", "Kabuluv", "Zamir Kabuluv"} <= set(by_key["zamir_kabulov"]["aliases"])


@pytest.mark.parametrize("change,problem", [
    (lambda g: pl.concat([g, g.head(1)]), "duplicate actor_key"),
    (lambda g: g.with_columns(actor_type=pl.when(pl.col("actor_key") == "iskp").then(pl.lit("militia"))
                              .otherwise("actor_type")), "unknown actor_type"),
    (lambda g: g.with_columns(country_code=pl.when(pl.col("actor_key") == "iskp").then(pl.lit("AF"))
                              .otherwise("country_code")), "alpha-3"),
    (lambda g: g.with_columns(aliases=pl.when(pl.col("actor_key") == "islamic_state")
                              .then(pl.col("aliases").list.concat(pl.lit(["ISKP"])))
                              .otherwise("aliases")), "aliases shared by several actors"),
])
def test_validate_gazetteer_reports_problems(gazetteer, change, problem):
    problems = validate_gazetteer(change(gazetteer))
    assert any(problem in p for p in problems), problems


def test_shared_alias_problem_names_the_alias(gazetteer):
    broken = gazetteer.with_columns(aliases=pl.when(pl.col("actor_key") == "taliban")
                                    .then(pl.col("aliases").list.concat(pl.lit(["ttp"])))  # folds onto nothing
                                    .otherwise("aliases"))
    assert validate_gazetteer(broken) == []  # 'ttp' (any case) vs 'TTP' (exact) are different lookups
    broken = gazetteer.with_columns(aliases=pl.when(pl.col("actor_key") == "taliban")
                                    .then(pl.col("aliases").list.concat(pl.lit(["Kabul"])))
                                    .otherwise("aliases"))
    assert "kabul" in " ".join(validate_gazetteer(broken))


# --- matching rules ---------------------------------------------------------------------------


def test_longest_match_wins_ttp(mentions):
    text = ("Jihadists from abroad joined the new Islamic State branch, and ISKP also intensively intermingled with "
            "another militant group in eastern Afghanistan: Tehrik-e-Taliban Pakistan (TTP).")
    found = mentions(text)
    assert ("Tehrik-e-Taliban Pakistan", "ttp") in found and ("TTP", "ttp") in found
    assert not [m for m in found if m[1] in ("taliban", "pakistan")]
    assert found == [("Islamic State", "islamic_state"), ("ISKP", "iskp"), ("Afghanistan", "afghanistan"),
                     ("Tehrik-e-Taliban Pakistan", "ttp"), ("TTP", "ttp")]


def test_isi_is_never_isis(mentions):
    text = ("Since the decision of U.S. President Joe Biden to withdraw troops from Afghanistan and allow Pakistan's "
            "Inter-Services Intelligence (ISI) agency to reconquer the country through the Taliban and Al-Qaeda in "
            "August 2021, overthrowing the elected government")
    found = mentions(text)
    assert [m for m in found if m[1] == "isi"] == [("Inter-Services Intelligence", "isi"), ("ISI", "isi")]
    assert not [m for m in found if m[1] == "islamic_state"]
    assert ("U.S.", "usa") in found and ("Pakistan", "pakistan") in found and ("Taliban", "taliban") in found


def test_islamic_state_khorasan_province_is_only_iskp(mentions):
    text = ("The horrific terrorist attack against the Crocus concert hall in Moscow has been claimed by the "
            "Islamic State Khorasan Province (ISKP), the same Afghanistan-based terrorist group")
    found = mentions(text)
    assert [m for m in found if m[1] in ("iskp", "islamic_state")] == [
        ("Islamic State Khorasan Province", "iskp"), ("ISKP", "iskp")]


def test_iskp_aliases_resolve_to_one_actor(mentions, gazetteer):
    texts = [
        "The Islamic State's Khorasan Province (ISKP) attacked the Russian embassy in Afghanistan",
        "First, the rise of the Islamic State of Iraq and the Levant – Khorasan Province (ISKP) in Afghanistan "
        "raised alarms in Moscow.",
        "The Taliban, despite its own internal complexities, presents itself as a force capable of providing "
        "security and suppressing groups like ISIS-Khorasan (ISIS-K).",
    ]
    found = mentions(*texts)
    iskp = [m for m in found if m[1] == "iskp"]
    assert [m[0] for m in iskp] == ["Islamic State's Khorasan Province", "ISKP",
                                    "Islamic State of Iraq and the Levant – Khorasan Province", "ISKP",
                                    "ISIS-Khorasan", "ISIS-K"]
    assert not [m for m in found if m[1] == "islamic_state"]


def test_kabulov_spellings_are_one_actor(mentions):
    found = mentions(
        "Russia's presidential envoy to Afghanistan, Zamir Kabulov, cited Moscow's successful resolution",
        "On July 7th, a Taliban delegation visited Moscow and met with the Kremlin envoy for Afghanistan, Zamir Kabuluv.",
        "Kabulov said so, and Kabuluv repeated it.",
    )
    kab = [m for m in found if m[1] == "zamir_kabulov"]
    assert [m[0] for m in kab] == ["Zamir Kabulov", "Zamir Kabuluv", "Kabulov", "Kabuluv"]


def test_lowercase_us_and_is_never_match(mentions):
    text = ("Please support us by disabling your AdBlocker extension. This is a longstanding messaging campaign "
            "from ISIS. Kandahar and Kabul insiders tell me that the Taliban has permitted Tehran to continue; "
            "it is US policy, and IS claimed it.")
    found = mentions(text)
    assert ("us", "usa") not in found and ("is", "islamic_state") not in found
    assert not [m for m in found if m[0] in ("us", "is", "Is", "Us")]
    assert ("US", "usa") in found and ("IS", "islamic_state") in found and ("ISIS", "islamic_state") in found


def test_possessives_and_hyphenated_compounds_match(mentions):
    assert mentions("The catalyst for its policy shift was the Taliban's recognition of Chechnya.") == [
        ("Taliban", "taliban"), ("Chechnya", "chechnya")]
    assert mentions("The Evolving Russian-Taliban Relations") == [("Russian", "russia"), ("Taliban", "taliban")]
    assert mentions("Russia supplied the U.S.-led coalition against the Taliban and al-Qaeda with intelligence")[:3] == [
        ("Russia", "russia"), ("U.S.", "usa"), ("Taliban", "taliban")]
    assert ("US", "usa") in mentions("following the total withdrawal of US-led troops from Afghanistan")
    assert mentions("Russia got off the fence and threw its support behind the anti-Taliban Northern Alliance.") == [
        ("Russia", "russia"), ("Taliban", "taliban"), ("Northern Alliance", "northern_alliance")]


def test_case_insensitive_aliases(mentions):
    found = mentions("The US should lead the way in insisting that any engagement with the taliban is contingent "
                     "on progress; the situation in afghanistan and russia")
    assert ("taliban", "taliban") in found and ("afghanistan", "afghanistan") in found and ("russia", "russia") in found


def test_word_boundaries(mentions):
    assert mentions("Talibanization of Kabulistan and Irani politics") == []


def test_offsets_after_multibyte_text(mentions):
    found = mentions("Посольство России в Кабуле — the Russian embassy in Kabul 📍 was attacked by ISKP.")
    assert found == [("Russian", "russia"), ("Kabul", "kabul"), ("ISKP", "iskp")]


def test_ids_are_deterministic(gazetteer, matcher):
    docs = docs_frame("Tehrik-e-Taliban Pakistan (TTP)", "Zamir Kabulov and the Taliban")
    a = extract_actor_mentions(docs, gazetteer, matcher)
    b = extract_actor_mentions(docs.reverse(), gazetteer)
    assert a.equals(b)
    assert not a.select("document_id", "char_start").is_duplicated().any()


def test_seed_mentions(gazetteer, matcher, keys):
    raw, _ = ingest_folder(SEEDS_DIR)
    docs = assemble_articles(raw)
    out = extract_actor_mentions(docs, gazetteer, matcher)
    assert_offsets(out, docs)
    assert not out.select("document_id", "char_start").is_duplicated().any()
    assert not out["surface_text"].is_in(["us", "is", "Is", "Us"]).any()
    by_actor = out.with_columns(key=pl.col("actor_id").replace_strict(keys)).group_by("key").len()
    counts = dict(by_actor.iter_rows())
    assert counts["taliban"] > 200 and counts["iskp"] > 50 and counts["ttp"] == 5 and counts["isi"] == 2
    assert counts["zamir_kabulov"] == 3  # "Zamir Kabuluv" twice in 000, "Zamir Kabulov" once in 004
    iskp_forms = set(out.filter(pl.col("actor_id") == actor_id_for("iskp"))["surface_text"])
    assert {"ISKP", "ISIS-K", "ISIS-Khorasan", "Islamic State's Khorasan Province", "Islamic State Khorasan Province",
            "Islamic State of Iraq and the Levant – Khorasan Province"} <= iskp_forms
