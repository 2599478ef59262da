"""The Ibis backend over the ledger's DuckDB connection, made for a command's fixed cost.

A read command compiles a handful of Ibis expressions and reads a few small results; on
the demo ledger compiling took longer than running the queries. So this backend, a subclass
of Ibis' own DuckDB backend:

- **keeps compiled SQL** (`SqlCache`): the SQL of an expression is a pure function of its
  operation tree and of the installed Ibis and sqlglot, so it is kept under a digest of
  exactly that (`fingerprint`: every node's type and arguments, literals included; the
  tables by name and schema) in memory and, when the ledger has a home, in
  `<home>/cache/sql/`. A tree holding anything the digest does not know is compiled as
  before, uncached. Nothing else is kept: the answer is always computed from the ledger.
- **reads results into Arrow without pandas**: Ibis' own `to_pyarrow` imports its pandas
  converter module (0.2-0.3 s of a fresh process), which an Arrow result never uses.

DuckDB only: Spark keeps Ibis' backend as it is (`engine/spark.py`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import enum
import hashlib
import importlib
import importlib.util
import os
import sys
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_COMPILERS = "ibis.backends.sql.compilers"


def _compilers_on_demand() -> None:
    """Let `ibis.backends.sql.compilers` import each SQL compiler when it is first asked for.

    The package's `__init__` imports the compilers of all twenty backends Ibis knows (0.2 s
    of a fresh process, 0.3 s with DuckDB's) and each backend takes the one it needs by
    name (`from ibis.backends.sql.compilers import PySparkCompiler`, `sc.duckdb.compiler`).
    Made here before any backend is imported, the package is the same module (its path)
    whose names are resolved on first use: `XCompiler` from the submodule `x`, a
    submodule by its name. A process that imported the package already is left alone."""
    if _COMPILERS in sys.modules:
        return
    spec = importlib.util.find_spec(_COMPILERS)
    if spec is None or spec.submodule_search_locations is None:
        return
    pkg = importlib.util.module_from_spec(spec)

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        sub = name.removesuffix("Compiler").lower()
        try:
            mod = importlib.import_module(f"{_COMPILERS}.{sub}")
        except ModuleNotFoundError as e:
            raise AttributeError(f"module {_COMPILERS!r} has no attribute {name!r}") from e
        return getattr(mod, name) if name.endswith("Compiler") else mod

    pkg.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[_COMPILERS] = pkg
    parent = sys.modules.get(_COMPILERS.rpartition(".")[0])
    if parent is not None:
        parent.compilers = pkg  # type: ignore[attr-defined]


_compilers_on_demand()

# ruff: noqa: E402 (the imports below come after `_compilers_on_demand`)
import duckdb
import ibis
import ibis.expr.datatypes as idt
import ibis.expr.operations as ops
import ibis.expr.schema as sch
import pyarrow as pa
import sqlglot
from ibis.backends import BaseBackend
from ibis.backends.duckdb import Backend as IbisDuckDB
from ibis.common.collections import FrozenDict
from ibis.common.grounds import Concrete
from ibis.expr.operations.udf import AggUDF, InputType, ScalarUDF
from ibis.formats import TableProxy
from ibis.formats.pyarrow import PyArrowData

_SQLGLOT = str(getattr(sqlglot, "__version__", "?"))
#: Bump when the digest's encoding changes (old entries are then never read).
FORMAT = "1"
#: Entries kept in memory (a statement is 1-30 kB).
MAX_MEMORY = 512
#: Entries kept on disk; past it the least recently written are removed.
MAX_ENTRIES = 2000


class NameTaken(Exception):
    """`Backend.create_temp`: a table of that name exists (another name is to be tried)."""


class _Opaque(Exception):
    """An argument the fingerprint cannot encode: compile without the cache."""


_SCALARS = (
    type(None),
    bool,
    int,
    float,
    str,
    bytes,
    decimal.Decimal,
    dt.date,
    dt.datetime,
    dt.time,
    dt.timedelta,
    uuid.UUID,
)


class _Tree:
    """The encoding of one operation tree, node by node (see `fingerprint`)."""

    def __init__(self) -> None:
        self.ids: dict[int, int] = {}
        self.keep: list[Any] = []  # nodes stay alive, so their id() is not reused meanwhile
        self.lines: list[str] = []
        self.selfs: dict[int, int] = {}

    def value(self, v: Any) -> str:
        if isinstance(v, ops.Node):
            return f"#{self.node(v)}"
        if isinstance(v, _SCALARS):
            return f"{type(v).__name__}:{v!r}"
        if isinstance(v, idt.DataType):
            return repr(v)
        if isinstance(v, sch.Schema):
            return "S(" + ",".join(f"{k!r}:{t!r}" for k, t in v.items()) + ")"
        return self.container(v)

    def container(self, v: Any) -> str:
        if isinstance(v, FrozenDict | dict):
            return "{" + ",".join(f"{self.value(k)}={self.value(x)}" for k, x in v.items()) + "}"
        if isinstance(v, tuple | list):
            return "(" + ",".join(self.value(x) for x in v) + ")"
        if isinstance(v, frozenset):
            return "F(" + ",".join(sorted(self.value(x) for x in v)) + ")"
        if isinstance(v, enum.Enum):
            return f"E:{type(v).__qualname__}.{v.name}"
        if isinstance(v, Concrete):  # a value object (a table's namespace, ...)
            items = zip(v.__argnames__, v.__args__, strict=True)
            return f"{_name(type(v))}(" + ",".join(f"{k}={self.value(x)}" for k, x in items) + ")"
        if isinstance(v, TableProxy):  # a memtable's rows: its SQL is its name only
            return "D"
        if isinstance(v, BaseBackend):  # a table's source: the SQL names the table only
            return f"B:{v.name}"
        raise _Opaque(type(v).__name__)

    def node(self, n: ops.Node) -> int:
        i = self.ids.get(id(n))
        if i is not None:
            return i
        head = _name(type(n))
        if isinstance(n, ScalarUDF | AggUDF):
            udf = (n.__func_name__, n.__input_type__, n.__udf_namespace__, n.dtype)
            head += "|" + self.value(udf)
        values = dict(zip(n.__argnames__, n.__args__, strict=True))
        if isinstance(n, ops.SelfReference):  # numbered by a process-wide counter: the SQL
            # only needs distinct ones apart, so they are renumbered in order of appearance
            values["identifier"] = self.selfs.setdefault(values["identifier"], len(self.selfs))
        args = ",".join(f"{k}={self.value(v)}" for k, v in values.items())
        self.ids[id(n)] = i = len(self.lines)
        self.keep.append(n)
        self.lines.append(f"{head}({args})")
        return i


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def fingerprint(node: ops.Node) -> str:
    """A digest of an operation tree that two trees share only if they compile to the same
    SQL: each node's class (and a UDF's function, input type and namespace) and arguments,
    in order, literals with their types, under the installed Ibis and sqlglot. Raises
    `_Opaque` on an argument of a kind it does not know."""
    tree = _Tree()
    root = tree.node(node)
    h = hashlib.sha256(f"{FORMAT}|{ibis.__version__}|{_SQLGLOT}|{root}".encode())
    for line in tree.lines:
        h.update(line.encode())
        h.update(b"\n")
    return h.hexdigest()


#: The digests of the last operation trees taken (`digest`), by the root's id, with the
#: root (kept alive, so its id is not reused meanwhile).
_RECENT: dict[int, tuple[Any, str | None]] = {}
_RECENT_LOCK = threading.Lock()
#: How many `_RECENT` keeps.
RECENT = 16


def digest(expr: Any) -> str | None:
    """`fingerprint` of an expression, None where it cannot be taken. The tree behind a view
    or a temporary table is digested to name it and again to compile it: the last few
    roots' digests are kept (a tree's nodes never change)."""
    op = expr.op()
    hit = _RECENT.get(id(op))
    if hit is not None and hit[0] is op:
        return hit[1]
    try:
        out: str | None = fingerprint(op)
    except (_Opaque, RecursionError):
        out = None
    with _RECENT_LOCK:
        _RECENT[id(op)] = (op, out)
        while len(_RECENT) > RECENT:
            del _RECENT[next(iter(_RECENT))]
    return out


class SqlCache:
    """Compiled SQL by fingerprint: in memory for the process, on disk under `root`."""

    def __init__(self) -> None:
        self._mem: dict[str, str] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _remember(self, key: str, sql: str) -> None:
        """Keep `sql` in memory, the oldest entries out past `MAX_MEMORY` (a long-running
        service asks many windows)."""
        self._mem[key] = sql
        while len(self._mem) > MAX_MEMORY:
            del self._mem[next(iter(self._mem))]

    def get(self, key: str, root: Path | None) -> str | None:
        with self._lock:
            sql = self._mem.get(key)
        if sql is None and root is not None:
            with contextlib.suppress(OSError, UnicodeDecodeError):
                sql = (root / f"{key}.sql").read_text(encoding="utf-8")
                with self._lock:
                    self._remember(key, sql)
        if sql is None:
            self.misses += 1
        else:
            self.hits += 1
        return sql

    def put(self, key: str, sql: str, root: Path | None) -> None:
        with self._lock:
            self._remember(key, sql)
        if root is None:
            return
        with contextlib.suppress(OSError):  # a read-only home only loses the cache
            root.mkdir(parents=True, exist_ok=True)
            tmp = root / f".{key}.{os.getpid()}.{threading.get_ident()}.tmp"
            tmp.write_text(sql, encoding="utf-8")
            os.replace(tmp, root / f"{key}.sql")
            _prune(root)


def _prune(root: Path) -> None:
    files = list(root.glob("*.sql"))
    if len(files) <= MAX_ENTRIES:
        return
    files.sort(key=lambda p: p.stat().st_mtime)
    for p in files[: len(files) - MAX_ENTRIES // 2]:
        with contextlib.suppress(OSError):
            p.unlink()


#: One cache per process, shared by every backend (the CLI and the service's threads).
CACHE = SqlCache()


class _ArrowData(PyArrowData):  # type: ignore[misc]
    """Ibis' DuckDB Arrow converter (`ibis.backends.duckdb.converter`), without the module
    that also defines its pandas converter."""

    @classmethod
    def convert_scalar(cls, scalar: pa.Scalar, dtype: idt.DataType) -> pa.Scalar:
        if dtype.is_null():
            return pa.scalar(None)
        return super().convert_scalar(scalar, dtype)

    @classmethod
    def convert_column(cls, column: pa.Array, dtype: idt.DataType) -> pa.Array:
        if dtype.is_null():
            return pa.nulls(len(column))
        return super().convert_column(column, dtype)


class _Reads:
    """What a view's expression reads, found in one walk of its tree: its in-memory
    tables, and whether it holds a UDF that is not a built-in function (one that Ibis
    registers on the connection before each query)."""

    __slots__ = ("memtables", "src", "tables", "udfs")

    def __init__(
        self, src: Any, memtables: tuple[Any, ...], tables: tuple[str, ...], udfs: bool
    ) -> None:
        self.src = src
        self.memtables = memtables
        self.tables = tables
        """The names of the tables and views it reads."""
        self.udfs = udfs

    @classmethod
    def of(cls, src: Any) -> _Reads:
        found = src.op().find((ops.InMemoryTable, ops.DatabaseTable, ops.ScalarUDF))
        mems = tuple(n for n in found if isinstance(n, ops.InMemoryTable))
        tables = tuple(n.name for n in found if isinstance(n, ops.DatabaseTable))
        udfs = any(
            isinstance(n, ops.ScalarUDF) and n.__input_type__ is not InputType.BUILTIN
            for n in found
        )
        return cls(src, mems, tables, udfs)


class Backend(IbisDuckDB):  # type: ignore[misc]
    """Ibis' DuckDB backend with compiled SQL kept (`SqlCache`) and Arrow results read
    without pandas."""

    sql_cache_dir: Path | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.registered: set[str] = set()
        """In-memory tables registered on the connection and not yet released."""
        self.views: dict[str, Any] = {}
        """The expression behind each temporary view `create_temp_view` made (until it is
        dropped): the in-memory tables it reads are registered again before any query
        that reads the view (`_run_pre_execute_hooks`)."""
        self._reads: dict[str, _Reads] = {}
        """What the expression behind each view reads (`_Reads`), found once."""

    def _run_pre_execute_hooks(self, expr: Any) -> None:
        """Ibis' hooks (in-memory tables, UDFs), and for the views `expr` reads, the
        in-memory tables their expressions read. An in-memory table is named by its
        content, so another scope that read the same rows releases it when it ends
        (`release`); a query naming it registers it again, but one reading it through a
        view names the view only."""
        super()._run_pre_execute_hooks(expr)
        if self.views:
            self._view_inputs(expr, set())

    def _view_inputs(self, expr: Any, seen: set[str]) -> None:
        """Register the in-memory tables the views `expr` reads read, and theirs. A view's
        expression (the priced or costed events: thousands of nodes, read by most queries
        of a command) is searched once (`_Reads`), not at each query that reads it: Ibis'
        hooks walk a tree four times, and did so for each view at each query."""
        self._tables_inputs([op.name for op in expr.op().find(ops.DatabaseTable)], seen)

    def _tables_inputs(self, names: list[str], seen: set[str]) -> None:
        for name in names:
            src = self.views.get(name)
            if src is None or name in seen:
                continue
            seen.add(name)
            reads = self._reads.get(name)
            if reads is None or reads.src is not src:
                reads = self._reads[name] = _Reads.of(src)
            if reads.udfs:  # a UDF Ibis registers on the connection: its hooks, as they are
                super()._run_pre_execute_hooks(src)
            else:
                for m in reads.memtables:
                    if m not in self._memtables:
                        self._register_in_memory_table(m)
                        self._memtables.add(m)
            self._tables_inputs(list(reads.tables), seen)

    def forget_view(self, name: str) -> None:
        """Forget the view `name` (dropped): its expression and what it reads."""
        self.views.pop(name, None)
        self._reads.pop(name, None)

    def compile(
        self,
        expr: Any,
        /,
        *,
        limit: Any = None,
        params: Mapping[Any, Any] | None = None,
        pretty: bool = False,
    ) -> str:
        if params or pretty:
            return str(super().compile(expr, limit=limit, params=params, pretty=pretty))
        tree = digest(expr)
        if tree is None:
            return str(super().compile(expr, limit=limit, params=params, pretty=pretty))
        key = hashlib.sha256(f"{tree}|{limit!r}".encode()).hexdigest()
        sql = CACHE.get(key, self.sql_cache_dir)
        if sql is None:
            sql = str(super().compile(expr, limit=limit, params=params, pretty=pretty))
            CACHE.put(key, sql, self.sql_cache_dir)
        return sql

    def _register_in_memory_table(self, op: ops.InMemoryTable) -> None:
        """Register an in-memory table's rows on the connection (as Ibis does), for the
        current scope only (`engine.scope`): its end unregisters them (`release`). Ibis
        drops a registered table only when the process exits, and its exit hook holds the
        connection: in the service, whose reads make in-memory tables named by content
        (`attribution.frame.memtable`, e.g. the endpoint costs of each window), every new
        window left one registered on the thread's cursor for good (docs/benchmarks.md,
        "Service memory under dashboard reads")."""
        from unitecon.engine import track

        super()._register_in_memory_table(op)
        self.registered.add(op.name)
        track(self, op.name)

    def _make_memtable_finalizer(self, name: str) -> None:
        return None  # released with the scope (`release`), not at exit

    def release(self, name: str) -> bool:
        """Forget the in-memory table `name` if `_register_in_memory_table` registered it
        (Ibis registers it again when a query asks for it); False if it did not."""
        if name not in self.registered:
            return False
        self.registered.discard(name)
        with contextlib.suppress(Exception):  # a closed connection has nothing left to free
            self.con.unregister(name)
        for op in [m for m in self._memtables if m.name == name]:
            self._memtables.discard(op)
        return True

    def to_pyarrow(
        self,
        expr: Any,
        /,
        *,
        params: Mapping[Any, Any] | None = None,
        limit: Any = None,
        **kwargs: Any,
    ) -> pa.Table:
        rel = self._to_duckdb_relation(expr, params=params, limit=limit, **kwargs)
        return expr.__pyarrow_result__(rel.to_arrow_table(), data_mapper=_ArrowData)

    def create_temp(self, name: str, expr: Any) -> Any:
        """`expr` computed into the new temporary table `name` (as Ibis' `create_table`
        with `temp=True`: the columns typed by the expression's schema, then an insert),
        its SQL compiled through the cache. Raises `NameTaken` if `name` exists; the query's
        own error (the table dropped) if it fails."""
        import sqlglot.expressions as sge

        self._run_pre_execute_hooks(expr)
        sql = self.compile(expr)
        schema = expr.schema()
        table = sge.Table(this=sge.to_identifier(name, quoted=True))
        create = sge.Create(
            kind="TABLE",
            this=sge.Schema(this=table, expressions=schema.to_sqlglot_column_defs(self.dialect)),
            properties=sge.Properties(expressions=[sge.TemporaryProperty()]),
        ).sql(self.dialect)
        cols = ", ".join(sge.to_identifier(c, quoted=True).sql(self.dialect) for c in schema)
        try:
            self.con.execute(create)
        except duckdb.CatalogException as e:
            raise NameTaken(name) from e
        try:
            self.con.execute(f'INSERT INTO "{name}" ({cols}) {sql}')
        except BaseException:  # the query failed (its own error): nothing left behind
            with contextlib.suppress(duckdb.Error):
                self.con.execute(f'DROP TABLE IF EXISTS "{name}"')
            raise
        return self.table(name)

    def create_temp_view(self, name: str, expr: Any) -> Any:
        """`expr` as the new temporary view `name`, its SQL compiled through the cache, and
        an Ibis table of that view with `expr`'s schema (no query for it). The in-memory
        tables `expr` reads are registered now (they stay until the scope ends, after the
        view: `engine.view`). Raises `NameTaken` if `name` exists."""
        self._run_pre_execute_hooks(expr)
        sql = self.compile(expr)
        try:
            self.con.execute(f'CREATE TEMP VIEW "{name}" AS {sql}')
        except duckdb.CatalogException as e:
            if "already exists" in str(e):
                raise NameTaken(name) from e
            raise
        self.views[name] = expr
        return ops.DatabaseTable(name, schema=expr.schema(), source=self).to_expr()


def backend(con: Any, cache_dir: Path | None = None) -> Backend:
    """The Ibis backend over the DuckDB connection `con`, keeping compiled SQL in
    `cache_dir` (None: in memory only)."""
    b: Backend = Backend.from_connection(con)
    b.sql_cache_dir = cache_dir
    return b
