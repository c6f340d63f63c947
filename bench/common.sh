# shellcheck shell=bash
# Shared by the bench/ scripts, which source it: a free port, a fresh database, a started server.

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The URL of an empty database for BACKEND (sqlite|postgres) named NAME: a SQLite file in DIR,
# or a PostgreSQL database made anew on TODO_BENCH_POSTGRES_ADMIN (default the machine's
# postgres://postgres@127.0.0.1:5432), its URL followed by PARAMS (a query string, or nothing).
fresh_database() {
  local backend=$1 name=$2 dir=$3 params=${4-}
  local admin="${TODO_BENCH_POSTGRES_ADMIN:-postgres://postgres@127.0.0.1:5432/test}"
  case "$backend" in
    sqlite) echo "sqlite://$dir/$name.db" ;;
    postgres)
      psql "$admin" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >&2
      echo "${admin%/*}/$name$params" ;;
    *) echo "unknown backend $backend" >&2; return 2 ;;
  esac
}

# Waits up to SECONDS (default 10) for the server on PORT to answer /health; fails otherwise.
wait_healthy() {
  local port=$1 tenths=$(( ${2:-10} * 10 ))
  for _ in $(seq "$tenths"); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null && return 0
    sleep 0.1
  done
  echo "the server on port $port did not start" >&2
  return 1
}

# On exit, stops the server whose pid is in $server (when set) and removes the folder $work.
cleanup_on_exit() {
  server=
  trap 'if [[ -n $server ]]; then kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; fi; rm -rf "$work"' EXIT
}

# Runs wrk for SECONDS with bench/load.lua's SCENARIO against URL, on BENCH_THREADS threads
# (default 2) and BENCH_CONNECTIONS connections (default 64), other variables of load.lua
# (TOKEN, USERS, …) taken from the environment. Prints the fields of its RESULT line:
# requests seconds p50_us p99_us connect read write status timeout.
wrk_result() {
  local scenario=$1 url=$2 seconds=$3
  SCENARIO=$scenario wrk -t"${BENCH_THREADS:-2}" -c"${BENCH_CONNECTIONS:-64}" -d"${seconds}s" \
    -s bench/load.lua "$url" | awk '$1 == "RESULT" {$1 = ""; print substr($0, 2)}'
}
