# Sourced by scripts/fwbench and scripts/test: makes a fresh machine ready, then stays
# out of the way. Idempotent and quick when nothing changed.
#   - a virtualenv in .venv with the pinned versions of requirements.lock
#   - wrk (the load generator) and, for the test suite, Chromium, via apt-get when root
set -euo pipefail

FWBENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$FWBENCH_ROOT/.venv"

say() { printf 'fwbench setup: %s\n' "$*" >&2; }

find_python() {
    local candidate
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

# Debian packages we need; installed when root, otherwise we say exactly what to run.
ensure_debian_packages() {
    local missing=() pkg cmd
    for pair in "$@"; do
        pkg="${pair%%:*}"
        cmd="${pair##*:}"
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing ${missing[*]} with apt-get"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        say "missing ${missing[*]}: run 'sudo apt-get install ${missing[*]}' and try again."
        exit 1
    fi
}

ensure_venv() {
    local python stamp="$VENV/.fwbench-lock"
    if [ -x "$VENV/bin/python" ] && cmp -s "$FWBENCH_ROOT/requirements.lock" "$stamp"; then
        return 0
    fi
    python="$(find_python)" || {
        say "Python 3.11 or newer is needed: install it (e.g. 'sudo apt-get install python3 python3-venv') and try again."
        exit 1
    }
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV with $python"
        "$python" -m venv "$VENV" || {
            say "could not create a virtualenv: install python3-venv (e.g. 'sudo apt-get install python3-venv') and try again."
            exit 1
        }
    fi
    say "installing the pinned dependencies (requirements.lock)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$FWBENCH_ROOT/requirements.lock"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e "$FWBENCH_ROOT"
    cp "$FWBENCH_ROOT/requirements.lock" "$stamp"
}
