"""Paths, the seeds, and the seeded variations that make every corpus copy distinct.

The extraction corpus (corpus.py) varies normalized bodies; the documents corpora
(documents.py) vary the raw files line by line with `CopyVariation`: prose lines get actor
swaps, permuted months, shifted years, rescaled figures and a few words replaced, so that no
two copies share a prose line (ingest keys files and the line model keys lines by their text,
with digits folded to 0: changing numbers alone would not make a line new); lines that are
not prose (menus, share bars, footers) stay identical across copies, as on a real site, except
that numbers and months in them (dates, view counts) vary.
"""

from __future__ import annotations

import os
import random
import re
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# the corpus cache (git ignores .bench/); BENCH_CACHE_DIR moves it (the tests use a temporary folder)
BENCH_DIR = Path(os.environ.get("BENCH_CACHE_DIR") or ROOT / ".bench").resolve()
SEEDS_DIR = ROOT / "seeds"
DATA_DIR = ROOT / "dagster_project" / "data"

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
_MONTH_SET = frozenset(MONTHS)
MONTH_RE = re.compile(r"\b(" + "|".join(MONTHS) + r")\b")
# Integers (optionally with thousands separators) that stand alone: not part of a
# decimal, a ratio, a time, a hyphenated token ("20-year", "1979-1989") or a word.
NUMBER_RE = re.compile(r"(?<![\w.,/:-])(\d{1,3}(?:,\d{3})+|\d+)(?![\w/:-]|[.,]\d)")
# Words that may be replaced by another word of the seed prose: letters only, 4 or more.
WORD_RE = re.compile(r"(?<![\w'-])([A-Za-z]{4,})(?![\w'-])")


def vary_numbers(text: str, rng: random.Random, year_shift: int, scale: float) -> str:
    def sub(m: re.Match) -> str:
        s = m.group(1)
        comma = "," in s
        n = int(s.replace(",", ""))
        if not comma and len(s) == 4 and 1900 <= n <= 2030:  # a year
            return str(min(n + year_shift, 2029))
        if n == 0:
            return s
        if n <= 31:
            # Small numbers may be days of a month: keep them in 1..28 so that month
            # permutation never produces an impossible date such as "30 February".
            if n > 28 or rng.random() < 0.5:
                n = rng.randint(1, 28)
            return str(n)
        n = max(32, round(n * scale * rng.uniform(0.8, 1.25)))
        return f"{n:,}" if comma else str(n)

    return NUMBER_RE.sub(sub, text)


def swap_actors(text: str, mentions: list[tuple[int, int, str]], mapping: dict[str, str]) -> str:
    out, pos = [], 0
    for start, end, actor_id in mentions:
        repl = mapping.get(actor_id)
        if repl is None:
            continue
        out.append(text[pos:start])
        out.append(repl)
        pos = end
    out.append(text[pos:])
    return "".join(out)


class Gazetteer:
    """What the variations need from the gazetteer: actor types, names, and mentions in texts."""

    def __init__(self):
        from dagster_project.extract.actors import load_gazetteer

        self.frame = load_gazetteer()
        gaz = self.frame
        self.types = dict(zip(gaz["actor_id"], gaz["actor_type"]))
        self.names = {a: (c, list(al)) for a, c, al in zip(gaz["actor_id"], gaz["canonical_name"], gaz["aliases"])}
        self.by_type: dict[str, list[str]] = {}
        for a, t in self.types.items():
            self.by_type.setdefault(t, []).append(a)

    def mentions(self, texts: list[str]) -> list[list[tuple[int, int, str]]]:
        """Per text, its actor mentions (char_start, char_end, actor_id) in order."""
        import polars as pl

        from dagster_project.extract.actors import extract_actor_mentions

        docs = pl.DataFrame({"document_id": [str(i) for i in range(len(texts))], "body_text": texts},
                            schema={"document_id": pl.String, "body_text": pl.String})
        out: list[list[tuple[int, int, str]]] = [[] for _ in texts]
        found = extract_actor_mentions(docs, self.frame).sort("document_id", "char_start")
        for doc_id, start, end, actor_id in found.select("document_id", "char_start", "char_end", "actor_id").iter_rows():
            out[int(doc_id)].append((start, end, actor_id))
        return out

    def mapping(self, rng: random.Random, mentioned: list[str]) -> dict[str, str]:
        """~40% of the actors mentioned, each swapped for another of the same type (name or alias)."""
        mapping = {}
        for a in mentioned:
            if rng.random() < 0.4:
                b = rng.choice(self.by_type[self.types[a]])
                canonical, aliases = self.names[b]
                mapping[a] = canonical if rng.random() < 0.7 else rng.choice(aliases)
        return mapping


class CopyVariation:
    """The variations of one copy of the seed set (seeded by `key`). `prose(line)` and
    `meta(line)` are memoized, so a line that occurs twice in a file (a headline repeated
    above the article) is varied the same way both times."""

    def __init__(self, key: str, gazetteer: Gazetteer, mentions: dict[str, list[tuple[int, int, str]]],
                 vocabulary: list[str], word_rate: float = 1 / 12):
        rng = random.Random(key)
        self.rng = rng
        self.year_shift = rng.randint(-8, 3)
        self.scale = rng.choice([0.5, 0.75, 1.0, 1.5, 2.0, 3.0])
        perm = MONTHS[:]
        rng.shuffle(perm)
        self.month_map = dict(zip(MONTHS, perm))
        mentioned = sorted({a for lst in mentions.values() for _, _, a in lst})
        self.actor_map = gazetteer.mapping(rng, mentioned)
        self.mentions = mentions
        self.vocabulary = vocabulary
        self.word_rate = word_rate
        self._prose: dict[str, str] = {}
        self._meta: dict[str, str] = {}

    def _months_numbers(self, text: str) -> str:
        text = MONTH_RE.sub(lambda m: self.month_map[m.group(1)], text)
        return vary_numbers(text, self.rng, self.year_shift, self.scale)

    def _words(self, text: str) -> str:
        """Replace about one word in `word_rate` (at least one) by another word of the seed prose,
        keeping its capitalisation."""
        words = [m for m in WORD_RE.finditer(text) if not m.group(1).isupper() and m.group(1) not in _MONTH_SET]
        # lower-case words; capitalised ones (names) only when there are none (a heading)
        spots = [m for m in words if m.group(1).islower()] or words
        if not spots or not self.vocabulary:
            return text
        rng = self.rng
        chosen = [m for m in spots if rng.random() < self.word_rate] or [rng.choice(spots)]
        out, pos = [], 0
        for m in chosen:
            word = m.group(1)
            new = rng.choice(self.vocabulary)
            while new == word.lower():
                new = rng.choice(self.vocabulary)
            if word[0].isupper():
                new = new.capitalize()
            out.append(text[pos:m.start(1)])
            out.append(new)
            pos = m.end(1)
        out.append(text[pos:])
        return "".join(out)

    def prose(self, line: str) -> str:
        """A prose line, varied; its leading and trailing white space (indentation) kept."""
        got = self._prose.get(line)
        if got is None:
            core = line.strip()
            if core != line:
                lead = line[:len(line) - len(line.lstrip())]
                got = self._prose[line] = lead + self.prose(core) + line[len(lead) + len(core):]
                return got
            text = swap_actors(line, self.mentions.get(line, []), self.actor_map)
            got = self._prose[line] = self._words(self._months_numbers(text))
        return got

    def meta(self, line: str, quoted: list[str] = ()) -> str:
        """A line that is not prose: numbers and months vary, and the prose lines it quotes
        (`quoted`: a caption or breadcrumb naming the headline) read as their varied selves."""
        got = self._meta.get(line)
        if got is None:
            parts = [line]
            for text in quoted:  # longest first; every other piece keeps alternating plain / quoted
                parts = [q for i, piece in enumerate(parts)
                         for q in ([piece] if i % 2 else _split_keep(piece, text))]
            got = "".join(self.prose(piece) if i % 2 else
                          (self._months_numbers(piece) if any(c.isdigit() for c in piece) else piece)
                          for i, piece in enumerate(parts))
            self._meta[line] = got
        return got

    def published(self, pub: date | None) -> date | None:
        rng = self.rng
        if pub is not None:
            y = min(max(pub.year + self.year_shift, 1990), 2025)  # in the past: a page is not from the future
            return pub.replace(year=y, day=min(pub.day, 28)) + timedelta(days=rng.randint(-30, 30))
        if rng.random() < 0.4:
            return date(2015, 1, 1) + timedelta(days=rng.randint(0, 3650))
        return None


def _split_keep(text: str, sep: str) -> list[str]:
    """'a X b X c' split at X -> ['a ', 'X', ' b ', 'X', ' c']: plain pieces at even places."""
    out = []
    for i, piece in enumerate(text.split(sep)):
        if i:
            out.append(sep)
        out.append(piece)
    return out


def vocabulary(texts: list[str]) -> list[str]:
    """Lower-case words of the seed prose (sorted, so that a seed gives the same corpus)."""
    return sorted({m.group(1).lower() for t in texts for m in WORD_RE.finditer(t) if not m.group(1).isupper()})


def shown(path: Path) -> str:
    """A path relative to the repository when it is inside it."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def rows_for_mb(lengths: list[int], mb: float) -> int:
    total, target = 0, mb * 1e6
    for i, n in enumerate(lengths):
        total += n
        if total >= target:
            return i + 1
    return len(lengths)
