# Shared by every script: a local virtual environment with the project installed.
# INSTALL_TARGET picks what is installed (".[dev]" by default, "." for production).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV=.venv
INSTALL_TARGET="${INSTALL_TARGET:-.[dev]}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.installed-$(cat pyproject.toml <(echo "$INSTALL_TARGET") | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "==> installing dependencies"
  log="$VENV/install.log"
  if ! { "$VENV/bin/python" -m pip install --upgrade pip &&
         "$VENV/bin/python" -m pip install -e "$INSTALL_TARGET"; } >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "install failed: see $log" >&2
    exit 1
  fi
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
export PATH="$PWD/$VENV/bin:$PATH"
