"""The event taxonomy: trigger words -> event_type, ACLED event / sub-event type (names verbatim
from the ACLED codebook, 2023), PLOVER code (Halterman et al., "PLOVER and POLECAT", 2023).

Each trigger is a regex over lower-cased text with ASCII word boundaries. When a sentence
holds several triggers the most specific wins (lowest `rank`): a suicide bombing is an attack,
a bombing and a killing at once, and is coded as the suicide bombing.

| event_type            | ACLED event type            | ACLED sub-event type                 | PLOVER   |
|-----------------------|-----------------------------|--------------------------------------|----------|
| suicide_bombing       | Explosions/Remote violence  | Suicide bomb                         | ASSAULT  |
| air_strike            | Explosions/Remote violence  | Air/drone strike                     | ASSAULT  |
| shelling              | Explosions/Remote violence  | Shelling/artillery/missile attack    | ASSAULT  |
| grenade               | Explosions/Remote violence  | Grenade                              | ASSAULT  |
| bombing               | Explosions/Remote violence  | Remote explosive/landmine/IED        | ASSAULT  |
| abduction             | Violence against civilians  | Abduction/forced disappearance       | ASSAULT  |
| armed_clash           | Battles                     | Armed clash                          | ASSAULT  |
| territory_seized      | Battles                     | Non-state actor overtakes territory  | ASSAULT  |
| attack                | Violence against civilians  | Attack                               | ASSAULT  |
| killing               | Violence against civilians  | Attack                               | ASSAULT  |
| arrest                | Strategic developments      | Arrests                              | COERCE   |
| agreement             | Strategic developments      | Agreement                            | AGREE    |
| withdrawal            | Strategic developments      | Non-violent transfer of territory    | RETREAT  |
| designation           | (none)                      | (none)                               | SANCTION |
| sanction              | (none)                      | (none)                               | SANCTION |
| recognition           | (none)                      | (none)                               | SUPPORT  |
| support               | (none)                      | (none)                               | SUPPORT  |
| talks                 | (none)                      | (none)                               | CONSULT  |
| visit                 | (none)                      | (none)                               | CONSULT  |

ACLED codes an attack on an armed force as a battle and one on civilians as violence against
civilians; the trigger alone cannot tell, so `attack` keeps ACLED's default for one-sided
attacks and the event's target decides downstream only where the text says so (an attack on
"soldiers", "troops", "police" or "forces" is an Armed clash).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class EventKind:
    event_type: str
    acled_event_type: str | None
    acled_sub_event_type: str | None
    plover_event_type: str
    violent: bool


KINDS = {
    k.event_type: k for k in [
        EventKind("suicide_bombing", "Explosions/Remote violence", "Suicide bomb", "ASSAULT", True),
        EventKind("air_strike", "Explosions/Remote violence", "Air/drone strike", "ASSAULT", True),
        EventKind("shelling", "Explosions/Remote violence", "Shelling/artillery/missile attack", "ASSAULT", True),
        EventKind("grenade", "Explosions/Remote violence", "Grenade", "ASSAULT", True),
        EventKind("bombing", "Explosions/Remote violence", "Remote explosive/landmine/IED", "ASSAULT", True),
        EventKind("abduction", "Violence against civilians", "Abduction/forced disappearance", "ASSAULT", True),
        EventKind("armed_clash", "Battles", "Armed clash", "ASSAULT", True),
        EventKind("territory_seized", "Battles", "Non-state actor overtakes territory", "ASSAULT", True),
        EventKind("military_campaign", "Battles", "Armed clash", "ASSAULT", True),
        EventKind("riot", "Riots", "Violent demonstration", "PROTEST", True),
        EventKind("protest", "Protests", "Peaceful protest", "PROTEST", False),
        EventKind("attack", "Violence against civilians", "Attack", "ASSAULT", True),
        EventKind("killing", "Violence against civilians", "Attack", "ASSAULT", True),
        EventKind("arrest", "Strategic developments", "Arrests", "COERCE", False),
        EventKind("agreement", "Strategic developments", "Agreement", "AGREE", False),
        EventKind("withdrawal", "Strategic developments", "Non-violent transfer of territory", "RETREAT", False),
        EventKind("designation", None, None, "SANCTION", False),
        EventKind("sanction", None, None, "SANCTION", False),
        EventKind("recognition", None, None, "SUPPORT", False),
        EventKind("support", None, None, "SUPPORT", False),
        EventKind("talks", None, None, "CONSULT", False),
        EventKind("visit", None, None, "CONSULT", False),
    ]
}

_B = "(?-u:\\b)"

# (event_type, pattern over lower-cased text). Order = rank: the first matching kind of a
# sentence wins.
TRIGGERS: list[tuple[str, str]] = [
    ("suicide_bombing", rf"{_B}suicide (?:bomb(?:er|ers|ing|ings)?|attack(?:er|ers|s)?|blast|car bomb(?:ing)?|vest|truck bomb){_B}"
                        rf"|{_B}blew (?:himself|herself|themselves) up{_B}|{_B}self-immolat\w*"),
    ("air_strike", rf"{_B}(?:air ?strikes?|airstrikes?|air raids?|drone (?:strikes?|attacks?)|bombing raids?|air campaign|"
                   rf"bombing campaign|aerial (?:bombardment|attacks?|strikes?)|warplanes? (?:struck|bombed|hit)){_B}"),
    ("shelling", rf"{_B}(?:shell(?:ing|ed|s)|artillery (?:fire|strikes?|attacks?)|mortar (?:fire|shells?|rounds?|attacks?)|"
                 rf"rocket (?:attacks?|fire)|fired (?:\w+ ){{0,4}}(?:rockets|mortars|missiles|shells)|missile (?:strikes?|attacks?)|"
                 rf"salvos?|barrages?|katyushas?){_B}"),
    ("grenade", rf"{_B}(?:grenade (?:attacks?|blast)|hurled (?:a )?grenades?|threw (?:a )?grenades?){_B}"),
    ("bombing", rf"{_B}(?:bomb(?:ing|ings|ed|s)?|blasts?|explosions?|explosives?|exploded|detonat(?:ed|ion|ing)|"
                rf"ieds?|improvised explosive devices?|roadside bombs?|car bombs?|landmines?|land mines?){_B}"),
    ("abduction", rf"{_B}(?:kidnap(?:ped|ping|pings|s)?|abduct(?:ed|ion|ions|s)?|taken hostage|took (?:\w+ )?hostages?|"
                  rf"hostage-taking|hostage crisis){_B}"),
    ("armed_clash", rf"{_B}(?:clash(?:ed|es)?|gun ?battles?|firefights?|fought|fighting|battles? (?:for|with|against)|"
                    rf"ambush(?:ed|es)?|exchange of fire|skirmish(?:es)?|(?:ground |military |counter-?terrorism )?operations? against){_B}"),
    ("territory_seized", rf"{_B}(?:seized|captured|capture of|overran|took control of|took over|fell to|takeover of|taken over|"
                         rf"regained|retook|recaptured|lost (?:\w+ ){{0,4}}territory|los(?:es|ing) control|lost control){_B}"),
    ("military_campaign", rf"{_B}(?:offensives?|invasion|invaded|insurgency|civil war|war (?:in|against|on)|military campaign|"
                          rf"campaign against|military intervention|intervened){_B}"),
    ("riot", rf"{_B}(?:riots?|rioters|rioting|mob (?:attacked|stormed)|violent protests?){_B}"),
    ("protest", rf"{_B}(?:protest(?:ed|ers|s)?|demonstrations?|demonstrators|demonstrated (?:against|in|outside)|"
                rf"rall(?:y|ies) against|march(?:ed)? against){_B}"),
    ("attack", rf"{_B}(?:attack(?:ed|s|ing)?|assault(?:ed|s)?|stormed|raid(?:ed|s)?|opened fire|shooting|shot|"
               rf"gunmen|massacre[ds]?|rampage|stabb(?:ed|ing)|rammed){_B}"),
    ("killing", rf"{_B}(?:killed|killing|killings|murder(?:ed|s)?|executed|execution|beheaded|assassinat(?:ed|ion)|"
                rf"slain|death toll|eliminated|liquidated){_B}"),
    ("arrest", rf"{_B}(?:arrest(?:ed|s)?|detain(?:ed|s)?|detention of|taken into custody|apprehended){_B}"),
    ("agreement", rf"{_B}(?:sign(?:ed|ing) (?:a |an |the )?(?:\w+ ){{0,3}}(?:agreement|deal|accord|treaty|memorandum)|"
                  rf"(?:peace |ceasefire |cease-fire )?(?:agreement|accord|deal) (?:was |were )?(?:reached|signed|struck)|"
                  rf"agreed to|reached (?:an |a )?(?:agreement|deal)|truce|reconciliation|peace deal|peace accord){_B}"),
    ("withdrawal", rf"{_B}(?:withdr(?:ew|awn|awal|aw)|pull(?:ed)? out|pullout|handed over|evacuat(?:ed|ion)){_B}"),
    ("designation", rf"{_B}(?:designat(?:ed|ion|es)|blacklist(?:ed)?|listed (?:as|among)|labell?(?:ed|s|ing)? (?:\w+ ){{0,3}}(?:as )?(?:a |an )?"
                    rf"(?:terrorist|extremist)|banned|outlawed){_B}"),
    ("sanction", rf"{_B}(?:sanction(?:ed|s)|imposed (?:new )?(?:sanctions|restrictions)|froze (?:the )?assets|asset freeze){_B}"),
    ("recognition", rf"{_B}(?:recogni[sz](?:ed|ing|es)|recognition of|accredited|accept(?:ed|ing|s)? (?:\w+ ){{0,3}}ambassador|"
                    rf"established (?:diplomatic )?relations){_B}"),
    ("support", rf"{_B}(?:supported|backed|endorsed|provid(?:ed|ing|es) (?:\w+ ){{0,5}}(?:aid|assistance|weapons|arms|support|intelligence|funding|money)|"
                rf"suppl(?:ied|ying|ies) (?:\w+ ){{0,6}}(?:weapons|arms|intelligence|aid)|armed (?:the|them)|threw (?:its |their )?support|support (?:for|to)){_B}"),
    ("talks", rf"{_B}(?:talks|negotiations?|negotiated|met with|meeting (?:with|between)|held (?:a )?meetings?|"
              rf"summit|conference|consultations|dialogue with|hosted (?:a |the )?(?:delegation|meeting|talks|conference)|"
              rf"mediat(?:ion|ed|ing|es)|diplomatic (?:contacts?|links?|ties|relations|engagement)|approached){_B}"),
    ("visit", rf"{_B}(?:visit(?:ed|s)?|delegation (?:visited|travell?ed|arrived)|travell?ed to|trip to|invited to){_B}"),
]
RANK = {name: i for i, (name, _) in enumerate(TRIGGERS)}

# Casualty words alone ("killed", "died") are events only with a figure or an agent nearby;
# they are kept at the lowest rank so that a sentence with any other trigger takes that one.
WEAK_TRIGGERS = {"killing"}


def kind_frame() -> pl.DataFrame:
    """event_type -> acled_event_type, acled_sub_event_type, plover_event_type, violent, rank."""
    return pl.DataFrame(
        [(k.event_type, k.acled_event_type, k.acled_sub_event_type, k.plover_event_type, k.violent, RANK[k.event_type])
         for k in KINDS.values()],
        schema={"event_type": pl.String, "acled_event_type": pl.String, "acled_sub_event_type": pl.String,
                "plover_event_type": pl.String, "violent": pl.Boolean, "rank": pl.Int32},
        orient="row",
    )


# The family an event belongs to for linking: reports of one event may name it differently
# (a "blast" in one article, a "suicide attack" in another, an "attack" in a third).
FAMILY = {name: ("violence" if KINDS[name].violent else name) for name in KINDS}
FAMILY.update({"talks": "consult", "visit": "consult", "designation": "sanction", "sanction": "sanction"})


# Types that may name the same event: a generic attack or killing may be any violent event;
# otherwise the kinds must share a group (a "bombing" may be the "suicide bombing" another
# article names, never an armed clash).
_COMPATIBLE_GROUPS = [
    {"suicide_bombing", "bombing", "grenade"},
    {"armed_clash", "military_campaign", "territory_seized"},
    {"air_strike"}, {"shelling"}, {"abduction"}, {"riot"},
]
_GENERIC = {"attack", "killing"}


def compatible(a: str, b: str) -> bool:
    """Whether event types a and b may be one event."""
    if a == b:
        return True
    if FAMILY.get(a) != FAMILY.get(b):
        return False
    if FAMILY.get(a) != "violence":
        return True
    if a in _GENERIC or b in _GENERIC:
        return True
    return any(a in g and b in g for g in _COMPATIBLE_GROUPS)


def compatibility_frame() -> "pl.DataFrame":
    """Every compatible (event_type, event_type_b) pair, for joins."""
    names = sorted(KINDS)
    return pl.DataFrame([(a, b) for a in names for b in names if compatible(a, b)],
                        schema={"event_type": pl.String, "event_type_b": pl.String}, orient="row")
