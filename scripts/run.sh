#!/bin/sh
# run.sh: the demo on one machine. Uses DATABASE_URL when set, otherwise a private PostgreSQL
# cluster kept under .data/pg between runs; applies migrations, loads the demo world and serves.
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh
[ -n "${DATABASE_URL:-}" ] || need_postgres
mkdir -p bin
go build -o bin/marketplace ./cmd/marketplace
bin/marketplace seed
echo
echo "Open ${BASE_URL:-http://${HTTP_ADDR:-localhost:8080}}  (Ctrl-C stops; the data stays in .data/)"
exec bin/marketplace serve --migrate
