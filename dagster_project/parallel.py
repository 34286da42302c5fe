"""Both cores for the stages whose work is mostly single-threaded Python.

Normalization and claim extraction spend most of their time in Python per line or per sentence:
measured on 2,100 files (32 MB), normalize_documents used 1.12 CPU-seconds per second of wall
time on 2 cores. Their functions are pure, and every file's (or article's) output depends only on
its own rows plus collection-level inputs that the caller already passes in (the line
statistics, the gazetteer). So a batch can be cut into contiguous runs of files or articles,
each run processed in its own process, and the outputs concatenated in the same order: the
result equals the single-process one row for row (tests/test_parallel.py).

- Worker processes are started with `spawn` (never `fork`: polars' and DuckDB's thread pools
  do not survive a fork) once per process and reused by every stage; the first use pays their
  start-up (importing polars and the stage's module, about 1-2 s).
- Only the caller touches the pipeline database (DuckDB allows one writer process, and no
  reader beside it): workers receive data frames and return data frames.
- A batch smaller than `MIN_PARALLEL_BYTES` (an incremental run of a few files) runs in the
  calling process: starting workers would cost more than it saves.
- `PIPELINE_WORKERS` sets the number of processes (default: the machine's cores, at most 4;
  1 turns this off).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import polars as pl

MIN_PARALLEL_BYTES = 4 * 1024 * 1024
# a batch is cut into up to this many runs per worker, of at least MIN_RUN_BYTES each: the time
# of a run is not proportional to its bytes (HTML pages, listing pages), so several smaller runs
# per worker keep both busy to the end
RUNS_PER_WORKER = 3
MIN_RUN_BYTES = 1024 * 1024
MAX_DEFAULT_WORKERS = 4

_POOL: ProcessPoolExecutor | None = None
_POOL_SIZE = 0


class WorkersSettingError(ValueError):
    """PIPELINE_WORKERS is not a positive whole number."""


def worker_count() -> int:
    value = os.environ.get("PIPELINE_WORKERS", "").strip()
    if not value:
        return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise WorkersSettingError(f"PIPELINE_WORKERS={value!r}: set it to a whole number of processes, 1 or more "
                                  f"(1 runs every stage in one process)")
    return n


def _pool(size: int) -> ProcessPoolExecutor:
    global _POOL, _POOL_SIZE
    if _POOL is None or _POOL_SIZE != size:
        shutdown()
        _POOL = ProcessPoolExecutor(max_workers=size, mp_context=multiprocessing.get_context("spawn"))
        _POOL_SIZE = size
    return _POOL


def shutdown() -> None:
    """Stop the worker processes (at exit, or to start again with another size)."""
    global _POOL, _POOL_SIZE
    if _POOL is not None:
        _POOL.shutdown(wait=True, cancel_futures=True)
    _POOL, _POOL_SIZE = None, 0


atexit.register(shutdown)


def cut_points(weights: list[int], parts: int) -> list[tuple[int, int]]:
    """[start, end) ranges of `weights`' indices: at most `parts` contiguous runs of about equal
    total weight, none empty."""
    total = sum(weights)
    if not weights:
        return []
    parts = max(1, min(parts, len(weights)))
    ranges, start, acc = [], 0, 0
    for i, w in enumerate(weights):
        acc += w
        # close a run once it holds its share, keeping at least one item for each run still to come
        if len(ranges) < parts - 1 and acc >= total * (len(ranges) + 1) / parts and len(weights) - (i + 1) >= parts - len(ranges) - 1:
            ranges.append((start, i + 1))
            start = i + 1
    ranges.append((start, len(weights)))
    return [r for r in ranges if r[0] < r[1]]


def _call(fn: Callable[..., Any], frames: dict[str, pl.DataFrame], shared: dict[str, Any]) -> Any:
    return fn(**frames, **shared)


def map_by_key(fn: Callable[..., Any], frames: Mapping[str, pl.DataFrame], key: str, *,
               main: str, weight: str | None = None, shared: Mapping[str, Any] | None = None,
               combine: Callable[[list[Any]], Any] | None = None, workers: int | None = None) -> Any:
    """`fn(**frames, **shared)`, computed over contiguous runs of `frames[main]`'s rows in worker
    processes when the batch is large enough, else here.

    `frames` are cut by `key` (each run's frames hold the rows whose `key` is among that run's
    rows of `main`, in their own order); `weight` (a column of `main`, its string length) balances
    the runs; `shared` goes to every call whole. The outputs, in run order, are combined by
    `combine` (default: each output table concatenated, for `fn` returning a DataFrame or a dict
    of them). `fn` must be a module-level function (it is pickled by name)."""
    shared = dict(shared or {})
    base = frames[main]
    n = worker_count() if workers is None else workers
    size = int(base[weight].str.len_bytes().sum() or 0) if weight else base.estimated_size()
    if n <= 1 or base.height < 2 or size < MIN_PARALLEL_BYTES:
        return fn(**frames, **shared)
    weights = (base[weight].str.len_bytes().fill_null(0).to_list() if weight else [1] * base.height)
    runs = cut_points(weights, max(n, min(n * RUNS_PER_WORKER, size // MIN_RUN_BYTES)))
    if len(runs) < 2:
        return fn(**frames, **shared)
    chunks = []
    for start, end in runs:
        keys = base[key][start:end].unique()
        chunks.append({name: (base[start:end] if name == main else frame.filter(pl.col(key).is_in(keys.implode())))
                       for name, frame in frames.items()})
    pool = _pool(n)
    try:
        futures = [pool.submit(_call, fn, chunk, shared) for chunk in chunks]
        results = [f.result() for f in futures]
    except BrokenProcessPool:  # a worker died (killed, out of memory): the next call starts new ones
        shutdown()
        raise
    return (combine or concat_outputs)(results)


def concat_outputs(results: list[Any]) -> Any:
    """Outputs of the runs, in order: DataFrames concatenated; dicts of DataFrames concatenated
    per key."""
    first = results[0]
    if isinstance(first, pl.DataFrame):
        return pl.concat(results, how="vertical_relaxed")
    if isinstance(first, dict):
        return {k: pl.concat([r[k] for r in results], how="vertical_relaxed") for k in first}
    raise TypeError(f"cannot combine outputs of type {type(first).__name__}: pass combine=")
