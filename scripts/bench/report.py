"""The table, the ratios against the targets (PASS / BELOW; nothing is asserted: the machine is
shared and noisy, only ratios within one run mean anything), and the JSON."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

from scripts.bench.steps import DOCUMENT_STEPS, REFERENCE_REGEX, STEPS

TARGETS = {
    "stage_mbps": 50.0,  # whole extraction stage >= 50 MB/s
    "stage_vs_reference": 10.0,
    "events_added": 0.5,  # sentences, claims and events add at most half of the stage's time  # whole stage within 10x of the reference pass
    "dates_vs_datefinder": 10.0,  # dates >= 10x datefinder
    "gazetteer_vs_aho": 1.0,  # gazetteer >= pyahocorasick
    "gazetteer_vs_spacy": 10.0,  # gazetteer >= 10x spaCy EntityRuler
    "normalize_mbps": 25.0,  # text normalization (normalize_documents on text scrapes) >= 25 MB/s
}


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "BELOW"


def _fmt_table(rows: list[tuple | None], header: tuple, left: tuple[int, ...] = (0,)) -> list[str]:
    """Columns right-aligned except those in `left`; a None row is a rule."""
    widths = [max(len(str(row[i])) for row in [header, *[r for r in rows if r is not None]]) for i in range(len(header))]
    fmt = "  ".join(("{:<%d}" if i in left else "{:>%d}") % w for i, w in enumerate(widths))
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    for row in rows:
        out.append(fmt.format(*("-" * w for w in widths)) if row is None else fmt.format(*row))
    return [line.rstrip() for line in out]


def print_report(results: dict[str, dict], corpora: dict, load_start, load_end, polars_version: str) -> list[tuple]:
    """Prints the table and the ratios; returns the ratios (name, measured, target, verdict, value)."""
    header = ("step", "MB", "seconds", "MB/s", "peak ΔRSS MB", "peak RSS MB", "rows out", "setup s")
    table: list[tuple | None] = []
    divided = False
    for name, r in results.items():
        if name in DOCUMENT_STEPS and not divided and table:
            table.append(None)  # the documents stage below
            divided = True
        if "error" in r:
            table.append((r["label"], "-", "FAILED", "-", "-", "-", "-", "-"))
            continue
        table.append((r["label"], f"{r['mb']:.{1 if r['mb'] >= 1 else 3}f}",
                      f"{r['seconds']:.{2 if r['seconds'] >= 0.1 else 3}f}", f"{r['mb_per_s']:.2f}",
                      f"{r['peak_delta_mb']:.0f}", f"{r['peak_rss_mb']:.0f}", f"{r['rows_out']:,}",
                      f"{r['setup_seconds']:.2f}"))
    print()
    ex = corpora.get("extraction")
    if ex:
        print(f"extraction corpus: {ex['rows']:,} rows, {ex['mb']} MB of body_text (10^6 bytes UTF-8), "
              f"{ex['unique_bodies']:,} distinct bodies")
    tx = corpora.get("text")
    if tx:
        print(f"text scrapes: {tx['rows']:,} files, {tx['mb']} MB of raw_text, {tx['unique_texts']:,} distinct; "
              f"copies of the {tx.get('seed_files', 5)} seed files, prose lines varied per copy, boilerplate identical")
    ht = corpora.get("html")
    if ht:
        print(f"HTML pages: {ht['rows']:,} pages, {ht['mb']} MB of HTML, {ht['source']}")
    print(f"polars {polars_version}, {os.cpu_count()} cores, load avg {load_start[0]:.2f} at start")
    for line in _fmt_table(table, header):
        print(line)

    def ok(*names):
        return all(n in results and "error" not in results[n] for n in names)

    if ok("stage"):
        s = results["stage"]
        print("  stage breakdown: " + ", ".join(
            f"{k} {s[f'{k}_seconds']:.2f} s ({s[f'{k}_rows']:,} rows)" for k in ("gazetteer", "statistics", "dates")))
    if ok("events"):
        e = results["events"]
        print(f"  events layer: sentences {e['sentences_seconds']:.2f} s ({e['sentences_rows']:,}), "
              f"claims {e['claims_seconds']:.2f} s ({e['claims_rows']:,}), events {e['events_seconds']:.2f} s "
              f"({e['event_reports_rows']:,} reports, {e['events_rows']:,} events) after the stage's "
              f"{e['stage_seconds']:.2f} s in the same process")
    for ours, peer in (("gazetteer", "aho"), ("gazetteer_small", "spacy")):
        if ok(ours, peer):
            a, b = results[ours]["rows_out"], results[peer]["rows_out"]
            print(f"  same job check: {STEPS[peer][0].split(') ')[1]} found {b:,} mentions, "
                  f"extract_actor_mentions {a:,} on the same text ({(b - a) / a:+.2%})")
    if "datefinder" in results and results["datefinder"].get("errors"):
        print(f"  datefinder raised on {results['datefinder']['errors']} documents (counted, skipped)")
    if ok("normalize"):
        r = results["normalize"]
        print(f"  normalize: {r['files_in']:,} files -> {r['rows_out']:,} articles, {r['rejected']:,} rejected")
    if ok("ingest"):
        r = results["ingest"]
        print(f"  ingest: {r['rows_out']:,} raw documents, {r['quarantined']:,} quarantined")
    if ok("html", "trafilatura"):
        a, b = results["html"], results["trafilatura"]
        print(f"  same job check: an article from {a['rows_out']:,} of {a['pages']:,} pages with extract_html_frame, "
              f"{b['rows_out']:,} of {b['pages']:,} with plain trafilatura")
    print("  peak ΔRSS = VmHWM during the timed run minus VmRSS before it (input loaded, warmed up); "
          "peak RSS = that VmHWM (absolute, per step process)")

    def mbps(n):
        return results[n]["mb_per_s"]

    ratios = []
    if ok("stage"):
        ratios.append(("whole stage throughput", f"{mbps('stage'):.1f} MB/s", f">= {TARGETS['stage_mbps']:g} MB/s",
                       _verdict(mbps("stage") >= TARGETS["stage_mbps"]), mbps("stage")))
    if ok("stage", "reference"):
        f = mbps("reference") / mbps("stage")
        ratios.append(("whole stage vs reference pass (time factor)", f"{f:.1f}x slower",
                       f"<= {TARGETS['stage_vs_reference']:g}x", _verdict(f <= TARGETS["stage_vs_reference"]), f))
    if ok("events"):
        e = results["events"]
        f = e["layer_seconds"] / e["stage_seconds"] if e["stage_seconds"] else float("inf")
        ratios.append(("sentences + claims + events added to the stage's time", f"+{f:.0%}",
                       f"<= +{TARGETS['events_added']:.0%}", _verdict(f <= TARGETS["events_added"]), f))
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
    if ok("normalize"):
        v = mbps("normalize")
        ratios.append(("text normalization throughput", f"{v:.1f} MB/s", f">= {TARGETS['normalize_mbps']:g} MB/s",
                       _verdict(v >= TARGETS["normalize_mbps"]), v))
    if ok("normalize", "reference"):
        # time per MB over the reference's: how far off the target is, independent of the machine's load
        f = mbps("reference") / mbps("normalize")
        ratios.append(("text normalization vs reference pass (time factor)", f"{f:.0f}x slower", "-", "-", f))
    if ok("html", "trafilatura"):
        f = mbps("html") / mbps("trafilatura")
        ratios.append(("HTML: extract_html_frame vs plain trafilatura (MB/s ratio)", f"{f:.2f}x", "-", "-", f))
    if ratios:
        print()
        print("\n".join(_fmt_table([r[:4] for r in ratios], ("ratio (same run)", "measured", "target", "verdict"),
                                   left=(0, 2, 3))))
    print(f"\nload avg {load_start[0]:.2f} -> {load_end[0]:.2f} (2 shared cores: expect run-to-run noise)")
    return ratios


def write_json(path: Path, results: dict, corpora: dict, ratios: list[tuple], load_start, load_end,
               polars_version: str) -> None:
    payload = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "polars": polars_version,
                    "platform": platform.platform(), "loadavg_start": load_start, "loadavg_end": load_end},
        "corpora": corpora, "reference_regex": REFERENCE_REGEX, "targets": TARGETS,
        "steps": results,
        "ratios": [{"name": n.strip(), "measured": v, "value": round(x, 3), "target": t, "verdict": vd}
                   for n, v, t, vd, x in ratios],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str))
    print(f"results written to {path}")
