"""API keys: hashed at rest, constant-time checked, 401 for no/wrong key, 403 for wrong kind."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from unitecon.server.auth import KeyStore, Kind, parse_key

#: (method, path, kind it needs) for one endpoint of each kind.
ENDPOINTS = [
    ("POST", "/v1/traces", Kind.INGEST),
    ("POST", "/api/v1/events", Kind.INGEST),
    ("GET", "/api/v1/quarantine", Kind.READ),
    ("GET", "/api/v1/filters", Kind.READ),
    ("GET", "/api/v1/admin/keys", Kind.ADMIN),
]


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> object:
    if method == "POST":
        return client.post(
            path, content=b"{}", headers={"Content-Type": "application/json", **headers}
        )
    return client.get(path, headers=headers)


def test_key_format_and_storage_never_holds_the_key(store: KeyStore, tmp_path: Path) -> None:
    key, info = store.create("read", "dashboard")
    key_id, secret = parse_key(key) or ("", "")
    assert key.startswith("uk_read_") and key_id == info.key_id and len(secret) == 48
    raw = (tmp_path / "keys.sqlite").read_bytes()
    assert secret.encode() not in raw and key.encode() not in raw
    assert store.verify(key) == info
    assert store.verify(key[:-1] + ("0" if key[-1] != "0" else "1")) is None
    assert store.verify("uk_read_00000000_" + "0" * 48) is None
    assert store.verify("nonsense") is None


def test_revoke_by_id_or_key(store: KeyStore) -> None:
    k1, i1 = store.create("ingest")
    k2, _ = store.create("admin")
    store.revoke(i1.key_id)
    store.revoke(k2)
    assert store.verify(k1) is None and store.verify(k2) is None
    assert all(k.revoked_at for k in store.list())
    with pytest.raises(Exception, match="No API key with id 'nope'"):
        store.revoke("nope")


def test_unknown_kind_is_a_user_error(store: KeyStore) -> None:
    with pytest.raises(Exception, match="choose from: ingest, read, admin"):
        store.create("writer")


@pytest.mark.parametrize(("method", "path", "need"), ENDPOINTS)
def test_no_key_is_401(client: TestClient, method: str, path: str, need: Kind) -> None:
    r = call(client, method, path, {})
    assert r.status_code == 401, r.text  # type: ignore[attr-defined]
    assert r.headers["www-authenticate"].startswith("Bearer")  # type: ignore[attr-defined]
    assert r.json()["error"]["code"] == "unauthorized"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("method", "path", "need"), ENDPOINTS)
def test_wrong_key_is_401(
    client: TestClient, keys: dict[str, str], method: str, path: str, need: Kind
) -> None:
    forged = keys[need.value][:-4] + "abcd"
    for headers in ({"Authorization": f"Bearer {forged}"}, {"X-API-Key": "uk_x"}):
        r = call(client, method, path, headers)
        assert r.status_code == 401  # type: ignore[attr-defined]


@pytest.mark.parametrize(("method", "path", "need"), ENDPOINTS)
def test_wrong_kind_is_403_right_kind_passes(
    client: TestClient, hdr: dict[str, dict[str, str]], method: str, path: str, need: Kind
) -> None:
    allowed = {need.value, "admin"}
    for kind, headers in hdr.items():
        r = call(client, method, path, headers)
        status = r.status_code  # type: ignore[attr-defined]
        if kind in allowed:
            assert status not in (401, 403), (kind, path, r.text)  # type: ignore[attr-defined]
        else:
            assert status == 403, (kind, path)
            assert r.json()["error"]["code"] == "forbidden"  # type: ignore[attr-defined]


def test_revoked_key_is_refused_within_a_second(
    client: TestClient, store: KeyStore, keys: dict[str, str]
) -> None:
    h = {"Authorization": f"Bearer {keys['read']}"}
    assert client.get("/api/v1/quarantine", headers=h).status_code == 200
    store.revoke(keys["read"])
    client.app.state.keys._loaded_at = -1e9  # type: ignore[attr-defined]  # skip the 1 s cache
    assert client.get("/api/v1/quarantine", headers=h).status_code == 401


def test_keys_never_logged(
    client: TestClient,
    keys: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    for key in keys.values():
        client.get("/api/v1/admin/keys", headers={"Authorization": f"Bearer {key}"})
        client.get("/api/v1/quarantine", headers={"X-API-Key": key})
    out, err = capfd.readouterr()
    for key in keys.values():
        secret = key.rsplit("_", 1)[1]
        assert secret not in caplog.text and secret not in out and secret not in err


def test_admin_lists_keys_without_secrets(
    client: TestClient, hdr: dict[str, dict[str, str]], keys: dict[str, str]
) -> None:
    r = client.get("/api/v1/admin/keys", headers=hdr["admin"])
    assert r.status_code == 200
    assert {k["kind"] for k in r.json()} == {"ingest", "read", "admin"}
    for key in keys.values():
        assert key.rsplit("_", 1)[1] not in r.text
