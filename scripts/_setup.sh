# Shared by scripts/run and scripts/test: a local virtual environment with the
# project installed, and DATABASE_URL (an embedded PostgreSQL when unset).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV=.venv
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "==> installing dependencies"
  log="$VENV/install.log"
  if ! { "$VENV/bin/python" -m pip install --upgrade pip &&
         "$VENV/bin/python" -m pip install -e ".[dev]"; } >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "install failed: see $log" >&2
    exit 1
  fi
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
export PATH="$PWD/$VENV/bin:$PATH"

if [ -z "${DATABASE_URL:-}" ]; then
  echo "==> DATABASE_URL not set: starting the embedded PostgreSQL in .devdb/"
  DATABASE_URL="$(python -m gymsite.devdb)"
  export DATABASE_URL
else
  python -m gymsite.devdb --ensure
fi
