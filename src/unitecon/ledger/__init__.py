"""Ledger stage: the usage events and where they are kept.

    schema.py      the usage event as one Arrow schema (EVENT_SCHEMA), documented field by
                   field; `docs/schema.md` is generated from it
    store.py       the DuckDB store under $UNITECON_HOME: idempotent, transactional ingest,
                   lineage (`ingests`), quarantine
    migrations.py  numbered schema migrations, tested from a blank and from an older ledger

Usage is stored; cost is never stored (the pricing stage derives it at query time).
May import: unitecon.ledger.records (the Chunk a reader yields), unitecon.errors, DuckDB.
"""
