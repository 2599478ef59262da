"""The engine: the one place that opens an analytical engine and knows what it can do.

Every other module asks this one instead of branching on a backend's name:

- `connect(path, read_only)`: the ledger's DuckDB connection, with the session settings every
  reader and writer needs (UTC, no progress bar of DuckDB's own, the memory limit
  `memory_limit()`), and a lock held by another
  process or a damaged file turned into a `LedgerError` that says what to do;
- `capabilities(x)`: what the backend of an Ibis table or backend offers (temporary tables,
  the DuckDB price lookup and integer price arithmetic, its decimal policy);
- `materialize(t)` / `scope()`: a table computed once into the engine's temporary state,
  which lives and dies with the innermost open `scope()` (the analysis core opens one per
  question: nothing it materializes outlives the answer);
- `friendly(error)`: an engine error as a one-line message for a user;
- `release_memory()`: hand the memory DuckDB's finished queries freed back to the system
  (a long-running process: the service).

This module imports no stage of unitecon: every stage may import it.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
from pydantic import BaseModel, ConfigDict

from unitecon.errors import LedgerError, UniteconError

#: Prefix of every temporary object unitecon creates in an engine session.
TEMP_PREFIX = "_unitecon_"
#: Prefix of the temporary views `view` creates.
VIEW_PREFIX = f"{TEMP_PREFIX}v_"


# -- opening ----------------------------------------------------------------------------
#: DuckDB's memory limit for a command's connection (`$UNITECON_MEMORY_LIMIT` overrides it).
#: DuckDB's own default is 80% of the machine's memory, and the hash tables of a whole
#: ledger's task or margin rows grew to 4-5 GB at 10M events; held to 1 GB, DuckDB spills
#: to the ledger's temporary directory instead, and a command with the Python process
#: around it stays under 2 GB, in about the same time (docs/benchmarks.md, session 11).
COMMAND_MEMORY = "1GB"

_SIZE = re.compile(r"\d+(\.\d+)?\s*[KMGT]i?B", re.IGNORECASE)


def memory_limit(default: str = COMMAND_MEMORY, setting: str = "") -> str:
    """DuckDB's memory limit: `setting` (a size such as `2GB`) if given, else
    `$UNITECON_MEMORY_LIMIT`, else `default`. A malformed size is a `UniteconError` naming
    where it came from."""
    import os

    where, limit = "memory limit", setting.strip()
    if not limit:
        where, limit = "UNITECON_MEMORY_LIMIT", os.environ.get("UNITECON_MEMORY_LIMIT", "").strip()
    if not limit:
        return default
    if not _SIZE.fullmatch(limit):
        raise UniteconError(f"{where} {limit!r}: expected a size such as 2GB or 512MB.")
    return limit


def connect(path: Path | None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to the ledger file at `path` (None: in memory), its memory held
    to `memory_limit()`."""
    limit = memory_limit()
    try:
        con = duckdb.connect(str(path or ":memory:"), read_only=read_only)
    except duckdb.Error as e:
        raise friendly(e, path) from None
    con.execute(f"SET memory_limit = '{limit}'")
    con.execute("SET TimeZone = 'UTC'")
    # progress is ours to show (the CLI's bar): DuckDB's own would print over it
    con.execute("SET enable_progress_bar_print = false")
    return con


def ibis_backend(con: duckdb.DuckDBPyConnection, home: Path | None = None) -> Any:
    """An Ibis backend over an open DuckDB connection (the analytical queries' engine),
    keeping the SQL it compiles in `home/cache/sql` (`engine/duck.py`; in memory only when
    `home` is None or `UNITECON_SQL_CACHE=0`)."""
    import os

    from unitecon.engine import duck

    off = os.environ.get("UNITECON_SQL_CACHE", "").strip() in ("0", "off", "false")
    return duck.backend(con, None if home is None or off else home / "cache" / "sql")


class _NoPandas:
    """An import finder under which `import pandas` fails (for a module not yet imported)."""

    @staticmethod
    def find_spec(name: str, *_: Any) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(name, name=name)


def lazy_module(name: str) -> None:
    """Let `import name` be answered by a stand-in that imports the module on the first use
    of one of its attributes, for a module a library imports at its own import and uses
    only in functions a process never calls. A module already imported, or not installed,
    is left alone. (`importlib.util.LazyLoader` does not do it on Python 3.11: the import
    statement itself reads the module's `__spec__`, which loads it.)"""
    import importlib
    import importlib.util
    import sys
    import types

    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return

    class _OnFirstUse(types.ModuleType):
        def __getattr__(self, attr: str) -> Any:
            if sys.modules.get(name) is self:
                del sys.modules[name]  # the real module takes its place
            return getattr(importlib.import_module(name), attr)

    stub = _OnFirstUse(name)
    stub.__spec__ = spec
    sys.modules[name] = stub


def arrow_without_pandas() -> None:
    """Let pyarrow build arrays from Python lists without importing pandas.

    pyarrow asks, the first time it converts a Python object, whether pandas is installed
    (to recognise a Series), and imports it to find out: 0.2 s of a command that never
    touches pandas. Answered "no" once here, pyarrow treats lists as lists; it still imports
    pandas itself when asked for pandas (`to_pandas`, `from_pandas`), and nothing in
    unitecon hands it a pandas object. For processes that do not use pandas (the command
    line); a process that already imported pandas is left alone."""
    import sys

    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    with without_pandas():
        pa.array([0])


@contextlib.contextmanager
def without_pandas() -> Iterator[None]:
    """While open, `import pandas` fails (a process that imported it already is left alone).

    DuckDB's Python client imports pandas each time it binds a query parameter other than
    None (to tell pandas' missing values apart), until it is imported: 0.2-0.4 s of the first
    statement with a parameter, in a command that never touches pandas. Under this it finds
    no pandas, and binds the value as it is. For work that hands DuckDB no pandas object
    (`unitecon ingest`)."""
    import sys

    if "pandas" in sys.modules:
        yield
        return
    finder = _NoPandas()
    sys.meta_path.insert(0, finder)  # type: ignore[arg-type]
    try:
        yield
    finally:
        sys.meta_path.remove(finder)  # type: ignore[arg-type]


_PURGE: Any = None


def release_memory() -> bool:
    """Hand the pages DuckDB's allocator keeps after queries freed them back to the system.

    DuckDB's Python wheel allocates through a jemalloc of its own (symbols `duckdb_je_*`),
    which keeps freed pages resident and purges them only when a thread allocates again or
    after a task of DuckDB's worker threads. In a long-running process whose queries run on
    its own threads (the service: one DuckDB thread, reads on request threads) those pages
    stay: 0.4-0.7 GiB on the demo ledger after a round of dashboard reads, with 30-400 MiB
    in use (docs/architecture.md, "Bounded memory"). This purges every arena
    (`arena.<MALLCTL_ARENAS_ALL>.purge`); memory in use, DuckDB's buffer pool included, is
    untouched. Returns False where DuckDB has no such allocator (then there is nothing to
    do). Safe beside running queries: it frees only pages no allocation holds."""
    global _PURGE
    if _PURGE is None:
        _PURGE = False
        try:
            import ctypes
            import importlib

            lib = ctypes.CDLL(importlib.import_module("_duckdb").__file__)
            fn = lib.duckdb_je_mallctl
            fn.argtypes = [
                ctypes.c_char_p,
                ctypes.c_void_p,
                ctypes.c_void_p,
                ctypes.c_void_p,
                ctypes.c_size_t,
            ]
            fn.restype = ctypes.c_int
            _PURGE = fn
        except (ImportError, OSError, AttributeError, TypeError):
            pass
    if _PURGE is False:
        return False
    return bool(_PURGE(b"arena.4096.purge", None, None, None, 0) == 0)


_LOCK = re.compile(r"Conflicting lock is held in (?P<prog>\S+)(?: \(PID (?P<pid>\d+)\))?")


def friendly(e: BaseException, path: Path | str | None = None) -> UniteconError:
    """An engine error as a one-line message that says what to do (never DuckDB's text)."""
    if isinstance(e, UniteconError):
        return e
    text = str(e)
    where = f"the ledger {path}" if path else "the ledger"
    held = "lock" in text.lower() and ("conflicting" in text.lower() or "could not set" in text)
    if held or "different configuration" in text:
        m = _LOCK.search(text)
        pid = f" (process {m.group('pid')})" if m and m.group("pid") else ""
        return LedgerBusy(
            f"{where} is in use by another program{pid}. If it is `unitecon serve`, start it "
            "again with this version (the command line then asks the service); otherwise wait "
            "for that program to finish."
        )
    if isinstance(e, duckdb.OutOfMemoryException) or "out of memory" in text.lower():
        return LedgerError(
            f"The engine ran out of memory on {where}. Narrow the question (--since/--until) "
            "or give DuckDB more memory (UNITECON_MEMORY_LIMIT, e.g. 8GB)."
        )
    if "No space left" in text or "disk is full" in text.lower():
        return LedgerError(f"The disk holding {where} is full. Free space and run it again.")
    if isinstance(e, duckdb.PermissionException) or "Permission denied" in text:
        return LedgerError(
            f"No permission to open {where}. Set UNITECON_HOME to a directory you can write."
        )
    if isinstance(e, duckdb.SerializationException | duckdb.InternalException) or (
        "not a valid DuckDB database" in text or "corrupt" in text.lower()
    ):
        return LedgerError(
            f"{where} cannot be read (damaged, or written by another program). Move it aside "
            "and rebuild it with `unitecon ingest` from your sources (the lineage in "
            "`unitecon quarantine` and your files are the record of what went in)."
        )
    if isinstance(e, duckdb.InterruptException):
        return LedgerError("The question was interrupted (the service is stopping).")
    first = text.strip().splitlines()[0] if text.strip() else type(e).__name__
    return LedgerError(
        f"The engine could not answer ({type(e).__name__}: {first[:200]}). "
        "Please report it with the command you ran."
    )


class LedgerBusy(LedgerError):
    """The ledger is held by another process (a running `unitecon serve`, or an ingest)."""


def engine_errors() -> tuple[type[BaseException], ...]:
    """The exception types an engine raises (for the surfaces to turn into messages)."""
    return (duckdb.Error,)


# -- the project file's choice ----------------------------------------------------------
class EngineSettings(BaseModel):
    """`engine:` in the project file: where the analytics run.

    `duckdb` (default): the embedded ledger, `$UNITECON_HOME/ledger.duckdb`. `spark`: a
    SparkSession at `master` over the lake at `lake` (written by `unitecon export --lake`).
    `UNITECON_ENGINE=spark` chooses Spark for one command."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["duckdb", "spark"] = "duckdb"
    master: str = "local[2]"
    """Spark master URL (`local[*]`, `spark://host:7077`, `yarn`)."""
    lake: Path | None = None
    """The lake's root (a path every Spark executor can read); default $UNITECON_HOME/lake."""

    def chosen(self) -> str:
        import os

        kind = os.environ.get("UNITECON_ENGINE", "").strip().lower() or self.kind
        if kind not in ("duckdb", "spark"):
            raise UniteconError(f"UNITECON_ENGINE={kind!r}: choose duckdb or spark.")
        return kind


# -- capabilities -----------------------------------------------------------------------
@dataclass(frozen=True)
class Capabilities:
    """What an engine offers the analytical queries."""

    name: str
    temp_tables: bool
    """`CREATE TEMP TABLE` (DuckDB)."""
    materializes: bool
    """`materialize` computes a result once and keeps it in the engine: a temporary table
    (DuckDB) or a cached temporary view (Spark); else results stay expressions."""
    keep_priced: bool
    """The priced events are worth materializing when a question reads them more than once
    (Spark: each query re-plans and re-runs the pricing join, so the window's bounds, the
    endpoints' busy time and the costed events would each price the events again; DuckDB
    prices in one pass by its price lookup faster than it writes a temporary table)."""
    price_lookup: bool
    """The price lookup by constant arrays and integer price arithmetic (DuckDB)."""
    epoch_us: bool
    """DuckDB's `epoch_us`/`make_timestamp` builtins (fast UTC day and month fields)."""


def backend_of(x: Any) -> Any:
    """The Ibis backend of a table expression, a backend itself, or Ibis' default backend
    for an expression of in-memory tables only."""
    from ibis.common.exceptions import IbisError

    if hasattr(x, "_find_backend"):
        try:
            return x._find_backend()
        except IbisError:
            import ibis

            return ibis.get_backend()
    return x


def capabilities(x: Any) -> Capabilities:
    """The capabilities of the backend of `x` (a table, a backend)."""
    name = str(getattr(backend_of(x), "name", "unknown"))
    duck = name == "duckdb"
    return Capabilities(
        name=name,
        temp_tables=duck,
        materializes=duck or name == "pyspark",
        keep_priced=name == "pyspark",
        price_lookup=duck,
        epoch_us=duck,
    )


def is_duckdb(x: Any) -> bool:
    """Whether `x` runs on DuckDB (where the fast paths of `Capabilities` exist)."""
    return capabilities(x).price_lookup


# -- temporary state --------------------------------------------------------------------
@dataclass
class _Scope:
    """Temporary objects created while this scope was the innermost open one."""

    made: list[tuple[Any, str]] = field(default_factory=list)

    def close(self) -> None:
        while self.made:
            backend, name = self.made.pop()
            _drop(backend, name)


_SCOPE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar(
    "unitecon_engine_scope", default=None
)


@contextlib.contextmanager
def scope() -> Iterator[None]:
    """Everything `materialize` creates inside this block is dropped when it ends."""
    s = _Scope()
    token = _SCOPE.set(s)
    try:
        yield
    finally:
        _SCOPE.reset(token)
        s.close()


def track(backend: Any, name: str) -> None:
    """Drop the temporary object `name` of `backend` when the current scope ends (if any)."""
    s = _SCOPE.get()
    if s is not None:
        s.made.append((backend, name))


def materialize(t: Any) -> tuple[Any, str]:
    """`t` computed once into the engine's temporary state: (table, name). DuckDB: a
    temporary table; Spark: a cached temporary view (`engine/spark.py` `cache`), computed
    by its first reader and kept in the executors' memory (spilling to disk) until released.
    On an engine that offers neither, `t` itself (re-computed by each reader).

    Not `Table.cache()`: its release renders a DROP without the table name under the
    installed sqlglot, so `drop(t, name)` drops it with plain SQL instead.
    """
    backend = backend_of(t)
    caps = capabilities(backend)
    if not caps.materializes:
        return t, ""
    if not caps.temp_tables:  # Spark
        from unitecon.engine import spark

        name = f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        out = spark.cache(backend, name, t)
        track(backend, name)
        return out, name
    create = getattr(backend, "create_temp", None)
    if create is None:  # an Ibis DuckDB backend not made by `ibis_backend`
        name = f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        out = backend.create_table(name, t, temp=True)
        track(backend, name)
        return out, name
    from unitecon.engine import duck

    # named by the expression, so the queries that read it compile to the same SQL in
    # every process (and keep hitting `duck.SqlCache`); a name in use takes a suffix
    base = f"{TEMP_PREFIX}{(duck.digest(t) or uuid.uuid4().hex)[:32]}"
    return _create_named(backend, base, lambda name: create(name, t), "table")


def _create_named(backend: Any, base: str, create: Any, kind: str) -> tuple[Any, str]:
    """`create(name)` under `base`, or `base_1`, `base_2`... while the name is taken
    (`duck.NameTaken`), tracked for the current scope: (what it made, its name)."""
    from unitecon.engine import duck

    for n in range(1000):
        name = base if n == 0 else f"{base}_{n}"
        try:
            out = create(name)
        except duck.NameTaken:
            continue
        track(backend, name)
        return out, name
    raise LedgerError(f"No free name for a temporary {kind} like {base}.")


def view(t: Any) -> Any:
    """`t` behind a temporary view of the engine (DuckDB), named by its expression: an Ibis
    table that reads the view, for an expression several queries build on. Each of those
    queries then compiles its own part only: the view's SQL is compiled once (and kept by
    `duck.SqlCache` under its own digest), and the queries' digests name the view, not
    its tree. Same rows as `t` (a view is bound into each query that reads it, as the
    subquery was). Elsewhere (Spark, an Ibis backend not made by `ibis_backend`) `t`
    itself. Dropped with the current scope."""
    backend = backend_of(t)
    create = getattr(backend, "create_temp_view", None)
    if create is None:
        return t
    from unitecon.engine import duck

    tree = duck.digest(t)
    if tree is None:  # not to be named by content: compiled with its readers, as before
        return t
    return _create_named(backend, f"{VIEW_PREFIX}{tree[:32]}", lambda n: create(n, t), "view")[0]


def temp_table(backend: Any, name: str, arrow: Any) -> Any:
    """A temporary table `name` holding the Arrow table `arrow` (kept if it exists: names
    are chosen by content), dropped with the scope that made it: a scope inside it that
    asks for the same rows reads it and leaves it to its maker (whose views and queries
    still read it when the inner scope ends)."""
    con = backend.con
    con.register("_unitecon_upload", arrow)
    try:
        con.execute(f'CREATE TEMP TABLE "{name}" AS SELECT * FROM _unitecon_upload')
        made = True
    except duckdb.CatalogException as e:
        if "already exists" not in str(e):
            raise
        made = False
    finally:
        con.unregister("_unitecon_upload")
    if made:
        track(backend, name)
    return backend.table(name)


def drop(t: Any, name: str) -> None:
    """Drop the temporary table `name` made by `materialize` (now, before its scope ends)."""
    if name:
        _drop(backend_of(t), name)


def _drop(backend: Any, name: str) -> None:
    if not capabilities(backend).temp_tables:  # Spark: a cached view
        from unitecon.engine import spark

        spark.release(backend, name)
        return
    release = getattr(backend, "release", None)
    if release is not None and release(name):  # an in-memory table (`duck.Backend`)
        return
    kind = "VIEW" if name.startswith(VIEW_PREFIX) else "TABLE"
    forget = getattr(backend, "forget_view", None)
    if forget is not None:
        forget(name)
    with contextlib.suppress(Exception):  # a closed connection has nothing left to drop
        backend.raw_sql(f'DROP {kind} IF EXISTS "{name}"')


def temp_objects(con: duckdb.DuckDBPyConnection) -> int:
    """How many of unitecon's temporary tables, and registered in-memory tables (temporary
    views), a DuckDB connection holds (for tests and the service's health)."""
    row = con.execute(
        "SELECT (SELECT count(*) FROM duckdb_tables() "
        "WHERE temporary AND starts_with(table_name, ?)) "
        "+ (SELECT count(*) FROM duckdb_views() WHERE temporary AND NOT internal)",
        [TEMP_PREFIX],
    ).fetchone()
    return int(row[0]) if row else 0
