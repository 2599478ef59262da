"""Reading request bodies safely: size limits (413), content types and encodings (415), and
a deadline for the whole body (408).

The limit applies twice: to the bytes on the wire (checked against `Content-Length` before
reading, and while streaming) and to the decompressed size, so a small gzip bomb is refused
as surely as a large body.
"""

from __future__ import annotations

import asyncio
import zlib

from fastapi import Request

from unitecon.server.errors import (
    InvalidBody,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMedia,
)

MIB = 1 << 20
#: A request body must arrive whole within this many seconds (a stalled or very slow client
#: is answered 408 and its connection freed); `Settings.body_timeout_s`.
BODY_TIMEOUT_S = 60.0


def media_type(request: Request, accepted: dict[str, str]) -> str:
    """The request's media type mapped through `accepted` (type -> kind), else 415."""
    raw = request.headers.get("content-type", "")
    mt = raw.split(";", 1)[0].strip().lower()
    if mt not in accepted:
        names = ", ".join(accepted)
        got = f"{mt!r}" if mt else "no Content-Type"
        raise UnsupportedMedia(f"This endpoint takes {names}; the request has {got}.")
    return accepted[mt]


def _encoding(request: Request) -> str | None:
    enc = request.headers.get("content-encoding", "").strip().lower()
    if enc in ("", "identity"):
        return None
    if enc in ("gzip", "x-gzip", "deflate"):
        return enc
    raise UnsupportedMedia(
        f"Content-Encoding {enc!r} is not supported; send gzip, deflate, or no encoding."
    )


def _too_large(what: str, size: int | str, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The {what} is {size} bytes; the limit is {limit:,} bytes ({limit / MIB:g} MiB). "
        "Send smaller batches (e.g. the exporter's max_export_batch_size)."
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, decompressed, at most `limit` bytes both on the wire and inflated."""
    encoding = _encoding(request)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large("body", f"{int(declared):,}", limit)
    parts: list[bytes] = []
    size = 0
    settings = getattr(request.app.state, "settings", None)
    timeout_s = float(getattr(settings, "body_timeout_s", BODY_TIMEOUT_S))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    stream = request.stream().__aiter__()
    while True:
        try:
            part = await asyncio.wait_for(anext(stream), max(0.0, deadline - loop.time()))
        except StopAsyncIteration:
            break
        except TimeoutError:
            raise RequestTimeout(
                f"The body did not arrive within {timeout_s:g} s ({size:,} bytes came); "
                "send it again."
            ) from None
        size += len(part)
        if size > limit:
            raise _too_large("body", f"over {limit:,}", limit)
        parts.append(part)
    body = b"".join(parts)
    return body if encoding is None else inflate(body, encoding, limit)


def inflate(body: bytes, encoding: str, limit: int) -> bytes:
    """Decompress gzip or deflate, refusing output above `limit` bytes."""
    wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
    d = zlib.decompressobj(wbits)
    try:
        out = d.decompress(body, limit + 1)
    except zlib.error as e:
        raise InvalidBody(f"The body is not valid {encoding} data: {e}.") from None
    if len(out) > limit or d.unconsumed_tail:
        raise _too_large("decompressed body", f"over {limit:,}", limit)
    if not d.eof:
        raise InvalidBody(f"The {encoding} body is truncated.")
    return out
