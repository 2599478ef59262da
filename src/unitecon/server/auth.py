"""API keys: an ingest key (write only), a read key, an admin key (both).

A key looks like `uk_read_3f9a1c2e_<48 hex>`: kind, a public id, and the secret. The store
(a small SQLite file next to the ledger, `keys.sqlite`) keeps the id, kind, a per-key random
salt and HMAC-SHA256(salt, secret); never the key in clear. Keys are compared in constant
time (`hmac.compare_digest`), and a lookup of an unknown id costs the same as a known one.

Clients send the key as `Authorization: Bearer <key>` (or `X-API-Key: <key>`). Query strings
are never read, so a key cannot end up in an access log.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from fastapi import Request

from unitecon.errors import UniteconError
from unitecon.server.errors import Forbidden, Unauthorized

KEYS_FILE = "keys.sqlite"


class Kind(StrEnum):
    """What a key may do."""

    INGEST = "ingest"
    READ = "read"
    ADMIN = "admin"


#: Which kinds each permission accepts: admin may do everything.
ALLOWED: dict[Kind, frozenset[Kind]] = {
    Kind.INGEST: frozenset({Kind.INGEST, Kind.ADMIN}),
    Kind.READ: frozenset({Kind.READ, Kind.ADMIN}),
    Kind.ADMIN: frozenset({Kind.ADMIN}),
}


@dataclass(frozen=True)
class KeyInfo:
    """A stored key, without its secret."""

    key_id: str
    kind: Kind
    name: str
    created_at: str
    revoked_at: str | None


@dataclass(frozen=True)
class _Stored:
    info: KeyInfo
    salt: bytes
    digest: bytes


def _digest(salt: bytes, secret: str) -> bytes:
    return hmac.new(salt, secret.encode(), hashlib.sha256).digest()


_DUMMY = _Stored(KeyInfo("", Kind.READ, "", "", None), b"\0" * 16, b"\0" * 32)


def parse_key(key: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed key, else None."""
    parts = key.strip().split("_")
    if len(parts) != 4 or parts[0] != "uk" or parts[1] not in Kind.__members__.values():
        return None
    key_id, secret = parts[2], parts[3]
    if len(key_id) != 8 or len(secret) != 48:
        return None
    return key_id, secret


class KeyStore:
    """API keys in a SQLite file. Safe to share between threads and processes."""

    #: Seconds a loaded key table is trusted before re-reading (revocations apply this fast).
    REFRESH_S = 1.0

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._cache: dict[str, _Stored] = {}
        self._loaded_at = -1e9
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS api_keys (key_id TEXT PRIMARY KEY, kind TEXT NOT "
                "NULL, name TEXT NOT NULL, salt BLOB NOT NULL, digest BLOB NOT NULL, "
                "created_at TEXT NOT NULL, revoked_at TEXT)"
            )

    @classmethod
    def beside(cls, ledger_path: Path | str | None) -> KeyStore:
        """The key store next to a ledger file (or in `$UNITECON_HOME` for `:memory:`)."""
        from unitecon.ledger.store import home

        if ledger_path is None or str(ledger_path) == ":memory:":
            return cls(home() / KEYS_FILE)
        return cls(Path(ledger_path).parent / KEYS_FILE)

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        con.execute("PRAGMA busy_timeout = 10000")
        return con

    # -- management (the CLI) --------------------------------------------------------
    def create(self, kind: Kind | str, name: str = "") -> tuple[str, KeyInfo]:
        """A new key: returns the key in clear (shown once) and its stored info."""
        kind = _kind(kind)
        key_id = secrets.token_hex(4)
        secret = secrets.token_hex(24)
        salt = secrets.token_bytes(16)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as con:
            con.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, NULL)",
                [key_id, kind.value, name, salt, _digest(salt, secret), now],
            )
        self._loaded_at = -1e9
        return f"uk_{kind.value}_{key_id}_{secret}", KeyInfo(key_id, kind, name, now, None)

    def list(self, *, include_revoked: bool = True) -> list[KeyInfo]:
        with self._connect() as con:
            rows = con.execute(
                "SELECT key_id, kind, name, created_at, revoked_at FROM api_keys "
                "ORDER BY created_at, key_id"
            ).fetchall()
        out = [KeyInfo(r[0], Kind(r[1]), r[2], r[3], r[4]) for r in rows]
        return out if include_revoked else [k for k in out if k.revoked_at is None]

    def revoke(self, key_id: str) -> KeyInfo:
        """Revoke by id (the 8 hex characters after the kind), or by the whole key."""
        parsed = parse_key(key_id)
        key_id = parsed[0] if parsed else key_id.strip()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as con:
            cur = con.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                [now, key_id],
            )
            changed = cur.rowcount
        self._loaded_at = -1e9
        known = {k.key_id: k for k in self.list()}
        if key_id not in known:
            ids = ", ".join(sorted(known)) or "none yet"
            raise UniteconError(f"No API key with id {key_id!r}. Known ids: {ids}.")
        if not changed and known[key_id].revoked_at is None:  # pragma: no cover - race
            raise UniteconError(f"API key {key_id} could not be revoked; try again.")
        return known[key_id]

    # -- verification (the server) ---------------------------------------------------
    def _active(self) -> dict[str, _Stored]:
        with self._lock:
            if time.monotonic() - self._loaded_at > self.REFRESH_S:
                with self._connect() as con:
                    rows = con.execute(
                        "SELECT key_id, kind, name, created_at, salt, digest FROM api_keys "
                        "WHERE revoked_at IS NULL"
                    ).fetchall()
                self._cache = {
                    r[0]: _Stored(KeyInfo(r[0], Kind(r[1]), r[2], r[3], None), r[4], r[5])
                    for r in rows
                }
                self._loaded_at = time.monotonic()
            return self._cache

    def verify(self, key: str) -> KeyInfo | None:
        """The key's info if it is a valid, unrevoked key; None otherwise."""
        parsed = parse_key(key)
        key_id, secret = parsed if parsed else ("", key)
        stored = self._active().get(key_id)
        candidate = stored or _DUMMY
        ok = hmac.compare_digest(candidate.digest, _digest(candidate.salt, secret))
        return stored.info if (stored is not None and ok) else None


def _kind(kind: Kind | str) -> Kind:
    try:
        return Kind(kind)
    except ValueError:
        raise UniteconError(
            f"Unknown key kind {kind!r}; choose from: {', '.join(k.value for k in Kind)}"
        ) from None


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def presented_key(request: Request) -> str | None:
    """The key a request carries (Authorization: Bearer, or X-API-Key), if any."""
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    key = request.headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


def require(need: Kind) -> Callable[[Request], Awaitable[KeyInfo]]:
    """A FastAPI dependency: the request's key must be valid (401) and allow `need` (403).

    It runs on the event loop (an HMAC and a dict lookup; the key file is re-read at most
    every `KeyStore.REFRESH_S`), not on a worker thread: the hop to a thread and back costs
    more than the check, and every ingest request pays it.
    """

    async def check(request: Request) -> KeyInfo:
        store: KeyStore = request.app.state.keys
        key = presented_key(request)
        if key is None:
            raise Unauthorized(
                "No API key. Send it as `Authorization: Bearer <key>`; create one with "
                f"`unitecon keys create {need.value}`."
            )
        info = store.verify(key)
        if info is None:
            raise Unauthorized(
                "Unknown or revoked API key. List keys with `unitecon keys list`; create one "
                f"with `unitecon keys create {need.value}`."
            )
        if info.kind not in ALLOWED[need]:
            allowed = need.value if need is Kind.ADMIN else f"{need.value} or admin"
            raise Forbidden(
                f"This is {_a(info.kind.value)} key (id {info.key_id}); this endpoint needs "
                f"{_a(allowed)} key."
            )
        return info

    return check
