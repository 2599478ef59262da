"""A CLI user never sees a traceback: errors are one message and a non-zero exit."""

from __future__ import annotations

from pathlib import Path

import pytest

from unitecon.cli.main import run


def test_costs_without_a_ledger_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["costs", "--by", "model"]) == 2
    err = capsys.readouterr().err
    assert "No ledger" in err and "unitecon demo" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", [["costs", "--by", "model"], ["unit", "--by", "feature"]])
def test_spark_without_a_lake_says_what_to_do(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # before the fix, Spark started and answered `internal: AnalysisException: [PATH_NOT_FOUND]`
    monkeypatch.setenv("UNITECON_ENGINE", "spark")
    assert run(command) == 2
    err = capsys.readouterr().err
    assert "No lake at" in err and "unitecon export --lake" in err
    assert "AnalysisException" not in err and "internal" not in err


def test_unknown_dimension_lists_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["costs", "--by", "colour"]) == 2
    err = capsys.readouterr().err
    assert "Unknown dimension 'colour'" in err and "customer" in err


def test_bad_date(capsys: pytest.CaptureFixture[str]) -> None:
    from unitecon.ledger.store import Ledger

    Ledger().close()  # an empty ledger
    assert run(["costs", "--since", "yesterday"]) == 2
    assert "expected a date like 2026-01-31" in capsys.readouterr().err


def test_missing_input_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["ingest", "nope.jsonl"]) == 2
    assert "No such file: nope.jsonl" in capsys.readouterr().err


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["frobnicate"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_prices_show_gives_the_o3_price_cut(capsys: pytest.CaptureFixture[str]) -> None:
    """OpenAI cut o3 from $10/$40 to $2/$8 per Mtok on 2025-06-10 (public announcement)."""
    import json

    assert run(["prices", "show", "o3", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    plain = [r for r in rows if not r["context"]]
    assert [(r["valid_to"], r["prices"]["output_mtok"]) for r in plain] == [
        ("2025-06-10", "40"),
        (None, "8"),
    ]


@pytest.mark.parametrize(
    ("argv", "code", "kind", "words"),
    [
        (["costs", "--json"], 2, "error", "No ledger"),  # empty home
        (["costs", "--by", "colour", "--json"], 2, "error", "Unknown dimension"),
        (["costs", "--json", "--frobnicate"], 2, "usage", "frobnicate"),
    ],
)
def test_json_errors_are_json_on_stderr(
    argv: list[str], code: int, kind: str, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    if "colour" in argv:
        from unitecon.ledger.store import Ledger

        Ledger().close()  # an empty ledger
    assert run(argv) == code
    out, err = capsys.readouterr()
    assert out == ""  # a script reading stdout gets no half answer
    body = json.loads(err)
    assert body["error"]["exit_code"] == code and body["error"]["code"] == kind
    assert words in body["error"]["message"]


def test_reversed_window_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    from unitecon.ledger.store import Ledger

    Ledger().close()
    for cmd in (["costs"], ["unit"], ["anomalies"], ["tasks"], ["report"]):
        assert run([*cmd, "--since", "2026-11-10", "--until", "2026-11-01"]) == 2, cmd
        assert "must be after" in capsys.readouterr().err, cmd


def test_ingest_exit_codes_tell_a_job_what_happened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """0 all stored; 4 stored with quarantined records; 1 nothing accepted (README)."""
    import json

    good = '{"event_id": "e%d", "ts": "2026-11-01T00:00:00Z", "provider": "openai", ' \
        '"model": "gpt-4o-mini", "input_tokens": 10, "output_tokens": 1}'  # fmt: skip
    clean = tmp_path / "clean.jsonl"
    clean.write_text("\n".join(good % i for i in range(3)) + "\n")
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(good % 10 + "\n" + "{not json\n" + '{"ts": "2026-11-01"}\n')
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n" * 5)
    assert run(["ingest", str(clean)]) == 0
    capsys.readouterr()
    assert run(["ingest", str(mixed), "--json"]) == 4
    out = json.loads(capsys.readouterr().out)
    assert out[0]["accepted"] == 1 and out[0]["quarantined"] == 2
    assert run(["ingest", str(bad)]) == 1
    assert "Nothing was accepted" in capsys.readouterr().out
    assert run(["ingest", str(clean)]) == 0  # again: duplicates only, nothing wrong


GOOD = '{"event_id": "e%d", "ts": "2026-11-01T00:00:00Z", "provider": "openai", ' \
    '"model": "gpt-4o-mini", "input_tokens": 10, "output_tokens": 1}'  # fmt: skip


def test_a_missing_path_among_several_is_told_and_the_others_ingested(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before the fix one missing path stopped the command: exit 2, nothing ingested."""
    import json

    (tmp_path / "good.jsonl").write_text(GOOD % 1 + "\n" + GOOD % 2 + "\n")
    (tmp_path / "other.csv").write_text(
        "event_id,ts,provider,model,input_tokens,output_tokens\n"
        "e3,2026-11-01T00:00:00Z,openai,gpt-4o-mini,10,1\n"
    )
    (tmp_path / "somedir").mkdir()
    argv = ["ingest", "good.jsonl", "nonexistent.jsonl", "other.csv", "somedir"]
    assert run(argv) == 4  # stored some of what it was given, not all
    out, err = capsys.readouterr()
    assert "nonexistent.jsonl" not in out and "somedir" not in out  # not a source
    assert " ".join(err.split()) == (
        "error: 2 of the 4 paths given not ingested: No such file: nonexistent.jsonl; "
        "somedir is a directory: name the files in it, e.g. `unitecon ingest somedir/*.jsonl`."
    )
    assert run(["lineage", "--json"]) == 0  # only the two files are sources, no made-up row
    rows = json.loads(capsys.readouterr().out)
    assert sorted((r["source"], r["accepted"]) for r in rows) == [
        ("good.jsonl", 2),
        ("other.csv", 1),
    ]
    assert run(["quarantine", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 0

    # --json: stdout is the files' results; the skipped path is a JSON error on stderr
    assert run(["ingest", "good.jsonl", "nonexistent.jsonl", "--json"]) == 4
    out, err = capsys.readouterr()
    assert [(r["source"], r["duplicates"]) for r in json.loads(out)] == [("good.jsonl", 2)]
    assert json.loads(err) == {
        "error": {
            "exit_code": 4,
            "code": "skipped",
            "message": "1 of the 2 paths given not ingested: No such file: nonexistent.jsonl",
        }
    }


def test_a_directory_alone_is_an_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before the fix: `somedir: No such file: somedir`, counted as a quarantined record."""
    (tmp_path / "somedir").mkdir()
    assert run(["ingest", "somedir"]) == 2
    assert " ".join(capsys.readouterr().err.split()) == (
        "error: somedir is a directory: name the files in it, e.g. "
        "`unitecon ingest somedir/*.jsonl`."
    )
    assert not (tmp_path / "unitecon-home" / "ledger.duckdb").exists()  # nothing opened


def test_an_empty_file_is_named_as_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before the fix: "Nothing was accepted. See the reasons above" with no reason above."""
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "header.csv").write_text("event_id,ts,provider,model\n")
    assert run(["ingest", "empty.jsonl"]) == 1
    out = capsys.readouterr().out
    assert "empty.jsonl: the file is empty (0 bytes).\nNothing was accepted.\n" in out
    assert "reasons above" not in out
    assert run(["ingest", "header.csv"]) == 1
    assert "header.csv: no records in the file.\nNothing was accepted.\n" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize(
    ("argv", "option", "least"),
    [
        (["--days", "5", "--customers", "10"], "--days", 7),
        (["--customers", "3"], "--customers", 10),
    ],
)
def test_demo_too_small_is_a_usage_error_stating_the_minimum(
    argv: list[str],
    option: str,
    least: int,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before the fix: `internal error: ValueError: need days >= 7 ...`, exit 3."""
    import json

    assert run(["demo", *argv, "--json"]) == 2
    assert json.loads(capsys.readouterr().err) == {
        "error": {
            "exit_code": 2,
            "code": "usage",
            "message": f"Invalid value for '{option}': Input should be greater than or equal "
            f"to {least}",
        }
    }
    monkeypatch.setenv("COLUMNS", "200")  # one line an option
    assert run(["demo", "--help"]) == 0
    line = next(s for s in capsys.readouterr().out.splitlines() if f" {option} " in s)
    assert f"[x>={least}]" in line and f"(at least {least})" in line


# Each CLI option that the service takes as a bounded query parameter, with its bounds (the
# route's `ge`/`le`): a value outside them is the CLI's usage error naming the option, the
# same with or without a service (before: `tasks --top 0` said "No events match these
# filters" alone and `Invalid request: query.limit: ...` beside `unitecon serve`).
BOUNDED = [
    # command, option, least, most, (route module, route, parameter)
    ("tasks", "--top", 1, 1000, ("api_units", "tasks", "limit")),
    ("anomalies", "--top", 1, 500, ("api_governance", "anomalies", "top")),
    ("runaway", "--top", 0, 1000, ("api_governance", "runaway", "top")),
    ("alerts", "--days", 1, 366, ("api_governance", "alerts", "days")),
    ("quarantine", "--limit", 1, 10_000, ("api", "quarantine", "limit")),
    ("costs", "--limit", 0, 100_000, ("api", "costs", "limit")),
]


@pytest.mark.parametrize(("command", "option", "least", "most", "route"), BOUNDED)
def test_options_the_service_bounds_are_bounded_on_the_command_line(
    command: str,
    option: str,
    least: int,
    most: int,
    route: tuple[str, str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    import importlib
    import json
    import typing

    from unitecon.ledger.store import Ledger

    Ledger().close()  # a ledger: the bound is told, not "No ledger"
    for value, side, bound in ((least - 1, "greater", least), (most + 1, "less", most)):
        assert run([command, option, str(value), "--json"]) == 2
        assert json.loads(capsys.readouterr().err)["error"] == {
            "exit_code": 2,
            "code": "usage",
            "message": f"Invalid value for '{option}': Input should be {side} than or "
            f"equal to {bound}",
        }
    # the route's bounds are these (the service's own answer would leak `query.limit`)
    module, name, param = route
    fn = getattr(importlib.import_module(f"unitecon.server.{module}"), name)
    (info,) = typing.get_type_hints(fn, include_extras=True)[param].__metadata__
    bounds = {type(m).__name__: getattr(m, type(m).__name__.lower()) for m in info.metadata}
    assert bounds == {"Ge": least, "Le": most}


def test_an_unknown_task_names_the_command_that_lists_tasks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Beside the service it named the route `GET /api/v1/tasks` (tests/analysis/
    test_beside_service.py checks that path); here without one."""
    from unitecon.ledger.store import Ledger

    Ledger().close()
    assert run(["trace", "nosuch"]) == 2
    assert capsys.readouterr().err == (
        "error: Unknown task 'nosuch'. List tasks with `unitecon tasks`.\n"
    )
