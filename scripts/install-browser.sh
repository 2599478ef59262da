#!/usr/bin/env sh
# Install the headless browser the dashboard tests drive and the memo prints its PDF with
# (Debian's chromium), and poppler-utils (pdftotext, pdftoppm, pdfinfo) that the memo's test
# reads the PDF with, via apt. Idempotent: does nothing when both are there. Playwright drives
# chromium through its pip-shipped driver; `playwright install` (a download) is never run.
set -eu
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
need=""
[ -x "$CHROMIUM" ] || need="chromium"
command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 \
    || need="$need poppler-utils"
if [ -z "$need" ]; then
    echo "chromium present: $CHROMIUM; poppler-utils present"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update -q
# shellcheck disable=SC2086  # $need is a list of package names
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $need
"$CHROMIUM" --version
pdftoppm -v 2>&1 | head -1
