#!/usr/bin/env bash
# System packages the tests need beyond Python: headless Chromium renders the HTML reports, and
# ansible-test sanity runs ShellCheck on the shell scripts.
# Installs with apt-get when running as root on Debian/Ubuntu; elsewhere it says what is missing.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)   # ansible-test sanity checks shell scripts
command -v kubectl >/dev/null 2>&1 || echo "note: kubectl not found: the kubectl baseline benchmark and kubectl checks will skip" >&2
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${missing[*]}" >&2
  apt-get update -qq >/dev/null
  extra=()
  [[ " ${missing[*]} " == *" chromium "* ]] && extra+=(fonts-dejavu-core)
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" "${extra[@]}" >/dev/null
else
  echo "warning: missing system packages (${missing[*]}): the HTML rendering tests will be skipped" >&2
fi
