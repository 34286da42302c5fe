#!/usr/bin/env python
"""Extraction throughput and peak memory, measured against a reference pass and peers.

    .venv/bin/python scripts/bench_extraction.py [--mb 100] [--json results.json]

One run does everything:

1. Builds (or reuses from `.bench/`) a corpus of at least `--mb` MB of article text
   (MB = 10**6 bytes of UTF-8 body_text) from the seed documents: the seeds are
   normalized with `ingest_folder` + `assemble_articles`, then every copy of the seed
   set gets its own seeded variations (actors swapped for others of the same type from
   the gazetteer, paragraphs shuffled, month names permuted, years shifted, figures
   rescaled, publication dates shifted or added). One row per article copy.
2. Runs every step in a fresh subprocess (this script with `--step NAME`), so peak
   memory is per step: warm-up on a small slice, then one timed run.
3. Prints one table and the ratios against the targets (PASS / BELOW; nothing is
   asserted: the machine is shared and noisy).

Peak memory, per step process: the high-water mark VmHWM is reset through
/proc/self/clear_refs just before the timed run (corpus loaded, warm-up done); the
absolute peak is VmHWM after the run and the delta is that minus VmRSS before it,
i.e. what the step itself added on top of the loaded corpus. `ru_maxrss` is recorded
too (JSON), but on Linux it is not reliable here: a fork+exec'd child inherits the
parent's high-water mark, so every step would report at least the driver's size.
Where clear_refs is unavailable, the script falls back to ru_maxrss.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import random
import re
import resource
import string
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
BENCH_DIR = ROOT / ".bench"
SEEDS_DIR = ROOT / "seeds"
CORPUS_VERSION = "v1"  # bump when the variation logic changes

# (a) The reference: one moderately complex regex, counted over the body text.
REFERENCE_REGEX = r"(?-u:\b)(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)? (?:people|civilians|soldiers)(?-u:\b)"

TARGETS = {
    "stage_mbps": 50.0,  # whole extraction stage >= 50 MB/s
    "stage_vs_reference": 10.0,  # whole stage within 10x of the reference pass
    "dates_vs_datefinder": 10.0,  # dates >= 10x datefinder
    "gazetteer_vs_aho": 1.0,  # gazetteer >= pyahocorasick
    "gazetteer_vs_spacy": 10.0,  # gazetteer >= 10x spaCy EntityRuler
}


# ---------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------

def seed_articles():
    import polars as pl

    from dagster_project.documents.ingest import ingest_folder
    from dagster_project.documents.normalize import assemble_articles

    raw, _ = ingest_folder(SEEDS_DIR)
    domains_df = pl.read_csv(ROOT / "dagster_project" / "data" / "publisher_domains.csv")
    docs = assemble_articles(raw, dict(zip(domains_df["domain"], domains_df["publisher"])))
    return docs.select("document_id", "body_text", "published_date")


_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_MONTH_RE = re.compile(r"\b(" + "|".join(_MONTHS) + r")\b")
# Integers (optionally with thousands separators) that stand alone: not part of a
# decimal, a ratio, a time, a hyphenated token ("20-year", "1979-1989") or a word.
_NUMBER_RE = re.compile(r"(?<![\w.,/:-])(\d{1,3}(?:,\d{3})+|\d+)(?![\w/:-]|[.,]\d)")


def _vary_numbers(text: str, rng: random.Random, year_shift: int, scale: float) -> str:
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

    return _NUMBER_RE.sub(sub, text)


def _swap_actors(text: str, mentions: list[tuple[int, int, str]], mapping: dict[str, str]) -> str:
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


def build_corpus(mb: float, seed: int, path: Path) -> dict:
    import polars as pl

    from dagster_project.extract.actors import extract_actor_mentions, load_gazetteer

    t0 = time.perf_counter()
    docs = seed_articles()
    gaz = load_gazetteer()
    mentions = extract_actor_mentions(docs, gaz)
    by_doc: dict[str, list[tuple[int, int, str]]] = {}
    for doc_id, start, end, actor_id in mentions.select("document_id", "char_start", "char_end", "actor_id").iter_rows():
        by_doc.setdefault(doc_id, []).append((start, end, actor_id))
    types = dict(zip(gaz["actor_id"], gaz["actor_type"]))
    names = {a: (c, list(al)) for a, c, al in zip(gaz["actor_id"], gaz["canonical_name"], gaz["aliases"])}
    by_type: dict[str, list[str]] = {}
    for a, t in types.items():
        by_type.setdefault(t, []).append(a)
    mentioned = sorted({a for lst in by_doc.values() for _, _, a in lst})

    seeds = list(docs.iter_rows(named=True))
    target = int(mb * 1_000_000)
    ids, bodies, dates = [], [], []
    total, copy = 0, 0
    while total < target:
        rng = random.Random(f"{seed}:{copy}")
        year_shift = rng.randint(-8, 3)
        scale = rng.choice([0.5, 0.75, 1.0, 1.5, 2.0, 3.0])
        perm = _MONTHS[:]
        rng.shuffle(perm)
        month_map = dict(zip(_MONTHS, perm))
        mapping = {}
        for a in mentioned:  # ~40% of the actors mentioned are swapped for another of the same type
            if rng.random() < 0.4:
                b = rng.choice(by_type[types[a]])
                canonical, aliases = names[b]
                mapping[a] = canonical if rng.random() < 0.7 else rng.choice(aliases)
        for art in seeds:
            text = _swap_actors(art["body_text"], by_doc.get(art["document_id"], []), mapping)
            paras = text.split("\n\n")
            head, rest = paras[:1], paras[1:]
            rng.shuffle(rest)
            text = "\n\n".join(head + rest)
            text = _MONTH_RE.sub(lambda m: month_map[m.group(1)], text)
            text = _vary_numbers(text, rng, year_shift, scale)
            pub = art["published_date"]
            if pub is not None:
                y = min(max(pub.year + year_shift, 1990), 2029)
                pub = pub.replace(year=y, day=min(pub.day, 28)) + timedelta(days=rng.randint(-30, 30))
            elif rng.random() < 0.4:
                pub = date(2015, 1, 1) + timedelta(days=rng.randint(0, 3650))
            ids.append(f"{art['document_id'][:16]}-{copy:06d}")
            bodies.append(text)
            dates.append(pub)
            total += len(text.encode())
        copy += 1
    corpus = pl.DataFrame({"document_id": ids, "body_text": bodies, "published_date": dates},
                          schema={"document_id": pl.String, "body_text": pl.String, "published_date": pl.Date})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    corpus.write_parquet(tmp)
    tmp.replace(path)
    return {"build_seconds": round(time.perf_counter() - t0, 2), "copies": copy, "seed_articles": len(seeds)}


def corpus_path(mb: float, seed: int) -> Path:
    """Cache key: size, seed, variation logic, and the normalized seeds and gazetteer they derive from."""
    docs = seed_articles()
    h = hashlib.sha256(CORPUS_VERSION.encode())
    for body in docs["body_text"]:
        h.update(body.encode())
    h.update((ROOT / "dagster_project" / "data" / "actor_gazetteer.csv").read_bytes())
    return BENCH_DIR / f"corpus_{mb:g}mb_seed{seed}_{h.hexdigest()[:12]}.parquet"


# ---------------------------------------------------------------------------
# Peers
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Steps (each runs in its own process)
# ---------------------------------------------------------------------------

# name -> (label, corpus slice: "full" | "datefinder" | "spacy")
STEPS = {
    "reference": ("(a) reference: str.count_matches", "full"),
    "gazetteer": ("(b) extract_actor_mentions", "full"),
    "statistics": ("(c) extract_statistics", "full"),
    "dates": ("(d) extract_dates", "full"),
    "stage": ("(e) whole stage (b+c+d)", "full"),
    "aho": ("(f) pyahocorasick iter_long", "full"),
    "datefinder": ("(g) datefinder.find_dates", "datefinder"),
    "dates_small": ("    extract_dates, (g)'s subset", "datefinder"),
    "spacy": ("(h) spaCy EntityRuler", "spacy"),
    "gazetteer_small": ("    extract_actor_mentions, (h)'s subset", "spacy"),
}


def _rss_now_mb() -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _hwm_mb() -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_step(name: str, corpus: Path, rows: int | None, warm_rows: int) -> dict:
    import polars as pl

    from dagster_project.extract.actors import build_matcher, extract_actor_mentions, load_gazetteer
    from dagster_project.extract.dates import extract_dates
    from dagster_project.extract.statistics import extract_statistics

    docs = pl.read_parquet(corpus, n_rows=rows)
    docs = docs.rechunk()
    mb = docs.select(pl.col("body_text").str.len_bytes().sum()).item() / 1e6
    warm = docs.head(warm_rows)
    extra: dict = {}

    t_setup = time.perf_counter()
    if name in ("gazetteer", "gazetteer_small", "stage", "aho", "spacy"):
        gaz = load_gazetteer()
    if name in ("gazetteer", "gazetteer_small", "stage"):
        matcher = build_matcher(gaz)

    if name == "reference":
        def fn(d):
            out = d.lazy().select(pl.col("body_text").str.count_matches(REFERENCE_REGEX).alias("n")).collect()
            return int(out["n"].sum())
    elif name in ("gazetteer", "gazetteer_small"):
        def fn(d):
            return extract_actor_mentions(d, gaz, matcher).height
    elif name == "statistics":
        def fn(d):
            return extract_statistics(d).height
    elif name in ("dates", "dates_small"):
        def fn(d):
            return extract_dates(d).height
    elif name == "stage":
        def fn(d):
            n = 0
            for sub, f in (("gazetteer", lambda x: extract_actor_mentions(x, gaz, matcher)),
                           ("statistics", extract_statistics), ("dates", extract_dates)):
                t = time.perf_counter()
                h = f(d).height
                extra[f"{sub}_seconds"] = round(time.perf_counter() - t, 3)
                extra[f"{sub}_rows"] = h
                n += h
            return n
    elif name == "aho":
        auto = build_aho(gaz)

        def fn(d):
            return aho_mentions(d, auto).height
    elif name == "spacy":
        nlp = build_spacy(gaz)

        def fn(d):
            return spacy_mentions(d, nlp)
    elif name == "datefinder":
        def fn(d):
            n, errors = datefinder_dates(d)
            extra["errors"] = errors
            return n
    else:
        raise SystemExit(f"unknown step {name}")
    setup_s = time.perf_counter() - t_setup

    fn(warm)  # warm-up: imports, lazy initialisation, caches
    extra = {}
    gc.collect()
    rss_base = _rss_now_mb()
    maxrss_before = _maxrss_mb()
    hwm_ok = _reset_hwm()
    t0 = time.perf_counter()
    produced = fn(docs)
    seconds = time.perf_counter() - t0
    maxrss_after = _maxrss_mb()
    hwm = _hwm_mb() if hwm_ok else None
    if hwm is not None and rss_base is not None:
        peak, delta = hwm, hwm - rss_base
    else:
        peak, delta = maxrss_after, max(0.0, maxrss_after - maxrss_before)
    return {
        "step": name, "label": STEPS[name][0], "rows_in": docs.height, "mb": round(mb, 3),
        "seconds": round(seconds, 4), "mb_per_s": round(mb / seconds, 3) if seconds else None,
        "rows_out": produced, "setup_seconds": round(setup_s, 3),
        "rss_baseline_mb": round(rss_base, 1) if rss_base is not None else None,
        "peak_delta_mb": round(delta, 1), "peak_rss_mb": round(peak, 1), "ru_maxrss_before_mb": round(maxrss_before, 1),
        "ru_maxrss_mb": round(maxrss_after, 1), "hwm_reset": hwm_ok, **extra,
    }


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

def _rows_for_mb(lengths: list[int], mb: float) -> int:
    total, target = 0, mb * 1e6
    for i, n in enumerate(lengths):
        total += n
        if total >= target:
            return i + 1
    return len(lengths)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "BELOW"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=100.0, help="corpus size in MB (10**6 bytes of body text)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--datefinder-mb", type=float, default=3.0, help="subset for datefinder (slow)")
    ap.add_argument("--spacy-mb", type=float, default=2.0, help="subset for spaCy (slow)")
    ap.add_argument("--steps", default=",".join(STEPS), help="comma-separated subset of steps")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached corpus")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--warm-rows", type=int, default=50, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.step:  # child process: one step, result as the last stdout line
        res = run_step(args.step, args.corpus, args.rows, args.warm_rows)
        print("RESULT " + json.dumps(res), flush=True)
        return

    import polars as pl

    load_start = os.getloadavg()
    path = corpus_path(args.mb, args.seed)
    corpus_info: dict = {"path": str(path.relative_to(ROOT)), "cached": path.exists() and not args.rebuild}
    if not corpus_info["cached"]:
        print(f"building corpus {path.name} ...", file=sys.stderr, flush=True)
        corpus_info.update(build_corpus(args.mb, args.seed, path))
    stats = pl.read_parquet(path).select(
        rows=pl.len(), mb=pl.col("body_text").str.len_bytes().sum() / 1e6,
        unique_bodies=pl.col("body_text").n_unique(), unique_ids=pl.col("document_id").n_unique(),
        with_published_date=pl.col("published_date").is_not_null().sum(),
        lengths=pl.col("body_text").str.len_bytes(),
    )
    lengths = stats["lengths"].to_list()
    corpus_info.update({k: stats[k][0] for k in ("rows", "unique_bodies", "unique_ids", "with_published_date")})
    corpus_info["mb"] = round(float(stats["mb"][0]), 2)
    del stats
    subsets = {"full": None, "datefinder": _rows_for_mb(lengths, args.datefinder_mb),
               "spacy": _rows_for_mb(lengths, args.spacy_mb)}
    print(f"corpus: {corpus_info['rows']} rows, {corpus_info['mb']} MB, {corpus_info['unique_bodies']} distinct "
          f"bodies ({path.name}{', cached' if corpus_info['cached'] else ''})", file=sys.stderr, flush=True)

    results: dict[str, dict] = {}
    for name in [s for s in args.steps.split(",") if s]:
        subset = subsets[STEPS[name][1]]
        warm_rows = 50 if subset is None else 5
        cmd = [sys.executable, str(Path(__file__).resolve()), "--step", name, "--corpus", str(path),
               "--warm-rows", str(warm_rows)]
        if subset is not None:
            cmd += ["--rows", str(subset)]
        print(f"  running {name} ...", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        line = next((ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith("RESULT ")), None)
        if proc.returncode != 0 or line is None:
            print(f"  step {name} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}", file=sys.stderr)
            results[name] = {"step": name, "label": STEPS[name][0], "error": proc.stderr[-3000:]}
            continue
        results[name] = json.loads(line[len("RESULT "):])
        r = results[name]
        print(f"    {r['seconds']:.2f} s, {r['mb_per_s']:.2f} MB/s", file=sys.stderr, flush=True)

    # ---- table
    header = ("step", "MB", "seconds", "MB/s", "peak ΔRSS MB", "peak RSS MB", "rows out", "setup s")
    table = []
    for name, r in results.items():
        if "error" in r:
            table.append((r["label"], "-", "FAILED", "-", "-", "-", "-", "-"))
            continue
        table.append((r["label"], f"{r['mb']:.1f}", f"{r['seconds']:.2f}", f"{r['mb_per_s']:.2f}",
                      f"{r['peak_delta_mb']:.0f}", f"{r['peak_rss_mb']:.0f}", f"{r['rows_out']:,}",
                      f"{r['setup_seconds']:.2f}"))
    widths = [max(len(str(row[i])) for row in [header, *table]) for i in range(len(header))]
    fmt = "  ".join(["{:<%d}" % widths[0]] + ["{:>%d}" % w for w in widths[1:]])
    print()
    print(f"corpus: {corpus_info['rows']:,} rows, {corpus_info['mb']} MB (10^6 bytes UTF-8), "
          f"{corpus_info['unique_bodies']:,} distinct bodies; polars {pl.__version__}, {os.cpu_count()} cores, "
          f"load avg {load_start[0]:.2f} at start")
    print(fmt.format(*header))
    print(fmt.format(*("-" * w for w in widths)))
    for row in table:
        print(fmt.format(*row))
    if "stage" in results and "error" not in results["stage"]:
        s = results["stage"]
        print("  stage breakdown: " + ", ".join(
            f"{k} {s[f'{k}_seconds']:.2f} s ({s[f'{k}_rows']:,} rows)" for k in ("gazetteer", "statistics", "dates")))
    for ours, peer in (("gazetteer", "aho"), ("gazetteer_small", "spacy")):
        if ours in results and peer in results and "error" not in results[ours] and "error" not in results[peer]:
            a, b = results[ours]["rows_out"], results[peer]["rows_out"]
            print(f"  same job check: {STEPS[peer][0].split(') ')[1]} found {b:,} mentions, "
                  f"extract_actor_mentions {a:,} on the same text ({(b - a) / a:+.2%})")
    if "datefinder" in results and results["datefinder"].get("errors"):
        print(f"  datefinder raised on {results['datefinder']['errors']} documents (counted, skipped)")
    print("  peak ΔRSS = VmHWM during the timed run minus VmRSS before it (corpus loaded, warmed up); "
          "peak RSS = that VmHWM (absolute, per step process)")

    # ---- ratios
    def ok(*names):
        return all(n in results and "error" not in results[n] for n in names)

    def mbps(n):
        return results[n]["mb_per_s"]

    ratios = []
    if ok("stage"):
        ratios.append(("whole stage throughput", f"{mbps('stage'):.1f} MB/s", f">= {TARGETS['stage_mbps']:g} MB/s",
                       _verdict(mbps("stage") >= TARGETS["stage_mbps"]), mbps("stage")))
    if ok("stage", "reference"):
        f = results["stage"]["seconds"] / results["reference"]["seconds"]
        ratios.append(("whole stage vs reference pass (time factor)", f"{f:.1f}x slower",
                       f"<= {TARGETS['stage_vs_reference']:g}x", _verdict(f <= TARGETS["stage_vs_reference"]), f))
    # (label, our step, peer step, target key, decimals): our MB/s over the peer's, at least the target
    speedups = [
        ("dates vs datefinder (speedup, MB/s ratio)", "dates", "datefinder", "dates_vs_datefinder", 1),
        ("  same on datefinder's subset", "dates_small", "datefinder", "dates_vs_datefinder", 1),
        ("gazetteer vs pyahocorasick (MB/s ratio)", "gazetteer", "aho", "gazetteer_vs_aho", 2),
        ("gazetteer vs spaCy EntityRuler (speedup)", "gazetteer", "spacy", "gazetteer_vs_spacy", 1),
        ("  same on spaCy's subset", "gazetteer_small", "spacy", "gazetteer_vs_spacy", 1),
    ]
    for label, ours, peer, key, decimals in speedups:
        if ok(ours, peer):
            f = mbps(ours) / mbps(peer)
            ratios.append((label, f"{f:.{decimals}f}x", f">= {TARGETS[key]:g}x", _verdict(f >= TARGETS[key]), f))
    if ratios:
        print()
        w0 = max(len("ratio (same run)"), *(len(r[0]) for r in ratios))
        w1 = max(len("measured"), *(len(r[1]) for r in ratios))
        w2 = max(len("target"), *(len(r[2]) for r in ratios))
        print(f"{'ratio (same run)':<{w0}}  {'measured':>{w1}}  {'target':<{w2}}  verdict")
        for name, val, tgt, verdict, _ in ratios:
            print(f"{name:<{w0}}  {val:>{w1}}  {tgt:<{w2}}  {verdict}")
    load_end = os.getloadavg()
    print(f"\nload avg {load_start[0]:.2f} -> {load_end[0]:.2f} (2 shared cores: expect run-to-run noise)")

    if args.json:
        payload = {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "polars": pl.__version__,
                        "platform": platform.platform(), "loadavg_start": load_start, "loadavg_end": load_end},
            "corpus": corpus_info, "reference_regex": REFERENCE_REGEX, "targets": TARGETS,
            "steps": results,
            "ratios": [{"name": n.strip(), "measured": v, "value": round(x, 3), "target": t, "verdict": vd}
                       for n, v, t, vd, x in ratios],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2, default=str))
        print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
