"""Lineage and operations (issue 22, item 11): stale `running` rows told apart, failed
ingests marked, `forget`, conflicting re-sent records reported, operational errors that say
what to do, terminal escapes kept out of tables, config-file errors with their line."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from unitecon.cli.main import run
from unitecon.ingest import read_path
from unitecon.ledger import operational
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import Ledger


def rec(i: int, **kw: Any) -> dict[str, Any]:
    r: dict[str, Any] = {
        "event_id": f"e{i}",
        "ts": "2025-03-01T10:00:00Z",
        "provider": "openai",
        "model": "gpt-4o",
        "input_tokens": 100,
        "output_tokens": 20,
    }
    r.update(kw)
    return r


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def flat(text: str) -> str:
    """`text` without whitespace (rich wraps messages anywhere, paths included)."""
    return "".join(text.split())


def statuses(led: Ledger) -> dict[str, str]:
    return {r["source"]: r["status"] for r in led.ingests()}


# -- stale, live and failed ingests ---------------------------------------------------------------
def test_a_killed_ingest_shows_as_interrupted_and_a_live_one_as_running(tmp_path: Path) -> None:
    with Ledger() as led:  # a row left `running` by a process that was killed
        led.con.execute(
            "INSERT INTO ingests (ingest_id, source, started_at, status) "
            "VALUES ('dead', 'killed.jsonl', now(), 'running')"
        )
    seen: dict[str, str] = {}
    f = write_jsonl(tmp_path / "live.jsonl", [rec(1), rec(2)])

    def chunks() -> Iterator[Chunk]:
        yield from read_path(f)
        with Ledger() as other:  # the same process opens the ledger mid-ingest
            seen.update(statuses(other))

    with Ledger() as led:
        led.ingest(str(f), chunks())
        after = statuses(led)
    assert seen == {"killed.jsonl": "interrupted", str(f): "running"}
    assert after == {"killed.jsonl": "interrupted", str(f): "done"}


def test_an_ingest_stopped_by_an_error_is_marked_failed(tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "a.jsonl", [rec(1)])

    def chunks() -> Iterator[Chunk]:
        yield from read_path(f)
        raise RuntimeError("the reader broke")

    with Ledger() as led:
        with pytest.raises(RuntimeError):
            led.ingest("broken", chunks())
        assert statuses(led)["broken"] == "failed"
        assert led.count() == 1  # the chunk before the failure is kept


def test_lineage_command_explains_unfinished_ingests(capsys: pytest.CaptureFixture[str]) -> None:
    with Ledger() as led:
        led.con.execute(
            "INSERT INTO ingests (ingest_id, source, started_at, status) "
            "VALUES ('dead', 'killed.jsonl', now(), 'running')"
        )
    assert run(["lineage"]) == 0
    out = capsys.readouterr().out
    assert "interrupted" in out and "killed.jsonl" in out and "ingest the source again" in out


# -- forget -------------------------------------------------------------------------------------
def test_forget_removes_a_sources_events_and_records_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", [rec(1), rec(2), {"ts": "bad"}])
    b = write_jsonl(tmp_path / "b.jsonl", [rec(3)])
    assert run(["ingest", str(a), str(b), "--json"]) == 4  # stored; a's bad record quarantined
    capsys.readouterr()
    assert run(["forget", str(a), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["events_removed"], out["quarantine_removed"]) == (2, 1)
    with Ledger() as led:
        assert [r["event_id"] for r in led.rows("SELECT event_id FROM events")] == ["e3"]
        forgets = [r for r in led.ingests() if r["format"] == "forget"]
        assert [(r["source"], r["rows_read"], r["status"]) for r in forgets] == [
            (str(a), 2, "done")
        ]
    assert run(["ingest", str(a), "--json"]) == 4  # and it can come back (its bad record too)
    with Ledger() as led:
        assert led.count() == 3
    log = [
        json.loads(x)
        for x in (tmp_path / "unitecon-home" / "lineage.jsonl").read_text().splitlines()
    ]
    assert [r.get("format") for r in log] == ["jsonl", "jsonl", "forget", "jsonl"]


def test_forget_an_unknown_source_suggests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write_jsonl(tmp_path / "events.jsonl", [rec(1)])
    assert run(["ingest", str(a), "--json"]) == 0
    assert run(["forget", str(tmp_path / "event.jsonl")]) == 2
    err = flat(capsys.readouterr().err)
    assert "Unknownsource" in err and f"Didyoumean:{tmp_path}/events.jsonl" in err


# -- conflicts ------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])  # the direct read, and the chunked one
def test_a_changed_record_under_a_stored_id_is_a_conflict(tmp_path: Path, fmt: str) -> None:
    first = write_jsonl(tmp_path / "first.jsonl", [rec(1), rec(2)])
    if fmt == "jsonl":
        second = write_jsonl(tmp_path / "second.jsonl", [rec(1), rec(2, output_tokens=99), rec(3)])
    else:
        second = tmp_path / "second.csv"
        second.write_text(
            "event_id,ts,provider,model,input_tokens,output_tokens\n"
            "e1,2025-03-01T10:00:00Z,openai,gpt-4o,100,20\n"
            "e2,2025-03-01T10:00:00Z,openai,gpt-4o,100,99\n"
            "e3,2025-03-01T10:00:00Z,openai,gpt-4o,100,20\n"
        )
    with Ledger() as led:
        led.ingest(str(first), read_path(first))
        res = led.ingest(str(second), read_path(second))
        (q,) = led.quarantine()
        stored = led.rows("SELECT output_tokens FROM events WHERE event_id = 'e2'")
    # e1 the same (a duplicate), e2 changed (a conflict), e3 new
    assert (res.accepted, res.duplicates, res.conflicts, res.quarantined) == (1, 1, 1, 1)
    line = 2 if fmt == "jsonl" else 3
    assert q["location"] == f"{second}:{line}"
    assert f"already stored with different content (first from {first}:2)" in q["reason"]
    assert stored == [{"output_tokens": 20}]  # the first one stays


# -- operational errors -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("error", "says"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/data/x"), "disk is full"),
        (duckdb.IOException("IO Error: No space left on device"), "disk is full"),
        (OSError(errno.EROFS, "Read-only file system", "/ro/home"), "read-only file system"),
        (PermissionError(errno.EACCES, "Permission denied", "/root/h"), "No permission"),
    ],
)
def test_operational_errors_say_what_to_do(error: BaseException, says: str) -> None:
    msg = str(operational.explain(error))
    assert says in msg and "UNITECON_HOME" in msg
    assert operational.is_fatal(error) == (says != "No permission")


def test_disk_full_during_ingest_is_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = write_jsonl(tmp_path / "a.jsonl", [rec(1)])

    def full(*_: Any, **__: Any) -> None:
        raise duckdb.IOException("IO Error: Could not write file: No space left on device")

    monkeypatch.setattr(Ledger, "_insert_direct", full)
    monkeypatch.setattr(Ledger, "_write_chunk", full)
    assert run(["ingest", str(f)]) == 2
    err = capsys.readouterr().err
    assert "disk is full" in err and "internal error" not in err
    with Ledger() as led:
        assert statuses(led)[str(f)] == "failed"


def test_unwritable_home_is_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("UNITECON_HOME", str(blocker / "home"))
    f = write_jsonl(tmp_path / "a.jsonl", [rec(1)])
    assert run(["ingest", str(f)]) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err


def test_damaged_ledger_says_how_to_rebuild(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = write_jsonl(tmp_path / "a.jsonl", [rec(1)])
    assert run(["ingest", str(f), "--json"]) == 0
    ledger = tmp_path / "unitecon-home" / "ledger.duckdb"
    ledger.write_bytes(b"this is not a database" * 1000)
    capsys.readouterr()
    assert run(["costs"]) == 2
    err = flat(capsys.readouterr().err)
    assert f"listedin{ledger.parent}/lineage.jsonl" in err
    assert f"`mv{ledger}{ledger}.damaged`" in err


def test_lock_held_by_another_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = tmp_path / "unitecon-home" / "ledger.duckdb"
    Ledger().close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(ledger)!r}); "
         "print('held', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        f = write_jsonl(tmp_path / "a.jsonl", [rec(1)])
        assert run(["ingest", str(f)]) == 2
        err = flat(capsys.readouterr().err)
        assert "inusebyanotherprogram" in err and "internalerror" not in err
    finally:
        holder.kill()
        holder.wait()


# -- terminal escapes ------------------------------------------------------------------------------
def test_escape_sequences_in_names_never_reach_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = write_jsonl(
        tmp_path / "esc.jsonl",
        [rec(1, model="\x1b]0;pwned\x07\x1b[31mred"), {"ts": "2025-03-01", "model": "\x1b[2J"}],
    )
    assert run(["ingest", str(f)]) == 0
    assert run(["costs", "--by", "model"]) == 0
    assert run(["quarantine"]) == 0
    out = capsys.readouterr().out
    assert "\x1b]" not in out and "\x1b[31m" not in out and "\x1b[2J" not in out
    assert "\\x1b" in out


# -- config files ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            b"pricing:\n  discounts:\n    - percent: 10\n      model: caf\xe9\n",
            ":4: byte 0xe9 is not UTF-8",
        ),
        (
            b"pricing:\n  overrides:\n    - model: gpt-4o\n      input_mtok: 1\n"
            b"      since: 2025-02-30\n",
            ":5: pricing.overrides.0.since",
        ),
        (
            b"pricing:\n  overrides:\n    - model: gpt-4o\n      input_mtok: 1e30\n",
            ":4: pricing.overrides.0.input_mtok",
        ),
        (
            b"pricing:\n  discounts: []\npricing:\n  models: []\n",
            "duplicate key 'pricing' (first given on line 1)",
        ),
        (b'{"pricing": {"discounts": [], "discounts": []}}', "duplicate key 'discounts'"),
    ],
)
def test_config_file_errors_name_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: bytes, says: str
) -> None:
    Ledger().close()
    cfg = tmp_path / "unitecon.yaml"
    cfg.write_bytes(text)
    assert run(["costs", "--config", str(cfg)]) == 2
    err = flat(capsys.readouterr().err)
    assert flat(says) in err and "internalerror" not in err


def test_a_valid_date_still_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Ledger().close()
    cfg = tmp_path / "unitecon.yaml"
    cfg.write_text(
        "pricing:\n  overrides:\n    - model: gpt-4o\n      input_mtok: 1\n"
        "      since: 2025-02-28\n"
    )
    assert run(["costs", "--config", str(cfg)]) == 0
