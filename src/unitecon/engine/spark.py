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
    "spark.sql.shuffle.partitions": "4",
}


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
    import ibis

    builder = SparkSession.builder.master(master).appName("unitecon")
    for k, v in {**SESSION_CONF, **driver_conf()}.items():
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
    for k, v in SESSION_CONF.items():
        if not k.startswith("spark.ui"):
            spark.conf.set(k, v)
    events = spark.read.parquet(str(lake / "events"))
    events.drop("day").createOrReplaceTempView("events")
    return ibis.pyspark.connect(spark)
