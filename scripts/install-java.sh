#!/usr/bin/env sh
# Install the Java runtime the Spark engine's tests run on (Debian's OpenJDK 17 via apt).
# Idempotent: does nothing when `java` answers. pyspark itself comes with `pip install
# -e '.[dev,spark]'` (the Makefile's venv).
set -eu
if command -v java >/dev/null 2>&1 && java -version >/dev/null 2>&1; then
    echo "java present: $(java -version 2>&1 | head -n 1)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends openjdk-17-jre-headless
java -version
