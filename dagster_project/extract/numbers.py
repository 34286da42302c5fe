"""Number phrases: regex building blocks and a parser for their values.

The regexes are shared by the statistics extractor; `parse_number` turns a matched
number phrase ("six", "two-dozen", "a hundred and two", "1,200", "3.5 million")
into a float, or None for a vague quantity ("hundreds", "dozens").
"""

from __future__ import annotations

import re
from functools import lru_cache

_UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
WORD_VALUES = {w: i + 1 for i, w in enumerate(_UNITS)}
WORD_VALUES.update({w: i + 10 for i, w in enumerate(_TEENS)})
WORD_VALUES.update({w: (i + 2) * 10 for i, w in enumerate(_TENS)})
WORD_VALUES.update({"a": 1, "an": 1, "a single": 1, "single": 1, "zero": 0, "no": 0})
SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000,
          "dozen": 12, "score": 20, "k": 1_000, "m": 1_000_000, "bn": 1_000_000_000, "mn": 1_000_000}

_U = "|".join(_UNITS)
_BELOW100 = rf"(?:(?:{'|'.join(_TENS)})(?:[- ](?:{_U}))?|{'|'.join(_TEENS)}|{_U})"
DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_SCALE = r"(?:hundred|thousand|million|billion)"
WORDNUM = (
    rf"(?:(?:a|one|{_BELOW100})[- ]{_SCALE}(?:(?:,? and | )?{_BELOW100})?"
    rf"|(?:a|one|two|three|four|five|half a)[- ]?dozen|{_BELOW100})"
)
# A number phrase: digits or words, optionally scaled ("3.5 million", "two thousand").
NUM = rf"(?:{DIGITS}(?: (?:million|billion|thousand|dozen))?|{WORDNUM})"
VAGUE = r"(?:tens of thousands|several (?:hundred|thousand|dozen)|hundreds|thousands|dozens|scores)"

QUALIFIER_WORDS = {
    "approximate": ["nearly", "almost", "about", "around", "approximately", "roughly", "some", "an estimated",
                    "estimated", "close to", "more or less", "circa", "reportedly"],
    "at_least": ["over", "more than", "at least", "upwards of", "in excess of", "no fewer than", "no less than",
                 "a minimum of", "another", "an additional", "a further"],
    "at_most": ["up to", "as many as", "fewer than", "less than", "at most", "no more than", "under", "a maximum of"],
}
QUAL = "(?:" + "|".join(sorted((w for ws in QUALIFIER_WORDS.values() for w in ws), key=len, reverse=True)) + ")"
_QUAL_LOOKUP = {w: q for q, ws in QUALIFIER_WORDS.items() for w in ws}
# "another 9" / "an additional 5" are exact additions, not bounds.
_QUAL_LOOKUP.update({"another": "exact", "an additional": "exact", "a further": "exact", "reportedly": "exact"})


def qualifier_of(text: str | None) -> str:
    if not text:
        return "exact"
    return _QUAL_LOOKUP.get(text.strip().lower(), "exact")


@lru_cache(maxsize=65536)
def parse_number(text: str | None) -> float | None:
    """Value of a number phrase; None for vague quantities or anything unparseable."""
    if text is None:
        return None
    t = text.strip().lower().replace(",", "")
    if re.fullmatch(VAGUE, t):
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(?: ?(million|billion|thousand|dozen|k|m|bn|mn))?", t)
    if m:
        v = float(m.group(1))
        return v * SCALES[m.group(2)] if m.group(2) else v
    t = t.replace("-", " ").replace(" and ", " ")
    total, current = 0.0, 0.0
    words = t.split()
    if words[:2] == ["half", "a"]:
        words = ["0.5"] + words[2:]
    for w in words:
        if w == "0.5":
            current += 0.5
        elif w in WORD_VALUES:
            current += WORD_VALUES[w]
        elif w in ("dozen", "hundred"):
            current = (current or 1) * SCALES[w]
        elif w in ("thousand", "million", "billion"):
            total += (current or 1) * SCALES[w]
            current = 0.0
        else:
            return None
    return total + current
