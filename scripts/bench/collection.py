"""The pipeline benchmark's collection (scripts/bench_pipeline.py): N document *files* made from
the raw seed files, cached under .bench/collection_*/, written in subfolders as a real
collection is.

File i is copy i // 5 of seed file i % 5 (the five raw files of seeds/, boilerplate, menus,
share bars and the seven-post listing page included). Every copy has its own seeded
variations (`CollectionVariation`, built on `common.CopyVariation`):

- prose lines (lines of the seeds' article bodies): gazetteer actors swapped for others of the
  same type (name or alias), month names permuted, years shifted, figures rescaled, about one
  word in twelve replaced by another word of the seed prose, and in paragraphs of three or more
  sentences two sentences after the first swapped (half the time);
- other lines (menus, footers, share bars, captions) stay byte-identical across copies, as on
  one site, apart from numbers and month names in them (dates, view counts); a line quoting a
  headline (an image caption, a breadcrumb) quotes the varied headline.

So no two files are equal after ingest's normalization (checked when the files are written:
their `content_id`s are distinct) and no prose line recurs across copies, while the
boilerplate recurs, so that the line model and normalization do the work they do on a real
collection. Layout: `<seed stem>/<copy // 1000, 3 digits>/<copy, 6 digits>.txt`, e.g.
`001_c0c906e45ef5adaf/004/004213.txt`.

The cache key covers the seeds, the gazetteer and this generator's source (collection.py,
common.py), not the pipeline: the same collection is measured across pipeline commits. Which
seed lines are prose is decided once, with the pipeline's normalizer at generation time, and
recorded in the folder's manifest. A collection grows in place: asking for more files than it
holds writes the missing ones (copies are independent; two processes write them in parallel).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path

from scripts.bench.common import BENCH_DIR, DATA_DIR, SEEDS_DIR, CopyVariation, Gazetteer, vocabulary

COLLECTION_VERSION = "c1"  # bump when the variation logic changes (the sources below are hashed too)
_SOURCES = [Path(__file__), Path(__file__).with_name("common.py")]
MANIFEST = "collection.json"  # beside the folder: the folder holds only the documents
# A sentence ends at . ! ? (optionally followed by a closing quote) before a space and a capital
# or an opening quote; not after a single capital ("U.S. Army", "J. Smith").
_SENTENCE_END = re.compile(r"(?<![A-Z.][.])(?<=[.!?][\"”’)]|[a-z0-9%][.!?])\s+(?=[A-Z“\"‘])")


class CollectionVariation(CopyVariation):
    """`CopyVariation` plus sentence order: in a prose line of 3+ sentences, half the time two
    adjacent sentences after the first change places (memoized like the rest, so a repeated
    line varies the same way)."""

    def prose(self, line: str) -> str:
        got = self._prose.get(line)
        if got is not None:
            return got
        if line.strip() != line:  # CopyVariation keeps the indentation and varies the core through self.prose
            return super().prose(line)
        varied = line
        parts = _SENTENCE_END.split(line)
        if len(parts) >= 3 and self.rng.random() < 0.5:
            i = self.rng.randrange(1, len(parts) - 1)
            parts[i], parts[i + 1] = parts[i + 1], parts[i]
            varied = " ".join(parts)
        got = self._prose[line] = super().prose(varied)
        return got


class Templates:
    """The raw seed files, which of their lines are prose, the headlines other lines quote,
    the actor mentions in the prose and the vocabulary: what every copy is varied from."""

    def __init__(self, prose_lines: list[str] | None = None):
        files = sorted(p for p in SEEDS_DIR.iterdir() if p.is_file() and not p.name.startswith("."))
        self.names = [p.name for p in files]
        texts = [_read_seed(p) for p in files]
        if prose_lines is None:
            prose_lines = sorted(_prose_lines(texts))
        body = set(prose_lines)
        self.prose_lines = prose_lines
        self.files = []  # (lines, prose flags, quoted headlines per line)
        for text in texts:
            lines = text.split("\n")
            flags = [ln.strip() in body and bool(ln.strip()) for ln in lines]
            heads = {ln.strip() for ln, f in zip(lines, flags) if f and 3 <= len(ln.split()) <= 40}
            quoted = [sorted((h for h in heads if h in ln), key=len, reverse=True) if not f else []
                      for ln, f in zip(lines, flags)]
            self.files.append((lines, flags, quoted))
        prose = sorted({ln.strip() for lines, flags, _ in self.files for ln, f in zip(lines, flags) if f})
        self.gazetteer = Gazetteer()
        self.mentions = dict(zip(prose, self.gazetteer.mentions(prose)))
        self.vocabulary = vocabulary(prose)

    def copy_texts(self, seed: int, copy: int) -> list[str]:
        """The texts of copy `copy`: one per seed file, in name order."""
        var = CollectionVariation(f"{seed}:pipeline:{copy}", self.gazetteer, self.mentions, self.vocabulary)
        return ["\n".join(var.prose(ln) if f else var.meta(ln, q) for ln, f, q in zip(lines, flags, quoted))
                for lines, flags, quoted in self.files]

    def relative_path(self, index: int) -> str:
        copy, k = divmod(index, len(self.names))
        return f"{Path(self.names[k]).stem}/{copy // 1000:03d}/{copy:06d}.txt"


def _read_seed(path: Path) -> str:
    from dagster_project.documents.ingest import decode_bytes

    return decode_bytes(path.read_bytes()).text


def _prose_lines(texts: list[str]) -> set[str]:
    """Raw seed lines that are, cleaned as the line model cleans them, lines of the body of an
    article the pipeline's normalizer finds in the seeds."""
    from scripts.bench.documents import _clean_lines, seed_files

    _, articles = seed_files()
    body_lines = {ln.strip() for body in articles["body_text"] for ln in body.split("\n") if ln.strip()}
    out = set()
    for text in texts:
        lines = text.split("\n")
        for ln, c in zip(lines, _clean_lines(lines)):
            if c and c in body_lines and ln.strip():
                out.add(ln.strip())
    return out


def collection_dir(seed: int) -> Path:
    h = hashlib.sha256(COLLECTION_VERSION.encode())
    for path in _SOURCES + sorted(p for p in SEEDS_DIR.iterdir() if p.is_file()) + [DATA_DIR / "actor_gazetteer.csv"]:
        h.update(path.read_bytes())
    return BENCH_DIR / f"collection_seed{seed}_{h.hexdigest()[:12]}"


def _manifest_path(folder: Path) -> Path:
    return folder.with_name(folder.name + "." + MANIFEST)


def read_manifest(folder: Path) -> dict:
    path = _manifest_path(folder)
    return json.loads(path.read_text()) if path.exists() else {}


_WORK: dict = {}  # the templates and folder, in the workers (set by _init_worker)


def _init_worker(work: dict) -> None:
    _WORK.update(work)


def _write_copies(args: tuple[int, int]) -> list[tuple[int, str, int]]:
    """Write copies [start, stop); returns (index, content_id, bytes) per file written."""
    from dagster_project.documents.ingest import content_id

    start, stop = args
    tpl: Templates = _WORK["templates"]
    folder: Path = _WORK["folder"]
    n_files, seed = _WORK["n_files"], _WORK["seed"]
    out = []
    for copy in range(start, stop):
        for k, text in enumerate(tpl.copy_texts(seed, copy)):
            index = copy * len(tpl.names) + k
            if index >= n_files:
                break
            path = folder / tpl.relative_path(index)
            path.parent.mkdir(parents=True, exist_ok=True)
            data = text.encode("utf-8")
            path.write_bytes(data)
            out.append((index, content_id(text), len(data)))
    return out


def ensure_collection(n_files: int, seed: int = 7, workers: int = 2, log=print) -> tuple[Path, Templates, dict]:
    """The cached collection with at least `n_files` files (writing the missing ones).
    Returns (folder, templates, manifest). The manifest holds `files` (how many are complete),
    `bytes` and `content_ids` (hex prefixes, to check that new files are distinct) per index."""
    import multiprocessing as mp

    folder = collection_dir(seed)
    manifest = read_manifest(folder)
    have = manifest.get("files", 0) if folder.is_dir() else 0
    templates = Templates(manifest.get("prose_lines"))
    if have >= n_files:
        return folder, templates, manifest
    t0 = time.perf_counter()
    per_copy = len(templates.names)
    first_copy, last_copy = have // per_copy, -(-n_files // per_copy)
    log(f"writing files {have:,}..{n_files - 1:,} of the collection into {folder} ...")
    _WORK.update(templates=templates, folder=folder, n_files=n_files, seed=seed)
    step = 200
    chunks = [(c, min(c + step, last_copy)) for c in range(first_copy, last_copy, step)]
    sizes = manifest.get("bytes", [])[:first_copy * per_copy]
    ids = manifest.get("content_ids", [])[:first_copy * per_copy]
    got: list[tuple[int, str, int]] = []
    if workers > 1 and len(chunks) > 1:
        # spawned, not forked: a fork of this threaded process (polars' and DuckDB's pools) once
        # left a worker dead and another blocked on a lock it inherited, and the run hung
        with mp.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(dict(_WORK),)) as pool:
            for part in pool.imap(_write_copies, chunks):
                got.extend(part)
    else:
        for chunk in chunks:
            got.extend(_write_copies(chunk))
    got.sort()
    for index, cid, size in got:
        if index >= len(sizes):
            sizes.append(size)
            ids.append(cid[:16])
    if len(set(ids)) != len(ids):
        raise SystemExit("collection: two files have the same normalized text (variation bug)")
    manifest = {"version": COLLECTION_VERSION, "seed": seed, "files": n_files, "seed_files": templates.names,
                "prose_lines": templates.prose_lines, "bytes": sizes, "content_ids": ids,
                "layout": "<seed stem>/<copy // 1000>/<copy>.txt"}
    tmp = _manifest_path(folder).with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest))
    tmp.replace(_manifest_path(folder))
    log(f"  {n_files - have:,} files in {time.perf_counter() - t0:.1f} s")
    return folder, templates, manifest


def link_files(folder: Path, templates: Templates, start: int, stop: int, dest: Path) -> int:
    """Files [start, stop) of the collection into `dest` (same relative paths), as hard links
    where the file system allows (instant, and ingest sees regular files), else copies.
    Returns the bytes linked."""
    import shutil

    total = 0
    made: set[Path] = set()
    for index in range(start, stop):
        rel = templates.relative_path(index)
        src, dst = folder / rel, dest / rel
        if dst.parent not in made:
            dst.parent.mkdir(parents=True, exist_ok=True)
            made.add(dst.parent)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)
        total += src.stat().st_size
    return total


def seed_structure() -> dict[str, int]:
    """Articles per seed file as the pipeline's normalizer splits the seeds (the listing page
    gives several): what each copy is expected to give."""
    from scripts.bench.documents import seed_files

    _, articles = seed_files()
    counts = dict(articles.group_by("source_file").len().iter_rows())
    return {name: counts.get(name, 0) for name in sorted(p.name for p in SEEDS_DIR.iterdir() if p.is_file())}

