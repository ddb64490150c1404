#!/usr/bin/env bash
# Makes sure a headless browser is there for the dashboard's browser test:
# Debian's chromium at /usr/bin/chromium (playwright-core drives it; its own
# browser downloads are not used). Installs it where it is missing, running
# apt-get update only when the install fails without it.
set -u

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

say() { printf 'browser: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else return 1
  fi
}

apt() { as_root env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }

if [ -x "$CHROMIUM" ]; then say "chromium at $CHROMIUM"; exit 0; fi
say "installing chromium from Debian's packages"
if apt install -y -qq chromium >/dev/null || { apt update -qq >/dev/null && apt install -y -qq chromium >/dev/null; }; then
  [ -x "$CHROMIUM" ] && { say "chromium installed at $CHROMIUM"; exit 0; }
fi
say "ERROR: no chromium at $CHROMIUM and it could not be installed (apt-get install chromium)"
exit 1
