"""The dimension registry: one entry per dimension, its doc generated from it, aliases and
mistakes handled the same way on every surface."""

from __future__ import annotations

from pathlib import Path

import pytest

from unitecon.errors import LookupFailed, UniteconError
from unitecon.ledger import dimensions

DOC = Path(__file__).parents[2] / "docs" / "dimensions.md"


def test_the_doc_is_the_registry() -> None:
    assert dimensions.markdown() in DOC.read_text(encoding="utf-8"), (
        "docs/dimensions.md is out of date: regenerate its table from "
        "unitecon.ledger.dimensions.markdown()"
    )


def test_aliases_name_the_same_dimension() -> None:
    assert dimensions.get("customer_id", dimensions.UNITS).name == "customer"
    assert dimensions.get("task-type", dimensions.UNITS).name == "task_type"
    assert dimensions.get("status", dimensions.COSTS).column == "price_status"


def test_a_dimension_outside_its_questions_is_refused_with_the_choices() -> None:
    with pytest.raises(LookupFailed) as e:
        dimensions.get("plan", dimensions.COSTS)
    assert "Choose from:" in str(e.value) and "feature" in str(e.value)
    with pytest.raises(LookupFailed, match="Did you mean: customer"):
        dimensions.get("custmer", dimensions.UNITS)


def test_a_dimension_twice_is_a_message() -> None:
    with pytest.raises(UniteconError, match="given twice"):
        dimensions.parse("model,model", dimensions.COSTS)


def test_every_name_and_alias_is_unique() -> None:
    names = [d.name for d in dimensions.REGISTRY]
    spellings = names + [a for d in dimensions.REGISTRY for a in d.aliases]
    assert len(spellings) == len(set(spellings))
