"""Every connection the engine opens holds DuckDB to a memory limit (issue 23: a command
over 10M events stays under 2 GB), set by `$UNITECON_MEMORY_LIMIT` where given."""

from __future__ import annotations

from pathlib import Path

import pytest

from unitecon import engine
from unitecon.errors import UniteconError
from unitecon.server.app import Settings


def limit_bytes(con: object) -> float:
    """DuckDB's limit as it reports it (e.g. `953.6 MiB`), in bytes."""
    text = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]  # type: ignore[attr-defined]
    value, unit = text.split()
    return float(value) * {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30}[unit]


def test_a_command_connection_is_held_to_one_gigabyte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UNITECON_MEMORY_LIMIT", raising=False)
    con = engine.connect(tmp_path / "l.duckdb")
    # 1GB is 10^9 bytes; DuckDB shows it in MiB rounded to 0.1 (953.7 MiB)
    assert abs(limit_bytes(con) - 1e9) < 0.1 * 2**20
    con.close()


def test_the_environment_sets_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNITECON_MEMORY_LIMIT", "512MB")
    con = engine.connect(None)
    assert abs(limit_bytes(con) - 512e6) < 0.1 * 2**20
    con.close()


def test_a_malformed_size_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNITECON_MEMORY_LIMIT", "lots")
    with pytest.raises(UniteconError, match="UNITECON_MEMORY_LIMIT 'lots'"):
        engine.connect(None)


def test_the_service_takes_its_setting_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("UNITECON_MEMORY_LIMIT", "3GB")
    assert Settings(memory_limit="2GB").duckdb_memory() == "2GB"
    assert Settings().duckdb_memory() == "3GB"
    with pytest.raises(UniteconError, match="memory limit '2 lots'"):
        Settings(memory_limit="2 lots").duckdb_memory()
