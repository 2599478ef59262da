"""Read a text file (plain or gzip) as numbered lines, in blocks, without a loop per line.

Lines are cut with numpy and handed over as a zero-copy Arrow string array (each value keeps
its trailing newline, which JSON parsers ignore). A gzip stream that ends early keeps every
complete line decoded before the cut; the record the cut falls in becomes one rejection.

Each block carries the total count of object keys with a value over all its lines
(`key_total`), found with a few whole-buffer numpy passes; the count per line (`colons()`) is
only worked out for a block whose total shows some line may have keys beyond the known fields.
"""

from __future__ import annotations

import codecs
import itertools
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from unitecon.ledger.records import CHUNK_ROWS, Rejected, Scanned

READ_BYTES = 16 << 20
#: A block of lines holds at most about this many bytes (fewer lines than asked when long).
MAX_BLOCK_BYTES = 256 << 20
GZIP_MAGIC = b"\x1f\x8b"
#: A gzip stream may expand to at most this many times its compressed size (past
#: `GZIP_RATIO_FREE_BYTES`): real usage exports compress 5-30x, deflate's ceiling is ~1032x,
#: and a decompression bomb sits near that ceiling.
MAX_GZIP_RATIO = 200
#: Output below this size is never refused for its ratio (a small, very repetitive file).
GZIP_RATIO_FREE_BYTES = 64 << 20
#: A gzip stream may expand to at most this many bytes in all.
MAX_GZIP_BYTES = 64 << 30
#: A line longer than this is not held in memory: it is skipped to its end and rejected
#: (records over `validate.MAX_RECORD_BYTES` are rejected anyway).
MAX_LINE_BYTES = 64 << 20
_UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass
class LineBlock:
    """Lines `first`, `first + 1`, ... of a file (1-based numbers)."""

    first: int
    lines: pa.Array  # large_string, one value per line, newline included
    errors: dict[int, str] = field(default_factory=dict)  # index -> reason (e.g. bad UTF-8)
    truncated: Rejected | None = None
    #: `key_colons` summed over all lines (None: not counted)
    key_total: int | None = None
    #: every JSON boolean in the block is the value of `batch` or `accepted` (see key_total)
    bools_named: bool = False

    @property
    def positions(self) -> pa.Array:
        return pa.array(np.arange(self.first, self.first + len(self.lines), dtype=np.int64))

    def colons(self) -> pa.Array:
        """`key_colons` of each line (int32), counted from the lines' own buffers."""
        arr = self.lines
        n = len(arr)
        if n == 0:
            return pa.array([], pa.int32())
        _, offsets_buf, data_buf = arr.buffers()
        offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset : arr.offset + n + 1]
        start, stop = int(offsets[0]), int(offsets[-1])
        buf = np.frombuffer(data_buf, dtype=np.uint8)[start:stop]
        return key_colons(buf, offsets[1:] - start)


def is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == GZIP_MAGIC


def _plain_blocks(f: BinaryIO) -> Iterator[bytes]:
    while data := f.read(READ_BYTES):
        yield data


def _gunzip_blocks(f: BinaryIO) -> Iterator[bytes]:
    """Decompressed blocks (all gzip members); raises _Broken after yielding what it could
    decode when the stream is cut short, corrupt, or expands past `MAX_GZIP_RATIO` times its
    compressed size or `MAX_GZIP_BYTES` (a decompression bomb)."""
    d = zlib.decompressobj(wbits=47)
    fed = False
    read = out = 0  # compressed bytes consumed, decompressed bytes given
    while comp := f.read(READ_BYTES // 4):
        while comp:
            try:
                data = d.decompress(comp, READ_BYTES)
            except zlib.error as e:
                raise _Broken(f"corrupt gzip ({e})") from e
            read += len(comp) - len(d.unconsumed_tail)
            out += len(data)
            yield data
            _check_ratio(out, read)
            fed = True
            comp = d.unconsumed_tail
            if d.eof:
                read -= len(d.unused_data)
                comp, d, fed = d.unused_data, zlib.decompressobj(wbits=47), False
    if fed and not d.eof:
        raise _Broken("truncated gzip (the compressed stream ends early)")


def _check_ratio(out: int, read: int) -> None:
    if out > MAX_GZIP_BYTES:
        raise _Broken(f"gzip expands past {MAX_GZIP_BYTES >> 30} GiB, the limit (split the file)")
    if out > GZIP_RATIO_FREE_BYTES and out > MAX_GZIP_RATIO * read:
        raise _Broken(
            f"gzip expands over {MAX_GZIP_RATIO}x its compressed size (a decompression bomb?); "
            f"stopped after {out >> 20} MiB"
        )


class _Broken(Exception):
    pass


def raw_blocks(path: Path) -> Iterator[bytes]:
    """The file's bytes in blocks, gunzipped when it starts with the gzip magic number, as
    UTF-8: a UTF-8 byte-order mark is dropped and UTF-16 text (a byte-order mark, or NULs in
    every other byte) is transcoded (what it cannot decode becomes bytes that are not UTF-8,
    so the record holding them is rejected as such)."""
    with path.open("rb") as f:
        yield from as_utf8(_gunzip_blocks(f) if is_gzip(path) else _plain_blocks(f))


#: A format read whole (OTLP, gzipped Parquet) is held in memory: at most this many bytes.
MAX_WHOLE_FILE_BYTES = 1 << 30


def read_whole(path: Path, limit: int | None = None) -> bytes:
    """The file's bytes (`raw_blocks`), at most `limit` (default `MAX_WHOLE_FILE_BYTES`);
    raises _Broken past that."""
    limit = MAX_WHOLE_FILE_BYTES if limit is None else limit
    parts: list[bytes] = []
    size = 0
    for block in raw_blocks(path):
        size += len(block)
        if size > limit:
            raise _Broken(
                f"over {limit >> 20} MiB once decompressed, the limit for a file read whole "
                "(split it)"
            )
        parts.append(block)
    return b"".join(parts)


def _utf16_of(head: bytes) -> str | None:
    """The UTF-16 codec of text starting with `head`, or None."""
    if head[:2] in _UTF16_BOMS and head[:4] != b"\xff\xfe\x00\x00":  # not UTF-32
        codec = _UTF16_BOMS[head[:2]]
        # the mark alone is not enough (two stray bytes): text after it must look UTF-16
        text = head[2:34]
        ascii_nuls = text[1::2] if codec == "utf-16-le" else text[0::2]
        return codec if len(text) < 2 or ascii_nuls.count(0) * 2 >= len(ascii_nuls) else None
    probe = head[:64]
    if len(probe) >= 8 and len(probe) % 2 == 0:
        even, odd = probe[0::2], probe[1::2]
        if not odd.strip(b"\x00") and even.isascii() and b"\x00" not in even:
            return "utf-16-le"
        if not even.strip(b"\x00") and odd.isascii() and b"\x00" not in odd:
            return "utf-16-be"
    return None


def _bad_text(e: UnicodeError) -> tuple[str, int]:
    """Codec error handler: what cannot be decoded becomes a lone surrogate, which
    `surrogatepass` writes as bytes that are not valid UTF-8."""
    assert isinstance(e, UnicodeDecodeError)
    return "\udcff", e.end


codecs.register_error("unitecon-bad-text", _bad_text)


def as_utf8(blocks: Iterator[bytes]) -> Iterator[bytes]:
    """`blocks` with a leading UTF-8 byte-order mark dropped, UTF-16 transcoded to UTF-8."""
    head = b""
    for block in blocks:
        head += block
        if len(head) >= 64:
            break
    codec = _utf16_of(head)
    if codec is None:
        if head.startswith(UTF8_BOM):
            head = head[len(UTF8_BOM) :]
        if head:
            yield head
        yield from blocks
        return
    if head[:2] in _UTF16_BOMS:
        head = head[2:]
    dec = codecs.getincrementaldecoder(codec)("unitecon-bad-text")
    for block in itertools.chain([head], blocks):
        yield dec.decode(block).encode("utf-8", "surrogatepass")
    yield dec.decode(b"", final=True).encode("utf-8", "surrogatepass")


def _to_lines(
    data: bytes | memoryview, ends: np.ndarray | None = None
) -> tuple[pa.Array, dict[int, str]]:
    """Split `data` (ending with a newline; `ends`: the index after each newline, when
    known) into an Arrow array of lines and the reasons for lines that are not UTF-8."""
    if ends is None:
        ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10) + 1
    offsets = np.concatenate([np.zeros(1, np.int64), ends.astype(np.int64)])
    arr = pa.LargeStringArray.from_buffers(
        len(ends), pa.py_buffer(offsets.tobytes()), pa.py_buffer(data)
    )
    try:
        arr.validate(full=True)
        return arr, {}
    except pa.ArrowInvalid:
        return _decode_each(bytes(data), offsets)


def _skip_blanks(buf: np.ndarray, at: np.ndarray, step: int) -> np.ndarray:
    """From each index in `at` (modified), move by `step` past spaces, tabs and CRs; an index
    that runs off the buffer stays there (-1 or len(buf))."""
    b = buf.take(at, mode="clip")
    todo = np.flatnonzero((b == 32) | (b == 9) | (b == 13))
    todo = todo[(at[todo] >= 0) & (at[todo] < len(buf))]
    while len(todo):
        at[todo] += step
        todo = todo[(at[todo] >= 0) & (at[todo] < len(buf))]
        b = buf[at[todo]]
        todo = todo[(b == 32) | (b == 9) | (b == 13)]
    return at


_BLANKS = np.array([32, 9, 13], dtype=np.uint8)


def _key_scan(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the `:` that `key_colons` counts (see there), in order: their indexes, the index
    of the `"` closing their key, and the first byte of their value."""
    colon = np.flatnonzero(buf == 58)
    if len(colon) and colon[0] == 0:  # nothing before it: not a key's colon
        colon = colon[1:]
    before = buf[colon - 1]
    if np.isin(before, _BLANKS).any():  # `"key" :` somewhere: walk back over the blanks
        prev = _skip_blanks(buf, colon - 1, -1)
        before = buf.take(prev, mode="clip")
        is_key = (before == 34) & (prev >= 0)
        key, prev = colon[is_key], prev[is_key]
    else:
        is_key = before == 34
        key = colon[is_key]
        prev = key - 1
    nxt = key + 1
    first = buf.take(nxt, mode="clip")
    if np.isin(first, _BLANKS).any():  # `": value`: walk on over the blanks
        nxt = _skip_blanks(buf, nxt, 1)
        first = buf.take(nxt, mode="clip")
    valued = ~_is_null(buf, nxt, first)
    return key[valued], prev[valued], first[valued]


def _is_null(buf: np.ndarray, at: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Whether the value starting at each index `at` (first byte `first`) is `null`: an `n`
    then a `u` (in valid JSON the only other value to start with `n` is `nan`, which DuckDB
    reads as a value)."""
    null: np.ndarray = first == 110
    if null.any():
        null[null] = buf.take(at[null] + 1, mode="clip") == 117
    return null


def _key_positions(buf: np.ndarray) -> np.ndarray:
    return _key_scan(buf)[0]


def _written_as(buf: np.ndarray, ends: np.ndarray, text: bytes) -> np.ndarray:
    """Whether the bytes of `buf` ending at each index in `ends` (inclusive) are `text`."""
    want = np.frombuffer(text, dtype=np.uint8)
    at = ends[:, None] - np.arange(len(want) - 1, -1, -1)[None, :]
    same: np.ndarray = (buf.take(at, mode="clip") == want).all(axis=1) & (ends >= len(want) - 1)
    return same


def key_total(buf: np.ndarray) -> tuple[int, bool]:
    """`key_colons` summed over all the lines in `buf` (no split into lines needed), and
    whether every `true`/`false` value in it belongs to a key written as `"batch"` or
    `"accepted"` (the boolean fields): then no other field can hold a JSON boolean."""
    _, closing, first = _key_scan(buf)
    ends = closing[(first == 116) | (first == 102)]
    last = buf.take(ends - 1, mode="clip")
    batch, accepted = ends[last == 104], ends[last == 100]  # `h"`, `d"`
    named = (
        len(batch) + len(accepted) == len(ends)
        and bool(_written_as(buf, batch, b'"batch"').all())
        and bool(_written_as(buf, accepted, b'"accepted"').all())
    )
    return len(first), named


def key_colons(buf: np.ndarray, ends: np.ndarray) -> pa.Array:
    """Per line, how many `:` follow a `"` (whitespace between allowed) and are not followed
    by `null`.

    Every object key in valid JSON is such a pair, so in a valid line the count is at least
    the number of keys whose value is not null. A line whose count equals the number of known
    fields it sets to a non-null value has no other key with a value; only the other lines
    need the exact key list.
    """
    key = _key_positions(buf)
    bounds = np.searchsorted(key, np.concatenate([np.zeros(1, np.int64), ends]))
    return pa.array(np.diff(bounds).astype(np.int32))


def _decode_each(data: bytes, offsets: np.ndarray) -> tuple[pa.Array, dict[int, str]]:
    lines: list[str] = []
    errors: dict[int, str] = {}
    for i in range(len(offsets) - 1):
        raw = data[offsets[i] : offsets[i + 1]]
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            errors[i] = f"not valid UTF-8 at byte {e.start}"
            lines.append(raw.decode("utf-8", "replace"))
    return pa.array(lines, pa.large_string()), errors


def iter_line_blocks(
    path: Path, rows: int = CHUNK_ROWS, name: str | None = None
) -> Iterator[LineBlock]:
    """Blocks of `rows` lines (fewer at the end, or when `MAX_BLOCK_BYTES` is reached first);
    the last line need not end with a newline. A line over `MAX_LINE_BYTES` is skipped to
    its end and comes as a block of no lines whose `truncated` rejects it."""
    name = name or str(path)
    line_no = 1
    parts: list[bytes] = []
    part_ends: list[np.ndarray] = []  # the index after each newline, from the start of parts
    lines = size = last_end = 0  # newlines and bytes in parts, the index after the last newline
    broken: str | None = None
    blocks = raw_blocks(path)
    while True:
        try:
            data = next(blocks, b"")
        except _Broken as e:
            broken = str(e)
            break
        if not data:
            break
        parts.append(data)
        part_ends.append(np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10) + (size + 1))
        lines += len(part_ends[-1])
        size += len(data)
        if len(part_ends[-1]):
            last_end = int(part_ends[-1][-1])
        if size - last_end > MAX_LINE_BYTES:  # one line too long to hold: skip to its end
            whole = b"".join(parts)
            for block in _blocks(memoryview(whole)[:last_end], line_no, rows):
                line_no += len(block.lines)
                yield block
            head = whole[last_end : last_end + MAX_RAW_BYTES]
            rest, broken = _skip_line(blocks)
            yield LineBlock(
                line_no, pa.array([], pa.large_string()), truncated=_overlong(name, line_no, head)
            )
            line_no += 1
            parts, part_ends = [rest], [np.flatnonzero(np.frombuffer(rest, np.uint8) == 10) + 1]
            lines, size = len(part_ends[0]), len(rest)
            last_end = int(part_ends[0][-1]) if lines else 0
            if broken is not None:
                break
            continue
        if lines >= rows or (lines and size >= MAX_BLOCK_BYTES):
            whole = b"".join(parts)
            ends = np.concatenate(part_ends)
            take = len(ends) if lines < rows else (len(ends) // rows) * rows
            cut = int(ends[take - 1])
            for block in _blocks(memoryview(whole)[:cut], line_no, rows, ends[:take]):
                line_no += len(block.lines)
                yield block
            parts = [whole[cut:]]
            part_ends = [ends[take:] - cut]
            lines, size = len(ends) - take, len(parts[0])
            last_end = int(part_ends[0][-1]) if lines else 0
    pending = b"".join(parts)
    cut = pending.rfind(b"\n") + 1
    for block in _blocks(pending[:cut], line_no, rows):
        line_no += len(block.lines)
        yield block
    yield _tail(name, line_no, pending[cut:], broken)


MAX_RAW_BYTES = 2000


def _skip_line(blocks: Iterator[bytes]) -> tuple[bytes, str | None]:
    """Read `blocks` up to the end of the current line; the bytes after its newline, and
    why the stream broke (if it did)."""
    while True:
        try:
            data = next(blocks, b"")
        except _Broken as e:
            return b"", str(e)
        if not data:
            return b"", None
        nl = data.find(b"\n")
        if nl >= 0:
            return data[nl + 1 :], None


def _overlong(name: str, line_no: int, head: bytes) -> Rejected:
    return Rejected(
        f"{name}:{line_no}",
        f"line is over {MAX_LINE_BYTES >> 20} MiB, the limit (no record is that large); skipped",
        head.decode("utf-8", "replace"),
    )


def _blocks(
    data: bytes | memoryview, first: int, rows: int, ends: np.ndarray | None = None
) -> Iterator[LineBlock]:
    """`data` (whole lines) as blocks of at most `rows` lines, numbered from `first`."""
    if not len(data):
        return
    buf = np.frombuffer(data, dtype=np.uint8)
    if ends is None:
        ends = np.flatnonzero(buf == 10) + 1
    arr, errors = _to_lines(data, ends)
    for start in range(0, len(arr), rows):
        part = arr.slice(start, rows)
        errs = {i - start: r for i, r in errors.items() if start <= i < start + rows}
        lo = int(ends[start - 1]) if start else 0
        hi = int(ends[min(start + rows, len(ends)) - 1])
        total, named = key_total(buf[lo:hi])
        yield LineBlock(first + start, part, errs, key_total=total, bools_named=named)


def _tail(name: str, line_no: int, pending: bytes, broken: str | None) -> LineBlock:
    """The last line (no newline after it), or the rejection for where the stream broke."""
    if broken is not None:
        rej = Rejected(
            f"{name}:{line_no}",
            f"{broken}: the file ends inside or before this line; lines from here on are "
            "lost (re-export the file and ingest it again)",
            pending[:2000].decode("utf-8", "replace"),
        )
        return LineBlock(line_no, pa.array([], pa.large_string()), truncated=rej)
    if not pending.strip():
        return LineBlock(line_no, pa.array([], pa.large_string()))
    data = pending + b"\n"
    arr, errors = _to_lines(data)
    total, named = key_total(np.frombuffer(data, np.uint8))
    return LineBlock(line_no, arr, errors, key_total=total, bools_named=named)


# -- a whole file at once (for the ledger's direct read, `base.DirectRead`) -----------------
SCAN_BYTES = 1 << 20  # small enough for numpy's temporaries to stay in cache


def _valued_keys(b: np.ndarray) -> int:
    """`key_colons` summed over `b` (whole lines). Compact JSON (no blank beside a key's
    colon) is counted from the colons alone; otherwise `key_total` walks the blanks."""
    c = np.flatnonzero(b[1:-1] == 58) + 1  # every `:` but at either end (malformed there)
    prev, nxt = b[c - 1], b[c + 1]
    key = prev == 34
    # a blank (or newline) before a colon, or after a key's: count exactly
    if np.count_nonzero(prev <= 32) or np.count_nonzero(key & (nxt <= 32)):
        return key_total(b)[0]
    at = c[key] + 1
    return len(at) - int(np.count_nonzero(_is_null(b, at, nxt[key])))


def scan_text(path: Path, longest: int) -> Scanned | None:
    """Count the lines of a plain (not gzip) file (the last one though no newline ends it)
    and the keys with a value they hold (`key_colons`), reading it in blocks of whole lines;
    None when a line (its newline included) is longer than `longest` bytes."""
    lines = keys = 0
    rest = b""
    with path.open("rb") as f:
        while True:
            data = f.read(SCAN_BYTES)
            block = rest + data if rest else data  # starts where a line starts
            # whole lines; at the end of the file, the last line too
            cut = block.rfind(b"\n") + 1 if data else len(block)
            rest = block[cut:]
            if len(rest) > longest:
                return None
            if not cut:
                if data:
                    continue
                return Scanned(lines, keys)
            b = np.frombuffer(block, dtype=np.uint8, count=cut)
            first = block.find(b"\n", 0, cut) + 1 or cut
            if first > longest or (cut > longest and _longest(b) > longest):
                return None
            keys += _valued_keys(b)
            lines += int(np.count_nonzero(b == 10)) + (block[cut - 1] != 10)
            if not data:
                return Scanned(lines, keys)


def _longest(b: np.ndarray) -> int:
    ends = np.flatnonzero(b == 10) + 1
    return int(np.diff(ends, prepend=0, append=len(b)).max())


def pick_lines(path: Path, numbers: list[int]) -> list[bytes]:
    """Lines `numbers` (1-based, ascending) of a plain file, newline included."""
    out: list[bytes] = []
    want = np.asarray(numbers, dtype=np.int64)
    line = 1  # the number of the line that starts the pending bytes
    rest = b""
    with path.open("rb") as f:
        while len(out) < len(want):
            data = f.read(READ_BYTES)
            block = rest + data if rest else data
            cut = block.rfind(b"\n") + 1 if data else len(block)
            if cut:
                b = np.frombuffer(block, dtype=np.uint8, count=cut)
                ends = np.flatnonzero(b == 10) + 1
                if not len(ends) or ends[-1] != cut:
                    ends = np.append(ends, cut)
                starts = np.concatenate([np.zeros(1, np.int64), ends[:-1]])
                at = want[(want >= line) & (want < line + len(ends))] - line
                out.extend(block[int(starts[i]) : int(ends[i])] for i in at)
                line += len(ends)
            rest = block[cut:]
            if not data:
                break
    return out


def scan_csv(path: Path, longest: int, commas: int) -> int | None:
    """Count the lines of a plain file (the last one though no newline ends it) when every
    one is a whole CSV record, read in blocks of whole lines: None when a line is blank,
    holds an odd number of quotes (a quoted field goes on to the next line) or a NUL, ends
    with a lone CR, or is longer than `longest` bytes, or when the block's commas outside
    quotes are not `commas` a line. (DuckDB's strict read fails on a line with fewer fields
    but drops empty fields past the last column: so equal totals mean each line has its
    `commas`, as the chunked read counts them.) Quotes are located (numpy) only in blocks
    that hold any."""
    lines = 0
    rest = b""
    with path.open("rb") as f:
        while True:
            data = f.read(SCAN_BYTES)
            block = rest + data if rest else data
            cut = block.rfind(b"\n") + 1 if data else len(block)
            rest = block[cut:]
            if len(rest) > longest:
                return None
            if not cut:
                if data:
                    continue
                return lines
            view = memoryview(block)[:cut]
            whole = bytes(view) if cut < len(block) else block
            if (
                whole[:1] == b"\n"
                or whole[:2] == b"\r\n"
                or b"\n\n" in whole
                or b"\n\r\n" in whole
                or b"\0" in whole
                or whole.count(b"\r") != whole.count(b"\r\n")
            ):
                return None
            b = np.frombuffer(whole, dtype=np.uint8)
            count = whole.count(b"\n") + (whole[-1] != 10)
            if b'"' in whole:
                if _odd_quotes(b) or _bare_commas(b) != count * commas:
                    return None
            elif whole.count(b",") != count * commas:
                return None
            if cut > longest and _longest(b) > longest:
                return None
            lines += count
            if not data:
                return lines


def _bare_commas(b: np.ndarray) -> int:
    """The commas of `b` (whole lines, each with an even number of quotes) outside quotes."""
    quotes = np.flatnonzero(b == 34)
    at = np.flatnonzero(b == 44)
    return int(np.count_nonzero(np.searchsorted(quotes, at) % 2 == 0))


def _odd_quotes(b: np.ndarray) -> bool:
    """Whether a line of `b` (whole lines) holds an odd number of quotes."""
    quotes = np.flatnonzero(b == 34)
    ends = np.flatnonzero(b == 10) + 1
    if not len(ends) or ends[-1] != len(b):
        ends = np.append(ends, len(b))
    before = np.searchsorted(quotes, ends)
    return bool((np.diff(before, prepend=0) % 2).any())
