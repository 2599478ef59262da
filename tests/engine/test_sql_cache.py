"""Compiled SQL kept by the engine (`engine/duck.py`): a kept statement is only ever used
for an expression that compiles to it, and answers are the same with it, cold or warm, and
without it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pytest
from ibis.backends.duckdb import Backend as IbisDuckDB

from unitecon import engine
from unitecon.engine import duck

UTC = dt.UTC


@pytest.fixture
def backend(tmp_path: Path) -> duck.Backend:
    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    con.execute(
        "CREATE TABLE events AS SELECT * FROM (VALUES "
        "(TIMESTAMPTZ '2026-01-01 10:00:00+00', 'a', 3), "
        "(TIMESTAMPTZ '2026-01-02 10:00:00+00', 'b', 5), "
        "(TIMESTAMPTZ '2026-01-03 10:00:00+00', 'a', 7)) t(ts, feature, n)"
    )
    b = engine.ibis_backend(con, tmp_path)
    assert isinstance(b, duck.Backend)
    return b


def question(b: duck.Backend, since: dt.datetime, scale: str = "1.5") -> ibis.Table:
    t = b.table("events")
    t = t.filter(t.ts >= since)
    v = t.view()  # a self reference: numbered by a process-wide counter in Ibis
    j = t.join(v, t.feature == v.feature).select(t.feature, n=t.n * ibis.literal(Decimal(scale)))
    return j.group_by("feature").aggregate(total=j.n.sum()).order_by("feature")


def test_the_fingerprint_tells_apart_what_compiles_apart(backend: duck.Backend) -> None:
    a = dt.datetime(2026, 1, 2, tzinfo=UTC)
    key = duck.digest(question(backend, a))
    assert key is not None
    # the same question built again (new nodes, new self-reference numbers): same key
    assert duck.digest(question(backend, a)) == key
    # any literal, column or table that differs: another key
    assert duck.digest(question(backend, a + dt.timedelta(microseconds=1))) != key
    assert duck.digest(question(backend, a, scale="2.5")) != key
    # equal keys, equal SQL (Ibis' own compiler): also where the values differ in form
    same = question(backend, a, scale="1.50")
    if duck.digest(same) == key:
        compile_ = IbisDuckDB.compile
        assert compile_(backend, same) == compile_(backend, question(backend, a))
    t = backend.table("events")
    assert duck.digest(t.select("ts")) != duck.digest(t.select("feature"))
    assert duck.digest(t.filter(t.n > 1)) != duck.digest(t.filter(t.n > 1.0))


def test_kept_sql_is_the_compiled_sql_and_answers_agree(
    backend: duck.Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(duck, "CACHE", duck.SqlCache())  # nothing kept in this process
    a = dt.datetime(2026, 1, 2, tzinfo=UTC)
    expr = question(backend, a)
    fresh = IbisDuckDB.compile(backend, expr)  # Ibis' own compiler, no cache
    assert backend.compile(expr) == fresh  # cold: compiled and kept
    kept = list((tmp_path / "cache" / "sql").glob("*.sql"))
    assert len(kept) == 1
    assert kept[0].read_text(encoding="utf-8") == fresh
    monkeypatch.setattr(duck, "CACHE", duck.SqlCache())  # a new process: from disk
    hits = duck.CACHE.hits
    assert backend.compile(question(backend, a)) == fresh
    assert duck.CACHE.hits == hits + 1
    # rows by hand: since Jan 2 the events are b (5) and a (7); each joins itself once
    # (one row per feature), times 1.5: a = 10.5, b = 7.5
    got = question(backend, a).to_pyarrow().to_pylist()
    assert got == [
        {"feature": "a", "total": Decimal("10.5")},
        {"feature": "b", "total": Decimal("7.5")},
    ]


def test_a_damaged_or_unwritable_cache_only_costs_time(
    backend: duck.Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "cache" / "sql"
    root.parent.mkdir(parents=True)
    root.write_text("not a folder")  # writing an entry fails
    expr = question(backend, dt.datetime(2026, 1, 1, tzinfo=UTC))
    assert len(expr.to_pyarrow()) == 2
    monkeypatch.setenv("UNITECON_SQL_CACHE", "0")
    con = backend.con
    assert engine.ibis_backend(con, tmp_path).sql_cache_dir is None


def test_materialized_tables_are_named_by_their_expression(backend: duck.Backend) -> None:
    t = backend.table("events")
    q = t.filter(t.n > 3)
    with engine.scope():
        one, name1 = engine.materialize(q)
        two, name2 = engine.materialize(q)  # the same expression again: a second table
        assert name1.startswith(engine.TEMP_PREFIX)
        assert name2 == f"{name1}_1"
        assert one.count().to_pyarrow().as_py() == two.count().to_pyarrow().as_py() == 2
        assert engine.temp_objects(backend.con) == 2
    assert engine.temp_objects(backend.con) == 0


def test_memory_and_disk_stay_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(duck, "MAX_MEMORY", 3)
    monkeypatch.setattr(duck, "MAX_ENTRIES", 4)
    cache = duck.SqlCache()
    for i in range(6):
        cache.put(f"k{i}", f"SELECT {i}", tmp_path)
    assert list(cache._mem) == ["k3", "k4", "k5"]  # the newest 3
    # past 4 files the oldest are removed down to half (2) before the next is kept
    assert len(list(tmp_path.glob("*.sql"))) <= 4
    assert cache.get("k5", tmp_path) == "SELECT 5"


def test_in_memory_tables_are_released_with_the_scope(backend: duck.Backend) -> None:
    """An in-memory table a query reads is registered on the connection for the scope only
    (Ibis alone keeps it until the process exits: the service's cursors kept one per window
    of endpoint costs, issue 22). Read again after the scope, it is registered again."""
    from unitecon.attribution.frame import memtable

    t = backend.table("events")
    for weight in (2, 3):  # a new content each time: a new name, as each new window's rates
        m = memtable([{"feature": "a", "w": weight}], {"feature": "string", "w": "int64"})
        q = t.join(m, "feature").select(x=t.n * m.w).x.sum()
        with engine.scope():
            # events of feature a: n = 3 and 7; (3 + 7) x weight
            assert q.to_pyarrow().as_py() == 10 * weight
            assert engine.temp_objects(backend.con) == 1
        assert engine.temp_objects(backend.con) == 0
        assert not backend._memtables
        with engine.scope():
            assert q.to_pyarrow().as_py() == 10 * weight  # registered again
        assert engine.temp_objects(backend.con) == 0


def test_a_ledger_has_one_backend_so_a_release_is_seen_by_every_reader(tmp_path: Path) -> None:
    """The report failed with 'No free name for a temporary table' (make test, session 10):
    each `Ledger.ibis()` made a new backend over the one connection; a memtable one backend
    released at the end of a scope stayed 'registered' for the other, whose next query read
    a table that no longer existed, and `materialize` took that error for a taken name."""
    from unitecon.attribution.frame import memtable
    from unitecon.ledger.store import Ledger

    with Ledger(tmp_path / "ledger.duckdb") as led:
        assert led.ibis() is led.ibis()  # one backend a connection
        led.con.execute("CREATE TABLE t AS SELECT 'a' AS feature, 4 AS n")
        t = led.ibis().table("t")
        m = memtable([{"feature": "a", "w": 5}], {"feature": "string", "w": "int64"})
        q = t.join(m, "feature").select(x=t.n * m.w)
        with engine.scope():
            with engine.scope():
                assert q.to_pyarrow()["x"].to_pylist() == [20]  # 4 x 5
            out, name = engine.materialize(q)  # registered again after the release
            assert out.to_pyarrow()["x"].to_pylist() == [20]
            assert not name.endswith("_1")


def test_a_failed_query_is_its_own_error_not_a_taken_name(backend: duck.Backend) -> None:
    """`create_temp` leaves no table behind when its query fails, and `materialize` raises
    the query's error at once instead of trying 1,000 other names."""
    backend.con.execute("CREATE TABLE gone AS SELECT 1 AS x")
    bad = backend.table("gone")
    backend.con.execute("DROP TABLE gone")  # the expression now reads a missing table
    with pytest.raises(duckdb.CatalogException, match="gone"):
        backend.create_temp("_unitecon_x", bad)
    assert "_unitecon_x" not in backend.list_tables()
    with engine.scope(), pytest.raises(duckdb.CatalogException, match="gone"):
        engine.materialize(bad)


def test_a_view_reads_the_same_rows_and_lives_with_the_scope(backend: duck.Backend) -> None:
    """`engine.view`: the queries built on it compile their own part only (the view's SQL
    is not in theirs), answer as the expression inlined, and the view, with the in-memory
    table it reads, is gone when the scope ends."""
    from unitecon.attribution.frame import memtable

    t = backend.table("events")
    m = memtable(
        [{"feature": "a", "w": 2}, {"feature": "b", "w": 10}], {"feature": "string", "w": "int64"}
    )
    q = t.join(m, "feature").select("feature", "ts", x=t.n * m.w)
    with engine.scope():
        v = engine.view(q)
        assert engine.temp_objects(backend.con) == 2  # the view and the in-memory table
        on_view = v.group_by("feature").agg(s=v.x.sum()).order_by("feature")
        inline = q.group_by("feature").agg(s=q.x.sum()).order_by("feature")
        sql = backend.compile(on_view)
        assert m.op().name not in sql and engine.VIEW_PREFIX in sql
        # by hand: a = (3 + 7) x 2 = 20, b = 5 x 10 = 50
        want = [{"feature": "a", "s": 20}, {"feature": "b", "s": 50}]
        assert on_view.to_pyarrow().to_pylist() == want
        assert inline.to_pyarrow().to_pylist() == want
        # the same expression in another process names the same view: its readers' SQL
        # is the same (kept by the cache); a second view of it in this scope takes a suffix
        again = engine.view(q)
        assert again.op().name == f"{v.op().name}_1"
        assert duck.digest(v) != duck.digest(again)
    assert engine.temp_objects(backend.con) == 0
    # an engine without views (Ibis' own backend here): the expression itself
    plain = ibis.duckdb.connect()
    e = plain.create_table("e", schema=ibis.schema({"n": "int64"}))
    assert engine.view(e) is e


def test_a_view_reads_its_in_memory_table_after_another_scope_released_it(
    backend: duck.Backend,
) -> None:
    """An in-memory table is named by its content, so a nested scope that read the same
    rows (the report's what-if replay inside its analysis) releases it when it ends; the
    view of the outer scope still reads it (`unitecon report` failed with "Table with name
    _unitecon_mem_... does not exist" before the views registered their inputs again)."""
    from unitecon.attribution.frame import memtable

    def weights() -> Any:
        return memtable([{"feature": "a", "w": 2}], {"feature": "string", "w": "int64"})

    t = backend.table("events")
    with engine.scope():
        m = weights()
        v = engine.view(t.join(m, "feature").select("feature", x=t.n * m.w))
        with engine.scope():  # the same rows, registered by this scope, released at its end
            backend.release(m.op().name)
            inner = weights()
            assert inner.count().to_pyarrow().as_py() == 1
        assert m.op().name not in backend.registered
        # by hand: a = (3 + 7) x 2 = 20, read through the view and into a table
        assert v.agg(s=v.x.sum()).to_pyarrow().to_pylist() == [{"s": 20}]
        kept, _ = engine.materialize(v.agg(s=v.x.sum()))
        assert kept.to_pyarrow().to_pylist() == [{"s": 20}]
    assert engine.temp_objects(backend.con) == 0


def test_a_content_named_table_stays_with_the_scope_that_made_it(backend: duck.Backend) -> None:
    """`engine.temp_table` (the price lookup's constant arrays, named by their content): a
    scope inside the one that made it, asking for the same rows, reads it and leaves it."""
    import pyarrow as pa

    rows = pa.table({"k": [1, 2, 3]})
    with engine.scope():
        outer = engine.temp_table(backend, "_unitecon_prices_test", rows)
        with engine.scope():
            inner = engine.temp_table(backend, "_unitecon_prices_test", rows)
            assert inner.count().to_pyarrow().as_py() == 3
        assert outer.k.sum().to_pyarrow().as_py() == 6  # 1 + 2 + 3, still there
    assert engine.temp_objects(backend.con) == 0
