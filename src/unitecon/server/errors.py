"""One error shape for the whole HTTP API.

Every 4xx and 5xx answer of the service is this JSON body (a test locks it)::

    {"error": {"status": 413, "code": "payload_too_large",
               "message": "The body is 40 MiB; the limit is 32 MiB. ...", "details": []}}

The one exception is the OTLP receiver answering a protobuf request: the OTLP specification
requires a protobuf `google.rpc.Status` there, so it gets one with the same message.

ApiError                     base; carries status, code, message, details, headers
├── Unauthorized (401)       no key, an unknown key or a revoked key
├── Forbidden (403)          a valid key of the wrong kind
├── NotFound (404)           an unknown task, page or route
├── PayloadTooLarge (413)    the body (or its decompressed size) is over the limit
├── UnsupportedMedia (415)   a content type or content encoding the endpoint does not take
├── RequestTimeout (408)     the body did not arrive in time (a client too slow, or stalled)
├── InvalidBody (422)        the body cannot be decoded, or a parameter is invalid
├── Overloaded (503)         the writer's queue is full; retry after `Retry-After` seconds
└── Unavailable (503)        a stage of unitecon this endpoint needs is not installed
"""

from __future__ import annotations

import json
import logging
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from unitecon.errors import UniteconError

log = logging.getLogger("unitecon.server")


class ErrorDetail(BaseModel):
    """What went wrong, for a person and for a program."""

    model_config = ConfigDict(extra="forbid")

    status: int
    """The HTTP status code, repeated in the body."""
    code: str
    """A stable machine-readable name: `unauthorized`, `payload_too_large`, ..."""
    message: str
    """What went wrong and how to fix it, in plain words."""
    details: list[dict[str, Any]] = Field(default_factory=list)
    """Per-field problems (`loc`, `msg`) for invalid parameters; empty otherwise."""


class ErrorBody(BaseModel):
    """The body of every error answer."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


class ApiError(Exception):
    """An error answered with `status` and the shared body."""

    status = 500
    code = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.code, self.message, self.details)


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="unitecon"'})


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class UnsupportedMedia(ApiError):
    status = 415
    code = "unsupported_media_type"


class InvalidBody(ApiError):
    status = 422
    code = "invalid_body"


class RequestTimeout(ApiError):
    status = 408
    code = "request_timeout"


class Overloaded(ApiError):
    status = 503
    code = "overloaded"

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after_s)})


class Unavailable(ApiError):
    status = 503
    code = "unavailable"


def error_body(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The shared error body as a plain dict (validated by `ErrorBody`)."""
    return ErrorBody(
        error=ErrorDetail(status=status, code=code, message=message, details=details or [])
    ).model_dump(mode="json")


def _code_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def _json(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None, **kw: Any
) -> JSONResponse:
    return JSONResponse(error_body(status, code, message, details), status_code=status, **kw)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        out.append({"loc": loc, "msg": str(err.get("msg", ""))})
    return out


#: HTTP status -> google.rpc.Code, for OTLP protobuf error answers.
_GRPC_CODE = {400: 3, 401: 16, 403: 7, 404: 5, 413: 8, 415: 3, 422: 3, 429: 8, 503: 14}

PROTOBUF = "application/x-protobuf"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def rpc_status(status: int, message: str) -> bytes:
    """A protobuf `google.rpc.Status{code, message}` (the OTLP error body for protobuf)."""
    code = _GRPC_CODE.get(status, 13)
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def wants_protobuf(request: Request) -> bool:
    """An OTLP request sent as protobuf: its errors are answered in protobuf too."""
    ct = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return ct == PROTOBUF and request.url.path.startswith("/v1/")


#: Characters no path or query parameter may hold: NUL and the other C0 controls (a NUL
#: in a filter would reach the engine's parser).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Guard:
    """The outermost layer of the app (pure ASGI), for what the handlers cannot catch:

    * a path or query parameter holding control characters (NUL...) is answered 422 before
      any route sees it;
    * an exception that escapes the app is answered 500 in the shared shape and not raised
      on: Starlette's own last-resort handler answers, then raises again, and the server
      then drops the connection, so the client's next request on that keep-alive
      connection was reset.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bad = _bad_target(scope)
        if bad is not None:
            await _send_json(send, 422, "invalid_request", bad)
            return
        started = False

        async def tracked(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                message = f"Internal error ({type(exc).__name__}); the server log has the details."
                await _send_json(send, 500, "internal_error", message)


def _bad_target(scope: dict[str, Any]) -> str | None:
    from urllib.parse import unquote_to_bytes

    path = scope.get("path", "")
    query = unquote_to_bytes(scope.get("query_string", b"").replace(b"+", b" "))
    if _CONTROL.search(path):
        return "The path holds a control character (such as NUL); remove it."
    try:
        text = query.decode("utf-8")
    except UnicodeDecodeError:
        return "The query string is not UTF-8 once percent-decoded."
    if _CONTROL.search(text):
        return "A query parameter holds a control character (such as NUL); remove it."
    return None


async def _send_json(send: Any, status: int, code: str, message: str) -> None:
    body = json.dumps(error_body(status, code, message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def install(app: FastAPI) -> None:
    """Route every error the app can raise through the shared shape."""
    app.add_middleware(Guard)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        if wants_protobuf(request):
            return Response(
                rpc_status(exc.status, exc.message),
                status_code=exc.status,
                headers=exc.headers,
                media_type=PROTOBUF,
            )
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        where = "; ".join(f"{d['loc']}: {d['msg']}" for d in details[:5])
        return _json(422, "invalid_request", f"Invalid request: {where}", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail) if exc.detail else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404:
            message = f"No such path: {request.url.path}. The API is documented at /docs."
        return _json(exc.status_code, _code_for(exc.status_code), message, headers=exc.headers)

    @app.exception_handler(UniteconError)
    async def _user_error(request: Request, exc: UniteconError) -> JSONResponse:
        return _json(422, "invalid_request", str(exc))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        return _json(
            500,
            "internal_error",
            f"Internal error ({type(exc).__name__}); the server log has the details.",
        )


#: The error answers every route can give, for the OpenAPI schema.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No API key, or an unknown or revoked one."},
    403: {"model": ErrorBody, "description": "The API key is of the wrong kind."},
    422: {"model": ErrorBody, "description": "An invalid parameter or body."},
}
