# Shared by scripts/run and scripts/test: a local virtual environment with the
# project installed, and DATABASE_URL (an embedded PostgreSQL when unset).
source "$(dirname "$0")/_venv.sh"

if [ -z "${DATABASE_URL:-}" ]; then
  echo "==> DATABASE_URL not set: starting the embedded PostgreSQL in .devdb/"
  DATABASE_URL="$(python -m gymsite.devdb)"
  export DATABASE_URL
else
  python -m gymsite.devdb --ensure
fi
