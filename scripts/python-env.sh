# Sourced by scripts/test and scripts/validate-deploy.
#
# python_env DIR REQUIREMENTS makes DIR a virtual environment with REQUIREMENTS (pinned)
# installed, and makes it again when the requirements, the system's Python or the
# environment's own physical path have changed since. Console scripts name their interpreter by
# absolute path, so an environment made by another clone that shares the target cache, or by an
# older Python, cannot run them although `-x` says they are there: readiness is the stamp, never
# `-x` on a script. Returns non-zero when pip cannot install (no network).
python_env() {
  local dir=$1 requirements=$2 path stamp
  mkdir -p "$(dirname "$dir")"
  path="$(cd "$(dirname "$dir")" && pwd -P)/$(basename "$dir")"
  stamp="$(python3 --version 2>&1) $path $(sha256sum <"$requirements")"
  if [[ -x "$path/bin/python" && "$(cat "$path/.stamp" 2>/dev/null)" == "$stamp" ]]; then
    return 0
  fi
  rm -rf "$path"
  python3 -m venv "$path" &&
    "$path/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" &&
    echo "$stamp" >"$path/.stamp"
}
