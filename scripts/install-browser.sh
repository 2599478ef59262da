#!/usr/bin/env sh
# Install the headless browser the dashboard tests drive (Debian's chromium via apt).
# Idempotent: does nothing when /usr/bin/chromium exists. Playwright drives it through
# its pip-shipped driver; `playwright install` (a download) is never run.
set -eu
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    echo "chromium present: $CHROMIUM"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends chromium
"$CHROMIUM" --version
