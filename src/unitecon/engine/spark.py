"""The Spark engine: a local or cluster SparkSession over a lake written by
`unitecon export --lake` (`ledger/lake.py`), as an Ibis backend.

The session is configured for exact money: `spark.sql.decimalOperations.allowPrecisionLoss`
is off (Spark's default rounds a DECIMAL product to 6 places, which moved 6,643 of 7,055
demo events' costs), and the session time zone is UTC (timestamps are UTC instants, as in
the ledger).

Spark and Java talk on the driver's stderr; a unitecon command must not. The driver JVM gets
a log4j configuration of errors only (`log4j2.properties`, shipped in this package) and its
stderr is a log file (`LOG`), named in the message when Spark cannot start.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from unitecon.errors import UniteconError

#: Settings every unitecon Spark session gets (the engine's decimal and time policy).
SESSION_CONF = {
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "true",
}

#: Settings for Spark local mode (`local[...]` masters: one machine, small data): few
#: shuffle partitions (Spark's default of 200 is meant for a cluster's big data; 200 tasks
#: of a few rows each cost more than the question). On a cluster Spark's defaults stand,
#: adaptive execution coalescing the partitions a question does not need.
LOCAL_CONF = {
    "spark.sql.shuffle.partitions": "4",
}


def session_conf(master: str) -> dict[str, str]:
    """The SQL settings of a unitecon session at `master`."""
    return {**SESSION_CONF, **(LOCAL_CONF if master.startswith("local") else {})}


#: The driver JVM's stderr (Spark's and Java's warnings), kept out of the user's terminal.
LOG = Path(tempfile.gettempdir()) / f"unitecon-spark-{os.getuid()}.log"
#: Errors only (shipped with the package), for the driver JVM's log4j.
LOG4J = Path(__file__).with_name("log4j2.properties")


def driver_conf() -> dict[str, str]:
    """Settings read when the driver JVM starts: its log4j configuration (errors only)."""
    return {"spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{LOG4J}"}


@contextlib.contextmanager
def jvm_stderr_to(path: Path) -> Iterator[None]:
    """While a SparkSession starts, file descriptor 2 points at `path` (appended), so the
    driver JVM it launches inherits that as its stderr: its startup lines ("Using incubator
    modules", "NativeCodeLoader", log4j's defaults) and later warnings go there, never to
    the terminal. Python's own stderr is restored when the block ends."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def backend(master: str, lake: Path) -> Any:
    """An Ibis backend on Spark with the lake's events registered as table `events`."""
    try:
        from pyspark.sql import SparkSession
    except ModuleNotFoundError:
        raise UniteconError(
            "The Spark engine needs pyspark: pip install 'unitecon[spark]' (and a Java 17 "
            "runtime, e.g. Debian's openjdk-17-jre-headless)."
        ) from None
    builder = SparkSession.builder.master(master).appName("unitecon")
    conf = session_conf(master)
    for k, v in {**conf, **driver_conf()}.items():
        builder = builder.config(k, v)
    try:
        with jvm_stderr_to(LOG):
            spark = builder.getOrCreate()
    except Exception as e:  # no Java, a bad master URL: say what to do
        raise UniteconError(
            f"Could not start Spark at {master!r} ({type(e).__name__}). Check that Java 17 is "
            f"installed (java -version) and the master URL is right; the driver's log is {LOG}."
        ) from None
    spark.sparkContext.setLogLevel("ERROR")
    for k, v in conf.items():
        if not k.startswith("spark.ui"):
            spark.conf.set(k, v)
    events = spark.read.parquet(str(lake / "events"))
    events.drop("day").createOrReplaceTempView("events")
    return _backend_class()().connect(spark)


def _backend_class() -> type:
    """Ibis' PySpark backend whose in-memory tables are broadcast in joins.

    An in-memory table (the price catalog, unit prices, endpoints, their periods) is data
    that fitted in the client's memory, but Spark knows no size for it and plans every join
    with it as a sort-merge join: both sides shuffled, the events included, before adaptive
    execution turns it into the broadcast it should have been. Hinted `broadcast`, the
    events are joined where they lie: no shuffle of the events for a lookup.

    And it goes to the JVM as Arrow (`createDataFrame` of a pyarrow table), not as pickled
    pandas rows (Ibis' way): Spark reads those back through a Python worker process each
    time a query scans the table, which on small questions costs more than the question."""
    import ibis
    from ibis.backends.pyspark import Backend
    from ibis.backends.pyspark.datatypes import PySparkSchema
    from pyspark.sql.functions import broadcast

    from unitecon.engine import track

    assert ibis.pyspark  # loaded through ibis: registers the backend's options

    class Broadcasting(Backend):  # type: ignore[misc]
        def _register_in_memory_table(self, op: Any) -> None:
            schema = PySparkSchema.from_ibis(op.schema)
            df = self._session.createDataFrame(op.data.to_pyarrow(op.schema), schema=schema)
            broadcast(df).createOrReplaceTempView(op.name)
            track(self, op.name)  # dropped with the analysis, as the cached views

    return Broadcasting


# -- temporary state: cached views ------------------------------------------------------
#: The DataFrames behind the cached views `cache` made (by view name), for their release.
_CACHED: dict[str, Any] = {}


def cache(backend: Any, name: str, t: Any) -> Any:
    """`t` computed once on Spark: its DataFrame persisted (executors' memory, spilling to
    disk) and registered as the temporary view `name`; the table that reads that view.

    Spark computes it when it is first read and every later query of the view reads the
    cached rows (Spark's cache manager substitutes them for the plan), so the chain behind
    it (priced -> costed) runs once, not once per reader. The view's schema is the
    expression's (money stays DECIMAL(38, 24)). `release(backend, name)` undoes it."""
    from pyspark.storagelevel import StorageLevel

    backend._run_pre_execute_hooks(t)  # the in-memory tables it reads (the price catalog)
    df = backend._session.sql(backend.compile(t))
    df = df.persist(StorageLevel.MEMORY_AND_DISK)
    df.createOrReplaceTempView(name)
    _CACHED[name] = df
    return backend.table(name)


def release(backend: Any, name: str) -> None:
    """Drop the temporary view `name` (a cached view made by `cache`, or an in-memory
    table's) and free its rows."""
    df = _CACHED.pop(name, None)
    with contextlib.suppress(Exception):  # a stopped session has nothing left to free
        backend._session.catalog.dropTempView(name)
        if df is not None:
            df.unpersist()
    memtables: Any = getattr(backend, "_memtables", set())  # Ibis registers it again when asked
    for op in [m for m in memtables if m.name == name]:
        memtables.discard(op)


def temp_objects(backend: Any) -> tuple[int, int]:
    """(temporary views besides the lake's `events`, persisted datasets) of the backend's
    Spark session, for tests and health: both stay constant over questions."""
    session = backend._session
    views = [t.name for t in session.catalog.listTables() if t.isTemporary]
    persisted = session.sparkContext._jsc.getPersistentRDDs().size()
    return len([v for v in views if v != "events"]), int(persisted)
