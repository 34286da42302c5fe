"""Read files from a folder and decide, per file, whether it is usable text.

Every file the walk finds ends in exactly one of `raw_documents` or `quarantined_documents`
(with a machine-readable reason). Nothing raises for bad input and nothing is dropped.

Walk (`walk_folder`, shared with the `every_file_accounted_for` check): the folder is read
recursively; `source_file` is the POSIX path relative to it, and files are handled in that
path's string order. Anything whose path has a part starting with '.' is not read and gets a
`hidden` row. A symlink is resolved: pointing outside the folder -> `symlink_outside`
(files and folders alike, detail names the target); pointing nowhere or into a loop ->
`broken_symlink`; to a file inside the folder -> read like a file under its own name (so a
link to a file that is also read directly is a `duplicate`); to a folder inside the folder ->
not followed and no row, because that folder's files are read directly. A folder that cannot
be listed, a file that cannot be stat'ed or read, and anything that is not a regular file
(fifo, socket, device: reading one could block) -> `unreadable`.

Decoding (`decode_bytes`), in this order:
1. A byte-order mark is authoritative: UTF-32 / UTF-16 are decoded strictly; UTF-8 with a BOM
   follows the UTF-8 rule below, and the BOM is removed from the text.
2. NUL bytes in the first 64 KB mean binary (a text file in a BOM-less UTF-16 is not supported).
3. UTF-8. Strict UTF-8 has `decode_errors` 0. A file that is UTF-8 except for a few invalid
   sequences stays UTF-8, each invalid sequence replaced by U+FFFD and counted in
   `decode_errors`, when both hold:
   - at most max(3, size // 1000) invalid sequences: one per 1,000 bytes, the density of a few
     stray bytes in an article of several KB, with a floor of 3 so that a 400-byte note with
     two damaged characters is not pushed into a code page;
   - at least as many valid multi-byte UTF-8 characters (a BOM counts) as invalid sequences:
     the evidence that the file is UTF-8 at all. A cp1252 file with a few curly quotes has
     none (each quote is a lone invalid byte), so it is never read as damaged UTF-8 however
     long it is.
   Before, one invalid byte sent a UTF-8 file to charset-normalizer, which read it as
   `mac_iceland` (every ’ became 'Äô).
4. Not UTF-8: a legacy code page, chosen by reading the first 64 KB in cp1252, cp1250, cp1251,
   koi8-r, cp1253 and latin-1 and keeping the reading with the fewest implausible letter
   patterns (`_IMPLAUSIBLE`: a code-page symbol glued to a letter as in "Bia³orusi¹", Latin
   glued to Cyrillic/Greek, three accented Latin letters in a row as in "Ðîññèÿ", ì/ò/ù
   inside a word, a lower-case letter followed by an upper-case one as in koi8-r read as
   cp1251, box drawing, UTF-8 mojibake such as "â€™"). Ties go to the earlier code page
   (cp1252 first: by far the most common). A reading is plausible with at most
   max(2, non-ASCII characters // 50) patterns. When the winner is a non-Latin code page
   (cp1251, koi8-r, cp1253), charset-normalizer gets a second opinion, taken if it differs and
   reads plausibly too (its letter statistics tell Hebrew cp1255 from cp1251).
5. No plausible reading: a file whose valid multi-byte UTF-8 characters are at least as many as
   its invalid sequences (UTF-8 with many pasted cp1252 bytes) stays UTF-8 with replacements;
   otherwise charset-normalizer decides (Arabic, CJK code pages); nothing found -> `undecodable`.

Measurement that chose steps 4-5 (tests/test_documents_ingest.py, `DECODING_CASES`,
`test_decoding_measurement_keeps_the_better_strategy`): the same news paragraphs in English,
French, German, Russian, Polish, and short sentences in 17 other languages, as utf-8, utf-8
with a BOM, utf-8 with 1-3 invalid sequences (10 cases), cp1252, latin-1, cp1250, cp1251,
koi8-r, cp1253, cp1254, cp1255, cp1256, shift_jis, gb2312, utf-16 and utf-32; 59 cases, scored
on exact text (damaged UTF-8: U+FFFD for each invalid sequence). All but the first strategy
share steps 1-3:

    strategy                                                        exact text
    previous decode_bytes (strict UTF-8, then charset-normalizer,
      cp1252 when among its guesses)                                  44 / 59
    steps 1-3 + charset-normalizer best()                             52 / 59
    steps 1-3 + charset-normalizer, cp1252 when among its guesses     54 / 59
    steps 1-3 + code-page scoring alone                               53 / 59
    steps 1-5 (this module)                                           57 / 59

The previous code lost every damaged UTF-8 file (mac_iceland, shift_jis or undecodable), cp1250
Polish, Czech, Slovak and Hungarian, and Turkish. charset-normalizer alone misreads short Western
texts (cp1250 for cp1252: 'Genčve', 'espańol', 'cittŕ č piů'), Polish and Czech cp1250,
Icelandic latin-1 and Turkish. The scoring alone cannot read Hebrew, Arabic, Japanese or Chinese code pages. Steps 1-5
miss Hungarian cp1250 (ő ű read as cp1252 õ û, real letters; charset-normalizer's best() gets
it, at the cost of four Western cases) and Turkish cp1254 (read as cp1252): strict xfails.
The patterns were written while looking at the first 38 cases; of 16 added afterwards the
scoring got 12 (charset-normalizer preferring cp1252 got 12 too) before three more patterns
were added; the second opinion was added after the whole table. Cost, only for files that are
not UTF-8: one scoring pass is about 0.2 ms per KB, stopping at the first code page without a
pattern; a Cyrillic or Greek file also pays the second opinion (about 1.2-1.6 ms per KB in all).

Duplicates are found on `content_key(text)`: NFC, CRLF / CR -> LF, no BOM, no trailing
whitespace on any line or at the end. `file_id` is the sha256 hex of that key, so a copy with
a BOM, CRLF line endings or re-encoded in cp1252 is the same document: the first file in path
order goes to raw_documents, every copy to quarantine as `duplicate` naming the original.
`content_sha256` stays the sha256 of the file's bytes; `raw_text` is the decoded text.

The loop is per file because reading and decoding bytes is per file; on a clean UTF-8 file it
costs a read, a strict decode, a control-byte count, the key (split, rstrip, NFC check), two
sha256 and looks_like_html on 4 KB: about 0.25 ms for a 5 KB file (20,000 files in 5 s).
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
from charset_normalizer import from_bytes

try:
    from dagster_project.documents.html import looks_like_html
except ImportError:  # pragma: no cover - html.py (trafilatura, lxml) is optional for ingest
    _HTML_START = re.compile(r"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b",
                             re.I | re.S)

    def looks_like_html(text: str) -> bool:
        """Minimal stand-in for dagster_project.documents.html.looks_like_html: a document start."""
        return bool(_HTML_START.match(text[:4096].lstrip("\ufeff")))

# 50 MB: far above any article, small enough that a stray dump never stalls a run.
DEFAULT_MAX_BYTES = 50 * 1024 * 1024

RAW_SCHEMA = {
    "file_id": pl.String,
    "source_file": pl.String,
    "size_bytes": pl.Int64,
    "content_sha256": pl.String,
    "encoding": pl.String,
    "decode_errors": pl.Int32,
    "content_type": pl.String,
    "raw_text": pl.String,
    "modified_at": pl.Datetime("us"),
    "ingested_at": pl.Datetime("us"),
}
QUARANTINE_SCHEMA = {
    "source_file": pl.String,
    "size_bytes": pl.Int64,
    "content_sha256": pl.String,
    "reason": pl.String,
    "detail": pl.String,
    "stage": pl.String,
    "quarantined_at": pl.Datetime("us"),
}
# Every reason ingest writes (stage 'ingest'); the normalizer adds its own with stage 'normalize'.
REASONS = ("empty", "binary", "undecodable", "too_large", "unreadable", "no_text", "duplicate",
           "hidden", "symlink_outside", "broken_symlink")
STAGE = "ingest"

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SNIFF = 65536

# Step 3: a damaged UTF-8 file may have max(UTF8_MIN_ERRORS, size // UTF8_BYTES_PER_ERROR) errors.
UTF8_MIN_ERRORS = 3
UTF8_BYTES_PER_ERROR = 1000

# Step 4: candidate code pages, in order of preference on ties.
LEGACY_CODE_PAGES = ("cp1252", "cp1250", "cp1251", "koi8-r", "cp1253", "latin-1")
_ASK_CHARSET_NORMALIZER = {"cp1251", "koi8-r", "cp1253"}  # non-Latin: its letter statistics help there
_LETTER = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0370-\u03ff\u0400-\u052f"
# Symbols of the code pages that never touch a letter in prose (« » no-break space · are normal).
_SYMBOL = ("\u0080-\u009f\u00a1-\u00aa\u00ac-\u00b6\u00b8-\u00ba\u00bc-\u00bf\u00d7\u00f7"
           "\u2020-\u2022\u2030\u2039\u203a\u02c6\u02dc\u2122\u0192")
_LOWER_NON_ASCII = "\u00df-\u00f6\u00f8-\u00ff\u0430-\u045f\u03ac-\u03ce"
_UPPER_NON_ASCII = "\u00c0-\u00d6\u00d8-\u00de\u0400-\u042f\u0386-\u03ab"
_IMPLAUSIBLE = re.compile("|".join([
    rf"[{_LETTER}][{_SYMBOL}]|[{_SYMBOL}][{_LETTER}]",            # Bia³orusi¹, ve¾vyslanectvo
    r"[A-Za-z\u00c0-\u024f][\u0370-\u052f]|[\u0370-\u052f][A-Za-z\u00c0-\u024f]",  # Latin glued to Cyrillic/Greek
    r"[\u00c0-\u024f]{3}",                                        # Ðîññèÿ: cp1251 read as cp1252
    rf"[ìòùÌÒÙ][{_LETTER}]",                                      # ì ò ù end words (città, più, où)
    rf"[a-z{_LOWER_NON_ASCII}][{_UPPER_NON_ASCII}]|[{_LOWER_NON_ASCII}][A-Z]",  # тПССЙС: koi8-r read as cp1251
    r"[\u2190-\u23ff\u2500-\u25ff]",                              # arrows, maths, box drawing
    r"â€|Â\u00a0|[ÂÃÐÑ][\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192]",  # UTF-8 read as cp1252: â€™ Â  ÃŸ
]))


@dataclass(frozen=True)
class Verdict:
    """Outcome of decoding one file: text and encoding, or a reason to quarantine."""

    text: str | None
    encoding: str | None
    reason: str | None = None
    detail: str | None = None
    decode_errors: int = 0
    """Invalid UTF-8 sequences replaced by U+FFFD (0 for every other encoding)."""


_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\f\v")


def _control_ratio(ascii_compatible: bytes) -> float:
    """Share of C0 control characters other than whitespace (bytes.translate: C speed)."""
    if not ascii_compatible:
        return 0.0
    return (len(ascii_compatible) - len(ascii_compatible.translate(None, _CONTROL_BYTES))) / len(ascii_compatible)


def _check_text(text: str, encoding: str, errors: int = 0, data: bytes | None = None) -> Verdict:
    """`data`: the file's bytes when the encoding is ASCII-compatible (control bytes = control characters)."""
    if not text.strip():
        return Verdict(None, encoding, "no_text", "decoded to whitespace only")
    sample = data[:_SNIFF] if data is not None else text[:_SNIFF].encode("utf-8", "surrogatepass")
    if _control_ratio(sample) > 0.01:
        return Verdict(None, encoding, "binary", "more than 1% control characters")
    return Verdict(text, encoding, decode_errors=errors)


def _utf8(data: bytes) -> tuple[str | None, str, int, int]:
    """(text if the file reads as UTF-8 under rule 3 else None, text with U+FFFD, invalid
    sequences, valid non-ASCII characters)."""
    try:
        text = data.decode("utf-8")
        return text, text, 0, 0
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", "replace")
    # ef bf bd is a valid U+FFFD in the file, never part of an invalid sequence.
    errors = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    valid = len(text) - len(text.encode("ascii", "ignore")) - errors
    ok = errors <= max(UTF8_MIN_ERRORS, len(data) // UTF8_BYTES_PER_ERROR) and valid >= errors
    return (text if ok else None), text, errors, valid


def implausibility(text: str) -> int:
    """Letter patterns that no language writes (see `_IMPLAUSIBLE`): 0 for a right reading."""
    return len(_IMPLAUSIBLE.findall(text))


def _legacy(data: bytes, replaced: str, errors: int, valid: int) -> Verdict:
    sample = data[:_SNIFF]
    readings = []
    for rank, enc in enumerate(LEGACY_CODE_PAGES):
        try:
            text = sample.decode(enc)
        except UnicodeDecodeError:
            continue
        score = implausibility(text)
        non_ascii = len(text) - len(text.encode("ascii", "ignore"))
        if score <= max(2, non_ascii // 50):
            readings.append((score, rank, enc))
            if score == 0:
                break  # nothing later can beat it on a tie
    for _, _, enc in sorted(readings):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:  # a byte past the sample that the code page lacks
            continue
        if enc in _ASK_CHARSET_NORMALIZER:
            enc, text = _second_opinion(data, enc, text)
        return _check_text(text, enc)  # the second opinion may not be ASCII-compatible
    if valid >= errors:
        return _check_text(replaced, "utf-8", errors, data)
    best = from_bytes(data[: 1024 * 1024]).best()
    if best is None or best.encoding is None:
        return Verdict(None, None, "undecodable", "not UTF-8 and no plausible encoding found")
    try:
        return _check_text(data.decode(best.encoding), best.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        return Verdict(None, None, "undecodable", f"guessed {best.encoding} but decoding failed: {exc}")


def _second_opinion(data: bytes, enc: str, text: str) -> tuple[str, str]:
    """charset-normalizer's reading instead of a non-Latin code page's, when it differs and is
    plausible too: its letter statistics tell Hebrew cp1255 from Cyrillic-looking cp1251."""
    best = from_bytes(data[: 1024 * 1024]).best()
    if best is None or best.encoding is None or codecs.lookup(best.encoding).name == codecs.lookup(enc).name:
        return enc, text
    try:
        other = data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        return enc, text
    sample = other[:_SNIFF]
    if implausibility(sample) <= max(2, (len(sample) - len(sample.encode("ascii", "ignore"))) // 50):
        return best.encoding, other
    return enc, text


def decode_bytes(data: bytes) -> Verdict:
    """Decode bytes to text, or say why they are not a text document (module docstring, steps 1-5)."""
    if len(data) == 0:
        return Verdict(None, None, "empty", "file has 0 bytes")
    for bom, enc in _BOMS:
        if data.startswith(bom):
            if enc == "utf-8-sig":
                text, _, errors, _ = _utf8(data)
                if text is None:
                    return Verdict(None, None, "undecodable",
                                   f"UTF-8 BOM but {errors} invalid UTF-8 sequences", decode_errors=errors)
                return _check_text(text[1:], enc, errors, data)
            try:
                return _check_text(data.decode(enc), enc)
            except UnicodeDecodeError as exc:
                return Verdict(None, None, "undecodable", f"{enc} BOM but invalid data: {exc.reason}")
    if b"\x00" in data[:_SNIFF]:
        return Verdict(None, None, "binary", "NUL bytes found: not a text file")
    text, replaced, errors, valid = _utf8(data)
    if text is not None:
        return _check_text(text, "utf-8", errors, data)
    return _legacy(data, replaced, errors, valid)


def content_key(text: str) -> str:
    """The text duplicates are compared on: NFC, LF line endings, no BOM, no trailing
    whitespace on any line or at the end."""
    text = text.removeprefix("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return "\n".join([line.rstrip() for line in text.split("\n")]).rstrip()


def content_id(text: str) -> str:
    """`file_id`: sha256 hex of `content_key(text)` in UTF-8."""
    return hashlib.sha256(content_key(text).encode("utf-8", "surrogatepass")).hexdigest()


def content_type(source_file: str, text: str) -> str:
    """'html' for .html / .htm files and for files whose text is HTML, else 'text'."""
    if source_file.lower().endswith((".html", ".htm")) or looks_like_html(text):
        return "html"
    return "text"


# ---------------------------------------------------------------------------
# Walking the folder
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing the walk found. kind 'file' is read; every other kind is a quarantine reason."""

    name: str  # POSIX path relative to the folder = source_file
    path: str  # absolute path to open
    kind: str  # 'file', 'hidden', 'symlink_outside', 'broken_symlink' or 'unreadable'
    detail: str | None = None
    size: int | None = None
    mtime_ns: int | None = None


@dataclass(frozen=True)
class Walk:
    root: Path
    entries: list[Entry]  # sorted by name; each gets exactly one row in raw or quarantine
    skipped: list[str] = field(default_factory=list)  # symlinks to folders inside the folder


def _kind_of(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device")):
        if test(mode):
            return name
    return "special file"


def walk_folder(folder: Path | str) -> Walk:
    """Every entry under `folder` that must be accounted for, in source_file order (see the
    module docstring for hidden paths and symlinks). Never raises for what is inside."""
    root = os.path.realpath(folder)
    entries: list[Entry] = []
    skipped: list[str] = []
    stack: list[tuple[str, str, bool]] = [("", root, False)]
    while stack:
        prefix, dirpath, hidden_dir = stack.pop()
        try:
            with os.scandir(dirpath) as it:
                items = list(it)
        except OSError as exc:
            if not prefix:
                raise
            name = prefix[:-1]
            entries.append(Entry(name, dirpath, "hidden" if hidden_dir else "unreadable",
                                 f"folder could not be listed: {type(exc).__name__}: {exc.strerror or exc}"))
            continue
        for item in items:
            name = prefix + item.name
            hidden = hidden_dir or item.name.startswith(".")
            try:
                if item.is_dir(follow_symlinks=False):
                    stack.append((name + "/", item.path, hidden))
                elif hidden:
                    st = item.stat(follow_symlinks=False)
                    entries.append(Entry(name, item.path, "hidden", "hidden path (a part starts with '.'): not read",
                                         st.st_size if stat.S_ISREG(st.st_mode) else None))
                elif item.is_symlink():
                    linked = _symlink(root, name, item.path)
                    if linked is None:
                        skipped.append(name)  # a folder inside the folder: its files are read where they are
                    else:
                        entries.append(linked)
                elif item.is_file(follow_symlinks=False):
                    st = item.stat(follow_symlinks=False)
                    entries.append(Entry(name, item.path, "file", None, st.st_size, st.st_mtime_ns))
                else:
                    mode = item.stat(follow_symlinks=False).st_mode
                    entries.append(Entry(name, item.path, "unreadable", f"not a regular file ({_kind_of(mode)})"))
            except OSError as exc:
                entries.append(Entry(name, item.path, "unreadable", f"{type(exc).__name__}: {exc.strerror or exc}"))
    entries.sort(key=lambda e: e.name)
    skipped.sort()
    return Walk(Path(root), entries, skipped)


def _symlink(root: str, name: str, path: str) -> Entry | None:
    """The entry for a symlink, or None for a link to a folder inside the input folder."""
    target = os.readlink(path)
    try:
        st = os.stat(path)  # follows the link
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Entry(name, path, "broken_symlink", f"symlink to {target} is a symlink loop")
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return Entry(name, path, "broken_symlink", f"symlink to {target}, which does not exist")
        raise
    real = os.path.realpath(path)
    if real != root and not real.startswith(root.rstrip(os.sep) + os.sep):
        what = "folder" if stat.S_ISDIR(st.st_mode) else "file"
        return Entry(name, path, "symlink_outside", f"symlink to {what} {real} outside the input folder")
    if stat.S_ISDIR(st.st_mode):
        return None
    if not stat.S_ISREG(st.st_mode):
        return Entry(name, path, "unreadable", f"symlink to {real}, not a regular file ({_kind_of(st.st_mode)})")
    return Entry(name, path, "file", None, st.st_size, st.st_mtime_ns)


# ---------------------------------------------------------------------------
# Ingest
# ---------------------------------------------------------------------------


def ingest_folder(
    folder: Path, max_bytes: int = DEFAULT_MAX_BYTES, now: datetime | None = None, walk: Walk | None = None,
    originals: dict[str, tuple[str, str]] | None = None, duplicate_of: dict[str, str] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read every file under `folder`; returns (raw_documents, quarantined_documents).

    Every entry of `walk` (default `walk_folder(folder)`) gives exactly one row in one of the two.
    `originals` (file_id -> (source_file, content_sha256)) are the documents already kept (an
    incremental run, an earlier batch): a file with the same text is their duplicate. It is
    updated with the files kept here; `duplicate_of`, when given, receives source_file ->
    source_file of the original for every duplicate."""
    now = (now or datetime.now(timezone.utc)).replace(tzinfo=None)
    walk = walk if walk is not None else walk_folder(folder)
    raw: dict[str, list] = {k: [] for k in RAW_SCHEMA if k not in ("modified_at", "ingested_at")}
    mtimes: list[int] = []
    bad: dict[str, list] = {k: [] for k in QUARANTINE_SCHEMA if k not in ("stage", "quarantined_at")}
    originals = {} if originals is None else originals  # file_id -> (source_file, content_sha256) of the first

    def reject(name, size, digest, reason, detail):
        bad["source_file"].append(name)
        bad["size_bytes"].append(size)
        bad["content_sha256"].append(digest)
        bad["reason"].append(reason)
        bad["detail"].append(detail)

    for entry in walk.entries:
        name = entry.name
        if entry.kind != "file":
            reject(name, entry.size, None, entry.kind, entry.detail)
            continue
        if entry.size > max_bytes:
            reject(name, entry.size, None, "too_large", f"{entry.size} bytes exceeds the limit of {max_bytes} bytes")
            continue
        try:
            with open(entry.path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            reject(name, entry.size, None, "unreadable", f"{type(exc).__name__}: {exc.strerror or exc}")
            continue
        digest = hashlib.sha256(data).hexdigest()
        verdict = decode_bytes(data)
        if verdict.reason:
            reject(name, len(data), digest, verdict.reason, verdict.detail)
            continue
        file_id = content_id(verdict.text)
        first = originals.get(file_id)
        if first is not None:
            detail = (f"same bytes as {first[0]}" if first[1] == digest else
                      f"same text as {first[0]} (after NFC, line endings, BOM and trailing whitespace)")
            reject(name, len(data), digest, "duplicate", detail)
            if duplicate_of is not None:
                duplicate_of[name] = first[0]
            continue
        originals[file_id] = (name, digest)
        raw["file_id"].append(file_id)
        raw["source_file"].append(name)
        raw["size_bytes"].append(len(data))
        raw["content_sha256"].append(digest)
        raw["encoding"].append(verdict.encoding)
        raw["decode_errors"].append(verdict.decode_errors)
        raw["content_type"].append(content_type(name, verdict.text))
        raw["raw_text"].append(verdict.text)
        mtimes.append(entry.mtime_ns)

    raw_frame = pl.DataFrame(
        {**raw, "modified_at": pl.Series(mtimes, dtype=pl.Int64).cast(pl.Datetime("ns")).cast(pl.Datetime("us")),
         "ingested_at": [now] * len(mtimes)},
        schema=RAW_SCHEMA,
    )
    n_bad = len(bad["source_file"])
    bad_frame = pl.DataFrame({**bad, "stage": [STAGE] * n_bad, "quarantined_at": [now] * n_bad},
                             schema=QUARANTINE_SCHEMA)
    return raw_frame, bad_frame
