#!/bin/sh
# bench-detect.sh [CORPUS_DIR] -- the detection benchmarks behind detection/imagematch/QUALITY.md.
#   hash throughput (per core, against plain goimagehash), the Hamming index at 1M and
#   10M references, and, when CORPUS_DIR is given (e.g. /work/bench-corpus/A, built by
#   /work/shared/bench/images.sh), fast-vs-plain agreement and the matching quality table.
# Needs about 3 GB of memory for the 10M index. Results go to stdout.
set -eu
cd "$(dirname "$0")/.."
CORPUS=${1:-}
if [ -z "$CORPUS" ]; then
    # The corpus is built once from Debian packages and never committed (bench-out/ is ignored).
    CORPUS=bench-out/corpus/A
    if [ ! -d "$CORPUS" ]; then
        SHARED=${SHARED_DIR:-../shared}
        DEB_CACHE=${DEB_CACHE:-$PWD/bench-out/deb-cache} "$SHARED/bench/images.sh" bench-out/corpus
    fi
fi
echo "== hash throughput (1 core)"
DETECT_CORPUS=$CORPUS go test -run '^$' -bench HashThroughput -cpu 1 -benchtime 5x ./detection/imagematch/
echo "== index: 1M and 10M references, uniform and clustered hashes"
DETECT_BENCH_10M=1 go test -run '^$' -bench BenchmarkIndex -benchtime 5x -timeout 30m ./detection/imagematch/
if [ -n "$CORPUS" ]; then
    echo "== fast (libjpeg-turbo) vs plain (image/jpeg) fingerprints"
    DETECT_CORPUS=$CORPUS go test -count=1 -run TestFastAndPlainAgree -v ./detection/imagematch/ | grep -v '^=== '
    echo "== matching quality"
    DETECT_CORPUS=$CORPUS go test -count=1 -run TestQualityCorpus -v -timeout 30m ./detection/imagematch/ | grep -v '^=== '
fi
