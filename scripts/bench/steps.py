"""The steps, and the runner that times one of them in its own process.

Each step runs in a fresh subprocess (`bench_extraction.py --step NAME --input PATH`), so that
peak memory is per step: the input is loaded, a warm-up runs on a small slice, then one timed
run. Peak memory: the high-water mark VmHWM is reset through /proc/self/clear_refs just before
the timed run; the absolute peak is VmHWM after it and the delta is that minus VmRSS before it,
i.e. what the step itself added on top of its loaded input. `ru_maxrss` is recorded too (JSON),
but a fork+exec'd child inherits the parent's high-water mark on Linux, so it cannot be used
per step; where clear_refs is unavailable the runner falls back to it.
"""

from __future__ import annotations

import gc
import resource
import time
from pathlib import Path

from scripts.bench.common import DATA_DIR

# (a) The reference: one moderately complex regex, counted over the body text.
REFERENCE_REGEX = r"(?-u:\b)(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)? (?:people|civilians|soldiers)(?-u:\b)"

# name -> (label, input). Inputs: "full" | "datefinder" | "spacy" are slices of the extraction
# corpus (body_text); "text" the raw text scrapes, "html" the HTML pages, "ingest" a folder.
STEPS = {
    "reference": ("(a) reference: str.count_matches", "full"),
    "gazetteer": ("(b) extract_actor_mentions", "full"),
    "statistics": ("(c) extract_statistics", "full"),
    "dates": ("(d) extract_dates", "full"),
    "stage": ("(e) whole stage (b+c+d)", "full"),
    "events": ("(m) stage (e) + sentences, claims, events", "full"),
    "aho": ("(f) pyahocorasick iter_long", "full"),
    "datefinder": ("(g) datefinder.find_dates", "datefinder"),
    "dates_small": ("    extract_dates, (g)'s subset", "datefinder"),
    "spacy": ("(h) spaCy EntityRuler", "spacy"),
    "gazetteer_small": ("    extract_actor_mentions, (h)'s subset", "spacy"),
    "normalize": ("(i) normalize_documents, text scrapes", "text"),
    "ingest": ("(j) ingest_folder, text files", "ingest"),
    "html": ("(k) extract_html_frame, HTML pages", "html"),
    "trafilatura": ("(l) trafilatura.bare_extraction", "html"),
}
DOCUMENT_STEPS = ("normalize", "ingest", "html", "trafilatura")
WARM_ROWS = {"full": 50, "datefinder": 5, "spacy": 5, "text": 50, "html": 5, "ingest": 50}


def _proc_status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
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


# ---------------------------------------------------------------------------
# Inputs: (data, MB, warm-up slice)
# ---------------------------------------------------------------------------

def _load(kind: str, path: Path, rows: int | None, warm_rows: int, limit_mb: float | None):
    import polars as pl

    if kind in ("full", "datefinder", "spacy"):
        docs = pl.read_parquet(path, n_rows=rows).rechunk()
        return docs, docs["body_text"].str.len_bytes().sum() / 1e6, docs.head(warm_rows)
    if kind == "text":
        raw = pl.read_parquet(path, n_rows=rows).rechunk()
        return raw, raw["raw_text"].str.len_bytes().sum() / 1e6, raw.head(warm_rows)
    if kind == "html":
        if path.is_dir():  # the saved pages, read in place
            from scripts.bench.documents import read_real_pages

            pages = read_real_pages(path, limit_mb)
        else:
            pages = pl.read_parquet(path, n_rows=rows)
        pages = pages.rechunk()
        return pages, pages["raw_text"].str.len_bytes().sum() / 1e6, pages.head(warm_rows)
    if kind == "ingest":
        from dagster_project.documents.ingest import Walk, walk_folder

        walk = walk_folder(path)  # only for the size and the warm-up: the timed run walks again
        files = [e for e in walk.entries if e.kind == "file"]
        return path, sum(e.size for e in files) / 1e6, Walk(walk.root, files[:warm_rows])
    raise SystemExit(f"unknown input kind {kind}")


# ---------------------------------------------------------------------------
# Step functions: data -> rows produced (extra: a dict the function may fill)
# ---------------------------------------------------------------------------

def _step_fn(name: str, extra: dict):
    import polars as pl

    if name in ("gazetteer", "gazetteer_small", "stage", "aho", "spacy", "events"):
        from dagster_project.extract.actors import build_matcher, extract_actor_mentions, load_gazetteer

        gaz = load_gazetteer()
    if name in ("gazetteer", "gazetteer_small", "stage", "events"):
        matcher = build_matcher(gaz)

    if name == "reference":
        def fn(d):
            out = d.lazy().select(pl.col("body_text").str.count_matches(REFERENCE_REGEX).alias("n")).collect()
            return int(out["n"].sum())
    elif name in ("gazetteer", "gazetteer_small"):
        def fn(d):
            return extract_actor_mentions(d, gaz, matcher).height
    elif name == "statistics":
        from dagster_project.extract.statistics import extract_statistics

        def fn(d):
            return extract_statistics(d).height
    elif name in ("dates", "dates_small"):
        from dagster_project.extract.dates import extract_dates

        def fn(d):
            return extract_dates(d).height
    elif name == "stage":
        from dagster_project.extract.dates import extract_dates
        from dagster_project.extract.statistics import extract_statistics

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
    elif name == "events":
        # the events layer after the stage it reads, in one process and one run, so that the
        # ratio "events layer seconds / stage seconds" is measured on the same machine state
        from dagster_project.events.claims import extract_claims
        from dagster_project.events.events import event_reports
        from dagster_project.events.linking import link_events
        from dagster_project.events.tolls import event_table
        from dagster_project.extract.dates import extract_dates
        from dagster_project.extract.sentences import split_sentences
        from dagster_project.extract.statistics import extract_statistics

        def fn(d):
            t = time.perf_counter()
            mentions = extract_actor_mentions(d, gaz, matcher)
            stats = extract_statistics(d)
            dates = extract_dates(d)
            extra["stage_seconds"] = round(time.perf_counter() - t, 3)
            layer = time.perf_counter()
            t = time.perf_counter()
            sents = split_sentences(d)
            extra["sentences_seconds"] = round(time.perf_counter() - t, 3)
            extra["sentences_rows"] = sents.height
            t = time.perf_counter()
            claims = extract_claims(d.select("document_id", "body_text"), sents, mentions, gaz)
            extra["claims_seconds"] = round(time.perf_counter() - t, 3)
            extra["claims_rows"] = claims.height
            t = time.perf_counter()
            reports, actors = event_reports(d, sents, stats, dates, mentions, gaz, claims)
            linked = link_events(reports, actors, sents, d, gaz.select("actor_id", "actor_type"))
            events = event_table(linked, sents)
            extra["events_seconds"] = round(time.perf_counter() - t, 3)
            extra["events_rows"] = events.height
            extra["event_reports_rows"] = linked.height
            extra["layer_seconds"] = round(time.perf_counter() - layer, 3)
            return linked.height
    elif name == "aho":
        from scripts.bench.peers import aho_mentions, build_aho

        auto = build_aho(gaz)

        def fn(d):
            return aho_mentions(d, auto).height
    elif name == "spacy":
        from scripts.bench.peers import build_spacy, spacy_mentions

        nlp = build_spacy(gaz)

        def fn(d):
            return spacy_mentions(d, nlp)
    elif name == "datefinder":
        from scripts.bench.peers import datefinder_dates

        def fn(d):
            n, errors = datefinder_dates(d)
            extra["errors"] = errors
            return n
    elif name == "normalize":
        from dagster_project.documents.normalize import load_publisher_domains, normalize_documents

        domains = load_publisher_domains(DATA_DIR / "publisher_domains.csv")

        def fn(d):
            out = normalize_documents(d, domains)
            extra["files_in"] = d.height
            extra["rejected"] = out.rejected.height
            return out.articles.height
    elif name == "ingest":
        from dagster_project.documents.ingest import Walk, ingest_folder

        def fn(d):
            raw, bad = ingest_folder(d.root, walk=d) if isinstance(d, Walk) else ingest_folder(d)
            extra["quarantined"] = bad.height
            return raw.height
    elif name == "html":
        from dagster_project.documents.html import extract_html_frame

        def fn(d):
            extra["pages"] = d.height
            return extract_html_frame(d.select("file_id", "raw_text")).height
    elif name == "trafilatura":
        from trafilatura import bare_extraction

        def fn(d):
            extra["pages"] = d.height
            return sum(bare_extraction(html, with_metadata=True) is not None for html in d["raw_text"])
    else:
        raise SystemExit(f"unknown step {name}")
    return fn


def run_step(name: str, path: Path, rows: int | None, warm_rows: int | None, limit_mb: float | None) -> dict:
    kind = STEPS[name][1]
    warm_rows = WARM_ROWS[kind] if warm_rows is None else warm_rows
    data, mb, warm = _load(kind, path, rows, warm_rows, limit_mb)
    extra: dict = {}

    t_setup = time.perf_counter()
    fn = _step_fn(name, extra)
    setup_s = time.perf_counter() - t_setup

    fn(warm)  # warm-up: imports, lazy initialisation, caches
    extra.clear()
    gc.collect()
    rss_base = _proc_status_mb("VmRSS")
    maxrss_before = _maxrss_mb()
    hwm_ok = _reset_hwm()
    t0 = time.perf_counter()
    produced = fn(data)
    seconds = time.perf_counter() - t0
    maxrss_after = _maxrss_mb()
    hwm = _proc_status_mb("VmHWM") if hwm_ok else None
    if hwm is not None and rss_base is not None:
        peak, delta = hwm, hwm - rss_base
    else:
        peak, delta = maxrss_after, max(0.0, maxrss_after - maxrss_before)
    rows_in = data.height if hasattr(data, "height") else None
    return {
        "step": name, "label": STEPS[name][0], "input": kind, "rows_in": rows_in, "mb": round(mb, 3),
        "seconds": round(seconds, 4), "mb_per_s": round(mb / seconds, 3) if seconds else None,
        "rows_out": produced, "setup_seconds": round(setup_s, 3),
        "rss_baseline_mb": round(rss_base, 1) if rss_base is not None else None,
        "peak_delta_mb": round(delta, 1), "peak_rss_mb": round(peak, 1), "ru_maxrss_before_mb": round(maxrss_before, 1),
        "ru_maxrss_mb": round(maxrss_after, 1), "hwm_reset": hwm_ok, **extra,
    }
