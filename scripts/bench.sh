#!/bin/sh
# bench.sh: the long benchmarks, each printing its figure beside a baseline measured in the
# same run. Needs a database like `make test` (a throwaway cluster unless DATABASE_URL is set).
# Save the output and compare runs with `go tool benchstat old.txt new.txt`.
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh
mkdir -p bin bench-out
go build -o bin/marketplace ./cmd/marketplace
if [ -z "${DATABASE_URL:-}" ]; then
    need_postgres
    PGDIR=$(mktemp -d /tmp/marketplace-bench-pg.XXXXXX)
    trap 'bin/marketplace devdb stop --dir "$PGDIR" >/dev/null 2>&1 || true; rm -rf "$PGDIR"' EXIT INT TERM
    DATABASE_URL=$(bin/marketplace devdb start --fast --dir "$PGDIR")
    export DATABASE_URL
fi

echo "== licensing: coverage question, 10k licensees / 100k licences (snapshot and database p99)"
go test -run '^$' -bench BenchmarkCoverage -benchtime 20000x ./licensing/ | tee bench-out/licensing.txt

echo "== detection: fingerprint throughput per core against plain goimagehash"
go test -run '^$' -bench HashThroughput -cpu 1 -benchtime 5x ./detection/ | tee bench-out/detection-hash.txt

echo "== detection: Hamming index at 1M references against brute force (10M: make bench-detect)"
go test -run '^$' -bench 'BenchmarkIndex' -benchtime 5x -timeout 30m ./detection/ | tee bench-out/detection-index.txt

echo "== demo catalogue: every official picture of the full demo catalogue distinct as detection sees it"
go test -run 'TestCataloguePicturesDistinct' -count=1 -v ./catalog/demo/ | grep -E 'products|distance|ok|FAIL' | tee bench-out/demo-pictures.txt

echo "== detection: screenings per second end to end on one River worker (1000 official references)"
go test -run '^$' -bench ScreeningThroughput -benchtime 300x -cpu 1 -timeout 30m ./detection/ | tee bench-out/detection-screening.txt
