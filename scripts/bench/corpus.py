"""The extraction corpus (steps a-h): at least `mb` MB (10**6 bytes of UTF-8 body_text) of
article bodies, one row per article copy, cached as parquet in .bench/.

The seeds are normalized with `ingest_folder` + `assemble_articles`, then every copy of the
seed set gets its own seeded variations: actors swapped for others of the same type from the
gazetteer, paragraphs shuffled, month names permuted, years shifted, figures rescaled,
publication dates shifted or added.
"""

from __future__ import annotations

import hashlib
import random
import time
from datetime import date, timedelta
from pathlib import Path

from scripts.bench.common import (BENCH_DIR, DATA_DIR, MONTH_RE, MONTHS, SEEDS_DIR, swap_actors,
                                  vary_numbers)

CORPUS_VERSION = "v1"  # bump when the variation logic changes


def seed_articles():
    from dagster_project.documents.ingest import ingest_folder
    from dagster_project.documents.normalize import assemble_articles, load_publisher_domains

    raw, _ = ingest_folder(SEEDS_DIR)
    docs = assemble_articles(raw, load_publisher_domains(DATA_DIR / "publisher_domains.csv"))
    # the order of assemble_articles (file_id, article_index): the copies' random draws follow it
    return docs.select("document_id", "title", "authors", "body_text", "body_char_start", "published_date",
                       "source_file")


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
        perm = MONTHS[:]
        rng.shuffle(perm)
        month_map = dict(zip(MONTHS, perm))
        mapping = {}
        for a in mentioned:  # ~40% of the actors mentioned are swapped for another of the same type
            if rng.random() < 0.4:
                b = rng.choice(by_type[types[a]])
                canonical, aliases = names[b]
                mapping[a] = canonical if rng.random() < 0.7 else rng.choice(aliases)
        for art in seeds:
            text = swap_actors(art["body_text"], by_doc.get(art["document_id"], []), mapping)
            paras = text.split("\n\n")
            head, rest = paras[:1], paras[1:]
            rng.shuffle(rest)
            text = "\n\n".join(head + rest)
            text = MONTH_RE.sub(lambda m: month_map[m.group(1)], text)
            text = vary_numbers(text, rng, year_shift, scale)
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
    write_parquet(corpus, path)
    return {"build_seconds": round(time.perf_counter() - t0, 2), "copies": copy, "seed_articles": len(seeds)}


def write_parquet(frame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    frame.write_parquet(tmp)
    tmp.replace(path)


def corpus_path(mb: float, seed: int) -> Path:
    """Cache key: size, seed, variation logic, and the normalized seeds and gazetteer they derive from."""
    docs = seed_articles()
    h = hashlib.sha256(CORPUS_VERSION.encode())
    for body in docs["body_text"]:
        h.update(body.encode())
    h.update((DATA_DIR / "actor_gazetteer.csv").read_bytes())
    return BENCH_DIR / f"corpus_{mb:g}mb_seed{seed}_{h.hexdigest()[:12]}.parquet"
