#!/bin/sh
# Make sure a headless Chromium is available for the HTML report test
# (tests/report/test_html_browser.py). When no chromium is on PATH and this runs as root on a
# system with apt-get, it installs Debian's `chromium` and a CJK font (so Chinese renders in the
# screenshot). Otherwise it says why on stderr and exits 0: the browser test then skips with
# that reason. It never fails the build by itself.
#
#   sh tests/support/ensure_chromium.sh        # from the Makefile, before pytest
set -u
for name in chromium chromium-browser; do
    if command -v "$name" >/dev/null 2>&1; then
        exit 0
    fi
done
if [ "$(id -u)" != "0" ]; then
    echo "ensure_chromium: chromium is not installed and we are not root: the HTML browser test will be skipped" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: chromium is not installed and there is no apt-get: the HTML browser test will be skipped" >&2
    exit 0
fi
echo "ensure_chromium: installing chromium and fonts-noto-cjk with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk; } >/dev/null 2>&1; then
    echo "ensure_chromium: apt-get could not install chromium: the HTML browser test will be skipped" >&2
fi
exit 0
