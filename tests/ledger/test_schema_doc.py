from pathlib import Path

from unitecon.ledger.schema import EVENT_SCHEMA, FIELDS, markdown

DOC = Path(__file__).parents[2] / "docs" / "schema.md"


def test_schema_doc_is_current() -> None:
    assert markdown() in DOC.read_text(encoding="utf-8"), (
        "docs/schema.md is out of date: regenerate its field table from "
        "unitecon.ledger.schema.markdown()"
    )


def test_every_field_documented() -> None:
    assert [f.name for f in FIELDS] == EVENT_SCHEMA.names
    assert all(len(f.doc) > 5 for f in FIELDS)
