#!/bin/sh
# run.sh: the demo on one machine. Uses DATABASE_URL when set, otherwise a private PostgreSQL
# cluster kept under .data/pg between runs; applies migrations, loads the demo world and serves.
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh
[ -n "${DATABASE_URL:-}" ] || need_postgres
# The demo takes orders on the labelled test-payment page unless Stripe's keys are given: serve
# refuses to start without them otherwise (payments fail closed).
if [ -z "${STRIPE_SECRET_KEY:-}" ] || [ -z "${STRIPE_WEBHOOK_SECRET:-}" ]; then
    export PAYMENTS="${PAYMENTS:-test}"
fi
mkdir -p bin
go build -o bin/marketplace ./cmd/marketplace
bin/marketplace seed
echo
echo "Open ${BASE_URL:-http://${HTTP_ADDR:-localhost:8080}}  (Ctrl-C stops; the data stays in .data/)"
exec bin/marketplace serve --migrate
