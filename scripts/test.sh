#!/bin/sh
# test.sh: everything CI checks, from a clean clone. Starts a throwaway PostgreSQL cluster
# unless DATABASE_URL is set, installs Chromium when missing, and runs vet, staticcheck and
# every test with the race detector. Missing PostgreSQL or Chromium fails; nothing is skipped.
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh
started=$(date +%s)

need_chromium
need_cjk_font
export BROWSER_REQUIRED=1 PGTEST_REQUIRED=1

mkdir -p bin
go build -o bin/marketplace ./cmd/marketplace

if [ -z "${DATABASE_URL:-}" ]; then
    need_postgres
    PGDIR=$(mktemp -d /tmp/marketplace-test-pg.XXXXXX)
    trap 'bin/marketplace devdb stop --dir "$PGDIR" >/dev/null 2>&1 || true; rm -rf "$PGDIR"' EXIT INT TERM
    DATABASE_URL=$(bin/marketplace devdb start --fast --dir "$PGDIR")
    export DATABASE_URL
fi

echo "== go vet"
go vet ./...
echo "== staticcheck"
go tool staticcheck ./...
echo "== go test -race"
go test -race -count=1 -timeout 12m ./...
echo "== make test passed in $(( $(date +%s) - started )) s"
