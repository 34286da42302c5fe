"""Read files from a folder and decide, per file, whether it is usable text.

A file is either decoded into `raw_documents` or rejected into `quarantined_documents`
with a machine-readable reason. Nothing raises for bad input and nothing is dropped.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
from charset_normalizer import from_bytes

# 50 MB: far above any article, small enough that a stray dump never stalls a run.
DEFAULT_MAX_BYTES = 50 * 1024 * 1024

RAW_SCHEMA = {
    "file_id": pl.String,
    "source_file": pl.String,
    "size_bytes": pl.Int64,
    "content_sha256": pl.String,
    "encoding": pl.String,
    "raw_text": pl.String,
    "ingested_at": pl.Datetime("us"),
}
QUARANTINE_SCHEMA = {
    "source_file": pl.String,
    "size_bytes": pl.Int64,
    "content_sha256": pl.String,
    "reason": pl.String,
    "detail": pl.String,
    "quarantined_at": pl.Datetime("us"),
}

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Verdict:
    """Outcome of decoding one file: text and encoding, or a reason to quarantine."""

    text: str | None
    encoding: str | None
    reason: str | None = None
    detail: str | None = None


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    return bad / len(text)


def decode_bytes(data: bytes) -> Verdict:
    """Decode bytes to text, or say why they are not a text document.

    Order matters: a BOM is authoritative; then strict UTF-8 (most of the web);
    only then a statistical guess, which is accepted only if it yields clean text.
    """
    if len(data) == 0:
        return Verdict(None, None, "empty", "file has 0 bytes")
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return _check_text(data.decode(enc), enc)
            except UnicodeDecodeError as exc:
                return Verdict(None, None, "undecodable", f"{enc} BOM but invalid data: {exc.reason}")
    if b"\x00" in data[:65536]:
        return Verdict(None, None, "binary", "NUL bytes found: not a text file")
    try:
        return _check_text(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    guesses = from_bytes(data[: 1024 * 1024])
    best = guesses.best()
    if best is None or best.encoding is None:
        return Verdict(None, None, "undecodable", "not UTF-8 and no plausible encoding found")
    # Short Western texts are ambiguous between the cp125x code pages; when Windows-1252
    # is among the plausible readings, it is by far the most common on the web.
    if any(g.encoding in ("cp1252", "latin_1", "iso8859_15") for g in guesses):
        try:
            return _check_text(data.decode("cp1252"), "cp1252")
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        return Verdict(None, None, "undecodable", f"guessed {best.encoding} but decoding failed: {exc}")
    return _check_text(text, best.encoding)


def _check_text(text: str, encoding: str) -> Verdict:
    if not text.strip():
        return Verdict(None, encoding, "no_text", "decoded to whitespace only")
    if _control_ratio(text[:65536]) > 0.01:
        return Verdict(None, encoding, "binary", "more than 1% control characters")
    return Verdict(text, encoding)


def ingest_folder(
    folder: Path, max_bytes: int = DEFAULT_MAX_BYTES, now: datetime | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read every regular file under `folder` (recursively, hidden files skipped).

    Returns (raw_documents, quarantined_documents). The loop is per file because
    decoding bytes is inherently per file; all text work after this is vectorized.
    """
    now = (now or datetime.now(timezone.utc)).replace(tzinfo=None)
    ok_rows: list[dict] = []
    bad_rows: list[dict] = []
    paths = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    for path in paths:
        name = path.relative_to(folder).as_posix()
        try:
            size = path.stat().st_size
            if size > max_bytes:
                bad_rows.append(
                    dict(source_file=name, size_bytes=size, content_sha256=None, reason="too_large",
                         detail=f"{size} bytes exceeds the limit of {max_bytes} bytes", quarantined_at=now)
                )
                continue
            data = path.read_bytes()
        except OSError as exc:
            bad_rows.append(
                dict(source_file=name, size_bytes=None, content_sha256=None, reason="unreadable",
                     detail=f"{type(exc).__name__}: {exc}", quarantined_at=now)
            )
            continue
        digest = hashlib.sha256(data).hexdigest()
        verdict = decode_bytes(data)
        if verdict.reason:
            bad_rows.append(
                dict(source_file=name, size_bytes=len(data), content_sha256=digest, reason=verdict.reason,
                     detail=verdict.detail, quarantined_at=now)
            )
        else:
            ok_rows.append(
                dict(file_id=digest, source_file=name, size_bytes=len(data), content_sha256=digest,
                     encoding=verdict.encoding, raw_text=verdict.text, ingested_at=now)
            )
    raw = pl.DataFrame(ok_rows, schema=RAW_SCHEMA)
    # Two byte-identical files are one document: keep the first name, quarantine the copy
    # so that it is visible but never double-counted.
    dup = raw.filter(pl.col("file_id").is_duplicated() & (pl.int_range(pl.len()).over("file_id") > 0))
    if dup.height:
        first = raw.group_by("file_id").agg(pl.col("source_file").first().alias("original"))
        dup = dup.join(first, on="file_id")
        bad_rows.extend(
            dict(source_file=r["source_file"], size_bytes=r["size_bytes"], content_sha256=r["file_id"],
                 reason="duplicate", detail=f"same bytes as {r['original']}", quarantined_at=now)
            for r in dup.iter_rows(named=True)
        )
        raw = raw.unique(subset="file_id", keep="first", maintain_order=True)
    return raw, pl.DataFrame(bad_rows, schema=QUARANTINE_SCHEMA)
