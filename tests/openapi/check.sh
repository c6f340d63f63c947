#!/usr/bin/env bash
# The OpenAPI document as tools we did not write see it, from the real binary:
#   1. Redocly CLI (pinned in tests/openapi/package-lock.json) lints /openapi.json with its
#      recommended rules (tests/openapi/redocly.yaml): 0 errors, or the gate fails;
#   2. openapi-python-client (pinned in tests/openapi/requirements.txt) generates a client from
#      it, and client_test.py uses that client against the same server: sign up, create, list,
#      patch, complete (a toggle, no body), both route shapes.
#   tests/openapi/check.sh path/to/todo
# Tools: REDOCLY (default target/openapi-node/node_modules/.bin/redocly) and OPENAPI_VENV
# (default target/openapi-venv); scripts/test installs both.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${1:?usage: tests/openapi/check.sh path/to/todo}"
redocly="${REDOCLY:-target/openapi-node/node_modules/.bin/redocly}"
venv="$(cd "${OPENAPI_VENV:-target/openapi-venv}" && pwd)"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
server=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null && { wait "$server" 2>/dev/null || true; }
  rm -rf "$work"
  return 0
}
trap cleanup EXIT

DATABASE_URL="sqlite://$work/todo.db?mode=rwc" PORT=$port RUST_LOG="${RUST_LOG:-error}" \
  RATE_LIMIT_ENABLED=false "$bin" serve &
server=$!
for _ in $(seq 100); do curl -sf "$base/health" >/dev/null && break; sleep 0.1; done
curl -sf "$base/openapi.json" -o "$work/openapi.json"

echo "-- Redocly CLI $("$redocly" --version 2>/dev/null | tail -1): lint (0 errors required)"
"$redocly" lint --config tests/openapi/redocly.yaml --format stylish "$work/openapi.json"

echo "-- openapi-python-client: generate a client from /openapi.json"
# Warnings are printed and allowed (text/csv on POST /import has no generated form: the
# generated client imports JSON); a document it refuses fails the gate.
PATH="$venv/bin:$PATH" "$venv/bin/openapi-python-client" generate \
  --path "$work/openapi.json" --meta none --output-path "$work/todo_client"

echo "-- the generated client against the binary"
PYTHONPATH="$work" "$venv/bin/python" tests/openapi/client_test.py "$base"
