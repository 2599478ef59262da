"""Numbered schema migrations of the ledger.

Each migration is frozen once released: never edit one, add the next. `migrate()` applies
those a ledger lacks, each in its own transaction, and records it in `schema_migrations`.
Tests build a ledger at every older version and migrate it forward.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from unitecon.errors import LedgerError

Migration = Callable[[duckdb.DuckDBPyConnection], None]


def _m001_initial(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE events (
            event_id VARCHAR NOT NULL,
            ts TIMESTAMPTZ NOT NULL,
            duration_ms DOUBLE,
            ttft_ms DOUBLE,
            trace_id VARCHAR,
            span_id VARCHAR,
            parent_span_id VARCHAR,
            operation VARCHAR NOT NULL,
            provider VARCHAR,
            model VARCHAR,
            endpoint VARCHAR,
            input_tokens BIGINT NOT NULL,
            cache_read_tokens BIGINT NOT NULL,
            cache_write_tokens BIGINT NOT NULL,
            output_tokens BIGINT NOT NULL,
            reasoning_tokens BIGINT NOT NULL,
            unit_type VARCHAR,
            units DOUBLE NOT NULL,
            service_tier VARCHAR,
            batch BOOLEAN NOT NULL,
            status VARCHAR NOT NULL,
            attempt INTEGER NOT NULL,
            accepted BOOLEAN,
            agent VARCHAR,
            conversation_id VARCHAR,
            task_id VARCHAR,
            customer_id VARCHAR,
            user_id VARCHAR,
            feature VARCHAR,
            team VARCHAR,
            environment VARCHAR,
            tags MAP(VARCHAR, VARCHAR),
            sample_rate DOUBLE NOT NULL,
            reported_cost DECIMAL(38, 12),
            source VARCHAR NOT NULL,
            ingest_id VARCHAR NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE ingests (
            ingest_id VARCHAR PRIMARY KEY,
            source VARCHAR NOT NULL,
            sha256 VARCHAR,
            format VARCHAR,
            started_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ,
            rows_read BIGINT NOT NULL DEFAULT 0,
            accepted BIGINT NOT NULL DEFAULT 0,
            duplicates BIGINT NOT NULL DEFAULT 0,
            quarantined BIGINT NOT NULL DEFAULT 0,
            status VARCHAR NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE quarantine (
            source VARCHAR NOT NULL,
            location VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            raw VARCHAR,
            ingest_id VARCHAR NOT NULL,
            quarantined_at TIMESTAMPTZ NOT NULL
        )
        """
    )


def _m002_task_type(con: duckdb.DuckDBPyConnection) -> None:
    """Kind of task, for cost per successful task by kind; placed after task_id."""
    con.execute("ALTER TABLE events ADD COLUMN task_type VARCHAR")
    # Keep the physical column order equal to EVENT_SCHEMA (task_type after task_id).
    cols = [r[0] for r in con.execute("DESCRIBE events").fetchall()]
    cols.remove("task_type")
    cols.insert(cols.index("task_id") + 1, "task_type")
    con.execute(f"CREATE TABLE events_new AS SELECT {', '.join(cols)} FROM events")
    con.execute("DROP TABLE events")
    con.execute("ALTER TABLE events_new RENAME TO events")


#: The price key of each event: what decides whether and how it is priced by tokens, stored
#: as one small integer (`price_keys`, '' for a missing value). A new structural operation
#: would need a migration that re-keys the ledger.
KEY_NAMES = ("provider", "model", "batch", "service_tier", "structural", "has_endpoint")
KEY_COLUMNS = (
    "coalesce(provider, '') AS {p}provider, coalesce(model, '') AS {p}model, "
    "coalesce(batch, false) AS {p}batch, coalesce(service_tier, '') AS {p}service_tier, "
    "coalesce(operation IN ({ops}), false) AS {p}structural, "
    "endpoint IS NOT NULL AS {p}has_endpoint"
)
#: The event fields KEY_COLUMNS reads: a record's price key is decided by its values of
#: these alone (through validation), so the keys of a file are those of its distinct values
#: of them (`records.DirectRead.keys`).
KEY_INPUTS = ("provider", "model", "batch", "service_tier", "operation", "endpoint")
#: Adds the keys of relation `{source}` (columns KEY_NAMES) that `price_keys` lacks.
ADD_PRICE_KEYS = """
INSERT INTO price_keys
SELECT (SELECT coalesce(max(key_id), 0) FROM price_keys)
       + row_number() OVER (ORDER BY provider, model, batch, service_tier, structural,
                            has_endpoint), *
FROM (
    SELECT DISTINCT provider, model, batch, service_tier, structural, has_endpoint
    FROM {source}
    EXCEPT
    SELECT provider, model, batch, service_tier, structural, has_endpoint FROM price_keys
)
"""


def key_columns_sql(prefix: str = "") -> str:
    """KEY_COLUMNS over the event columns, as SQL select items (named KEY_NAMES, each
    after `prefix`)."""
    from unitecon.ledger.schema import STRUCTURAL_OPERATIONS

    ops = ", ".join(f"'{op}'" for op in sorted(STRUCTURAL_OPERATIONS))
    return KEY_COLUMNS.format(ops=ops, p=prefix)


def _m003_price_keys(con: duckdb.DuckDBPyConnection) -> None:
    """`events.price_key`: what decides whether and how an event is priced by tokens
    (provider, model, batch, service tier, structural operation, endpoint) as an integer key
    of table `price_keys`, so that pricing finds an event's price by position in a small
    array instead of joining every event on four strings. A key only names the selector:
    which price applies is still decided at query time."""
    con.execute(
        """
        CREATE TABLE price_keys (
            key_id INTEGER PRIMARY KEY,
            provider VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            batch BOOLEAN NOT NULL,
            service_tier VARCHAR NOT NULL,
            structural BOOLEAN NOT NULL,
            has_endpoint BOOLEAN NOT NULL,
            UNIQUE (provider, model, batch, service_tier, structural, has_endpoint)
        )
        """
    )
    keyed = f"(SELECT rowid AS _row, {key_columns_sql()} FROM events)"
    con.execute(ADD_PRICE_KEYS.format(source=keyed))
    con.execute("ALTER TABLE events ADD COLUMN price_key INTEGER")
    match = " AND ".join(f"e.{n} = k.{n}" for n in KEY_NAMES)
    con.execute(
        f"UPDATE events SET price_key = m.key_id FROM (SELECT e._row, k.key_id "
        f"FROM {keyed} AS e JOIN price_keys AS k ON {match}) AS m "
        "WHERE events.rowid = m._row"
    )


def _m004_bills(con: duckdb.DuckDBPyConnection) -> None:
    """What providers bill (`unitecon.billing`): a bill is not a usage event, so it has its
    own table. `bill_lines` holds cost lines (an amount) and usage lines (a quantity of
    tokens or requests the provider counted), each with where it came from; `bill_imports`
    is their lineage. A bucket (source kind, provider, period) comes from one download: a
    later import of the same bucket replaces it (re-importing a file changes nothing)."""
    con.execute(
        """
        CREATE TABLE bill_imports (
            import_id VARCHAR PRIMARY KEY,
            source VARCHAR NOT NULL,
            sha256 VARCHAR,
            format VARCHAR NOT NULL,
            imported_at TIMESTAMPTZ NOT NULL,
            lines_read BIGINT NOT NULL,
            buckets_new BIGINT NOT NULL,
            buckets_replaced BIGINT NOT NULL,
            buckets_unchanged BIGINT NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE bill_lines (
            bucket VARCHAR NOT NULL,
            fingerprint VARCHAR NOT NULL,
            format VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            provider VARCHAR NOT NULL,
            period_start TIMESTAMPTZ NOT NULL,
            period_end TIMESTAMPTZ NOT NULL,
            model VARCHAR,
            sku VARCHAR,
            token_kind VARCHAR,
            account VARCHAR,
            api_key_id VARCHAR,
            service_tier VARCHAR,
            batch BOOLEAN,
            quantity DECIMAL(38, 6),
            unit VARCHAR,
            amount DECIMAL(38, 12),
            list_amount DECIMAL(38, 12),
            currency VARCHAR NOT NULL,
            invoice_id VARCHAR,
            source VARCHAR NOT NULL,
            location VARCHAR NOT NULL,
            import_id VARCHAR NOT NULL
        )
        """
    )


def _m005_spans(con: duckdb.DuckDBPyConnection) -> None:
    """`events.cache_write_1h_tokens` (1-hour cache writes, part of cache_write_tokens),
    placed after cache_write_tokens; `ingests.merged` (spans of a response already priced
    through another span); the operations `span` and `duplicate` become structural, so
    events that already had them are re-keyed."""
    con.execute("ALTER TABLE events ADD COLUMN cache_write_1h_tokens BIGINT DEFAULT 0")
    cols = [r[0] for r in con.execute("DESCRIBE events").fetchall()]
    cols.remove("cache_write_1h_tokens")
    cols.insert(cols.index("cache_write_tokens") + 1, "cache_write_1h_tokens")
    con.execute(f"CREATE TABLE events_new AS SELECT {', '.join(cols)} FROM events")
    con.execute("DROP TABLE events")
    con.execute("ALTER TABLE events_new RENAME TO events")
    con.execute("ALTER TABLE ingests ADD COLUMN merged BIGINT DEFAULT 0")
    rekey(con, "operation IN ('span', 'duplicate')")


def rekey(con: duckdb.DuckDBPyConnection, where: str) -> None:
    """Set the price key of the events `where` (SQL) holds anew, after a change to what is
    structural or to their operation."""
    keyed = f"(SELECT rowid AS _row, {key_columns_sql()} FROM events WHERE {where})"
    con.execute(ADD_PRICE_KEYS.format(source=keyed))
    match = " AND ".join(f"e.{n} = k.{n}" for n in KEY_NAMES)
    con.execute(
        f"UPDATE events SET price_key = m.key_id FROM (SELECT e._row, k.key_id "
        f"FROM {keyed} AS e JOIN price_keys AS k ON {match}) AS m "
        "WHERE events.rowid = m._row"
    )


def _m006_canonical_ids(con: duckdb.DuckDBPyConnection) -> None:
    """Events that came without an id had `sha256:` + the sha256 of DuckDB's `to_json` of
    their content; they get the id of their canonical form (`ids.py`, docs/ingest.md
    "Event ids"), which the readers give from now on, so re-ingesting their files still
    adds nothing. Only ids equal to the old formula over the stored row are changed (an id a
    source gave that merely starts with `sha256:` is kept)."""
    from unitecon.ledger import ids

    fields = ", ".join(f"{n} := {n}" for n in ids.CANONICAL_FIELDS)
    old = f"'sha256:' || sha256(to_json(struct_pack({fields})))"
    con.execute(
        f"UPDATE events SET event_id = {ids.event_id_sql()} "
        f"WHERE starts_with(event_id, 'sha256:') AND event_id = {old}"
    )


def _m007_source_row(con: duckdb.DuckDBPyConnection) -> None:
    """`events.source_row` (`schema.SOURCE_ROW`), after `price_key`: a record read directly
    from its file keeps its number there and only its file's location prefix in `source`
    (`file:row ` + 12 becomes `file:row ` and 12), the text then composed where it is read
    (`schema.source_sql`). The rows stored before keep their whole text and a NULL here, so
    they read as before."""
    con.execute("ALTER TABLE events ADD COLUMN source_row BIGINT")


MIGRATIONS: tuple[Migration, ...] = (
    _m001_initial,
    _m002_task_type,
    _m003_price_keys,
    _m004_bills,
    _m005_spans,
    _m006_canonical_ids,
    _m007_source_row,
)
LATEST = len(MIGRATIONS)

#: The tables as the migrations up to LATEST leave them (`duckdb_tables().sql`), so that a
#: blank database is made at LATEST by one script instead of running every migration over
#: empty tables (0.05-0.1 s of a first `unitecon ingest`, most of it planning version 6's
#: UPDATE). `events` has no constraints: versions 2 and 5 rebuilt it with CREATE TABLE AS.
#: tests/ledger/test_store.py checks that the migrations make exactly these tables: a new
#: migration changes this too.
LATEST_TABLES = (
    'CREATE TABLE ingests(ingest_id VARCHAR PRIMARY KEY, "source" VARCHAR NOT NULL, sha256 '
    "VARCHAR, format VARCHAR, started_at TIMESTAMP WITH TIME ZONE NOT NULL, finished_at "
    "TIMESTAMP WITH TIME ZONE, rows_read BIGINT DEFAULT(0) NOT NULL, accepted BIGINT "
    "DEFAULT(0) NOT NULL, duplicates BIGINT DEFAULT(0) NOT NULL, quarantined BIGINT "
    "DEFAULT(0) NOT NULL, status VARCHAR NOT NULL, merged BIGINT DEFAULT(0))",
    'CREATE TABLE quarantine("source" VARCHAR NOT NULL, "location" VARCHAR NOT NULL, reason '
    "VARCHAR NOT NULL, raw VARCHAR, ingest_id VARCHAR NOT NULL, quarantined_at TIMESTAMP "
    "WITH TIME ZONE NOT NULL)",
    "CREATE TABLE price_keys(key_id INTEGER PRIMARY KEY, provider VARCHAR NOT NULL, model "
    "VARCHAR NOT NULL, batch BOOLEAN NOT NULL, service_tier VARCHAR NOT NULL, structural "
    "BOOLEAN NOT NULL, has_endpoint BOOLEAN NOT NULL, UNIQUE(provider, model, batch, "
    "service_tier, structural, has_endpoint))",
    'CREATE TABLE bill_imports(import_id VARCHAR PRIMARY KEY, "source" VARCHAR NOT NULL, '
    "sha256 VARCHAR, format VARCHAR NOT NULL, imported_at TIMESTAMP WITH TIME ZONE NOT "
    "NULL, lines_read BIGINT NOT NULL, buckets_new BIGINT NOT NULL, buckets_replaced BIGINT "
    "NOT NULL, buckets_unchanged BIGINT NOT NULL)",
    "CREATE TABLE bill_lines(bucket VARCHAR NOT NULL, fingerprint VARCHAR NOT NULL, format "
    "VARCHAR NOT NULL, kind VARCHAR NOT NULL, provider VARCHAR NOT NULL, period_start "
    "TIMESTAMP WITH TIME ZONE NOT NULL, period_end TIMESTAMP WITH TIME ZONE NOT NULL, model "
    "VARCHAR, sku VARCHAR, token_kind VARCHAR, account VARCHAR, api_key_id VARCHAR, "
    "service_tier VARCHAR, batch BOOLEAN, quantity DECIMAL(38,6), unit VARCHAR, amount "
    "DECIMAL(38,12), list_amount DECIMAL(38,12), currency VARCHAR NOT NULL, invoice_id "
    'VARCHAR, "source" VARCHAR NOT NULL, "location" VARCHAR NOT NULL, import_id VARCHAR NOT '
    "NULL)",
    "CREATE TABLE events(event_id VARCHAR, ts TIMESTAMP WITH TIME ZONE, duration_ms DOUBLE, "
    "ttft_ms DOUBLE, trace_id VARCHAR, span_id VARCHAR, parent_span_id VARCHAR, operation "
    "VARCHAR, provider VARCHAR, model VARCHAR, endpoint VARCHAR, input_tokens BIGINT, "
    "cache_read_tokens BIGINT, cache_write_tokens BIGINT, cache_write_1h_tokens BIGINT, "
    "output_tokens BIGINT, reasoning_tokens BIGINT, unit_type VARCHAR, units DOUBLE, "
    "service_tier VARCHAR, batch BOOLEAN, status VARCHAR, attempt INTEGER, accepted BOOLEAN, "
    "agent VARCHAR, conversation_id VARCHAR, task_id VARCHAR, task_type VARCHAR, customer_id "
    "VARCHAR, user_id VARCHAR, feature VARCHAR, team VARCHAR, environment VARCHAR, tags "
    "MAP(VARCHAR, VARCHAR), sample_rate DOUBLE, reported_cost DECIMAL(38,12), "
    '"source" VARCHAR, ingest_id VARCHAR, price_key INTEGER, source_row BIGINT)',
)


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """The ledger's schema version; 0 for a blank database (works read-only too)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchone()
    if not exists or not exists[0]:
        return 0
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection, target: int = LATEST) -> list[int]:
    """Apply the missing migrations up to `target`; return the versions applied. Each
    migration is its own transaction, except on a blank database, where they all are one
    (a new ledger is made whole or not at all, with one commit to the file instead of one
    per version: 0.1-0.2 s of every first `unitecon ingest`), and where a blank database
    made at LATEST gets `LATEST_TABLES` instead of the migrations themselves."""
    have = current_version(con)
    if have > LATEST:
        raise LedgerError(
            f"This ledger is at schema version {have}, newer than this unitecon "
            f"understands ({LATEST}). Upgrade unitecon."
        )
    blank = have == 0
    if blank:
        con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ DEFAULT now())"
        )
        applied = []
        if blank and target == LATEST:  # made as the migrations would leave it
            versions = ", ".join(
                f"({v}, '{fn.__name__.lstrip('_')}')" for v, fn in enumerate(MIGRATIONS, 1)
            )
            con.execute(
                ";\n".join(
                    [
                        *LATEST_TABLES,
                        f"INSERT INTO schema_migrations (version, name) VALUES {versions}",
                    ]
                )
            )
            applied, have = list(range(1, LATEST + 1)), LATEST
        for version in range(have + 1, target + 1):
            fn = MIGRATIONS[version - 1]
            if not blank:
                con.execute("BEGIN TRANSACTION")
            try:
                fn(con)
                con.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                    [version, fn.__name__.lstrip("_")],
                )
                if not blank:
                    con.execute("COMMIT")
            except Exception:
                if not blank:
                    con.execute("ROLLBACK")
                raise
            applied.append(version)
        if blank:
            con.execute("COMMIT")
    except Exception:
        if blank:
            con.execute("ROLLBACK")
        raise
    return applied
