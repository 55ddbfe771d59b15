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
go test -run '^$' -bench HashThroughput -cpu 1 -benchtime 5x ./detection/imagematch/ | tee bench-out/detection-hash.txt

echo "== detection: Hamming index at 1M references against brute force (10M: make bench-detect)"
go test -run '^$' -bench BenchmarkIndex -benchtime 5x -timeout 30m ./detection/imagematch/ | tee bench-out/detection-index.txt

echo "== demo catalogue: every official picture of the full demo catalogue distinct as detection sees it"
go test -run 'TestCataloguePicturesDistinct' -count=1 -v ./catalog/demo/ | grep -E 'products|distance|ok|FAIL' | tee bench-out/demo-pictures.txt

echo "== detection: screenings per second end to end on one River worker (1000 official references)"
go test -run '^$' -bench ScreeningThroughput -benchtime 300x -cpu 1 -timeout 30m ./detection/ | tee bench-out/detection-screening.txt

echo "== catalog: import of 100,000 CSV lines (no images) against a bare pgx.CopyFrom of the same lines"
go test -run '^$' -bench BenchmarkImport100k -benchtime 1x -timeout 30m ./catalog/ | tee bench-out/catalog-import.txt

[ -x /usr/bin/time ] || install_debian time
echo "== catalog: peak memory of \`marketplace catalog import\` on a 100,000-line file (aim < 300 MB)"
IMPORT_DB_URL=$(printf '%s' "$DATABASE_URL" | sed 's#^\(postgres[a-z]*://[^/?]*\)/[^?]*#\1/catalog_import_bench#')
psql "$DATABASE_URL" -qc 'DROP DATABASE IF EXISTS catalog_import_bench' -c 'CREATE DATABASE catalog_import_bench' >/dev/null
DATABASE_URL=$IMPORT_DB_URL DATA_DIR=$(mktemp -d) bin/marketplace seed --small >/dev/null
LICENSEE=$(psql "$IMPORT_DB_URL" -Atc "SELECT id FROM licensees WHERE name = 'Maison Bleue Textiles'")
# Four sizes per product, prices in EUR and JPY, within Maison Bleue's Paris 2024 apparel licence.
seq 0 99999 | awk 'BEGIN { print "sku,product,title_en,description_en,title_fr,property,category,currency,price_amount,price_JPY,territories,stock,gtin,size,colour"
    split("S M L XL", s, " "); split("blue white red black green", c, " ") }
    { p = int($1 / 4); printf "MEM-%07d-%s,P%07d,Paris 2024 tee %d,\"Organic cotton, printed in France, design %d\",T-shirt Paris 2024 n°%d,PARIS2024,apparel,EUR,%d,%d,FR;BE,%d,,%s,%s\n",
      p, s[$1 % 4 + 1], p, p, p, p, 2000 + p % 3000, 3000 + p % 4000, $1 % 50, s[$1 % 4 + 1], c[p % 5 + 1] }' > bench-out/catalogue-100k.csv
DATABASE_URL=$IMPORT_DB_URL /usr/bin/time -v bin/marketplace catalog import --licensee "$LICENSEE" --quiet bench-out/catalogue-100k.csv 2> bench-out/catalog-import-memory.txt
grep -E 'Maximum resident|Elapsed' bench-out/catalog-import-memory.txt
psql "$DATABASE_URL" -qc 'DROP DATABASE IF EXISTS catalog_import_bench' >/dev/null

echo "== catalog: a 12 MP photo's checks, decode and renditions (area shrink against Catmull-Rom)"
go test -run '^$' -bench BenchmarkImageRenditions -benchtime 5x -cpu 1 ./catalog/ | tee bench-out/catalog-images.txt

echo "== storefront checkout: a whole purchase (cart, order with stock reservation, signed webhook that pays it), alone and 8-wide on one hot listing, against a bare Reserve transaction"
go test -run '^$' -bench BenchmarkCheckout -benchtime 300x ./storefront/ | tee bench-out/checkout.txt

echo "== review: queue, backlog, metrics and claim over 200k cases (40k open) of 2000 sellers"
go test -run '^$' -bench BenchmarkReviewAtScale -benchtime 20x -timeout 30m ./detection/review/ | tee bench-out/review.txt

echo "== storefront: 100,000 live listings; wrk -c64 on /search and /products/{slug}: p99 and throughput as a ratio to /healthz"
command -v wrk >/dev/null 2>&1 || install_debian wrk
STOREFRONT_BENCH=1 go test -run '^TestStorefrontLoad$' -v -timeout 30m ./cmd/marketplace/ | grep '^storefront:' | tee bench-out/storefront.txt
