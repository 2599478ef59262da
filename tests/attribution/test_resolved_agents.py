"""`Costed.resolved`'s narrow form (`trees.agent_lookup` + `join_resolved`) gives every row
the agent `trees.resolve_agents` gives it."""

from __future__ import annotations

import ibis
import pyarrow as pa

from unitecon.attribution.trees import LEVELS, agent_lookup, join_resolved, resolve_agents

# (event, trace, span, parent, agent): trace t1 is a chain root(A) > s1 > s2 > s3 > s4 > s5,
# deeper than LEVELS (4) parents; t2 has two agents; t3 a call without trace; t4 a span whose
# parent is not in the ledger.
ROWS = [
    ("e0", "t1", "root", None, "A"),
    ("e1", "t1", "s1", "root", None),
    ("e2", "t1", "s2", "s1", None),
    ("e3", "t1", "s3", "s2", None),
    ("e4", "t1", "s4", "s3", None),
    ("e5", "t1", "s5", "s4", None),
    ("e6", "t2", "r", None, "P"),
    ("e7", "t2", "a", "r", "Q"),
    ("e8", "t2", "b", "a", None),
    ("e9", "t2", "c", "r", None),
    ("e10", "t2", "c2", "r", None),
    ("e11", None, "x", "r", None),
    ("e12", "t4", "y", "gone", None),
    ("e13", "t1", "s1b", "root", "B"),
]
# By hand: a call takes its own agent, else the nearest ancestor's within LEVELS parents.
# t1: s1..s4 are 1..4 parents below root: A; s5 is 5 below: none. t2: b under Q; c, c2
# under P. e11 has no trace, e12 no parent in the ledger: none.
EXPECTED = {
    "e0": "A", "e1": "A", "e2": "A", "e3": "A", "e4": "A", "e5": None,
    "e6": "P", "e7": "Q", "e8": "Q", "e9": "P", "e10": "P",
    "e11": None, "e12": None, "e13": "B",
}  # fmt: skip


def table() -> ibis.Table:
    cols = list(zip(*ROWS, strict=True))
    names = ["event_id", "trace_id", "span_id", "parent_span_id", "agent"]
    arrow = pa.table({n: pa.array(c, pa.string()) for n, c in zip(names, cols, strict=True)})
    return ibis.memtable(arrow)


def agents(t: ibis.Table) -> dict[str, str | None]:
    return {r["event_id"]: r["agent_r"] for r in t.to_pyarrow().to_pylist()}


def test_the_narrow_join_equals_resolve_agents() -> None:
    assert LEVELS == 4
    t = table()
    assert agents(resolve_agents(t)) == EXPECTED
    joined = join_resolved(t, agent_lookup(t))
    assert agents(joined) == EXPECTED
    assert joined.columns == resolve_agents(t).columns
    assert joined.count().to_pyarrow().as_py() == len(ROWS)
