"""The Spark engine: a local or cluster SparkSession over a lake written by
`unitecon export --lake` (`ledger/lake.py`), as an Ibis backend.

The session is configured for exact money: `spark.sql.decimalOperations.allowPrecisionLoss`
is off (Spark's default rounds a DECIMAL product to 6 places, which moved 6,643 of 7,055
demo events' costs), and the session time zone is UTC (timestamps are UTC instants, as in
the ledger).
"""

from __future__ import annotations

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
    for k, v in SESSION_CONF.items():
        builder = builder.config(k, v)
    try:
        spark = builder.getOrCreate()
    except Exception as e:  # no Java, a bad master URL: say what to do
        raise UniteconError(
            f"Could not start Spark at {master!r} ({type(e).__name__}). Check that Java 17 is "
            "installed (java -version) and the master URL is right."
        ) from None
    spark.sparkContext.setLogLevel("ERROR")
    for k, v in SESSION_CONF.items():
        if not k.startswith("spark.ui"):
            spark.conf.set(k, v)
    events = spark.read.parquet(str(lake / "events"))
    events.drop("day").createOrReplaceTempView("events")
    return ibis.pyspark.connect(spark)
